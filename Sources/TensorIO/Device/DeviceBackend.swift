/// What a device offers: memory that only explicit copies reach. Implemented by the
/// simulated device and the CUDA driver backend.
protocol DeviceBackend: AnyObject, Sendable {
  /// The device this backend drives.
  var device: Device { get }
  /// Allocates `bytes` of device memory and returns its device address.
  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64
  /// Releases memory returned by `allocate`.
  func free(_ address: UInt64)
  /// Copies `count` host bytes to device memory. `source` tells where the host bytes
  /// live, so that a backend can choose its fastest path (register a read-only
  /// mapping, or stage through pinned memory).
  func copyToDevice(
    _ destination: UInt64, from source: UnsafeRawPointer, count: Int, source storage: Storage?,
    path: TransferPath
  ) throws(TensorIOError)
  /// Copies `count` device bytes to host memory.
  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, path: TransferPath)
    throws(TensorIOError)
  /// Copies `count` bytes within the device.
  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError)
}

/// How host <-> device copies move bytes; `.automatic` lets the backend choose.
public enum TransferPath: String, Sendable, Hashable, CaseIterable {
  /// The backend's choice: registered read-only mappings where possible, else pinned
  /// staging for large copies, plain copies for small ones.
  case automatic
  /// A plain copy from pageable host memory.
  case pageable
  /// Through a ring of pinned (page-locked) staging buffers.
  case staged
  /// The host range is registered (page-locked in place) for the copy; read-only
  /// mappings use the driver's read-only flag.
  case registered
}

/// Device memory holding a tensor's bytes. The one owner of the allocation: freed when
/// the last tensor over it goes. Not addressable from the host: bytes move only through
/// explicit copies.
public final class DeviceBuffer: @unchecked Sendable {
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

  /// Copies host bytes into `offset ..< offset + count` of this buffer.
  func upload(_ source: UnsafeRawPointer, count: Int, at offset: Int = 0, from storage: Storage?, path: TransferPath)
    throws(TensorIOError)
  {
    try checkRange(offset, count)
    if count == 0 { return }
    try backend.copyToDevice(address + UInt64(offset), from: source, count: count, source: storage, path: path)
  }

  /// Copies `offset ..< offset + count` of this buffer to host memory.
  func download(_ destination: UnsafeMutableRawPointer, count: Int, at offset: Int = 0, path: TransferPath)
    throws(TensorIOError)
  {
    try checkRange(offset, count)
    if count == 0 { return }
    try backend.copyToHost(destination, from: address + UInt64(offset), count: count, path: path)
  }

  private func checkRange(_ offset: Int, _ count: Int) throws(TensorIOError) {
    guard offset >= 0, count >= 0, offset <= byteCount - count else {
      throw TensorIOError(.invalidArgument("\(device): range \(offset)..<\(offset + count) outside \(byteCount) bytes"))
    }
  }
}

/// Finds the backend for a device.
enum Devices {
  static func backend(for device: Device) throws(TensorIOError) -> any DeviceBackend {
    switch device {
    case .cpu:
      throw TensorIOError(.invalidArgument("cpu has no device backend"))
    case .sim(let index):
      return try SimulatedDevice.device(index)
    case .cuda(let index):
      do {
        return try CUDADriver.shared().device(index)
      } catch {
        if case .deviceUnavailable(_, let reason) = error.reason {
          throw TensorIOError(.deviceUnavailable(device: device.description, reason: reason))
        }
        throw error
      }
    }
  }
}
