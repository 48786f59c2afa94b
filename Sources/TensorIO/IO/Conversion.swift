import CTensorShims
import SystemPackage

/// Converting an array's dtype (numpy's `astype(casting='unsafe')`), byte order and
/// memory order, in bounded memory.
public enum Conversion {
  /// Elements converted per step: bounds the memory a conversion uses (plus one
  /// element's worth of index state), whatever the array's size.
  static let chunkElements = 1 << 20

  /// The dtype a conversion produces: `dtype` (or the source's), then `byteOrder`.
  public static func targetDType(source: DType, dtype: DType?, byteOrder: ByteOrder?) throws(TensorIOError) -> DType {
    let base = dtype ?? source
    let sameLayout = base.withByteOrder(.little) == source.withByteOrder(.little)
    if !sameLayout && !(base.isNumeric && source.isNumeric) && !TimeCast.casts(from: source, to: base) {
      throw TensorIOError(.cannotCast(from: source.name, to: base.name))
    }
    return byteOrder.map { base.withByteOrder($0) } ?? base
  }

  /// Calls `body` with successive pieces of `array` converted to `target` in `order`,
  /// each at most `chunkElements` elements, until the whole array has been produced.
  static func stream(
    _ array: NDArray, to target: DType, order: MemoryOrder,
    _ body: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    let pieces = try ConvertedPieces(array, to: target, order: order)
    while let piece = try pieces.next() { try body(piece) }
  }

  /// `array` converted in memory (for destinations written whole, like npz members).
  public static func converted(_ array: NDArray, dtype target: DType, order: MemoryOrder) throws(TensorIOError)
    -> NDArray
  {
    let out = try NDArray(zeros: array.shape, dtype: target, order: order)
    var position = 0
    let base = out.storage.mutableBase
    try stream(array, to: target, order: order) { (piece) throws(TensorIOError) in
      (base + position).copyMemory(from: piece.baseAddress ?? UnsafeRawPointer(base), byteCount: piece.count)
      position += piece.count
    }
    return out
  }

  /// Writes `array` converted to `target` in `order` as an `.npy` at `path`, streaming
  /// (memory bounded by `chunkElements` of source and target per core), atomically.
  /// `progress`, when given, is called after each piece with the data bytes written so
  /// far.
  public static func writeNPY(
    _ array: NDArray, to path: some FilePathConvertible, dtype target: DType, order: MemoryOrder,
    durability: Durability = .synced,
    progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    try NPYWriter.write(to: path.filePath, dtype: target, shape: array.shape, order: order, durability: durability) {
      (file: AtomicFile, dataStart: Int, order: MemoryOrder) throws(TensorIOError) in
      if target == array.dtype,
        ArrayLayout.isContiguous(shape: array.shape, strides: array.strides, itemSize: target.itemSize, order: order)
      {
        // Already the bytes to write: straight from the array's memory, a piece at a time.
        try array.storage.checkOpen()
        guard let data = array.unsafeContiguousBytes else { return }
        let piece = 64 << 20
        var done = 0
        while done < data.count {
          let part = UnsafeRawBufferPointer(rebasing: data[done..<min(data.count, done + piece)])
          try file.write(part, at: dataStart + done)
          done += part.count
          progress?(done)
        }
        return
      }
      let pieces = try ConvertedPieces(array, to: target, order: order)
      if let count = pieces.pieceCount {
        try writeInParallel(pieces, count: count, to: file, at: dataStart, progress: progress)
        return
      }
      // A strided walk is sequential: each piece is written on another thread while
      // the next one is converted (the pieces alternate between two buffers).
      var writing: BackgroundTask<Void>? = nil
      var offset = dataStart
      while let piece = try pieces.next() {
        // The previous write is done: its buffer may be reused after this piece.
        try writing?.wait()
        // Safety: the piece's buffer is not reused before this task is waited for
        // (above, or after the loop).
        let bytes = UnsafeShared(piece)
        let at = offset
        writing = BackgroundTask { () throws(TensorIOError) in try file.write(bytes.value, at: at) }
        offset += piece.count
        progress?(offset - dataStart)
      }
      try writing?.wait()
    }
  }
}
