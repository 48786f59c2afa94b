/// The memory order of a contiguous array: row-major (C) or column-major (Fortran).
public enum MemoryOrder: Sendable, Hashable {
  /// Row-major: the last index varies fastest.
  case c
  /// Column-major: the first index varies fastest.
  case fortran
}

/// A host array as numpy sees it: a layout (dtype, shape, byte strides, offset) over the
/// `Storage` holding the bytes.
///
/// `NDArray` is a value that *refers* to its data, like a numpy array: copies of an
/// `NDArray` value, and views made from it, share storage, and writes through one are
/// seen by the others. Use `copy()` for independent data.
public struct NDArray: HostArray {
  /// The bytes this array reads and writes.
  public let storage: Storage
  /// Where the elements sit in the storage.
  public let layout: ArrayLayout

  /// An array over `storage` with the given layout, which must stay inside the storage.
  public init(storage: Storage, layout: ArrayLayout) throws(TensorIOError) {
    try layout.validate(storageBytes: storage.byteCount)
    self.storage = storage
    self.layout = layout
  }

  /// An array over `storage` with the given shape and byte strides.
  public init(
    storage: Storage, dtype: DType, shape: [Int], strides: [Int], byteOffset: Int = 0
  ) throws(TensorIOError) {
    try self.init(
      storage: storage, layout: ArrayLayout(dtype: dtype, shape: shape, strides: strides, byteOffset: byteOffset))
  }

  init(unchecked storage: Storage, layout: ArrayLayout) {
    self.storage = storage
    self.layout = layout
  }

  /// An array of zeros (numpy's `np.zeros(shape, dtype, order)`).
  public init(zeros shape: [Int], dtype: DType, order: MemoryOrder = .c) throws(TensorIOError) {
    let (storage, layout) = try HostBuffers.zeros(shape: shape, dtype: dtype, order: order)
    self.init(unchecked: storage, layout: layout)
  }

  /// An array holding `values` (in the logical order of `order`) with the given shape,
  /// in the machine's byte order.
  public init<T: NPYElement>(_ values: [T], shape: [Int], order: MemoryOrder = .c) throws(TensorIOError) {
    let (storage, layout) = try HostBuffers.filled(values, shape: shape, order: order)
    self.init(unchecked: storage, layout: layout)
  }

  /// The same storage with another layout (a view), after checking that every element
  /// of `layout` lies inside the storage.
  public func withLayout(_ layout: ArrayLayout) throws(TensorIOError) -> NDArray {
    try layout.validate(storageBytes: storage.byteCount)
    return NDArray(unchecked: storage, layout: layout)
  }

  /// The array's storage; an NDArray is always on the host.
  public func requireHostStorage() throws(TensorIOError) -> Storage { storage }

  /// Whether two arrays read and write the same bytes (the same storage, or a
  /// copy-on-write snapshot not yet separated from it).
  public func sharesStorage(with other: NDArray) -> Bool {
    storage.sharesBytes(with: other.storage)
  }

  /// A contiguous copy with its own storage, in `order`, with multi-byte values in
  /// `byteOrder` (`nil` keeps the dtype's byte order): numpy's `copy(order=)` plus
  /// `astype(dtype.newbyteorder(...))`.
  public func copy(order: MemoryOrder = .c, byteOrder: ByteOrder? = nil) throws(TensorIOError) -> NDArray {
    let (storage, layout) = try HostBuffers.copy(storage, layout, order: order, byteOrder: byteOrder)
    return NDArray(unchecked: storage, layout: layout)
  }

  /// The element bytes of a contiguous array, in memory order, for reading, or `nil`
  /// when the array is not contiguous in either order. Valid while the storage lives.
  public var unsafeContiguousBytes: UnsafeRawBufferPointer? {
    guard isCContiguous || isFortranContiguous else { return nil }
    let lowest = ArrayLayout.extent(shape: shape, strides: strides, itemSize: dtype.itemSize)?.lowest ?? 0
    return UnsafeRawBufferPointer(start: storage.unsafeBaseAddress + byteOffset + lowest, count: byteCount)
  }
}
