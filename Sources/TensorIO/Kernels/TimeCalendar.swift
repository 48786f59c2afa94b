/// numpy's calendar arithmetic for datetimes (its `npy_datetimestruct` conversions),
/// replicated step for step, wrapping where numpy's int64 arithmetic wraps, so that casts
/// to and from years and months agree with numpy's `astype` even where the values
/// overflow.
enum TimeCalendar {
  /// A proleptic Gregorian date: the date part of numpy's `npy_datetimestruct`.
  struct Date: Equatable {
    /// The year; numpy marks NaT by the smallest int64 here.
    var year: Int64
    /// The month, 1 to 12.
    var month: Int64
    /// The day of the month, from 1.
    var day: Int64
  }

  /// Days in each month of a common and of a leap year.
  private static let monthLengths: [[Int64]] = [
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  ]

  /// Whether `year` is a leap year of the proleptic Gregorian calendar.
  static func isLeap(_ year: Int64) -> Bool {
    year & 3 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  /// numpy's `extract_unit_64`: `value` divided by `unit` (> 0) rounded toward negative
  /// infinity, and the non-negative remainder.
  static func extract(_ value: Int64, _ unit: Int64) -> (quotient: Int64, remainder: Int64) {
    var quotient = value / unit
    var remainder = value % unit
    if remainder < 0 {
      remainder += unit
      quotient -= 1
    }
    return (quotient, remainder)
  }

  /// The date of a datetime's step (numpy's `convert_datetime_to_datetimestruct`, date
  /// part); the value is not NaT. The time of day is dropped: numpy uses it only for
  /// units finer than a day, which a calendar cast does not produce from it.
  static func date(of value: Int64, unit: TimeUnit) -> Date {
    guard let base = unit.base else { return Date(year: 1970, month: 1, day: 1) }
    let steps = value &* Int64(unit.multiplier)
    switch base {
    case .year: return Date(year: 1970 &+ steps, month: 1, day: 1)
    case .month:
      let (years, month) = extract(steps, 12)
      return Date(year: 1970 &+ years, month: month + 1, day: 1)
    case .week: return date(fromDays: steps &* 7)
    case .day: return date(fromDays: steps)
    case .femtosecond, .attosecond:
      // numpy's whole range of these units lies within a few hours of the epoch.
      return steps < 0 ? Date(year: 1969, month: 12, day: 31) : Date(year: 1970, month: 1, day: 1)
    default:
      return date(fromDays: extract(steps, stepsPerDay(base)).quotient)
    }
  }

  /// How many steps of a unit from hours to picoseconds make a day.
  private static func stepsPerDay(_ base: TimeUnit.Base) -> Int64 {
    switch base {
    case .hour: return 24
    case .minute: return 1_440
    case .second: return 86_400
    case .millisecond: return 86_400_000
    case .microsecond: return 86_400_000_000
    case .nanosecond: return 86_400_000_000_000
    default: return 86_400_000_000_000_000
    }
  }

  /// The datetime of the start of `date` in `unit` (numpy's
  /// `convert_datetimestruct_to_datetime` at midnight), NaT for NaT's year.
  static func value(of date: Date, unit: TimeUnit) -> Int64 {
    guard date.year != TimeCast.notATime, let base = unit.base else { return TimeCast.notATime }
    let result: Int64
    switch base {
    case .year: result = date.year &- 1970
    case .month: result = 12 &* (date.year &- 1970) &+ (date.month - 1)
    case .week:
      let days = days(of: date)
      result = days >= 0 ? days / 7 : (days &- 6) / 7
    case .day: result = days(of: date)
    case .femtosecond, .attosecond:
      result = 0  // unreachable: numpy refuses calendar casts to these units
    default: result = days(of: date) &* stepsPerDay(base)
    }
    let multiplier = Int64(unit.multiplier)
    guard multiplier > 1 else { return result }
    return result >= 0 ? result / multiplier : (result &- multiplier &+ 1) / multiplier
  }

  /// Days since 1970-01-01 of `date` (numpy's `get_datetimestruct_days`).
  static func days(of date: Date) -> Int64 {
    let year = date.year &- 1970
    let days = year &* 365
    var total: Int64
    if days >= 0 {
      // Leap days since 1968, less the century years since 1900, plus the 400-year ones
      // since 1600. Where `year * 365` wraps to a non-negative value for a negative
      // year, numpy's build (its compiler assuming no overflow, so a non-negative year)
      // divides by 4 with an arithmetic shift and by 400 unsigned: replicated here.
      let quarter = (year &+ 1) >> 2
      let centuries = (year &+ 69) / 100
      let quadCenturies = Int64(bitPattern: UInt64(bitPattern: year &+ 369) / 400)
      total = days &+ quarter &- centuries &+ quadCenturies
    } else {
      total = days &+ (year &- 2) / 4 &- (year &- 30) / 100 &+ (year &- 30) / 400
    }
    let lengths = monthLengths[isLeap(date.year) ? 1 : 0]
    for month in 0..<Int(max(0, min(12, date.month - 1))) {
      total &+= lengths[month]
    }
    return total &+ (date.day - 1)
  }

  /// The date of day `days` since 1970-01-01 (numpy's `set_datetimestruct_days`).
  static func date(fromDays days: Int64) -> Date {
    let (year, dayOfYear) = yearAndDay(days)
    var remaining = dayOfYear
    for (index, length) in monthLengths[isLeap(year) ? 1 : 0].enumerated() {
      if remaining < length { return Date(year: year, month: Int64(index) + 1, day: remaining + 1) }
      remaining -= length
    }
    return Date(year: year, month: 1, day: 1)  // unreachable: a day of the year is below 366
  }

  /// The year of day `days` and the day within it (numpy's `days_to_yearsdays`).
  private static func yearAndDay(_ daysSinceEpoch: Int64) -> (Int64, Int64) {
    let per400Years: Int64 = 400 * 365 + 100 - 4 + 1
    var days = daysSinceEpoch &- (365 * 30 + 7)  // relative to 2000-01-01
    var year: Int64
    if days >= 0 {
      year = 400 &* (days / per400Years)
      days %= per400Years
    } else {
      year = 400 &* ((days &- (per400Years - 1)) / per400Years)
      days %= per400Years
      if days < 0 { days += per400Years }
    }
    if days >= 366 {
      year &+= 100 * ((days - 1) / (100 * 365 + 25 - 1))
      days = (days - 1) % (100 * 365 + 25 - 1)
      if days >= 365 {
        year &+= 4 * ((days + 1) / (4 * 365 + 1))
        days = (days + 1) % (4 * 365 + 1)
        if days >= 366 {
          year &+= (days - 1) / 365
          days = (days - 1) % 365
        }
      }
    }
    return (year &+ 2000, days)
  }
}
