import Synchronization

/// How far a transfer between the host and a device has come, readable from another
/// thread while it runs (to draw a progress bar): the transfer engine adds each chunk's
/// bytes once the chunk's copy has completed.
public final class TransferProgress: Sendable {
  private let done = Atomic<Int>(0)

  /// A counter at zero bytes.
  public init() {}

  /// Bytes whose copy has completed so far.
  public var bytes: Int { done.load(ordering: .relaxed) }

  /// Counts `count` more bytes as moved.
  func add(_ count: Int) {
    done.wrappingAdd(count, ordering: .relaxed)
  }
}
