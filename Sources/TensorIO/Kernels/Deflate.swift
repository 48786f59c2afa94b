import CLibdeflate

/// Raw deflate (no zlib or gzip wrapper, as ZIP stores it) through libdeflate, split
/// over cores: the input is cut into chunks, each compressed on its own thread as a
/// whole-buffer stream, and the streams are joined into one (each but the last loses its
/// final-block bit and ends with a sync-flush marker, as a pigz chunk ends). libdeflate
/// takes no history, so every chunk starts afresh; that costs at most a few tenths of a
/// percent of size at 1 MiB chunks, and libdeflate runs 2-10x zlib's speed at sizes
/// within 1% of it (README).
enum Deflate {
  /// zlib's default level (6), as numpy's savez_compressed uses.
  static let defaultLevel: Int32 = -1
  /// Input bytes per chunk: small enough that the cores finish within a fraction of a
  /// chunk's time of each other, large enough that starting afresh costs little.
  static let chunkSize = 1 << 20

  /// Compresses `input[range]` as one chunk through libdeflate (no history: libdeflate
  /// takes none), its whole-buffer stream joined to the next: unless `isLast`, the final
  /// block's BFINAL bit is cleared (`DeflateWalker` finds it), the stream ends at its
  /// last bit and a sync-flush marker (an empty stored block) follows, as zlib's sync
  /// flush ends a chunk.
  static func compressChunk(
    _ input: UnsafeRawBufferPointer, range: Range<Int>, level: Int32, isLast: Bool
  ) throws(TensorIOError) -> [UInt8] {
    guard let compressor = libdeflate_alloc_compressor(libdeflateLevel(level)) else {
      throw TensorIOError(.deflateFailed(call: "libdeflate_alloc_compressor", status: level))
    }
    defer { libdeflate_free_compressor(compressor) }
    var spare: UInt8 = 0
    let bound = libdeflate_deflate_compress_bound(compressor, range.count)
    var output = [UInt8](repeating: 0, count: bound + 8)
    let produced = output.withUnsafeMutableBytes { out in
      withUnsafeMutablePointer(to: &spare) { empty in
        libdeflate_deflate_compress(
          compressor, input.baseAddress.map { $0 + range.lowerBound } ?? UnsafeRawPointer(empty), range.count,
          out.baseAddress ?? UnsafeMutableRawPointer(empty), bound)
      }
    }
    guard produced > 0 else { throw TensorIOError(.deflateFailed(call: "libdeflate_deflate_compress", status: 0)) }
    output.removeLast(output.count - produced)
    if isLast { return output }
    guard let ends = output.withUnsafeBytes({ DeflateWalker.ends(of: $0) }) else {
      throw TensorIOError(.deflateFailed(call: "libdeflate_deflate_compress (its stream did not walk)", status: 0))
    }
    output[ends.lastBlock >> 3] &= ~(1 << UInt8(ends.lastBlock & 7))
    let (whole, bits) = (ends.end >> 3, ends.end & 7)
    output.removeLast(output.count - (whole + (bits > 0 ? 1 : 0)))
    if bits > 0 { output[whole] &= UInt8((1 << bits) - 1) }
    // The empty stored block: 3 zero bits, padding to the byte, LEN 0, NLEN 0xFFFF.
    if bits == 0 || bits > 5 { output.append(0) }
    output += [0x00, 0x00, 0xFF, 0xFF]
    return output
  }

  /// The libdeflate level that stands for zlib level `level` (-1: zlib's default, 6).
  /// Chosen so that each level stays what it means with zlib (1 fastest ... 9 smallest)
  /// and the default is never more than numpy's size (zlib 6): libdeflate 6 came out
  /// 1.6% larger than zlib 6 on an int32 random walk, 7 at most 0.4% larger and up to
  /// 1.6% smaller on the four kinds of data measured (README).
  static func libdeflateLevel(_ level: Int32) -> Int32 {
    let levels: [Int32] = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    return levels[level < 0 ? 6 : Int(min(level, 9))]
  }

  /// Compresses `input` and hands each piece of output to `sink` in order, with the
  /// CRC-32 of the input. One worker per core takes chunks in turn, with no barrier
  /// between groups of chunks (a core never waits for a slow chunk on another); the
  /// worker that completes the next chunk in order hands it and any completed chunks
  /// after it to `sink`. At most a window of chunks is compressed ahead of the output,
  /// so memory stays bounded. `isFinal` says whether this input ends the stream (it may
  /// continue one whose output ended with a sync flush); nothing in it refers back to
  /// earlier inputs.
  ///
  /// With `restartEvery` n > 0, chunks 0, n, 2n, ... of this input are recorded as
  /// restart points: every chunk is compressed with no history, after the previous
  /// chunk's sync flush, so that an inflater can start there (and cores can inflate the pieces between restart points
  /// side by side). `sink` gets the input offset of the chunk a piece starts when it is
  /// a restart point, nil otherwise.
  static func compress(
    _ input: UnsafeRawBufferPointer, level: Int32, isFinal: Bool, restartEvery: Int = 0,
    sink: (_ piece: [UInt8], _ restartAt: Int?) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> UInt32 {
    let chunks = max(1, (input.count + chunkSize - 1) / chunkSize)
    // Safety: the workers only read `input`, which the caller keeps alive until this
    // returns.
    let source = UnsafeShared(input)
    var crc: UInt32 = 0
    try Parallel.ordered(
      chunks, window: 4 * Parallel.cores,
      produce: { (index) throws(TensorIOError) -> Chunk in
        let input = source.value
        let range = (index * chunkSize)..<min(input.count, (index + 1) * chunkSize)
        let restart = restartEvery > 0 && index % restartEvery == 0
        let compressed = try compressChunk(input, range: range, level: level, isLast: isFinal && index == chunks - 1)
        return Chunk(
          compressed: compressed, crc: CRC32.checksum(UnsafeRawBufferPointer(rebasing: input[range])),
          length: range.count, restartAt: restart ? range.lowerBound : nil)
      },
      consume: { (chunk, index) throws(TensorIOError) in
        crc = index == 0 ? chunk.crc : CRC32.combine(crc, chunk.crc, lengthOfB: chunk.length)
        try sink(chunk.compressed, chunk.restartAt)
      })
    return crc
  }

  /// One compressed chunk: its bytes, the CRC-32 and length of its input, and its
  /// input offset when it is a restart point.
  private struct Chunk: Sendable {
    var compressed: [UInt8]
    var crc: UInt32
    var length: Int
    var restartAt: Int?
  }
}
