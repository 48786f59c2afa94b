import CTensorShims
import Glibc
import SystemPackage

/// The system calls TensorIO needs beyond what swift-system's `FileDescriptor`
/// offers, in the same style: one thin typed wrapper per call, `Errno` on failure,
/// `EINTR` retried.
extension FileDescriptor {
  /// Flushes the file's data and metadata to stable storage. Wraps `fsync(2)`.
  func sync() throws(Errno) {
    try retryingInterrupts { fsync(rawValue) }
  }

  /// Starts write-back of a byte range without waiting for it, so that a final
  /// `sync()` has less left to do. Wraps `sync_file_range(2)` with
  /// `SYNC_FILE_RANGE_WRITE` on Linux (through a C shim: it needs `_GNU_SOURCE`);
  /// does nothing elsewhere.
  func startWriteBack(offset: Int64, length: Int64) {
    _ = tensortool_start_writeback(rawValue, offset, length)
  }

  /// Reserves disk blocks for the first `length` bytes so that writing them needs no
  /// block allocation on the way. Wraps `posix_fallocate(3)`; file systems that cannot
  /// preallocate are not an error, a full disk is (`ENOSPC`).
  func preallocate(length: Int) throws(Errno) {
    guard length > 0 else { return }
    let status = posix_fallocate(rawValue, 0, off_t(length))
    if status == ENOSPC || status == EFBIG || status == EIO { throw Errno(rawValue: status) }
  }

  /// Reserves disk blocks for the first `length` bytes, or fails: unlike
  /// `preallocate(length:)`, a file system that cannot preallocate is an error too
  /// (`EOPNOTSUPP`). For files written through a mapping, where a block the disk has
  /// no room for would be a SIGBUS instead of an error. Wraps `posix_fallocate(3)`.
  func reserve(length: Int) throws(Errno) {
    guard length > 0 else { return }
    let status = posix_fallocate(rawValue, 0, off_t(length))
    if status != 0 { throw Errno(rawValue: status) }
  }

  /// Whether the file lies on a file system held in memory (tmpfs, ramfs), whose
  /// pages cannot be written out to relieve memory. Wraps `fstatfs(2)`; false when
  /// unknown.
  var isInMemoryFileSystem: Bool {
    tensortool_is_memory_fs(rawValue) == 1
  }

  /// A new unnamed read-write file in `directory`, gone with its last descriptor
  /// unless `link(as:)` names it. Wraps `open(2)` with `O_TMPFILE` (Linux; elsewhere,
  /// and on file systems without it, throws `EOPNOTSUPP` or `EISDIR`).
  static func openUnnamed(in directory: FilePath, permissions: FilePermissions) throws(Errno) -> FileDescriptor {
    let fd = try retryingInterrupts {
      directory.withPlatformString { tensortool_open_tmpfile($0, UInt32(permissions.rawValue)) }
    }
    return FileDescriptor(rawValue: fd)
  }

  /// Names this unnamed file `path`, which must not exist. Wraps `linkat(2)` on
  /// `/proc/self/fd/N` (or with `AT_EMPTY_PATH`).
  func link(as path: FilePath) throws(Errno) {
    try retryingInterrupts { path.withPlatformString { tensortool_link_unnamed(rawValue, $0) } }
  }

  /// Reads exactly `buffer.count` bytes at `offset`, looping over short reads.
  /// Returns the number of bytes read, smaller only at end of file. Wraps `pread(2)`.
  func readFully(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
    let seam = SystemCallSeam.current
    var done = 0
    while done < buffer.count {
      let limit = min(1 << 30, seam?.maxRead ?? Int.max)
      let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<min(buffer.count, done + limit)])
      let n: Int
      do {
        if let seam, seam.interruptsNextCall() { throw Errno.interrupted }
        n = try read(fromAbsoluteOffset: Int64(offset + done), into: chunk)
      } catch Errno.interrupted {
        continue
      } catch let error as Errno {
        throw error
      } catch {
        throw Errno.ioError
      }
      seam?.log.withLock {
        $0.bytesRead += n
        $0.reads += 1
      }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// Writes all of `buffer` at `offset`, looping over short writes. Wraps `pwrite(2)`.
  func writeFully(at offset: Int, from buffer: UnsafeRawBufferPointer) throws(Errno) {
    let seam = SystemCallSeam.current
    var done = 0
    while done < buffer.count {
      let chunk = UnsafeRawBufferPointer(rebasing: buffer[done..<min(buffer.count, done + (1 << 30))])
      let n: Int
      do {
        if let seam {
          if seam.interruptsNextCall() { throw Errno.interrupted }
          if let failure = seam.writeFailure, seam.log.withLock({ $0.bytesWritten }) + chunk.count > failure.after {
            throw failure.errno
          }
        }
        n = try write(toAbsoluteOffset: Int64(offset + done), chunk)
      } catch Errno.interrupted {
        continue
      } catch let error as Errno {
        throw error
      } catch {
        throw Errno.ioError
      }
      seam?.log.withLock { $0.bytesWritten += n }
      if n == 0 { throw Errno.ioError }
      done += n
    }
  }

  /// The file's size in bytes and whether it is a regular file. Wraps `fstat(2)`.
  func sizeAndKind() throws(Errno) -> (size: Int, isRegular: Bool) {
    var info = Glibc.stat()
    try retryingInterrupts { fstat(rawValue, &info) }
    return (Int(info.st_size), (info.st_mode & S_IFMT) == S_IFREG)
  }
}

extension FilePath {
  /// Atomically replaces `destination` with this file. Wraps `rename(2)`.
  func rename(to destination: FilePath) throws(Errno) {
    try retryingInterrupts {
      withPlatformString { from in destination.withPlatformString { to in Glibc.rename(from, to) } }
    }
  }

  /// Removes the file. Wraps `unlink(2)`.
  func unlink() throws(Errno) {
    try retryingInterrupts { withPlatformString { Glibc.unlink($0) } }
  }

  /// Creates this folder and any missing parents (`mkdir -p`). Wraps `mkdir(2)`.
  func createDirectories() throws(Errno) {
    var current = root.map { FilePath(root: $0) } ?? FilePath()
    for component in components {
      current.append(component)
      do {
        try retryingInterrupts { current.withPlatformString { Glibc.mkdir($0, 0o777) } }
      } catch {
        guard error == .fileExists else { throw error }
      }
    }
  }

  /// Whether something exists at this path. Wraps `access(2)` with `F_OK`.
  var exists: Bool { withPlatformString { Glibc.access($0, F_OK) } == 0 }
}

/// Calls `body` until it returns something other than -1 with `EINTR`; throws the
/// `errno` of any other failure.
@discardableResult
func retryingInterrupts<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
  while true {
    let result = body()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    throw Errno(rawValue: code)
  }
}

/// Runs `body`, which throws untyped errors only through closures of the standard
/// library's `rethrows` methods, and passes on its `TensorIOError` as a typed error.
func typedThrows<R>(_ body: () throws -> R) throws(TensorIOError) -> R {
  do {
    return try body()
  } catch let error as TensorIOError {
    throw error
  } catch let error as Errno {
    throw TensorIOError(.system(operation: "I/O", errno: error))
  } catch {
    throw TensorIOError(.internalFailure("\(error)"))
  }
}
