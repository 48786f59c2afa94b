import SystemPackage

/// A `.safetensors` file, opened and validated: its header (tensor names, dtypes,
/// shapes and where their data lies) and `__metadata__`; tensors are mapped or loaded
/// on request.
///
/// The header is checked as the reference implementation checks it: the 8-byte
/// little-endian length (over 100,000,000 refused), UTF-8 JSON, known dtypes,
/// non-negative shapes, `data_offsets` that tile the data area exactly (no gap, no
/// overlap) and end where the file ends, byte counts that match shape times item size,
/// every product checked for overflow. Anything else is a typed error naming the file.
///
/// ```swift
/// let file = try SafetensorsFile(path: "model.safetensors")
/// for tensor in file.tensors { print(tensor.name, tensor.dtype, tensor.shape) }
/// let w = try file.mapOrLoad("embed.weight")
/// ```
public struct SafetensorsFile: Sendable {
  /// One tensor's entry in the header.
  public struct TensorInfo: Sendable, Hashable {
    /// The tensor's name.
    public var name: String
    /// Its element type.
    public var dtype: SafetensorsDType
    /// Its shape (C order).
    public var shape: [Int]
    /// Where its data starts in the file (absolute).
    public var dataOffset: Int
    /// Its data's length in bytes.
    public var byteCount: Int

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Whether the data is aligned for its dtype, so that it maps in place.
    public var isMappable: Bool { dataOffset % dtype.arrayDType.alignment == 0 }

    /// The layout of the data as an array (`dtype.arrayDType`, C order).
    public var layout: ArrayLayout? { ArrayLayout.contiguous(dtype: dtype.arrayDType, shape: shape) }
  }

  /// One `__metadata__` entry.
  public struct MetadataEntry: Sendable, Hashable {
    /// The key.
    public var key: String
    /// The value.
    public var value: String

    /// An entry.
    public init(key: String, value: String) {
      self.key = key
      self.value = value
    }
  }

  /// The reference's limit on the header's length.
  public static let maxHeaderLength = 100_000_000

  /// The file's path.
  public var path: String { file.path }
  /// The header's length in bytes (after the 8-byte length itself).
  public let headerLength: Int
  /// `__metadata__`, in the file's order (a repeated key keeps its last value, as the
  /// reference reads it); empty when absent or null.
  public let metadata: [MetadataEntry]
  /// The tensors, in the header's order.
  public let tensors: [TensorInfo]

  let file: OpenFile
  /// Where each tensor is in `tensors`.
  private let positions: [String: Int]

  /// Opens and validates the file at `path`. Reads only the header.
  public init(path: some FilePathConvertible) throws(TensorIOError) {
    let file = try OpenFile(path: path.filePath)
    self.file = file
    guard file.size >= 8 else { throw TensorIOError(.headerTooSmall, path: file.path) }
    let lengthBytes = try file.read(at: 0, count: 8)
    let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard length <= UInt64(Self.maxHeaderLength) else {
      throw TensorIOError(.headerTooLarge(Int(clamping: length)), path: file.path)
    }
    let n = Int(length)
    guard 8 + n <= file.size else {
      throw TensorIOError(.headerLengthPastEnd(length: n, fileSize: file.size), path: file.path)
    }
    let header = try file.read(at: 8, count: n)
    guard header.count == n else {
      throw TensorIOError(.truncatedData(expected: n, available: header.count), path: file.path)
    }
    let parsed: ([MetadataEntry], [TensorInfo], [String: Int])
    do {
      parsed = try Self.parse(header, dataStart: 8 + n, dataBytes: file.size - 8 - n)
    } catch {
      throw error.naming(file.path)
    }
    metadata = parsed.0
    tensors = parsed.1
    positions = parsed.2
    headerLength = n
  }

  /// The header's tensors and metadata, validated against a data area of `dataBytes`
  /// starting at `dataStart`.
  static func parse(_ header: [UInt8], dataStart: Int, dataBytes: Int) throws(TensorIOError) -> (
    [MetadataEntry], [TensorInfo], [String: Int]
  ) {
    guard String(validating: header, as: UTF8.self) != nil else { throw TensorIOError(.invalidUTF8) }
    var metadata: [MetadataEntry] = []
    var entries: [Entry] = []
    var positions: [String: Int] = [:]
    // About 80 bytes of header per tensor: room reserved once, not grown.
    entries.reserveCapacity(header.count / 64)
    positions.reserveCapacity(header.count / 64)
    try header.withUnsafeBufferPointer { (bytes) throws(TensorIOError) in
      var json = HeaderJSON(bytes)
      try json.beginObject("the header to be an object")
      var first = true
      var offsets: [Int] = []
      while let raw = try json.nextRawKey(first: &first) {
        if json.text(raw, is: "__metadata__") {
          metadata = try parseMetadata(&json)
          continue
        }
        let key = json.string(raw)
        let entry = try parseTensor(key, &json, offsets: &offsets)
        // A repeated name keeps its last entry, as the reference's map does.
        if let i = positions[key] {
          entries[i] = entry
        } else {
          positions[key] = entries.count
          entries.append(entry)
        }
      }
      try json.finish()
    }
    // The data must be tiled exactly, in offset order, from 0 to the end of the file.
    var start = 0
    let order = entries.indices.sorted {
      (entries[$0].begin, entries[$0].end, $0) < (entries[$1].begin, entries[$1].end, $1)
    }
    var infos = [TensorInfo?](repeating: nil, count: entries.count)
    for i in order {
      let e = entries[i]
      guard e.begin == start, e.end >= e.begin else { throw TensorIOError(.invalidOffset(tensor: e.name)) }
      var count = 1
      for d in e.shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else { throw TensorIOError(.sizeOverflow(tensor: e.name)) }
        count = product
      }
      let (bytes, overflow) = count.multipliedReportingOverflow(by: e.dtype.itemSize)
      guard !overflow else { throw TensorIOError(.sizeOverflow(tensor: e.name)) }
      guard e.end - e.begin == bytes else {
        throw TensorIOError(.byteCountMismatch(tensor: e.name, expected: bytes, given: e.end - e.begin))
      }
      // Past the file's end: refused before any offset is added to it.
      guard e.end <= dataBytes else {
        throw TensorIOError(.incompleteCoverage(dataEnd: e.end, fileDataBytes: dataBytes))
      }
      infos[i] = TensorInfo(
        name: e.name, dtype: e.dtype, shape: e.shape, dataOffset: dataStart + e.begin, byteCount: bytes)
      start = e.end
    }
    guard start == dataBytes else { throw TensorIOError(.incompleteCoverage(dataEnd: start, fileDataBytes: dataBytes)) }
    return (metadata, infos.compactMap { $0 }, positions)
  }

  /// `__metadata__`: null, or an object of strings (a repeated key keeps its last value).
  private static func parseMetadata(_ json: inout HeaderJSON) throws(TensorIOError) -> [MetadataEntry] {
    if try json.takeNull() { return [] }
    try json.beginObject("__metadata__ to be an object of strings")
    var result: [MetadataEntry] = []
    var positions: [String: Int] = [:]
    var first = true
    while let key = try json.nextKey(first: &first) {
      guard json.nextIsString() else { throw json.fail("__metadata__ value of '\(key)' is not a string") }
      let text = try json.string()
      if let i = positions[key] {
        result[i].value = text
      } else {
        positions[key] = result.count
        result.append(MetadataEntry(key: key, value: text))
      }
    }
    return result
  }

  /// A tensor's header entry before validation.
  private struct Entry {
    var name: String
    var dtype: SafetensorsDType
    var shape: [Int]
    var begin: Int
    var end: Int
  }

  /// A tensor's entry: `dtype`, `shape` and `data_offsets` (each once; other fields are
  /// skipped, as by the reference).
  private static func parseTensor(_ name: String, _ json: inout HeaderJSON, offsets pair: inout [Int])
    throws(TensorIOError) -> Entry
  {
    func fail(_ reason: String) -> TensorIOError { json.fail("tensor '\(name)': \(reason)") }
    try json.beginObject("tensor '\(name)' to be an object")
    var dtype: SafetensorsDType?
    var shape: [Int]?
    var offsets: (Int, Int)?
    var first = true
    while let key = try json.nextRawKey(first: &first) {
      if json.text(key, is: "dtype") {
        guard dtype == nil else { throw fail("duplicate field `dtype`") }
        guard json.nextIsString() else { throw fail("dtype is not a string") }
        let text = try json.rawString()
        guard let known = SafetensorsDType.ordered.first(where: { json.text(text, is: $0.staticName) }) else {
          throw fail("unknown or unsupported dtype \(json.string(text))")
        }
        dtype = known
      } else if json.text(key, is: "shape") {
        guard shape == nil else { throw fail("duplicate field `shape`") }
        guard let list = try json.unsignedList() else { throw fail("shape is not a list of non-negative integers") }
        shape = list
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
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets.0, end: offsets.1)
  }

  /// The entry of tensor `name`.
  public func info(_ name: String) throws(TensorIOError) -> TensorInfo {
    guard let i = positions[name], i < tensors.count else { throw TensorIOError(.tensorNotFound(name), path: path) }
    return tensors[i]
  }

  /// Tensor `name` memory-mapped in place (`.readOnly` or `.copyOnWrite`; a write
  /// through `.readWrite` is allowed too and changes the file). Only a tensor whose data
  /// is aligned for its dtype maps (`isMappable`); others throw (use `mapOrLoad`). BF16
  /// and F8 tensors come as raw bytes (`|V2`, `|V1`); `Upcast.float32(_:from:)` reads
  /// them as float32.
  public func map(_ name: String, mode: MapMode = .readOnly) throws(TensorIOError) -> NDArray {
    let info = try info(name)
    guard info.isMappable, let layout = info.layout else {
      throw TensorIOError(
        .memberNotMappable(reason: "tensor '\(name)' is not aligned for \(info.dtype.rawValue)"), path: path)
    }
    let source = mode == .readWrite ? try OpenFile(path: FilePath(path), writable: true) : file
    let storage = try Storage(
      mapping: source.descriptor, path: path, mode: mode, dataOffset: info.dataOffset, byteCount: info.byteCount)
    return NDArray(unchecked: storage, layout: layout)
  }

  /// Tensor `name` read into memory.
  public func load(_ name: String) throws(TensorIOError) -> NDArray {
    try load(name, scratch: false)
  }

  /// Tensor `name` read into memory, or with `scratch` into `Storage(scratchByteCount:)`
  /// (a scratch file the kernel can write out, from the spill threshold on).
  private func load(_ name: String, scratch: Bool) throws(TensorIOError) -> NDArray {
    let info = try info(name)
    guard let layout = info.layout else { throw TensorIOError(.tooLarge(shape: info.shape), path: path) }
    let storage =
      scratch
      ? try Storage(scratchByteCount: info.byteCount, near: path) : try Storage(zeroedByteCount: info.byteCount)
    try file.readParallel(
      at: info.dataOffset, into: UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: info.byteCount))
    return NDArray(unchecked: storage, layout: layout)
  }

  /// Tensor `name` mapped when it can be (read-only), else loaded (from 256 MiB on into
  /// a scratch file the kernel can write out, so memory stays bounded).
  public func mapOrLoad(_ name: String) throws(TensorIOError) -> NDArray {
    try info(name).isMappable ? map(name) : load(name, scratch: true)
  }

  /// Reads every data byte once (in bounded pieces): an I/O error or a file that shrank
  /// since it was opened throws. The format has no checksum to compare.
  public func verify() throws(TensorIOError) {
    let start = 8 + headerLength
    try file.readInPieces(at: start, count: file.size - start) { _ in }
  }
}
