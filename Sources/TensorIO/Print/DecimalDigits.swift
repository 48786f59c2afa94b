/// The decimal digits of a binary floating-point value, as numpy's Dragon4 produces
/// them: the shortest digits that read back to the same value (the closest such when
/// several have that length), or the exact value rounded half to even at a digit
/// position.
///
/// The value is `0.d₁d₂…dₙ × 10^pointPosition`; `digits` has no leading or trailing
/// zeros, and is empty for zero.
struct DecimalDigits: Equatable {
  /// The significant digits, each 0 to 9.
  var digits: [UInt8]
  /// Where the decimal point goes: the number of digits before it (negative when the
  /// value is below 0.1).
  var pointPosition: Int

  /// Zero.
  static let zero = DecimalDigits(digits: [], pointPosition: 0)

  /// Whether the value is zero.
  var isZero: Bool { digits.isEmpty }

  /// Digits after the decimal point.
  var fractionDigitCount: Int { max(0, digits.count - pointPosition) }

  /// Digits after the first significant one (scientific notation's fraction).
  var significantFractionCount: Int { max(0, digits.count - 1) }

  /// The digit at decimal position `position` (0 is the first digit after the point,
  /// -1 the units digit), 0 outside the digits.
  func digit(atFractionIndex index: Int) -> UInt8 {
    let i = pointPosition + index
    return i >= 0 && i < digits.count ? digits[i] : 0
  }

  /// Builds digits from a decimal text `1.25e-05`, `0.001`, `123.0` (no sign, finite).
  init?(text: Substring) {
    var mantissa = text
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      guard let value = Int(text[text.index(after: e)...]) else { return nil }
      exponent = value
      mantissa = text[..<e]
    }
    var all: [UInt8] = []
    var point: Int?
    for c in mantissa.utf8 {
      if c == UInt8(ascii: ".") {
        point = all.count
      } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
        all.append(c - UInt8(ascii: "0"))
      } else {
        return nil
      }
    }
    self.init(digits: all, pointPosition: (point ?? all.count) + exponent)
    normalize()
  }

  init(digits: [UInt8], pointPosition: Int) {
    self.digits = digits
    self.pointPosition = pointPosition
  }

  /// Removes leading zeros (moving the point) and trailing zeros.
  mutating func normalize() {
    let leading = digits.prefix { $0 == 0 }.count
    if leading == digits.count {
      self = .zero
      return
    }
    digits.removeFirst(leading)
    pointPosition -= leading
    while digits.last == 0 { digits.removeLast() }
  }

  /// The value rounded half to even to `kept` significant digits (`kept` may be zero
  /// or negative: the rounding position lies before the first digit). A dropped lone
  /// "5" is a tie, so the digits should be the exact value's there.
  func rounded(keeping kept: Int) -> DecimalDigits {
    guard kept < digits.count else { return self }
    if kept < 0 { return .zero }
    let first = digits[kept]
    let rest = digits[(kept + 1)...].contains { $0 != 0 }
    let previousIsOdd = kept > 0 && digits[kept - 1] % 2 == 1
    let roundUp = first > 5 || (first == 5 && (rest || previousIsOdd))
    var result = DecimalDigits(digits: Array(digits[..<kept]), pointPosition: pointPosition)
    if roundUp {
      var i = kept - 1
      while i >= 0 && result.digits[i] == 9 {
        result.digits[i] = 0
        i -= 1
      }
      if i >= 0 {
        result.digits[i] += 1
      } else {
        result.digits.insert(1, at: 0)
        result.pointPosition += 1
      }
    }
    result.normalize()
    return result
  }

  /// Rounded to `count` digits after the decimal point.
  func rounded(fractionDigits count: Int) -> DecimalDigits {
    rounded(keeping: pointPosition + count)
  }

  /// Rounded to `count` digits after the first significant one.
  func rounded(significantFraction count: Int) -> DecimalDigits {
    rounded(keeping: count + 1)
  }
}

/// A binary floating-point type whose values numpy prints: its shortest digits and its
/// exact decimal expansion.
protocol PrintableFloat: BinaryFloatingPoint, LosslessStringConvertible, Sendable {}

extension Float16: PrintableFloat {}
extension Float: PrintableFloat {}
extension Double: PrintableFloat {}
extension Float80: PrintableFloat {}

extension PrintableFloat {
  /// The shortest digits of `|self|` that read back to `self` (Swift's description
  /// gives those; it picks the closest of equally short ones, as Dragon4 does).
  var shortestDigits: DecimalDigits {
    guard !isZero else { return .zero }
    let text = magnitude.description
    // Swift prints integral values below about 2^(significand bits + 2) in full
    // (`33024.0` for Float16), where Dragon4 stops at the shortest digits (`3.302e+04`).
    if !text.contains("e"), magnitude.ulp > 1, let value = UInt128(exactly: magnitude),
      let ulp = UInt128(exactly: magnitude.ulp)
    {
      return Self.shortestIntegral(value, ulp: ulp, powerOfTwo: significandBitPattern == 0)
    }
    return DecimalDigits(text: Substring(text)) ?? exactDigits
  }

  /// The shortest digits of an integral value whose neighbours are `ulp` apart (`ulp /
  /// 2` below a power of two): the value rounded half to even to the fewest
  /// significant digits that stay strictly inside its rounding interval, as Dragon4.
  private static func shortestIntegral(_ value: UInt128, ulp: UInt128, powerOfTwo: Bool) -> DecimalDigits {
    let text = String(value)
    let above = ulp / 2
    let below = powerOfTwo ? ulp / 4 : ulp / 2
    var divisor: UInt128 = 1
    for _ in 1..<text.count { divisor *= 10 }
    while divisor > 1 {
      var q = value / divisor
      let r = value % divisor
      if r > divisor / 2 || (r == divisor / 2 && q % 2 == 1) { q += 1 }
      let (candidate, overflow) = q.multipliedReportingOverflow(by: divisor)
      if !overflow && (candidate >= value ? candidate - value < above : value - candidate < below) {
        return DecimalDigits(text: Substring(String(candidate))) ?? .zero
      }
      divisor /= 10
    }
    return DecimalDigits(text: Substring(text)) ?? .zero
  }

  /// Every digit of `|self|` (a binary fraction always has a finite expansion).
  var exactDigits: DecimalDigits {
    guard isFinite, !isZero else { return .zero }
    let fractionBits = Self.significandBitCount
    let bias = (1 << (Self.exponentBitCount - 1)) - 1
    let rawExponent = Int(exponentBitPattern)
    var mantissa = UInt64(significandBitPattern)
    if rawExponent != 0 { mantissa |= UInt64(1) << UInt64(fractionBits) }
    let binaryExponent = (rawExponent == 0 ? 1 : rawExponent) - bias - fractionBits
    var number = DecimalBigInt(mantissa)
    var fractionDigits = 0
    if binaryExponent >= 0 {
      number.multiply(byPowerOf: 2, count: binaryExponent)
    } else {
      // m / 2^k = m·5^k / 10^k.
      number.multiply(byPowerOf: 5, count: -binaryExponent)
      fractionDigits = -binaryExponent
    }
    let all = number.decimalDigits
    var result = DecimalDigits(digits: all, pointPosition: all.count - fractionDigits)
    result.normalize()
    return result
  }

  /// `|self|` rounded half to even at `kept` significant digits of its exact value.
  /// The shortest digits give the answer unless they end exactly on the rounding
  /// boundary (a "5" right after the kept digits): a boundary strictly between them
  /// and the value would be a shorter or closer representation.
  func roundedDigits(keeping kept: (DecimalDigits) -> Int) -> DecimalDigits {
    let shortest = shortestDigits
    let position = kept(shortest)
    // Past the shortest digits (numpy's `min_digits`) the digits are the value's own.
    let pastShortest = position >= shortest.digits.count
    let onBoundary = position >= 0 && position == shortest.digits.count - 1 && shortest.digits[position] == 5
    guard pastShortest || onBoundary else { return shortest.rounded(keeping: position) }
    let exact = exactDigits
    return exact.rounded(keeping: kept(exact))
  }
}

/// A non-negative integer in base 10^9 limbs (least significant first), for exact
/// decimal expansions: only multiplication by small factors is needed.
struct DecimalBigInt {
  private static let limbBase: UInt64 = 1_000_000_000
  private var limbs: [UInt32]

  init(_ value: UInt64) {
    limbs = []
    var v = value
    repeat {
      limbs.append(UInt32(v % Self.limbBase))
      v /= Self.limbBase
    } while v > 0
  }

  /// Multiplies by `factor` (below 2^32).
  mutating func multiply(by factor: UInt32) {
    var carry: UInt64 = 0
    for i in limbs.indices {
      let product = UInt64(limbs[i]) * UInt64(factor) + carry
      limbs[i] = UInt32(product % Self.limbBase)
      carry = product / Self.limbBase
    }
    while carry > 0 {
      limbs.append(UInt32(carry % Self.limbBase))
      carry /= Self.limbBase
    }
  }

  /// Multiplies by `base^count` (base 2 or 5), in steps that fit 32 bits.
  mutating func multiply(byPowerOf base: UInt32, count: Int) {
    let (stepPower, stepExponent): (UInt32, Int) = base == 2 ? (1 << 29, 29) : (1_220_703_125, 13)
    var remaining = count
    while remaining >= stepExponent {
      multiply(by: stepPower)
      remaining -= stepExponent
    }
    var last: UInt32 = 1
    for _ in 0..<remaining { last *= base }
    if last > 1 { multiply(by: last) }
  }

  /// The decimal digits, most significant first, without leading zeros.
  var decimalDigits: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(limbs.count * 9)
    for (n, limb) in limbs.reversed().enumerated() {
      var chunk = [UInt8](repeating: 0, count: 9)
      var v = limb
      for i in stride(from: 8, through: 0, by: -1) {
        chunk[i] = UInt8(v % 10)
        v /= 10
      }
      if n == 0 {
        out.append(contentsOf: chunk.drop { $0 == 0 })
      } else {
        out.append(contentsOf: chunk)
      }
    }
    return out
  }
}
