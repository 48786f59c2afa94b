import Glibc
import Synchronization
import SystemPackage

/// numpy's `mmap_mode` for mapping an `.npy` file.
public enum MapMode: String, Sendable, Hashable, CaseIterable {
  /// `r`: read-only; writing is a thrown error.
  case readOnly = "r"
  /// `r+`: read-write, shared with the file: writes reach it (durably after `flush()`).
  case readWrite = "r+"
  /// `c`: copy-on-write (`MAP_PRIVATE`): writes are visible in memory, never in the file.
  case copyOnWrite = "c"
}

/// The one owner of a block of host element bytes: heap memory, a mapped file, or a
/// copy-on-write snapshot of another storage. Arrays, tensors and views hold a
/// reference to it; the memory lives as long as any of them does.
///
/// A class because identity matters: two arrays share data exactly when they share a
/// `Storage`. Every write goes through `withUnsafeMutableBytes` (or the typed
/// setters built on it), which is where read-only storage refuses and where
/// copy-on-write snapshots are separated: a snapshot borrows its source's bytes until
/// either side first writes. Concurrent writes to the same bytes from several threads
/// are the caller's to order, as with numpy arrays.
public final class Storage: @unchecked Sendable {
  // Safety: every mutable field is in `state`, read and written only under its lock;
  // the element bytes themselves are the caller's to order, as documented above.
  /// How the current bytes are released.
  enum Owner {
    /// `posix_memalign`, released with `free`.
    case heap
    /// An anonymous mapping, released with `munmap`.
    case anonymousMapping(length: Int)
    /// A file mapping (the whole mapping, which starts before `base`).
    case fileMapping(start: UnsafeMutableRawPointer, length: Int)
    /// Another storage's bytes, borrowed by a copy-on-write snapshot that nobody has
    /// written yet. Holding the source keeps its memory alive.
    case borrowed(Storage)
  }

  /// Guarded by the mutex; the pointers it holds are this storage's to manage.
  struct State: @unchecked Sendable {
    // Safety: a `State` lives only inside `Storage.state` (a `Locked`) and is read and
    // written under its lock; the pointers it holds are never handed out by it.
    var base: UnsafeMutableRawPointer
    var owner: Owner
    /// Copy-on-write snapshots still borrowing this storage's bytes.
    var snapshots: [WeakStorage] = []
    var closed = false
    /// The storage a snapshot borrowed from before it took its own copy: kept alive
    /// as long as this storage, so that a reader that fetched the old base address
    /// just before the separation never reads unmapped memory.
    var formerSource: Storage?
  }

  struct WeakStorage {
    weak var storage: Storage?
  }

  private let state: Locked<State>
  /// Bytes of element data.
  public let byteCount: Int
  /// Whether the bytes may be written (false for read-only mappings).
  public let isWritable: Bool
  /// A file whose bytes a storage is: where, and how it is mapped.
  public struct MappedFile: Sendable, Hashable {
    /// The file's path (for an npz member, `archive.npz:name`).
    public var path: String
    /// How it is mapped.
    public var mode: MapMode
  }

  /// The file this storage maps, when it is a mapped `.npy` file or npz member; nil for
  /// memory (including an npz member that was loaded because it could not be mapped).
  public let mappedFile: MappedFile?

  /// Where a shared file mapping's bytes can be read again from the file itself: the
  /// file's path and identity, and the address where the mapping of its offset 0 starts.
  /// Only for mappings whose bytes are always the file's (`r` and `r+`, not `c`, whose
  /// written pages are private).
  struct BackingFile: Sendable {
    let path: FilePath
    let identity: FileIdentity
    let mappingStart: UInt

    /// The file offset of `pointer`, an address inside the mapping.
    func offset(of pointer: UnsafeRawPointer) -> Int {
      Int(bitPattern: UInt(bitPattern: pointer) &- mappingStart)
    }
  }

  /// The file behind this storage's mapping, for direct reads; nil for memory and for
  /// copy-on-write mappings.
  let backingFile: BackingFile?

  /// Buffers at least this large are anonymous mappings with huge pages.
  static let mappingThreshold = 1 << 20

  /// The unnamed file behind scratch storage, open while the storage lives.
  private let scratchFile: FileDescriptor?

  private init(
    base: UnsafeMutableRawPointer, owner: Owner, byteCount: Int, isWritable: Bool,
    mappedFile: MappedFile? = nil, scratchFile: FileDescriptor? = nil
  ) {
    self.state = Locked(State(base: base, owner: owner))
    self.byteCount = byteCount
    self.isWritable = isWritable
    self.mappedFile = mappedFile
    self.scratchFile = scratchFile
    self.backingFile = nil
  }

  /// Allocates `byteCount` zeroed bytes aligned to 64 bytes.
  public convenience init(zeroedByteCount byteCount: Int) throws(TensorIOError) {
    let (base, owner) = try Storage.allocate(byteCount)
    self.init(base: base, owner: owner, byteCount: byteCount, isWritable: true)
  }

  /// Members this large are loaded into a scratch file rather than memory (see
  /// `init(scratchByteCount:near:)`); `TENSORTOOL_SPILL_MIB` overrides the 256 MiB.
  static let spillThreshold: Int = (environmentInteger("TENSORTOOL_SPILL_MIB", in: 0...(1 << 30)) ?? 256) << 20

  /// `byteCount` zeroed, writable bytes whose memory use stays bounded: below
  /// `spillThreshold` ordinary memory; from it on, a shared mapping of an unnamed
  /// temporary file (`O_TMPFILE`, gone with the mapping) in the folder of `near` (a
  /// file path), else in `$TMPDIR` or `/tmp`, so that the kernel can write the pages
  /// out and drop them under memory pressure instead of the process being killed.
  /// Falls back to memory where no such file can be made.
  convenience init(scratchByteCount byteCount: Int, near: String?) throws(TensorIOError) {
    if byteCount >= Storage.spillThreshold, let (start, length, fd) = Storage.scratchMapping(byteCount, near: near) {
      self.init(
        base: start, owner: .fileMapping(start: start, length: length), byteCount: byteCount, isWritable: true,
        scratchFile: fd)
      return
    }
    try self.init(zeroedByteCount: byteCount)
  }

  /// A zero-filled shared mapping of a new unnamed file of `byteCount` bytes, or nil.
  private static func scratchMapping(_ byteCount: Int, near: String?) -> (
    UnsafeMutableRawPointer, Int, FileDescriptor
  )? {
    var folders: [FilePath] = []
    if let near, !FilePath(near).removingLastComponent().isEmpty {
      folders.append(FilePath(near).removingLastComponent())
    } else if near != nil {
      folders.append(".")
    }
    if let tmp = SystemInfo.environment("TMPDIR"), !tmp.isEmpty { folders.append(FilePath(tmp)) }
    folders.append("/tmp")
    for folder in folders {
      guard let fd = try? FileDescriptor.openUnnamed(in: folder, permissions: .ownerReadWrite) else { continue }
      // Not on a file system held in memory (tmpfs), and with the blocks reserved: a
      // write to a mapped page the disk has no room for would be a SIGBUS.
      guard !fd.isInMemoryFileSystem, (try? fd.reserve(length: byteCount)) != nil,
        (try? fd.resize(to: Int64(byteCount))) != nil,
        let start = try? VirtualMemory.mapFile(fd, length: max(byteCount, 1), mode: .readWrite)
      else {
        _ = try? fd.close()
        continue
      }
      return (start, max(byteCount, 1), fd)
    }
    return nil
  }

  /// Maps bytes `dataOffset ..< dataOffset + byteCount` of an open file. `path` names
  /// the bytes in errors; `file`, when given, is where the file can be opened again (for
  /// direct reads that bypass the page cache).
  init(
    mapping descriptor: FileDescriptor, path: String, file: FilePath? = nil, mode: MapMode, dataOffset: Int,
    byteCount: Int
  ) throws(TensorIOError) {
    let length = dataOffset + byteCount
    let start: UnsafeMutableRawPointer
    do {
      start = try VirtualMemory.mapFile(descriptor, length: max(length, 1), mode: mode)
    } catch {
      throw TensorIOError(.system(operation: "mmap", errno: error), path: path)
    }
    self.state = Locked(State(base: start + dataOffset, owner: .fileMapping(start: start, length: max(length, 1))))
    self.byteCount = byteCount
    self.isWritable = mode != .readOnly
    self.mappedFile = MappedFile(path: path, mode: mode)
    self.scratchFile = nil
    if let file, mode != .copyOnWrite, let identity = try? descriptor.identity() {
      self.backingFile = BackingFile(path: file, identity: identity, mappingStart: UInt(bitPattern: start))
    } else {
      self.backingFile = nil
    }
  }

  private static func allocate(_ byteCount: Int) throws(TensorIOError) -> (UnsafeMutableRawPointer, Owner) {
    guard byteCount >= 0 else { throw TensorIOError(.negativeByteCount(byteCount)) }
    if byteCount >= mappingThreshold {
      do {
        return (try VirtualMemory.mapAnonymous(length: byteCount), .anonymousMapping(length: byteCount))
      } catch {
        throw TensorIOError(.system(operation: "allocating \(byteCount) bytes", errno: error))
      }
    }
    let pointer: UnsafeMutableRawPointer
    do {
      pointer = try HeapMemory.allocate(byteCount: max(byteCount, 64), alignment: 64)
    } catch {
      throw TensorIOError(.system(operation: "allocating \(byteCount) bytes", errno: error))
    }
    memset(pointer, 0, max(byteCount, 64))
    return (pointer, .heap)
  }

  deinit {
    state.withLock { state in Storage.release(state.owner, base: state.base) }
    _ = try? scratchFile?.close()
  }

  /// For scratch storage, starts writing bytes `offset ..< offset + length` out to its
  /// file, so that their pages turn clean and can be dropped under memory pressure
  /// (a memory-limited cgroup would otherwise fill with dirty pages); a no-op for
  /// other storage. Wraps `sync_file_range(2)`.
  func startWriteBack(offset: Int, length: Int) {
    scratchFile?.startWriteBack(offset: Int64(offset), length: Int64(length))
  }

  private static func release(_ owner: Owner, base: UnsafeMutableRawPointer) {
    switch owner {
    case .heap: HeapMemory.free(base)
    case .anonymousMapping(let length): VirtualMemory.unmap(base, length: length)
    case .fileMapping(let start, let length): VirtualMemory.unmap(start, length: length)
    case .borrowed: break
    }
  }

  // MARK: Access

  /// The first byte, for reading and for identity: two storages whose addresses are
  /// equal share bytes (a snapshot nobody has written yet shares its source's). Never
  /// null. Write through `withUnsafeMutableBytes` only.
  public var unsafeBaseAddress: UnsafeRawPointer { UnsafeRawPointer(state.withLock { $0.base }) }

  /// The current bytes, for internal reads and for writes already prepared.
  var mutableBase: UnsafeMutableRawPointer { state.withLock { $0.base } }

  /// Whether two storages hold the same bytes: the same storage, or a copy-on-write
  /// snapshot not yet separated from its source.
  public func sharesBytes(with other: Storage) -> Bool {
    self === other || unsafeBaseAddress == other.unsafeBaseAddress
  }

  /// Whether `close()` was called.
  public var isClosed: Bool { state.withLock { $0.closed } }

  /// Whether this storage is a copy-on-write snapshot still reading its source's
  /// bytes (it takes its own copy at the first write to either).
  public var borrowsSourceBytes: Bool {
    state.withLock { if case .borrowed = $0.owner { return true } else { return false } }
  }

  func checkOpen() throws(TensorIOError) {
    if isClosed { throw TensorIOError(.closed, path: mappedFile?.path) }
  }

  /// Calls `body` with the bytes for reading.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    try checkOpen()
    return try body(UnsafeRawBufferPointer(start: unsafeBaseAddress, count: byteCount))
  }

  /// Calls `body` with the bytes for writing, after separating any copy-on-write
  /// sharing; throws for read-only or closed storage.
  public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
    let base = try prepareForWrite()
    return try body(UnsafeMutableRawBufferPointer(start: base, count: byteCount))
  }

  /// Makes the bytes safe to write and returns them: refuses read-only or closed
  /// storage; gives a borrowing snapshot its own copy; gives every snapshot still
  /// borrowing this storage its own copy first, so that none sees the write.
  @discardableResult
  func prepareForWrite() throws(TensorIOError) -> UnsafeMutableRawPointer {
    guard isWritable else {
      throw TensorIOError(.readOnly, path: mappedFile?.path)
    }
    try checkOpen()
    // Separate from the source, if borrowing.
    try separate()
    // Let snapshots of this storage take their own copies before it changes.
    let pending = state.withLock { state -> [Storage] in
      let live = state.snapshots.compactMap(\.storage)
      state.snapshots = []
      return live
    }
    for snapshot in pending { try snapshot.separate() }
    return mutableBase
  }

  /// Gives a borrowing snapshot its own copy of the bytes (no-op if it has one).
  private func separate() throws(TensorIOError) {
    var failure: TensorIOError?
    state.withLock { state in
      guard case .borrowed(let source) = state.owner else { return }
      do throws(TensorIOError) {
        let (copy, owner) = try Storage.allocate(byteCount)
        memcpy(copy, state.base, byteCount)
        state.base = copy
        state.owner = owner
        state.formerSource = source
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
  }

  /// A copy-on-write snapshot: a new storage with the same bytes and no copy made. The
  /// first write to either side gives the snapshot its own copy, so later writes on
  /// either side are never seen by the other. The snapshot is writable even when this
  /// storage is read-only.
  public func copyOnWriteSnapshot() throws(TensorIOError) -> Storage {
    try checkOpen()
    // Borrow from the storage that owns the bytes: a snapshot of a snapshot must not
    // follow its source when the source separates.
    let root = state.withLock { state -> Storage in
      if case .borrowed(let source) = state.owner { return source }
      return self
    }
    if root !== self { return try root.copyOnWriteSnapshot() }
    let snapshot = state.withLock { state -> Storage in
      let snapshot = Storage(base: state.base, owner: .borrowed(self), byteCount: byteCount, isWritable: true)
      state.snapshots.removeAll { $0.storage == nil }
      state.snapshots.append(WeakStorage(storage: snapshot))
      return snapshot
    }
    return snapshot
  }

  /// Writes a read-write mapping's changes to the file (msync); a no-op for other storage.
  public func flush() throws(TensorIOError) {
    guard let mapping = mappedFile, mapping.mode == .readWrite else { return }
    let region = state.withLock { state -> (UnsafeMutableRawPointer, Int)? in
      if case .fileMapping(let start, let length) = state.owner { return (start, length) }
      return nil
    }
    guard let (start, length) = region else { return }
    do {
      try VirtualMemory.sync(start, length: length)
    } catch {
      throw TensorIOError(.system(operation: "msync", errno: error), path: mapping.path)
    }
  }

  /// Flushes (for a read-write mapping) and closes the storage: later element access
  /// through any array or tensor over it throws. The memory itself is released when the
  /// last reference goes, so no pointer handed out earlier ever dangles.
  public func close() throws(TensorIOError) {
    try flush()
    state.withLock { $0.closed = true }
  }
}
