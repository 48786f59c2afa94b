import Synchronization
import SystemPackage

/// The file behind an upload's host range (a mapped `.npy`, npz member or safetensors
/// tensor), opened again so that chunks can be read into the pinned ring instead of
/// copied from the mapping: chunks whose pages are not in the page cache with direct
/// I/O (a cold file moves at the disk's speed and is not pulled through the page
/// cache), and, when asked, warm chunks with plain `pread` (no page table entries to
/// set up, for measurements).
final class FileReader: Sendable {
  /// How a chunk is read.
  enum Route {
    /// With direct I/O, from the disk.
    case direct
    /// With `pread`, from the page cache.
    case buffered
  }

  private let direct: FileDescriptor?
  private let buffered: FileDescriptor?
  /// The file offset of the transfer's first byte.
  let fileOffset: Int
  let path: String
  let mode: DirectReads
  /// Set once a direct read is refused (a file system that opens with `O_DIRECT` but
  /// will not read so): the remaining cold chunks go through the mapping.
  private let refused = Atomic(false)

  private init(direct: FileDescriptor?, buffered: FileDescriptor?, fileOffset: Int, path: String, mode: DirectReads) {
    self.direct = direct
    self.buffered = buffered
    self.fileOffset = fileOffset
    self.path = path
    self.mode = mode
  }

  deinit {
    _ = try? direct?.close()
    _ = try? buffered?.close()
  }

  /// A reader for the `count` bytes at `pointer` in `storage`, when the storage maps a
  /// file that is still the one at its path (same device and inode) and reads are
  /// wanted (`mode` for cold chunks, `warmPread` for the others) and possible there;
  /// nil otherwise (the upload then copies from the mapping as always).
  static func open(
    _ storage: Storage, at pointer: UnsafeRawPointer, count: Int, mode: DirectReads, warmPread: Bool = false
  ) -> FileReader? {
    guard mode != .never || warmPread, count > 0, let backing = storage.backingFile else { return nil }
    let offset = backing.offset(of: pointer)
    func sameFile(_ descriptor: FileDescriptor?) -> FileDescriptor? {
      guard let descriptor else { return nil }
      guard (try? descriptor.identity()) == backing.identity, let size = try? descriptor.sizeAndKind().size,
        offset >= 0, offset <= size - count
      else {
        _ = try? descriptor.close()
        return nil
      }
      return descriptor
    }
    let direct = mode == .never ? nil : sameFile(try? FileDescriptor.openForDirectReads(backing.path))
    let buffered =
      warmPread ? sameFile(try? FileDescriptor.open(backing.path, .readOnly, options: [.closeOnExec])) : nil
    guard direct != nil || buffered != nil else { return nil }
    return FileReader(
      direct: direct, buffered: buffered, fileOffset: offset, path: backing.path.string, mode: mode)
  }

  /// How to read the chunk whose whole pages are `pages ..< pages + count` (inside the
  /// mapping); nil to copy it from the mapping. Directly: always, or when fewer than
  /// half its pages are in the page cache.
  func route(_ pages: UnsafeMutableRawPointer, count: Int) -> Route? {
    if direct != nil, !refused.load(ordering: .relaxed) {
      switch mode {
      case .never: break
      case .always: return .direct
      case .coldChunks:
        if let resident = VirtualMemory.residentPages(pages, length: count), resident * 2 < count / SystemInfo.pageSize
        {
          return .direct
        }
      }
    }
    return buffered == nil ? nil : .buffered
  }

  /// Reads the `count` bytes (whole pages) that start `offset` bytes from the
  /// transfer's first byte into `buffer` by `route`, of which at least the first
  /// `needed` must exist. Returns false when direct I/O is refused (nothing read: the
  /// caller copies from the mapping instead); throws when the file is shorter than the
  /// mapping promised or the read fails.
  func read(_ route: Route, into buffer: UnsafeMutableRawPointer, at offset: Int, count: Int, needed: Int)
    throws(TensorIOError) -> Bool
  {
    let position = fileOffset + offset
    var got = 0
    do {
      switch route {
      case .direct:
        guard let direct, DirectIO.isAligned(position), DirectIO.isAligned(count),
          DirectIO.isAligned(Int(bitPattern: buffer))
        else { return false }
        got = try direct.readDirect(at: position, into: buffer, count: count)
      case .buffered:
        guard let buffered else { return false }
        got = try buffered.readFully(at: position, into: UnsafeMutableRawBufferPointer(start: buffer, count: count))
      }
    } catch .invalidArgument where route == .direct {
      refused.store(true, ordering: .relaxed)
      return false
    } catch {
      throw TensorIOError(.system(operation: "read at \(position)", errno: error), path: path)
    }
    guard got >= needed else {
      throw TensorIOError(.truncatedData(expected: position + needed, available: position + got), path: path)
    }
    return true
  }
}

/// Where a device -> file transfer's chunks land: `dataStart ..< dataStart + count` of
/// an atomic output file, written by the transfer workers from their pinned slots,
/// through the page cache or with direct I/O.
struct FileSink: Sendable {
  let file: AtomicFile
  /// The direct-I/O descriptor of the same file, when writes bypass the page cache.
  let direct: FileDescriptor?
  /// Where the data starts in the file.
  let dataStart: Int
  /// The file's bytes from the page below `dataStart` up to it (the header's tail),
  /// which a direct write of the first block carries along.
  let head: [UInt8]

  /// Writes `count` bytes of `buffer` at file offset `offset`.
  func write(_ buffer: UnsafeRawPointer, count: Int, at offset: Int) throws(TensorIOError) {
    guard let direct else {
      try file.write(UnsafeRawBufferPointer(start: buffer, count: count), at: offset)
      return
    }
    do {
      try direct.writeDirect(at: offset, from: buffer, count: count)
    } catch {
      throw TensorIOError(.system(operation: "direct write at \(offset)", errno: error), path: file.path)
    }
  }
}

/// A chunk's bytes waiting in a slot's pinned buffer for their file write.
struct PendingWrite {
  let sink: FileSink
  /// Where the bytes start in the buffer.
  let lead: Int
  let count: Int
  /// Where they go in the file.
  let offset: Int
}

extension TransferEngine {
  /// Copies `count` bytes at device address `source` into `sink`'s file, from its
  /// `dataStart` on: the file is cut on a page-aligned grid of chunks, which worker
  /// threads take from a shared counter, each copying a chunk into one of its two
  /// pinned slots and writing the slot out once its copy is done, while its other
  /// slot's copy runs. With direct writes, each slot holds whole pages of the file
  /// (the first one the header's tail too) and the file is cut to size at the end.
  func download(from source: UInt64, count: Int, to sink: FileSink) throws(TensorIOError) -> TransferReport {
    guard count > 0 else { return TransferReport() }
    let grid = ChunkGrid(start: sink.dataStart, count: count, chunk: tuning.chunk)
    let workers = max(1, min(tuning.downloadWorkers ?? tuning.workers, grid.chunks))
    let report = try eachChunk(workers: workers, chunks: grid.chunks, buffers: true) {
      (_, i, slot: inout Slot, report: inout TransferReport) throws(TensorIOError) in
      guard let buffer = slot.buffer else { return }
      let (offset, n) = grid.bytes(i)
      let pages = grid.pages(i)
      let lead = sink.direct == nil ? 0 : offset - pages.offset
      if lead > 0 {
        sink.head.withUnsafeBytes { head in
          if let base = head.baseAddress { buffer.copyMemory(from: base + head.count - lead, byteCount: lead) }
        }
      }
      slot.busy = true
      slot.bytes = n
      slot.writeOut =
        sink.direct == nil
        ? PendingWrite(sink: sink, lead: 0, count: n, offset: sink.dataStart + offset)
        : PendingWrite(sink: sink, lead: 0, count: pages.count, offset: sink.dataStart + pages.offset)
      report.staged += 1
      try backend.enqueueCopyToHost(buffer + lead, from: source + UInt64(offset), count: n, on: slot.stream)
    }
    if sink.direct != nil {
      do {
        try sink.file.descriptor.resize(to: Int64(sink.dataStart + count))
      } catch {
        throw TensorIOError(
          .system(operation: "truncate", errno: error as? Errno ?? .ioError), path: sink.file.path)
      }
    }
    return report
  }
}
