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
    let parsed: ([MetadataEntry], [TensorInfo])
    do {
      parsed = try Self.parse(header, dataStart: 8 + n, dataBytes: file.size - 8 - n)
    } catch {
      throw error.naming(file.path)
    }
    metadata = parsed.0
    tensors = parsed.1
    headerLength = n
  }

  /// The header's tensors and metadata, validated against a data area of `dataBytes`
  /// starting at `dataStart`.
  static func parse(_ header: [UInt8], dataStart: Int, dataBytes: Int) throws(TensorIOError) -> (
    [MetadataEntry], [TensorInfo]
  ) {
    guard String(validating: header, as: UTF8.self) != nil else { throw TensorIOError(.invalidUTF8) }
    guard case .object(let members) = try HeaderJSON.parse(header) else {
      throw TensorIOError(.invalidJSON(offset: 0, reason: "the header is not an object"))
    }
    var metadata: [MetadataEntry] = []
    var entries: [Entry] = []
    var positions: [String: Int] = [:]
    for member in members {
      if member.key == "__metadata__" {
        metadata = try Self.parseMetadata(member.value, offset: member.offset)
        continue
      }
      let entry = try Self.parseTensor(member.key, member.value, offset: member.offset)
      // A repeated name keeps its last entry, as the reference's map does.
      if let i = positions[member.key] {
        entries[i] = entry
      } else {
        positions[member.key] = entries.count
        entries.append(entry)
      }
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
      infos[i] = TensorInfo(
        name: e.name, dtype: e.dtype, shape: e.shape, dataOffset: dataStart + e.begin, byteCount: bytes)
      start = e.end
    }
    guard start == dataBytes else { throw TensorIOError(.incompleteCoverage(dataEnd: start, fileDataBytes: dataBytes)) }
    return (metadata, infos.compactMap { $0 })
  }

  private static func parseMetadata(_ value: HeaderJSON.Value, offset: Int) throws(TensorIOError)
    -> [MetadataEntry]
  {
    if case .null = value { return [] }
    guard case .object(let pairs) = value else {
      throw TensorIOError(.invalidJSON(offset: offset, reason: "__metadata__ is not an object of strings"))
    }
    var result: [MetadataEntry] = []
    var positions: [String: Int] = [:]
    for pair in pairs {
      guard case .string(let text) = pair.value else {
        throw TensorIOError(
          .invalidJSON(offset: pair.offset, reason: "__metadata__ value of '\(pair.key)' is not a string"))
      }
      if let i = positions[pair.key] {
        result[i].value = text
      } else {
        positions[pair.key] = result.count
        result.append(MetadataEntry(key: pair.key, value: text))
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

  private static func parseTensor(_ name: String, _ value: HeaderJSON.Value, offset: Int) throws(TensorIOError)
    -> Entry
  {
    let fail = { (reason: String) -> TensorIOError in
      TensorIOError(.invalidJSON(offset: offset, reason: "tensor '\(name)': \(reason)"))
    }
    guard case .object(let fields) = value else { throw fail("not an object") }
    var dtype: SafetensorsDType?
    var shape: [Int]?
    var offsets: [Int]?
    var seen = Set<String>()
    for field in fields {
      guard seen.insert(field.key).inserted else { throw fail("duplicate field `\(field.key)`") }
      switch field.key {
      case "dtype":
        guard case .string(let text) = field.value else { throw fail("dtype is not a string") }
        guard let known = SafetensorsDType(rawValue: text) else { throw fail("unknown or unsupported dtype \(text)") }
        dtype = known
      case "shape":
        guard let list = unsignedList(field.value) else { throw fail("shape is not a list of non-negative integers") }
        shape = list
      case "data_offsets":
        guard let pair = unsignedList(field.value) else {
          throw fail("data_offsets is not a list of non-negative integers")
        }
        guard pair.count == 2 else { throw fail("data_offsets has \(pair.count) elements, not 2") }
        offsets = pair
      default: continue  // other fields are ignored, as by the reference
      }
    }
    guard let dtype else { throw fail("missing field `dtype`") }
    guard let shape else { throw fail("missing field `shape`") }
    guard let offsets else { throw fail("missing field `data_offsets`") }
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
  }

  /// A JSON array of non-negative integers that fit an `Int`, or nil.
  private static func unsignedList(_ value: HeaderJSON.Value) -> [Int]? {
    guard case .array(let items) = value else { return nil }
    var result: [Int] = []
    result.reserveCapacity(items.count)
    for item in items {
      guard case .number(let text) = item else { return nil }
      guard let n = Int(text), n >= 0 else { return nil }
      result.append(n)
    }
    return result
  }

  /// The entry of tensor `name`.
  public func info(_ name: String) throws(TensorIOError) -> TensorInfo {
    guard let info = tensors.first(where: { $0.name == name }) else {
      throw TensorIOError(.tensorNotFound(name), path: path)
    }
    return info
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

  /// Tensor `name` read into memory (from 256 MiB on into a scratch file the kernel
  /// can write out, so memory stays bounded).
  public func load(_ name: String) throws(TensorIOError) -> NDArray {
    let info = try info(name)
    guard let layout = info.layout else { throw TensorIOError(.tooLarge(shape: info.shape), path: path) }
    let storage =
      info.byteCount >= 256 << 20
      ? try Storage(scratchByteCount: info.byteCount, near: path) : try Storage(zeroedByteCount: info.byteCount)
    try file.readParallel(
      at: info.dataOffset, into: UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: info.byteCount))
    return NDArray(unchecked: storage, layout: layout)
  }

  /// Tensor `name` mapped when it can be (read-only), else loaded.
  public func mapOrLoad(_ name: String) throws(TensorIOError) -> NDArray {
    try info(name).isMappable ? map(name) : load(name)
  }

  /// Reads every data byte once (in bounded pieces): an I/O error or a file that shrank
  /// since it was opened throws. The format has no checksum to compare.
  public func verify() throws(TensorIOError) {
    let start = 8 + headerLength
    try file.readInPieces(at: start, count: file.size - start) { _ in }
  }
}
