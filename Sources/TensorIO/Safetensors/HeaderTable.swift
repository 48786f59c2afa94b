/// A safetensors header, parsed and validated, kept compact: one fixed-size record per
/// tensor (its name as a range of the header's bytes, its shape as a range of one shared
/// list of dimensions), so that opening a file with thousands of tensors allocates
/// nothing per tensor; names and shapes become `String`s and arrays when asked for.
final class HeaderTable: Sendable {
  /// One tensor's entry.
  struct Record {
    /// Where the name's UTF-8 bytes are in `bytes`, or, when negative, `-1 - k` for
    /// `decodedNames[k]` (a name written with escapes).
    var nameStart: Int
    var nameCount: Int
    var dtype: SafetensorsDType
    /// Where the shape is in `dimensions`.
    var shapeStart: Int
    var rank: Int
    /// The first data offset (relative to the data area) until validated, then absolute.
    var dataOffset: Int
    /// The second data offset until validated, then the byte count.
    var byteCount: Int
  }

  /// The header's bytes (UTF-8 JSON).
  let bytes: [UInt8]
  let records: [Record]
  let dimensions: [Int]
  let decodedNames: [String]
  let metadata: [SafetensorsFile.MetadataEntry]
  private let index: NameIndex

  /// Parses `header` and checks it against a data area of `dataBytes` bytes that starts
  /// at `dataStart` in the file.
  init(_ header: [UInt8], dataStart: Int, dataBytes: Int) throws(TensorIOError) {
    guard Self.isValidUTF8(header) else { throw TensorIOError(.invalidUTF8) }
    var parser = Parser(expected: header.count / 64)
    try header.withUnsafeBufferPointer { (bytes) throws(TensorIOError) in
      try parser.parse(bytes)
      try Self.validate(&parser, dataStart: dataStart, dataBytes: dataBytes)
    }
    bytes = header
    records = parser.records
    dimensions = parser.dimensions
    decodedNames = parser.decodedNames
    metadata = parser.metadata
    index = parser.index
  }

  /// The name of tensor `i`.
  func name(_ i: Int) -> String {
    let r = records[i]
    guard r.nameStart >= 0 else { return decodedNames[-1 - r.nameStart] }
    return bytes.withUnsafeBufferPointer {
      String(decoding: UnsafeBufferPointer(rebasing: $0[r.nameStart..<r.nameStart + r.nameCount]), as: UTF8.self)
    }
  }

  /// The entry of tensor `i`.
  func info(_ i: Int) -> SafetensorsFile.TensorInfo {
    let r = records[i]
    return SafetensorsFile.TensorInfo(
      name: name(i), dtype: r.dtype, shape: Array(dimensions[r.shapeStart..<r.shapeStart + r.rank]),
      dataOffset: r.dataOffset, byteCount: r.byteCount)
  }

  /// Where tensor `name` is in `records`.
  func position(of name: String) -> Int? {
    var name = name
    return name.withUTF8 { wanted in
      bytes.withUnsafeBufferPointer { header in
        index.position(of: UnsafeRawBufferPointer(wanted)) {
          Self.nameBytes(records[$0], header: header, decoded: decodedNames, body: $1)
        }
      }
    }
  }

  /// Calls `body` with the UTF-8 bytes of `record`'s name.
  fileprivate static func nameBytes<Result>(
    _ record: Record, header: UnsafeBufferPointer<UInt8>, decoded: [String],
    body: (UnsafeRawBufferPointer) -> Result
  ) -> Result {
    guard record.nameStart >= 0 else {
      var name = decoded[-1 - record.nameStart]
      return name.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
    return body(
      UnsafeRawBufferPointer(
        UnsafeBufferPointer(rebasing: header[record.nameStart..<record.nameStart + record.nameCount])))
  }

  /// The data must be tiled exactly, in offset order, from 0 to the end of the file;
  /// each entry's byte count must be its shape's. Turns the records' offsets into
  /// absolute offsets and byte counts.
  private static func validate(_ parser: inout Parser, dataStart: Int, dataBytes: Int) throws(TensorIOError) {
    var records: [Record] = []
    swap(&records, &parser.records)
    defer { swap(&records, &parser.records) }
    // Writers put the entries in offset order already; only others are sorted.
    var order = Array(records.indices)
    let inOrder = zip(order.dropFirst(), order).allSatisfy {
      (records[$0].dataOffset, records[$0].byteCount) >= (records[$1].dataOffset, records[$1].byteCount)
    }
    if !inOrder {
      order.sort {
        (records[$0].dataOffset, records[$0].byteCount, $0) < (records[$1].dataOffset, records[$1].byteCount, $1)
      }
    }
    var start = 0
    for i in order {
      let r = records[i]
      let (begin, end) = (r.dataOffset, r.byteCount)
      func name() -> String { parser.name(of: r) }
      guard begin == start, end >= begin else { throw TensorIOError(.invalidOffset(tensor: name())) }
      var count = 1
      for d in parser.dimensions[r.shapeStart..<r.shapeStart + r.rank] {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else { throw TensorIOError(.sizeOverflow(tensor: name())) }
        count = product
      }
      let (bytes, overflow) = count.multipliedReportingOverflow(by: r.dtype.itemSize)
      guard !overflow else { throw TensorIOError(.sizeOverflow(tensor: name())) }
      guard end - begin == bytes else {
        throw TensorIOError(.byteCountMismatch(tensor: name(), expected: bytes, given: end - begin))
      }
      // Past the file's end: refused before any offset is added to it.
      guard end <= dataBytes else {
        throw TensorIOError(.incompleteCoverage(dataEnd: end, fileDataBytes: dataBytes))
      }
      records[i].dataOffset = dataStart + begin
      records[i].byteCount = bytes
      start = end
    }
    guard start == dataBytes else { throw TensorIOError(.incompleteCoverage(dataEnd: start, fileDataBytes: dataBytes)) }
  }

  /// Whether `bytes` are UTF-8: all-ASCII checked eight bytes at a time, anything else
  /// by the standard library.
  private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    let ascii = bytes.withUnsafeBytes { raw in
      var i = 0
      var high: UInt64 = 0
      while i + 8 <= raw.count {
        high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
      }
      while i < raw.count {
        high |= UInt64(raw[i])
        i += 1
      }
      return high & 0x8080_8080_8080_8080 == 0
    }
    return ascii || String(validating: bytes, as: UTF8.self) != nil
  }
}

/// The header read into records.
private struct Parser {
  var records: [HeaderTable.Record] = []
  var dimensions: [Int] = []
  var decodedNames: [String] = []
  var metadata: [SafetensorsFile.MetadataEntry] = []
  var index: NameIndex
  /// The header while it is parsed.
  private var header = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

  init(expected: Int) {
    records.reserveCapacity(expected)
    dimensions.reserveCapacity(expected * 2)
    index = NameIndex(capacity: expected)
  }

  /// The name of `record` (for messages).
  func name(of record: HeaderTable.Record) -> String {
    guard record.nameStart >= 0 else { return decodedNames[-1 - record.nameStart] }
    return String(
      decoding: UnsafeBufferPointer(rebasing: header[record.nameStart..<record.nameStart + record.nameCount]),
      as: UTF8.self)
  }

  mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(TensorIOError) {
    header = bytes
    // Locals while the names are indexed, so that looking one up borrows them.
    var (records, index): ([HeaderTable.Record], NameIndex) = ([], NameIndex(capacity: 0))
    swap(&records, &self.records)
    swap(&index, &self.index)
    defer {
      swap(&records, &self.records)
      swap(&index, &self.index)
    }
    var json = HeaderJSON(bytes)
    try json.beginObject("the header to be an object")
    var first = true
    var pair: [Int] = []
    while let raw = try json.nextRawKey(first: &first) {
      if json.text(raw, is: "__metadata__") {
        metadata = try Self.parseMetadata(&json)
        continue
      }
      var record: HeaderTable.Record
      switch raw {
      case .bytes(let range):
        record = .init(
          nameStart: range.lowerBound, nameCount: range.count, dtype: .bool, shapeStart: 0, rank: 0, dataOffset: 0,
          byteCount: 0)
      case .decoded(let text):
        record = .init(
          nameStart: -1 - decodedNames.count, nameCount: text.utf8.count, dtype: .bool, shapeStart: 0, rank: 0,
          dataOffset: 0, byteCount: 0)
        decodedNames.append(text)
      }
      if !canonicalTensor(&record, &json) {
        try parseTensor(&record, &json, pair: &pair)
      }
      // A repeated name keeps its last entry, as the reference's map does.
      let known = HeaderTable.nameBytes(record, header: bytes, decoded: decodedNames) { name in
        index.insert(name) { p, body in
          HeaderTable.nameBytes(records[p], header: bytes, decoded: decodedNames, body: body)
        }
      }
      if let i = known {
        records[i] = record
      } else {
        records.append(record)
      }
    }
    try json.finish()
  }

  /// A tensor's entry as the reference writes it, `{"dtype":"F32","shape":[2,3],
  /// "data_offsets":[0,24]}` with no white space, read without the general reader (the
  /// same checks: a known dtype, integers without sign, fraction, exponent or leading
  /// zero that fit an `Int`); false, nothing consumed, for any other spelling, which
  /// `parseTensor` then reads.
  private mutating func canonicalTensor(_ record: inout HeaderTable.Record, _ json: inout HeaderJSON) -> Bool {
    let (mark, rank0) = (json.position, dimensions.count)
    func otherSpelling() -> Bool {
      dimensions.removeSubrange(rank0...)
      json.rewind(to: mark)
      return false
    }
    guard json.take(#"{"dtype":""#), let name = json.takePlainStringBody(),
      let dtype = SafetensorsDType(json, .bytes(name)), json.take(#","shape":["#)
    else { return otherSpelling() }
    if !json.take("]") {
      repeat {
        guard let n = json.unsignedInteger() else { return otherSpelling() }
        dimensions.append(n)
      } while json.take(",")
      guard json.take("]") else { return otherSpelling() }
    }
    guard json.take(#","data_offsets":["#), let begin = json.unsignedInteger(), json.take(","),
      let end = json.unsignedInteger(), json.take("]}")
    else { return otherSpelling() }
    record.dtype = dtype
    record.shapeStart = rank0
    record.rank = dimensions.count - rank0
    record.dataOffset = begin
    record.byteCount = end
    return true
  }

  /// A tensor's entry: `dtype`, `shape` and `data_offsets` (each once; other fields are
  /// skipped, as by the reference). `pair` is reused storage.
  private mutating func parseTensor(_ record: inout HeaderTable.Record, _ json: inout HeaderJSON, pair: inout [Int])
    throws(TensorIOError)
  {
    let record0 = record
    func fail(_ reason: String) -> TensorIOError { json.fail("tensor '\(name(of: record0))': \(reason)") }
    try json.beginObject("tensor '\(name(of: record0))' to be an object")
    var dtype: SafetensorsDType?
    var shape: Range<Int>?
    var offsets: (Int, Int)?
    var first = true
    while let key = try json.nextRawKey(first: &first) {
      if json.text(key, is: "dtype") {
        guard dtype == nil else { throw fail("duplicate field `dtype`") }
        guard json.nextIsString() else { throw fail("dtype is not a string") }
        let text = try json.rawString()
        guard let known = SafetensorsDType(json, text) else {
          throw fail("unknown or unsupported dtype \(json.string(text))")
        }
        dtype = known
      } else if json.text(key, is: "shape") {
        guard shape == nil else { throw fail("duplicate field `shape`") }
        guard try json.unsignedList(into: &pair) else { throw fail("shape is not a list of non-negative integers") }
        shape = dimensions.count..<dimensions.count + pair.count
        dimensions.append(contentsOf: pair)
      } else if json.text(key, is: "data_offsets") {
        guard offsets == nil else { throw fail("duplicate field `data_offsets`") }
        guard try json.unsignedList(into: &pair) else {
          throw fail("data_offsets is not a list of non-negative integers")
        }
        guard pair.count == 2 else { throw fail("data_offsets has \(pair.count) elements, not 2") }
        offsets = (pair[0], pair[1])
      } else {
        try json.skipValue(depth: 2)  // other fields are ignored, as by the reference
      }
    }
    guard let dtype else { throw fail("missing field `dtype`") }
    guard let shape else { throw fail("missing field `shape`") }
    guard let offsets else { throw fail("missing field `data_offsets`") }
    record.dtype = dtype
    record.shapeStart = shape.lowerBound
    record.rank = shape.count
    record.dataOffset = offsets.0
    record.byteCount = offsets.1
  }

  /// `__metadata__`: null, or an object of strings (a repeated key keeps its last value).
  private static func parseMetadata(_ json: inout HeaderJSON) throws(TensorIOError) -> [SafetensorsFile.MetadataEntry] {
    if try json.takeNull() { return [] }
    try json.beginObject("__metadata__ to be an object of strings")
    var result: [SafetensorsFile.MetadataEntry] = []
    // Keyed by the bytes: canonically equivalent keys are different keys to the format.
    var positions: [[UInt8]: Int] = [:]
    var first = true
    while let key = try json.nextKey(first: &first) {
      guard json.nextIsString() else { throw json.fail("__metadata__ value of '\(key)' is not a string") }
      let text = try json.string()
      if let i = positions[Array(key.utf8)] {
        result[i].value = text
      } else {
        positions[Array(key.utf8)] = result.count
        result.append(SafetensorsFile.MetadataEntry(key: key, value: text))
      }
    }
    return result
  }
}
