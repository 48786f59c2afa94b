/// A Python literal value, as `ast.literal_eval` produces it: what an `.npy` header is.
///
/// Integers that do not fit in `Int` are kept as `.bigInteger` so that a header asking
/// for them can be refused with a precise reason instead of trapping.
public indirect enum PythonLiteral: Sendable, Hashable {
  /// A `str`.
  case string(String)
  /// A `bytes` literal.
  case bytes([UInt8])
  /// An `int` that fits in `Int`.
  case integer(Int)
  /// An `int` too large for `Int`, as its decimal digits with an optional leading `-`.
  case bigInteger(String)
  /// A `float`.
  case float(Double)
  /// A `complex`.
  case complex(real: Double, imaginary: Double)
  /// `True` or `False`.
  case bool(Bool)
  /// `None`.
  case none
  /// A `tuple`.
  case tuple([PythonLiteral])
  /// A `list`.
  case list([PythonLiteral])
  /// A `set`.
  case set([PythonLiteral])
  /// A `dict`, entries in source order (duplicate keys kept; the last one wins on lookup).
  case dict([DictEntry])

  /// One `key: value` pair of a dict literal.
  public struct DictEntry: Sendable, Hashable {
    /// The key.
    public var key: PythonLiteral
    /// The value.
    public var value: PythonLiteral
    /// Creates an entry.
    public init(key: PythonLiteral, value: PythonLiteral) {
      self.key = key
      self.value = value
    }
  }

  /// Python's name for the value's type (`dict`, `tuple`, `str`, ...).
  public var typeName: String {
    switch self {
    case .string: return "str"
    case .bytes: return "bytes"
    case .integer, .bigInteger: return "int"
    case .float: return "float"
    case .complex: return "complex"
    case .bool: return "bool"
    case .none: return "NoneType"
    case .tuple: return "tuple"
    case .list: return "list"
    case .set: return "set"
    case .dict: return "dict"
    }
  }
}

extension PythonLiteral: CustomStringConvertible {
  /// Python's `repr` of the value.
  public var description: String { PyRepr.repr(self) }
}
