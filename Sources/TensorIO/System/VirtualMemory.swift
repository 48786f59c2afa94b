import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Page-level memory: anonymous mappings for large host buffers. One place that calls
/// `mmap`, `munmap` and `madvise`.
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
    #if os(Linux)
      _ = madvise(pointer, length, MADV_HUGEPAGE)
    #endif
    return pointer
  }

  /// Unmaps a region returned by `mapAnonymous`. Wraps `munmap(2)`.
  static func unmap(_ pointer: UnsafeMutableRawPointer, length: Int) {
    _ = munmap(pointer, length)
  }
}
