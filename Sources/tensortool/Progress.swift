import SystemPackage

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
  private let enabled: Bool
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
