/// One array element decoded for printing.
enum PrintValue {
  case bool(Bool)
  case signed(Int64)
  case unsigned(UInt64)
  /// A float of its own precision (`Float16`, `Float`, `Double`, `Float80`).
  case float(any PrintableFloat)
  /// A complex number's parts, each of the component precision.
  case complex(any PrintableFloat, any PrintableFloat)
  /// An `S` element, trailing NULs removed (as numpy's `item()` does).
  case bytes([UInt8])
  /// A `U` element, trailing NULs removed.
  case text(String)
  /// A raw `V` element.
  case void([UInt8])
  /// A datetime64 or timedelta64 count (the dtype holds the unit).
  case time(Int64)
  /// A structured element: one value per field, in field order.
  case record([PrintValue])
  /// A field with a subarray shape: its elements in C order.
  case subarray(shape: [Int], values: [PrintValue])

  /// Decodes the element of `dtype` at `pointer`.
  static func decode(_ pointer: UnsafeRawPointer, _ dtype: DType) -> PrintValue {
    let swapped = dtype.byteOrder.needsSwap
    switch dtype.kind {
    case .bool: return .bool(pointer.load(as: UInt8.self) != 0)
    case .int(1): return .signed(Int64(Int8.load(from: pointer, swapped: false)))
    case .int(2): return .signed(Int64(Int16.load(from: pointer, swapped: swapped)))
    case .int(4): return .signed(Int64(Int32.load(from: pointer, swapped: swapped)))
    case .int: return .signed(Int64.load(from: pointer, swapped: swapped))
    case .uint(1): return .unsigned(UInt64(pointer.load(as: UInt8.self)))
    case .uint(2): return .unsigned(UInt64(UInt16.load(from: pointer, swapped: swapped)))
    case .uint(4): return .unsigned(UInt64(UInt32.load(from: pointer, swapped: swapped)))
    case .uint: return .unsigned(UInt64.load(from: pointer, swapped: swapped))
    case .float(2): return .float(Float16.load(from: pointer, swapped: swapped))
    case .float(4): return .float(Float.load(from: pointer, swapped: swapped))
    case .float(8): return .float(Double.load(from: pointer, swapped: swapped))
    case .float: return .float(Float80.load(from: pointer, swapped: swapped))
    case .complex(8):
      let c = Complex<Float>.load(from: pointer, swapped: swapped)
      return .complex(c.real, c.imaginary)
    case .complex(16):
      let c = Complex<Double>.load(from: pointer, swapped: swapped)
      return .complex(c.real, c.imaginary)
    case .complex:
      let c = Complex<Float80>.load(from: pointer, swapped: swapped)
      return .complex(c.real, c.imaginary)
    case .bytes(let n):
      var bytes = Array(UnsafeRawBufferPointer(start: pointer, count: n))
      while bytes.last == 0 { bytes.removeLast() }
      return .bytes(bytes)
    case .unicode(let n):
      var scalars = (0..<n).map { UInt32.load(from: pointer + 4 * $0, swapped: swapped) }
      while scalars.last == 0 { scalars.removeLast() }
      var text = ""
      text.unicodeScalars.append(contentsOf: scalars.map { Unicode.Scalar($0) ?? "\u{FFFD}" })
      return .text(text)
    case .void(let n): return .void(Array(UnsafeRawBufferPointer(start: pointer, count: n)))
    case .datetime, .timedelta: return .time(Int64.load(from: pointer, swapped: swapped))
    case .structured(let fields, _):
      return .record(
        fields.map { field in
          guard !field.shape.isEmpty else { return decode(pointer + field.offset, field.dtype) }
          let values = (0..<field.elementCount).map {
            decode(pointer + field.offset + $0 * field.dtype.itemSize, field.dtype)
          }
          return .subarray(shape: field.shape, values: values)
        })
    }
  }

  /// The float, when this is one.
  var floatValue: (any PrintableFloat)? {
    if case .float(let x) = self { return x }
    return nil
  }

  /// The count, when this is a time value.
  var timeValue: Int64? {
    if case .time(let t) = self { return t }
    return nil
  }
}
