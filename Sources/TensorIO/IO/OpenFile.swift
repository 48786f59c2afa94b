import SystemPackage

/// An open regular file (read-only, or read-write for `r+` mappings) with errors that
/// name it; closed when released.
final class OpenFile: Sendable {
  let descriptor: FileDescriptor
  let path: String
  let size: Int

  init(path: FilePath, writable: Bool = false) throws(TensorIOError) {
    self.path = path.string
    do {
      // Non-blocking, so that a FIFO (refused below: not a regular file) cannot hang the open.
      descriptor = try FileDescriptor.open(
        path, writable ? .readWrite : .readOnly, options: [.closeOnExec, .nonBlocking])
    } catch let error as Errno {
      throw TensorIOError(.system(operation: "open", errno: error), path: path.string)
    } catch {
      throw TensorIOError(.system(operation: "open", errno: .ioError), path: path.string)
    }
    do {
      let (size, isRegular) = try descriptor.sizeAndKind()
      guard isRegular else {
        _ = try? descriptor.close()
        throw TensorIOError(.notRegularFile, path: path.string)
      }
      self.size = size
    } catch let error as TensorIOError {
      throw error
    } catch {
      _ = try? descriptor.close()
      throw TensorIOError(.system(operation: "fstat", errno: error as? Errno ?? .ioError), path: path.string)
    }
  }

  deinit {
    _ = try? descriptor.close()
  }

  func fail(_ reason: TensorIOError.Reason) -> TensorIOError { TensorIOError(reason, path: path) }
  func fail(_ reason: FormatError) -> TensorIOError { TensorIOError(reason, path: path) }
  func fail(_ reason: ArchiveError) -> TensorIOError { TensorIOError(reason, path: path) }

  /// Reads up to `count` bytes at `offset` into a new array.
  func read(at offset: Int, count: Int) throws(TensorIOError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(0, min(count, size - offset)))
    let n = try typedThrows { try bytes.withUnsafeMutableBytes { try read(at: offset, into: $0) } }
    bytes.removeLast(bytes.count - n)
    return bytes
  }

  /// Fills `buffer` from `offset`; returns the bytes read, fewer only at end of file.
  func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(TensorIOError) -> Int {
    do {
      return try descriptor.readFully(at: offset, into: buffer)
    } catch {
      throw fail(.system(operation: "read", errno: error))
    }
  }

  /// The header of the `.npy` file, checked against the file's size.
  func readInfo(maxHeaderSize: Int) throws(TensorIOError) -> NPYFile.Info {
    NPYFile.Info(header: try readHeader(at: 0, length: size, maxHeaderSize: maxHeaderSize), fileSize: size)
  }

  /// The header of `.npy` bytes stored at `base ..< base + length` (a whole file, or a
  /// stored npz member), checked against that length; errors name `name` (default:
  /// the file).
  func readHeader(at base: Int, length: Int, maxHeaderSize: Int, name: String? = nil) throws(TensorIOError)
    -> NPYHeader
  {
    do throws(TensorIOError) {
      return try NPYHeader.read(length: length, maxHeaderSize: maxHeaderSize) { (range) throws(TensorIOError) in
        try read(at: base + range.lowerBound, count: range.count)
      }
    } catch {
      throw error.naming(name ?? path)
    }
  }

  /// Bytes `offset ..< offset + count` of the file, mapped read-only (and read ahead),
  /// for `body` to read; unmapped when it returns. The range must lie inside the file
  /// (as checked when the file was opened), so no access can fault.
  func withMappedBytes<R>(
    at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TensorIOError) -> R
  ) throws(TensorIOError) -> R {
    try withMappedBytes(at: offset, count: count, mode: .readOnly) { (bytes) throws(TensorIOError) in
      try body(UnsafeRawBufferPointer(bytes))
    }
  }

  /// Bytes `offset ..< offset + count` of the file mapped copy-on-write (and read
  /// ahead): `body` may change them in memory, never in the file.
  func withPrivateMappedBytes<R>(
    at offset: Int, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(TensorIOError) -> R
  ) throws(TensorIOError) -> R {
    try withMappedBytes(at: offset, count: count, mode: .copyOnWrite, body)
  }

  private func withMappedBytes<R>(
    at offset: Int, count: Int, mode: MapMode, _ body: (UnsafeMutableRawBufferPointer) throws(TensorIOError) -> R
  ) throws(TensorIOError) -> R {
    guard count > 0 else { return try body(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
    guard offset >= 0, offset <= size, count <= size - offset else {
      throw fail(.truncatedData(expected: count, available: max(0, size - offset)))
    }
    let start = offset / SystemInfo.pageSize * SystemInfo.pageSize
    let length = offset - start + count
    let base: UnsafeMutableRawPointer
    do {
      base = try VirtualMemory.mapFile(descriptor, length: length, mode: mode, offset: start)
    } catch {
      throw fail(.system(operation: "mmap", errno: error))
    }
    defer { VirtualMemory.unmap(base, length: length) }
    VirtualMemory.populate(base, length: length)
    return try body(UnsafeMutableRawBufferPointer(start: base + (offset - start), count: count))
  }

  /// Fills `buffer` from `offset`, split over threads for large reads.
  func readParallel(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(TensorIOError) {
    let chunk = 16 << 20
    let pieces = (buffer.count + chunk - 1) / chunk
    if pieces <= 1 {
      try readExactly(at: offset, into: buffer)
      return
    }
    let fd = descriptor
    let path = self.path
    // Safety: each task fills its own slice of the buffer, which the caller keeps
    // alive until this returns.
    let shared = UnsafeShared(buffer)
    try Parallel.forEach(pieces) { (i) throws(TensorIOError) in
      let buffer = shared.value
      let start = i * chunk
      let part = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<min(buffer.count, start + chunk)])
      let n: Int
      do throws(Errno) {
        n = try fd.readFully(at: offset + start, into: part)
      } catch {
        throw TensorIOError(.system(operation: "read", errno: error), path: path)
      }
      if n != part.count {
        throw TensorIOError(.truncatedData(expected: buffer.count, available: start + n), path: path)
      }
    }
  }

  /// Reads bytes `offset ..< offset + count` a piece of at most 4 MiB at a time into
  /// one reused buffer, handing each piece to `body` in order: memory stays bounded
  /// whatever `count` is.
  func readInPieces(
    at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws(TensorIOError) -> Void
  ) throws(TensorIOError) {
    let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: min(4 << 20, max(count, 1)), alignment: 64)
    defer { piece.deallocate() }
    var done = 0
    while done < count {
      let part = UnsafeMutableRawBufferPointer(rebasing: piece[..<min(piece.count, count - done)])
      try readExactly(at: offset + done, into: part)
      try body(UnsafeRawBufferPointer(part))
      done += part.count
    }
  }

  func readExactly(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(TensorIOError) {
    let n: Int
    do {
      n = try descriptor.readFully(at: offset, into: buffer)
    } catch {
      throw fail(.system(operation: "read", errno: error))
    }
    if n != buffer.count { throw fail(.truncatedData(expected: buffer.count, available: n)) }
  }
}
