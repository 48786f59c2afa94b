/// A strict JSON reader for safetensors headers: RFC 8259 text, nesting at most 64
/// deep, every string checked, numbers kept as their text; objects keep their members
/// in order, duplicates included (the caller decides what a repeated key means).
struct HeaderJSON {
  /// A parsed value; `offset` is where it starts in the header.
  indirect enum Value {
    case object([(key: String, value: Value, offset: Int)])
    case array([Value])
    case string(String)
    /// A number as written (`12`, `-1`, `1.5e3`).
    case number(String)
    case bool(Bool)
    case null
  }

  private let bytes: [UInt8]
  private var position = 0
  private static let maxDepth = 64

  /// Parses `bytes` (UTF-8) as one JSON value with optional white space around it.
  static func parse(_ bytes: [UInt8]) throws(TensorIOError) -> Value {
    var reader = HeaderJSON(bytes: bytes)
    reader.skipSpace()
    let value = try reader.value(depth: 0)
    reader.skipSpace()
    guard reader.position == bytes.count else { throw reader.fail("trailing characters") }
    return value
  }

  private init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  private func fail(_ reason: String) -> TensorIOError {
    TensorIOError(.invalidJSON(offset: position, reason: reason))
  }

  private mutating func skipSpace() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
  }

  private mutating func expect(_ literal: String) throws(TensorIOError) {
    for c in literal.utf8 {
      guard position < bytes.count, bytes[position] == c else { throw fail("expected '\(literal)'") }
      position += 1
    }
  }

  private mutating func value(depth: Int) throws(TensorIOError) -> Value {
    guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) deep") }
    guard position < bytes.count else { throw fail("unexpected end of header") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      position += 1
      var members: [(key: String, value: Value, offset: Int)] = []
      skipSpace()
      if position < bytes.count && bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      }
      while true {
        skipSpace()
        let offset = position
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a key") }
        let key = try string()
        skipSpace()
        try expect(":")
        skipSpace()
        members.append((key, try value(depth: depth + 1), offset))
        skipSpace()
        guard position < bytes.count else { throw fail("unexpected end of header") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("}")
        return .object(members)
      }
    case UInt8(ascii: "["):
      position += 1
      var items: [Value] = []
      skipSpace()
      if position < bytes.count && bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(items)
      }
      while true {
        skipSpace()
        items.append(try value(depth: depth + 1))
        skipSpace()
        guard position < bytes.count else { throw fail("unexpected end of header") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect("]")
        return .array(items)
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    default: return .number(try number())
    }
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
  private mutating func number() throws(TensorIOError) -> String {
    let start = position
    func digits() -> Int {
      let from = position
      while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
      return position - from
    }
    if position < bytes.count && bytes[position] == UInt8(ascii: "-") { position += 1 }
    let integerStart = position
    let count = digits()
    guard count > 0 else { throw fail("expected a value") }
    if count > 1 && bytes[integerStart] == UInt8(ascii: "0") { throw fail("a number with a leading zero") }
    if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard digits() > 0 else { throw fail("a number without digits after '.'") }
    }
    if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
      position += 1
      if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
        position += 1
      }
      guard digits() > 0 else { throw fail("a number without exponent digits") }
    }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }

  /// A string literal (the opening quote at `position`), escapes decoded.
  private mutating func string() throws(TensorIOError) -> String {
    position += 1
    var scalars = String.UnicodeScalarView()
    var run = position
    func flush(_ end: Int) {
      scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars)
    }
    while true {
      guard position < bytes.count else { throw fail("unterminated string") }
      let c = bytes[position]
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
      guard position < bytes.count else { throw fail("unterminated string") }
      let escape = bytes[position]
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
