extension DType {
  /// numpy's `descr` for this dtype, as `np.save` writes it: `dtype.str` for simple
  /// dtypes, the field list (with `('', '|V<n>')` padding entries) for records.
  ///
  /// Records whose fields overlap or are out of offset order have no `descr` (numpy
  /// cannot save them either); for those this returns `nil`.
  public var descr: PythonLiteral {
    descrOrNil ?? .string(typeString)
  }

  /// `descr`, or `nil` when a record's fields overlap or are out of order.
  var descrOrNil: PythonLiteral? {
    guard case .structured(let fields, let itemSize) = kind else { return .string(typeString) }
    var entries: [PythonLiteral] = []
    var offset = 0
    for field in fields {
      if field.offset > offset {
        entries.append(.tuple([.string(""), .string("|V\(field.offset - offset)")]))
        offset = field.offset
      } else if field.offset < offset {
        return nil
      }
      let name: PythonLiteral =
        field.title.map { .tuple([.string($0), .string(field.name)]) } ?? .string(field.name)
      guard let base = field.dtype.descrOrNil else { return nil }
      if field.shape.isEmpty {
        entries.append(.tuple([name, base]))
      } else {
        entries.append(.tuple([name, base, .tuple(field.shape.map { .integer($0) })]))
      }
      offset += field.byteCount
    }
    if itemSize > offset {
      entries.append(.tuple([.string(""), .string("|V\(itemSize - offset)")]))
    } else if itemSize < offset {
      return nil
    }
    return .list(entries)
  }

  /// Reads numpy's `descr` (a type string such as `'<f4'`, `'d'` or `'float32'`, or a
  /// record's field list) as `numpy.lib.format.descr_to_dtype` does.
  public init(descr: PythonLiteral) throws(TensorIOError) {
    var budget = DescrBudget()
    self = try DType.parse(descr, budget: &budget)
  }

  /// Guards against descr lists built to exhaust memory or time: a bound on fields
  /// and nesting.
  struct DescrBudget {
    var fields = 0
    var depth = 0
  }

  static let maxFields = 1 << 20
  static let maxNesting = 64

  private static func invalid(_ descr: PythonLiteral) -> TensorIOError {
    TensorIOError(.invalidDescr(PyRepr.repr(descr)))
  }

  private static func parse(_ descr: PythonLiteral, budget: inout DescrBudget) throws(TensorIOError) -> DType {
    switch descr {
    case .string(let s):
      return try DType(typeString: s)
    case .tuple:
      // A sub-array dtype `(base, shape)`: only meaningful as a record field.
      throw TensorIOError(.unsupportedDType("sub-array dtype \(PyRepr.repr(descr)) as the array's dtype"))
    case .list(let items):
      budget.depth += 1
      defer { budget.depth -= 1 }
      if budget.depth > maxNesting { throw TensorIOError(.invalidDescr("records nested too deeply")) }
      var fields: [Field] = []
      var offset = 0
      var seen = Set<String>()
      for item in items {
        budget.fields += 1
        if budget.fields > maxFields { throw TensorIOError(.invalidDescr("too many fields")) }
        guard case .tuple(let parts) = item, parts.count == 2 || parts.count == 3 else {
          throw invalid(descr)
        }
        var (base, shape) = try parseFieldType(parts[1], budget: &budget)
        if parts.count == 3 {
          shape = try parseShape(parts[2], context: descr) + shape
        }
        var count = 1
        for dim in shape {
          let (product, overflow) = count.multipliedReportingOverflow(by: dim)
          if overflow { throw TensorIOError(.shapeOverflow(PyRepr.repr(item))) }
          count = product
        }
        let (bytes, overflow) = base.itemSize.multipliedReportingOverflow(by: count)
        if overflow { throw TensorIOError(.shapeOverflow(PyRepr.repr(item))) }
        let name: String
        var title: String? = nil
        switch parts[0] {
        case .string(let n): name = n
        case .tuple(let pair):
          guard pair.count == 2, case .string(let t) = pair[0], case .string(let n) = pair[1] else {
            throw invalid(descr)
          }
          name = n
          title = t
        default:
          throw invalid(descr)
        }
        let isPadding: Bool
        if case .void = base.kind, name.isEmpty, title == nil { isPadding = true } else { isPadding = false }
        if !isPadding {
          if seen.contains(name) || (title.map { seen.contains($0) } ?? false) || title == name {
            throw TensorIOError(.invalidDescr("field name '\(name)' used twice"))
          }
          seen.insert(name)
          if let title { seen.insert(title) }
          fields.append(Field(name: name, title: title, dtype: base, shape: shape, offset: offset))
        }
        let (next, over) = offset.addingReportingOverflow(bytes)
        if over { throw TensorIOError(.shapeOverflow(PyRepr.repr(item))) }
        offset = next
      }
      if offset == 0 { throw TensorIOError(.unsupportedDType("zero-sized record \(PyRepr.repr(descr))")) }
      return DType(.structured(fields: fields, itemSize: offset))
    default:
      throw invalid(descr)
    }
  }

  /// A field's type: a descr, or a `(descr, shape)` sub-array pair.
  private static func parseFieldType(_ value: PythonLiteral, budget: inout DescrBudget) throws(TensorIOError)
    -> (DType, [Int])
  {
    if case .tuple(let pair) = value {
      guard pair.count == 2 else { throw invalid(value) }
      let (base, inner) = try parseFieldType(pair[0], budget: &budget)
      return (base, try parseShape(pair[1], context: value) + inner)
    }
    return (try parse(value, budget: &budget), [])
  }

  private static func parseShape(_ value: PythonLiteral, context: PythonLiteral) throws(TensorIOError) -> [Int] {
    switch value {
    case .integer(let n) where n >= 0: return [n]
    case .tuple(let dims):
      var shape: [Int] = []
      for dim in dims {
        guard case .integer(let n) = dim, n >= 0 else { throw invalid(context) }
        shape.append(n)
      }
      return shape
    default:
      throw invalid(context)
    }
  }
}

extension DType {
  /// Reads a numpy type string: `'<f4'`, `'=i8'`, `'|b1'`, `'d'`, `'?'`, `'S10'`,
  /// `'float32'`, ... Object, datetime, long double and zero-sized types are refused
  /// with a reason naming them.
  public init(typeString s: String) throws(TensorIOError) {
    if let named = DType.namedTypes[s] {
      self = named
      return
    }
    switch s {
    case "O", "|O", "<O", ">O", "=O", "O8", "|O8", "<O8", ">O8", "=O8", "object", "object_":
      throw TensorIOError(.objectDType)
    case "float96", "complex192",
      "str", "bytes", "unicode", "void", "a", "str_", "bytes_", "void_":
      throw TensorIOError(.unsupportedDType(s))
    default: break
    }
    var scalars = Substring(s).unicodeScalars
    var order = ByteOrder.native
    if let first = scalars.first, "<>|=".unicodeScalars.contains(first) {
      order = first == "<" ? .little : first == ">" ? .big : .native
      scalars = scalars.dropFirst()
    }
    guard let code = scalars.first else { throw TensorIOError(.invalidDescr(PyRepr.repr(.string(s)))) }
    let rest = String(scalars.dropFirst())
    if code == "M" || code == "m" {
      // datetime64 / timedelta64: M8 or m8, then an optional [<multiplier><unit>].
      let body = Substring(rest)
      guard body.hasPrefix("8"), let unit = TimeUnit(suffix: body.dropFirst()) else {
        throw TensorIOError(.invalidDescr(PyRepr.repr(.string(s))))
      }
      self = DType(code == "M" ? .datetime(unit: unit) : .timedelta(unit: unit), byteOrder: order)
      return
    }
    if rest.isEmpty {
      if let kind = DType.typeCodes[code] {
        self = DType(kind, byteOrder: order)
        return
      }
      switch code {
      case "O": throw TensorIOError(.objectDType)
      case "T", "S", "U", "V", "a":
        throw TensorIOError(.unsupportedDType(s))
      default: throw TensorIOError(.invalidDescr(PyRepr.repr(.string(s))))
      }
    }
    guard rest.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }), let size = Int(rest) else {
      throw TensorIOError(.invalidDescr(PyRepr.repr(.string(s))))
    }
    let kind: Kind
    switch code {
    case "b" where size == 1: kind = .bool
    case "i" where [1, 2, 4, 8].contains(size): kind = .int(bytes: size)
    case "u" where [1, 2, 4, 8].contains(size): kind = .uint(bytes: size)
    case "f" where [2, 4, 8, 16].contains(size): kind = .float(bytes: size)
    case "c" where [8, 16, 32].contains(size): kind = .complex(bytes: size)
    case "f" where size == 12, "c" where size == 24:
      throw TensorIOError(
        .unsupportedDType("\(s): a 12-byte long double (32-bit x86); numpy's long double here is 16 bytes"))
    case "O" where size == 8 || size == 4:
      throw TensorIOError(.objectDType)
    case "S", "a", "U", "V":
      if code == "U" {
        guard size <= Int.max / 4 else { throw TensorIOError(.shapeOverflow(s)) }
        kind = .unicode(length: size)
      } else {
        kind = code == "V" ? .void(length: size) : .bytes(length: size)
      }
    default:
      throw TensorIOError(.invalidDescr(PyRepr.repr(.string(s))))
    }
    self = DType(kind, byteOrder: order)
  }

  /// One-character type codes (C type names) numpy accepts alone, on x86-64 Linux.
  private static let typeCodes: [Unicode.Scalar: Kind] = [
    "?": .bool, "b": .int(bytes: 1), "B": .uint(bytes: 1),
    "h": .int(bytes: 2), "H": .uint(bytes: 2),
    "i": .int(bytes: 4), "I": .uint(bytes: 4),
    "l": .int(bytes: 8), "L": .uint(bytes: 8),
    "q": .int(bytes: 8), "Q": .uint(bytes: 8),
    "p": .int(bytes: 8), "P": .uint(bytes: 8),
    "n": .int(bytes: 8), "N": .uint(bytes: 8),
    "e": .float(bytes: 2), "f": .float(bytes: 4), "d": .float(bytes: 8),
    "F": .complex(bytes: 8), "D": .complex(bytes: 16),
    "g": .float(bytes: 16), "G": .complex(bytes: 32),
  ]

  /// Type names numpy accepts without a byte-order prefix.
  private static let namedTypes: [String: DType] = {
    var table: [String: DType] = [
      "bool": .bool, "bool_": .bool,
      "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64,
      "datetime64": DType(.datetime(unit: .generic)), "timedelta64": DType(.timedelta(unit: .generic)),
      "uint8": .uint8, "uint16": .uint16, "uint32": .uint32, "uint64": .uint64,
      "float16": .float16, "float32": .float32, "float64": .float64,
      "complex64": .complex64, "complex128": .complex128,
      "half": .float16, "single": .float32, "double": .float64, "float": .float64,
      "int": .int64, "int_": .int64, "long": .int64, "ulong": .uint64, "uint": .uint64,
      "longlong": .int64, "ulonglong": .uint64, "short": .int16, "ushort": .uint16,
      "intc": .int32, "uintc": .uint32, "byte": .int8, "ubyte": .uint8,
      "intp": .int64, "uintp": .uint64, "complex": .complex128,
      "cdouble": .complex128, "csingle": .complex64,
      "longdouble": DType(.float(bytes: 16)), "float128": DType(.float(bytes: 16)),
      "clongdouble": DType(.complex(bytes: 32)), "complex256": DType(.complex(bytes: 32)),
    ]
    table.reserveCapacity(table.count)
    return table
  }()
}
