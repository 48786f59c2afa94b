extension HostArray {
  /// The elements as JSON text, nested lists in C order (a bare value for a 0-d
  /// array), every value exact: integers in full; floats as the shortest decimal that
  /// reads back to the same value of their own type, `"nan"`, `"inf"` and `"-inf"` as
  /// strings; complex numbers as `[re, im]`; bools as JSON bools; `S` and raw `V`
  /// elements as Latin-1 strings of their bytes, `U` as strings; datetimes and
  /// timedeltas as their integer count of the dtype's unit (`"NaT"` for NaT);
  /// structured elements as objects in field order.
  public func valuesJSON() throws(TensorIOError) -> String {
    var out = ""
    try writeValuesJSON { out += $0 }
    return out
  }

  /// `valuesJSON()` handed to `write` a piece of about 64 KiB at a time, in order, so
  /// that an array of any size prints in bounded memory.
  public func writeValuesJSON(_ write: (String) -> Void) throws(TensorIOError) {
    let storage = try requireHostStorage()
    try storage.checkOpen()
    let base = UnsafeRawPointer(storage.mutableBase)
    let dtype = self.dtype
    ValuesJSON.render(layout, { PrintValue.decode(base + $0, dtype) }, write: write)
  }
}

/// JSON text for decoded elements.
enum ValuesJSON {
  /// Every element of `layout` as nested JSON lists, each read through `read` (given
  /// its byte offset), in C order, handed to `sink` a piece of about 64 KiB at a time.
  static func render(_ layout: ArrayLayout, _ read: (Int) -> PrintValue, write sink: (String) -> Void) {
    let piece = 64 << 10
    var out = ""
    out.reserveCapacity(piece + 1024)
    func nest(_ axis: Int, _ offset: Int) {
      guard axis < layout.shape.count else {
        write(read(offset), layout.dtype, to: &out)
        if out.utf8.count >= piece {
          sink(out)
          out.removeAll(keepingCapacity: true)
        }
        return
      }
      out += "["
      for i in 0..<layout.shape[axis] {
        if i > 0 { out += ", " }
        nest(axis + 1, offset + i * layout.strides[axis])
      }
      out += "]"
    }
    nest(0, layout.byteOffset)
    sink(out)
  }

  /// The byte offsets of every element of `layout`, in C order (what `render` reads).
  static func offsets(_ layout: ArrayLayout) -> [Int] {
    var offsets: [Int] = []
    ArrayLayout.forEachElement(shape: layout.shape, strides: layout.strides) { offsets.append(layout.byteOffset + $0) }
    return offsets
  }

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
