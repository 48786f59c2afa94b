/// Why what a caller asked of an array (an index, a shape, a layout, a dtype) does not
/// fit it. numpy's messages where numpy has one.
public enum ArrayError: Sendable, Equatable, CustomStringConvertible {
  /// Shape and strides of different lengths.
  case rankMismatch(shape: Int, strides: Int)
  /// A negative dimension in a shape given by the caller.
  case negativeDimension([Int])
  /// The shape's byte count does not fit in memory (a machine integer).
  case tooLarge(shape: [Int])
  /// A layout that reaches outside its storage.
  case outsideStorage(storageBytes: Int)
  /// An index with the wrong number of components.
  case indexRank(given: Int, dimensions: Int)
  /// An index out of range (numpy's IndexError).
  case indexOutOfBounds(index: Int, axis: Int, size: Int)
  /// An axis out of range (numpy's AxisError).
  case axisOutOfBounds(axis: Int, dimensions: Int)
  /// A slice with step 0.
  case zeroStep
  /// Axes that are not a permutation of the array's.
  case invalidPermutation(axes: [Int], dimensions: Int)
  /// A reshape to a shape of another size.
  case cannotReshape(count: Int, shape: [Int])
  /// A reshape of a non-contiguous view that would need a copy.
  case reshapeNeedsCopy(shape: [Int])
  /// Elements read as a Swift type that does not match the dtype.
  case elementType(dtype: String, type: String)
  /// Values that do not fill the shape.
  case valueCount(Int, shape: [Int])
  /// An operation (statistics, `ones`) that needs a numeric dtype.
  case notNumeric(operation: String, dtype: String)
  /// A cast between dtypes that do not cast: numeric dtypes cast to each other,
  /// datetime64 and timedelta64 to their own kind (any unit) and to integers.
  case cannotCast(from: String, to: String)
  /// A negative byte count.
  case negativeByteCount(Int)
  /// Arrays joined along an axis whose other dimensions differ (numpy's concatenate).
  case dimensionsMismatch(expected: [Int], given: [Int], axis: Int)
  /// An array whose dtype differs from the one it joins, with no cast asked for.
  case dtypeMismatch(expected: String, given: String)
  /// An index expression that is not numpy basic indexing (the text and why).
  case invalidIndex(String, reason: String)
  /// More indices than the array has dimensions (numpy's IndexError).
  case tooManyIndices(given: Int, dimensions: Int)
  /// More than one `...` in an index.
  case multipleEllipses
  /// A field name a structured dtype does not have (or a dtype without fields).
  case noField(String)

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .rankMismatch(let shape, let strides): return "shape has \(shape) dimensions, strides \(strides)"
    case .negativeDimension(let shape): return "negative dimensions are not allowed: \(shape)"
    case .tooLarge(let shape): return "shape \(shape) does not fit in memory"
    case .outsideStorage(let bytes): return "layout reaches outside the storage's \(bytes) bytes"
    case .indexRank(let given, let dimensions):
      return "index has \(given) components, array has \(dimensions) dimensions"
    case .indexOutOfBounds(let index, let axis, let size):
      return "index \(index) is out of bounds for axis \(axis) with size \(size)"
    case .axisOutOfBounds(let axis, let dimensions):
      return "axis \(axis) is out of bounds for an array of dimension \(dimensions)"
    case .zeroStep: return "slice step cannot be zero"
    case .invalidPermutation(let axes, let dimensions):
      return "axes \(axes) are not a permutation of 0..<\(dimensions)"
    case .cannotReshape(let count, let shape): return "cannot reshape array of size \(count) into shape \(shape)"
    case .reshapeNeedsCopy(let shape):
      return "reshaping this non-contiguous view to \(shape) needs a copy: use contiguous() first"
    case .elementType(let dtype, let type): return "array of dtype \(dtype) cannot be read as \(type)"
    case .valueCount(let count, let shape): return "\(count) values do not fill shape \(shape)"
    case .notNumeric(let operation, let dtype): return "\(operation) needs a numeric dtype, not \(dtype)"
    case .cannotCast(let from, let to):
      return "cannot convert \(from) to \(to): numeric dtypes cast to each other, "
        + "datetime64 and timedelta64 to their own kind and to numbers"
    case .negativeByteCount(let count): return "negative byte count \(count)"
    case .dimensionsMismatch(let expected, let given, let axis):
      return "all the input array dimensions except for the concatenation axis must match exactly, "
        + "but along axis \(axis) the array has shape \(given) and the file \(expected)"
    case .dtypeMismatch(let expected, let given):
      return "dtype \(given) differs from the file's \(expected) (cast it explicitly)"
    case .invalidIndex(let text, let reason): return "invalid index '\(text)': \(reason)"
    case .tooManyIndices(let given, let dimensions):
      return "too many indices for array: array is \(dimensions)-dimensional, but \(given) were indexed"
    case .multipleEllipses: return "an index can only have a single ellipsis ('...')"
    case .noField(let name): return "no field of name \(name)"
    }
  }
}
