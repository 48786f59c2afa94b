import SystemPackage

/// An `.npz` archive (a ZIP of `.npy` members) opened for reading.
///
/// Opening reads only the central directory and checks it (ZIP64 records, sizes
/// against the file, unsupported methods, encryption, duplicate or unsafe names).
/// Members are read lazily, by name with or without `.npy` (`npz["a"]` and
/// `npz["a.npy"]`); every read verifies the CRC-32. Stored members whose data is aligned
/// for their element type can be memory-mapped in place (`map`); numpy ignores
/// `mmap_mode` for npz and always reads.
public final class NPZArchive: Sendable {
  /// How a member's bytes are stored: as read from an archive, and as asked for when
  /// writing one.
  public enum Compression: Sendable, Hashable {
    /// Method 0: the bytes as they are (`np.savez`); written with array data 64-byte
    /// aligned, so that members map in place.
    case stored
    /// Method 8: raw deflate (`np.savez_compressed`) at a level on zlib's scale: 1
    /// (fastest) to 9 (smallest), -1 for the default (6); written on all cores through
    /// libdeflate (`Deflate.libdeflateLevel` maps the levels). Zip does not record the
    /// level, so a member read from an archive reports -1.
    case deflate(level: Int)

    /// Deflate at the default level (6, numpy's), at most 1% larger than
    /// `np.savez_compressed`'s output.
    public static var deflate: Compression { .deflate(level: -1) }

    /// The zip method's name, as `inspect` prints it: `stored` or `deflate`.
    public var methodName: String {
      switch self {
      case .stored: return "stored"
      case .deflate: return "deflate"
      }
    }
  }

  /// One member of the archive.
  public struct Member: Sendable, Hashable {
    /// The name in the archive (`a.npy`).
    public var name: String
    /// The name with one trailing `.npy` removed (`a`), as numpy's `NpzFile` keys it.
    public var key: String
    /// How the bytes are stored.
    public var compression: Compression
    /// Bytes in the archive.
    public var compressedBytes: Int
    /// Bytes once inflated.
    public var uncompressedBytes: Int
    /// The CRC-32 the archive records for the uncompressed bytes.
    public var crc32: UInt32

    /// Whether the member is named as an array (`.npy`), as numpy decides which members
    /// `NpzFile` loads as arrays.
    public var isArray: Bool { name.hasSuffix(MemberName.suffix) }
  }

  /// The key a member name is looked up by: `name` without one trailing `.npy`
  /// (`"a.npy"` -> `"a"`), as numpy's `NpzFile` keys its members.
  public static func key(forMemberName name: String) -> String { MemberName.key(ofEntry: name) }

  /// A member's `.npy` header and where its array data sits.
  public struct MemberInfo: Sendable, Hashable {
    /// The member.
    public var member: Member
    /// Its `.npy` header.
    public var header: NPYHeader
    /// The absolute file offset of the array data, for stored members.
    public var dataOffset: Int?
    /// Whether `map` maps the member in place: stored, with data aligned for its dtype.
    public var isMappable: Bool
  }

  /// The archive's path.
  public let path: String
  /// The members, in archive order.
  public let members: [Member]
  private let archive: ZipArchive
  private let entries: [String: ZipEntry]
  private let maxHeaderSize: Int

  /// Opens the archive at `path`, reading and checking its central directory.
  public init(path: some FilePathConvertible, maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize) throws(TensorIOError)
  {
    let path = path.filePath
    archive = try ZipArchive(path: path)
    self.path = path.string
    self.maxHeaderSize = maxHeaderSize
    var members: [Member] = []
    var entries: [String: ZipEntry] = [:]
    for entry in archive.entries {
      let key = MemberName.key(ofEntry: entry.name)
      members.append(
        Member(
          name: entry.name, key: key, compression: entry.method == Zip.methodStored ? .stored : .deflate,
          compressedBytes: entry.compressedSize, uncompressedBytes: entry.uncompressedSize, crc32: entry.crc32))
      entries[key] = entry
    }
    self.members = members
    self.entries = entries
  }

  /// The spec errors name a member by: `archive.npz:key`.
  private func spec(_ key: String) -> String { "\(path):\(key)" }

  private func entry(_ name: String) throws(TensorIOError) -> (String, ZipEntry) {
    let key = entries[name] == nil ? MemberName.key(ofEntry: name) : name
    guard let entry = entries[key] else { throw TensorIOError(.memberNotFound(name), path: path) }
    return (key, entry)
  }

  /// The member called `name` (with or without `.npy`).
  public func member(_ name: String) throws(TensorIOError) -> Member {
    let (key, _) = try entry(name)
    guard let member = members.first(where: { $0.key == key }) else {
      throw TensorIOError(.memberNotFound(name), path: path)
    }
    return member
  }

  /// The `.npy` header of member `name`, checked against the member's size, without
  /// reading its data (deflated members inflate only as far as the header).
  public func info(_ name: String) throws(TensorIOError) -> MemberInfo {
    let (key, entry) = try entry(name)
    let member = try self.member(key)
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    if entry.method == Zip.methodStored {
      let header = try archive.file.readHeader(
        at: start, length: entry.uncompressedSize, maxHeaderSize: maxHeaderSize, name: spec(key))
      let offset = start + header.dataOffset
      return MemberInfo(
        member: member, header: header, dataOffset: offset, isMappable: offset % header.dtype.alignment == 0)
    }
    let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
    let header = try reader.readHeader(maxHeaderSize: maxHeaderSize)
    return MemberInfo(member: member, header: header, dataOffset: nil, isMappable: false)
  }

  /// Member `name` loaded into memory (numpy's `npz[name]`), CRC-32 verified.
  public func load(_ name: String) throws(TensorIOError) -> NDArray {
    try load(name, scratch: false)
  }

  /// Member `name` loaded, into memory or (`scratch`, from `Storage.spillThreshold`
  /// bytes on) into a scratch file, so that memory use stays bounded.
  func load(_ name: String, scratch: Bool) throws(TensorIOError) -> NDArray {
    let (key, entry) = try entry(name)
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    if entry.method == Zip.methodStored {
      return try loadStored(entry, start: start, spec: spec(key), scratch: scratch)
    }
    let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
    return try reader.load(maxHeaderSize: maxHeaderSize, scratch: scratch)
  }

  /// Member `name` as a tensor on `device`, CRC-32 verified. A deflated member
  /// inflates chunk by chunk into pinned buffers that are copied to the device while
  /// the next chunk inflates (no whole host copy), unless it has restart points: it is
  /// then inflated on all cores into memory and uploaded; a stored member whose data is
  /// aligned uploads from its mapping while its CRC-32 is checked on other cores (an
  /// unaligned one is loaded, then uploaded). On `.cpu`, this is `load`. `path` and
  /// `progress` are `Tensor.to`'s.
  public func load(
    _ name: String, to device: Device, path: TransferPath = .automatic, progress: TransferProgress? = nil
  ) throws(TensorIOError) -> Tensor {
    let (key, entry) = try entry(name)
    if device == .cpu { return Tensor(try load(key)) }
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    if entry.method == Zip.methodStored {
      let info = try info(key)
      guard info.isMappable else {
        return try Tensor(try load(key, scratch: true)).to(device, path: path, progress: progress)
      }
      // Uploaded from the mapping (registered in place where the driver allows), while
      // the CRC-32 is checked over the same pages on other cores (so no direct reads:
      // a cold archive's pages come from the disk once, through the page cache).
      let mapped = try map(key)
      // Safety: the task only reads the mapping, which `mapped` keeps alive until the
      // task is waited for below.
      let data = UnsafeShared(mapped.unsafeContiguousBytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
      let (header, memberSpec) = (info.header, spec(key))
      let checking = BackgroundTask { () throws(TensorIOError) -> UInt32 in
        try self.storedCRC(entry, start: start, header: header, data: data.value, spec: memberSpec)
      }
      let uploaded: Result<Tensor, TensorIOError> = Result { () throws(TensorIOError) in
        try Tensor(mapped).to(device, path: path, progress: progress, directReads: false)
      }
      let value = try checking.wait()
      guard value == entry.crc32 else {
        throw TensorIOError(.checksumMismatch(expected: entry.crc32, actual: value), path: memberSpec)
      }
      return try uploaded.get()
    }
    if !entry.restarts.isEmpty && Parallel.cores > 1 {
      // Restart points (a member TensorIO deflated): inflating on all cores, then
      // uploading, beats streaming one inflater's output to the device.
      return try Tensor(try load(key, scratch: true)).to(device, path: path, progress: progress)
    }
    let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
    return try reader.load(to: device, maxHeaderSize: maxHeaderSize, path: path, progress: progress)
  }

  /// Streams a deflated member's array data, in its memory order, a piece of about
  /// `pieceBytes` at a time (see `DeflatedMember.streamData`); nil for stored members,
  /// which map instead. `body` gets each piece and its byte offset; the CRC-32 is
  /// checked after the last one (a mismatch throws then).
  func streamDeflatedData(
    _ name: String, pieceBytes: Int, through limit: Int? = nil,
    _ body: (UnsafeRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> NPYHeader? {
    let (key, entry) = try entry(name)
    guard entry.method == Zip.methodDeflate else { return nil }
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
    return try reader.streamData(maxHeaderSize: maxHeaderSize, pieceBytes: pieceBytes, through: limit, body)
  }

  /// Member `name` loaded into memory (see `load`).
  public subscript(name: String) -> NDArray {
    get throws(TensorIOError) { try load(name) }
  }

  /// Member `name` memory-mapped in place when it is stored with aligned data
  /// (`isMappable`), else loaded (from 256 MiB on into a scratch file, whose pages the
  /// kernel can write out: memory stays bounded). `storage.mappedFile` says which
  /// happened. Mapping reads no data, so it does not verify the CRC-32 (`verify()`
  /// does). `.readWrite` is refused: a write would invalidate the CRC-32 the archive
  /// records for the member.
  public func mapOrLoad(_ name: String, mode: MapMode = .readOnly) throws(TensorIOError) -> NDArray {
    let (key, _) = try entry(name)
    guard mode != .readWrite else {
      throw TensorIOError(.memberNotWritable, path: spec(key))
    }
    guard try info(key).isMappable else { return try load(key, scratch: true) }
    return try map(key, mode: mode)
  }

  /// Member `name` memory-mapped in place: the array's storage is the archive's bytes,
  /// nothing is read. Only a stored member whose data is aligned for its dtype can be
  /// mapped (`MemberInfo.isMappable`); any other throws `.memberNotMappable` (use
  /// `mapOrLoad` or `load`). Mapping does not verify the CRC-32 (`verify()` does).
  /// `.readWrite` is refused: a write would invalidate the archive's CRC-32.
  public func map(_ name: String, mode: MapMode = .readOnly) throws(TensorIOError) -> NDArray {
    let (key, entry) = try entry(name)
    guard mode != .readWrite else {
      throw TensorIOError(.memberNotWritable, path: spec(key))
    }
    let info = try info(key)
    guard info.isMappable, let offset = info.dataOffset else {
      let why =
        entry.method != Zip.methodStored
        ? "it is deflated" : "its data is not aligned for \(info.header.dtype.name) in the archive"
      throw TensorIOError(.memberNotMappable(reason: why), path: spec(key))
    }
    let storage = try Storage(
      mapping: archive.file.descriptor, path: spec(key), file: FilePath(path), mode: mode, dataOffset: offset,
      byteCount: info.header.dataBytes)
    return NDArray(unchecked: storage, layout: info.header.layout)
  }

  /// The raw bytes of member `name` (for members that are not `.npy`), CRC-32 verified.
  public func bytes(_ name: String) throws(TensorIOError) -> [UInt8] {
    let (key, entry) = try entry(name)
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    if entry.method == Zip.methodStored {
      let bytes = try archive.file.read(at: start, count: entry.compressedSize)
      let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
      guard crc == entry.crc32 else {
        throw TensorIOError(.checksumMismatch(expected: entry.crc32, actual: crc), path: spec(key))
      }
      return bytes
    }
    let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
    return try reader.readAll()
  }

  /// Reads every member and checks its CRC-32 (and, for `.npy` members, its header).
  /// Deflated members inflate a piece at a time, never whole: memory stays bounded
  /// whatever their size.
  public func verify() throws(TensorIOError) {
    for member in members { try verify(member.key) }
  }

  /// Reads member `name` and checks its CRC-32 and size; `asArray` (by default, when
  /// the name ends in `.npy`) also checks its `.npy` header. Memory stays bounded:
  /// deflated members inflate a piece at a time, stored ones are read through their
  /// mapping or in pieces.
  public func verify(_ name: String, asArray: Bool? = nil) throws(TensorIOError) {
    let (key, entry) = try entry(name)
    let array = asArray ?? entry.name.hasSuffix(MemberName.suffix)
    let start = try archive.dataOffset(of: entry, spec: spec(key))
    if entry.method == Zip.methodDeflate {
      let reader = try DeflatedMember(archive: archive, entry: entry, start: start, spec: spec(key))
      try reader.check(maxHeaderSize: array ? maxHeaderSize : nil)
      return
    }
    if array {
      _ = try info(key)
    }
    var crc = CRC32()
    try archive.file.readInPieces(at: start, count: entry.compressedSize) { crc.update($0) }
    guard crc.value == entry.crc32 else {
      throw TensorIOError(.checksumMismatch(expected: entry.crc32, actual: crc.value), path: spec(key))
    }
  }

  /// The CRC-32 of a whole stored member: its header bytes (read from the file), its
  /// `data` (checksummed on all cores), and any bytes after the data.
  private func storedCRC(
    _ entry: ZipEntry, start: Int, header: NPYHeader, data: UnsafeRawBufferPointer, spec: String
  ) throws(TensorIOError) -> UInt32 {
    let file = archive.file
    var crc = try file.read(at: start, count: header.dataOffset).withUnsafeBytes { CRC32.checksum($0) }
    crc = CRC32.combine(crc, CRC32.checksumParallel(data), lengthOfB: data.count)
    let trailing = entry.uncompressedSize - header.dataOffset - header.dataBytes
    if trailing > 0 {
      let tail = try file.read(at: start + header.dataOffset + header.dataBytes, count: trailing)
      crc = CRC32.combine(crc, tail.withUnsafeBytes { CRC32.checksum($0) }, lengthOfB: trailing)
    }
    return crc
  }

  private func loadStored(_ entry: ZipEntry, start: Int, spec: String, scratch: Bool) throws(TensorIOError)
    -> NDArray
  {
    let file = archive.file
    let header = try file.readHeader(
      at: start, length: entry.uncompressedSize, maxHeaderSize: maxHeaderSize, name: spec)
    let storage =
      scratch
      ? try Storage(scratchByteCount: header.dataBytes, near: path) : try Storage(zeroedByteCount: header.dataBytes)
    let buffer = UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: header.dataBytes)
    try file.readParallel(at: start + header.dataOffset, into: buffer)
    let crc = try storedCRC(entry, start: start, header: header, data: UnsafeRawBufferPointer(buffer), spec: spec)
    guard crc == entry.crc32 else {
      throw TensorIOError(.checksumMismatch(expected: entry.crc32, actual: crc), path: spec)
    }
    return NDArray(unchecked: storage, layout: header.layout)
  }
}
