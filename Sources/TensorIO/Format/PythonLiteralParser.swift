/// A strict parser for the subset of Python that `ast.literal_eval` accepts: what numpy
/// uses to read an `.npy` header. No expression is ever evaluated; anything beyond
/// literals (names other than `True`/`False`/`None`, calls, operators other than a sign
/// or a complex `a+bj`) is a syntax error.
struct PythonLiteralParser {
  /// Why a header failed to parse (turned into `TensorIOError.Reason.headerSyntax`).
  struct SyntaxError: Error {
    var message: String
    var position: Int
  }

  private let text: [Unicode.Scalar]
  private var pos = 0
  private var depth = 0
  /// Whether `3L` (a Python 2 long) is read as `3`: numpy's `_filter_header`, applied to
  /// format versions 1.0 and 2.0 only.
  private let allowsLongSuffix: Bool
  private static let maxDepth = 200

  /// Parses `text` as one Python literal.
  static func parse(_ text: [Unicode.Scalar], allowsLongSuffix: Bool) throws(SyntaxError)
    -> PythonLiteral
  {
    var parser = PythonLiteralParser(text: text, allowsLongSuffix: allowsLongSuffix)
    return try parser.parseTop()
  }

  private init(text: [Unicode.Scalar], allowsLongSuffix: Bool) {
    self.text = text
    self.allowsLongSuffix = allowsLongSuffix
  }

  private func fail(_ message: String) -> SyntaxError {
    SyntaxError(message: message, position: pos)
  }

  private var current: Unicode.Scalar? { pos < text.count ? text[pos] : nil }

  private func peek(_ offset: Int) -> Unicode.Scalar? {
    let i = pos + offset
    return i < text.count ? text[i] : nil
  }

  // MARK: Whitespace

  /// Skips spaces, tabs, form feeds, newlines, comments and backslash continuations.
  /// Returns whether a newline was crossed and whether the next token is indented
  /// (preceded by blanks on its own line).
  @discardableResult
  private mutating func skipTrivia() -> (crossedNewline: Bool, indented: Bool) {
    var crossed = false
    var indented = false
    while let c = current {
      switch c {
      case " ", "\t", "\u{0C}":
        indented = true
        pos += 1
      case "\n", "\r":
        crossed = true
        indented = false
        pos += 1
      case "#":
        while let d = current, d != "\n", d != "\r" { pos += 1 }
      case "\\" where peek(1) == "\n" || peek(1) == "\r":
        pos += 2
      default:
        return (crossed, indented)
      }
    }
    return (crossed, indented)
  }

  // MARK: Top level

  private mutating func parseTop() throws(SyntaxError) -> PythonLiteral {
    // literal_eval strips leading spaces and tabs; a first token on a later line must
    // not be indented (Python's "unexpected indent").
    while let c = current, c == " " || c == "\t" { pos += 1 }
    let lead = skipTrivia()
    if lead.crossedNewline && lead.indented { throw fail("unexpected indent") }
    if current == nil { throw fail("empty header") }
    var value = try parseValue()
    skipTrivia()
    if current == "," {
      // A bare tuple: `1, 2`.
      var items = [value]
      while current == "," {
        pos += 1
        skipTrivia()
        if current == nil { break }
        items.append(try parseValue())
        skipTrivia()
      }
      value = .tuple(items)
    }
    skipTrivia()
    if current != nil { throw fail("unexpected text after the literal") }
    return value
  }

  // MARK: Values

  private mutating func parseValue() throws(SyntaxError) -> PythonLiteral {
    skipTrivia()
    guard let c = current else { throw fail("unexpected end of header") }
    switch c {
    case "{": return try nested { (p: inout PythonLiteralParser) throws(SyntaxError) in try p.parseBrace() }
    case "(": return try nested { (p: inout PythonLiteralParser) throws(SyntaxError) in try p.parseParen() }
    case "[":
      return try nested { (p: inout PythonLiteralParser) throws(SyntaxError) in
        .list(try p.parseSequence(closing: "]"))
      }
    case "+", "-":
      return try parseSignedNumber()
    case "'", "\"":
      return try parseStrings()
    default:
      if isDigit(c) || (c == "." && peek(1).map(isDigit) == true) {
        return try parseComplexTail(try parseNumber())
      }
      if isIdentifierStart(c) { return try parseNameOrPrefixedString() }
      throw fail("unexpected character \(PyRepr.repr(.string(String(c))))")
    }
  }

  private mutating func nested(
    _ body: (inout PythonLiteralParser) throws(SyntaxError) -> PythonLiteral
  ) throws(SyntaxError) -> PythonLiteral {
    depth += 1
    defer { depth -= 1 }
    if depth > Self.maxDepth { throw fail("too many nested brackets") }
    return try body(&self)
  }

  /// `{}` → dict, `{k: v, ...}` → dict, `{a, b}` → set.
  private mutating func parseBrace() throws(SyntaxError) -> PythonLiteral {
    pos += 1  // {
    skipTrivia()
    if current == "}" {
      pos += 1
      return .dict([])
    }
    let first = try parseValue()
    skipTrivia()
    if current == ":" {
      var entries: [PythonLiteral.DictEntry] = []
      var key = first
      while true {
        pos += 1  // :
        let value = try parseValue()
        entries.append(.init(key: key, value: value))
        skipTrivia()
        if current == "}" {
          pos += 1
          return .dict(entries)
        }
        guard current == "," else { throw fail("expected ',' or '}' in dict") }
        pos += 1
        skipTrivia()
        if current == "}" {
          pos += 1
          return .dict(entries)
        }
        key = try parseValue()
        skipTrivia()
        guard current == ":" else { throw fail("expected ':' in dict") }
      }
    }
    var items = [first]
    items += try parseSequenceRest(closing: "}")
    return .set(items)
  }

  /// `()` → empty tuple, `(x)` → x, `(x,)` and `(x, y)` → tuple.
  private mutating func parseParen() throws(SyntaxError) -> PythonLiteral {
    pos += 1  // (
    skipTrivia()
    if current == ")" {
      pos += 1
      return .tuple([])
    }
    let first = try parseValue()
    skipTrivia()
    if current == ")" {
      pos += 1
      return first
    }
    return .tuple([first] + (try parseSequenceRest(closing: ")")))
  }

  /// Items up to `closing`, after the opening bracket.
  private mutating func parseSequence(closing: Unicode.Scalar) throws(SyntaxError) -> [PythonLiteral] {
    pos += 1  // opening bracket
    skipTrivia()
    if current == closing {
      pos += 1
      return []
    }
    let first = try parseValue()
    skipTrivia()
    if current == closing {
      pos += 1
      return [first]
    }
    return [first] + (try parseSequenceRest(closing: closing))
  }

  /// The rest of a sequence whose first item was read: `, item` ... `closing`.
  private mutating func parseSequenceRest(closing: Unicode.Scalar) throws(SyntaxError) -> [PythonLiteral] {
    var items: [PythonLiteral] = []
    while true {
      skipTrivia()
      if current == closing {
        pos += 1
        return items
      }
      guard current == "," else {
        throw fail("expected ',' or '\(Character(closing))'")
      }
      pos += 1
      skipTrivia()
      if current == closing {
        pos += 1
        return items
      }
      items.append(try parseValue())
    }
  }

  // MARK: Names

  private mutating func parseNameOrPrefixedString() throws(SyntaxError) -> PythonLiteral {
    let start = pos
    while let c = current, isIdentifierContinue(c) { pos += 1 }
    let name = String(String.UnicodeScalarView(text[start..<pos]))
    if let q = current, q == "'" || q == "\"" {
      let prefix = name.lowercased()
      if ["r", "u", "b", "br", "rb"].contains(prefix) {
        pos = start
        return try parseStrings()
      }
      throw fail("string prefix '\(name)' is not a literal")
    }
    switch name {
    case "True": return .bool(true)
    case "False": return .bool(false)
    case "None": return .none
    default: throw fail("name '\(name)' is not a literal")
    }
  }

  // MARK: Numbers

  private mutating func parseSignedNumber() throws(SyntaxError) -> PythonLiteral {
    let negative = current == "-"
    pos += 1
    skipTrivia()
    guard let c = current, isDigit(c) || (c == "." && peek(1).map(isDigit) == true) else {
      throw fail("a sign must be followed by a number")
    }
    let value = try parseNumber()
    let signed: PythonLiteral
    switch value {
    case .integer(let n):
      signed = negative ? (n == Int.min ? .bigInteger("-" + String(n).dropFirst()) : .integer(-n)) : value
    case .bigInteger(let digits):
      signed =
        negative ? (digits.hasPrefix("-") ? .bigInteger(String(digits.dropFirst())) : .bigInteger("-" + digits)) : value
    case .float(let d): signed = .float(negative ? -d : d)
    case .complex(let re, let im): signed = .complex(real: negative ? -re : re, imaginary: negative ? -im : im)
    default: signed = value
    }
    return try parseComplexTail(signed)
  }

  /// `a + bj` / `a - bj` where `a` is a real number and `bj` an imaginary literal.
  private mutating func parseComplexTail(_ left: PythonLiteral) throws(SyntaxError) -> PythonLiteral {
    let save = pos
    skipTrivia()
    guard let op = current, op == "+" || op == "-" else {
      pos = save
      return left
    }
    let real: Double
    switch left {
    case .integer(let n): real = Double(n)
    case .float(let d): real = d
    default: throw fail("operators are not allowed in a header")
    }
    pos += 1
    skipTrivia()
    guard let c = current, isDigit(c) || c == "." else { throw fail("operators are not allowed in a header") }
    guard case .complex(_, let im) = try parseNumber() else {
      throw fail("operators are not allowed in a header")
    }
    return .complex(real: real, imaginary: op == "-" ? -im : im)
  }

  private mutating func parseNumber() throws(SyntaxError) -> PythonLiteral {
    let start = pos
    var value: PythonLiteral
    if current == "0", let p = peek(1), "xXoObB".unicodeScalars.contains(p) {
      pos += 2
      let radix: Int
      switch p {
      case "x", "X": radix = 16
      case "o", "O": radix = 8
      default: radix = 2
      }
      let digits = try scanDigits(radix: radix, leadingUnderscore: true)
      if digits.isEmpty { throw fail("invalid number") }
      value = integerLiteral(digits, radix: radix)
    } else {
      let intPart = try scanDigits(radix: 10, leadingUnderscore: false)
      var isFloat = false
      var floatText = intPart
      if current == "." {
        pos += 1
        isFloat = true
        floatText += "." + (try scanDigits(radix: 10, leadingUnderscore: false))
      }
      if let e = current, e == "e" || e == "E" {
        let save = pos
        pos += 1
        var exponent = "e"
        if let s = current, s == "+" || s == "-" {
          exponent.unicodeScalars.append(s)
          pos += 1
        }
        let digits = try scanDigits(radix: 10, leadingUnderscore: false)
        if digits.isEmpty {
          pos = save
        } else {
          isFloat = true
          floatText += exponent + digits
        }
      }
      if let j = current, j == "j" || j == "J" {
        pos += 1
        value = .complex(real: 0, imaginary: Double(floatText == "." ? "0" : floatText) ?? 0)
      } else if isFloat {
        value = .float(Double(floatText) ?? .nan)
      } else {
        if intPart.count > 1 && intPart.hasPrefix("0") && intPart.contains(where: { $0 != "0" }) {
          throw fail("leading zeros in a decimal integer are not permitted")
        }
        value = integerLiteral(intPart, radix: 10)
      }
    }
    if let c = current, isIdentifierContinue(c) {
      if allowsLongSuffix && c == "L" && !(peek(1).map(isIdentifierContinue) ?? false) {
        pos += 1
        return value
      }
      pos = start
      throw fail("invalid number literal")
    }
    if allowsLongSuffix {
      // `_filter_header` also drops an `L` token separated from the number by blanks.
      var look = pos
      while look < text.count, text[look] == " " || text[look] == "\t" { look += 1 }
      if look < text.count, text[look] == "L",
        !(look + 1 < text.count && isIdentifierContinue(text[look + 1]))
      {
        pos = look + 1
      }
    }
    return value
  }

  /// Digits of `radix` with single underscores between them.
  private mutating func scanDigits(radix: Int, leadingUnderscore: Bool) throws(SyntaxError) -> String {
    var digits = ""
    var lastUnderscore = false
    var first = true
    while let c = current {
      if c == "_" {
        if lastUnderscore || (first && !leadingUnderscore) { throw fail("invalid number literal") }
        lastUnderscore = true
        pos += 1
        first = false
        continue
      }
      guard let d = hexValue(c), d < radix else { break }
      digits.unicodeScalars.append(c)
      lastUnderscore = false
      first = false
      pos += 1
    }
    if lastUnderscore { throw fail("invalid number literal") }
    return digits
  }

  private func integerLiteral(_ digits: String, radix: Int) -> PythonLiteral {
    if let n = Int(digits, radix: radix) { return .integer(n) }
    return .bigInteger(radix == 10 ? digits : "0" + (radix == 16 ? "x" : radix == 8 ? "o" : "b") + digits)
  }

  // MARK: Strings

  /// One or more adjacent string literals, concatenated as Python does.
  private mutating func parseStrings() throws(SyntaxError) -> PythonLiteral {
    var result: PythonLiteral? = nil
    while true {
      let save = pos
      skipTrivia()
      guard let c = current else {
        pos = save
        break
      }
      var isBytes = false
      var isRaw = false
      if c != "'" && c != "\"" {
        guard isIdentifierStart(c) else {
          pos = save
          break
        }
        let start = pos
        while let d = current, isIdentifierContinue(d) { pos += 1 }
        let prefix = String(String.UnicodeScalarView(text[start..<pos])).lowercased()
        guard let q = current, q == "'" || q == "\"", ["r", "u", "b", "br", "rb"].contains(prefix) else {
          pos = save
          break
        }
        isBytes = prefix.contains("b")
        isRaw = prefix.contains("r")
      }
      let piece = try parseOneString(isBytes: isBytes, isRaw: isRaw)
      switch (result, piece) {
      case (nil, _): result = piece
      case (.string(let a)?, .string(let b)): result = .string(a + b)
      case (.bytes(let a)?, .bytes(let b)): result = .bytes(a + b)
      default: throw fail("cannot mix bytes and nonbytes literals")
      }
    }
    guard let result else { throw fail("expected a string") }
    return result
  }

  private mutating func parseOneString(isBytes: Bool, isRaw: Bool) throws(SyntaxError) -> PythonLiteral {
    guard let quote = current else { throw fail("expected a string") }
    let triple = peek(1) == quote && peek(2) == quote
    pos += triple ? 3 : 1
    var scalars: [Unicode.Scalar] = []
    while true {
      guard let c = current else { throw fail("unterminated string literal") }
      if c == quote {
        if !triple {
          pos += 1
          break
        }
        if peek(1) == quote && peek(2) == quote {
          pos += 3
          break
        }
      }
      if !triple && (c == "\n" || c == "\r") { throw fail("unterminated string literal") }
      if isBytes && c.value >= 0x80 { throw fail("bytes can only contain ASCII literal characters") }
      if c == "\\" {
        guard let next = peek(1) else { throw fail("unterminated string literal") }
        if isRaw {
          scalars.append(c)
          scalars.append(next)
          pos += 2
          continue
        }
        pos += 2
        switch next {
        case "\n": continue
        case "\r":
          if current == "\n" { pos += 1 }
          continue
        case "\\", "'", "\"": scalars.append(next)
        case "a": scalars.append("\u{07}")
        case "b": scalars.append("\u{08}")
        case "f": scalars.append("\u{0C}")
        case "n": scalars.append("\n")
        case "r": scalars.append("\r")
        case "t": scalars.append("\t")
        case "v": scalars.append("\u{0B}")
        case "0"..."7":
          var value = hexValue(next) ?? 0
          var count = 1
          while count < 3, let d = current, let v = hexValue(d), v < 8 {
            value = value * 8 + v
            pos += 1
            count += 1
          }
          if isBytes && value > 0xff { throw fail("invalid octal escape") }
          guard let s = Unicode.Scalar(UInt32(value)) else { throw fail("invalid escape") }
          scalars.append(s)
        case "x":
          scalars.append(try scanHexEscape(count: 2))
        case "u" where !isBytes:
          scalars.append(try scanHexEscape(count: 4))
        case "U" where !isBytes:
          scalars.append(try scanHexEscape(count: 8))
        case "N" where !isBytes:
          throw fail("named unicode escapes are not supported")
        default:
          scalars.append("\\")
          scalars.append(next)
        }
        continue
      }
      scalars.append(c)
      pos += 1
    }
    if isBytes { return .bytes(scalars.map { UInt8(truncatingIfNeeded: $0.value) }) }
    if scalars.allSatisfy({ $0.isASCII }) {
      // The common case (every descr, every key): decoding bytes is far cheaper.
      return .string(String(decoding: scalars.map { UInt8(truncatingIfNeeded: $0.value) }, as: UTF8.self))
    }
    return .string(String(String.UnicodeScalarView(scalars)))
  }

  private mutating func scanHexEscape(count: Int) throws(SyntaxError) -> Unicode.Scalar {
    var value: UInt32 = 0
    for _ in 0..<count {
      guard let c = current, let v = hexValue(c) else { throw fail("truncated \\x, \\u or \\U escape") }
      value = value &* 16 &+ UInt32(v)
      pos += 1
    }
    guard let scalar = Unicode.Scalar(value) else { throw fail("invalid character escape") }
    return scalar
  }

  // MARK: Character classes

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

  private func hexValue(_ c: Unicode.Scalar) -> Int? {
    switch c {
    case "0"..."9": return Int(c.value - 48)
    case "a"..."f": return Int(c.value - 87)
    case "A"..."F": return Int(c.value - 55)
    default: return nil
    }
  }

  private func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (c.value >= 0x80 && c.properties.isXIDStart)
  }

  private func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
    isIdentifierStart(c) || isDigit(c) || (c.value >= 0x80 && c.properties.isXIDContinue)
  }
}
