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
  /// Input bytes per chunk. At level 6 a 1 MiB chunk takes about 0.1-0.2 s, so the
  /// cores finish within a fraction of that of each other (with 4 MiB chunks one core
  /// could idle for most of a second at the end: about 4% slower over 64 MiB here). Each
  /// chunk boundary costs a sync flush and a new block, a few bytes.
  static let chunkSize = 1 << 20
  /// Bytes of preceding input a chunk uses as its dictionary.
  static let dictionarySize = 32 << 10
  /// zlib's `memLevel`: 9 is its largest hash table ("maximum memory for optimal
  /// speed", zlib.h), 256 KiB more per stream than the default 8. The level (and so the
  /// match search effort) is unchanged; on float32 weights it is about 14% faster and
  /// the output about 0.5% smaller than with 8.
  static let memoryLevel: Int32 = 9

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
    guard status == Z_OK else { throw TensorIOError(.invalidArgument("deflateInit2 failed (\(status))")) }
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
    let workers = min(ProcessInfoLite.activeProcessorCount, chunks)
    let permits = DispatchSemaphore(value: 4 * ProcessInfoLite.activeProcessorCount)
    let next = ChunkCounter()
    let failure = FirstError()
    let output = Locked(OrderedOutput())
    nonisolated(unsafe) let source = input
    // Called only with `output`'s lock held: one call at a time, in chunk order.
    nonisolated(unsafe) let emit = sink
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      while true {
        permits.wait()
        guard failure.error == nil, let index = next.take(below: chunks) else {
          permits.signal()
          return
        }
        let range = (index * chunkSize)..<min(source.count, (index + 1) * chunkSize)
        let restart = restartEvery > 0 && index % restartEvery == 0
        let result: Result<([UInt8], UInt32), TensorIOError>
        do throws(TensorIOError) {
          let compressed = try compressChunk(
            source, range: range, level: level, isLast: isFinal && index == chunks - 1, restart: restart)
          result = .success((compressed, CRC32.checksum(UnsafeRawBufferPointer(rebasing: source[range]))))
        } catch {
          result = .failure(error)
        }
        output.withLock { state in
          for (ready, length, start) in state.chunks.complete(
            index, (result, range.count, restart ? range.lowerBound : nil))
          {
            permits.signal()
            guard failure.error == nil else { continue }
            do throws(TensorIOError) {
              let (compressed, chunkCRC) = try ready.get()
              state.crc = state.started ? CRC32.combine(state.crc, chunkCRC, lengthOfB: length) : chunkCRC
              state.started = true
              try emit(compressed, start)
            } catch {
              failure.record(error)
            }
          }
        }
      }
    }
    if let error = failure.error { throw error }
    return output.withLock { $0.crc }
  }

  /// Compressed chunks waiting for their turn, and the stream's CRC-32 so far.
  private struct OrderedOutput: Sendable {
    /// Each chunk's result, its input length, and its input offset if a restart point.
    var chunks = InOrder<(Result<([UInt8], UInt32), TensorIOError>, Int, Int?)>()
    var crc: UInt32 = 0
    var started = false
  }
}

/// Results that complete in any order, handed on in index order (0, 1, 2, ...).
struct InOrder<Value: Sendable>: Sendable {
  private var waiting: [Int: Value] = [:]
  /// The index handed on next.
  private(set) var next = 0

  /// Records result `index`; returns the results that can go on now, in order: none
  /// while an earlier one is missing.
  mutating func complete(_ index: Int, _ value: Value) -> [Value] {
    waiting[index] = value
    var out: [Value] = []
    while let value = waiting.removeValue(forKey: next) {
      out.append(value)
      next += 1
    }
    return out
  }
}

/// Results written by concurrent workers, one slot each.
final class ResultSlots<T: Sendable>: Sendable {
  private let slots: Locked<[Result<T, TensorIOError>?]>

  init(count: Int) { slots = Locked(Array(repeating: nil, count: count)) }

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
