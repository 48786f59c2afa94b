/// numpy's `astype` for `datetime64` and `timedelta64`: between units, and to and from
/// integers. NaT (the smallest int64) stays NaT. To a coarser unit numpy floors (toward
/// negative infinity); to a finer one it multiplies, wrapping on overflow as int64
/// arithmetic does. Datetimes to or from years and months go through the calendar
/// (proleptic Gregorian, as numpy's); timedeltas count a year as 365.2425 days and a
/// month as a twelfth of that, as numpy does.
enum TimeCast {
  /// numpy's NaT.
  static let notATime = Int64.min

  /// Whether `astype` from `source` to `target` is a time cast this handles: between
  /// datetimes, between timedeltas, and between either and integers, floats and bools.
  static func casts(from source: DType, to target: DType) -> Bool {
    switch (source.kind, target.kind) {
    case (.datetime, .datetime), (.timedelta, .timedelta): return true
    case (.datetime, let other), (.timedelta, let other), (let other, .datetime), (let other, .timedelta):
      switch other {
      case .int, .uint, .float, .bool: return true
      default: return false
      }
    default: return false
    }
  }

  /// A float or bool element as numpy turns it into a time value: truncated toward zero,
  /// NaN, infinities and values out of int64's range becoming NaT (the x86-64 C cast's
  /// result, which numpy keeps).
  static func timeValue(_ value: CastValue) -> Int64 {
    func truncated(_ x: Float80) -> Int64 {
      guard x.isFinite, x > -9_223_372_036_854_775_809.0, x < 9_223_372_036_854_775_808.0 else { return notATime }
      return Int64(x.rounded(.towardZero))
    }
    switch value {
    case .bool(let b): return b ? 1 : 0
    case .signed(let i): return i
    case .unsigned(let u): return Int64(truncatingIfNeeded: u)
    case .real(let d): return truncated(Float80(d))
    case .extended(let x): return truncated(x)
    case .complex(let re, _): return truncated(Float80(re))
    case .complexExtended(let re, _): return truncated(re)
    }
  }

  /// Converts `count` contiguous elements between time dtypes and integers (at least
  /// one of `source`, `target` a time dtype; integers are read as their value).
  static func convert(
    _ from: UnsafeRawPointer, _ source: DType, _ to: UnsafeMutableRawPointer, _ target: DType, count: Int
  ) throws(TensorIOError) {
    if case .float = target.kind { return try fromTime(from, source, to, target, count: count) }
    if case .bool = target.kind { return try fromTime(from, source, to, target, count: count) }
    if case .float = source.kind { return try toTime(from, source, to, target, count: count) }
    if case .bool = source.kind { return try toTime(from, source, to, target, count: count) }
    let read = try reader(source)
    let write = try writer(target)
    let transform = try conversion(from: source, to: target)
    for i in 0..<count {
      write(to, i, transform(read(from, i)))
    }
  }

  /// Time values to floats or bools: the int64 count cast as an int64 array would be
  /// (NaT is the smallest int64, as in numpy), by the numeric cast itself.
  private static func fromTime(
    _ from: UnsafeRawPointer, _ source: DType, _ to: UnsafeMutableRawPointer, _ target: DType, count: Int
  ) throws(TensorIOError) {
    try Cast.convert(from, DType(.int(bytes: 8), byteOrder: source.byteOrder), to, target, count: count)
  }

  /// Floats or bools to time values (`timeValue`).
  private static func toTime(
    _ from: UnsafeRawPointer, _ source: DType, _ to: UnsafeMutableRawPointer, _ target: DType, count: Int
  ) throws(TensorIOError) {
    let write = try writer(target)
    let swapIn = source.byteOrder.needsSwap
    func run<S: CastSource>(_: S.Type) {
      for i in 0..<count {
        write(to, i, timeValue(S.load(from: from + i * MemoryLayout<S>.size, swapped: swapIn).castValue))
      }
    }
    switch source.kind {
    case .bool: run(Bool.self)
    case .float(2): run(Float16.self)
    case .float(4): run(Float.self)
    case .float(8): run(Double.self)
    case .float(16): run(Float80.self)
    default: throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
  }

  /// The integer an element is stored as: its width in bytes and whether it is signed.
  private static func integerLayout(_ dtype: DType) -> (width: Int, signed: Bool)? {
    switch dtype.kind {
    case .datetime, .timedelta: return (8, true)
    case .int(let n): return (n, true)
    case .uint(let n): return (n, false)
    default: return nil
    }
  }

  /// How element `i` is read as an Int64 (sign- or zero-extended).
  private static func reader(_ dtype: DType) throws(TensorIOError) -> (UnsafeRawPointer, Int) -> Int64 {
    guard let (width, signed) = integerLayout(dtype) else {
      throw TensorIOError(.cannotCast(from: dtype.name, to: "a time dtype"))
    }
    let swapped = dtype.byteOrder.needsSwap
    return { base, i in
      var raw: UInt64 = 0
      withUnsafeMutableBytes(of: &raw) { bytes in
        var low = UnsafeMutableRawBufferPointer(rebasing: bytes[..<width])
        low.copyMemory(from: UnsafeRawBufferPointer(start: base + i * width, count: width))
        if swapped { low.reverse() }
      }
      let unused = UInt64(64 - 8 * width)
      return signed ? Int64(bitPattern: raw << unused) >> unused : Int64(bitPattern: raw)
    }
  }

  /// How a value is written as element `i` (its low bytes: integers wrap).
  private static func writer(_ dtype: DType) throws(TensorIOError) -> (UnsafeMutableRawPointer, Int, Int64) -> Void {
    guard let (width, _) = integerLayout(dtype) else {
      throw TensorIOError(.cannotCast(from: "a time dtype", to: dtype.name))
    }
    let swapped = dtype.byteOrder.needsSwap
    return { base, i, value in
      var raw = UInt64(bitPattern: value)
      withUnsafeMutableBytes(of: &raw) { bytes in
        var low = UnsafeMutableRawBufferPointer(rebasing: bytes[..<width])
        if swapped { low.reverse() }
        UnsafeMutableRawBufferPointer(start: base + i * width, count: width).copyMemory(
          from: UnsafeRawBufferPointer(low))
      }
    }
  }

  /// The value mapping from `source` to `target`.
  private static func conversion(from source: DType, to target: DType) throws(TensorIOError) -> (Int64) -> Int64 {
    switch (source.kind, target.kind) {
    case (.datetime(let a), .datetime(let b)):
      return try unitConversion(from: a, to: b, calendar: true, source: source, target: target)
    case (.timedelta(let a), .timedelta(let b)):
      return try unitConversion(from: a, to: b, calendar: false, source: source, target: target)
    case (.datetime, .int), (.datetime, .uint), (.timedelta, .int), (.timedelta, .uint),
      (.int, .datetime), (.uint, .datetime), (.int, .timedelta), (.uint, .timedelta):
      return { $0 }
    default:
      throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
  }

  private static func unitConversion(
    from a: TimeUnit, to b: TimeUnit, calendar: Bool, source: DType, target: DType
  ) throws(TensorIOError) -> (Int64) -> Int64 {
    if a == b { return { $0 } }
    guard a.multiplier > 0, b.multiplier > 0 else {
      throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
    guard let baseA = a.base, let baseB = b.base else {
      // Generic units hold only NaT; any other value keeps its count.
      guard a.base == nil else { throw TensorIOError(.cannotCast(from: source.name, to: target.name)) }
      return { $0 }
    }
    if calendar && (baseA.isCalendar || baseB.isCalendar) {
      return { value in
        guard value != notATime else { return notATime }
        let days = toDays(value, unit: a)
        return fromDays(days, unit: b)
      }
    }
    guard let (num, den) = factor(from: a, to: b) else {
      throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
    return { value in
      guard value != notATime else { return notATime }
      return scale(value, num, den)
    }
  }

  /// `(a * ma) / (b * mb)` in lowest terms, as int64 numerator and denominator; nil when
  /// either does not fit (numpy refuses such casts too).
  static func factor(from a: TimeUnit, to b: TimeUnit) -> (Int64, Int64)? {
    guard let baseA = a.base, let baseB = b.base else { return nil }
    let (na, da) = baseA.seconds
    let (nb, db) = baseB.seconds
    var num = UInt128(na) * UInt128(db) * UInt128(a.multiplier)
    var den = UInt128(da) * UInt128(nb) * UInt128(b.multiplier)
    let g = gcd(num, den)
    num /= g
    den /= g
    guard num <= UInt128(Int64.max), den <= UInt128(Int64.max) else { return nil }
    return (Int64(num), Int64(den))
  }

  private static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return max(x, 1)
  }

  /// `value * num / den` as numpy computes it: the product wraps as int64 arithmetic
  /// does, and a negative `value` rounds toward negative infinity by subtracting
  /// `den - 1` first (decided by the sign of `value`, not of the wrapped product).
  @inline(__always)
  static func scale(_ value: Int64, _ num: Int64, _ den: Int64) -> Int64 {
    value < 0 ? (value &* num &- (den &- 1)) / den : (value &* num) / den
  }

  /// `a / b` rounded toward negative infinity (b > 0).
  @inline(__always)
  static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && a < 0) ? q - 1 : q
  }

  /// Days since 1970-01-01 of the start of the step `value` in `unit` (a datetime),
  /// floored for units shorter than a day.
  private static func toDays(_ value: Int64, unit: TimeUnit) -> Int64 {
    guard let base = unit.base else { return value }
    let steps = value &* Int64(unit.multiplier)
    switch base {
    case .year: return daysFromCivil(year: 1970 &+ steps, month: 1, day: 1)
    case .month:
      return daysFromCivil(year: 1970 &+ floorDivide(steps, 12), month: steps - floorDivide(steps, 12) * 12 + 1, day: 1)
    default:
      guard let (num, den) = factor(from: TimeUnit(base), to: TimeUnit(.day)) else { return value }
      return floorDivide(steps &* num, den)
    }
  }

  /// The step of `unit` holding day `days` (a datetime). Finer than a day: the day's
  /// start; numpy converts through days in the same way.
  private static func fromDays(_ days: Int64, unit: TimeUnit) -> Int64 {
    guard let base = unit.base else { return days }
    let multiplier = Int64(unit.multiplier)
    switch base {
    case .year:
      return floorDivide(civilFromDays(days).year &- 1970, multiplier)
    case .month:
      let (year, month) = civilFromDays(days)
      return floorDivide((year &- 1970) &* 12 &+ (month - 1), multiplier)
    default:
      // From years or months to a fixed unit: the first day of that period.
      guard let (num, den) = factor(from: TimeUnit(.day), to: unit) else { return days }
      return floorDivide(days &* num, den)
    }
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
  static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year &- 1 : year
    let era = floorDivide(y, 400)
    let yoe = y &- era &* 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
    return era &* 146_097 &+ doe &- 719_468
  }

  /// The year and month of day `days` since 1970-01-01 (proleptic Gregorian).
  static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64) {
    let z = days &+ 719_468
    let era = floorDivide(z, 146_097)
    let doe = z &- era &* 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe &+ era &* 400 &+ (month <= 2 ? 1 : 0)
    return (year, month)
  }
}
