import Synchronization

/// The first error recorded by any of several threads: what a parallel region throws.
final class FirstError: Sendable {
  private let storage = Locked<TensorIOError?>(nil)
  /// Set once an error is recorded: read without the lock by workers deciding whether
  /// to start more work.
  private let failed = Atomic<Bool>(false)

  /// Keeps `error` unless one was recorded before.
  func record(_ error: TensorIOError) {
    storage.withLock { if $0 == nil { $0 = error } }
    failed.store(true, ordering: .releasing)
  }

  /// Whether an error was recorded.
  var hasFailed: Bool { failed.load(ordering: .acquiring) }

  /// The first error recorded, if any.
  var error: TensorIOError? { storage.withLock { $0 } }

  /// Throws the first error recorded, if any.
  func check() throws(TensorIOError) {
    if let error { throw error }
  }
}

/// Hands out the indices `0 ..< count` to worker threads, each once, in increasing
/// order; stops handing them out once the region has failed (cancellation).
final class WorkQueue: Sendable {
  private let counter = Atomic<Int>(0)
  /// How many indices there are.
  let count: Int
  /// The region's first error.
  let failure = FirstError()

  init(count: Int) { self.count = count }

  /// The next index, or nil once every index was handed out or a worker failed.
  func next() -> Int? {
    guard !failure.hasFailed else { return nil }
    let i = counter.wrappingAdd(1, ordering: .relaxed).oldValue
    return i < count ? i : nil
  }

  /// Records a worker's failure: no more indices are handed out.
  func record(_ error: TensorIOError) { failure.record(error) }
}
