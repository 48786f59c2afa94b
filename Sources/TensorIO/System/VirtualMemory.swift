import Glibc
import SystemPackage

/// Page-level memory: anonymous mappings for large host buffers and mappings of files.
/// The one place that calls `mmap`, `munmap`, `msync` and `madvise`.
enum VirtualMemory {
  /// Maps `length` bytes of zeroed, private, anonymous memory and asks for transparent
  /// huge pages. Wraps `mmap(2)` with `MAP_PRIVATE | MAP_ANONYMOUS` and `madvise(2)`
  /// with `MADV_HUGEPAGE`.
  static func mapAnonymous(length: Int) throws(Errno) -> UnsafeMutableRawPointer {
    guard let pointer = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      pointer != MAP_FAILED
    else {
      throw Errno(rawValue: errno)
    }
    _ = madvise(pointer, length, MADV_HUGEPAGE)
    return pointer
  }

  /// Maps `length` bytes of an open file from `offset` (a multiple of the page size): `.readOnly` with `PROT_READ,
  /// MAP_SHARED`, `.readWrite` with `PROT_READ | PROT_WRITE, MAP_SHARED` (writes reach
  /// the file), `.copyOnWrite` with `PROT_READ | PROT_WRITE, MAP_PRIVATE` (writes stay
  /// in this process). Wraps `mmap(2)`.
  static func mapFile(_ descriptor: FileDescriptor, length: Int, mode: MapMode, offset: Int = 0) throws(Errno)
    -> UnsafeMutableRawPointer
  {
    let protection: Int32
    let flags: Int32
    switch mode {
    case .readOnly: (protection, flags) = (PROT_READ, MAP_SHARED)
    case .readWrite: (protection, flags) = (PROT_READ | PROT_WRITE, MAP_SHARED)
    case .copyOnWrite: (protection, flags) = (PROT_READ | PROT_WRITE, MAP_PRIVATE)
    }
    guard let pointer = mmap(nil, length, protection, flags, descriptor.rawValue, off_t(offset)),
      pointer != MAP_FAILED
    else {
      throw Errno(rawValue: errno)
    }
    return pointer
  }

  /// Maps every page of `pointer ..< pointer + length` for reading now, in one call
  /// rather than a fault per page. Best effort (needs Linux 5.14). Wraps `madvise(2)`
  /// with `MADV_POPULATE_READ`.
  static func populate(_ pointer: UnsafeMutableRawPointer, length: Int) {
    let populateRead: Int32 = 22  // MADV_POPULATE_READ
    _ = madvise(pointer, length, populateRead)
  }

  /// Maps every page of `pointer ..< pointer + length` for writing now, in one call
  /// (allocating them: for a shared file mapping, page cache pages). Best effort
  /// (needs Linux 5.14). Wraps `madvise(2)` with `MADV_POPULATE_WRITE`.
  static func populateForWriting(_ pointer: UnsafeMutableRawPointer, length: Int) {
    let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE
    _ = madvise(pointer, length, populateWrite)
  }

  /// Faults in every page of fresh anonymous memory on all cores, a 2 MiB piece per
  /// task (so that later users, such as a driver pinning it, find it mapped).
  static func prefault(_ pointer: UnsafeMutableRawPointer, length: Int) {
    let piece = 2 << 20
    // Safety: each task populates its own 2 MiB of memory the caller keeps mapped.
    let base = UnsafeShared(pointer)
    Parallel.forEach((length + piece - 1) / piece) { i in
      populateForWriting(base.value + i * piece, length: min(piece, length - i * piece))
    }
  }

  /// Writes a shared mapping's dirty pages to the file and waits. Wraps `msync(2)`
  /// with `MS_SYNC`.
  static func sync(_ pointer: UnsafeMutableRawPointer, length: Int) throws(Errno) {
    SystemCallSeam.current?.log.withLock { $0.synced.append((UInt(bitPattern: pointer), length)) }
    if msync(pointer, length, MS_SYNC) != 0 { throw Errno(rawValue: errno) }
  }

  /// Unmaps a region returned by `mapAnonymous` or `mapFile`. Wraps `munmap(2)`.
  static func unmap(_ pointer: UnsafeMutableRawPointer, length: Int) {
    _ = munmap(pointer, length)
  }
}
