import SystemPackage

/// The one way an `.npy` file is written: the header `np.save` writes, then the data,
/// into an atomic temporary file (`AtomicFile`) sized up front.
enum NPYWriter {
  /// Writes an `.npy` of `dtype` and `shape` whose data is laid out in `order` at
  /// `path`: encodes the header, reserves the file's size, writes the header, then lets
  /// `body` write the data bytes (given the file, the offset where the data starts, and
  /// the order the header records). Atomic and, unless `.unsynced`, durable.
  static func write(
    to path: FilePath, dtype: DType, shape: [Int], order: MemoryOrder, durability: Durability,
    _ body: (_ file: AtomicFile, _ dataStart: Int, _ order: MemoryOrder) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    let (header, saved) = try NPYHeader.forSaving(dtype: dtype, shape: shape, order: order)
    guard let dataBytes = ArrayLayout.byteCount(shape: shape, itemSize: dtype.itemSize) else {
      throw TensorIOError(.tooLarge(shape: shape))
    }
    try AtomicFile.write(to: path, expectedSize: header.count + dataBytes, durability: durability) {
      (file: AtomicFile) throws(TensorIOError) in
      try typedThrows { try header.withUnsafeBytes { try file.write($0, at: 0) } }
      try body(file, header.count, saved)
    }
  }
}
