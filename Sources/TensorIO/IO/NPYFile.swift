import SystemPackage

/// Reading and writing `.npy` files.
public enum NPYFile {
  /// An `.npy` file's header, validated against the file: the data the header promises
  /// is present.
  public struct Info: Sendable, Hashable {
    /// The parsed header.
    public var header: NPYHeader
    /// The file's size in bytes.
    public var fileSize: Int
  }

  /// Reads and validates the header of the `.npy` file at `path` without reading its
  /// data: the preamble, the header dict, and that the file holds the data bytes the
  /// header promises.
  public static func info(at path: some FilePathConvertible, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError) -> Info
  {
    let path = path.filePath
    let file = try OpenFile(path: path)
    return try file.readInfo(maxHeaderSize: maxHeaderSize)
  }

  /// Checks the `.npy` file at `path` as `info(at:)` does, then reads every data byte
  /// (a piece at a time into one reused buffer: memory stays bounded whatever the
  /// file's size), so that an unreadable or short file is an error here.
  public static func verify(at path: some FilePathConvertible, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError) -> Info
  {
    let path = path.filePath
    let file = try OpenFile(path: path)
    let info = try file.readInfo(maxHeaderSize: maxHeaderSize)
    let header = info.header
    try file.readInPieces(at: header.dataOffset, count: header.dataBytes) { _ in }
    return info
  }

  /// Loads the `.npy` file at `path` into host memory (numpy's `np.load`).
  public static func load(from path: some FilePathConvertible, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError) -> NDArray
  {
    let path = path.filePath
    let file = try OpenFile(path: path)
    let info = try file.readInfo(maxHeaderSize: maxHeaderSize)
    let header = info.header
    let storage = try Storage(zeroedByteCount: header.dataBytes)
    let buffer = UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: header.dataBytes)
    try file.readParallel(at: header.dataOffset, into: buffer)
    return NDArray(unchecked: storage, layout: header.layout)
  }

  /// Writes `array` to `path` as `np.save` does (same header bytes; C order unless the
  /// array is Fortran-contiguous and not C-contiguous). Atomic: the bytes go to a
  /// temporary file in the same folder, which is synced and renamed over `path`; on
  /// failure `path` is untouched and the temporary removed. `durability` says whether
  /// the data is synced to stable storage before this returns (the default) or not.
  /// `progress`, when given, is called as data is written with the bytes written so far.
  public static func save(
    _ array: NDArray, to path: some FilePathConvertible, durability: Durability = .synced,
    progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    try Conversion.writeNPY(
      array, to: path, dtype: array.dtype, order: array.saveOrder, durability: durability, progress: progress)
  }
}

extension NPYFile {
  /// Maps the `.npy` file at `path` into memory (numpy's `np.load(path, mmap_mode=)`):
  /// the array's storage *is* the file's bytes, nothing is read up front, and the cost
  /// is that of reading the header whatever the file's size.
  ///
  /// - `.readOnly` (`r`): writing through the array is a thrown error.
  /// - `.readWrite` (`r+`): writes reach the file (`storage.flush()` makes them durable).
  /// - `.copyOnWrite` (`c`): writes stay in memory; the file never changes.
  ///
  /// A file shorter than its header promises is refused and left untouched (numpy's
  /// `r+` would grow it). The mapping lives as long as any array, tensor or view over it.
  public static func map(
    _ path: some FilePathConvertible, mode: MapMode = .readOnly, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize
  ) throws(TensorIOError) -> NDArray {
    let path = path.filePath
    let file = try OpenFile(path: path, writable: mode == .readWrite)
    let header = try file.readInfo(maxHeaderSize: maxHeaderSize).header
    let storage = try Storage(
      mapping: file.descriptor, path: path.string, file: path, mode: mode, dataOffset: header.dataOffset,
      byteCount: header.dataBytes)
    return NDArray(unchecked: storage, layout: header.layout)
  }
}

extension NDArray {
  /// Maps the `.npy` file at `path` (see `NPYFile.map`).
  public init(
    mapping path: some FilePathConvertible, mode: MapMode = .readOnly,
    maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize
  )
    throws(TensorIOError)
  {
    let path = path.filePath
    self = try NPYFile.map(path, mode: mode, maxHeaderSize: maxHeaderSize)
  }

  /// Loads the `.npy` file at `path` (numpy's `np.load`).
  public init(contentsOf path: some FilePathConvertible, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError)
  {
    let path = path.filePath
    self = try NPYFile.load(from: path, maxHeaderSize: maxHeaderSize)
  }

  /// Saves the array to `path` as `np.save` does, atomically (see `NPYFile.save`).
  public func write(to path: some FilePathConvertible, durability: Durability = .synced) throws(TensorIOError) {
    let path = path.filePath
    try NPYFile.save(self, to: path, durability: durability)
  }
}
