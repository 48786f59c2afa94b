extension HostArray {
  /// The elements as JSON text, nested lists in C order (a bare value for a 0-d
  /// array), every value exact: integers in full; floats as the shortest decimal that
  /// reads back to the same value of their own type, `"nan"`, `"inf"` and `"-inf"` as
  /// strings; complex numbers as `[re, im]`; bools as JSON bools; `S` and raw `V`
  /// elements as Latin-1 strings of their bytes, `U` as strings; datetimes and
  /// timedeltas as their integer count of the dtype's unit (`"NaT"` for NaT);
  /// structured elements as objects in field order.
  public func valuesJSON() throws(TensorIOError) -> String {
    let storage = try requireHostStorage()
    try storage.checkOpen()
    let base = UnsafeRawPointer(storage.mutableBase)
    var out = ""
    func element(_ offset: Int) {
      ValuesJSON.write(PrintValue.decode(base + offset, dtype), dtype, to: &out)
    }
    func nest(_ axis: Int, _ offset: Int) {
      guard axis < shape.count else { return element(offset) }
      out += "["
      for i in 0..<shape[axis] {
        if i > 0 { out += ", " }
        nest(axis + 1, offset + i * strides[axis])
      }
      out += "]"
    }
    nest(0, byteOffset)
    return out
  }
}

/// JSON text for decoded elements.
enum ValuesJSON {
  static func write(_ value: PrintValue, _ dtype: DType, to out: inout String) {
    switch value {
    case .bool(let b): out += b ? "true" : "false"
    case .signed(let n): out += String(n)
    case .unsigned(let n): out += String(n)
    case .float(let x): out += number(x)
    case .complex(let re, let im): out += "[" + number(re) + ", " + number(im) + "]"
    case .bytes(let b), .void(let b):
      JSONText.append(String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })), to: &out)
    case .text(let s): JSONText.append(s, to: &out)
    case .time(let t): out += t == TimeCast.notATime ? "\"NaT\"" : String(t)
    case .record(let parts):
      guard case .structured(let fields, _) = dtype.kind else { return }
      out += "{"
      for (i, (field, part)) in zip(fields, parts).enumerated() {
        if i > 0 { out += ", " }
        JSONText.append(field.name, to: &out)
        out += ": "
        write(part, field.dtype, to: &out)
      }
      out += "}"
    case .subarray(let shape, let values):
      var position = 0
      func nest(_ axis: Int) {
        guard axis < shape.count else {
          if position < values.count { write(values[position], dtype, to: &out) }
          position += 1
          return
        }
        out += "["
        for i in 0..<shape[axis] {
          if i > 0 { out += ", " }
          nest(axis + 1)
        }
        out += "]"
      }
      nest(0)
    }
  }

  private static func number(_ x: any PrintableFloat) -> String {
    func text<T: PrintableFloat>(_ x: T) -> String {
      if x.isNaN { return "\"nan\"" }
      if x.isInfinite { return x < 0 ? "\"-inf\"" : "\"inf\"" }
      return x.description
    }
    return text(x)
  }

}
