import SystemPackage
import TensorIO

extension Inspect {
  /// A safetensors file's header (or just tensor `only`): metadata, and per tensor its
  /// safetensors dtype, numpy descr, shape and where its data lies; `--stats` reads
  /// BF16 and F8 tensors as their float32 values.
  func inspectSafetensors(path: String, only: String?) throws -> (json: JSONValue, text: String) {
    let file = try SafetensorsFile(path: FilePath(path))
    if verify { try file.verify() }
    let tensors = try only.map { [try file.info($0)] } ?? Array(file.tensors)
    var rows: [JSONValue] = []
    var lines = [
      path,
      "  format   safetensors, \(file.tensors.count) tensors, header \(file.headerLength) bytes",
    ]
    for entry in file.metadata { lines.append("  metadata \(entry.key) = \(entry.value)") }
    for info in tensors {
      let descr: JSONValue = info.dtype.numpyDType.map { JSONValue(literal: $0.descr) } ?? .null
      var fields: [(String, JSONValue)] = [
        ("name", .string(info.name)),
        ("dtype", .string(info.dtype.rawValue)),
        ("descr", descr),
        ("shape", .array(info.shape.map { .integer($0) })),
        ("count", .integer(info.count)),
        ("data_offset", .integer(info.dataOffset)),
        ("data_bytes", .integer(info.byteCount)),
        ("mappable", .bool(info.isMappable)),
      ]
      var line =
        "  \(info.name)  \(info.dtype.rawValue)"
        + (info.dtype.numpyDType.map { " \($0.name) \($0)" } ?? " (no numpy dtype)")
        + " shape \(Self.shapeText(info.shape)), \(formatBytes(info.byteCount))"
        + (info.isMappable ? ", mappable" : "")
      if stats {
        var array = try file.mapOrLoad(info.name)
        if info.dtype.isExtendedFloat { array = try Upcast.float32(array, from: info.dtype) }
        let summary = try ArrayStatistics.compute(array)
        fields.append(("stats", Self.statsJSON(summary)))
        line += "\n    stats  " + Self.statsText(summary)
      }
      rows.append(.object(fields))
      lines.append(line)
    }
    let metadata = JSONValue.object(file.metadata.map { ($0.key, .string($0.value)) })
    let json = JSONValue.object([
      ("path", .string(path)), ("format", .string("safetensors")), ("header_length", .integer(file.headerLength)),
      ("metadata", metadata), ("tensors", .array(rows)),
    ])
    return (json, lines.joined(separator: "\n") + "\n")
  }
}
