import SystemPackage

/// An error raised by TensorIO: the file it concerns (when there is one) and the reason.
///
/// Every failure caused by the contents of a file or by the file system is reported
/// through this type, never through a trap. `description` reads
/// `"<path>: <reason>"`, the form the command-line tool prints.
///
/// Reasons are grouped by domain, each a typed enum with a case per reason: what is
/// wrong with an `.npy` file's bytes (`FormatError`), with a zip archive
/// (`ArchiveError`), with what a caller asked of an array (`ArrayError`), with access
/// to a tensor's storage (`AccessError`), with a device (`DeviceError`), with a
/// `.safetensors` file (`SafetensorsError`), and the system calls that failed. Match on the domain and then the case:
///
/// ```swift
/// catch let error as TensorIOError {
///   if case .format(.truncatedData(let expected, _)) = error.reason { ... }
/// }
/// ```
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

  /// An error about an `.npy` file's bytes.
  public init(_ reason: FormatError, path: String? = nil) { self.init(.format(reason), path: path) }
  /// An error about a zip archive.
  public init(_ reason: ArchiveError, path: String? = nil) { self.init(.archive(reason), path: path) }
  /// An error about what was asked of an array.
  public init(_ reason: ArrayError, path: String? = nil) { self.init(.array(reason), path: path) }
  /// An error about access to a tensor's storage.
  public init(_ reason: AccessError, path: String? = nil) { self.init(.access(reason), path: path) }
  /// An error about a device.
  public init(_ reason: DeviceError, path: String? = nil) { self.init(.device(reason), path: path) }
  /// An error about a `.safetensors` file.
  public init(_ reason: SafetensorsError, path: String? = nil) { self.init(.safetensors(reason), path: path) }

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

  /// Why an operation failed: the domain, then the domain's reason.
  public enum Reason: Sendable, Equatable, CustomStringConvertible {
    /// The bytes of an `.npy` file (or member) are not a valid array.
    case format(FormatError)
    /// A zip archive is malformed or unsupported, or an archive operation is refused.
    case archive(ArchiveError)
    /// What was asked of an array does not fit it (index, shape, dtype).
    case array(ArrayError)
    /// The tensor's storage cannot be accessed that way.
    case access(AccessError)
    /// A device is unavailable or a driver call failed.
    case device(DeviceError)
    /// A `.safetensors` file is malformed, or cannot hold what is written.
    case safetensors(SafetensorsError)
    /// A system call failed: what was being done, and `errno`.
    case system(operation: String, errno: Errno)
    /// The path names something other than a regular file (a folder, a FIFO, a device).
    case notRegularFile
    /// A file is already at a destination that is not to be overwritten.
    case destinationExists
    /// An internal invariant did not hold (a bug in TensorIO, not a property of any
    /// file): reported rather than trapping.
    case internalFailure(String)

    /// A short, human-readable statement of the reason.
    public var description: String {
      switch self {
      case .format(let reason): return reason.description
      case .archive(let reason): return reason.description
      case .array(let reason): return reason.description
      case .access(let reason): return reason.description
      case .device(let reason): return reason.description
      case .safetensors(let reason): return reason.description
      case .system(let operation, let errno): return "\(operation): \(errno)"
      case .notRegularFile: return "not a regular file"
      case .destinationExists: return "exists (not overwritten without --force)"
      case .internalFailure(let detail): return "internal error: \(detail)"
      }
    }
  }
}

/// `0x` and eight hex digits.
func hex32(_ value: UInt32) -> String {
  let digits = String(value, radix: 16)
  return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
