/// numpy's `FloatingFormat` (default `floatmode='maxprec'`): chooses positional or
/// scientific notation and the padding from every finite value shown, so that a
/// column of numbers lines up.
struct FloatingFormat<T: PrintableFloat> {
  private var scientific = false
  private var text = FloatText()

  /// The format for `data`, under numpy's `precision` and `suppress` options; `plusSign`
  /// for the imaginary parts of complex numbers.
  init(_ data: [T], precision: Int, suppressSmall: Bool, plusSign: Bool = false) {
    text.plusSign = plusSign
    text.precision = precision
    let finite = data.filter(\.isFinite)
    let magnitudes = finite.filter { $0 != 0 }.map(\.magnitude)
    if let largest = magnitudes.max(), let smallest = magnitudes.min() {
      // Compared in the element's own type, as numpy compares its scalars with
      // Python floats. numpy 2.2 on: scientific from 10^min(8, decimal precision of
      // the type) up (1e3 for float16, 1e6 for float32).
      scientific =
        largest >= T(T.scientificCutoff(scalar: false))
        || (!suppressSmall && (smallest < T(0.0001 as Double) || largest / smallest > T(1000 as Double)))
    }
    if finite.isEmpty {
      text.padLeft = 0
      text.padRight = 0
      text.trim = .zeros
      text.exponentDigits = 2
    } else if scientific {
      let probe = FloatText(precision: precision, trim: .zeros, plusSign: plusSign)
      var wholeWidth = 0
      var fractionWidth = 0
      var exponentWidth = 0
      for x in finite {
        let s = probe.scientific(x)
        let (mantissa, exponent) = s.halves(at: "e")
        let (whole, fraction) = mantissa.halves(at: ".")
        wholeWidth = max(wholeWidth, whole.count)
        fractionWidth = max(fractionWidth, fraction.count)
        exponentWidth = max(exponentWidth, exponent.count)
      }
      text.exponentDigits = exponentWidth - 1
      text.trim = .keep
      text.precision = fractionWidth
      text.minDigits = fractionWidth
      text.padLeft = wholeWidth
      text.padRight = text.exponentDigits + 2 + fractionWidth
    } else {
      let probe = FloatText(precision: precision, trim: .zeros, plusSign: plusSign)
      var fractionWidth = 0
      for x in finite {
        let (whole, fraction) = probe.positional(x).halves(at: ".")
        text.padLeft = max(text.padLeft, whole.count)
        fractionWidth = max(fractionWidth, fraction.count)
      }
      text.padRight = fractionWidth
      text.trim = .zeros
      text.minDigits = 0
    }
    if finite.count != data.count {
      // Room for nan and inf (and its sign) in the column.
      let negativeInfinity = plusSign || data.contains { $0.isInfinite && $0 < 0 }
      let offset = (text.padRight ?? 0) + 1
      text.padLeft = max(text.padLeft, 3 - offset, 3 + (negativeInfinity ? 1 : 0) - offset)
    }
  }

  /// One value, padded to the column.
  func callAsFunction(_ x: T) -> String {
    guard x.isFinite else {
      let word = x.isNaN ? (text.plusSign ? "+nan" : "nan") : (x < 0 ? "-inf" : text.plusSign ? "+inf" : "inf")
      return String(repeating: " ", count: max(0, text.padLeft + (text.padRight ?? 0) + 1 - word.count)) + word
    }
    return scientific ? text.scientific(x) : text.positional(x)
  }
}

extension PrintableFloat {
  /// From this magnitude up numpy prints the type in scientific notation: 10 to the
  /// type's decimal precision (numpy 2.2 on), capped at 1e8 in arrays and 1e16 for a
  /// scalar's `str()`.
  static func scientificCutoff(scalar: Bool) -> Double {
    switch significandBitCount {
    case 10: return 1e3
    case 23: return 1e6
    default: return scalar ? 1e16 : 1e8
    }
  }
}

/// numpy's `str()` of a float scalar: the shortest digits, positional from 1e-4 up to
/// the type's cutoff (1e16 for float64: `1.0`, `0.5`), scientific outside (`1e+16`,
/// `1.5e-05`).
enum FloatScalarText {
  /// 1e-4 as a long double, numpy's threshold constant `1.e-4L`.
  private static let smallThreshold = Float80("1e-4") ?? 0.0001

  /// `str(x)` (`positionalTrim` `.leaveOneZero`, scientific `.pointAndZeros`); complex
  /// parts use other trims and a plus sign.
  static func string<T: PrintableFloat>(
    _ x: T, positionalTrim: FloatText.Trim = .leaveOneZero, scientificTrim: FloatText.Trim = .pointAndZeros,
    plusSign: Bool = false
  ) -> String {
    guard x.isFinite else {
      if x.isNaN { return plusSign ? "+nan" : "nan" }
      return x < 0 ? "-inf" : plusSign ? "+inf" : "inf"
    }
    let magnitude = Float80(x).magnitude
    if magnitude == 0 || (magnitude < Float80(T.scientificCutoff(scalar: true)) && magnitude >= smallThreshold) {
      return FloatText(precision: nil, trim: positionalTrim, plusSign: plusSign).positional(x)
    }
    return FloatText(precision: nil, trim: scientificTrim, plusSign: plusSign).scientific(x)
  }
}

extension StringProtocol {
  /// The text before the first `separator` and after it (empty when absent).
  func halves(at separator: Character) -> (SubSequence, SubSequence) {
    guard let i = firstIndex(of: separator) else { return (self[...], self[endIndex...]) }
    return (self[..<i], self[index(after: i)...])
  }
}
