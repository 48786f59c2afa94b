import Dispatch
import SystemPackage

/// Runs `write(bytes)` on this thread while another computes the bytes' CRC-32.
func overlapped(
  _ bytes: UnsafeRawBufferPointer, write: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void
) throws(TensorIOError) -> UInt32 {
  let result = ResultSlots<UInt32>(count: 1)
  nonisolated(unsafe) let source = bytes
  let group = DispatchGroup()
  DispatchQueue.global().async(group: group) { result.set(0, .success(CRC32.checksum(source))) }
  do {
    try write(bytes)
  } catch {
    group.wait()
    throw error
  }
  group.wait()
  return try result.get(0)
}

extension NPZArchive {
  /// How members are compressed when writing.
  public enum WriteCompression: Sendable, Hashable {
    /// Stored (`np.savez`), array data 64-byte aligned so that members map in place.
    case stored
    /// Deflated (`np.savez_compressed`) at a zlib level (1-9; -1 is zlib's default, 6),
    /// compressed on all cores.
    case deflate(level: Int = -1)
  }

  /// Writes `arrays` as an `.npz` at `path` (numpy's `np.savez` / `np.savez_compressed`):
  /// each name gets `.npy` appended, as numpy does. Members are written one at a time
  /// (memory stays bounded; a mapped array is written straight from its mapping), in
  /// ZIP64 exactly when needed. Atomic: temporary file, sync, rename.
  public static func write(
    _ arrays: [(name: String, array: NDArray)], to path: FilePath, compression: WriteCompression = .stored,
    durability: Durability = .synced
  ) throws(TensorIOError) {
    try write(arrays, to: path, compression: compression, durability: durability, forceZip64: false)
  }

  static func write(
    _ arrays: [(name: String, array: NDArray)], to path: FilePath, compression: WriteCompression,
    durability: Durability, forceZip64: Bool
  ) throws(TensorIOError) {
    var seen = Set<String>()
    for (name, _) in arrays {
      guard !name.isEmpty, seen.insert(name).inserted else {
        throw TensorIOError(.invalidArgument("member names must be non-empty and unique: '\(name)'"), path: path.string)
      }
      let components = name.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
      guard !name.hasPrefix("/"), !components.contains("..") else {
        throw TensorIOError(.unsafeMemberName(name), path: path.string)
      }
    }
    try AtomicFile.write(to: path, durability: durability) { (file: AtomicFile) throws(TensorIOError) in
      let zip = ZipWriter(file: file, forceZip64: forceZip64)
      for (name, array) in arrays {
        try writeMember(zip, name: name + ".npy", array: array, compression: compression)
      }
      try zip.finish()
    }
  }

  private static func writeMember(_ zip: ZipWriter, name: String, array: NDArray, compression: WriteCompression)
    throws(TensorIOError)
  {
    try array.storage.checkOpen()
    let fortran = !array.isCContiguous && array.isFortranContiguous
    let source = array.isCContiguous || array.isFortranContiguous ? array : try array.copy(order: .c)
    let (_, header) = try NPYHeader(dtype: array.dtype, shape: array.shape, fortranOrder: fortran).encoded()
    let data = source.contiguousBytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
    let size = header.count + data.count
    switch compression {
    case .stored:
      try zip.addMember(name: name, method: Zip.methodStored, uncompressedSize: size) { (sink) throws(TensorIOError) in
        try typedThrows { try header.withUnsafeBytes { try sink($0) } }
        var crc = header.withUnsafeBytes { CRC32.checksum($0) }
        // Each 64 MiB piece is written while its CRC-32 is computed on another core.
        let piece = 64 << 20
        var start = 0
        while start < data.count {
          let part = UnsafeRawBufferPointer(rebasing: data[start..<min(data.count, start + piece)])
          let pieceCRC = try overlapped(part) { (bytes) throws(TensorIOError) in try sink(bytes) }
          crc = CRC32.combine(crc, pieceCRC, lengthOfB: part.count)
          start += part.count
        }
        return crc
      }
    case .deflate(let level):
      guard (-1...9).contains(level) else {
        throw TensorIOError(.invalidArgument("compression level \(level) is not in 1...9 (or -1)"))
      }
      try zip.addMember(name: name, method: Zip.methodDeflate, uncompressedSize: size) { (sink) throws(TensorIOError) in
        // The npy header as the stream's first (sync-flushed) piece, then the data.
        let headerCRC = try typedThrows {
          try header.withUnsafeBytes { bytes in
            try Deflate.compress(bytes, level: Int32(level), isFinal: data.isEmpty) { (piece) throws(TensorIOError) in
              try typedThrows { try piece.withUnsafeBytes { try sink($0) } }
            }
          }
        }
        if data.isEmpty { return headerCRC }
        let dataCRC = try Deflate.compress(data, level: Int32(level), isFinal: true) { (piece) throws(TensorIOError) in
          try typedThrows { try piece.withUnsafeBytes { try sink($0) } }
        }
        return CRC32.combine(headerCRC, dataCRC, lengthOfB: data.count)
      }
    }
  }
}
