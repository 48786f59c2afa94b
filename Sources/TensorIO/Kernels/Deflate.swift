import CZlib
import Glibc

/// Raw deflate (no zlib or gzip wrapper, as ZIP stores it) through zlib, split over
/// cores the way pigz does it: the input is cut into chunks, each chunk is compressed
/// on its own thread with the previous 32 KiB of input as its dictionary and ends with
/// a sync flush, so that the concatenated outputs form one valid deflate stream whose
/// size is within a fraction of a percent of a single-threaded one.
enum Deflate {
  /// zlib's default level (6), as numpy's savez_compressed uses.
  static let defaultLevel: Int32 = -1
  /// Input bytes per chunk. At level 6 a 1 MiB chunk takes about 0.1-0.2 s, so the
  /// cores finish within a fraction of that of each other (with 4 MiB chunks one core
  /// could idle for most of a second at the end: about 4% slower over 64 MiB here). Each
  /// chunk boundary costs a sync flush and a new block, a few bytes.
  static let chunkSize = 1 << 20
  /// Bytes of preceding input a chunk uses as its dictionary.
  static let dictionarySize = 32 << 10
  /// zlib's `memLevel`: 8, zlib's default and what numpy's `savez_compressed` uses
  /// (through Python's zlib), so that the output is numpy's size on every kind of
  /// data. 9 (a larger hash table) was measured 14% faster on rounded float32 weights
  /// but 2.6-2.9% larger and slower on an int32 random walk: a trade that depends on
  /// the data, so it is not made.
  static let memoryLevel: Int32 = 8

  /// Compresses `input[range]` as one chunk of a larger stream: `isLast` finishes the
  /// stream, otherwise the output ends with a sync flush. The chunk is primed with the
  /// (up to) 32 KiB of `input` before it, unless it is a `restart` point.
  static func compressChunk(
    _ input: UnsafeRawBufferPointer, range: Range<Int>, level: Int32, isLast: Bool, restart: Bool = false
  ) throws(TensorIOError) -> [UInt8] {
    var stream = z_stream()
    let status = deflateInit2_(
      &stream, level, Z_DEFLATED, -15, memoryLevel, Z_DEFAULT_STRATEGY, zlibVersion(),
      Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw TensorIOError(.deflateFailed(call: "deflateInit2", status: status)) }
    defer { deflateEnd(&stream) }
    guard let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self) else {
      return isLast ? [0x03, 0x00] : []  // an empty final block
    }
    if !restart && range.lowerBound > 0 {
      let start = max(0, range.lowerBound - dictionarySize)
      deflateSetDictionary(&stream, base + start, uInt(range.lowerBound - start))
    }
    let count = range.count
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(count))) + 16)
    var result = Z_OK
    let produced = output.withUnsafeMutableBytes { out -> Int in
      stream.next_in = UnsafeMutablePointer(mutating: base + range.lowerBound)
      stream.avail_in = uInt(count)
      stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
      stream.avail_out = uInt(out.count)
      result = deflate(&stream, isLast ? Z_FINISH : Z_SYNC_FLUSH)
      guard result == (isLast ? Z_STREAM_END : Z_OK), stream.avail_in == 0 else { return -1 }
      return out.count - Int(stream.avail_out)
    }
    guard produced >= 0 else { throw TensorIOError(.deflateFailed(call: "deflate", status: result)) }
    output.removeLast(output.count - produced)
    return output
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
  /// With `restartEvery` n > 0, chunks 0, n, 2n, ... of this input are restart points:
  /// compressed with no history, after the previous chunk's sync flush, so that an
  /// inflater can start there (and cores can inflate the pieces between restart points
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
        let compressed = try compressChunk(
          input, range: range, level: level, isLast: isFinal && index == chunks - 1, restart: restart)
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
