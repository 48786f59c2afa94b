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
  /// datetimes, between timedeltas, and between either and integers, floats, complex
  /// numbers and bools.
  static func casts(from source: DType, to target: DType) -> Bool {
    switch (source.kind, target.kind) {
    case (.datetime, .datetime), (.timedelta, .timedelta): return true
    case (.datetime, let other), (.timedelta, let other), (let other, .datetime), (let other, .timedelta):
      switch other {
      case .int, .uint, .float, .complex, .bool: return true
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
    switch (source.kind, target.kind) {
    case (_, .float), (_, .complex), (_, .bool): return try fromTime(from, source, to, target, count: count)
    case (.float, _), (.complex, _), (.bool, _): return try toTime(from, source, to, target, count: count)
    default: break
    }
    let read = try reader(source)
    let write = try writer(target)
    let transform = try conversion(from: source, to: target)
    for i in 0..<count {
      write(to, i, transform(read(from, i)))
    }
  }

  /// Time values to floats, complex numbers or bools: the int64 count cast as an int64 array would be
  /// (NaT is the smallest int64, as in numpy), by the numeric cast itself.
  private static func fromTime(
    _ from: UnsafeRawPointer, _ source: DType, _ to: UnsafeMutableRawPointer, _ target: DType, count: Int
  ) throws(TensorIOError) {
    try Cast.convert(from, DType(.int(bytes: 8), byteOrder: source.byteOrder), to, target, count: count)
  }

  /// Floats, complex numbers (their real part) or bools to time values (`timeValue`).
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
    case .complex(8): run(Complex<Float>.self)
    case .complex(16): run(Complex<Double>.self)
    case .complex(32): run(Complex<Float80>.self)
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
    // numpy refuses a cast whose conversion factor overflows, calendar casts included.
    guard let (num, den) = factor(from: a, to: b) else {
      throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
    if calendar && (baseA.isCalendar || baseB.isCalendar) {
      return { value in
        guard value != notATime else { return notATime }
        return TimeCalendar.value(of: TimeCalendar.date(of: value, unit: a), unit: b)
      }
    }
    return { value in
      guard value != notATime else { return notATime }
      return scale(value, num, den)
    }
  }

  /// numpy's conversion factor from unit `a` to unit `b` (`get_datetime_conversion_factor`):
  /// `(a * ma) / (b * mb)` in lowest terms, years and months counted by their average
  /// over the 400-year cycle. Nil where numpy reports an overflow: a factor between base
  /// units of 2^56 or more. As in numpy, the multipliers then scale it with wrapping
  /// unsigned arithmetic.
  static func factor(from a: TimeUnit, to b: TimeUnit) -> (Int64, Int64)? {
    guard let baseA = a.base, let baseB = b.base else { return nil }
    let order = TimeUnit.Base.allCases
    guard let indexA = order.firstIndex(of: baseA), let indexB = order.firstIndex(of: baseB) else { return nil }
    let (big, little) = indexA <= indexB ? (baseA, baseB) : (baseB, baseA)
    var num: UInt64 = 1
    var den: UInt64 = 1
    switch (big, little) {
    case _ where big == little: break
    case (.year, .month): num = 12
    case (.year, .week): (num, den) = (146_097, 400 * 7)
    case (.year, _): (num, den) = (146_097 &* baseFactor(from: .day, to: little), 400)
    case (.month, .week): (num, den) = (146_097, 400 * 12 * 7)
    case (.month, _): (num, den) = (146_097 &* baseFactor(from: .day, to: little), 400 * 12)
    default: num = baseFactor(from: big, to: little)
    }
    guard num != 0 else { return nil }
    if indexA > indexB { swap(&num, &den) }
    num &*= UInt64(truncatingIfNeeded: a.multiplier)
    den &*= UInt64(truncatingIfNeeded: b.multiplier)
    let g = gcd(num, den)
    // A denominator wrapped to zero or past int64 (multipliers near a billion) is refused
    // rather than divided by.
    guard den != 0, den / g <= UInt64(Int64.max) else { return nil }
    return (Int64(bitPattern: num / g), Int64(den / g))
  }

  /// How many `little` units make one `big` unit (both from weeks down); 0 when the
  /// product reaches 2^56, numpy's overflow test.
  private static func baseFactor(from big: TimeUnit.Base, to little: TimeUnit.Base) -> UInt64 {
    let steps: [(TimeUnit.Base, UInt64)] = [
      (.week, 7), (.day, 24), (.hour, 60), (.minute, 60), (.second, 1_000), (.millisecond, 1_000),
      (.microsecond, 1_000), (.nanosecond, 1_000), (.picosecond, 1_000), (.femtosecond, 1_000),
    ]
    guard let first = steps.firstIndex(where: { $0.0 == big }) else { return big == little ? 1 : 0 }
    var factor: UInt64 = 1
    for (unit, size) in steps[first...] {
      if unit == little { return factor }
      factor &*= size
      if factor & 0xff00_0000_0000_0000 != 0 { return 0 }
    }
    return factor  // little is attoseconds
  }

  private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
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

}
