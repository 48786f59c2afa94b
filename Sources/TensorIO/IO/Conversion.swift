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
    if !sameLayout && !(base.isNumeric && source.isNumeric) {
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

extension Conversion {
  /// Writes member `name` of `archive` converted to `dtype` (nil: the member's own,
  /// then `byteOrder`) in `order` (nil: the member's own) as an `.npy` at `path`,
  /// atomically. A deflated member whose memory order the output keeps streams
  /// straight into the output: inflated a piece at a time, each piece cast and
  /// written, its CRC-32 checked before the output replaces `path`; memory stays at a
  /// few MiB whatever the member's size. Other members are mapped (see
  /// `NPZArchive.map`) and converted as arrays.
  public static func writeNPY(
    member name: String, of archive: NPZArchive, to path: some FilePathConvertible, dtype: DType? = nil,
    byteOrder: ByteOrder? = nil, order: MemoryOrder? = nil, durability: Durability = .synced,
    progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    let path = path.filePath
    let info = try archive.info(name)
    let source = info.header.dtype
    let target = try targetDType(source: source, dtype: dtype, byteOrder: byteOrder)
    let memberOrder: MemoryOrder = info.header.fortranOrder ? .fortran : .c
    let shape = info.header.shape
    // Streaming keeps the member's element order: the output's order must be the same
    // sequence of elements (always so for fewer than two dimensions of length > 1).
    let savedOrder = ArrayLayout.savedOrder(shape: shape, itemSize: target.itemSize, requested: order ?? memberOrder)
    let sameSequence = savedOrder == memberOrder || shape.filter { $0 > 1 }.count < 2
    let castable = target == source || (source.isNumeric && target.isNumeric)
    guard info.member.compression == .deflate, sameSequence, castable, source.itemSize > 0 else {
      let array = try archive.mapOrLoad(name)
      try writeNPY(
        array, to: path, dtype: target, order: order ?? array.saveOrder, durability: durability,
        progress: progress)
      return
    }
    try NPYWriter.write(to: path, dtype: target, shape: shape, order: savedOrder, durability: durability) {
      (file: AtomicFile, dataStart: Int, _: MemoryOrder) throws(TensorIOError) in
      let piece = chunkElements * source.itemSize
      let out = UnsafeMutableRawBufferPointer.allocate(
        byteCount: max(1, piece / source.itemSize * target.itemSize), alignment: 64)
      defer { out.deallocate() }
      _ = try archive.streamDeflatedData(name, pieceBytes: piece) {
        (bytes: UnsafeRawBufferPointer, offset: Int) throws(TensorIOError) in
        let elements = bytes.count / source.itemSize
        let converted: UnsafeRawBufferPointer
        if target == source {
          converted = bytes
        } else {
          guard let from = bytes.baseAddress, let to = out.baseAddress else { return }
          try Cast.convert(from, source, to, target, count: elements)
          converted = UnsafeRawBufferPointer(rebasing: out[..<(elements * target.itemSize)])
        }
        let at = offset / source.itemSize * target.itemSize
        try file.write(converted, at: dataStart + at)
        progress?(at + converted.count)
      }
    }
  }

  /// Pieces that convert independently, written by one worker per core: each converts
  /// a piece into its own buffer, then writes it at its place. While one worker is in
  /// its (page-cache) write, the other converts: every core stays busy, with no
  /// separate writer thread to hand pieces to.
  fileprivate static func writeInParallel(
    _ pieces: ConvertedPieces, count: Int, to file: AtomicFile, at start: Int, progress: ((Int) -> Void)?
  ) throws(TensorIOError) {
    // Progress calls are serialized by the lock (the callback itself need not be
    // thread-safe).
    let written = Locked(0)
    // Safety: called only with `written`'s lock held, before this function returns.
    let report = UnsafeShared(progress)
    // Safety: workers use only `convertPiece` and `workerBuffers`, which read state
    // that never changes; `pieces` outlives the region.
    let shared = UnsafeShared(pieces)
    try Parallel.workers(min(Parallel.cores, count), sharing: count) { (_, queue) throws(TensorIOError) in
      let pieces = shared.value
      let buffers = try pieces.workerBuffers()
      while let k = queue.next() {
        let bytes = try pieces.convertPiece(k, into: buffers, parts: 1)
        try file.write(bytes, at: start + pieces.pieceOffset(k))
        written.withLock { total in
          total += bytes.count
          report.value?(total)
        }
      }
    }
  }
}

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

/// Cache-blocked gathering of a transpose.
enum Transpose {
  /// Writes `rows` rows of `offsets.count` elements: element `(r, i)` of the output
  /// (row-major) is read at `base + r * itemSize + offsets[i]`. Tiles of one cache line
  /// of rows are walked along `i`, so every source line read serves a whole tile, a
  /// cache-sized block of `i` at a time.
  static func gather(
    _ base: UnsafeRawPointer, rows: Int, offsets: [Int], itemSize: Int, into out: UnsafeMutableRawPointer
  ) {
    if itemSize == 4,
      offsets.withUnsafeBufferPointer({ tensortool_gather_transpose32(base, rows, $0.baseAddress, $0.count, out) })
        == 1
    {
      return
    }
    switch itemSize {
    case 1: gather(base, rows, offsets, out, UInt8.self)
    case 2: gather(base, rows, offsets, out, UInt16.self)
    case 4: gather(base, rows, offsets, out, UInt32.self)
    default: gather(base, rows, offsets, out, UInt64.self)
    }
  }

  private static func gather<T: FixedWidthInteger>(
    _ base: UnsafeRawPointer, _ rows: Int, _ offsets: [Int], _ out: UnsafeMutableRawPointer, _: T.Type
  ) {
    let tile = max(1, 64 / MemoryLayout<T>.size)
    let inner = offsets.count
    let destination = out.assumingMemoryBound(to: T.self)
    // Blocks of `block` source lines, each read by every tile while it is in cache (a
    // tile per source line at a time would touch a new page per element: a TLB miss).
    let block = 256
    offsets.withUnsafeBufferPointer { offsets in
      var i0 = 0
      while i0 < inner {
        let i1 = min(inner, i0 + block)
        var r0 = 0
        while r0 < rows {
          let r1 = min(rows, r0 + tile)
          for i in i0..<i1 {
            let line = base + offsets[i]
            for r in r0..<r1 {
              destination[r * inner + i] = line.loadUnaligned(fromByteOffset: r * MemoryLayout<T>.size, as: T.self)
            }
          }
          r0 = r1
        }
        i0 = i1
      }
    }
  }
}
