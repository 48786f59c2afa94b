/// numpy's `str()` of one element (a scalar, or a 0-d array, which prints as its
/// scalar): floats at full shortest precision, strings without quotes, times as
/// dates and durations.
enum ScalarText {
  /// `str()` of the element; for a 0-d array numpy prints bytes by their `repr()`.
  static func string(_ value: PrintValue, dtype: DType, zeroDimensionalArray: Bool = false) -> String {
    switch value {
    case .bool(let b): return b ? "True" : "False"
    case .signed(let n): return String(n)
    case .unsigned(let n): return String(n)
    case .float(let x): return FloatScalarText.string(x)
    case .complex(let re, let im): return complexText(re, im)
    case .bytes(let b):
      return zeroDimensionalArray ? "np.bytes_(" + PyRepr.repr(.bytes(b)) + ")" : PyRepr.repr(.bytes(b))
    case .text(let s): return s
    case .void(let b): return ElementFormat.voidText(b)
    case .time(let t): return dtype.formatTime(t) ?? String(t)
    case .record, .subarray:
      // numpy's `_void_scalar_to_string`: the array formatters over the one element,
      // floats as their scalar `str()`.
      return ElementFormat(
        dtype: dtype, data: [value], options: PrintOptions(), zeroDimensional: true, floatsAsScalars: true
      ).format(value)
    }
  }

  /// numpy's complex scalar `str()`: `1j` for a purely imaginary value with a positive
  /// zero real part, else `(re+imj)`, both parts without a trailing `.0`.
  private static func complexText<T: PrintableFloat>(_ re: T, _ im: any PrintableFloat) -> String {
    guard let im = im as? T else { return "" }
    let imaginary = FloatScalarText.string(im, positionalTrim: .pointAndZeros, scientificTrim: .pointAndZeros)
    if re == 0 && re.sign == .plus { return imaginary + "j" }
    let real = FloatScalarText.string(re, positionalTrim: .pointAndZeros, scientificTrim: .pointAndZeros)
    let signed = FloatScalarText.string(
      im, positionalTrim: .pointAndZeros, scientificTrim: .pointAndZeros, plusSign: true)
    return "(" + real + signed + "j)"
  }
}
