import TensorIO

/// `show --json`: `{"path", "index", "descr", "shape", "values"}`.
enum ShowJSON {
  static func document(path: String, index: ArrayIndex, array: NDArray) throws -> JSONValue {
    .object([
      ("path", .string(path)),
      ("index", .string(index.description)),
      ("descr", JSONValue(literal: array.dtype.descr)),
      ("shape", .array(array.shape.map { .integer($0) })),
      ("values", .raw(try array.valuesJSON())),
    ])
  }
}
