import ArgumentParser
import Dispatch
import Glibc
import Synchronization
import SystemPackage
import TensorIO

/// A progress bar on standard error, for work that lasts: drawn only when stderr is a
/// terminal, only after the first second, at most ten times a second, and erased at the
/// end. Never drawn for `--json` or `--quiet`, or when stderr is piped.
/// Sendable: `track` redraws it from another thread while the work runs; its only
/// mutable state is atomic.
final class ProgressBar: Sendable {
  private let total: Int
  private let label: String
  fileprivate let enabled: Bool
  private let clock = ContinuousClock()
  private let start: ContinuousClock.Instant
  /// When the bar was last drawn, in nanoseconds after `start` (-1: never).
  private let lastDraw = Atomic<Int64>(-1)
  private let drawn = Atomic<Bool>(false)

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
    let elapsed = now - start
    let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    let last = lastDraw.load(ordering: .relaxed)
    if last >= 0 && nanos - last < 100_000_000 { return }
    lastDraw.store(nanos, ordering: .relaxed)
    let fraction = min(1, Double(done) / Double(total))
    let width = 30
    let filled = Int(fraction * Double(width))
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let rate = seconds > 0 ? Double(done) / seconds / 1e9 : 0
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    write(
      "\r\(label) [\(bar)] \(Int(fraction * 100))% \(formatBytes(done))/\(formatBytes(total)) \(format(rate, 2)) GB/s")
    drawn.store(true, ordering: .relaxed)
  }

  /// Erases the bar.
  func finish() {
    if drawn.load(ordering: .relaxed) { write("\r\u{1B}[K") }
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
    DispatchQueue.global().async {
      while stop.wait(timeout: .now() + .milliseconds(100)) == .timedOut { self.update(progress.bytes) }
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

/// `-q/--quiet` for the editing commands, and the bar they draw.
struct ProgressOptions: ParsableArguments {
  @Flag(name: .shortAndLong, help: "No progress bar.")
  var quiet = false

  /// Runs `body` with a bar over `total` bytes (drawn after a second, on a terminal),
  /// erased at the end; `body` reports the bytes done.
  @discardableResult
  func run<T>(total: Int, label: String, _ body: (_ progress: @escaping (Int) -> Void) throws -> T) rethrows -> T {
    let bar = ProgressBar(total: total, label: label, quiet: quiet)
    defer { bar.finish() }
    return try body { bar.update($0) }
  }
}
