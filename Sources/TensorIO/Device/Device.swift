/// Where a tensor's bytes live.
public enum Device: Sendable, Hashable, CustomStringConvertible {
  /// Host memory.
  case cpu
  /// An NVIDIA GPU through the CUDA driver API (loaded at run time).
  case cuda(Int)
  /// A simulated device: memory reachable only through explicit copies, so that every
  /// device rule can be tested on machines without a GPU.
  case sim(Int)

  /// Parses `cpu`, `cuda`, `cuda:N`, `sim` or `sim:N` (a bare name means index 0).
  public init(parsing text: String) throws(TensorIOError) {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let name = parts[0]
    var index = 0
    if parts.count == 2 {
      guard let n = Int(parts[1]), n >= 0, parts[1].allSatisfy(\.isASCII) else {
        throw TensorIOError(.invalidName(text, reason: "the index must be a non-negative integer"))
      }
      index = n
    }
    switch name {
    case "cpu" where parts.count == 1 || index == 0: self = .cpu
    case "cuda": self = .cuda(index)
    case "sim": self = .sim(index)
    default:
      throw TensorIOError(.invalidName(text, reason: "expected cpu, cuda:N or sim:N"))
    }
  }

  /// `cpu`, `cuda:N` or `sim:N`, as PyTorch prints devices.
  public var description: String {
    switch self {
    case .cpu: return "cpu"
    case .cuda(let n): return "cuda:\(n)"
    case .sim(let n): return "sim:\(n)"
    }
  }

  /// Whether the device is host memory.
  public var isHost: Bool { self == .cpu }
}
