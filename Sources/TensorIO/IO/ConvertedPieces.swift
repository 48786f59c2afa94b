/// `array`'s elements converted to a dtype and memory order, produced a bounded piece
/// at a time (pull-based, so that two arrays can be walked in step).
final class ConvertedPieces {
  private let array: NDArray
  private let source: DType
  private let target: DType
  private let chunk: Int
  /// Two output buffers, used in turn: a piece stays valid until the call after the
  /// next one, so that it can be written while the next piece is converted.
  private let outputs: [Storage]
  private var turn = 0
  private let staging: Storage?
  private var cursor: StridedCursor
  private var done = 0
  /// For a transpose-like walk (its outermost axis contiguous in the source, as when
  /// C order becomes Fortran order): the byte offsets of the inner elements of one
  /// outer row, gathered in cache-sized tiles.
  private let transpose: [Int]?
  /// Whether the transpose gathers straight into the output (no cast to make).
  private let gathersIntoOutput: Bool

  init(_ array: NDArray, to target: DType, order: MemoryOrder, chunkElements: Int = Conversion.chunkElements)
    throws(TensorIOError)
  {
    try array.storage.checkOpen()
    self.array = array
    self.source = array.dtype
    self.target = target
    // Walk the source in the target's order.
    let shape = order == .c ? array.shape : Array(array.shape.reversed())
    let strides = order == .c ? array.strides : Array(array.strides.reversed())
    let contiguous = ArrayLayout.isContiguous(shape: shape, strides: strides, itemSize: source.itemSize, order: .c)
    let size = source.itemSize
    let inner = shape.dropFirst().reduce(1, *)
    if !contiguous, shape.count >= 2, strides[0] == size, [1, 2, 4, 8].contains(size), inner > 0,
      inner <= Conversion.chunkElements
    {
      var offsets: [Int] = []
      offsets.reserveCapacity(inner)
      ArrayLayout.forEachElement(shape: Array(shape.dropFirst()), strides: Array(strides.dropFirst())) {
        offsets.append($0)
      }
      transpose = offsets
      // Whole outer rows per piece, so that tiles never straddle pieces.
      self.chunk = max(1, min(array.count, chunkElements) / inner) * inner
    } else {
      transpose = nil
      self.chunk = max(1, min(array.count, chunkElements))
    }
    self.outputs = [
      try Storage(zeroedByteCount: chunk * target.itemSize), try Storage(zeroedByteCount: chunk * target.itemSize),
    ]
    gathersIntoOutput = transpose != nil && source.withByteOrder(.little) == target.withByteOrder(.little)
    self.staging =
      contiguous || gathersIntoOutput ? nil : try Storage(zeroedByteCount: chunk * source.itemSize)
    self.cursor = StridedCursor(shape: shape, strides: strides)
    // Zero-size elements (S0, U0, V0): nothing to produce, whatever the count.
    if source.itemSize == 0 || target.itemSize == 0 { done = array.count }
  }

  /// The next piece, or `nil` once every element was produced. Valid until the call
  /// after the next one.
  func next() throws(TensorIOError) -> UnsafeRawBufferPointer? {
    let count = array.count
    guard done < count else { return nil }
    let output = outputs[turn]
    turn ^= 1
    let cores = Parallel.cores
    if transpose == nil, let staging {
      // A strided walk: gathered in order through the cursor.
      let n = min(chunk, count - done)
      let base = array.storage.mutableBase + array.byteOffset
      let to = staging.mutableBase
      let size = source.itemSize
      for k in 0..<n {
        (to + k * size).copyMemory(from: base + cursor.offset, byteCount: size)
        cursor.advance()
      }
      try convert(UnsafeRawPointer(to), count: n, into: output.mutableBase, parts: cores)
      done += n
      return UnsafeRawBufferPointer(start: output.mutableBase, count: n * target.itemSize)
    }
    let piece = try convertPiece(
      done / chunk, into: WorkerBuffers(output: output, scratch: staging), parts: cores)
    done += piece.count / target.itemSize
    return piece
  }

  /// How many pieces convert independently of each other (`convertPiece`), or nil
  /// when the walk is sequential (a strided source that is not a transpose).
  var pieceCount: Int? {
    guard transpose != nil || staging == nil else { return nil }
    return array.count == 0 ? 0 : (array.count - 1) / chunk + 1
  }

  /// Where piece `k` starts in the converted data, in bytes.
  func pieceOffset(_ k: Int) -> Int { k * chunk * target.itemSize }

  /// One worker's buffers for `convertPiece`: the output, and scratch space when a
  /// transpose must be gathered before it is cast.
  struct WorkerBuffers {
    let output: Storage
    let scratch: Storage?
  }

  /// Buffers for another worker converting pieces beside this one.
  func workerBuffers() throws(TensorIOError) -> WorkerBuffers {
    WorkerBuffers(
      output: try Storage(zeroedByteCount: chunk * target.itemSize),
      scratch: staging == nil ? nil : try Storage(zeroedByteCount: chunk * source.itemSize))
  }

  /// Converts piece `k` (see `pieceCount`) into `buffers.output`, split into `parts`
  /// threads; returns the converted bytes. Reads only state that never changes, so
  /// workers with their own buffers may convert different pieces at once.
  func convertPiece(_ k: Int, into buffers: WorkerBuffers, parts: Int) throws(TensorIOError)
    -> UnsafeRawBufferPointer
  {
    let start = k * chunk
    let n = min(chunk, array.count - start)
    let base = array.storage.mutableBase + array.byteOffset
    let output = buffers.output.mutableBase
    if let transpose {
      // Rows split over `parts` threads, each gathering whole tiles.
      let rows = n / transpose.count
      let first = start / transpose.count
      let threads = rows >= 64 ? parts : 1
      let step = ((rows + threads - 1) / threads + 15) / 16 * 16
      let size = source.itemSize
      // Safety: every task reads the source and writes its own rows of `to`; both
      // outlive the region.
      let from = UnsafeShared(UnsafeRawPointer(base + first * size))
      let to = UnsafeShared(gathersIntoOutput ? output : (buffers.scratch?.mutableBase ?? output))
      Parallel.forEach(threads, workers: threads) { part in
        let start = part * step
        let count = min(step, rows - start)
        if count > 0 {
          Transpose.gather(
            from.value + start * size, rows: count, offsets: transpose, itemSize: size,
            into: to.value + start * transpose.count * size)
        }
      }
      if gathersIntoOutput {
        if source != target { ByteSwap.convert(output, count: n, from: source, to: target) }
      } else {
        try convert(UnsafeRawPointer(to.value), count: n, into: output, parts: parts)
      }
    } else {
      try convert(UnsafeRawPointer(base + start * source.itemSize), count: n, into: output, parts: parts)
    }
    return UnsafeRawBufferPointer(start: output, count: n * target.itemSize)
  }

  /// Converts `count` contiguous source elements into `output`, split into up to
  /// `parts` threads for large pieces.
  private func convert(
    _ input: UnsafeRawPointer, count: Int, into output: UnsafeMutableRawPointer, parts threads: Int
  ) throws(TensorIOError) {
    let parts = count >= (1 << 18) ? max(1, threads) : 1
    let step = (count + parts - 1) / parts
    let (source, target) = (self.source, self.target)
    // Safety: every task reads the source and writes its own range of the output;
    // both outlive the region.
    let (from, to) = (UnsafeShared(input), UnsafeShared(output))
    try Parallel.forEach(parts, workers: parts) { (part) throws(TensorIOError) in
      let start = part * step
      let n = min(step, count - start)
      guard n > 0 else { return }
      let a = from.value + start * source.itemSize
      let b = to.value + start * target.itemSize
      if source == target {
        b.copyMemory(from: a, byteCount: n * target.itemSize)
      } else if source.withByteOrder(.little) == target.withByteOrder(.little) {
        ByteSwap.convert(a, into: b, count: n, from: source, to: target)
      } else {
        try Cast.convert(a, source, b, target, count: n)
      }
    }
  }
}
