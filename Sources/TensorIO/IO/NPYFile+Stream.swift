import SystemPackage

extension NPYFile {
  /// An `.npy` read from a stream: its header and its array.
  public struct Streamed: Sendable {
    /// The header, as `info(at:)` reports it (`fileSize`: the bytes the stream held).
    public var info: Info
    /// The array, mapped from the stream's temporary copy.
    public var array: NDArray
  }

  /// An `.npy` read from a stream (standard input, a pipe): its bytes are copied, a
  /// piece at a time, into an unnamed temporary file (in `$TMPDIR` or `/tmp`; removed
  /// by the system when no longer used), which is then mapped read-only. Memory stays
  /// bounded whatever the array's size. `name` is what errors call the stream.
  public static func read(
    stream: FileDescriptor = .standardInput, name: String = "-", maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize
  ) throws(TensorIOError) -> Streamed {
    let folder = SystemInfo.environment("TMPDIR").flatMap { $0.isEmpty ? nil : FilePath($0) } ?? "/tmp"
    let scratch: FileDescriptor
    do {
      scratch = try FileDescriptor.openUnnamed(in: folder, permissions: [.ownerReadWrite])
    } catch {
      throw TensorIOError(.system(operation: "create temporary file in \(folder)", errno: error), path: name)
    }
    defer { _ = try? scratch.close() }
    let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { piece.deallocate() }
    var total = 0
    while true {
      let n: Int
      do {
        n = try stream.read(into: piece, retryOnInterrupt: true)
      } catch {
        throw TensorIOError(.system(operation: "read", errno: error as? Errno ?? .ioError), path: name)
      }
      if n == 0 { break }
      do throws(Errno) {
        try scratch.writeFully(at: total, from: UnsafeRawBufferPointer(rebasing: piece[..<n]))
      } catch {
        throw TensorIOError(.system(operation: "write temporary file", errno: error), path: name)
      }
      total += n
    }
    // The unnamed file, opened again by its /proc name, maps as any .npy does.
    do {
      let copy = FilePath("/proc/self/fd/\(scratch.rawValue)")
      return Streamed(
        info: try info(at: copy, maxHeaderSize: maxHeaderSize), array: try map(copy, maxHeaderSize: maxHeaderSize))
    } catch {
      var named = error
      named.path = name
      throw named
    }
  }
}

extension Conversion {
  /// Writes `array` converted to `target` in `order` as `.npy` bytes to `stream` (standard
  /// output, a pipe), in pieces: not atomic, nothing to rename. A reader that closes the
  /// pipe ends the write with `.system(operation: "write", errno: .brokenPipe)`.
  public static func writeNPY(
    _ array: NDArray, to stream: FileDescriptor, dtype target: DType, order: MemoryOrder, name: String = "-"
  ) throws(TensorIOError) {
    let (header, saved) = try NPYHeader.forSaving(dtype: target, shape: array.shape, order: order)
    func write(_ bytes: UnsafeRawBufferPointer) throws(TensorIOError) {
      do {
        _ = try stream.writeAll(bytes)
      } catch {
        throw TensorIOError(.system(operation: "write", errno: error as? Errno ?? .ioError), path: name)
      }
    }
    try typedThrows { try header.withUnsafeBytes { try write($0) } }
    try Conversion.stream(array, to: target, order: saved) { (piece) throws(TensorIOError) in try write(piece) }
  }
}
