/// What a device offers: memory that only explicit copies reach, and the primitives the
/// transfer engine pipelines (streams of asynchronous copies, pinned host memory, host
/// memory registration). Implemented by the simulated device and the CUDA driver backend.
protocol DeviceBackend: AnyObject, Sendable {
  /// The device this backend drives.
  var device: Device { get }
  /// How the transfer engine cuts and spreads this device's copies.
  var tuning: TransferTuning { get }
  /// Streams and pinned buffers kept for reuse by the transfer engine.
  var pool: TransferPool { get }

  /// Allocates `bytes` of device memory and returns its device address.
  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64
  /// Releases memory returned by `allocate`.
  func free(_ address: UInt64)
  /// Copies `count` bytes of any host memory to the device, returning when done.
  func copyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int) throws(TensorIOError)
  /// Copies `count` device bytes into any host memory, returning when done.
  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int) throws(TensorIOError)
  /// Copies `count` bytes within the device.
  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError)

  /// Makes the calling thread able to drive the device (CUDA: sets its context current).
  func attachThread() throws(TensorIOError)
  /// A new stream: copies enqueued on it run in order, asynchronously to the host.
  func makeStream() throws(TensorIOError) -> DeviceStream
  /// Enqueues a host -> device copy. The host bytes must be pinned or registered and
  /// must stay unchanged until the stream is synchronized.
  func enqueueCopyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int, on stream: DeviceStream)
    throws(TensorIOError)
  /// Enqueues a device -> host copy into pinned or registered (writable) host memory,
  /// which holds the bytes once the stream is synchronized.
  func enqueueCopyToHost(
    _ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, on stream: DeviceStream
  ) throws(TensorIOError)
  /// Waits until every copy enqueued on `stream` has finished.
  func synchronize(_ stream: DeviceStream) throws(TensorIOError)
  /// Allocates `bytes` of pinned (page-locked) host memory; pooled, never freed.
  func allocatePinned(_ bytes: Int) throws(TensorIOError) -> UnsafeMutableRawPointer
  /// Page-locks the page-aligned host range `start ..< start + count` in place for
  /// asynchronous copies; `readOnly` asks only for device reads (needed for read-only
  /// file mappings). Fails when any page of it is already registered.
  func register(_ start: UnsafeMutableRawPointer, count: Int, readOnly: Bool) throws(TensorIOError)
  /// Ends a registration made by `register`.
  func unregister(_ start: UnsafeMutableRawPointer)
}

/// A device stream handle: a CUDA stream's pointer bits, or a simulated stream's number.
struct DeviceStream: Sendable, Hashable {
  let raw: UInt
}

/// How host <-> device copies move bytes; `.automatic` lets the backend choose.
public enum TransferPath: String, Sendable, Hashable, CaseIterable {
  /// The transfer engine's choice: chunks spread over worker threads, each either
  /// registering its host range in place or copying through pinned staging buffers
  /// (falling back to staging whenever registration is refused); small copies go
  /// directly.
  case automatic
  /// One plain synchronous copy from or to pageable host memory.
  case pageable
  /// Every chunk through pinned (page-locked) staging buffers, filled and drained by
  /// the worker threads.
  case staged
  /// Every chunk's host range registered (page-locked in place) for its copy; read-only
  /// sources use the driver's read-only flag. Fails if the driver refuses.
  case registered
}

/// Device memory holding a tensor's bytes. The one owner of the allocation: freed when
/// the last tensor over it goes. Not addressable from the host: bytes move only through
/// explicit copies.
public final class DeviceBuffer: @unchecked Sendable {
  // Safety: every stored property is a `let`; `backend` is a `DeviceBackend`, whose
  // implementations are thread-safe (the protocol requires `Sendable`).
  /// The device the memory is on.
  public let device: Device
  /// Bytes allocated.
  public let byteCount: Int
  let address: UInt64
  let backend: any DeviceBackend

  init(backend: any DeviceBackend, byteCount: Int) throws(TensorIOError) {
    self.backend = backend
    self.device = backend.device
    self.byteCount = byteCount
    self.address = try backend.allocate(max(byteCount, 1))
  }

  deinit { backend.free(address) }

  /// Copies host bytes into `offset ..< offset + count` of this buffer; cold chunks of
  /// a mapped file come from `reader` when given.
  @discardableResult
  func upload(
    _ source: UnsafeRawPointer, count: Int, at offset: Int = 0, path: TransferPath,
    progress: TransferProgress? = nil, reader: FileReader? = nil
  ) throws(TensorIOError) -> TransferReport {
    let (engine, at) = try engine(offset, count, path: path, progress: progress)
    return try engine.upload(to: at, from: source, count: count, reader: reader)
  }

  /// Fills `offset ..< offset + count` of this buffer from `producer`, a chunk at a
  /// time in order (see `TransferEngine.upload(to:count:from:)`).
  @discardableResult
  func upload(
    count: Int, at offset: Int = 0, path: TransferPath, progress: TransferProgress? = nil,
    from producer: (UnsafeMutableRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> TransferReport {
    let (engine, at) = try engine(offset, count, path: path, progress: progress)
    return try engine.upload(to: at, count: count, from: producer)
  }

  /// Copies `offset ..< offset + count` of this buffer to host memory.
  @discardableResult
  func download(
    _ destination: UnsafeMutableRawPointer, count: Int, at offset: Int = 0, path: TransferPath,
    progress: TransferProgress? = nil
  ) throws(TensorIOError) -> TransferReport {
    let (engine, at) = try engine(offset, count, path: path, progress: progress)
    return try engine.download(from: at, into: destination, count: count)
  }

  /// Copies `offset ..< offset + count` of this buffer into `sink`'s file (see
  /// `TransferEngine.download(from:count:to:)`).
  @discardableResult
  func download(count: Int, at offset: Int = 0, path: TransferPath, to sink: FileSink) throws(TensorIOError)
    -> TransferReport
  {
    let (engine, at) = try engine(offset, count, path: path, progress: nil)
    return try engine.download(from: at, count: count, to: sink)
  }

  /// Streams `offset ..< offset + count` of this buffer to `sink` in order, a chunk at
  /// a time (with the chunk's position relative to `offset`), while the next chunks
  /// are already in flight.
  @discardableResult
  func download(
    count: Int, at offset: Int = 0, path: TransferPath,
    to sink: (UnsafeRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> TransferReport {
    let (engine, at) = try engine(offset, count, path: path, progress: nil)
    return try engine.download(from: at, count: count, to: sink)
  }

  /// The engine for a transfer of `offset ..< offset + count` of this buffer, and the
  /// range's device address; the range must lie inside the buffer.
  private func engine(_ offset: Int, _ count: Int, path: TransferPath, progress: TransferProgress?)
    throws(TensorIOError) -> (TransferEngine, UInt64)
  {
    guard offset >= 0, count >= 0, offset <= byteCount - count else {
      throw TensorIOError(.rangeOutOfBounds(device: "\(device)", offset: offset, count: count, byteCount: byteCount))
    }
    return (TransferEngine(backend: backend, path: path, progress: progress), address + UInt64(offset))
  }
}

/// Finds the backend for a device.
enum Devices {
  static func backend(for device: Device) throws(TensorIOError) -> any DeviceBackend {
    switch device {
    case .cpu:
      throw TensorIOError(.hostHasNoBackend)
    case .sim(let index):
      return try SimulatedDevice.device(index)
    case .cuda(let index):
      do {
        return try CUDADriver.shared().device(index)
      } catch {
        if case .device(.unavailable(_, let reason)) = error.reason {
          throw TensorIOError(.unavailable(device: device.description, reason: reason))
        }
        throw error
      }
    }
  }
}
