import Glibc
import SystemPackage

/// A file written in place of another atomically: bytes go to a temporary file in the
/// destination's folder, which is synced and then renamed over the destination. A
/// failure at any step removes the temporary and leaves the destination as it was.
final class AtomicFile: Sendable {
  let descriptor: FileDescriptor
  /// The path the caller asked for, as errors name it.
  let path: String
  /// Where the bytes whose write-back has not been started begin (writes may come
  /// from several threads).
  private let unflushedStart = Locked(0)
  /// Whether to start write-back as data is written (only worth it before an fsync).
  private let startsWriteBack: Bool

  private init(descriptor: FileDescriptor, path: String, startsWriteBack: Bool) {
    self.descriptor = descriptor
    self.path = path
    self.startsWriteBack = startsWriteBack
  }

  /// Creates the temporary, lets `body` fill it, then syncs (unless `durability` is
  /// `.unsynced`) and renames it to `path`. `expectedSize`, when known, is reserved on
  /// disk first: a full disk fails before anything is written, and the writes need no
  /// block allocation.
  ///
  /// Where the file system supports it (Linux `O_TMPFILE`: ext4, xfs, btrfs, tmpfs) the
  /// temporary has no name while it is written, so a process killed at any moment
  /// leaves nothing behind; it is linked under a hidden name only once complete (and
  /// synced), then at once renamed over `path` (a kill between those two calls leaves
  /// that complete hidden copy). Elsewhere it is a hidden named file from the start,
  /// removed on every failure the process lives through.
  static func write(
    to path: FilePath, expectedSize: Int? = nil, durability: Durability = .synced,
    _ body: (AtomicFile) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    let name = path.lastComponent?.string ?? "out"
    let directory = path.removingLastComponent()
    var generator = SystemRandomNumberGenerator()
    let suffix = String(generator.next() as UInt64, radix: 36)
    let temporary = directory.appending(".\(name).\(suffix).tmp")
    let permissions: FilePermissions = [.ownerReadWrite, .groupReadWrite, .otherReadWrite]
    let descriptor: FileDescriptor
    var unnamed = true
    do {
      descriptor = try FileDescriptor.openUnnamed(in: directory.isEmpty ? "." : directory, permissions: permissions)
    } catch {
      unnamed = false
      do {
        descriptor = try FileDescriptor.open(
          temporary, .readWrite, options: [.create, .exclusiveCreate, .closeOnExec], permissions: permissions)
      } catch {
        throw TensorIOError(
          .system(operation: "create temporary file", errno: error as? Errno ?? .ioError), path: path.string)
      }
    }
    let file = AtomicFile(descriptor: descriptor, path: path.string, startsWriteBack: durability == .synced)
    var named = !unnamed
    do throws(TensorIOError) {
      if let expectedSize {
        do {
          try descriptor.preallocate(length: expectedSize)
        } catch {
          throw TensorIOError(.system(operation: "reserve \(expectedSize) bytes", errno: error), path: path.string)
        }
      }
      try body(file)
      if durability == .synced {
        do {
          try descriptor.sync()
        } catch {
          throw TensorIOError(.system(operation: "fsync", errno: error), path: path.string)
        }
      }
      if unnamed {
        do {
          try descriptor.link(as: temporary)
          named = true
        } catch {
          throw TensorIOError(.system(operation: "link temporary file", errno: error), path: path.string)
        }
      }
      // Renamed straight after the link (the descriptor is closed after): the one
      // moment a kill can leave a named, complete temporary is between these two calls.
      do {
        try temporary.rename(to: path)
      } catch {
        throw TensorIOError(.system(operation: "rename", errno: error), path: path.string)
      }
      named = false
      do {
        try descriptor.close()
      } catch {
        throw TensorIOError(.system(operation: "close", errno: error as? Errno ?? .ioError), path: path.string)
      }
    } catch {
      _ = try? descriptor.close()
      if named { _ = try? temporary.unlink() }
      throw error
    }
    if durability == .synced { syncDirectory(directory) }
  }

  /// Makes the rename durable. Wraps `fsync(2)` on the folder; failures are ignored
  /// (some file systems refuse it), the data itself is already synced.
  private static func syncDirectory(_ directory: FilePath) {
    let dir = directory.isEmpty ? FilePath(".") : directory
    guard let fd = try? FileDescriptor.open(dir, .readOnly, options: [.directory, .closeOnExec]) else { return }
    try? fd.sync()
    _ = try? fd.close()
  }

  /// Reserves `length` bytes on disk (failing where that cannot be done, so that no
  /// store through the mapping can meet a full disk), sets the file's size to it and
  /// maps it read-write (`MAP_SHARED`): stores through the mapping are the file's
  /// bytes. Unmap with `VirtualMemory.unmap` before `body` returns.
  func mapForWriting(length: Int) throws(TensorIOError) -> UnsafeMutableRawPointer {
    do {
      try descriptor.reserve(length: length)
      try descriptor.resize(to: Int64(length))
      return try VirtualMemory.mapFile(descriptor, length: length, mode: .readWrite)
    } catch {
      throw TensorIOError(.system(operation: "map for writing", errno: error as? Errno ?? .ioError), path: path)
    }
  }

  /// The `count` bytes written at `offset` (read back).
  func read(_ count: Int, at offset: Int) throws(TensorIOError) -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
    defer { buffer.deallocate() }
    let got: Int
    do {
      got = try descriptor.readFully(at: offset, into: buffer)
    } catch {
      throw TensorIOError(.system(operation: "read back", errno: error), path: path)
    }
    guard got == count else { throw TensorIOError(.system(operation: "read back", errno: .ioError), path: path) }
    return Array(buffer)
  }

  /// Writes `bytes` at `offset`, starting write-back of every 64 MiB written so that
  /// the final sync does not stall on the whole file. Several threads may write
  /// different ranges at once.
  func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(TensorIOError) {
    let chunk = 64 << 20
    var done = 0
    while done < bytes.count {
      let part = UnsafeRawBufferPointer(rebasing: bytes[done..<min(bytes.count, done + chunk)])
      do {
        try descriptor.writeFully(at: offset + done, from: part)
      } catch {
        throw TensorIOError(.system(operation: "write", errno: error), path: path)
      }
      done += part.count
      let end = offset + done
      if startsWriteBack {
        unflushedStart.withLock { start in
          guard end - start >= chunk else { return }
          descriptor.startWriteBack(offset: Int64(start), length: Int64(end - start))
          start = end
        }
      }
    }
  }
}

/// How far a completed write is guaranteed to have reached.
public enum Durability: Sendable, Hashable {
  /// Data and the rename are synced to stable storage before the write returns
  /// (fsync): the file survives a power loss. The default.
  case synced
  /// The write is still atomic for every reader and against a crash of this process
  /// (temporary file + rename), but not synced: a power loss may lose it. As fast as
  /// `np.save`, which never syncs.
  case unsynced
}
