/// Streams and pinned staging buffers of one device, kept for reuse across transfers
/// (pinned memory is slow to allocate). Holds at most what the busiest moment needed.
final class TransferPool: Sendable {
  private struct State: Sendable {
    var streams: [DeviceStream] = []
    var buffers: [UInt] = []
  }
  private let state = Locked(State())

  /// A stream from the pool, or a new one.
  func stream(_ backend: any DeviceBackend) throws(TensorIOError) -> DeviceStream {
    if let stream = state.withLock({ $0.streams.popLast() }) { return stream }
    return try backend.makeStream()
  }

  /// Serializes refills, so that workers finding the pool empty at once make one
  /// allocation between them, not one each.
  private let refill = Locked(())

  /// A pinned buffer of `backend.tuning.chunk` bytes from the pool. An empty pool is
  /// refilled with the buffers of every worker's two slots at once, cut from one
  /// pinned allocation (one call into the driver instead of one per buffer).
  func buffer(_ backend: any DeviceBackend) throws(TensorIOError) -> UnsafeMutableRawPointer {
    if let buffer = pop() { return buffer }
    let raw = try refill.withLock { (_) throws(TensorIOError) -> UInt in
      if let buffer = pop() { return UInt(bitPattern: buffer) }  // refilled meanwhile
      let chunk = backend.tuning.chunk
      let count = max(1, backend.tuning.workers * 2)
      let arena = try backend.allocatePinned(chunk * count)
      state.withLock { state in
        for i in stride(from: count - 1, to: 0, by: -1) { state.buffers.append(UInt(bitPattern: arena + i * chunk)) }
      }
      return UInt(bitPattern: arena)
    }
    guard let buffer = UnsafeMutableRawPointer(bitPattern: raw) else {
      throw TensorIOError(.unavailable(device: "\(backend.device)", reason: "no pinned memory"))
    }
    return buffer
  }

  private func pop() -> UnsafeMutableRawPointer? {
    state.withLock { $0.buffers.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
  }

  /// Returns an idle stream to the pool.
  func recycle(stream: DeviceStream) {
    state.withLock { $0.streams.append(stream) }
  }

  /// Returns a pinned buffer no copy uses any more to the pool.
  func recycle(buffer: UnsafeMutableRawPointer) {
    state.withLock { $0.buffers.append(UInt(bitPattern: buffer)) }
  }
}
