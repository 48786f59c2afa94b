import Glibc
import SystemPackage

/// Heap allocations that must be aligned or freed by the C allocator.
enum HeapMemory {
  /// `byteCount` bytes aligned to `alignment` (a power of two, multiple of the pointer
  /// size). Wraps `posix_memalign(3)`; free with `free(_:)`.
  static func allocate(byteCount: Int, alignment: Int) throws(Errno) -> UnsafeMutableRawPointer {
    var pointer: UnsafeMutableRawPointer? = nil
    let status = posix_memalign(&pointer, alignment, max(byteCount, 1))
    guard status == 0, let pointer else { throw Errno(rawValue: status == 0 ? ENOMEM : status) }
    return pointer
  }

  /// Memory from `allocate`. Wraps `free(3)`.
  static func free(_ pointer: UnsafeMutableRawPointer) {
    Glibc.free(pointer)
  }
}
