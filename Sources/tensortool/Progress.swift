import Dispatch
import SystemPackage
import TensorIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A progress bar on standard error, for work that lasts: drawn only when stderr is a
/// terminal, only after the first second, at most ten times a second, and erased at the
/// end. Never drawn for `--json` or `--quiet`, or when stderr is piped.
final class ProgressBar {
  private let total: Int
  private let label: String
  fileprivate let enabled: Bool
  private let clock = ContinuousClock()
  private let start: ContinuousClock.Instant
  private var lastDraw: ContinuousClock.Instant?
  private var drawn = false

  init(total: Int, label: String, quiet: Bool) {
    self.total = total
    self.label = label
    self.enabled = !quiet && isatty(2) == 1 && total > 0
    self.start = clock.now
  }

  /// Reports `done` of `total` units (bytes).
  func update(_ done: Int) {
    guard enabled else { return }
    let now = clock.now
    guard now - start >= .seconds(1) else { return }
    if let lastDraw, now - lastDraw < .milliseconds(100) { return }
    lastDraw = now
    let fraction = min(1, Double(done) / Double(total))
    let width = 30
    let filled = Int(fraction * Double(width))
    let elapsed = now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let rate = seconds > 0 ? Double(done) / seconds / 1e9 : 0
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    write(
      "\r\(label) [\(bar)] \(Int(fraction * 100))% \(formatBytes(done))/\(formatBytes(total)) \(format(rate, 2)) GB/s")
    drawn = true
  }

  /// Erases the bar.
  func finish() {
    if drawn { write("\r\u{1B}[K") }
  }

  private func write(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
  }
}

extension ProgressBar {
  /// Runs `body` (a transfer that counts its bytes in `progress`) while another thread
  /// redraws the bar from `progress` ten times a second; erases the bar at the end.
  func track<T>(_ progress: TransferProgress, _ body: () throws -> T) rethrows -> T {
    guard enabled else { return try body() }
    let stop = DispatchSemaphore(value: 0)
    let stopped = DispatchSemaphore(value: 0)
    // Only the drawing thread uses the bar until `stopped` is signalled.
    nonisolated(unsafe) let bar = self
    DispatchQueue.global().async {
      while stop.wait(timeout: .now() + .milliseconds(100)) == .timedOut { bar.update(progress.bytes) }
      stopped.signal()
    }
    defer {
      stop.signal()
      stopped.wait()
      finish()
    }
    return try body()
  }
}
