/// A strict pull reader of the JSON in a safetensors header (RFC 8259, nesting at most
/// 64 deep, every string and escape checked): the caller walks the objects it expects
/// and skips (while still checking) the values it ignores, so that nothing is built
/// that is not kept and a header of thousands of tensors parses at memory speed.
/// Errors carry the byte offset.
struct HeaderJSON {
  private let bytes: UnsafeBufferPointer<UInt8>
  /// The offset of the next byte to read.
  private(set) var position = 0
  private static let maxDepth = 64

  /// A reader of `bytes` (UTF-8, checked by the caller), valid while they are.
  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  func fail(_ reason: String) -> TensorIOError {
    TensorIOError(.invalidJSON(offset: position, reason: reason))
  }

  @inline(__always)
  private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

  @inline(__always)
  mutating func skipSpace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws(TensorIOError) {
    skipSpace()
    guard current == byte else { throw fail("expected \(what)") }
    position += 1
  }

  /// Whether the next value is `null` (consumed if so).
  mutating func takeNull() throws(TensorIOError) -> Bool {
    skipSpace()
    guard current == UInt8(ascii: "n") else { return false }
    try literal("null")
    return true
  }

  /// Whether the next value is a string.
  mutating func nextIsString() -> Bool {
    skipSpace()
    return current == UInt8(ascii: "\"")
  }

  /// Consumes the `{` that starts an object (`what` names it in the error: built only
  /// then).
  mutating func beginObject(_ what: @autoclosure () -> String) throws(TensorIOError) {
    skipSpace()
    guard current == UInt8(ascii: "{") else { throw fail("expected \(what())") }
    position += 1
  }

  /// A key or string value as read: its bytes when it holds no escape (nothing
  /// allocated), else its decoded text.
  enum Text {
    case bytes(Range<Int>)
    case decoded(String)
  }

  /// Whether `text` is `literal` (compared after decoding escapes).
  func text(_ text: Text, is literal: StaticString) -> Bool {
    switch text {
    case .decoded(let s):
      return s.utf8.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    case .bytes(let range):
      guard range.count == literal.utf8CodeUnitCount else { return false }
      for i in 0..<range.count where bytes[range.lowerBound + i] != literal.utf8Start[i] { return false }
      return true
    }
  }

  /// `text` as a `String`.
  func string(_ text: Text) -> String {
    switch text {
    case .decoded(let s): return s
    case .bytes(let range): return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
  }

  /// The next string without building it when it holds no escape.
  mutating func rawString() throws(TensorIOError) -> Text {
    skipSpace()
    guard current == UInt8(ascii: "\"") else { throw fail("expected a string") }
    position += 1
    if let range = takePlainStringBody() { return .bytes(range) }
    position -= 1
    return .decoded(try string())
  }

  /// The next member's key as read (its `:` consumed), or nil at the object's `}`.
  mutating func nextRawKey(first: inout Bool) throws(TensorIOError) -> Text? {
    skipSpace()
    if current == UInt8(ascii: "}") {
      position += 1
      first = false
      return nil
    }
    if !first {
      try expect(UInt8(ascii: ","), "',' or '}'")
      skipSpace()
    }
    first = false
    guard current == UInt8(ascii: "\"") else { throw fail("expected a key") }
    let key = try rawString()
    try expect(UInt8(ascii: ":"), "':'")
    return key
  }

  /// The next member's key (its `:` consumed), or nil at the object's `}`. `first` is
  /// true before the first member.
  mutating func nextKey(first: inout Bool) throws(TensorIOError) -> String? {
    skipSpace()
    if first {
      first = false
      if current == UInt8(ascii: "}") {
        position += 1
        return nil
      }
    } else {
      if current == UInt8(ascii: "}") {
        position += 1
        return nil
      }
      try expect(UInt8(ascii: ","), "',' or '}'")
      skipSpace()
    }
    guard current == UInt8(ascii: "\"") else { throw fail("expected a key") }
    let key = try string()
    try expect(UInt8(ascii: ":"), "':'")
    return key
  }

  /// After the last value: only white space may follow.
  mutating func finish() throws(TensorIOError) {
    skipSpace()
    guard position == bytes.count else { throw fail("trailing characters") }
  }

  private mutating func literal(_ word: StaticString) throws(TensorIOError) {
    let count = word.utf8CodeUnitCount
    guard position + count <= bytes.count else { throw fail("expected a value") }
    for i in 0..<count where bytes[position + i] != word.utf8Start[i] { throw fail("expected a value") }
    position += count
  }

  /// A list of non-negative integers (each fitting an `Int`), or nil when the next
  /// value is anything else (then skipped, and checked, as a value).
  mutating func unsignedList() throws(TensorIOError) -> [Int]? {
    var result: [Int] = []
    result.reserveCapacity(4)
    return try unsignedList(into: &result) ? result : nil
  }

  /// Reads a list of non-negative integers into `result` (emptied first; its storage
  /// reused); false when the next value is anything else (then skipped and checked).
  mutating func unsignedList(into result: inout [Int]) throws(TensorIOError) -> Bool {
    result.removeAll(keepingCapacity: true)
    skipSpace()
    guard current == UInt8(ascii: "[") else {
      try skipValue(depth: 0)
      return false
    }
    let start = position
    position += 1
    var first = true
    while true {
      skipSpace()
      if current == UInt8(ascii: "]") && first {
        position += 1
        return true
      }
      if !first {
        if current == UInt8(ascii: "]") {
          position += 1
          return true
        }
        try expect(UInt8(ascii: ","), "',' or ']'")
        skipSpace()
      }
      first = false
      guard let n = unsignedInteger() else {
        position = start
        try skipValue(depth: 0)
        return false
      }
      result.append(n)
    }
  }

  /// Whether the next bytes are exactly `literal` (no white space skipped); consumed if
  /// so.
  @inline(__always)
  mutating func take(_ literal: StaticString) -> Bool {
    let count = literal.utf8CodeUnitCount
    guard position + count <= bytes.count else { return false }
    for i in 0..<count where bytes[position + i] != literal.utf8Start[i] { return false }
    position += count
    return true
  }

  /// Goes back to `position` (one this reader returned), to read again from there.
  mutating func rewind(to position: Int) {
    self.position = position
  }

  /// The bytes of a string whose opening quote was consumed, up to its closing quote
  /// (consumed), when it holds no escape or control character; else nil, nothing
  /// consumed.
  @inline(__always)
  mutating func takePlainStringBody() -> Range<Int>? {
    var i = position
    while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
    defer { position = i + 1 }
    return position..<i
  }

  /// Digits without sign, fraction or exponent that fit an `Int`; nil (nothing
  /// consumed) for anything else.
  @inline(__always)
  mutating func unsignedInteger() -> Int? {
    var i = position
    var value = 0
    while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(Int(bytes[i] - 0x30))
      if o1 || o2 { return nil }
      value = sum
      i += 1
    }
    let digits = i - position
    guard digits > 0, !(digits > 1 && bytes[position] == 0x30) else { return nil }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")
    {
      return nil
    }
    position = i
    return value
  }

  /// Skips one value, checking it is valid JSON.
  mutating func skipValue(depth: Int) throws(TensorIOError) {
    guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) deep") }
    skipSpace()
    guard let c = current else { throw fail("unexpected end of header") }
    switch c {
    case UInt8(ascii: "{"):
      position += 1
      var first = true
      while try nextKey(first: &first) != nil { try skipValue(depth: depth + 1) }
    case UInt8(ascii: "["):
      position += 1
      skipSpace()
      if current == UInt8(ascii: "]") {
        position += 1
        return
      }
      while true {
        try skipValue(depth: depth + 1)
        skipSpace()
        if current == UInt8(ascii: "]") {
          position += 1
          return
        }
        try expect(UInt8(ascii: ","), "',' or ']'")
      }
    case UInt8(ascii: "\""): _ = try string()
    case UInt8(ascii: "t"): try literal("true")
    case UInt8(ascii: "f"): try literal("false")
    case UInt8(ascii: "n"): try literal("null")
    default: try number()
    }
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
  private mutating func number() throws(TensorIOError) {
    func digits() -> Int {
      let from = position
      while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
      return position - from
    }
    if current == UInt8(ascii: "-") { position += 1 }
    let integerStart = position
    let count = digits()
    guard count > 0 else { throw fail("expected a value") }
    if count > 1 && bytes[integerStart] == UInt8(ascii: "0") { throw fail("a number with a leading zero") }
    if current == UInt8(ascii: ".") {
      position += 1
      guard digits() > 0 else { throw fail("a number without digits after '.'") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      position += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
      guard digits() > 0 else { throw fail("a number without exponent digits") }
    }
  }

  /// A string literal (the opening quote next), escapes decoded.
  mutating func string() throws(TensorIOError) -> String {
    skipSpace()
    guard current == UInt8(ascii: "\"") else { throw fail("expected a string") }
    position += 1
    // Fast path: no escape before the closing quote.
    if let range = takePlainStringBody() {
      return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
    var scalars = String.UnicodeScalarView()
    var run = position
    func flush(_ end: Int) {
      scalars.append(
        contentsOf: String(decoding: UnsafeBufferPointer(rebasing: bytes[run..<end]), as: UTF8.self).unicodeScalars)
    }
    while true {
      guard let c = current else { throw fail("unterminated string") }
      if c == UInt8(ascii: "\"") {
        flush(position)
        position += 1
        return String(scalars)
      }
      if c < 0x20 { throw fail("a control character in a string") }
      if c != UInt8(ascii: "\\") {
        position += 1
        continue
      }
      flush(position)
      position += 1
      guard let escape = current else { throw fail("unterminated string") }
      position += 1
      switch escape {
      case UInt8(ascii: "\""): scalars.append("\"")
      case UInt8(ascii: "\\"): scalars.append("\\")
      case UInt8(ascii: "/"): scalars.append("/")
      case UInt8(ascii: "b"): scalars.append("\u{8}")
      case UInt8(ascii: "f"): scalars.append("\u{C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var unit = try hex4()
        if (0xD800..<0xDC00).contains(unit) {
          // A high surrogate must be followed by a low one: together one scalar.
          guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
            bytes[position + 1] == UInt8(ascii: "u")
          else { throw fail("a lone surrogate in a string") }
          position += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw fail("a lone surrogate in a string") }
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(unit) else { throw fail("a lone surrogate in a string") }
        scalars.append(scalar)
      default: throw fail("an invalid escape in a string")
      }
      run = position
    }
  }

  private mutating func hex4() throws(TensorIOError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("an invalid \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[position]
      let digit: UInt32
      switch c {
      case 0x30...0x39: digit = UInt32(c - 0x30)
      case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
      case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
      default: throw fail("an invalid \\u escape")
      }
      value = value * 16 + digit
      position += 1
    }
    return value
  }
}

extension SafetensorsDType {
  /// The dtype `text` of `json` names, if any (its bytes compared, nothing allocated).
  init?(_ json: HeaderJSON, _ text: HeaderJSON.Text) {
    for known in Self.ordered where json.text(text, is: known.staticName) {
      self = known
      return
    }
    return nil
  }
}
