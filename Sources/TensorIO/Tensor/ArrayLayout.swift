/// Where an array's elements sit in its storage: dtype, shape, byte strides and the
/// offset of element `[0, 0, ...]`. Views are new layouts over the same storage.
public struct ArrayLayout: Sendable, Hashable {
  /// The element type.
  public var dtype: DType
  /// The shape; empty for a 0-d array.
  public var shape: [Int]
  /// Byte distance between consecutive indices along each axis.
  public var strides: [Int]
  /// Offset of element `[0, 0, ...]` from the start of the storage.
  public var byteOffset: Int

  /// A layout; `validate(storageBytes:)` checks it against a storage.
  public init(dtype: DType, shape: [Int], strides: [Int], byteOffset: Int = 0) {
    self.dtype = dtype
    self.shape = shape
    self.strides = strides
    self.byteOffset = byteOffset
  }

  /// A contiguous layout in `order`; `nil` when the byte size overflows.
  public static func contiguous(dtype: DType, shape: [Int], order: MemoryOrder = .c) -> ArrayLayout? {
    guard ArrayLayout.byteCount(shape: shape, itemSize: dtype.itemSize) != nil else { return nil }
    return ArrayLayout(
      dtype: dtype, shape: shape,
      strides: ArrayLayout.contiguousStrides(shape: shape, itemSize: dtype.itemSize, order: order))
  }

  /// The number of elements (1 for a 0-d array); `Int.max` when the product
  /// overflows (a layout no array accepts: see `withLayout(_:)`).
  public var count: Int {
    var product = 1
    for dimension in shape {
      let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
      if overflow { return .max }
      product = next
    }
    return product
  }

  /// Bytes of element data (`count * itemSize`); `Int.max` when that overflows.
  public var byteCount: Int {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.itemSize)
    return overflow ? .max : bytes
  }

  /// numpy's `flags.c_contiguous`.
  public var isCContiguous: Bool {
    ArrayLayout.isContiguous(shape: shape, strides: strides, itemSize: dtype.itemSize, order: .c)
  }

  /// numpy's `flags.f_contiguous`.
  public var isFortranContiguous: Bool {
    ArrayLayout.isContiguous(shape: shape, strides: strides, itemSize: dtype.itemSize, order: .fortran)
  }

  /// Checks that every element lies inside a storage of `storageBytes` bytes.
  func validate(storageBytes: Int) throws(TensorIOError) {
    guard shape.count == strides.count else {
      throw TensorIOError(.rankMismatch(shape: shape.count, strides: strides.count))
    }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorIOError(ArrayError.negativeDimension(shape)) }
    guard let extent = ArrayLayout.extent(shape: shape, strides: strides, itemSize: dtype.itemSize) else {
      throw TensorIOError(.tooLarge(shape: shape))
    }
    if extent.count > 0 {
      guard byteOffset + extent.lowest >= 0, byteOffset + extent.highest <= storageBytes else {
        throw TensorIOError(.outsideStorage(storageBytes: storageBytes))
      }
    }
  }

  /// The byte offset of the element at `index` (negative indices count from the end).
  func offset(of index: [Int]) throws(TensorIOError) -> Int {
    guard index.count == shape.count else {
      throw TensorIOError(
        .indexRank(given: index.count, dimensions: shape.count))
    }
    var offset = byteOffset
    for axis in 0..<index.count {
      offset += try normalized(index[axis], axis: axis) * strides[axis]
    }
    return offset
  }

  private func normalized(_ index: Int, axis: Int) throws(TensorIOError) -> Int {
    let i = index < 0 ? index + shape[axis] : index
    guard i >= 0, i < shape[axis] else {
      throw TensorIOError(.indexOutOfBounds(index: index, axis: axis, size: shape[axis]))
    }
    return i
  }

  private func checkAxis(_ axis: Int) throws(TensorIOError) -> Int {
    let a = axis < 0 ? axis + shape.count : axis
    guard a >= 0, a < shape.count else {
      throw TensorIOError(.axisOutOfBounds(axis: axis, dimensions: shape.count))
    }
    return a
  }

  // MARK: Views

  /// Elements `range` of `axis`, every `step`th (numpy's `a[start:stop:step]`; a
  /// negative step walks backwards from the range's upper end).
  func sliced(axis: Int, range: Range<Int>, step: Int) throws(TensorIOError) -> ArrayLayout {
    let a = try checkAxis(axis)
    guard step != 0 else { throw TensorIOError(.zeroStep) }
    let lower = max(0, min(range.lowerBound, shape[a]))
    let upper = max(lower, min(range.upperBound, shape[a]))
    let span = upper - lower
    let count = span == 0 ? 0 : (span - 1) / abs(step) + 1
    var out = self
    out.shape[a] = count
    if count > 0 {
      let first = step > 0 ? lower : upper - 1
      out.byteOffset += first * strides[a]
    }
    out.strides[a] = strides[a] * step
    return out
  }

  /// The sub-array at `index` along `axis`, one dimension fewer (numpy's `a[i]`).
  func selecting(axis: Int, index: Int) throws(TensorIOError) -> ArrayLayout {
    let a = try checkAxis(axis)
    let i = try normalized(index, axis: a)
    var out = self
    out.byteOffset += i * strides[a]
    out.shape.remove(at: a)
    out.strides.remove(at: a)
    return out
  }

  /// Axes reordered: axis `i` of the result is axis `axes[i]` of this layout.
  func permuted(_ axes: [Int]) throws(TensorIOError) -> ArrayLayout {
    guard axes.count == shape.count, Set(axes) == Set(0..<shape.count) else {
      throw TensorIOError(.invalidPermutation(axes: axes, dimensions: shape.count))
    }
    var out = self
    out.shape = axes.map { shape[$0] }
    out.strides = axes.map { strides[$0] }
    return out
  }

  /// The same elements with a new shape, when that needs no copy (the layout is
  /// C-contiguous, or the new shape only adds or removes axes of length 1).
  func reshaped(_ newShape: [Int]) throws(TensorIOError) -> ArrayLayout {
    guard let newCount = ArrayLayout.byteCount(shape: newShape, itemSize: 1), newCount == count else {
      throw TensorIOError(.cannotReshape(count: count, shape: newShape))
    }
    if isCContiguous {
      var out = self
      out.shape = newShape
      out.strides = ArrayLayout.contiguousStrides(shape: newShape, itemSize: dtype.itemSize, order: .c)
      return out
    }
    // Only axes of length 1 differ: keep the strides of the others.
    let kept = zip(shape, strides).filter { $0.0 != 1 }
    if kept.map(\.0) == newShape.filter({ $0 != 1 }) {
      var out = self
      var next = kept.makeIterator()
      out.shape = newShape
      out.strides = newShape.map { $0 == 1 ? dtype.itemSize : (next.next()?.1 ?? 0) }
      return out
    }
    throw TensorIOError(
      .reshapeNeedsCopy(shape: newShape))
  }
}

/// What arrays and tensors share: a layout over storage, and views made by changing
/// the layout alone.
public protocol StridedArray: Sendable {
  /// Where the elements are.
  var layout: ArrayLayout { get }
  /// The same storage (and other properties) with another layout, checked first:
  /// every element must lie inside the storage (no view can read or write outside it).
  func withLayout(_ layout: ArrayLayout) throws(TensorIOError) -> Self
}

extension StridedArray {
  /// The element type.
  public var dtype: DType { layout.dtype }
  /// The shape; empty for a 0-d array.
  public var shape: [Int] { layout.shape }
  /// Byte strides along each axis.
  public var strides: [Int] { layout.strides }
  /// Offset of element `[0, 0, ...]` in the storage.
  public var byteOffset: Int { layout.byteOffset }
  /// The number of dimensions.
  public var rank: Int { layout.shape.count }
  /// The number of elements (1 for a 0-d array).
  public var count: Int { layout.count }
  /// Bytes of element data.
  public var byteCount: Int { layout.byteCount }
  /// numpy's `flags.c_contiguous`: axes of length 1 do not count, empty arrays qualify.
  public var isCContiguous: Bool { layout.isCContiguous }
  /// numpy's `flags.f_contiguous`.
  public var isFortranContiguous: Bool { layout.isFortranContiguous }
  /// Whether the elements are contiguous in C order (PyTorch's `is_contiguous()`).
  public var isContiguous: Bool { layout.isCContiguous }
  /// The memory order `np.save` writes this array in: Fortran when it is
  /// Fortran-contiguous and not C-contiguous, else C.
  public var saveOrder: MemoryOrder { !layout.isCContiguous && layout.isFortranContiguous ? .fortran : .c }

  /// A view of elements `range` along `axis`, every `step`th; shares storage.
  public func slice(axis: Int = 0, _ range: Range<Int>, step: Int = 1) throws(TensorIOError) -> Self {
    try withLayout(try layout.sliced(axis: axis, range: range, step: step))
  }

  /// A view of the sub-array at `index` along `axis` (a row for axis 0); shares storage.
  public func select(axis: Int = 0, _ index: Int) throws(TensorIOError) -> Self {
    try withLayout(try layout.selecting(axis: axis, index: index))
  }

  /// A view with the axes reordered; shares storage.
  public func permuted(_ axes: [Int]) throws(TensorIOError) -> Self {
    try withLayout(try layout.permuted(axes))
  }

  /// A view with the axes reversed (numpy's `a.T`); shares storage.
  public func transposed() -> Self {
    var out = layout
    out.shape.reverse()
    out.strides.reverse()
    // The same elements in another axis order: inside the storage whenever `self` is.
    return (try? withLayout(out)) ?? self
  }

  /// A view with a new shape; throws when the layout would need a copy.
  public func reshaped(_ shape: [Int]) throws(TensorIOError) -> Self {
    try withLayout(try layout.reshaped(shape))
  }
}
