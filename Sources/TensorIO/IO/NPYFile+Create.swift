import SystemPackage

extension NPYFile {
  /// Creates a new `.npy` of `dtype` and `shape` in `order` at `path`, with the header
  /// `np.lib.format.open_memmap(path, mode='w+')` writes: zeros as a sparse file (no
  /// data written, whatever the size), or every element set to `fill` (a one-element
  /// array cast as numpy's `astype(casting='unsafe')`), written in pieces. Atomic. A file
  /// already at `path` is an error unless `overwrite`.
  public static func create(
    at path: some FilePathConvertible, dtype: DType, shape: [Int], order: MemoryOrder = .c,
    fill: NDArray? = nil, overwrite: Bool = false, durability: Durability = .synced
  ) throws(TensorIOError) {
    let path = path.filePath
    if !overwrite && path.exists { throw TensorIOError(.destinationExists, path: path.string) }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorIOError(.negativeDimension(shape), path: path.string) }
    guard let dataBytes = ArrayLayout.byteCount(shape: shape, itemSize: dtype.itemSize), dataBytes < Int.max / 2
    else { throw TensorIOError(.tooLarge(shape: shape), path: path.string) }
    // The element `fill` becomes, in the file's dtype.
    var element: [UInt8]? = nil
    if let fill {
      guard fill.count == 1 else { throw TensorIOError(.valueCount(fill.count, shape: [1]), path: path.string) }
      let one = try Conversion.converted(try fill.reshaped([1]), dtype: dtype, order: .c)
      element = one.unsafeContiguousBytes.map(Array.init)
    }
    let header = try NPYHeader.forMemmap(dtype: dtype, shape: shape, order: order)
    try AtomicFile.write(to: path, durability: durability) { (file: AtomicFile) throws(TensorIOError) in
      try typedThrows { try header.withUnsafeBytes { try file.write($0, at: 0) } }
      guard let element, !element.allSatisfy({ $0 == 0 }), dataBytes > 0 else {
        // Zeros: the file is extended, not written (a sparse file).
        do {
          try file.descriptor.resize(to: Int64(header.count + dataBytes))
        } catch {
          throw TensorIOError(.system(operation: "ftruncate", errno: error as? Errno ?? .ioError), path: path.string)
        }
        return
      }
      // A 4 MiB piece of repeated elements, written as often as the data needs.
      let perPiece = max(1, (4 << 20) / element.count)
      var piece: [UInt8] = []
      piece.reserveCapacity(perPiece * element.count)
      for _ in 0..<perPiece { piece += element }
      var done = 0
      while done < dataBytes {
        let n = min(piece.count, dataBytes - done)
        try typedThrows {
          try piece.withUnsafeBytes {
            try file.write(UnsafeRawBufferPointer(rebasing: $0[..<n]), at: header.count + done)
          }
        }
        done += n
      }
    }
  }
}

extension NDArray {
  /// Creates a new `.npy` of zeros at `path` (see `NPYFile.create`) and maps it
  /// read-write: numpy's `np.lib.format.open_memmap(path, mode='w+', ...)`. Writes
  /// through the array reach the file (`storage.flush()` makes them durable). Files
  /// larger than memory work: the zeros are a sparse file and pages come and go.
  public init(
    creating path: some FilePathConvertible, dtype: DType, shape: [Int], order: MemoryOrder = .c,
    overwrite: Bool = false
  ) throws(TensorIOError) {
    let path = path.filePath
    try NPYFile.create(at: path, dtype: dtype, shape: shape, order: order, overwrite: overwrite)
    self = try NPYFile.map(path, mode: .readWrite)
  }
}
