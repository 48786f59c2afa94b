import Glibc
import SystemPackage

/// A tensor: dtype, shape, strides, offset, device and `requiresGrad`, over storage on
/// the host (heap memory or a mapped `.npy` file) or on a device.
///
/// Like a PyTorch tensor, a `Tensor` value refers to its data: views and `detach()`
/// share storage, `numpy()` shares it with the returned array, `copy()` and `to(_:)`
/// across devices make new storage. The rules are those of `torch.Tensor.numpy()`:
/// a tensor that requires grad must be detached first, and a device tensor must be
/// copied to the host first.
public struct Tensor: HostArray {
  /// Where the bytes are.
  enum Buffer: Sendable {
    case host(Storage)
    case device(DeviceBuffer)
  }

  let buffer: Buffer
  /// Where the elements sit in the buffer.
  public let layout: ArrayLayout
  /// Whether autograd records operations on this tensor (PyTorch's `requires_grad`).
  /// Such a tensor cannot be exported with `numpy()` before `detach()`.
  public let requiresGrad: Bool

  init(buffer: Buffer, layout: ArrayLayout, requiresGrad: Bool = false) {
    self.buffer = buffer
    self.layout = layout
    self.requiresGrad = requiresGrad
  }

  /// A tensor sharing `array`'s storage (PyTorch's `torch.from_numpy`).
  public init(_ array: NDArray) {
    self.init(buffer: .host(array.storage), layout: array.layout)
  }

  /// A tensor of `values` with `shape`, in the machine's byte order, on `device`.
  public init<T: NPYElement>(
    _ values: [T], shape: [Int], device: Device = .cpu, requiresGrad: Bool = false
  ) throws(TensorIOError) {
    let (storage, layout) = try HostBuffers.filled(values, shape: shape, order: .c)
    let host = Tensor(buffer: .host(storage), layout: layout, requiresGrad: requiresGrad)
    self = device == .cpu ? host : try host.to(device)
  }

  /// A tensor of zeros on `device`.
  public static func zeros(
    _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false
  ) throws(TensorIOError) -> Tensor {
    let (storage, layout) = try HostBuffers.zeros(shape: shape, dtype: dtype, order: .c)
    let host = Tensor(buffer: .host(storage), layout: layout, requiresGrad: requiresGrad)
    return device == .cpu ? host : try host.to(device)
  }

  /// A tensor of ones on `device` (PyTorch's `torch.ones`); numeric dtypes only.
  public static func ones(
    _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false
  ) throws(TensorIOError) -> Tensor {
    let (storage, layout) = try HostBuffers.zeros(shape: shape, dtype: dtype, order: .c)
    let one = try dtype.encodedOne()
    let base = storage.mutableBase
    one.withUnsafeBytes { bytes in
      guard let one = bytes.baseAddress else { return }
      for i in 0..<layout.count { memcpy(base + i * bytes.count, one, bytes.count) }
    }
    let host = Tensor(buffer: .host(storage), layout: layout, requiresGrad: requiresGrad)
    return device == .cpu ? host : try host.to(device)
  }

  /// Maps the `.npy` file at `path` into a CPU tensor sharing the file's bytes (see
  /// `NPYFile.map` for the modes).
  public init(mapping path: FilePathConvertible, mode: MapMode = .readOnly) throws(TensorIOError) {
    self.init(try NPYFile.map(path.filePath, mode: mode))
  }

  /// The device the tensor's bytes are on.
  public var device: Device {
    switch buffer {
    case .host: return .cpu
    case .device(let memory): return memory.device
    }
  }

  /// The host storage; for a device tensor, PyTorch's error for host access.
  public func requireHostStorage() throws(TensorIOError) -> Storage {
    switch buffer {
    case .host(let storage): return storage
    case .device(let memory): throw TensorIOError(.notOnHost(device: memory.device.description))
    }
  }

  /// The same buffer with another layout (a view), after checking that every element
  /// of `layout` lies inside the buffer.
  public func withLayout(_ layout: ArrayLayout) throws(TensorIOError) -> Tensor {
    switch buffer {
    case .host(let storage): try layout.validate(storageBytes: storage.byteCount)
    case .device(let memory): try layout.validate(storageBytes: memory.byteCount)
    }
    return Tensor(buffer: buffer, layout: layout, requiresGrad: requiresGrad)
  }

  /// The same tensor with `requiresGrad` set (PyTorch's `requires_grad_()`).
  public func requiringGrad(_ flag: Bool = true) -> Tensor {
    Tensor(buffer: buffer, layout: layout, requiresGrad: flag)
  }

  /// A tensor sharing this one's storage that does not require grad (PyTorch's `detach()`).
  public func detach() -> Tensor { requiringGrad(false) }

  /// Whether two tensors read and write the same bytes.
  public func sharesStorage(with other: Tensor) -> Bool {
    switch (buffer, other.buffer) {
    case (.host(let a), .host(let b)): return a.sharesBytes(with: b)
    case (.device(let a), .device(let b)): return a === b
    default: return false
    }
  }

  /// Whether the tensor and an array read and write the same bytes.
  public func sharesStorage(with array: NDArray) -> Bool {
    guard case .host(let storage) = buffer else { return false }
    return storage.sharesBytes(with: array.storage)
  }
}

/// A path given as a `FilePath` or a `String`.
public protocol FilePathConvertible {
  /// The path.
  var filePath: FilePath { get }
}

extension FilePath: FilePathConvertible {
  /// The path itself.
  public var filePath: FilePath { self }
}

extension String: FilePathConvertible {
  /// The string as a path.
  public var filePath: FilePath { FilePath(self) }
}

extension DType {
  /// The bytes of the value 1 in this dtype (for `ones`).
  func encodedOne() throws(TensorIOError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: itemSize)
    let swapped = byteOrder.needsSwap
    bytes.withUnsafeMutableBytes { raw in
      guard let p = raw.baseAddress else { return }
      switch kind {
      case .bool: true.store(to: p, swapped: swapped)
      case .int(1), .uint(1): UInt8(1).store(to: p, swapped: swapped)
      case .int(2), .uint(2): UInt16(1).store(to: p, swapped: swapped)
      case .int(4), .uint(4): UInt32(1).store(to: p, swapped: swapped)
      case .int(8), .uint(8): UInt64(1).store(to: p, swapped: swapped)
      case .float(2): Float16(1).store(to: p, swapped: swapped)
      case .float(4), .complex(8): Float(1).store(to: p, swapped: swapped)
      case .float(8), .complex(16): Double(1).store(to: p, swapped: swapped)
      default: break
      }
    }
    guard isNumeric else { throw TensorIOError(.notNumeric(operation: "ones()", dtype: name)) }
    return bytes
  }
}
