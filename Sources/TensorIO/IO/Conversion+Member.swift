import CTensorShims
import SystemPackage

extension Conversion {
  /// Writes member `name` of `archive` converted to `dtype` (nil: the member's own,
  /// then `byteOrder`) in `order` (nil: the member's own) as an `.npy` at `path`,
  /// atomically. A deflated member too large to hold (from `Storage.spillThreshold`,
  /// 256 MiB) whose memory order the output keeps streams straight into the output:
  /// inflated a piece at a time, each piece cast and written, its CRC-32 checked before
  /// the output replaces `path`; memory stays at a few MiB whatever the member's size.
  /// Other members are mapped or loaded (`NPZArchive.mapOrLoad`; smaller deflated
  /// members inflate whole, through libdeflate) and converted as arrays.
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
    let castable =
      target == source || (source.isNumeric && target.isNumeric) || TimeCast.casts(from: source, to: target)
    // A member small enough to hold is inflated whole (libdeflate: several times zlib's
    // streaming speed) and converted as an array.
    guard info.member.compression == .deflate, !DeflatedMember.inflatesWhole(info.member.uncompressedBytes),
      sameSequence, castable, source.itemSize > 0
    else {
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
}
