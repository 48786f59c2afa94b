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
  /// The tensors' entries, in the header's order: a collection whose elements are built
  /// when read (opening a file allocates nothing per tensor).
  public struct Tensors: RandomAccessCollection, Sendable {
    let table: HeaderTable

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of tensors.
    public var endIndex: Int { table.records.count }
    /// The entry of the tensor at `position`.
    public subscript(position: Int) -> TensorInfo { table.info(position) }

    /// The tensors' names, in the header's order (`safe_open(...).keys()` sorts them).
    public var names: [String] { indices.map(table.name) }
  }

  /// `__metadata__`, in the file's order (a repeated key keeps its last value, as the
  /// reference reads it); empty when absent or null.
  public var metadata: [MetadataEntry] { table.metadata }
  /// The tensors, in the header's order.
  public var tensors: Tensors { Tensors(table: table) }

  let file: OpenFile
  private let table: HeaderTable

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
    do {
      table = try HeaderTable(header, dataStart: 8 + n, dataBytes: file.size - 8 - n)
    } catch {
      throw error.naming(file.path)
    }
    headerLength = n
  }

  /// The entry of tensor `name`.
  public func info(_ name: String) throws(TensorIOError) -> TensorInfo {
    guard let i = table.position(of: name) else { throw TensorIOError(.tensorNotFound(name), path: path) }
    return table.info(i)
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
      mapping: source.descriptor, path: path, file: FilePath(path), mode: mode, dataOffset: info.dataOffset,
      byteCount: info.byteCount)
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
