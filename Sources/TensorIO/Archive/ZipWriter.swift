import Glibc

/// Writes a ZIP archive member by member into an `AtomicFile`: local header (with
/// alignment padding for stored members and a ZIP64 extra when the member may reach
/// 4 GiB), the bytes, then the header patched with CRC and sizes; the central
/// directory and end records (ZIP64 ones when needed) at `finish()`.
final class ZipWriter {
  let file: AtomicFile
  private(set) var offset = 0
  private var written: [ZipEntry] = []
  private let dosTime: UInt16
  private let dosDate: UInt16
  /// Stored members' data starts at a multiple of this.
  static let alignment = 64
  /// Members this large (uncompressed) get a ZIP64 extra in their local header.
  static let zip64Threshold = 0xF000_0000

  /// Whether every record uses its ZIP64 form (for tests of the ZIP64 paths without
  /// writing 4 GiB).
  let forceZip64: Bool

  init(file: AtomicFile, forceZip64: Bool = false) {
    self.file = file
    self.forceZip64 = forceZip64
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    let year = max(1980, Int(parts.tm_year) + 1900)
    dosDate = UInt16((year - 1980) << 9 | Int(parts.tm_mon + 1) << 5 | Int(parts.tm_mday))
    dosTime = UInt16(Int(parts.tm_hour) << 11 | Int(parts.tm_min) << 5 | Int(parts.tm_sec) / 2)
  }

  private func write(_ bytes: [UInt8]) throws(TensorIOError) {
    try typedThrows { try bytes.withUnsafeBytes { try file.write($0, at: offset) } }
    offset += bytes.count
  }

  /// Writes one member whose uncompressed size is `size`: the local header, then
  /// whatever `body` writes through the sink it is given (the stored or compressed
  /// bytes, in order); `body` returns the CRC-32 of the uncompressed bytes and the
  /// deflate stream's restart points (recorded in the central directory).
  func addMember(
    name: String, method: UInt16, uncompressedSize: Int,
    body: (_ sink: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void) throws(TensorIOError) -> (
      crc: UInt32, restarts: [DeflateRestart]
    )
  ) throws(TensorIOError) {
    let rawName = Array(name.utf8)
    let flags: UInt16 = rawName.allSatisfy { $0 < 0x80 } ? 0 : Zip.flagUTF8
    try addMember(
      name: name, rawName: rawName, flags: flags, method: method, uncompressedSize: uncompressedSize, body: body)
  }

  /// Copies member `entry` of `source` as it is: its raw name, method, CRC-32, restart
  /// points and compressed bytes (never inflated), under a new local header without a
  /// data descriptor; a stored member is padded to stay 64-byte aligned. With `newName`
  /// the member is written under that (UTF-8) name instead.
  func copyMember(
    _ entry: ZipEntry, from source: ZipArchive, as newName: String? = nil, copied: (Int) -> Void = { _ in }
  ) throws(TensorIOError) {
    let start = try source.dataOffset(of: entry, spec: "\(source.path):\(entry.name)")
    // A renamed member is written with a UTF-8 name; otherwise its raw name and flag stay.
    let (name, rawName, flags) =
      newName.map { ($0, Array($0.utf8), Zip.flagUTF8) } ?? (entry.name, entry.rawName, entry.flags & Zip.flagUTF8)
    try addMember(
      name: name, rawName: rawName, flags: flags, method: entry.method,
      uncompressedSize: entry.uncompressedSize
    ) { (sink) throws(TensorIOError) in
      let piece = min(max(entry.compressedSize, 1), 4 << 20)
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
      defer { buffer.deallocate() }
      var done = 0
      while done < entry.compressedSize {
        let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(piece, entry.compressedSize - done)])
        try source.file.readExactly(at: start + done, into: part)
        try sink(UnsafeRawBufferPointer(part))
        done += part.count
        copied(part.count)
      }
      return (entry.crc32, entry.restarts)
    }
  }

  private func addMember(
    name: String, rawName: [UInt8], flags: UInt16, method: UInt16, uncompressedSize: Int,
    body: (_ sink: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void) throws(TensorIOError) -> (
      crc: UInt32, restarts: [DeflateRestart]
    )
  ) throws(TensorIOError) {
    guard rawName.count <= 0xFFFF else {
      throw TensorIOError(.invalidMemberName(name, reason: "longer than 65535 bytes"), path: file.path)
    }
    let zip64 = forceZip64 || uncompressedSize >= ZipWriter.zip64Threshold
    let headerOffset = offset
    var extra = ByteWriter()
    if zip64 {
      extra.uint16(Zip.zip64ExtraID)
      extra.uint16(16)
      extra.uint64(0)
      extra.uint64(0)
    }
    if method == Zip.methodStored {
      // Pad with an alignment extra field (as zipalign does) so the data starts aligned.
      let unpadded = headerOffset + Zip.localHeaderSize + rawName.count + extra.bytes.count + 4
      var padding = (ZipWriter.alignment - unpadded % ZipWriter.alignment) % ZipWriter.alignment
      if padding < 2 { padding += ZipWriter.alignment }
      extra.uint16(Zip.alignmentExtraID)
      extra.uint16(UInt16(padding))
      extra.uint16(UInt16(ZipWriter.alignment))
      extra.append(repeatElement(UInt8(0), count: padding - 2))
    }
    try write(
      localHeader(
        rawName: rawName, extra: extra.bytes, method: method, flags: flags, zip64: zip64,
        crc: 0, compressed: 0, uncompressed: 0))
    let dataStart = offset
    var end = dataStart
    let (crc, restarts) = try body { (chunk) throws(TensorIOError) in
      try file.write(chunk, at: end)
      end += chunk.count
    }
    offset = end
    let compressed = end - dataStart
    if !zip64 && compressed >= 0xFFFF_FFFF {
      throw TensorIOError(
        .needsZip64(member: name), path: file.path)
    }
    // Patch the local header with the real CRC and sizes.
    var patched = localHeader(
      rawName: rawName, extra: extra.bytes, method: method, flags: flags, zip64: zip64,
      crc: crc, compressed: compressed, uncompressed: uncompressedSize)
    if zip64 {
      // The ZIP64 extra's sizes follow the name: uncompressed, then compressed.
      var sizes = ByteWriter()
      sizes.uint64(UInt64(uncompressedSize))
      sizes.uint64(UInt64(compressed))
      let at = Zip.localHeaderSize + rawName.count + 4
      patched.replaceSubrange(at..<(at + 16), with: sizes.bytes)
    }
    try typedThrows { try patched.withUnsafeBytes { try file.write($0, at: headerOffset) } }
    written.append(
      ZipEntry(
        name: name, rawName: rawName, method: method, flags: flags, crc32: crc, compressedSize: compressed,
        uncompressedSize: uncompressedSize, localHeaderOffset: headerOffset,
        restarts: ZipWriter.thinned(restarts)))
  }

  /// The most restart points one member records (its extra field holds at most 64 KiB).
  static let maxRestarts = 4000

  /// At most `maxRestarts` of `points`, evenly spread (every point is a restart on its
  /// own, so any subset is one too).
  static func thinned(_ points: [DeflateRestart]) -> [DeflateRestart] {
    guard points.count > maxRestarts else { return points }
    let step = (points.count + maxRestarts - 1) / maxRestarts
    return stride(from: 0, to: points.count, by: step).map { points[$0] }
  }

  private func localHeader(
    rawName: [UInt8], extra: [UInt8], method: UInt16, flags: UInt16, zip64: Bool, crc: UInt32, compressed: Int,
    uncompressed: Int
  ) -> [UInt8] {
    var w = ByteWriter()
    w.uint32(Zip.localHeaderSignature)
    w.uint16(zip64 ? 45 : 20)
    w.uint16(flags)
    w.uint16(method)
    w.uint16(dosTime)
    w.uint16(dosDate)
    w.uint32(crc)
    w.uint32(zip64 ? 0xFFFF_FFFF : UInt32(compressed))
    w.uint32(zip64 ? 0xFFFF_FFFF : UInt32(uncompressed))
    w.uint16(UInt16(rawName.count))
    w.uint16(UInt16(extra.count))
    w.append(rawName)
    w.append(extra)
    return w.bytes
  }

  /// Writes the central directory and end records.
  func finish() throws(TensorIOError) {
    let directoryOffset = offset
    var directory = ByteWriter()
    for entry in written {
      let bigUncompressed = forceZip64 || entry.uncompressedSize >= 0xFFFF_FFFF
      let bigCompressed = forceZip64 || entry.compressedSize >= 0xFFFF_FFFF
      let bigOffset = forceZip64 || entry.localHeaderOffset >= 0xFFFF_FFFF
      var extra = ByteWriter()
      if bigUncompressed || bigCompressed || bigOffset {
        var values = ByteWriter()
        if bigUncompressed { values.uint64(UInt64(entry.uncompressedSize)) }
        if bigCompressed { values.uint64(UInt64(entry.compressedSize)) }
        if bigOffset { values.uint64(UInt64(entry.localHeaderOffset)) }
        extra.uint16(Zip.zip64ExtraID)
        extra.uint16(UInt16(values.bytes.count))
        extra.append(values.bytes)
      }
      let version: UInt16 = extra.bytes.isEmpty ? 20 : 45
      if !entry.restarts.isEmpty {
        extra.uint16(Zip.restartExtraID)
        extra.uint16(UInt16(entry.restarts.count * 16))
        for point in entry.restarts {
          extra.uint64(UInt64(point.uncompressedOffset))
          extra.uint64(UInt64(point.compressedOffset))
        }
      }
      directory.uint32(Zip.centralHeaderSignature)
      directory.uint16(3 << 8 | version)  // made by: Unix
      directory.uint16(version)
      directory.uint16(entry.flags)
      directory.uint16(entry.method)
      directory.uint16(dosTime)
      directory.uint16(dosDate)
      directory.uint32(entry.crc32)
      directory.uint32(bigCompressed ? 0xFFFF_FFFF : UInt32(entry.compressedSize))
      directory.uint32(bigUncompressed ? 0xFFFF_FFFF : UInt32(entry.uncompressedSize))
      directory.uint16(UInt16(entry.rawName.count))
      directory.uint16(UInt16(extra.bytes.count))
      directory.uint16(0)  // comment
      directory.uint16(0)  // disk
      directory.uint16(0)  // internal attributes
      directory.uint32(0o100644 << 16)  // regular file, rw-r--r--
      directory.uint32(bigOffset ? 0xFFFF_FFFF : UInt32(entry.localHeaderOffset))
      directory.append(entry.rawName)
      directory.append(extra.bytes)
    }
    try write(directory.bytes)
    let directorySize = directory.bytes.count
    let count = written.count
    var end = ByteWriter()
    let zip64 = forceZip64 || count >= 0xFFFF || directoryOffset >= 0xFFFF_FFFF || directorySize >= 0xFFFF_FFFF
    if zip64 {
      let recordOffset = offset
      end.uint32(Zip.zip64EndSignature)
      end.uint64(UInt64(Zip.zip64EndSize - 12))
      end.uint16(3 << 8 | 45)
      end.uint16(45)
      end.uint32(0)
      end.uint32(0)
      end.uint64(UInt64(count))
      end.uint64(UInt64(count))
      end.uint64(UInt64(directorySize))
      end.uint64(UInt64(directoryOffset))
      end.uint32(Zip.zip64LocatorSignature)
      end.uint32(0)
      end.uint64(UInt64(recordOffset))
      end.uint32(1)
    }
    end.uint32(Zip.endSignature)
    end.uint16(0)
    end.uint16(0)
    end.uint16(zip64 ? 0xFFFF : UInt16(count))
    end.uint16(zip64 ? 0xFFFF : UInt16(count))
    end.uint32(zip64 ? 0xFFFF_FFFF : UInt32(directorySize))
    end.uint32(zip64 ? 0xFFFF_FFFF : UInt32(directoryOffset))
    end.uint16(0)
    try write(end.bytes)
  }
}
