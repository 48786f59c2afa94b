import Synchronization
import SystemPackage

/// What a test sees of, and changes in, the system calls that System/ makes on its
/// behalf: a seam in the spirit of swift-system's mocking driver, scoped to a task.
/// While `SystemCallSeam.$current` holds a seam (`withValue`), the wrappers of
/// `pread`, `pwrite` and `msync` record to it, and it can make reads short, interrupt
/// calls with `EINTR` or fail writes (`ENOSPC`, say). Calls made on other threads
/// (the parallel readers and writers) and outside such a scope are not seen.
final class SystemCallSeam: Sendable {
  /// What the wrappers recorded.
  struct Log: Sendable {
    /// Ranges written back with `msync`: start address and length.
    var synced: [(start: UInt, length: Int)] = []
    /// Bytes returned by `pread` calls.
    var bytesRead = 0
    /// `pread` calls made.
    var reads = 0
    /// Bytes accepted by `pwrite` calls.
    var bytesWritten = 0
    /// Calls the seam interrupted with `EINTR`.
    var interrupted = 0
  }

  /// The calls seen so far.
  let log = Locked(Log())
  /// Each `pread` returns at most this many bytes (short reads), when set.
  let maxRead: Int?
  /// How many more calls to interrupt with `EINTR` before they run.
  private let interruptions: Atomic<Int>
  /// `pwrite` fails with `errno` once this many bytes have been written, when set.
  let writeFailure: (after: Int, errno: Errno)?

  /// The seam of the current task, if a test set one.
  @TaskLocal static var current: SystemCallSeam?

  init(maxRead: Int? = nil, interruptions: Int = 0, writeFailure: (after: Int, errno: Errno)? = nil) {
    self.maxRead = maxRead
    self.interruptions = Atomic(interruptions)
    self.writeFailure = writeFailure
  }

  /// Whether the next call is to be interrupted (counted when it is).
  func interruptsNextCall() -> Bool {
    var remaining = interruptions.load(ordering: .relaxed)
    while remaining > 0 {
      let (exchanged, original) = interruptions.compareExchange(
        expected: remaining, desired: remaining - 1, ordering: .relaxed)
      if exchanged {
        log.withLock { $0.interrupted += 1 }
        return true
      }
      remaining = original
    }
    return false
  }
}
