/// Why the bytes of an `.npy` file (or of an npz member) are not a valid array, or why
/// an array cannot be written as one.
public enum FormatError: Sendable, Equatable, CustomStringConvertible {
  /// The file does not start with `\x93NUMPY`.
  case badMagic
  /// The format version is not 1.0, 2.0 or 3.0.
  case unsupportedVersion(major: UInt8, minor: UInt8)
  /// The file ends inside the magic string or the header-length field.
  case truncatedPreamble(fileSize: Int)
  /// The header length field points past the end of the file.
  case truncatedHeader(declared: Int, available: Int)
  /// The header is longer than the allowed maximum (numpy's `max_header_size`).
  case headerTooLarge(length: Int, limit: Int)
  /// The header bytes are not valid in the version's encoding (latin-1 or UTF-8).
  case headerEncoding(String)
  /// The header is not a valid Python literal.
  case headerSyntax(String)
  /// The header is a valid literal but not a dictionary.
  case headerNotDictionary(found: String)
  /// The header dictionary does not have exactly the keys descr, fortran_order, shape.
  case headerKeys([String])
  /// `shape` is not a tuple of integers.
  case invalidShape(String)
  /// A dimension is negative.
  case negativeDimension(Int)
  /// More dimensions than numpy supports (64).
  case tooManyDimensions(Int)
  /// The number of bytes the shape describes does not fit in a machine integer.
  case shapeOverflow(String)
  /// `fortran_order` is not a bool.
  case invalidFortranOrder(String)
  /// `descr` is not a valid dtype description.
  case invalidDescr(String)
  /// The dtype holds Python objects (`|O`), which need pickle: refused.
  case objectDType
  /// The dtype is valid for numpy but not supported here (datetime, long double, ...).
  case unsupportedDType(String)
  /// The file holds fewer data bytes than the header promises.
  case truncatedData(expected: Int, available: Int)
  /// A structured dtype whose fields overlap or are out of order: numpy writes no
  /// `descr` for it, so it cannot be saved.
  case dtypeHasNoDescr
  /// The header would be longer than any `.npy` version allows.
  case headerTooLongToWrite(bytes: Int)

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .badMagic: return "not an .npy file (bad magic string)"
    case .unsupportedVersion(let major, let minor):
      return "unsupported .npy format version \(major).\(minor) (1.0, 2.0 and 3.0 are supported)"
    case .truncatedPreamble(let size):
      return "truncated file: \(size) bytes, too short for an .npy preamble"
    case .truncatedHeader(let declared, let available):
      return "truncated header: header length is \(declared) bytes but only \(available) follow"
    case .headerTooLarge(let length, let limit):
      return "header is \(length) characters, over the limit of \(limit) (max_header_size)"
    case .headerEncoding(let detail): return "header is not valid text: \(detail)"
    case .headerSyntax(let detail): return "cannot parse header: \(detail)"
    case .headerNotDictionary(let found): return "header is not a dictionary: \(found)"
    case .headerKeys(let keys):
      return "header does not contain the correct keys: [\(keys.joined(separator: ", "))]"
    case .invalidShape(let shape): return "shape is not valid: \(shape)"
    case .negativeDimension(let dim): return "negative dimensions are not allowed: \(dim)"
    case .tooManyDimensions(let count): return "\(count) dimensions, more than the supported 64"
    case .shapeOverflow(let shape): return "array is too big: shape \(shape) overflows"
    case .invalidFortranOrder(let value): return "fortran_order is not a valid bool: \(value)"
    case .invalidDescr(let descr): return "descr is not a valid dtype descriptor: \(descr)"
    case .objectDType: return "object arrays (descr '|O') need pickle and are not supported"
    case .unsupportedDType(let descr): return "unsupported dtype: \(descr)"
    case .truncatedData(let expected, let available):
      return "truncated data: header promises \(expected) bytes, file has \(available)"
    case .dtypeHasNoDescr: return "dtype with overlapping or out-of-order fields has no descr"
    case .headerTooLongToWrite(let bytes): return "header of \(bytes) bytes is too long for any .npy version"
    }
  }
}
