/// Python's `repr` for the literal values an `.npy` header holds, character for
/// character, so that headers written here are byte-identical to numpy's.
enum PyRepr {
  /// `repr(value)` as CPython prints it.
  static func repr(_ value: PythonLiteral) -> String {
    var out = ""
    write(value, to: &out)
    return out
  }

  static func write(_ value: PythonLiteral, to out: inout String) {
    switch value {
    case .string(let s): writeString(s, to: &out)
    case .bytes(let b): writeBytes(b, to: &out)
    case .integer(let n): out += String(n)
    case .bigInteger(let digits): out += digits
    case .float(let d): out += floatRepr(d)
    case .complex(let re, let im):
      out += re == 0 && re.sign == .plus ? "\(floatRepr(im))j" : "(\(floatRepr(re))+\(floatRepr(im))j)"
    case .bool(let b): out += b ? "True" : "False"
    case .none: out += "None"
    case .tuple(let items):
      out += "("
      writeItems(items, to: &out)
      if items.count == 1 { out += "," }
      out += ")"
    case .list(let items):
      out += "["
      writeItems(items, to: &out)
      out += "]"
    case .set(let items):
      if items.isEmpty {
        out += "set()"
        return
      }
      out += "{"
      writeItems(items, to: &out)
      out += "}"
    case .dict(let entries):
      out += "{"
      for (i, entry) in entries.enumerated() {
        if i > 0 { out += ", " }
        write(entry.key, to: &out)
        out += ": "
        write(entry.value, to: &out)
      }
      out += "}"
    }
  }

  private static func writeItems(_ items: [PythonLiteral], to out: inout String) {
    for (i, item) in items.enumerated() {
      if i > 0 { out += ", " }
      write(item, to: &out)
    }
  }

  private static func floatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    let s = String(d)
    return s
  }

  /// `repr(str)`: single quotes unless the text holds `'` and no `"`; non-printable
  /// characters escaped as `\t`, `\n`, `\r`, `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
  static func writeString(_ s: String, to out: inout String) {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    out.append(quote)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\t": out += "\\t"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      default:
        if Character(scalar) == quote {
          out += "\\\(quote)"
        } else if isPrintable(scalar) {
          out.unicodeScalars.append(scalar)
        } else {
          out += escape(scalar.value)
        }
      }
    }
    out.append(quote)
  }

  private static func writeBytes(_ bytes: [UInt8], to out: inout String) {
    let hasSingle = bytes.contains(UInt8(ascii: "'"))
    let hasDouble = bytes.contains(UInt8(ascii: "\""))
    let quote: UInt8 = hasSingle && !hasDouble ? UInt8(ascii: "\"") : UInt8(ascii: "'")
    out += "b"
    out.unicodeScalars.append(Unicode.Scalar(quote))
    for b in bytes {
      switch b {
      case UInt8(ascii: "\\"): out += "\\\\"
      case UInt8(ascii: "\t"): out += "\\t"
      case UInt8(ascii: "\n"): out += "\\n"
      case UInt8(ascii: "\r"): out += "\\r"
      case quote: out += "\\" + String(Unicode.Scalar(quote))
      case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(b))
      default: out += escape(UInt32(b))
      }
    }
    out.unicodeScalars.append(Unicode.Scalar(quote))
  }

  private static func escape(_ value: UInt32) -> String {
    let hex = String(value, radix: 16)
    if value < 0x100 { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
    if value < 0x10000 { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
    return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
  }

  /// Python's `str.isprintable` for one character: false for the categories Cc, Cf,
  /// Cs, Co, Cn, Zl, Zp and Zs other than the ASCII space.
  static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.value < 0x80 { return scalar.value >= 0x20 && scalar.value != 0x7f }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned,
      .lineSeparator, .paragraphSeparator, .spaceSeparator:
      return false
    default:
      return true
    }
  }
}
