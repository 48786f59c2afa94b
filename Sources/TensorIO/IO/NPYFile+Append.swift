import SystemPackage

extension NPYFile {
  /// Appends `arrays` to the `.npy` at `path` in place: numpy's
  /// `np.concatenate([dst, *arrays], axis=0)` for a C-order file, along the last axis
  /// for a Fortran-order one. The file is created from the first array when there is
  /// none. Each array's dtype must equal the file's (byte order included) unless `cast`
  /// (then numpy's `astype(casting='unsafe')`); the other dimensions must match.
  ///
  /// Crash-consistent: the new data is written after the old data and made durable, and
  /// only then is the header rewritten in place (np.save leaves room in it for the growth
  /// axis); killed at any moment, the file holds the old array or the new one, never
  /// anything else. When the new header does not fit the old one's length, the whole
  /// file is replaced atomically instead. The file only grows, so live mappings of the
  /// old length stay valid. Returns the new shape.
  @discardableResult
  public static func append(
    _ arrays: [NDArray], to path: some FilePathConvertible, cast: Bool = false, durability: Durability = .synced,
    maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) -> [Int] {
    let path = path.filePath
    var sources = arrays[...]
    if !path.exists {
      guard let first = sources.popFirst() else { return [] }
      try save(first, to: path, durability: durability)
      if sources.isEmpty { return first.shape }
    }
    let file = try OpenFile(path: path, writable: true)
    let info = try file.readInfo(maxHeaderSize: maxHeaderSize)
    let header = info.header
    let fortran = header.fortranOrder
    let order: MemoryOrder = fortran ? .fortran : .c
    guard !header.shape.isEmpty else {
      throw TensorIOError(.axisOutOfBounds(axis: 0, dimensions: 0), path: path.string)
    }
    let axis = fortran ? header.shape.count - 1 : 0
    var shape = header.shape
    for array in sources {
      var expected = header.shape
      expected.remove(at: axis)
      var given = array.shape
      guard given.count == header.shape.count else {
        throw TensorIOError(
          .dimensionsMismatch(expected: header.shape, given: array.shape, axis: axis), path: path.string)
      }
      let length = given.remove(at: axis)
      guard given == expected else {
        throw TensorIOError(
          .dimensionsMismatch(expected: header.shape, given: array.shape, axis: axis), path: path.string)
      }
      guard array.dtype == header.dtype || cast else {
        throw TensorIOError(
          .dtypeMismatch(expected: header.dtype.typeString, given: array.dtype.typeString), path: path.string)
      }
      if cast { _ = try Conversion.targetDType(source: array.dtype, dtype: header.dtype, byteOrder: nil) }
      let (grown, overflow) = shape[axis].addingReportingOverflow(length)
      guard !overflow else { throw TensorIOError(.tooLarge(shape: shape), path: path.string) }
      shape[axis] = grown
    }
    let newHeader = try NPYHeader.forMemmap(dtype: header.dtype, shape: shape, order: order)
    guard newHeader.count == header.dataOffset else {
      // The header grew past its padding: the whole file is rewritten atomically.
      // Appending along the slowest axis is appending bytes: the old data, then each
      // array converted to the file's dtype and order.
      let old = try map(path, maxHeaderSize: maxHeaderSize)
      try NPYWriter.write(to: path, dtype: header.dtype, shape: shape, order: order, durability: durability) {
        (output: AtomicFile, dataStart: Int, _: MemoryOrder) throws(TensorIOError) in
        var at = dataStart
        for array in [old] + Array(sources) {
          try Conversion.stream(array, to: header.dtype, order: order) { (piece) throws(TensorIOError) in
            try output.write(piece, at: at)
            at += piece.count
            progress?(at - dataStart)
          }
        }
      }
      return shape
    }
    // 1. The new data after the old, made durable.
    let start = header.dataOffset + header.dataBytes
    var offset = start
    for array in sources {
      try Conversion.stream(array, to: header.dtype, order: order) { (piece) throws(TensorIOError) in
        do throws(Errno) {
          try file.descriptor.writeFully(at: offset, from: piece)
        } catch {
          throw TensorIOError(.system(operation: "write", errno: error), path: path.string)
        }
        offset += piece.count
        progress?(offset - start)
      }
    }
    do throws(Errno) {
      if durability == .synced { try file.descriptor.sync() }
      // 2. Only then the header that describes it, in place.
      let written: Result<Void, Errno> = newHeader.withUnsafeBytes { bytes in
        Result { () throws(Errno) in try file.descriptor.writeFully(at: 0, from: bytes) }
      }
      try written.get()
      if durability == .synced { try file.descriptor.sync() }
    } catch {
      throw TensorIOError(.system(operation: "append", errno: error), path: path.string)
    }
    return shape
  }
}
