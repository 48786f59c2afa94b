/// numpy's print options (`np.set_printoptions`), at numpy's defaults.
public struct PrintOptions: Sendable, Hashable {
  /// Arrays with more elements than this are summarised (`...`).
  public var threshold = 1000
  /// Elements shown at each end of a summarised axis.
  public var edgeItems = 3
  /// Digits after the decimal point at most (the shortest unique digits below that).
  public var precision = 8
  /// Characters per line before wrapping.
  public var lineWidth = 75

  /// numpy's defaults.
  public init() {}

  /// Options with the given values; nil keeps numpy's default.
  public init(threshold: Int? = nil, edgeItems: Int? = nil, precision: Int? = nil, lineWidth: Int? = nil) {
    if let threshold { self.threshold = threshold }
    if let edgeItems { self.edgeItems = edgeItems }
    if let precision { self.precision = precision }
    if let lineWidth { self.lineWidth = lineWidth }
  }
}

extension HostArray {
  /// What `print(a)` prints in numpy 2.x for this array: `str()` of the element for a
  /// 0-d array, else `np.array2string` with numpy's separators, wrapping and
  /// summarisation. Reads only the elements shown. `scalar`: print the 0-d array as
  /// the numpy scalar an element index gives (`a[1, 2]`), whose `str()` differs from a
  /// 0-d array's for bytes (`b'ab'`, not `np.bytes_(b'ab')`).
  public func printed(options: PrintOptions = PrintOptions(), scalar: Bool = false) throws(TensorIOError) -> String {
    let storage = try requireHostStorage()
    try storage.checkOpen()
    let base = UnsafeRawPointer(storage.mutableBase)
    let dtype = self.dtype
    return ArrayPrinter(layout: layout, options: options, scalar: scalar).text { PrintValue.decode(base + $0, dtype) }
  }
}

/// numpy's `array_str`: gathers the elements shown (the corners of a summarised array)
/// and lays them out as `_formatArray` does.
struct ArrayPrinter {
  let layout: ArrayLayout
  let options: PrintOptions
  let scalar: Bool

  /// The positions shown along each axis, and whether the axis is cut (`...`).
  private var shown: (positions: [[Int]], cut: [Bool]) {
    let summarise = layout.count > options.threshold
    let edge = options.edgeItems
    let cut = layout.shape.map { summarise && edge < ($0 + 1) / 2 }  // n > 2 * edge, without overflow
    let positions = zip(layout.shape, cut).map { n, isCut in
      isCut ? Array(0..<edge) + Array((n - edge)..<n) : Array(0..<n)
    }
    return (positions, cut)
  }

  /// The byte offsets (from the storage's start) of the elements printed, in C order of
  /// their positions: the only elements `text` reads.
  var shownOffsets: [Int] {
    guard layout.count > 0 else { return [] }
    var offsets: [Int] = []
    let positions = shown.positions
    func walk(_ axis: Int, _ offset: Int) {
      guard axis < positions.count else { return offsets.append(offset) }
      for p in positions[axis] { walk(axis + 1, offset + p * layout.strides[axis]) }
    }
    walk(0, layout.byteOffset)
    return offsets
  }

  /// The text, reading each element shown through `read` (given its byte offset).
  func text(_ read: (Int) -> PrintValue) -> String {
    let shape = layout.shape
    if shape.isEmpty {
      return ScalarText.string(read(layout.byteOffset), dtype: layout.dtype, zeroDimensionalArray: !scalar)
    }
    if layout.count == 0 { return "[]" }
    let (positions, cut) = shown
    let edge = options.edgeItems
    let data = shownOffsets.map(read)
    let formatter = ElementFormat(dtype: layout.dtype, data: data, options: options)
    let counts = positions.map(\.count)
    var strides = [Int](repeating: 1, count: counts.count)
    for axis in stride(from: counts.count - 2, through: 0, by: -1) {
      strides[axis] = strides[axis + 1] * counts[axis + 1]
    }
    return ArrayLayoutText(
      counts: counts, strides: strides, cut: cut, edge: edge, lineWidth: options.lineWidth,
      word: { formatter.format(data[$0]) }
    ).text()
  }
}

/// numpy's `_formatArray` over the gathered elements: brackets, `' '` separators, rows
/// wrapped at the line width, blank lines between blocks of higher dimensions, and
/// `...` where an axis is cut.
struct ArrayLayoutText {
  let counts: [Int]
  let strides: [Int]
  let cut: [Bool]
  let edge: Int
  let lineWidth: Int
  let word: (Int) -> String

  private let separator = " "

  func text() -> String {
    recurse(axis: 0, start: 0, hangingIndent: " ", width: lineWidth)
  }

  private func items(_ axis: Int) -> (leading: Int, trailing: Int) {
    cut[axis] ? (edge, edge) : (0, counts[axis])
  }

  private func recurse(axis: Int, start: Int, hangingIndent: String, width: Int) -> String {
    if axis == counts.count { return word(start) }
    let nextIndent = hangingIndent + " "
    let nextWidth = width - 1
    let n = counts[axis]
    let (leading, trailing) = items(axis)
    let at = { (i: Int) in start + i * strides[axis] }
    var s = ""
    if axis == counts.count - 1 {
      let elementWidth = width - max(separator.trimmingTrailingSpaces.count, 1)
      var line = hangingIndent
      for i in 0..<leading {
        let w = recurse(axis: axis + 1, start: at(i), hangingIndent: nextIndent, width: nextWidth)
        extendPretty(&s, &line, w, elementWidth, hangingIndent)
        line += separator
      }
      if cut[axis] {
        extend(&s, &line, "...", elementWidth, hangingIndent)
        line += separator
      }
      for i in stride(from: trailing, to: 1, by: -1) {
        let w = recurse(axis: axis + 1, start: at(n - i), hangingIndent: nextIndent, width: nextWidth)
        extendPretty(&s, &line, w, elementWidth, hangingIndent)
        line += separator
      }
      let w = recurse(axis: axis + 1, start: at(n - 1), hangingIndent: nextIndent, width: nextWidth)
      extendPretty(&s, &line, w, elementWidth, hangingIndent)
      s += line
    } else {
      let lineSeparator = separator.trimmingTrailingSpaces + String(repeating: "\n", count: counts.count - axis - 1)
      for i in 0..<leading {
        s +=
          hangingIndent + recurse(axis: axis + 1, start: at(i), hangingIndent: nextIndent, width: nextWidth)
          + lineSeparator
      }
      if cut[axis] { s += hangingIndent + "..." + lineSeparator }
      for i in stride(from: trailing, to: 1, by: -1) {
        s +=
          hangingIndent + recurse(axis: axis + 1, start: at(n - i), hangingIndent: nextIndent, width: nextWidth)
          + lineSeparator
      }
      s += hangingIndent + recurse(axis: axis + 1, start: at(n - 1), hangingIndent: nextIndent, width: nextWidth)
    }
    return "[" + s.dropFirst(hangingIndent.count) + "]"
  }

  /// numpy's `_extendLine`.
  private func extend(_ s: inout String, _ line: inout String, _ word: String, _ width: Int, _ prefix: String) {
    var wrap = line.count + word.count > width
    if line.count <= prefix.count { wrap = false }
    if wrap {
      s += line.trimmingTrailingSpaces + "\n"
      line = prefix
    }
    line += word
  }

  /// numpy's `_extendLine_pretty`: a multi-line word (a nested subarray) keeps its
  /// own line breaks, indented to where it starts.
  private func extendPretty(_ s: inout String, _ line: inout String, _ word: String, _ width: Int, _ prefix: String) {
    let words = word.split(separator: "\n", omittingEmptySubsequences: false)
    guard words.count > 1 else { return extend(&s, &line, word, width, prefix) }
    let longest = words.map(\.count).max() ?? 0
    let indent: String
    if line.count + longest > width && line.count > prefix.count {
      s += line.trimmingTrailingSpaces + "\n"
      line = prefix + words[0]
      indent = prefix
    } else {
      indent = String(repeating: " ", count: line.count)
      line += words[0]
    }
    for w in words.dropFirst() {
      s += line.trimmingTrailingSpaces + "\n"
      line = indent + w
    }
    line += String(repeating: " ", count: longest - (words.last?.count ?? 0))
  }
}

extension String {
  /// The text without trailing spaces (Python's `rstrip()` for the texts printed here).
  var trimmingTrailingSpaces: String {
    var s = Substring(self)
    while let last = s.last, last == " " || last == "\n" || last == "\t" { s = s.dropLast() }
    return String(s)
  }
}
