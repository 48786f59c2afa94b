import Dispatch
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
  public static func info(at path: FilePath, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError) -> Info
  {
    let file = try OpenFile(path: path)
    return try file.readInfo(maxHeaderSize: maxHeaderSize)
  }

  /// Loads the `.npy` file at `path` into host memory (numpy's `np.load`).
  public static func load(from path: FilePath, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError) -> NDArray
  {
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
  public static func save(_ array: NDArray, to path: FilePath, durability: Durability = .synced)
    throws(TensorIOError)
  {
    try array.storage.checkOpen()
    let fortran = !array.isCContiguous && array.isFortranContiguous
    let source = array.isCContiguous || array.isFortranContiguous ? array : try array.copy(order: .c)
    let (_, headerBytes) = try NPYHeader(dtype: array.dtype, shape: array.shape, fortranOrder: fortran).encoded()
    let size = headerBytes.count + array.byteCount
    try AtomicFile.write(to: path, expectedSize: size, durability: durability) {
      (file: AtomicFile) throws(TensorIOError) in
      try typedThrows { try headerBytes.withUnsafeBytes { try file.write($0, at: 0) } }
      if let data = source.contiguousBytes { try file.write(data, at: headerBytes.count) }
    }
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
    _ path: FilePath, mode: MapMode = .readOnly, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize
  ) throws(TensorIOError) -> NDArray {
    let file = try OpenFile(path: path, writable: mode == .readWrite)
    let header = try file.readInfo(maxHeaderSize: maxHeaderSize).header
    let storage = try Storage(
      mapping: file.descriptor, path: path.string, mode: mode, dataOffset: header.dataOffset,
      byteCount: header.dataBytes)
    return NDArray(unchecked: storage, layout: header.layout)
  }
}

extension NDArray {
  /// Maps the `.npy` file at `path` (see `NPYFile.map`).
  public init(mapping path: FilePath, mode: MapMode = .readOnly, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize)
    throws(TensorIOError)
  {
    self = try NPYFile.map(path, mode: mode, maxHeaderSize: maxHeaderSize)
  }

  /// Loads the `.npy` file at `path` (numpy's `np.load`).
  public init(contentsOf path: FilePath, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize) throws(TensorIOError) {
    self = try NPYFile.load(from: path, maxHeaderSize: maxHeaderSize)
  }

  /// Saves the array to `path` as `np.save` does, atomically (see `NPYFile.save`).
  public func write(to path: FilePath, durability: Durability = .synced) throws(TensorIOError) {
    try NPYFile.save(self, to: path, durability: durability)
  }
}

/// An open, read-only regular file with errors that name it; closed when released.
final class OpenFile {
  let descriptor: FileDescriptor
  let path: String
  let size: Int

  init(path: FilePath, writable: Bool = false) throws(TensorIOError) {
    self.path = path.string
    do {
      descriptor = try FileDescriptor.open(path, writable ? .readWrite : .readOnly, options: [.closeOnExec])
    } catch let error as Errno {
      throw TensorIOError(.system(operation: "open", errno: error), path: path.string)
    } catch {
      throw TensorIOError(.system(operation: "open", errno: .ioError), path: path.string)
    }
    do {
      let (size, isRegular) = try descriptor.sizeAndKind()
      guard isRegular else {
        _ = try? descriptor.close()
        throw TensorIOError(.invalidArgument("not a regular file"), path: path.string)
      }
      self.size = size
    } catch let error as TensorIOError {
      throw error
    } catch {
      _ = try? descriptor.close()
      throw TensorIOError(.system(operation: "fstat", errno: error as? Errno ?? .ioError), path: path.string)
    }
  }

  deinit {
    _ = try? descriptor.close()
  }

  func fail(_ reason: TensorIOError.Reason) -> TensorIOError { TensorIOError(reason, path: path) }

  /// Reads up to `count` bytes at `offset` into a new array.
  func read(at offset: Int, count: Int) throws(TensorIOError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(0, min(count, size - offset)))
    let n = try typedThrows {
      try bytes.withUnsafeMutableBytes { buffer in
        do throws(Errno) {
          return try descriptor.readFully(at: offset, into: buffer)
        } catch {
          throw fail(.system(operation: "read", errno: error))
        }
      }
    }
    bytes.removeLast(bytes.count - n)
    return bytes
  }

  /// The header, checked against the file's size.
  func readInfo(maxHeaderSize: Int) throws(TensorIOError) -> NPYFile.Info {
    do throws(TensorIOError) {
      let head = try read(at: 0, count: 4096)
      let preamble = try typedThrows { try head.withUnsafeBytes { try NPYHeader.preamble($0) } }
      let available = size - preamble.headerStart
      guard preamble.headerLength <= available else {
        throw TensorIOError(.truncatedHeader(declared: preamble.headerLength, available: max(0, available)))
      }
      // Refuse over-long headers before reading them: latin-1 is a byte a character,
      // UTF-8 at least a byte a character.
      let bytesPerChar = preamble.version == .v3 ? 4 : 1
      if maxHeaderSize < Int.max / 4, preamble.headerLength > maxHeaderSize * bytesPerChar {
        throw TensorIOError(.headerTooLarge(length: preamble.headerLength, limit: maxHeaderSize))
      }
      let end = preamble.headerStart + preamble.headerLength
      let text =
        end <= head.count
        ? Array(head[preamble.headerStart..<end])
        : try read(at: preamble.headerStart, count: preamble.headerLength)
      guard text.count == preamble.headerLength else {
        throw TensorIOError(.truncatedHeader(declared: preamble.headerLength, available: text.count))
      }
      let header = try typedThrows {
        try text.withUnsafeBytes { try NPYHeader.parse(preamble: preamble, text: $0, maxHeaderSize: maxHeaderSize) }
      }
      let dataAvailable = size - header.dataOffset
      guard header.dataBytes <= dataAvailable else {
        throw TensorIOError(.truncatedData(expected: header.dataBytes, available: dataAvailable))
      }
      return NPYFile.Info(header: header, fileSize: size)
    } catch {
      throw error.naming(path)
    }
  }

  /// Fills `buffer` from `offset`, split over threads for large reads.
  func readParallel(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(TensorIOError) {
    let chunk = 16 << 20
    let pieces = (buffer.count + chunk - 1) / chunk
    if pieces <= 1 {
      try readExactly(at: offset, into: buffer)
      return
    }
    let failure = FirstError()
    let fd = descriptor
    // Each iteration writes a disjoint slice of the buffer.
    nonisolated(unsafe) let buffer = buffer
    let path = self.path
    DispatchQueue.concurrentPerform(iterations: pieces) { i in
      let start = i * chunk
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<min(buffer.count, start + chunk)])
      do throws(Errno) {
        let n = try fd.readFully(at: offset + start, into: part)
        if n != part.count {
          failure.record(TensorIOError(.truncatedData(expected: buffer.count, available: start + n), path: path))
        }
      } catch {
        failure.record(TensorIOError(.system(operation: "read", errno: error), path: path))
      }
    }
    if let error = failure.error { throw error }
  }

  func readExactly(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(TensorIOError) {
    let n: Int
    do {
      n = try descriptor.readFully(at: offset, into: buffer)
    } catch {
      throw fail(.system(operation: "read", errno: error))
    }
    if n != buffer.count { throw fail(.truncatedData(expected: buffer.count, available: n)) }
  }
}
