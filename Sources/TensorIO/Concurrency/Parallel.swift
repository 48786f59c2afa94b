import Dispatch

/// The parallel regions of TensorIO: every computation spread over threads goes through
/// one of these, so that the way work is shared out, errors are caught and work stops
/// after a failure is written once.
///
/// The rules every region follows:
/// - a region returns only when all its threads are done (nothing outlives it);
/// - work is handed out from a shared counter (`WorkQueue`), so a slow piece never
///   holds up the others' next pieces;
/// - the first error any thread throws is the one the region throws, and no new piece
///   starts after it (pieces already running finish);
/// - closures are `@Sendable`: a pointer or other non-`Sendable` value crosses into
///   them only inside an `UnsafeShared`, with its safety rule stated.
enum Parallel {
  /// The number of cores this process may use.
  static var cores: Int { SystemInfo.onlineProcessors }

  /// Runs `body` once on each of `workers` threads (at least one), with the worker's
  /// number and a queue that hands out the indices `0 ..< count`; a worker takes
  /// indices with `queue.next()` until it returns nil. The first error thrown by a
  /// worker, or recorded in the queue, is rethrown once every worker has returned.
  static func workers(
    _ workers: Int, sharing count: Int,
    _ body: @Sendable (_ worker: Int, _ queue: WorkQueue) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    let queue = WorkQueue(count: count)
    let threads = max(1, workers)
    if threads == 1 {
      do throws(TensorIOError) {
        try body(0, queue)
      } catch {
        queue.record(error)
      }
    } else {
      DispatchQueue.concurrentPerform(iterations: threads) { worker in
        do throws(TensorIOError) {
          try body(worker, queue)
        } catch {
          queue.record(error)
        }
      }
    }
    try queue.failure.check()
  }

  /// Runs `body` for every index in `0 ..< count` on up to `workers` threads.
  static func forEach(
    _ count: Int, workers: Int = Parallel.cores, _ body: @Sendable (Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    guard count > 0 else { return }
    try Parallel.workers(min(workers, count), sharing: count) { (_, queue) throws(TensorIOError) in
      while let i = queue.next() { try body(i) }
    }
  }

  /// Runs `body` for every index in `0 ..< count` on up to `workers` threads, for work
  /// that cannot fail.
  static func forEach(_ count: Int, workers: Int = Parallel.cores, _ body: @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    let threads = min(max(1, workers), count)
    if threads == 1 {
      for i in 0..<count { body(i) }
      return
    }
    let queue = WorkQueue(count: count)
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
      while let i = queue.next() { body(i) }
    }
  }

  /// `transform` of every index in `0 ..< count`, computed on up to `workers` threads,
  /// in index order.
  static func map<T: Sendable>(_ count: Int, workers: Int = Parallel.cores, _ transform: @Sendable (Int) -> T)
    -> [T]
  {
    let results = Locked<[T?]>(Array(repeating: nil, count: count))
    forEach(count, workers: workers) { i in
      let value = transform(i)
      results.withLock { $0[i] = value }
    }
    return results.withLock { $0.compactMap { $0 } }
  }

  /// `transform` of every index in `0 ..< count`, computed on up to `workers` threads,
  /// in index order; the first error thrown is rethrown.
  static func map<T: Sendable>(
    _ count: Int, workers: Int = Parallel.cores, _ transform: @Sendable (Int) throws(TensorIOError) -> T
  ) throws(TensorIOError) -> [T] {
    let results = Locked<[T?]>(Array(repeating: nil, count: count))
    try forEach(count, workers: workers) { (i) throws(TensorIOError) in
      let value = try transform(i)
      results.withLock { $0[i] = value }
    }
    return results.withLock { $0.compactMap { $0 } }
  }

  /// An ordered pipeline: `produce` computes the results of the indices `0 ..< count`
  /// on up to `workers` threads, in any order; `consume` gets them in index order, one
  /// call at a time (serialized by a lock, on whichever worker completed the next
  /// result in order). At most `window` results are produced ahead of `consume`, so
  /// memory stays bounded. After a failure in either, no new index starts and the first
  /// error is rethrown.
  static func ordered<T: Sendable>(
    _ count: Int, workers: Int = Parallel.cores, window: Int,
    produce: @Sendable (Int) throws(TensorIOError) -> T,
    consume: (_ value: T, _ index: Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    guard count > 0 else { return }
    let permits = DispatchSemaphore(value: max(1, window))
    let waiting = Locked(InOrder<Result<T, TensorIOError>>())
    try withoutActuallyEscaping(consume) { (consume) throws(TensorIOError) in
      // Safety: `consume` is called only with `waiting`'s lock held, so one call at a
      // time, and never after this function returns.
      let sink = UnsafeShared(consume)
      try run(count, workers: workers, permits: permits, waiting: waiting, produce: produce, sink: sink)
    }
  }

  private static func run<T: Sendable>(
    _ count: Int, workers: Int, permits: DispatchSemaphore, waiting: Locked<InOrder<Result<T, TensorIOError>>>,
    produce: @Sendable (Int) throws(TensorIOError) -> T,
    sink: UnsafeShared<(T, Int) throws(TensorIOError) -> Void>
  ) throws(TensorIOError) {
    try Parallel.workers(min(workers, count), sharing: count) { (_, queue) throws(TensorIOError) in
      while true {
        permits.wait()
        guard let index = queue.next() else {
          permits.signal()
          return
        }
        let result = Result { () throws(TensorIOError) in try produce(index) }
        waiting.withLock { state in
          for (position, ready) in state.complete(index, result) {
            permits.signal()
            guard !queue.failure.hasFailed else { continue }
            do throws(TensorIOError) {
              try sink.value(try ready.get(), position)
            } catch {
              queue.record(error)
            }
          }
        }
      }
    }
  }
}

/// Results that complete in any order, handed on in index order (0, 1, 2, ...).
struct InOrder<Value: Sendable>: Sendable {
  private var waiting: [Int: Value] = [:]
  /// The index handed on next.
  private(set) var next = 0

  /// Records result `index`; returns the results that can go on now, in order, with
  /// their indices: none while an earlier one is missing.
  mutating func complete(_ index: Int, _ value: Value) -> [(Int, Value)] {
    waiting[index] = value
    var out: [(Int, Value)] = []
    while let value = waiting.removeValue(forKey: next) {
      out.append((next, value))
      next += 1
    }
    return out
  }
}
