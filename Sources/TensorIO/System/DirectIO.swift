import CTensorShims
import Glibc
import SystemPackage

/// Which file an open descriptor is (its device and inode numbers): a path opened again
/// later is the same file only when its identity matches.
struct FileIdentity: Sendable, Hashable {
  let device: UInt64
  let inode: UInt64
}

/// Reads and writes that bypass the page cache (Linux `O_DIRECT`), for moving files
/// larger than memory at the disk's speed without filling the cache. Every buffer,
/// file offset and length of a direct transfer is a multiple of `alignment`.
enum DirectIO {
  /// The alignment direct transfers keep: the page size, a multiple of every logical
  /// block size Linux disks use (512 and 4096 bytes).
  static var alignment: Int { SystemInfo.pageSize }

  /// Whether `value` is a multiple of `alignment`.
  static func isAligned(_ value: Int) -> Bool { value & (alignment - 1) == 0 }
}

extension FileDescriptor {
  /// The file's identity. Wraps `fstat(2)`.
  func identity() throws(Errno) -> FileIdentity {
    var info = Glibc.stat()
    try retryingInterrupts { fstat(rawValue, &info) }
    return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
  }

  /// Opens `path` read-only for direct reads. Wraps `open(2)` with `O_DIRECT`; throws
  /// `EINVAL` where the file system has none (tmpfs).
  static func openForDirectReads(_ path: FilePath) throws(Errno) -> FileDescriptor {
    FileDescriptor(rawValue: try retryingInterrupts { path.withPlatformString { tensortool_open_direct($0) } })
  }

  /// A second descriptor on this file for direct writes, with its own open file
  /// description (this one stays buffered). Wraps `open(2)` on `/proc/self/fd/N` with
  /// `O_WRONLY | O_DIRECT`.
  func reopenForDirectWrites() throws(Errno) -> FileDescriptor {
    FileDescriptor(rawValue: try retryingInterrupts { tensortool_reopen_direct_for_writing(rawValue) })
  }

  /// Reads up to `count` bytes at `offset` into `buffer` with direct reads, all three
  /// aligned; stops early only at the end of the file. Returns the bytes read. Wraps
  /// `pread(2)`.
  func readDirect(at offset: Int, into buffer: UnsafeMutableRawPointer, count: Int) throws(Errno) -> Int {
    var done = 0
    while done < count {
      let n = try retryingInterrupts { Glibc.pread(rawValue, buffer + done, count - done, off_t(offset + done)) }
      done += n
      // A read that stops short, or off the alignment, has met the end of the file.
      if n == 0 || !DirectIO.isAligned(n) { break }
    }
    return done
  }

  /// Writes `count` bytes at `offset` from `buffer` with direct writes, all three
  /// aligned. Wraps `pwrite(2)`.
  func writeDirect(at offset: Int, from buffer: UnsafeRawPointer, count: Int) throws(Errno) {
    var done = 0
    while done < count {
      let n = try retryingInterrupts { Glibc.pwrite(rawValue, buffer + done, count - done, off_t(offset + done)) }
      guard n > 0, DirectIO.isAligned(n) else { throw Errno.ioError }
      done += n
    }
  }
}

extension VirtualMemory {
  /// How many of the pages of `pointer ..< pointer + length` (`pointer` page-aligned)
  /// are in memory (for a file mapping: in the page cache, whether or not this process
  /// has touched them); nil when the kernel cannot say. Wraps `mincore(2)`.
  static func residentPages(_ pointer: UnsafeMutableRawPointer, length: Int) -> Int? {
    let page = SystemInfo.pageSize
    let pages = (length + page - 1) / page
    guard pages > 0 else { return 0 }
    var vector = [UInt8](repeating: 0, count: pages)
    guard mincore(pointer, length, &vector) == 0 else { return nil }
    var resident = 0
    for flag in vector where flag & 1 != 0 { resident += 1 }
    return resident
  }
}
