import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one owner of a block of element bytes. Arrays and views hold a reference to it;
/// the memory lives as long as any of them does.
///
/// A class because identity matters: two arrays share data exactly when they share a
/// `Storage`. Concurrent writes to the same bytes from several threads are the caller's
/// to order, as with numpy arrays.
public final class Storage: @unchecked Sendable {
  /// Where the bytes live and how they are released.
  enum Allocation {
    /// `posix_memalign`, released with `free`.
    case heap
    /// An anonymous mapping, released with `munmap`.
    case anonymousMapping(length: Int)
  }

  /// The first byte. Never null, also for an empty storage.
  public let baseAddress: UnsafeMutableRawPointer
  /// Bytes of element data.
  public let byteCount: Int
  /// Whether the bytes may be written.
  public let isWritable: Bool
  private let allocation: Allocation

  /// Buffers at least this large are anonymous mappings with huge pages.
  static let mappingThreshold = 1 << 20

  /// Allocates `byteCount` zeroed bytes aligned to 64 bytes.
  public init(zeroedByteCount byteCount: Int) throws(TensorIOError) {
    guard byteCount >= 0 else { throw TensorIOError(.invalidArgument("negative byte count \(byteCount)")) }
    if byteCount >= Storage.mappingThreshold {
      do {
        baseAddress = try VirtualMemory.mapAnonymous(length: byteCount)
      } catch {
        throw TensorIOError(.system(operation: "allocating \(byteCount) bytes", errno: error))
      }
      allocation = .anonymousMapping(length: byteCount)
    } else {
      var pointer: UnsafeMutableRawPointer?
      let status = posix_memalign(&pointer, 64, max(byteCount, 64))
      guard status == 0, let pointer else {
        throw TensorIOError(.system(operation: "allocating \(byteCount) bytes", errno: Errno(rawValue: status)))
      }
      memset(pointer, 0, max(byteCount, 64))
      baseAddress = pointer
      allocation = .heap
    }
    self.byteCount = byteCount
    self.isWritable = true
  }

  deinit {
    switch allocation {
    case .heap: free(baseAddress)
    case .anonymousMapping(let length): VirtualMemory.unmap(baseAddress, length: length)
    }
  }

  /// The bytes, for reading.
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: byteCount) }
}
