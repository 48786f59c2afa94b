import Glibc
import Synchronization
import Testing

@testable import TensorIO

/// The concurrency toolkit every parallel region goes through.
@Suite("concurrency toolkit")
struct ConcurrencyTests {
  @Test("forEach visits every index once, on up to the given number of workers")
  func forEachVisitsAll() throws {
    let seen = Locked([Int](repeating: 0, count: 1000))
    try Parallel.forEach(1000, workers: 4) { (i) throws(TensorIOError) in seen.withLock { $0[i] += 1 } }
    #expect(seen.withLock { $0 } == [Int](repeating: 1, count: 1000))
    Parallel.forEach(0) { (_: Int) in Issue.record("no index to visit") }
  }

  @Test("after the first error no new index starts, and that error is the one thrown")
  func firstErrorCancels() {
    let started = Atomic<Int>(0)
    #expect {
      try Parallel.forEach(10_000, workers: 2) { (i) throws(TensorIOError) in
        started.add(1, ordering: .relaxed)
        if i == 10 { throw TensorIOError(.zeroStep) }
        usleep(50)
      }
    } throws: { error in
      (error as? TensorIOError)?.reason == .array(.zeroStep)
    }
    // Only the indices taken before the error was recorded ran: far fewer than all
    // (the other worker may take a few while the failing one records its error, more
    // on a loaded machine).
    #expect(started.load(ordering: .relaxed) < 2_000)
  }

  @Test("map returns results in index order")
  func mapOrder() throws {
    let values = try Parallel.map(500, workers: 3) { (i) throws(TensorIOError) -> Int in i * i }
    #expect(values == (0..<500).map { $0 * $0 })
  }

  @Test("ordered hands results on in index order, one call at a time, and stops at a consumer's error")
  func orderedPipeline() throws {
    var consumed: [Int] = []
    try Parallel.ordered(
      200, workers: 2, window: 4,
      produce: { (i) throws(TensorIOError) -> Int in
        // Later indices finish first now and then: the pipeline must reorder.
        if i % 7 == 0 { usleep(200) }
        return i
      },
      consume: { (value: Int, index: Int) throws(TensorIOError) in
        #expect(value == index)
        consumed.append(index)
      })
    #expect(consumed == Array(0..<200))
    var calls = 0
    #expect(throws: TensorIOError.self) {
      try Parallel.ordered(
        200, window: 4, produce: { (i) throws(TensorIOError) -> Int in i },
        consume: { (_: Int, index: Int) throws(TensorIOError) in
          calls += 1
          if index == 5 { throw TensorIOError(.zeroStep) }
        })
    }
    #expect(calls == 6)
  }

  @Test("a background task returns its value or its error to the one who waits")
  func backgroundTask() {
    let task = BackgroundTask { () throws(TensorIOError) -> Int in 42 }
    #expect((try? task.wait()) == 42)
    let failing = BackgroundTask { () throws(TensorIOError) -> Int in throw TensorIOError(.closed) }
    #expect(throws: TensorIOError.self) { try failing.wait() }
  }
}

/// libdeflate's whole-buffer inflate: every way a stream can end.
@Suite("whole-buffer inflate")
struct WholeInflateTests {
  @Test("complete, short, overrun and corrupt streams are told apart, and nothing is written past the output")
  func outcomes() throws {
    let input = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 31 / 7) }
    var stream: [UInt8] = []
    _ = try input.withUnsafeBytes { bytes in
      try Deflate.compress(bytes, level: 6, isFinal: true) { (piece: [UInt8], _: Int?) throws(TensorIOError) in
        stream += piece
      }
    }
    func inflate(_ stream: [UInt8], capacity: Int) -> (WholeInflate.Outcome, [UInt8]) {
      // A guard byte after the output must survive.
      var output = [UInt8](repeating: 0xAB, count: capacity + 1)
      let outcome = stream.withUnsafeBytes { inBytes in
        output.withUnsafeMutableBytes { out in
          WholeInflate.inflate(inBytes, into: UnsafeMutableRawBufferPointer(rebasing: out[..<capacity]))
        }
      }
      return (outcome, output)
    }
    let (complete, bytes) = inflate(stream, capacity: input.count)
    #expect(complete == .complete(consumed: stream.count))
    #expect(Array(bytes.prefix(input.count)) == input && bytes.last == 0xAB)
    #expect(inflate(stream, capacity: input.count + 10).0 == .short(produced: input.count))
    let (overrun, guarded) = inflate(stream, capacity: input.count - 1)
    #expect(overrun == .overrun && guarded.last == 0xAB)
    var corrupt = stream
    corrupt[0] = 0xFF  // BTYPE 11: reserved
    #expect(inflate(corrupt, capacity: input.count).0 == .corrupt)
    #expect(inflate(Array(stream.prefix(stream.count / 2)), capacity: input.count).0 == .corrupt)
  }
}
