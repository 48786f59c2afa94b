import Glibc

/// A value guarded by a `pthread_mutex_t`: the lock every TensorIO type uses to share
/// state between threads. Used rather than the standard library's `Mutex`, whose
/// futex-based lock ThreadSanitizer cannot see on Linux (it reports every access under
/// it as a race), so that `scripts/sanitize thread` checks this code for real.
/// Wraps `pthread_mutex_init`, `pthread_mutex_lock`, `pthread_mutex_unlock` and
/// `pthread_mutex_destroy`.
final class Locked<Value>: @unchecked Sendable {
  // Safety: `value` is read and written only inside `withLock`, which holds `mutex`;
  // the mutex is allocated once, never moved, and destroyed with the object.
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var value: Value

  /// A lock guarding `value`.
  init(_ value: Value) {
    self.value = value
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Runs `body` with the value while holding the lock.
  func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
