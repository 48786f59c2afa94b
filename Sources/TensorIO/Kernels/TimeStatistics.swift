/// What `inspect --stats` reports for a `datetime64` or `timedelta64` array: the count,
/// NaT (counted and left out, as NaN is for floats), and the earliest and latest values.
public struct TimeStatistics: Sendable, Hashable {
  /// Elements, NaT included.
  public var count: Int
  /// NaT elements.
  public var natCount: Int
  /// The smallest value that is not NaT, as a count of the dtype's unit; nil when every
  /// element is NaT (or there are none).
  public var min: Int64?
  /// The largest value that is not NaT.
  public var max: Int64?

  /// The statistics of `array`, whose dtype must be a time dtype.
  public static func compute(_ array: NDArray) throws(TensorIOError) -> TimeStatistics {
    guard array.dtype.isTime else {
      throw TensorIOError(.notNumeric(operation: "time statistics", dtype: array.dtype.name))
    }
    var stats = TimeStatistics(count: array.count, natCount: 0, min: nil, max: nil)
    var low = Int64.max
    var high = Int64.min
    var seen = false
    try Conversion.stream(array, to: array.dtype.withByteOrder(.native), order: .c) {
      (piece: UnsafeRawBufferPointer) throws(TensorIOError) in
      for k in 0..<(piece.count / 8) {
        let value = piece.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self)
        if value == TimeCast.notATime {
          stats.natCount += 1
        } else {
          seen = true
          low = Swift.min(low, value)
          high = Swift.max(high, value)
        }
      }
    }
    if seen {
      stats.min = low
      stats.max = high
    }
    return stats
  }
}

extension DType {
  /// A value of this time dtype as numpy prints it: a datetime as ISO 8601 at the
  /// unit's precision (`2024-01-01T00:00:00.500000000` for `[ns]`, `2024-01` for `[M]`),
  /// a timedelta as a count and unit (`30 seconds` for 3 of `[10s]`); `NaT` for NaT.
  /// Nil for other dtypes.
  public func formatTime(_ value: Int64) -> String? {
    switch kind {
    case .datetime(let unit): return value == TimeCast.notATime ? "NaT" : TimeFormat.date(value, unit: unit)
    case .timedelta(let unit): return value == TimeCast.notATime ? "NaT" : TimeFormat.duration(value, unit: unit)
    default: return nil
    }
  }
}

/// numpy's printing of datetimes and timedeltas.
enum TimeFormat {
  static func duration(_ value: Int64, unit: TimeUnit) -> String {
    guard let base = unit.base else { return "\(value) generic time units" }
    let names: [TimeUnit.Base: String] = [
      .year: "years", .month: "months", .week: "weeks", .day: "days", .hour: "hours", .minute: "minutes",
      .second: "seconds", .millisecond: "milliseconds", .microsecond: "microseconds", .nanosecond: "nanoseconds",
      .picosecond: "picoseconds", .femtosecond: "femtoseconds", .attosecond: "attoseconds",
    ]
    let total = Int128(value) * Int128(unit.multiplier)
    return "\(total) \(names[base] ?? base.rawValue)"
  }

  static func date(_ value: Int64, unit: TimeUnit) -> String {
    guard let base = unit.base else { return "\(value)" }
    let steps = Int128(value) * Int128(unit.multiplier)
    // Zero-padded to `width` characters, the sign included (numpy prints year -1 as "-001").
    func pad(_ n: Int128, _ width: Int) -> String {
      let digits = String(n < 0 ? -n : n)
      let sign = n < 0 ? "-" : ""
      return sign + String(repeating: "0", count: Swift.max(0, width - sign.count - digits.count)) + digits
    }
    switch base {
    case .year: return pad(1970 + steps, 4)
    case .month:
      let (q, r) = floorDivMod(steps, 12)
      return pad(1970 + q, 4) + "-" + pad(r + 1, 2)
    default: break
    }
    // Units of a day or shorter: whole days, then the time of day in this unit.
    // Steps per day, and the digits of a second the unit prints.
    let (perDay, fraction): (Int128, Int) =
      switch base {
      case .week: (0, 0)
      case .day, .year, .month: (1, 0)
      case .hour: (24, 0)
      case .minute: (1_440, 0)
      case .second: (86_400, 0)
      case .millisecond: (86_400_000, 3)
      case .microsecond: (86_400_000_000, 6)
      case .nanosecond: (86_400_000_000_000, 9)
      case .picosecond: (86_400_000_000_000_000, 12)
      case .femtosecond: (86_400_000_000_000_000_000, 15)
      case .attosecond: (86_400_000_000_000_000_000_000, 18)
      }
    let (days, within) = base == .week ? (steps * 7, Int128(0)) : floorDivMod(steps, perDay)
    guard days >= Int128(Int64.min / 2), days <= Int128(Int64.max / 2) else { return "\(value)" }
    let date = TimeCalendar.date(fromDays: Int64(days))
    var text = pad(Int128(date.year), 4) + "-" + pad(Int128(date.month), 2) + "-" + pad(Int128(date.day), 2)
    if base == .week || base == .day { return text }
    // Time of day: seconds since midnight and the sub-second part.
    let unitsPerSecond = pow10(fraction)
    let seconds: Int128
    let sub: Int128
    switch base {
    case .hour: (seconds, sub) = (within * 3_600, 0)
    case .minute: (seconds, sub) = (within * 60, 0)
    default: (seconds, sub) = (within / unitsPerSecond, within % unitsPerSecond)
    }
    text += "T" + pad(seconds / 3_600, 2)
    if base == .hour { return text }
    text += ":" + pad(seconds % 3_600 / 60, 2)
    if base == .minute { return text }
    text += ":" + pad(seconds % 60, 2)
    if fraction > 0 { text += "." + pad(sub, fraction) }
    return text
  }

  private static func pow10(_ n: Int) -> Int128 {
    var value: Int128 = 1
    for _ in 0..<n { value *= 10 }
    return value
  }

  private static func floorDivMod(_ a: Int128, _ b: Int128) -> (Int128, Int128) {
    var q = a / b
    var r = a % b
    if r < 0 {
      q -= 1
      r += b
    }
    return (q, r)
  }
}
