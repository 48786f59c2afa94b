/// numpy's `format_float_positional` and `format_float_scientific` (its Dragon4 printer)
/// for finite values, with the options numpy's array printing passes.
struct FloatText {
  /// What happens to trailing zeros (numpy's `trim`).
  enum Trim {
    /// `'k'`: keep them (and pad to the precision).
    case keep
    /// `'.'`: trim them, keep the decimal point.
    case zeros
    /// `'0'`: trim them, keep one zero after the point.
    case leaveOneZero
    /// `'-'`: trim them and the decimal point.
    case pointAndZeros
  }

  /// Digits after the decimal point (positional) or after the first digit
  /// (scientific) at most; nil for as many as the shortest representation needs.
  var precision: Int?
  /// At least this many such digits (the value's own digits past the shortest ones).
  var minDigits = 0
  /// What happens to trailing zeros.
  var trim: Trim = .zeros
  /// Print `+` before non-negative values.
  var plusSign = false
  /// Pad the whole part (sign included) with spaces on the left to this width.
  var padLeft = 0
  /// Pad the fraction with spaces on the right to this width (positional); nil: no
  /// padding (numpy's -1).
  var padRight: Int?
  /// At least this many exponent digits (scientific; numpy's default is 2).
  var exponentDigits = 2

  /// The digits numpy prints for `|value|`: the shortest, unless they have more
  /// fraction digits than `precision` (then the value rounded there) or fewer than
  /// `minDigits` (then the value's own digits to there).
  private func digits<T: PrintableFloat>(_ value: T, scientific: Bool) -> DecimalDigits {
    let shortest = value.shortestDigits
    let fraction = scientific ? shortest.significantFractionCount : shortest.fractionDigitCount
    var target: Int?
    if let precision, fraction > precision {
      target = precision
    } else if minDigits > fraction {
      target = min(minDigits, precision ?? minDigits)
    }
    guard let target else { return shortest }
    return value.roundedDigits { digits in
      scientific ? target + 1 : digits.pointPosition + target
    }
  }

  private func sign<T: PrintableFloat>(_ value: T) -> String {
    value.sign == .minus ? "-" : plusSign ? "+" : ""
  }

  /// Applies numpy's decimal-point and trailing-zero rules to `fraction` digits.
  /// Returns the text after the whole part and the count of fraction digits.
  private func fractionText(_ fraction: [UInt8], positional: Bool) -> String {
    var digits = fraction
    if digits.count < minDigits { digits += [UInt8](repeating: 0, count: minDigits - digits.count) }
    var point = !(digits.isEmpty && trim == .pointAndZeros)
    if trim == .leaveOneZero && digits.isEmpty {
      digits = [0]
    } else if trim == .keep, let precision, digits.count < precision {
      digits += [UInt8](repeating: 0, count: precision - digits.count)
    }
    // Rounding can leave trailing zeros: trimmed as the mode says.
    if precision != nil && trim != .keep && !digits.isEmpty {
      while digits.last == 0 { digits.removeLast() }
      if digits.isEmpty {
        if trim == .leaveOneZero { digits = [0] }
        if trim == .pointAndZeros { point = false }
      }
    }
    var text = (point ? "." : "") + String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
    if positional, let padRight, padRight >= digits.count {
      if trim == .pointAndZeros && digits.isEmpty { text += " " }
      text += String(repeating: " ", count: padRight - digits.count)
    }
    return text
  }

  private func padded(_ whole: String, _ rest: String) -> String {
    let pad = max(0, padLeft - whole.count)
    return String(repeating: " ", count: pad) + whole + rest
  }

  /// `value` in positional notation (finite).
  func positional<T: PrintableFloat>(_ value: T) -> String {
    let d = digits(value, scientific: false)
    let whole =
      d.pointPosition > 0
      ? String(
        decoding: (0..<d.pointPosition).map { d.digit(atFractionIndex: $0 - d.pointPosition) + 48 }, as: UTF8.self)
      : "0"
    let fraction = (0..<d.fractionDigitCount).map { d.digit(atFractionIndex: $0) }
    let rest = fractionText(fraction, positional: true)
    return padded(sign(value) + whole, rest)
  }

  /// `value` in scientific notation (finite).
  func scientific<T: PrintableFloat>(_ value: T) -> String {
    let d = digits(value, scientific: true)
    let first = d.digits.first ?? 0
    let fraction = Array(d.digits.dropFirst())
    let rest = fractionText(fraction, positional: false)
    let exponent = d.isZero ? 0 : d.pointPosition - 1
    let magnitude = String(abs(exponent))
    let expText =
      (exponent < 0 ? "e-" : "e+") + String(repeating: "0", count: max(0, exponentDigits - magnitude.count)) + magnitude
    return padded(sign(value) + String(first), rest + expText)
  }
}
