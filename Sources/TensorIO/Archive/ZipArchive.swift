import SystemPackage

/// One member of a ZIP archive, as its central directory entry describes it.
struct ZipEntry: Sendable, Hashable {
  var name: String
  var rawName: [UInt8]
  var method: UInt16
  var flags: UInt16
  var crc32: UInt32
  var compressedSize: Int
  var uncompressedSize: Int
  var localHeaderOffset: Int
  /// Where a deflated member written by TensorIO can be inflated with no history (its
  /// central directory's restart extra field), in increasing order; a hint, checked
  /// when used. Empty for other archives.
  var restarts: [DeflateRestart] = []
}

/// A point in a deflated member where a raw inflater can start with no history: the
/// stream before it ends with a sync flush, and nothing after it refers back past it.
struct DeflateRestart: Sendable, Hashable {
  /// Offset in the member's uncompressed bytes.
  var uncompressedOffset: Int
  /// Offset in the member's compressed bytes.
  var compressedOffset: Int
}

/// A ZIP archive opened for reading: the central directory, read and checked at open
/// (end record, ZIP64 end record and locator, entries with ZIP64 extras); member bytes
/// are read only on demand.
final class ZipArchive: Sendable {
  let file: OpenFile
  let entries: [ZipEntry]
  /// Where the central directory starts: no member's bytes may reach past it.
  let centralDirectoryOffset: Int

  /// The archive's path, as errors name it.
  var path: String { file.path }

  init(path: FilePath) throws(TensorIOError) {
    let file = try OpenFile(path: path)
    self.file = file
    do throws(TensorIOError) {
      (entries, centralDirectoryOffset) = try ZipArchive.readCentralDirectory(file)
    } catch {
      throw error.naming(path.string)
    }
  }

  private static func structure(_ detail: String) -> TensorIOError { TensorIOError(.structure(detail)) }

  private static func readCentralDirectory(_ file: OpenFile) throws(TensorIOError) -> ([ZipEntry], Int) {
    let size = file.size
    guard size >= Zip.endSize else { throw structure("\(size) bytes, too short for a zip archive") }
    // The end record sits in the last 22 + 65535 bytes; prefer one whose comment ends
    // exactly at the end of the file (a comment may itself contain the signature).
    let tailStart = max(0, size - Zip.endSize - 0xFFFF)
    let tail = try file.read(at: tailStart, count: size - tailStart)
    var candidates: [Int] = []
    var i = tail.count - Zip.endSize
    while i >= 0 {
      if tail[i] == 0x50 && tail[i + 1] == 0x4B && tail[i + 2] == 0x05 && tail[i + 3] == 0x06 {
        candidates.append(i)
      }
      i -= 1
    }
    func commentLength(_ at: Int) -> Int { Int(tail[at + 20]) | Int(tail[at + 21]) << 8 }
    guard
      let endIndex = candidates.first(where: { $0 + Zip.endSize + commentLength($0) == tail.count })
        ?? candidates.first(where: { $0 + Zip.endSize + commentLength($0) <= tail.count })
    else {
      throw structure("no end of central directory record (not a zip file, or truncated)")
    }
    let endOffset = tailStart + endIndex
    var end = ByteReader(tail, at: endIndex + 4)
    var fields: (disk: UInt32, cdDisk: UInt32, onDisk: Int, total: Int, cdSize: Int, cdOffset: Int)
    fields.disk = UInt32(try end.uint16())
    fields.cdDisk = UInt32(try end.uint16())
    fields.onDisk = Int(try end.uint16())
    fields.total = Int(try end.uint16())
    fields.cdSize = Int(try end.uint32())
    fields.cdOffset = Int(try end.uint32())
    var directoryLimit = endOffset
    // ZIP64: a locator just before the end record points at the ZIP64 end record.
    let needsZip64 =
      fields.onDisk == 0xFFFF || fields.total == 0xFFFF || fields.cdSize == 0xFFFF_FFFF
      || fields.cdOffset == 0xFFFF_FFFF
    if endOffset >= Zip.zip64LocatorSize {
      let locator = try file.read(at: endOffset - Zip.zip64LocatorSize, count: Zip.zip64LocatorSize)
      var reader = ByteReader(locator)
      if (try? reader.uint32()) == Zip.zip64LocatorSignature {
        do {
          let recordDisk = try reader.uint32()
          let recordOffset = try reader.size64()
          let disks = try reader.uint32()
          guard recordDisk == 0, disks <= 1 else {
            throw TensorIOError(.unsupported("archive spans \(disks) disks"))
          }
          guard recordOffset <= endOffset - Zip.zip64LocatorSize - Zip.zip64EndSize else {
            throw structure("ZIP64 end record lies outside the file")
          }
          let record = try file.read(at: recordOffset, count: Zip.zip64EndSize)
          var r = ByteReader(record)
          guard try r.uint32() == Zip.zip64EndSignature else { throw structure("bad ZIP64 end record signature") }
          _ = try r.uint64()  // size of the record
          _ = try r.uint16()  // version made by
          _ = try r.uint16()  // version needed
          fields.disk = try r.uint32()
          fields.cdDisk = try r.uint32()
          fields.onDisk = try r.size64()
          fields.total = try r.size64()
          fields.cdSize = try r.size64()
          fields.cdOffset = try r.size64()
          directoryLimit = recordOffset
        }
      } else if needsZip64 {
        throw structure("end record says ZIP64 but there is no ZIP64 locator")
      }
    }
    guard fields.disk == 0, fields.cdDisk == 0, fields.onDisk == fields.total else {
      throw TensorIOError(.unsupported("multi-disk archive (disk \(fields.disk))"))
    }
    guard fields.cdOffset <= directoryLimit, fields.cdSize <= directoryLimit - fields.cdOffset else {
      throw structure("central directory (\(fields.cdSize) bytes at \(fields.cdOffset)) lies outside the file")
    }
    guard fields.total <= fields.cdSize / Zip.centralHeaderSize else {
      throw structure("\(fields.total) entries cannot fit in a \(fields.cdSize)-byte central directory")
    }
    let directory = try file.read(at: fields.cdOffset, count: fields.cdSize)
    var reader = ByteReader(directory)
    var entries: [ZipEntry] = []
    entries.reserveCapacity(fields.total)
    var names = Set<String>()
    var keys = Set<String>()
    for index in 0..<fields.total {
      let entry = try parseEntry(&reader, index: index)
      guard entry.flags & (Zip.flagEncrypted | Zip.flagStrongEncryption) == 0 else {
        throw TensorIOError(.unsupported("member '\(entry.name)' is encrypted"))
      }
      guard entry.method == Zip.methodStored || entry.method == Zip.methodDeflate else {
        throw TensorIOError(
          .unsupported("member '\(entry.name)' uses \(Zip.methodName(entry.method)) (only stored and deflate)"))
      }
      try MemberName.check(entry.name)
      let key = MemberName.key(ofEntry: entry.name)
      guard names.insert(entry.name).inserted, keys.insert(key).inserted else {
        throw structure("duplicate member name '\(entry.name)'")
      }
      // Member bytes lie between its local header and the central directory.
      guard entry.localHeaderOffset <= fields.cdOffset - Zip.localHeaderSize,
        entry.compressedSize <= fields.cdOffset - Zip.localHeaderSize - entry.localHeaderOffset
      else {
        throw structure("member '\(entry.name)' (\(entry.compressedSize) bytes) runs past the central directory")
      }
      if entry.method == Zip.methodStored {
        guard entry.compressedSize == entry.uncompressedSize else {
          throw structure("stored member '\(entry.name)' has different compressed and uncompressed sizes")
        }
      } else if entry.uncompressedSize / Zip.maxDeflateRatio > entry.compressedSize + 1024 {
        throw structure(
          "member '\(entry.name)' claims \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed")
      }
      entries.append(entry)
    }
    return (entries, fields.cdOffset)
  }

  private static func parseEntry(_ reader: inout ByteReader, index: Int) throws(TensorIOError) -> ZipEntry {
    guard try reader.uint32() == centralSignature else {
      throw structure("central directory entry \(index) has a bad signature")
    }
    _ = try reader.uint16()  // version made by
    _ = try reader.uint16()  // version needed
    let flags = try reader.uint16()
    let method = try reader.uint16()
    _ = try reader.uint32()  // time and date
    let crc = try reader.uint32()
    var compressed = Int(try reader.uint32())
    var uncompressed = Int(try reader.uint32())
    let nameLength = Int(try reader.uint16())
    let extraLength = Int(try reader.uint16())
    let commentLength = Int(try reader.uint16())
    _ = try reader.uint16()  // disk number start
    _ = try reader.uint16()  // internal attributes
    _ = try reader.uint32()  // external attributes
    var offset = Int(try reader.uint32())
    let rawName = Array(try reader.take(nameLength))
    let extra = Array(try reader.take(extraLength))
    _ = try reader.take(commentLength)
    // ZIP64 extra: 8-byte values for exactly the fields that hold 0xFFFFFFFF, in order.
    var extras = ByteReader(extra)
    var restarts: [DeflateRestart] = []
    while extras.remaining >= 4 {
      let id = try extras.uint16()
      let size = Int(try extras.uint16())
      var field = ByteReader(Array(try extras.take(size)))
      if id == Zip.zip64ExtraID {
        if uncompressed == 0xFFFF_FFFF { uncompressed = try field.size64() }
        if compressed == 0xFFFF_FFFF { compressed = try field.size64() }
        if offset == 0xFFFF_FFFF { offset = try field.size64() }
      } else if id == Zip.restartExtraID {
        restarts = restartPoints(&field)
      }
    }
    let name = Zip.decodeName(rawName[...], utf8: flags & Zip.flagUTF8 != 0) ?? "member \(index)"
    return ZipEntry(
      name: name, rawName: rawName, method: method, flags: flags, crc32: crc, compressedSize: compressed,
      uncompressedSize: uncompressed, localHeaderOffset: offset, restarts: restarts)
  }

  private static let centralSignature = Zip.centralHeaderSignature

  /// The restart points of a restart extra field; none if the field is malformed (it is
  /// a hint: a bad one must not make the archive unreadable).
  private static func restartPoints(_ field: inout ByteReader) -> [DeflateRestart] {
    guard field.remaining % 16 == 0 else { return [] }
    var points: [DeflateRestart] = []
    while field.remaining >= 16 {
      guard let uncompressed = try? field.size64(), let compressed = try? field.size64() else { return [] }
      points.append(DeflateRestart(uncompressedOffset: uncompressed, compressedOffset: compressed))
    }
    return points
  }

  /// Refuses names that would escape a folder if they became paths.
  /// Where a member's bytes start, from its local header, checked against the central
  /// directory: same name, same method, and (without a data descriptor) same sizes.
  /// Errors name `spec` (the member).
  func dataOffset(of entry: ZipEntry, spec: String) throws(TensorIOError) -> Int {
    func structure(_ detail: String) -> TensorIOError {
      TensorIOError(.structure(detail), path: spec)
    }
    let header = try file.read(at: entry.localHeaderOffset, count: Zip.localHeaderSize)
    var reader = ByteReader(header)
    do throws(TensorIOError) {
      guard try reader.uint32() == Zip.localHeaderSignature else {
        throw structure("no local header for member '\(entry.name)' at offset \(entry.localHeaderOffset)")
      }
      _ = try reader.uint16()  // version needed
      let flags = try reader.uint16()
      let method = try reader.uint16()
      _ = try reader.uint32()  // time and date
      let crc = try reader.uint32()
      let compressed = try reader.uint32()
      let uncompressed = try reader.uint32()
      let nameLength = Int(try reader.uint16())
      let extraLength = Int(try reader.uint16())
      guard method == entry.method else {
        throw structure("member '\(entry.name)': local header and central directory disagree on the method")
      }
      if flags & Zip.flagDataDescriptor == 0 && compressed != 0xFFFF_FFFF && uncompressed != 0xFFFF_FFFF {
        guard crc == entry.crc32, Int(compressed) == entry.compressedSize, Int(uncompressed) == entry.uncompressedSize
        else {
          throw structure("member '\(entry.name)': local header and central directory disagree on sizes or CRC")
        }
      }
      let name = try file.read(at: entry.localHeaderOffset + Zip.localHeaderSize, count: nameLength)
      guard name == entry.rawName else {
        throw structure("member '\(entry.name)': the local header names it '\(String(decoding: name, as: UTF8.self))'")
      }
      let start = entry.localHeaderOffset + Zip.localHeaderSize + nameLength + extraLength
      guard start <= centralDirectoryOffset, entry.compressedSize <= centralDirectoryOffset - start else {
        throw structure("member '\(entry.name)' runs past the central directory")
      }
      return start
    } catch {
      var named = error
      named.path = spec
      throw named
    }
  }
}
