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
}
