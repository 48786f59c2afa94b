/// Reads one deflated member: inflates the `.npy` header into a small buffer, then the
/// array data straight into the array's storage, checking the CRC-32 as it goes and
/// stopping at the size the header declares.
final class DeflatedMember {
  let archive: ZipArchive
  let entry: ZipEntry
  let spec: String
  private let inflater: Inflater
  private var inputOffset: Int
  private var inputEnd: Int
  /// Compressed bytes read ahead: `inputBuffer[inputPosition..<inputCount]` are not
  /// inflated yet. One buffer, reused for every read.
  private var inputBuffer = [UInt8](repeating: 0, count: DeflatedMember.inputChunk)
  private var inputCount = 0
  private var inputPosition = 0
  /// Inflated bytes kept from the start of the member (the header, and perhaps more).
  private var head: [UInt8] = []
  private var crc = CRC32()
  /// Array bytes inflated into `head` along with the header and not handed out yet:
  /// `head[surplus]`, already checksummed.
  private var surplus = 0..<0

  /// Compressed bytes per read. Small enough to stay in a core's L2 cache: `pread` from
  /// the page cache into a reused 128 KiB buffer ran at about 5 GB/s here, into a 1 MiB
  /// one at about 1.3 GB/s.
  static let inputChunk = 128 << 10

  /// Where the member's compressed bytes start in the archive.
  private let memberStart: Int

  /// A reader of the whole member, whose compressed bytes start at `start`.
  init(archive: ZipArchive, entry: ZipEntry, start: Int, spec: String) throws(TensorIOError) {
    self.archive = archive
    self.entry = entry
    self.spec = spec
    self.memberStart = start
    self.inputOffset = start
    self.inputEnd = start + entry.compressedSize
    do {
      self.inflater = try Inflater()
    } catch {
      throw error.naming(spec)
    }
  }

  private func fail(_ reason: TensorIOError.Reason) -> TensorIOError { TensorIOError(reason, path: spec) }
  private func fail(_ reason: FormatError) -> TensorIOError { TensorIOError(reason, path: spec) }
  private func fail(_ reason: ArchiveError) -> TensorIOError { TensorIOError(reason, path: spec) }

  /// Inflates into `output` until it is full or the stream ends; returns bytes written.
  /// The CRC-32 is updated with them unless `checksummed` is false (the caller then
  /// checksums them itself).
  private func inflate(into output: UnsafeMutableRawBufferPointer, checksummed: Bool = true) throws(TensorIOError)
    -> Int
  {
    var written = 0
    while written < output.count {
      if inputPosition == inputCount {
        guard inputOffset < inputEnd else { break }
        let count = min(DeflatedMember.inputChunk, inputEnd - inputOffset)
        let (file, offset) = (archive.file, inputOffset)
        inputCount = try typedThrows {
          try inputBuffer.withUnsafeMutableBytes {
            try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count]))
          }
        }
        inputOffset += inputCount
        inputPosition = 0
        if inputCount == 0 { break }
      }
      var consumed = 0
      let (n, finished): (Int, Bool) = try typedThrows {
        try inputBuffer.withUnsafeBytes { all in
          var input = UnsafeRawBufferPointer(rebasing: all[inputPosition..<inputCount])
          let before = input.count
          do throws(TensorIOError) {
            let (n, _) = try inflater.inflate(
              into: UnsafeMutableRawBufferPointer(rebasing: output[written...]), from: &input)
            consumed = before - input.count
            return (n, inflater.finished)
          } catch {
            throw error.naming(spec)
          }
        }
      }
      inputPosition += consumed
      if checksummed { crc.update(UnsafeRawBufferPointer(rebasing: output[written..<(written + n)])) }
      written += n
      if finished { break }
      if n == 0 && consumed == 0 && inputPosition < inputCount { break }
    }
    return written
  }

  /// Inflates until `head` holds at least `count` bytes (or the stream ends).
  private func fillHead(to count: Int) throws(TensorIOError) {
    guard head.count < count else { return }
    let old = head.count
    head += [UInt8](repeating: 0, count: count - old)
    let n = try typedThrows {
      try head.withUnsafeMutableBytes { all in
        try self.inflate(into: UnsafeMutableRawBufferPointer(rebasing: all[old...]))
      }
    }
    head.removeLast(count - old - n)
  }

  /// The member's `.npy` header, checked against the member's uncompressed size.
  func readHeader(maxHeaderSize: Int) throws(TensorIOError) -> NPYHeader {
    let header: NPYHeader
    do throws(TensorIOError) {
      header = try NPYHeader.read(length: entry.uncompressedSize, maxHeaderSize: maxHeaderSize) {
        (range) throws(TensorIOError) in
        try fillHead(to: range.upperBound)
        return Array(head[min(range.lowerBound, head.count)..<min(range.upperBound, head.count)])
      }
    } catch {
      throw error.naming(spec)
    }
    let start = min(header.dataOffset, head.count)
    surplus = start..<min(head.count, header.dataOffset + header.dataBytes)
    return header
  }

  /// Fills `buffer` with the next array bytes (after `readHeader`): the surplus first,
  /// then inflated. Returns the bytes written (fewer only at the stream's end) and how
  /// many of them came from the surplus, which is checksummed already; inflated bytes
  /// are checksummed here unless `checksummed` is false (the caller then checksums
  /// them, as `OverlappedChecksum` does on another core).
  private func nextData(into buffer: UnsafeMutableRawBufferPointer, checksummed: Bool) throws(TensorIOError)
    -> (count: Int, fromSurplus: Int)
  {
    let fromSurplus = min(surplus.count, buffer.count)
    if fromSurplus > 0 {
      head.withUnsafeBytes { all in
        let range = surplus.lowerBound..<(surplus.lowerBound + fromSurplus)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[range]))
      }
      surplus = (surplus.lowerBound + fromSurplus)..<surplus.upperBound
    }
    var written = fromSurplus
    while written < buffer.count {
      let n = try inflate(
        into: UnsafeMutableRawBufferPointer(rebasing: buffer[written...]), checksummed: checksummed)
      if n == 0 { break }
      written += n
    }
    return (written, fromSurplus)
  }

  /// The array, inflated straight into its storage: on all cores between the member's
  /// restart points when it has them (archives TensorIO wrote), else in one pass.
  /// With `scratch`, a large member goes into a scratch file (`Storage(scratchByteCount:)`).
  func load(maxHeaderSize: Int, scratch: Bool) throws(TensorIOError) -> NDArray {
    let header = try readHeader(maxHeaderSize: maxHeaderSize)
    let storage =
      scratch
      ? try Storage(scratchByteCount: header.dataBytes, near: archive.path)
      : try Storage(zeroedByteCount: header.dataBytes)
    if let stretches = stretches(for: header), inflateInParallel(stretches, header: header, into: storage) {
      return NDArray(unchecked: storage, layout: header.layout)
    }
    if !scratch || DeflatedMember.inflatesWhole(header.dataBytes), let array = try loadWhole(header: header) {
      return array
    }
    let base = storage.mutableBase
    // Inflated a window at a time; each window is checksummed on another core while the
    // next one inflates.
    let window = 4 << 20
    var checksum = OverlappedChecksum()
    defer { checksum.abandon() }
    var filled = 0
    while filled < header.dataBytes {
      let count = min(window, header.dataBytes - filled)
      let (n, fromSurplus) = try nextData(
        into: UnsafeMutableRawBufferPointer(start: base + filled, count: count), checksummed: false)
      if n == 0 { break }
      try checksum.collect(into: &crc)
      // Safety: the window is not written again, and `collect` or `abandon` waits for
      // the checksum before the storage can be released.
      checksum.start(UnsafeRawBufferPointer(start: base + filled + fromSurplus, count: n - fromSurplus))
      storage.startWriteBack(offset: filled, length: n)
      filled += n
    }
    try checksum.collect(into: &crc)
    guard filled == header.dataBytes else {
      throw fail(.truncatedData(expected: header.dataBytes, available: filled))
    }
    try finish(declared: header.dataOffset + header.dataBytes)
    return NDArray(unchecked: storage, layout: header.layout)
  }

  /// Whether a member of `bytes` uncompressed bytes is inflated whole (libdeflate)
  /// rather than streamed (zlib) when memory is to stay bounded: below 256 MiB, and
  /// below the size from which loads go to scratch files (`TENSORTOOL_SPILL_MIB`, so
  /// that 0 streams every member).
  static func inflatesWhole(_ bytes: Int) -> Bool { bytes < min(Storage.spillThreshold, 256 << 20) }

  /// The whole member inflated in one call (libdeflate, several times zlib's speed),
  /// its CRC-32 then checked on all cores: the compressed bytes are read into memory,
  /// the member (header and data) inflated into the array's storage, whose layout
  /// starts at the data. Nil when the member's size disagrees with its header (the
  /// streaming path then reports exactly what is wrong).
  private func loadWhole(header: NPYHeader) throws(TensorIOError) -> NDArray? {
    let total = header.dataOffset + header.dataBytes
    guard total == entry.uncompressedSize else { return nil }
    let storage = try Storage(zeroedByteCount: total)
    try inflateWhole(
      into: UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: total), dataOffset: header.dataOffset)
    var layout = header.layout
    layout.byteOffset = header.dataOffset
    return NDArray(unchecked: storage, layout: layout)
  }

  /// Inflates the whole member into `output` (exactly `entry.uncompressedSize` bytes)
  /// in one libdeflate call and checks its CRC-32. Errors count data bytes from
  /// `dataOffset` (where an array member's data starts).
  private func inflateWhole(into output: UnsafeMutableRawBufferPointer, dataOffset: Int) throws(TensorIOError) {
    let outcome = try archive.file.withPrivateMappedBytes(at: memberStart, count: entry.compressedSize) { input in
      SplitInflate.inflate(input, into: output)
    }
    switch outcome {
    case .complete: break
    case .short(let produced):
      throw fail(.truncatedData(expected: output.count - dataOffset, available: max(0, produced - dataOffset)))
    case .overrun: throw fail(.inflateOverrun(declared: output.count))
    case .corrupt: throw fail(.inflateFailed("invalid deflate data"))
    }
    let value = CRC32.checksumParallel(UnsafeRawBufferPointer(output))
    guard value == entry.crc32 else { throw fail(.checksumMismatch(expected: entry.crc32, actual: value)) }
  }

  /// The array inflated straight onto a device: each chunk inflates into a pinned
  /// buffer of the transfer engine's ring while the chunks before it are copied, and
  /// the chunk before is checksummed on another core meanwhile. The device copy is
  /// returned only once the whole member's size and CRC-32 have checked out.
  func load(
    to device: Device, maxHeaderSize: Int, path: TransferPath, progress: TransferProgress?
  ) throws(TensorIOError) -> Tensor {
    let header = try readHeader(maxHeaderSize: maxHeaderSize)
    let backend = try Devices.backend(for: device)
    let memory = try DeviceBuffer(backend: backend, byteCount: header.dataBytes)
    var filled = 0
    // Each chunk is checksummed on another core while the next one inflates: the engine
    // leaves the previous chunk's buffer untouched until this producer call returns.
    var checksum = OverlappedChecksum()
    defer { checksum.abandon() }
    try memory.upload(count: header.dataBytes, path: path, progress: progress) {
      (buffer: UnsafeMutableRawBufferPointer, _: Int) throws(TensorIOError) in
      let (written, fromSurplus) = try nextData(into: buffer, checksummed: false)
      // The previous chunk's checksum is done before its buffer can be reused.
      try checksum.collect(into: &crc)
      guard written == buffer.count else {
        throw fail(.truncatedData(expected: header.dataBytes, available: filled + written))
      }
      filled += written
      checksum.start(UnsafeRawBufferPointer(rebasing: buffer[fromSurplus...]))
      if filled == header.dataBytes { try checksum.collect(into: &crc) }
    }
    try finish(declared: header.dataOffset + header.dataBytes)
    return Tensor(buffer: .device(memory), layout: header.layout)
  }

  /// A stretch of the member between restart points: its compressed and uncompressed
  /// byte ranges.
  struct Stretch {
    var compressed: Range<Int>
    var uncompressed: Range<Int>
  }

  /// The stretches between the member's restart points, if it records usable ones: in
  /// increasing order, inside the array data, more than one stretch, and more than one
  /// core to inflate them. They are a hint from the file, checked again as each
  /// stretch inflates.
  func stretches(for header: NPYHeader) -> [Stretch]? {
    let points = entry.restarts
    guard !points.isEmpty, Parallel.cores > 1,
      header.dataOffset + header.dataBytes == entry.uncompressedSize
    else { return nil }
    var stretches: [Stretch] = []
    var previous = DeflateRestart(uncompressedOffset: 0, compressedOffset: 0)
    for point in points + [
      DeflateRestart(uncompressedOffset: entry.uncompressedSize, compressedOffset: entry.compressedSize)
    ] {
      guard point.uncompressedOffset > previous.uncompressedOffset,
        point.compressedOffset > previous.compressedOffset,
        point.uncompressedOffset <= entry.uncompressedSize, point.compressedOffset <= entry.compressedSize,
        previous.compressedOffset > 0 || point.uncompressedOffset >= header.dataOffset
      else { return nil }
      stretches.append(
        Stretch(
          compressed: previous.compressedOffset..<point.compressedOffset,
          uncompressed: previous.uncompressedOffset..<point.uncompressedOffset))
      previous = point
    }
    return stretches
  }

  /// Inflates each stretch on its own, one worker per core, the array bytes straight
  /// into `storage`, and checks the combined CRC-32. A restart point starts with no
  /// history and the stretch before it ends with a sync flush, on a byte boundary, so
  /// a stretch followed by an empty final stored block is a complete deflate stream:
  /// each inflates whole through libdeflate, and must end exactly at that block (the
  /// last stretch: at its own final block). Returns false on any failure (the caller
  /// then inflates the member in one pass, which reports what is wrong with it).
  func inflateInParallel(_ stretches: [Stretch], header: NPYHeader, into storage: Storage) -> Bool {
    let (file, start) = (archive.file, memberStart)
    // Safety: each task writes the array bytes of its own stretch; the storage
    // outlives the region.
    let base = UnsafeShared(storage.mutableBase)
    let dataOffset = header.dataOffset
    let checksums = try? Parallel.map(stretches.count) { (index) throws(TensorIOError) -> UInt32 in
      let stretch = stretches[index]
      let isLast = index == stretches.count - 1
      // An empty stored block with BFINAL set: bits 1, 00, padding, then LEN 0, NLEN 0xFFFF.
      let terminator: [UInt8] = isLast ? [] : [0x01, 0x00, 0x00, 0xFF, 0xFF]
      let count = stretch.compressed.count
      let input = UnsafeMutableRawBufferPointer.allocate(byteCount: count + terminator.count, alignment: 64)
      defer { input.deallocate() }
      try file.readExactly(
        at: start + stretch.compressed.lowerBound, into: UnsafeMutableRawBufferPointer(rebasing: input[..<count]))
      for (k, byte) in terminator.enumerated() { input[count + k] = byte }
      // The first stretch holds the npy header: inflated (and checksummed) again into a
      // buffer of its own, its array bytes copied into place.
      let leadsWithHeader = stretch.uncompressed.lowerBound < dataOffset
      let from = max(stretch.uncompressed.lowerBound, dataOffset) - dataOffset
      let data = UnsafeMutableRawBufferPointer(
        start: base.value + from, count: stretch.uncompressed.upperBound - dataOffset - from)
      let whole =
        leadsWithHeader
        ? UnsafeMutableRawBufferPointer.allocate(byteCount: stretch.uncompressed.count, alignment: 64) : data
      defer { if leadsWithHeader { whole.deallocate() } }
      guard case .complete(let consumed) = WholeInflate.inflate(UnsafeRawBufferPointer(input), into: whole),
        consumed == input.count
      else {
        throw TensorIOError(.inflateFailed("restart point \(index) does not match the stream"))
      }
      if leadsWithHeader {
        data.copyMemory(from: UnsafeRawBufferPointer(rebasing: whole[(whole.count - data.count)...]))
      }
      storage.startWriteBack(offset: from, length: data.count)
      return CRC32.checksum(UnsafeRawBufferPointer(whole))
    }
    guard let checksums, checksums.count == stretches.count else { return false }
    var crc = CRC32()
    for (value, stretch) in zip(checksums, stretches) {
      crc.combine(with: value, length: stretch.uncompressed.count)
    }
    return crc.value == entry.crc32
  }

  /// Inflates the whole member a fixed-size piece at a time, for its size and CRC-32
  /// only (`verify`): memory stays bounded whatever the member's size. With
  /// `maxHeaderSize`, the member's `.npy` header is parsed and checked first.
  func check(maxHeaderSize: Int?) throws(TensorIOError) {
    var done = 0
    // An array member ends where its header says, and its stream must end there too.
    var total = entry.uncompressedSize
    var dataOffset = 0
    if let maxHeaderSize {
      let header = try readHeader(maxHeaderSize: maxHeaderSize)
      total = header.dataOffset + header.dataBytes
      dataOffset = header.dataOffset
      done = head.count
    }
    if total == entry.uncompressedSize, DeflatedMember.inflatesWhole(total) {
      // Small enough to hold: inflated through libdeflate (on two cores when it can be
      // split) into memory that is dropped afterwards.
      let buffer = try Storage(zeroedByteCount: total)
      try inflateWhole(
        into: UnsafeMutableRawBufferPointer(start: buffer.mutableBase, count: total), dataOffset: dataOffset)
      return
    }
    let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: min(4 << 20, max(total, 1)), alignment: 64)
    defer { piece.deallocate() }
    while done < total {
      let n = try inflate(into: UnsafeMutableRawBufferPointer(rebasing: piece[..<min(piece.count, total - done)]))
      if n == 0 { break }
      done += n
    }
    guard done >= total else { throw fail(.truncatedData(expected: total, available: done)) }
    try finish(declared: total)
  }

  /// The array data in the member's memory order, through one reused buffer of about
  /// `pieceBytes` (a multiple of the item size): `body` gets every piece but the last
  /// full, with its byte offset in the data. The stream's end, size and CRC-32 are
  /// checked after the last piece; a failure then throws, so `body`'s output must stay
  /// provisional until this returns. With `through`, only the data's first `through`
  /// bytes are inflated, and the end and CRC-32 are not checked. Returns the member's
  /// header.
  func streamData(
    maxHeaderSize: Int, pieceBytes: Int, through limit: Int? = nil,
    _ body: (UnsafeRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> NPYHeader {
    let header = try readHeader(maxHeaderSize: maxHeaderSize)
    let item = max(header.dtype.itemSize, 1)
    let size = max(item, min(pieceBytes, header.dataBytes) / item * item)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    defer { buffer.deallocate() }
    var done = 0
    let end = min(header.dataBytes, max(0, limit ?? header.dataBytes))
    while done < end {
      let want = min(size, end - done)
      let (filled, _) = try nextData(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), checksummed: true)
      guard filled == want else {
        throw fail(.truncatedData(expected: header.dataBytes, available: done + filled))
      }
      try body(UnsafeRawBufferPointer(rebasing: buffer[..<want]), done)
      done += want
    }
    if end == header.dataBytes { try finish(declared: header.dataOffset + header.dataBytes) }
    return header
  }

  /// All the member's bytes (not an array).
  func readAll() throws(TensorIOError) -> [UInt8] {
    try fillHead(to: entry.uncompressedSize)
    try finish(declared: entry.uncompressedSize)
    return head
  }

  /// After `declared` bytes: the stream must end there, with the size and CRC-32 the
  /// archive records.
  private func finish(declared: Int) throws(TensorIOError) {
    if !inflater.finished {
      var extra: UInt8 = 0
      let n = try withUnsafeMutableBytes(of: &extra) { (raw) throws(TensorIOError) -> Int in try inflate(into: raw) }
      if n > 0 { throw fail(.inflateOverrun(declared: declared)) }
      if !inflater.finished { throw fail(.inflateFailed("the stream ends before its last block")) }
    }
    guard inflater.totalOut == entry.uncompressedSize else {
      throw fail(
        .structure("inflated \(inflater.totalOut) bytes, the archive records \(entry.uncompressedSize)"))
    }
    guard crc.value == entry.crc32 else {
      throw fail(.checksumMismatch(expected: entry.crc32, actual: crc.value))
    }
  }
}

/// The CRC-32 of one region computed on another core while the caller produces the
/// next: `start` a region, `collect` its checksum (waiting) before the region is
/// touched again, in order; `abandon` waits for a checksum no one will collect.
private struct OverlappedChecksum {
  private var pending: (task: BackgroundTask<UInt32>, length: Int)?

  /// Starts checksumming `region`, which must stay untouched until the next `collect`
  /// or `abandon` returns.
  mutating func start(_ region: UnsafeRawBufferPointer) {
    // Safety: the caller keeps `region` untouched until `collect` or `abandon` has
    // waited for this task.
    let shared = UnsafeShared(region)
    pending = (BackgroundTask { CRC32.checksum(shared.value) }, region.count)
  }

  /// Waits for the pending checksum, if any, and appends it to `crc`.
  mutating func collect(into crc: inout CRC32) throws(TensorIOError) {
    guard let (task, length) = pending else { return }
    pending = nil
    crc.combine(with: try task.wait(), length: length)
  }

  /// Waits for a pending checksum whose result is not wanted (after a failure).
  mutating func abandon() {
    if let (task, _) = pending { _ = try? task.wait() }
    pending = nil
  }
}
