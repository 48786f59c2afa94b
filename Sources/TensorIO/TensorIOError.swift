import SystemPackage

/// An error raised by TensorIO: the file it concerns (when there is one) and the reason.
///
/// Every failure caused by the contents of a file or by the file system is reported
/// through this type, never through a trap. `description` reads
/// `"<path>: <reason>"`, the form the command-line tool prints.
public struct TensorIOError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file the error concerns, or `nil` when the error is not tied to a file
  /// (for example a header parsed from memory).
  public var path: String?
  /// Why the operation failed.
  public var reason: Reason

  /// Creates an error for `reason`, optionally tied to the file at `path`.
  public init(_ reason: Reason, path: String? = nil) {
    self.reason = reason
    self.path = path
  }

  /// The error, tied to `path` unless it already names a file.
  public func naming(_ path: String) -> TensorIOError {
    var copy = self
    if copy.path == nil { copy.path = path }
    return copy
  }

  /// `"<path>: <reason>"`, or the reason alone when no file is named.
  public var description: String {
    if let path { return "\(path): \(reason)" }
    return reason.description
  }

  private static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
  }

  /// One case per distinct reason a file or an operation is refused.
  public enum Reason: Sendable, Equatable, CustomStringConvertible {
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
    /// A system call failed.
    case system(operation: String, errno: Errno)
    /// An argument given by the caller is not valid for this operation.
    case invalidArgument(String)
    /// A write to read-only memory (a read-only mapping), numpy's message.
    case readOnly
    /// The storage was closed; its elements can no longer be accessed.
    case closed
    /// `numpy()` on a tensor that requires grad (PyTorch's message).
    case requiresGrad
    /// Host access to a tensor that lives on a device (PyTorch's message).
    case notOnHost(device: String)
    /// The device does not exist or cannot be used here (no driver, no such index).
    case deviceUnavailable(device: String, reason: String)
    /// A device driver call failed: the call, its result code and the code's name.
    case deviceCall(device: String, call: String, code: Int32, name: String)
    /// A device allocation larger than the memory left on the device.
    case outOfDeviceMemory(device: String, requested: Int, available: Int)
    /// The ZIP container is malformed: missing or inconsistent records, sizes that lie,
    /// duplicate names.
    case archiveStructure(String)
    /// A valid ZIP feature this reader does not support (other methods, encryption,
    /// several disks).
    case unsupportedArchive(String)
    /// A member's bytes do not match the CRC-32 its archive records.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    /// A member name that would escape a folder (absolute, or with a `..` component).
    case unsafeMemberName(String)
    /// A deflate stream goes on past the size its npy header declares.
    case inflateOverrun(declared: Int)
    /// A deflate stream is corrupt.
    case inflateFailed(String)
    /// No member of that name.
    case memberNotFound(String)

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
      case .tooManyDimensions(let count):
        return "\(count) dimensions, more than the supported 64"
      case .shapeOverflow(let shape): return "array is too big: shape \(shape) overflows"
      case .invalidFortranOrder(let value): return "fortran_order is not a valid bool: \(value)"
      case .invalidDescr(let descr): return "descr is not a valid dtype descriptor: \(descr)"
      case .objectDType:
        return "object arrays (descr '|O') need pickle and are not supported"
      case .unsupportedDType(let descr): return "unsupported dtype: \(descr)"
      case .truncatedData(let expected, let available):
        return "truncated data: header promises \(expected) bytes, file has \(available)"
      case .system(let operation, let errno): return "\(operation): \(errno)"
      case .invalidArgument(let detail): return detail
      case .readOnly: return "assignment destination is read-only"
      case .closed: return "the storage was closed"
      case .requiresGrad:
        return "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
      case .notOnHost(let device):
        return "can't convert \(device) device type tensor to numpy. "
          + "Use Tensor.cpu() to copy the tensor to host memory first."
      case .deviceUnavailable(let device, let reason): return "\(device): \(reason)"
      case .deviceCall(let device, let call, let code, let name): return "\(device): \(call) failed: \(name) (\(code))"
      case .outOfDeviceMemory(let device, let requested, let available):
        return "\(device): out of memory: tried to allocate \(requested) bytes, \(available) free"
      case .archiveStructure(let detail): return "malformed zip archive: \(detail)"
      case .unsupportedArchive(let detail): return "unsupported zip archive: \(detail)"
      case .checksumMismatch(let expected, let actual):
        return
          "CRC-32 mismatch: the archive records \(TensorIOError.hex(expected)), the data has \(TensorIOError.hex(actual))"
      case .unsafeMemberName(let name):
        return "unsafe member name '\(name)': absolute or with a '..' component"
      case .inflateOverrun(let declared):
        return "deflate stream continues past the \(declared) bytes its header declares (zip bomb?)"
      case .inflateFailed(let detail): return "corrupt deflate stream: \(detail)"
      case .memberNotFound(let name): return "no member named '\(name)'"
      }
    }
  }
}
