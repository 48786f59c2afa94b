/// Why a tensor's storage cannot be accessed the way asked (PyTorch's and numpy's
/// messages).
public enum AccessError: Sendable, Equatable, CustomStringConvertible {
  /// A write to read-only memory (a read-only mapping), numpy's message.
  case readOnly
  /// The storage was closed; its elements can no longer be accessed.
  case closed
  /// `numpy()` on a tensor that requires grad (PyTorch's message).
  case requiresGrad
  /// Host access to a tensor that lives on a device (PyTorch's message).
  case notOnHost(device: String)

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .readOnly: return "assignment destination is read-only"
    case .closed: return "the storage was closed"
    case .requiresGrad:
      return "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    case .notOnHost(let device):
      return "can't convert \(device) device type tensor to numpy. "
        + "Use Tensor.cpu() to copy the tensor to host memory first."
    }
  }
}
