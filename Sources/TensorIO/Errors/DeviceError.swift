/// Why a device cannot be used or a device operation failed.
public enum DeviceError: Sendable, Equatable, CustomStringConvertible {
  /// A device name that is not `cpu`, `cuda:N` or `sim:N`.
  case invalidName(String, reason: String)
  /// The device does not exist or cannot be used here (no driver, no such index).
  case unavailable(device: String, reason: String)
  /// A device driver call failed: the call, its result code and the code's name.
  case call(device: String, call: String, code: Int32, name: String)
  /// A device allocation larger than the memory left on the device.
  case outOfMemory(device: String, requested: Int, available: Int)
  /// A copy reaching outside a device buffer.
  case rangeOutOfBounds(device: String, offset: Int, count: Int, byteCount: Int)
  /// `cpu` has no device backend: host memory is not a device.
  case hostHasNoBackend

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .invalidName(let text, let reason): return "invalid device '\(text)': \(reason)"
    case .unavailable(let device, let reason): return "\(device): \(reason)"
    case .call(let device, let call, let code, let name): return "\(device): \(call) failed: \(name) (\(code))"
    case .outOfMemory(let device, let requested, let available):
      return "\(device): out of memory: tried to allocate \(requested) bytes, \(available) free"
    case .rangeOutOfBounds(let device, let offset, let count, let byteCount):
      return "\(device): range \(offset)..<\(offset + count) outside \(byteCount) bytes"
    case .hostHasNoBackend: return "cpu has no device backend"
    }
  }
}
