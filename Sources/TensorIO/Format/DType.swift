/// An element type, as numpy's `dtype` describes it in an `.npy` header.
///
/// Covers booleans, signed and unsigned integers, IEEE floats (half, single, double),
/// complex numbers, fixed-length byte strings (`S`), UCS-4 strings (`U`), raw bytes
/// (`V`) and structured records (named fields at explicit offsets, nested records,
/// sub-array fields). Value semantics: two dtypes are equal when numpy would write the
/// same `descr` for them.
public struct DType: Sendable, Hashable {
  /// What an element is, independent of its byte order.
  public enum Kind: Sendable, Hashable {
    /// numpy `bool` (`b1`): one byte, 0 or 1.
    case bool
    /// A signed integer of 1, 2, 4 or 8 bytes (`i1` ... `i8`).
    case int(bytes: Int)
    /// An unsigned integer of 1, 2, 4 or 8 bytes (`u1` ... `u8`).
    case uint(bytes: Int)
    /// An IEEE-754 float of 2, 4 or 8 bytes (`f2`, `f4`, `f8`).
    case float(bytes: Int)
    /// A complex number of 8 or 16 bytes (`c8`, `c16`): real then imaginary part.
    case complex(bytes: Int)
    /// A byte string of fixed length (`S<n>`), zero-padded.
    case bytes(length: Int)
    /// A UCS-4 string of fixed length in characters (`U<n>`), 4 bytes a character.
    case unicode(length: Int)
    /// Raw bytes (`V<n>`).
    case void(length: Int)
    /// A record of named fields.
    case structured(fields: [Field], itemSize: Int)
    /// numpy `datetime64` (`M8[unit]`): a signed 64-bit count of `unit`s since
    /// 1970-01-01T00:00 UTC; the smallest value is NaT (not a time).
    case datetime(unit: TimeUnit)
    /// numpy `timedelta64` (`m8[unit]`): a signed 64-bit count of `unit`s; the
    /// smallest value is NaT.
    case timedelta(unit: TimeUnit)
  }

  /// One named field of a structured dtype.
  public struct Field: Sendable, Hashable {
    /// The field's name (numpy's `names` entry).
    public var name: String
    /// An optional title, numpy's `(title, name)` pair.
    public var title: String?
    /// The element type of the field.
    public var dtype: DType
    /// The sub-array shape of the field; empty for a scalar field.
    public var shape: [Int]
    /// The byte offset of the field in the record.
    public var offset: Int

    /// Creates a field.
    public init(name: String, title: String? = nil, dtype: DType, shape: [Int] = [], offset: Int) {
      self.name = name
      self.title = title
      self.dtype = dtype
      self.shape = shape
      self.offset = offset
    }

    /// Elements in the sub-array (1 for a scalar field).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes the field occupies in the record.
    public var byteCount: Int { dtype.itemSize * elementCount }
  }

  /// What an element is.
  public var kind: Kind
  /// The byte order of multi-byte values; `.notApplicable` where numpy writes `|`.
  public var byteOrder: ByteOrder

  /// Creates a dtype, normalising the byte order as numpy does (`|` for one-byte types,
  /// byte strings, raw bytes and records).
  public init(_ kind: Kind, byteOrder: ByteOrder = .native) {
    self.kind = kind
    switch kind {
    case .bool, .bytes, .void, .structured: self.byteOrder = .notApplicable
    case .int(let n), .uint(let n): self.byteOrder = n == 1 ? .notApplicable : byteOrder
    case .float, .complex, .unicode, .datetime, .timedelta:
      self.byteOrder = byteOrder == .notApplicable ? .native : byteOrder
    }
  }

  /// Bytes per element (numpy's `itemsize`).
  public var itemSize: Int {
    switch kind {
    case .bool: return 1
    case .int(let n), .uint(let n), .float(let n), .complex(let n): return n
    case .bytes(let n), .void(let n): return n
    case .unicode(let n): return 4 * n
    case .structured(_, let size): return size
    case .datetime, .timedelta: return 8
    }
  }

  /// The natural alignment of an element in bytes: what a typed pointer to it needs
  /// (the item size for numbers, half of it for complex, 4 for UCS-4, 1 for bytes, the
  /// largest field's for records).
  public var alignment: Int {
    switch kind {
    case .bool, .bytes, .void: return 1
    case .int(let n), .uint(let n), .float(let n): return n
    case .complex(let n): return n / 2
    case .unicode: return 4
    case .datetime, .timedelta: return 8
    case .structured(let fields, _): return fields.map(\.dtype.alignment).max() ?? 1
    }
  }

  /// The same dtype with multi-byte values in `order` (fields of records included).
  public func withByteOrder(_ order: ByteOrder) -> DType {
    switch kind {
    case .structured(let fields, let size):
      let swapped = fields.map { field -> Field in
        var copy = field
        copy.dtype = field.dtype.withByteOrder(order)
        return copy
      }
      return DType(.structured(fields: swapped, itemSize: size))
    default:
      return order == .notApplicable ? self : DType(kind, byteOrder: order)
    }
  }

  /// Whether elements are plain numbers or booleans (not strings, raw bytes or records).
  public var isNumeric: Bool {
    switch kind {
    case .bool, .int, .uint, .float, .complex: return true
    case .bytes, .unicode, .void, .structured, .datetime, .timedelta: return false
    }
  }

  /// Whether elements are `datetime64` or `timedelta64` values.
  public var isTime: Bool {
    switch kind {
    case .datetime, .timedelta: return true
    default: return false
    }
  }

  /// numpy's `dtype.name`: `float32`, `bool`, `bytes40`, `str160`, `void96`, ...
  public var name: String {
    switch kind {
    case .bool: return "bool"
    case .int(let n): return "int\(8 * n)"
    case .uint(let n): return "uint\(8 * n)"
    case .float(let n): return "float\(8 * n)"
    case .complex(let n): return "complex\(8 * n)"
    case .bytes(let n): return n == 0 ? "bytes" : "bytes\(8 * n)"
    case .unicode(let n): return n == 0 ? "str" : "str\(32 * n)"
    case .void(let n): return n == 0 ? "void" : "void\(8 * n)"
    case .structured(_, let size): return "void\(8 * size)"
    case .datetime(let unit): return "datetime64\(unit)"
    case .timedelta(let unit): return "timedelta64\(unit)"
    }
  }

  /// numpy's `dtype.str`: byte order, kind character and item size (`<f4`, `|S5`, `|V12`).
  public var typeString: String {
    let order = String(byteOrder.character)
    switch kind {
    case .bool: return "|b1"
    case .int(let n): return "\(order)i\(n)"
    case .uint(let n): return "\(order)u\(n)"
    case .float(let n): return "\(order)f\(n)"
    case .complex(let n): return "\(order)c\(n)"
    case .bytes(let n): return "|S\(n)"
    case .unicode(let n): return "\(order)U\(n)"
    case .void(let n): return "|V\(n)"
    case .structured(_, let size): return "|V\(size)"
    case .datetime(let unit): return "\(order)M8\(unit)"
    case .timedelta(let unit): return "\(order)m8\(unit)"
    }
  }
}

extension DType {
  /// `bool` (`|b1`).
  public static let bool = DType(.bool)
  /// `int8` (`|i1`).
  public static let int8 = DType(.int(bytes: 1))
  /// `int16` in native byte order.
  public static let int16 = DType(.int(bytes: 2))
  /// `int32` in native byte order.
  public static let int32 = DType(.int(bytes: 4))
  /// `int64` in native byte order.
  public static let int64 = DType(.int(bytes: 8))
  /// `uint8` (`|u1`).
  public static let uint8 = DType(.uint(bytes: 1))
  /// `uint16` in native byte order.
  public static let uint16 = DType(.uint(bytes: 2))
  /// `uint32` in native byte order.
  public static let uint32 = DType(.uint(bytes: 4))
  /// `uint64` in native byte order.
  public static let uint64 = DType(.uint(bytes: 8))
  /// `float16` in native byte order.
  public static let float16 = DType(.float(bytes: 2))
  /// `float32` in native byte order.
  public static let float32 = DType(.float(bytes: 4))
  /// `float64` in native byte order.
  public static let float64 = DType(.float(bytes: 8))
  /// `complex64` in native byte order.
  public static let complex64 = DType(.complex(bytes: 8))
  /// `complex128` in native byte order.
  public static let complex128 = DType(.complex(bytes: 16))
}

extension DType: CustomStringConvertible {
  /// numpy's `descr` as it appears in a header: `'<f4'`, or a list for records.
  public var description: String { PyRepr.repr(descr) }
}
