/// Why a zip archive (an `.npz`) cannot be read or written, or an archive operation is
/// refused.
public enum ArchiveError: Sendable, Equatable, CustomStringConvertible {
  /// The ZIP container is malformed: missing or inconsistent records, sizes that lie,
  /// duplicate names.
  case structure(String)
  /// A valid ZIP feature this reader does not support (other methods, encryption,
  /// several disks).
  case unsupported(String)
  /// A member's bytes do not match the CRC-32 its archive records.
  case checksumMismatch(expected: UInt32, actual: UInt32)
  /// A member name that would escape a folder (absolute, or with a `..` component).
  case unsafeMemberName(String)
  /// A member name the archive cannot hold: empty, a duplicate, too long, or one the
  /// reader would refuse.
  case invalidMemberName(String, reason: String)
  /// A deflate stream goes on past the size its npy header declares.
  case inflateOverrun(declared: Int)
  /// A deflate stream is corrupt.
  case inflateFailed(String)
  /// zlib refused to compress: the call and its status code.
  case deflateFailed(call: String, status: Int32)
  /// A compression level outside 1...9 (or -1, zlib's default).
  case invalidCompressionLevel(Int)
  /// No member of that name.
  case memberNotFound(String)
  /// A member grew past 4 GiB without the ZIP64 header that would describe it.
  case needsZip64(member: String)
  /// The member cannot be mapped in place (deflated, or its data misaligned).
  case memberNotMappable(reason: String)
  /// Members are never mapped read-write: a write would invalidate the CRC-32 the
  /// archive records.
  case memberNotWritable

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .structure(let detail): return "malformed zip archive: \(detail)"
    case .unsupported(let detail): return "unsupported zip archive: \(detail)"
    case .checksumMismatch(let expected, let actual):
      return "CRC-32 mismatch: the archive records \(hex32(expected)), the data has \(hex32(actual))"
    case .unsafeMemberName(let name): return "unsafe member name '\(name)': absolute or with a '..' component"
    case .invalidMemberName(let name, let reason): return "invalid member name '\(name)': \(reason)"
    case .inflateOverrun(let declared):
      return "deflate stream continues past the \(declared) bytes its header declares (zip bomb?)"
    case .inflateFailed(let detail): return "corrupt deflate stream: \(detail)"
    case .deflateFailed(let call, let status): return "zlib \(call) failed (status \(status))"
    case .invalidCompressionLevel(let level): return "compression level \(level) is not in 1...9 (or -1)"
    case .memberNotFound(let name): return "no member named '\(name)'"
    case .needsZip64(let member): return "member '\(member)' compressed past 4 GiB without a ZIP64 header"
    case .memberNotMappable(let reason): return "the member cannot be mapped in place: \(reason)"
    case .memberNotWritable:
      return "npz members cannot be mapped read-write (r+): writes would invalidate the archive's CRC-32; "
        + "map copy-on-write (c) or extract the member"
    }
  }
}
