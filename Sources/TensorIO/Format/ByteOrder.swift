/// The byte order of a dtype's multi-byte values, as numpy's `<`, `>` and `|`.
public enum ByteOrder: Sendable, Hashable {
  /// Least significant byte first (`<`).
  case little
  /// Most significant byte first (`>`).
  case big
  /// Byte order does not apply: one-byte types, byte strings, raw bytes (`|`).
  case notApplicable

  /// The byte order of the machine running this code.
  public static var native: ByteOrder {
    #if _endian(little)
      return .little
    #else
      return .big
    #endif
  }

  /// numpy's character for this order: `<`, `>` or `|`.
  public var character: Character {
    switch self {
    case .little: return "<"
    case .big: return ">"
    case .notApplicable: return "|"
    }
  }

  /// Whether values in this order must be byte-swapped to be read on this machine.
  @inlinable
  public var needsSwap: Bool {
    switch self {
    case .little:
      #if _endian(little)
        return false
      #else
        return true
      #endif
    case .big:
      #if _endian(little)
        return true
      #else
        return false
      #endif
    case .notApplicable: return false
    }
  }
}
