import TensorIO

/// A JSON value with object keys kept in the order given, rendered compactly with
/// strict types (bools are bools, counts are integers).
enum JSONValue {
  case string(String)
  case integer(Int)
  case number(Double)
  case bool(Bool)
  case null
  /// JSON text inserted as it is (already rendered elsewhere).
  case raw(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  /// A numpy descr as JSON: strings stay strings, tuples and lists become arrays.
  init(literal: PythonLiteral) {
    switch literal {
    case .string(let s): self = .string(s)
    case .integer(let n): self = .integer(n)
    case .bool(let b): self = .bool(b)
    case .tuple(let items), .list(let items): self = .array(items.map(JSONValue.init(literal:)))
    default: self = .string(literal.description)
    }
  }

  /// An object with one more member (other values are returned unchanged).
  func adding(_ key: String, _ value: JSONValue) -> JSONValue {
    guard case .object(let members) = self else { return self }
    return .object(members + [(key, value)])
  }

  /// The value as one line of JSON text.
  var rendered: String {
    var out = ""
    render(into: &out)
    return out
  }

  private func render(into out: inout String) {
    switch self {
    case .string(let s): JSONText.append(s, to: &out)
    case .integer(let n): out += String(n)
    case .number(let d): out += d.isFinite ? String(d) : "null"
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .raw(let text): out += text
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += ", " }
        item.render(into: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (i, (key, value)) in members.enumerated() {
        if i > 0 { out += ", " }
        JSONText.append(key, to: &out)
        out += ": "
        value.render(into: &out)
      }
      out += "}"
    }
  }

}
