import Dispatch

/// One piece of work run on another thread while the caller does something else (the
/// CRC-32 of bytes being written, the write of a piece while the next converts), then
/// waited for. Always wait for a task before the memory it reads is reused: `wait()`
/// is the hand-over `UnsafeShared`'s rule asks for.
final class BackgroundTask<Value: Sendable>: Sendable {
  private let result = Locked<Result<Value, TensorIOError>?>(nil)
  private let done = DispatchSemaphore(value: 0)

  /// Starts `work` on a global queue.
  init(_ work: @escaping @Sendable () throws(TensorIOError) -> Value) {
    DispatchQueue.global().async { [result, done] in
      let value = Result { () throws(TensorIOError) in try work() }
      result.withLock { $0 = value }
      done.signal()
    }
  }

  /// Waits for the work to finish and returns its value or throws its error. Call
  /// once.
  func wait() throws(TensorIOError) -> Value {
    done.wait()
    done.signal()  // a second wait returns at once
    guard let value = result.withLock({ $0 }) else {
      throw TensorIOError(.internalFailure("a background task ended without a result"))
    }
    return try value.get()
  }
}
