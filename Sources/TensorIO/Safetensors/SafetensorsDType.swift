/// The element types of the safetensors format, in the reference implementation's
/// order (its `Dtype` enumeration, smallest alignment first), which decides where a
/// writer puts each tensor's data.
public enum SafetensorsDType: String, Sendable, Hashable, CaseIterable {
  case bool = "BOOL"
  case uint8 = "U8"
  case int8 = "I8"
  case float8E5M2 = "F8_E5M2"
  case float8E4M3 = "F8_E4M3"
  case int16 = "I16"
  case uint16 = "U16"
  case float16 = "F16"
  case bfloat16 = "BF16"
  case int32 = "I32"
  case uint32 = "U32"
  case float32 = "F32"
  case complex64 = "C64"
  case float64 = "F64"
  case int64 = "I64"
  case uint64 = "U64"

  /// Bytes per element.
  public var itemSize: Int {
    switch self {
    case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
    case .int16, .uint16, .float16, .bfloat16: return 2
    case .int32, .uint32, .float32: return 4
    case .complex64, .float64, .int64, .uint64: return 8
    }
  }

  /// The numpy dtype of the same elements (little-endian); nil for BF16 and the F8
  /// types, which numpy does not have.
  public var numpyDType: DType? {
    switch self {
    case .bool: return DType(.bool)
    case .uint8: return DType(.uint(bytes: 1))
    case .int8: return DType(.int(bytes: 1))
    case .int16: return DType(.int(bytes: 2), byteOrder: .little)
    case .uint16: return DType(.uint(bytes: 2), byteOrder: .little)
    case .float16: return DType(.float(bytes: 2), byteOrder: .little)
    case .int32: return DType(.int(bytes: 4), byteOrder: .little)
    case .uint32: return DType(.uint(bytes: 4), byteOrder: .little)
    case .float32: return DType(.float(bytes: 4), byteOrder: .little)
    case .complex64: return DType(.complex(bytes: 8), byteOrder: .little)
    case .float64: return DType(.float(bytes: 8), byteOrder: .little)
    case .int64: return DType(.int(bytes: 8), byteOrder: .little)
    case .uint64: return DType(.uint(bytes: 8), byteOrder: .little)
    case .bfloat16, .float8E5M2, .float8E4M3: return nil
    }
  }

  /// The dtype an array of these elements has here: the numpy dtype, or raw bytes
  /// (`|V2` for BF16, `|V1` for the F8 types), which keep the bits.
  public var arrayDType: DType { numpyDType ?? DType(.void(length: itemSize)) }

  /// Whether the elements are floats numpy has no dtype for (BF16, F8): they read as
  /// their exact float32 values (`Upcast`).
  public var isExtendedFloat: Bool { numpyDType == nil }

  /// The safetensors dtype of a numpy dtype (either byte order; the data is written
  /// little-endian): bool, integers, float16/32/64 and complex64. Nil for the others.
  public init?(numpy dtype: DType) {
    switch dtype.kind {
    case .bool: self = .bool
    case .int(1): self = .int8
    case .int(2): self = .int16
    case .int(4): self = .int32
    case .int(8): self = .int64
    case .uint(1): self = .uint8
    case .uint(2): self = .uint16
    case .uint(4): self = .uint32
    case .uint(8): self = .uint64
    case .float(2): self = .float16
    case .float(4): self = .float32
    case .float(8): self = .float64
    case .complex(8): self = .complex64
    default: return nil
    }
  }

  /// The name as the header spells it, for comparing bytes without building a string.
  var staticName: StaticString {
    switch self {
    case .bool: return "BOOL"
    case .uint8: return "U8"
    case .int8: return "I8"
    case .float8E5M2: return "F8_E5M2"
    case .float8E4M3: return "F8_E4M3"
    case .int16: return "I16"
    case .uint16: return "U16"
    case .float16: return "F16"
    case .bfloat16: return "BF16"
    case .int32: return "I32"
    case .uint32: return "U32"
    case .float32: return "F32"
    case .complex64: return "C64"
    case .float64: return "F64"
    case .int64: return "I64"
    case .uint64: return "U64"
    }
  }

  /// Every case, in the reference's order (`allCases` built once).
  static let ordered = allCases

  /// The position in the reference's enumeration.
  var rank: Int { Self.ordered.firstIndex(of: self) ?? 0 }
}
