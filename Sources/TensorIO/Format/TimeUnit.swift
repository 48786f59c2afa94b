/// The unit of a numpy `datetime64` or `timedelta64`: a multiple of one of numpy's base
/// units (`[ns]`, `[10s]`), or generic (no unit, `M8`).
public struct TimeUnit: Sendable, Hashable, CustomStringConvertible {
  /// numpy's base units, from years to attoseconds.
  public enum Base: String, Sendable, Hashable, CaseIterable {
    case year = "Y"
    case month = "M"
    case week = "W"
    case day = "D"
    case hour = "h"
    case minute = "m"
    case second = "s"
    case millisecond = "ms"
    case microsecond = "us"
    case nanosecond = "ns"
    case picosecond = "ps"
    case femtosecond = "fs"
    case attosecond = "as"

    /// Whether the unit's length depends on the calendar (years, months).
    public var isCalendar: Bool { self == .year || self == .month }
  }

  /// The base unit, or nil for generic.
  public var base: Base?
  /// How many base units one step is (`10` in `[10s]`); 1 for generic.
  public var multiplier: Int

  /// A unit of `multiplier` `base`s.
  public init(_ base: Base?, multiplier: Int = 1) {
    self.base = base
    self.multiplier = base == nil ? 1 : multiplier
  }

  /// The generic unit (`M8`, `m8`): numpy's unit-less datetime, whose arrays hold NaT.
  public static let generic = TimeUnit(nil)

  /// The bracketed suffix numpy writes: `[ns]`, `[10s]`, or nothing for generic.
  public var description: String {
    guard let base else { return "" }
    return multiplier == 1 ? "[\(base.rawValue)]" : "[\(multiplier)\(base.rawValue)]"
  }

  /// Parses the part of a type string after `M8` / `m8`: empty (generic) or
  /// `[<multiplier><unit>]`; nil when it is not one numpy accepts.
  init?(suffix: Substring) {
    if suffix.isEmpty {
      self = .generic
      return
    }
    guard suffix.first == "[", suffix.last == "]" else { return nil }
    let inner = suffix.dropFirst().dropLast()
    let digits = inner.prefix { $0.isASCII && $0.isNumber }
    let name = inner.dropFirst(digits.count)
    guard let base = Base(rawValue: String(name)) else { return nil }
    var multiplier = 1
    if !digits.isEmpty {
      // numpy accepts leading zeros and a zero multiplier ([0s]; nothing casts from it).
      guard digits.count <= 9, let value = Int(digits), value >= 0 else { return nil }
      multiplier = value
    }
    self.init(base, multiplier: multiplier)
  }
}
