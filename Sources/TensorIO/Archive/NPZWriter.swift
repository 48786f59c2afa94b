import SystemPackage

/// Runs `write(bytes)` on this thread while another computes the bytes' CRC-32.
func overlapped(
  _ bytes: UnsafeRawBufferPointer, write: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void
) throws(TensorIOError) -> UInt32 {
  // Safety: the task only reads `bytes`, and is waited for before this returns.
  let source = UnsafeShared(bytes)
  let checksum = BackgroundTask { CRC32.checksum(source.value) }
  do {
    try write(bytes)
  } catch {
    _ = try? checksum.wait()
    throw error
  }
  return try checksum.wait()
}

extension NPZArchive {
  /// Writes `arrays` as an `.npz` at `path` (numpy's `np.savez` / `np.savez_compressed`):
  /// each name gets `.npy` appended, as numpy does. Members are written one at a time
  /// (memory stays bounded; a mapped array is written straight from its mapping), in
  /// ZIP64 exactly when needed. Atomic: temporary file, sync, rename.
  public static func write(
    _ arrays: [(name: String, array: NDArray)], to path: some FilePathConvertible,
    compression: Compression = .stored,
    durability: Durability = .synced
  ) throws(TensorIOError) {
    let path = path.filePath
    try write(arrays, to: path, compression: compression, durability: durability, forceZip64: false)
  }

  static func write(
    _ arrays: [(name: String, array: NDArray)], to path: FilePath, compression: Compression,
    durability: Durability, forceZip64: Bool
  ) throws(TensorIOError) {
    let plans = arrays.map {
      MemberToWrite(name: $0.name, array: $0.array, dtype: $0.array.dtype, order: $0.array.saveOrder)
    }
    try write(plans, to: path, compression: compression, durability: durability, forceZip64: forceZip64)
  }

  /// A member to write: an array converted on the way to `dtype` in `order`.
  public struct MemberToWrite: Sendable {
    /// The member's name (`.npy` is appended).
    public var name: String
    /// The source array.
    public var array: NDArray
    /// The dtype written (the array's, or a cast / byte-order change of it).
    public var dtype: DType
    /// The memory order written.
    public var order: MemoryOrder

    /// A plan.
    public init(name: String, array: NDArray, dtype: DType, order: MemoryOrder) {
      self.name = name
      self.array = array
      self.dtype = dtype
      self.order = order
    }
  }

  /// Writes an `.npz` whose members are arrays converted on the way (dtype, byte order,
  /// memory order), streaming: memory stays bounded whatever the members' sizes.
  /// `progress`, when given, is called after each piece with the members' data bytes
  /// done so far (of the sum of `count * dtype.itemSize` over the plans).
  public static func write(
    _ plans: [MemberToWrite], to path: some FilePathConvertible, compression: Compression = .stored,
    durability: Durability = .synced, forceZip64: Bool = false, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    let path = path.filePath
    try checkNames(plans, path: path)
    try AtomicFile.write(to: path, durability: durability) { (file: AtomicFile) throws(TensorIOError) in
      let zip = ZipWriter(file: file, forceZip64: forceZip64)
      var done = 0
      for plan in plans {
        try writeMember(zip, plan: plan, compression: compression) { bytes in
          done += bytes
          progress?(done)
        }
      }
      try zip.finish()
    }
  }

  /// Edits the archive at `path` in one atomic replace: each plan adds a member, or
  /// replaces the member with the same key (its name with or without `.npy`) in that
  /// member's place; members named in `removing` are dropped (each must exist, else
  /// nothing changes). Every other member is copied as it is: raw name, method, CRC-32
  /// and compressed bytes, never inflated; stored members stay 64-byte aligned. New
  /// members go at the end. The archive is created when there is none; a file at
  /// `path` that is not a readable zip archive is an error and stays as it is.
  /// `renaming` maps existing members' keys to new keys: the member keeps its place and
  /// its bytes (only its name changes); the old key must exist and the new one must not.
  /// `progress` counts the plans' data bytes, as for `write(_:to:)`, plus the
  /// compressed bytes of the members copied (`updateWork` is the total).
  public static func update(
    _ path: some FilePathConvertible, adding plans: [MemberToWrite], removing: [String] = [],
    renaming: [String: String] = [:], compression: Compression = .stored,
    durability: Durability = .synced, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    let path = path.filePath
    let existing: ZipArchive
    do {
      existing = try ZipArchive(path: path)
    } catch {
      guard case .system(_, .noSuchFileOrDirectory) = error.reason else { throw error }
      if let name = removing.first ?? renaming.keys.sorted().first {
        throw TensorIOError(.memberNotFound(name), path: path.string)
      }
      try write(plans, to: path, compression: compression, durability: durability, progress: progress)
      return
    }
    try checkNames(plans, path: path)
    let keys = Set(existing.entries.map { MemberName.key(ofEntry: $0.name) })
    var dropped = Set<String>()
    for name in removing {
      let match = keys.contains(name) ? name : MemberName.key(ofEntry: name)
      guard keys.contains(match) else { throw TensorIOError(.memberNotFound(name), path: path.string) }
      dropped.insert(match)
    }
    var renamed: [String: String] = [:]
    for (old, new) in renaming {
      let match = keys.contains(old) ? old : MemberName.key(ofEntry: old)
      guard keys.contains(match) else { throw TensorIOError(.memberNotFound(old), path: path.string) }
      let newKey = MemberName.key(ofEntry: new)
      do {
        try MemberName.check(MemberName.entry(forKey: newKey))
      } catch {
        throw error.naming(path.string)
      }
      guard !keys.contains(newKey) || renaming[newKey] != nil else {
        throw TensorIOError(.invalidMemberName(new, reason: "a member of that name exists"), path: path.string)
      }
      renamed[match] = newKey
    }
    let planIndex = Dictionary(plans.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    try AtomicFile.write(to: path, durability: durability) { (file: AtomicFile) throws(TensorIOError) in
      let zip = ZipWriter(file: file)
      var done = 0
      var placed = Set<Int>()
      func advance(_ bytes: Int) {
        done += bytes
        progress?(done)
      }
      func add(_ plan: MemberToWrite) throws(TensorIOError) {
        try writeMember(zip, plan: plan, compression: compression, advanced: advance)
      }
      for entry in existing.entries {
        let name = MemberName.key(ofEntry: entry.name)
        if let i = planIndex[name] {
          try add(plans[i])
          placed.insert(i)
        } else if let newKey = renamed[name] {
          // The same bytes under the new name, `.npy` kept as the member had it.
          let newName = entry.name.hasSuffix(MemberName.suffix) ? MemberName.entry(forKey: newKey) : newKey
          try zip.copyMember(entry, from: existing, as: newName, copied: advance)
        } else if !dropped.contains(name) {
          try zip.copyMember(entry, from: existing, copied: advance)
        }
      }
      for (i, plan) in plans.enumerated() where !placed.contains(i) { try add(plan) }
      try zip.finish()
    }
  }

  /// The bytes `update` reports through `progress` for these arguments: the plans'
  /// data bytes and the compressed bytes of the members it copies (0 members when
  /// there is no archive yet).
  public static func updateWork(
    _ path: some FilePathConvertible, adding plans: [MemberToWrite], removing: [String] = []
  ) -> Int {
    let planned = plans.reduce(0) { $0 + $1.array.count * $1.dtype.itemSize }
    guard let existing = try? ZipArchive(path: path.filePath) else { return planned }
    let skipped = Set(plans.map(\.name) + removing.map { MemberName.key(ofEntry: $0) })
    return existing.entries.reduce(planned) { total, entry in
      skipped.contains(MemberName.key(ofEntry: entry.name)) ? total : total + entry.compressedSize
    }
  }

  /// Refuses repeated member names and every name the reader would refuse
  /// (`MemberName.check`), for the archive at `path`.
  private static func checkNames(_ plans: [MemberToWrite], path: FilePath) throws(TensorIOError) {
    var seen = Set<String>()
    for name in plans.map(\.name) {
      do {
        try MemberName.check(MemberName.entry(forKey: name))
        try MemberName.check(name)
      } catch {
        throw error.naming(path.string)
      }
      guard seen.insert(name).inserted else {
        throw TensorIOError(.invalidMemberName(name, reason: "names must be unique"), path: path.string)
      }
    }
  }

  private static func writeMember(
    _ zip: ZipWriter, plan: MemberToWrite, compression: Compression, advanced: (Int) -> Void
  ) throws(TensorIOError) {
    let array = plan.array
    try array.storage.checkOpen()
    let target = plan.dtype
    let (header, order) = try NPYHeader.forSaving(dtype: target, shape: array.shape, order: plan.order)
    let dataBytes = array.count * target.itemSize
    let size = header.count + dataBytes
    // The data, a bounded piece at a time: straight from the array's memory when it is
    // already what is written, else converted.
    let direct =
      target == array.dtype
      && ArrayLayout.isContiguous(shape: array.shape, strides: array.strides, itemSize: target.itemSize, order: order)
    let converted = direct ? nil : try ConvertedPieces(array, to: target, order: order)
    let directBytes = direct ? array.unsafeContiguousBytes : nil
    var directOffset = 0
    let piece = 64 << 20
    var previous = 0
    func next() throws(TensorIOError) -> UnsafeRawBufferPointer? {
      // The piece before this one is written (or compressed) by now.
      if previous > 0 { advanced(previous) }
      let part: UnsafeRawBufferPointer?
      if let converted {
        part = try converted.next()
      } else if let bytes = directBytes, directOffset < bytes.count {
        part = UnsafeRawBufferPointer(rebasing: bytes[directOffset..<min(bytes.count, directOffset + piece)])
        directOffset += part?.count ?? 0
      } else {
        part = nil
      }
      previous = part?.count ?? 0
      return part
    }
    switch compression {
    case .stored:
      try zip.addMember(name: MemberName.entry(forKey: plan.name), method: Zip.methodStored, uncompressedSize: size) {
        (sink) throws(TensorIOError) in
        try typedThrows { try header.withUnsafeBytes { try sink($0) } }
        var crc = header.withUnsafeBytes { CRC32.checksum($0) }
        // Each piece is written while its CRC-32 is computed on another core.
        while let part = try next() {
          let partCRC = try overlapped(part) { (bytes) throws(TensorIOError) in try sink(bytes) }
          crc = CRC32.combine(crc, partCRC, lengthOfB: part.count)
        }
        return (crc, [])
      }
    case .deflate(let level):
      guard (-1...9).contains(level) else {
        throw TensorIOError(.invalidCompressionLevel(level))
      }
      try zip.addMember(name: MemberName.entry(forKey: plan.name), method: Zip.methodDeflate, uncompressedSize: size) {
        (sink) throws(TensorIOError) in
        var compressed = 0
        var restarts: [DeflateRestart] = []
        var uncompressedBase = 0
        func emit(_ piece: [UInt8], _ restartAt: Int?) throws(TensorIOError) {
          if let restartAt {
            restarts.append(
              DeflateRestart(uncompressedOffset: uncompressedBase + restartAt, compressedOffset: compressed))
          }
          try typedThrows { try piece.withUnsafeBytes { try sink($0) } }
          compressed += piece.count
        }
        // The npy header as the stream's first (sync-flushed) piece, then the data. Every
        // few chunks of the data (and each piece's first) is a restart point, recorded in
        // the central directory, so that our reader can inflate the stretches between
        // them on all cores. Every chunk starts without history (libdeflate takes none),
        // so recording a restart point costs only its 16 bytes in the index; the archive
        // keeps at most 4000 of them.
        let restartEvery = max(4, dataBytes / Deflate.chunkSize / 2000 + 1)
        var crc = try typedThrows {
          try header.withUnsafeBytes { bytes in
            try Deflate.compress(bytes, level: Int32(level), isFinal: dataBytes == 0, sink: emit)
          }
        }
        uncompressedBase = header.count
        while let part = try next() {
          let isFinal = uncompressedBase + part.count == size
          let partCRC = try Deflate.compress(
            part, level: Int32(level), isFinal: isFinal, restartEvery: restartEvery, sink: emit)
          crc = CRC32.combine(crc, partCRC, lengthOfB: part.count)
          uncompressedBase += part.count
        }
        return (crc, restarts)
      }
    }
  }
}
