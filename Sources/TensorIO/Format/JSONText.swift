/// JSON string literals, written as serde_json writes them (the safetensors reference
/// does): `"` and `\` escaped, control characters as `\b \t \n \f \r` or `\u00xx`,
/// everything else as it is. One writer for the library's JSON and the tool's.
package enum JSONText {
  /// `text` as a JSON string literal, appended to `out`.
  package static func append(_ text: String, to out: inout String) {
    out += "\""
    // Most strings need no escaping: appended whole.
    guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
      out += text
      out += "\""
      return
    }
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\u{8}": out += "\\b"
      case "\t": out += "\\t"
      case "\n": out += "\\n"
      case "\u{C}": out += "\\f"
      case "\r": out += "\\r"
      default:
        if scalar.value < 0x20 {
          out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }

  /// `text` as a JSON string literal.
  package static func quoted(_ text: String) -> String {
    var out = ""
    append(text, to: &out)
    return out
  }
}
