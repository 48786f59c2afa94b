#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The memory order of a contiguous array: row-major (C) or column-major (Fortran).
public enum MemoryOrder: Sendable, Hashable {
  /// Row-major: the last index varies fastest.
  case c
  /// Column-major: the first index varies fastest.
  case fortran
}

/// A host array as numpy sees it: a dtype, a shape, byte strides and a reference to
/// the `Storage` holding the bytes.
///
/// `NDArray` is a value that *refers* to its data, like a numpy array: copies of an
/// `NDArray` value share storage, and writes through one are seen by the others. Use
/// `copy()` for independent data.
public struct NDArray: Sendable {
  /// The bytes this array reads and writes.
  public let storage: Storage
  /// The element type.
  public let dtype: DType
  /// The shape; empty for a 0-d array.
  public let shape: [Int]
  /// Byte distance between consecutive indices along each axis.
  public let strides: [Int]
  /// Offset of element `[0, 0, ...]` from `storage.baseAddress`.
  public let byteOffset: Int

  /// An array over `storage` with the given layout. The layout must stay inside the storage.
  public init(
    storage: Storage, dtype: DType, shape: [Int], strides: [Int], byteOffset: Int = 0
  ) throws(TensorIOError) {
    guard shape.count == strides.count else {
      throw TensorIOError(.invalidArgument("shape has \(shape.count) dimensions, strides \(strides.count)"))
    }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorIOError(.invalidArgument("negative dimension")) }
    guard let extent = Layout.extent(shape: shape, strides: strides, itemSize: dtype.itemSize) else {
      throw TensorIOError(.invalidArgument("shape \(shape) does not fit in memory"))
    }
    if extent.count > 0 {
      guard byteOffset + extent.lowest >= 0, byteOffset + extent.highest <= storage.byteCount else {
        throw TensorIOError(.invalidArgument("layout reaches outside the storage's \(storage.byteCount) bytes"))
      }
    }
    self.storage = storage
    self.dtype = dtype
    self.shape = shape
    self.strides = strides
    self.byteOffset = byteOffset
  }

  /// An array of zeros (numpy's `np.zeros(shape, dtype, order)`).
  public init(zeros shape: [Int], dtype: DType, order: MemoryOrder = .c) throws(TensorIOError) {
    guard let bytes = Layout.byteCount(shape: shape, itemSize: dtype.itemSize) else {
      throw TensorIOError(.invalidArgument("shape \(shape) does not fit in memory"))
    }
    let storage = try Storage(zeroedByteCount: bytes)
    try self.init(
      storage: storage, dtype: dtype, shape: shape,
      strides: Layout.contiguousStrides(shape: shape, itemSize: dtype.itemSize, order: order))
  }

  /// An array holding `values` (in the logical order of `order`) with the given shape,
  /// in the machine's byte order.
  public init<T: NPYElement>(_ values: [T], shape: [Int], order: MemoryOrder = .c) throws(TensorIOError) {
    guard Layout.byteCount(shape: shape, itemSize: 1) == values.count else {
      throw TensorIOError(.invalidArgument("\(values.count) values do not fill shape \(shape)"))
    }
    try self.init(zeros: shape, dtype: DType(T.kind), order: order)
    let size = dtype.itemSize
    let base = storage.baseAddress
    for (i, value) in values.enumerated() { value.store(to: base + i * size, swapped: false) }
  }

  /// The number of dimensions.
  public var rank: Int { shape.count }

  /// The number of elements (1 for a 0-d array).
  public var count: Int { shape.reduce(1, *) }

  /// Bytes of element data (`count * itemSize`).
  public var byteCount: Int { count * dtype.itemSize }

  /// numpy's `flags.c_contiguous`: axes of length 1 are ignored, empty arrays qualify.
  public var isCContiguous: Bool {
    Layout.isContiguous(shape: shape, strides: strides, itemSize: dtype.itemSize, order: .c)
  }

  /// numpy's `flags.f_contiguous`.
  public var isFortranContiguous: Bool {
    Layout.isContiguous(shape: shape, strides: strides, itemSize: dtype.itemSize, order: .fortran)
  }

  /// Whether two arrays read and write the same storage.
  public func sharesStorage(with other: NDArray) -> Bool { storage === other.storage }

  /// Address of the element at `index` (one index per axis), or an error when out of range.
  func address(of index: [Int]) throws(TensorIOError) -> UnsafeMutableRawPointer {
    guard index.count == shape.count else {
      throw TensorIOError(.invalidArgument("index has \(index.count) components, array has \(shape.count) dimensions"))
    }
    var offset = byteOffset
    for axis in 0..<index.count {
      var i = index[axis]
      if i < 0 { i += shape[axis] }
      guard i >= 0, i < shape[axis] else {
        throw TensorIOError(
          .invalidArgument("index \(index[axis]) is out of bounds for axis \(axis) with size \(shape[axis])"))
      }
      offset += i * strides[axis]
    }
    return storage.baseAddress + offset
  }

  private func checkKind<T: NPYElement>(_ type: T.Type) throws(TensorIOError) {
    guard dtype.kind == T.kind else {
      throw TensorIOError(.invalidArgument("array of dtype \(dtype.name) cannot be read as \(T.self)"))
    }
  }

  /// The element at `index` (negative indices count from the end), read as `T`, whose
  /// kind must match the dtype's (`Float` for `<f4` and `>f4`).
  public func value<T: NPYElement>(at index: [Int], as type: T.Type = T.self) throws(TensorIOError) -> T {
    try checkKind(type)
    return T.load(from: try address(of: index), swapped: dtype.byteOrder.needsSwap)
  }

  /// Writes `value` at `index`; the array shares its storage, so every array over the
  /// same storage sees the change.
  public func setValue<T: NPYElement>(_ value: T, at index: [Int]) throws(TensorIOError) {
    try checkKind(T.self)
    guard storage.isWritable else { throw TensorIOError(.invalidArgument("assignment destination is read-only")) }
    value.store(to: try address(of: index), swapped: dtype.byteOrder.needsSwap)
  }

  /// All elements read as `T`, in C (row-major) logical order whatever the memory
  /// order and byte order.
  public func elements<T: NPYElement>(as type: T.Type = T.self) throws(TensorIOError) -> [T] {
    try checkKind(type)
    let swapped = dtype.byteOrder.needsSwap
    var out: [T] = []
    out.reserveCapacity(count)
    Layout.forEachElement(shape: shape, strides: strides) { offset in
      out.append(T.load(from: storage.baseAddress + byteOffset + offset, swapped: swapped))
    }
    return out
  }

  /// A contiguous copy with its own storage, in `order`, with multi-byte values in
  /// `byteOrder` (`nil` keeps the dtype's byte order). numpy's `copy(order=)` plus
  /// `astype(dtype.newbyteorder(...))`.
  public func copy(order: MemoryOrder = .c, byteOrder: ByteOrder? = nil) throws(TensorIOError) -> NDArray {
    let target = byteOrder.map { dtype.withByteOrder($0) } ?? dtype
    let out = try NDArray(zeros: shape, dtype: target, order: order)
    let size = dtype.itemSize
    let source = storage.baseAddress + byteOffset
    if count > 0 {
      if Layout.isContiguous(shape: shape, strides: strides, itemSize: size, order: order),
        let lowest = Layout.extent(shape: shape, strides: strides, itemSize: size)?.lowest
      {
        memcpy(out.storage.baseAddress, source + lowest, byteCount)
      } else {
        // Walk the destination in its own order, reading the source through its strides.
        let permuted = order == .c ? strides : Array(strides.reversed())
        let logicalShape = order == .c ? shape : Array(shape.reversed())
        var position = 0
        let destination = out.storage.baseAddress
        Layout.forEachElement(shape: logicalShape, strides: permuted) { offset in
          memcpy(destination + position, source + offset, size)
          position += size
        }
      }
      if target != dtype { ByteSwap.convert(out.storage.baseAddress, count: count, from: dtype, to: target) }
    }
    return out
  }

  /// The element bytes of a contiguous array, in memory order, or `nil` when the array
  /// is not contiguous in either order. Valid while the array (or its storage) lives.
  public var contiguousBytes: UnsafeRawBufferPointer? {
    guard isCContiguous || isFortranContiguous else { return nil }
    let lowest = Layout.extent(shape: shape, strides: strides, itemSize: dtype.itemSize)?.lowest ?? 0
    return UnsafeRawBufferPointer(start: storage.baseAddress + byteOffset + lowest, count: byteCount)
  }
}
