import TensorIO

/// `show --json`: `{"path", "index", "descr", "shape", "values"}`.
enum ShowJSON {
  /// The document for the selection `layout` whose values are the JSON text `values`.
  static func document(path: String, index: ArrayIndex, layout: ArrayLayout, values: String) -> JSONValue {
    .object([
      ("path", .string(path)),
      ("index", .string(index.description)),
      ("descr", JSONValue(literal: layout.dtype.descr)),
      ("shape", .array(layout.shape.map { .integer($0) })),
      ("values", .raw(values)),
    ])
  }

  /// Prints the document for the selection `layout` to standard output, its values
  /// streamed by `values` (which hands its JSON text to the given writer a piece at a
  /// time), so that a selection of any size prints in bounded memory.
  static func print(
    path: String, index: ArrayIndex, layout: ArrayLayout,
    values: ((String) -> Void) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    // "values" is the document's last member: everything before its value, then the
    // values, then the closing brace.
    let framed = document(path: path, index: index, layout: layout, values: "").rendered
    Swift.print(framed.dropLast(), terminator: "")
    try values { Swift.print($0, terminator: "") }
    Swift.print("}")
  }
}
