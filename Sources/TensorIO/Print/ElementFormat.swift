/// numpy's element formatters (`_get_format_function` in `numpy/_core/arrayprint.py`):
/// one per dtype, built from every element that will be shown so that columns line up.
struct ElementFormat {
  /// Formats one element.
  let format: (PrintValue) -> String

  /// The formatter for `data`, elements of `dtype`. `zeroDimensional`: the data is one
  /// 0-d element (a structured scalar's fields); `floatsAsScalars`: floats print as
  /// their scalar `str()` (numpy's structured scalars do this).
  init(
    dtype: DType, data: [PrintValue], options: PrintOptions, zeroDimensional: Bool = false,
    floatsAsScalars: Bool = false
  ) {
    switch dtype.kind {
    case .bool:
      let trueText = zeroDimensional ? "True" : " True"
      format = { value in
        if case .bool(let b) = value { return b ? trueText : "False" }
        return ""
      }
    case .int, .uint:
      let width = Self.integerWidth(data)
      format = { value in Self.padLeft(Self.integerText(value), width) }
    case .float(2): format = Self.floats(Float16.self, data, options, floatsAsScalars)
    case .float(4): format = Self.floats(Float.self, data, options, floatsAsScalars)
    case .float(8): format = Self.floats(Double.self, data, options, floatsAsScalars)
    case .float: format = Self.floats(Float80.self, data, options, floatsAsScalars)
    case .complex(8): format = Self.complexes(Float.self, data, options)
    case .complex(16): format = Self.complexes(Double.self, data, options)
    case .complex: format = Self.complexes(Float80.self, data, options)
    case .bytes, .unicode:
      format = { value in
        switch value {
        case .bytes(let b): return PyRepr.repr(.bytes(b))
        case .text(let s): return PyRepr.repr(.string(s))
        default: return ""
        }
      }
    case .void:
      format = { value in
        if case .void(let b) = value { return Self.voidText(b) }
        return ""
      }
    case .datetime(let unit):
      format = Self.times(data) { "'" + TimeFormat.date($0, unit: unit) + "'" }
    case .timedelta:
      format = Self.times(data) { String($0) }
    case .structured(let fields, _):
      let columns = fields.enumerated().map { (i, field) -> (PrintValue) -> String in
        let column = data.flatMap { value -> [PrintValue] in
          guard case .record(let parts) = value, i < parts.count else { return [] }
          if case .subarray(_, let values) = parts[i] { return values }
          return [parts[i]]
        }
        let inner = ElementFormat(
          dtype: field.dtype, data: column, options: options, zeroDimensional: zeroDimensional && field.shape.isEmpty,
          floatsAsScalars: floatsAsScalars)
        guard !field.shape.isEmpty else { return inner.format }
        return { value in Self.subarrayText(value, inner.format, options) }
      }
      format = { value in
        guard case .record(let parts) = value else { return "" }
        let texts = zip(parts, columns).map { $1($0) }
        return texts.count == 1 ? "(\(texts[0]),)" : "(" + texts.joined(separator: ", ") + ")"
      }
    }
  }

  /// `str(np.void(b'...'))` for raw bytes: every byte as `\xHH`.
  static func voidText(_ bytes: [UInt8]) -> String {
    "b'" + bytes.map { b in "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true) }.joined() + "'"
  }

  static func integerText(_ value: PrintValue) -> String {
    switch value {
    case .signed(let n): return String(n)
    case .unsigned(let n): return String(n)
    default: return ""
    }
  }

  /// numpy's `IntegerFormat` width: the longer of the largest and smallest values.
  private static func integerWidth(_ data: [PrintValue]) -> Int {
    var signed: [Int64] = []
    var unsigned: [UInt64] = []
    for value in data {
      if case .signed(let n) = value { signed.append(n) }
      if case .unsigned(let n) = value { unsigned.append(n) }
    }
    let ends = [signed.max().map(String.init), signed.min().map(String.init), unsigned.max().map(String.init)]
    return ends.compactMap { $0?.count }.max() ?? 0
  }

  static func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }

  private static func floats<T: PrintableFloat>(
    _: T.Type, _ data: [PrintValue], _ options: PrintOptions, _ asScalars: Bool
  ) -> (PrintValue) -> String {
    if asScalars {
      return { value in (value.floatValue as? T).map { FloatScalarText.string($0) } ?? "" }
    }
    let column = FloatingFormat(
      data.compactMap { $0.floatValue as? T }, precision: options.precision, suppressSmall: false)
    return { value in (value.floatValue as? T).map { column($0) } ?? "" }
  }

  /// numpy's `ComplexFloatingFormat`: the real parts as one column, the imaginary parts
  /// (signed) as another, `j` before the imaginary column's right padding.
  private static func complexes<T: PrintableFloat>(
    _: T.Type, _ data: [PrintValue], _ options: PrintOptions
  ) -> (PrintValue) -> String {
    var reals: [T] = []
    var imaginaries: [T] = []
    for case .complex(let re, let im) in data {
      if let re = re as? T, let im = im as? T {
        reals.append(re)
        imaginaries.append(im)
      }
    }
    let real = FloatingFormat(reals, precision: options.precision, suppressSmall: false)
    let imaginary = FloatingFormat(imaginaries, precision: options.precision, suppressSmall: false, plusSign: true)
    return { value in
      guard case .complex(let re, let im) = value, let re = re as? T, let im = im as? T else { return "" }
      let i = imaginary(im)
      let trimmed = i.reversed().drop { $0 == " " }.count
      return real(re) + i.prefix(trimmed) + "j" + i.dropFirst(trimmed)
    }
  }

  /// numpy's `_TimelikeFormat`: right-aligned to the longer of the largest and smallest
  /// values' texts, NaT as `'NaT'`.
  private static func times(_ data: [PrintValue], _ text: @escaping (Int64) -> String) -> (PrintValue) -> String {
    let values = data.compactMap(\.timeValue)
    let valid = values.filter { $0 != TimeCast.notATime }
    var width = [valid.max(), valid.min()].compactMap { $0.map { text($0).count } }.max() ?? 0
    if valid.count < values.count { width = max(width, 5) }
    return { value in
      guard let t = value.timeValue else { return "" }
      return padLeft(t == TimeCast.notATime ? "'NaT'" : text(t), width)
    }
  }

  /// numpy's `SubArrayFormat`: nested brackets, `, ` between items, summarised past
  /// the threshold.
  private static func subarrayText(
    _ value: PrintValue, _ element: (PrintValue) -> String, _ options: PrintOptions
  ) -> String {
    guard case .subarray(let shape, let values) = value else { return element(value) }
    let summarise = values.count > options.threshold
    func text(_ axis: Int, _ start: Int, _ stride: Int) -> String {
      guard axis < shape.count else { return element(values[start]) }
      let n = shape[axis]
      let inner = stride / max(n, 1)
      var indices = Array(0..<n)
      var parts: [String] = []
      if summarise && options.edgeItems < (n + 1) / 2 {  // n > 2 * edgeItems, without overflow
        indices = Array(0..<options.edgeItems)
        parts = indices.map { text(axis + 1, start + $0 * inner, inner) } + ["..."]
        indices = Array((n - options.edgeItems)..<n)
      }
      parts += indices.map { text(axis + 1, start + $0 * inner, inner) }
      return "[" + parts.joined(separator: ", ") + "]"
    }
    return text(0, 0, values.count)
  }
}
