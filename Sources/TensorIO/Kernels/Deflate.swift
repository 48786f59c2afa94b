import CZlib
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Raw deflate (no zlib or gzip wrapper, as ZIP stores it) through zlib, split over
/// cores the way pigz does it: the input is cut into chunks, each chunk is compressed
/// on its own thread with the previous 32 KiB of input as its dictionary and ends with
/// a sync flush, so that the concatenated outputs form one valid deflate stream whose
/// size is within a fraction of a percent of a single-threaded one.
enum Deflate {
  /// zlib's default level (6), as numpy's savez_compressed uses.
  static let defaultLevel: Int32 = -1
  /// Input bytes per chunk.
  static let chunkSize = 4 << 20
  /// Bytes of preceding input a chunk uses as its dictionary.
  static let dictionarySize = 32 << 10

  /// Compresses `input[range]` as one chunk of a larger stream: `isLast` finishes the
  /// stream, otherwise the output ends with a sync flush.
  static func compressChunk(
    _ input: UnsafeRawBufferPointer, range: Range<Int>, level: Int32, isLast: Bool,
    dictionary: UnsafeRawBufferPointer? = nil
  ) throws(TensorIOError) -> [UInt8] {
    var stream = z_stream()
    let status = deflateInit2_(
      &stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw TensorIOError(.invalidArgument("deflateInit2 failed (\(status))")) }
    defer { deflateEnd(&stream) }
    guard let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self) else {
      return isLast ? [0x03, 0x00] : []  // an empty final block
    }
    if range.lowerBound > 0 {
      let start = max(0, range.lowerBound - dictionarySize)
      deflateSetDictionary(&stream, base + start, uInt(range.lowerBound - start))
    } else if let dictionary, let bytes = dictionary.baseAddress, dictionary.count > 0 {
      // The first chunk of this input continues a stream: prime it with the previous
      // input's last bytes.
      let count = min(dictionary.count, dictionarySize)
      deflateSetDictionary(
        &stream, bytes.assumingMemoryBound(to: Bytef.self) + (dictionary.count - count), uInt(count))
    }
    let count = range.count
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(count))) + 16)
    let produced = output.withUnsafeMutableBytes { out -> Int in
      stream.next_in = UnsafeMutablePointer(mutating: base + range.lowerBound)
      stream.avail_in = uInt(count)
      stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
      stream.avail_out = uInt(out.count)
      let result = deflate(&stream, isLast ? Z_FINISH : Z_SYNC_FLUSH)
      guard result == (isLast ? Z_STREAM_END : Z_OK), stream.avail_in == 0 else { return -1 }
      return out.count - Int(stream.avail_out)
    }
    guard produced >= 0 else { throw TensorIOError(.invalidArgument("deflate failed")) }
    output.removeLast(output.count - produced)
    return output
  }

  /// Compresses `input` (at most a window of chunks at a time, so memory stays bounded)
  /// and hands each piece of output to `sink` in order, with the CRC-32 of the input.
  /// `isFinal` says whether this input ends the stream; `dictionary` is the input that
  /// came before it in the same stream (its last 32 KiB prime the first chunk).
  static func compress(
    _ input: UnsafeRawBufferPointer, level: Int32, isFinal: Bool, dictionary: UnsafeRawBufferPointer? = nil,
    sink: ([UInt8]) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> UInt32 {
    let chunks = max(1, (input.count + chunkSize - 1) / chunkSize)
    let window = 4 * ProcessInfoLite.activeProcessorCount
    var crc: UInt32 = 0
    var first = 0
    nonisolated(unsafe) let source = input
    nonisolated(unsafe) let before = dictionary
    while first < chunks {
      let count = min(window, chunks - first)
      let results = ResultSlots<([UInt8], UInt32)>(count: count)
      let start = first
      DispatchQueue.concurrentPerform(iterations: count) { i in
        let index = start + i
        let range = (index * chunkSize)..<min(source.count, (index + 1) * chunkSize)
        do throws(TensorIOError) {
          let compressed = try compressChunk(
            source, range: range, level: level, isLast: isFinal && index == chunks - 1, dictionary: before)
          let chunkCRC = CRC32.checksum(UnsafeRawBufferPointer(rebasing: source[range]))
          results.set(i, .success((compressed, chunkCRC)))
        } catch {
          results.set(i, .failure(error))
        }
      }
      for i in 0..<count {
        let (compressed, chunkCRC) = try results.get(i)
        let length = min(source.count, (first + i + 1) * chunkSize) - (first + i) * chunkSize
        crc = first + i == 0 ? chunkCRC : CRC32.combine(crc, chunkCRC, lengthOfB: length)
        try sink(compressed)
      }
      first += count
    }
    return crc
  }
}

/// Results written by concurrent workers, one slot each.
final class ResultSlots<T: Sendable>: Sendable {
  private let slots: Mutex<[Result<T, TensorIOError>?]>

  init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

  func set(_ index: Int, _ value: Result<T, TensorIOError>) {
    slots.withLock { $0[index] = value }
  }

  func get(_ index: Int) throws(TensorIOError) -> T {
    guard let slot = slots.withLock({ $0[index] }) else {
      throw TensorIOError(.invalidArgument("worker \(index) produced nothing"))
    }
    return try slot.get()
  }
}

/// The number of cores this process may use (`sysconf(_SC_NPROCESSORS_ONLN)`).
enum ProcessInfoLite {
  static let activeProcessorCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
