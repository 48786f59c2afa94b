import Glibc

/// An array whose elements can be read and written on the host: `NDArray` always, a
/// `Tensor` when it is on the CPU. Typed element access is defined once, here.
public protocol HostArray: StridedArray {
  /// The host storage; for a tensor on a device, PyTorch's error for host access
  /// (`AccessError.notOnHost`) instead.
  func requireHostStorage() throws(TensorIOError) -> Storage
}

extension HostArray {
  private func checkKind<T: NPYElement>(_ type: T.Type) throws(TensorIOError) {
    guard dtype.kind == T.kind else {
      throw TensorIOError(.elementType(dtype: dtype.name, type: "\(T.self)"))
    }
  }

  /// The element at `index` (negative indices count from the end), read as `T`, whose
  /// kind must match the dtype's (`Float` for `<f4` and `>f4`).
  public func value<T: NPYElement>(at index: [Int], as type: T.Type = T.self) throws(TensorIOError) -> T {
    try checkKind(type)
    let storage = try requireHostStorage()
    try storage.checkOpen()
    let offset = try layout.offset(of: index)
    return T.load(from: storage.mutableBase + offset, swapped: dtype.byteOrder.needsSwap)
  }

  /// Writes `value` at `index`. Every array, tensor and view over the same storage
  /// sees it; copy-on-write snapshots of it do not. Throws for read-only storage.
  public func setValue<T: NPYElement>(_ value: T, at index: [Int]) throws(TensorIOError) {
    try checkKind(T.self)
    let storage = try requireHostStorage()
    let offset = try layout.offset(of: index)
    let base = try storage.prepareForWrite()
    value.store(to: base + offset, swapped: dtype.byteOrder.needsSwap)
  }

  /// All elements read as `T`, in C (row-major) logical order whatever the memory
  /// order and byte order.
  public func elements<T: NPYElement>(as type: T.Type = T.self) throws(TensorIOError) -> [T] {
    try checkKind(type)
    let storage = try requireHostStorage()
    try storage.checkOpen()
    let swapped = dtype.byteOrder.needsSwap
    let base = storage.mutableBase + byteOffset
    var out: [T] = []
    out.reserveCapacity(count)
    ArrayLayout.forEachElement(shape: shape, strides: strides) { offset in
      out.append(T.load(from: base + offset, swapped: swapped))
    }
    return out
  }
}

/// Allocation and copying of host buffers, shared by arrays and tensors.
enum HostBuffers {
  static func zeros(shape: [Int], dtype: DType, order: MemoryOrder) throws(TensorIOError) -> (Storage, ArrayLayout) {
    guard let layout = ArrayLayout.contiguous(dtype: dtype, shape: shape, order: order), shape.allSatisfy({ $0 >= 0 })
    else {
      throw TensorIOError(.tooLarge(shape: shape))
    }
    return (try Storage(zeroedByteCount: layout.byteCount), layout)
  }

  static func filled<T: NPYElement>(_ values: [T], shape: [Int], order: MemoryOrder) throws(TensorIOError)
    -> (Storage, ArrayLayout)
  {
    guard ArrayLayout.byteCount(shape: shape, itemSize: 1) == values.count else {
      throw TensorIOError(.valueCount(values.count, shape: shape))
    }
    let (storage, layout) = try zeros(shape: shape, dtype: DType(T.kind), order: order)
    let size = layout.dtype.itemSize
    let base = storage.mutableBase
    for (i, value) in values.enumerated() { value.store(to: base + i * size, swapped: false) }
    return (storage, layout)
  }

  /// A contiguous copy of `layout`'s elements in `order` and `byteOrder`.
  static func copy(_ source: Storage, _ layout: ArrayLayout, order: MemoryOrder, byteOrder: ByteOrder?)
    throws(TensorIOError) -> (Storage, ArrayLayout)
  {
    try source.checkOpen()
    let dtype = layout.dtype
    let target = byteOrder.map { dtype.withByteOrder($0) } ?? dtype
    let (storage, out) = try zeros(shape: layout.shape, dtype: target, order: order)
    let size = dtype.itemSize
    let from = source.mutableBase + layout.byteOffset
    let to = storage.mutableBase
    if layout.count > 0 {
      if ArrayLayout.isContiguous(shape: layout.shape, strides: layout.strides, itemSize: size, order: order),
        let lowest = ArrayLayout.extent(shape: layout.shape, strides: layout.strides, itemSize: size)?.lowest
      {
        memcpy(to, from + lowest, layout.byteCount)
      } else {
        // Walk the destination in its own order, reading the source through its strides.
        let strides = order == .c ? layout.strides : Array(layout.strides.reversed())
        let shape = order == .c ? layout.shape : Array(layout.shape.reversed())
        var position = 0
        ArrayLayout.forEachElement(shape: shape, strides: strides) { offset in
          memcpy(to + position, from + offset, size)
          position += size
        }
      }
      if target != dtype { ByteSwap.convert(to, count: layout.count, from: dtype, to: target) }
    }
    return (storage, out)
  }
}
