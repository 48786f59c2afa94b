import Foundation
import Glibc
import SystemPackage
import Testing

@testable import TensorIO

/// Transfers between files and a device that bypass the page cache: uploads that read a
/// mapped file's cold chunks from the disk with direct I/O, and device -> `.npy` saves
/// through each route (direct writes in file coordinates, writers, the mapped output,
/// the ring). On sim:2, whose streams run a copy only at synchronization, so that a slot
/// written to the file before its copy finished would write wrong bytes.
@Suite("direct I/O transfers", .serialized)
struct DirectTransferTests {
  static let sim: SimulatedDevice = {
    do { return try SimulatedDevice.device(2) } catch { fatalError("sim:2 missing: \(error)") }
  }()
  static var chunk: Int { sim.tuning.chunk }

  /// Whether files in `dir` can be opened for direct I/O (not on tmpfs).
  static func directIOWorks(in dir: URL) -> Bool {
    let probe = dir.appendingPathComponent("probe")
    guard FileManager.default.createFile(atPath: probe.path, contents: Data(count: 4096)) else { return false }
    defer { try? FileManager.default.removeItem(at: probe) }
    guard let fd = try? FileDescriptor.openForDirectReads(FilePath(probe.path)) else { return false }
    _ = try? fd.close()
    return true
  }

  /// A new empty folder on a file system with direct I/O: the temporary folder, else
  /// one under `.build` (when /tmp is tmpfs); nil (with a note) when neither has it.
  static func directIOFolder() throws -> URL? {
    let temporary = try Support.temporaryDirectory()
    if directIOWorks(in: temporary) { return temporary }
    try? FileManager.default.removeItem(at: temporary)
    let local = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      .appendingPathComponent(".build/direct-io-tests-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
    if directIOWorks(in: local) { return local }
    try? FileManager.default.removeItem(at: local)
    print("DirectTransferTests: no direct I/O in the temporary folder or .build: the direct paths are not tested")
    return nil
  }

  /// Drops a file's clean pages from the page cache.
  static func dropCache(_ path: String) {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return }
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    close(fd)
  }

  /// Pages of `path` in the page cache (through a mapping of it and `mincore`).
  static func residentPages(_ path: String) throws -> Int {
    let fd = try FileDescriptor.open(FilePath(path), .readOnly)
    defer { _ = try? fd.close() }
    let size = try fd.sizeAndKind().size
    let mapping = try VirtualMemory.mapFile(fd, length: size, mode: .readOnly)
    defer { VirtualMemory.unmap(mapping, length: size) }
    return VirtualMemory.residentPages(mapping, length: size) ?? -1
  }

  /// A synced `.npy` of `count` float32 pattern values (its data 128 bytes into the
  /// file: not page-aligned), and its values' bytes.
  static func makeFile(_ path: FilePath, count: Int) throws -> [UInt8] {
    let array = try NDArray(zeros: [count], dtype: .float32)
    for i in stride(from: 0, to: count, by: 251) { try array.setValue(Float(i) * 0.25 + 1, at: [i]) }
    try NPYFile.save(array, to: path, durability: .synced)
    return Array(try #require(array.unsafeContiguousBytes))
  }

  /// The bytes `memory` holds.
  static func contents(_ memory: DeviceBuffer) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: memory.byteCount)
    try bytes.withUnsafeMutableBytes {
      _ = try memory.download(#require($0.baseAddress), count: $0.count, path: .pageable)
    }
    return bytes
  }

  @Test("uploads read a mapped file's cold chunks from the disk directly, byte for byte, leaving the page cache cold")
  func coldUploads() throws {
    guard let dir = try DirectTransferTests.directIOFolder() else { return }
    defer { try? FileManager.default.removeItem(at: dir) }
    let sim = DirectTransferTests.sim
    var staging = sim.tuning
    staging.registeringWorkers = 0  // engine v2's CUDA default: every worker stages
    for count in [DirectTransferTests.chunk / 4 + 3, 5 * DirectTransferTests.chunk / 4 + 4321, 300_001] {
      let file = dir.appendingPathComponent("w\(count).npy").path
      let values = try DirectTransferTests.makeFile(FilePath(file), count: count)
      let memory = try DeviceBuffer(backend: sim, byteCount: values.count)
      for (path, tuning) in [(TransferPath.staged, sim.tuning), (.automatic, staging)] {
        // A fresh mapping each time: pages mapped by an earlier upload would stay cached.
        let mapped = try NPYFile.map(FilePath(file), mode: .readOnly)
        let (storage, start) = (mapped.storage, mapped.storage.unsafeBaseAddress)
        // Every chunk read directly.
        let always = try #require(FileReader.open(storage, at: start, count: values.count, mode: .always))
        var engine = TransferEngine(backend: sim, path: path)
        engine.tuningOverride = tuning
        let report = try engine.upload(to: memory.address, from: start, count: values.count, reader: always)
        #expect(report.directReads == report.chunks && report.chunks > 1, "\(count) \(path) \(report)")
        #expect(try DirectTransferTests.contents(memory) == values, "\(count) \(path)")
        // Cold chunks only: all of them once the file's pages are dropped, and the
        // page cache stays cold; none once the file is in the cache.
        DirectTransferTests.dropCache(file)
        let cold = try #require(FileReader.open(storage, at: start, count: values.count, mode: .coldChunks))
        try sim.copyToDevice(memory.address, from: [UInt8](repeating: 0, count: values.count), count: values.count)
        let coldReport = try engine.upload(to: memory.address, from: start, count: values.count, reader: cold)
        #expect(coldReport.directReads == coldReport.chunks, "\(count) \(path) \(coldReport)")
        #expect(try DirectTransferTests.contents(memory) == values, "\(count) \(path) cold")
        #expect(try DirectTransferTests.residentPages(file) <= 2, "\(count) \(path): pages were cached")
        _ = try Data(contentsOf: URL(fileURLWithPath: file))  // now in the page cache
        let warm = try engine.upload(to: memory.address, from: start, count: values.count, reader: cold)
        #expect(warm.directReads == 0 && warm.chunks > 1, "\(count) \(path) \(warm)")
        #expect(try DirectTransferTests.contents(memory) == values, "\(count) \(path) warm")
        // Warm chunks by pread, when asked: every chunk, from the page cache.
        let pread = try #require(
          FileReader.open(storage, at: start, count: values.count, mode: .coldChunks, warmPread: true))
        try sim.copyToDevice(memory.address, from: [UInt8](repeating: 0, count: values.count), count: values.count)
        let preadReport = try engine.upload(to: memory.address, from: start, count: values.count, reader: pread)
        #expect(preadReport.bufferedReads == preadReport.chunks && preadReport.directReads == 0, "\(preadReport)")
        #expect(try DirectTransferTests.contents(memory) == values, "\(count) \(path) pread")
      }
      // Through Tensor.to: the cold file's chunks come from the disk, the tensor is intact.
      DirectTransferTests.dropCache(file)
      let tensor = Tensor(try NPYFile.map(FilePath(file), mode: .readOnly))
      let device = try tensor.to(.sim(2), path: .staged)
      #expect(try device.cpu().elements(as: Float.self) == tensor.elements(as: Float.self))
    }
    #expect(sim.registrations == 0)
  }

  @Test("no direct reads from a copy-on-write mapping or a file replaced at its path; a file cut short fails typed")
  func directReadRefusals() throws {
    guard let dir = try DirectTransferTests.directIOFolder() else { return }
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = FilePath(dir.appendingPathComponent("a.npy").path)
    let values = try DirectTransferTests.makeFile(path, count: 3 * DirectTransferTests.chunk / 4)
    // Copy-on-write: its written pages are private, the file does not hold them.
    let cow = try NPYFile.map(path, mode: .copyOnWrite)
    #expect(cow.storage.backingFile == nil)
    // Replaced at its path (atomic save: a new inode): the reader is not made.
    let mapped = try NPYFile.map(path, mode: .readOnly)
    let start = mapped.storage.unsafeBaseAddress
    #expect(FileReader.open(mapped.storage, at: start, count: values.count, mode: .always) != nil)
    _ = try DirectTransferTests.makeFile(path, count: 3 * DirectTransferTests.chunk / 4)
    #expect(FileReader.open(mapped.storage, at: start, count: values.count, mode: .always) == nil)
    // Cut short under the mapping: a typed error naming the file, no SIGBUS (the direct
    // path never touches the mapping's missing pages).
    let current = try NPYFile.map(path, mode: .readOnly)
    let reader = try #require(
      FileReader.open(current.storage, at: current.storage.unsafeBaseAddress, count: values.count, mode: .always))
    #expect(truncate(path.string, 200) == 0)
    let memory = try DeviceBuffer(backend: DirectTransferTests.sim, byteCount: values.count)
    let engine = TransferEngine(backend: DirectTransferTests.sim, path: .staged)
    #expect {
      try engine.upload(
        to: memory.address, from: current.storage.unsafeBaseAddress, count: values.count, reader: reader)
    } throws: { error in
      guard let error = error as? TensorIOError, case .format(.truncatedData) = error.reason else { return false }
      return error.path == path.string
    }
    // The pool's buffers and streams stay usable.
    let source = try NDArray(zeros: [values.count], dtype: .uint8)
    try memory.upload(try #require(source.unsafeContiguousBytes?.baseAddress), count: values.count, path: .staged)
    #expect(try DirectTransferTests.contents(memory) == [UInt8](repeating: 0, count: values.count))
  }

  @Test(
    "device -> .npy through every route (direct writes, writers, mapped, ring) is byte-identical, headers past a page too"
  )
  func savesThroughEveryRoute() throws {
    // Where there is no direct I/O, direct writes fall back to writers (asserted below).
    let folder = try DirectTransferTests.directIOFolder()
    let dir = try folder ?? Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let direct = folder != nil
    var arrays: [(String, NDArray)] = []
    // Over 1 MiB, not a multiple of a page or chunk, C and Fortran order.
    let c = try NDArray(zeros: [1001, 333], dtype: .float64)
    let f = try NDArray(zeros: [333, 1001], dtype: .float32, order: .fortran)
    for i in stride(from: 0, to: 333_333, by: 17) {
      try c.setValue(Double(i) / 7, at: [i / 333, i % 333])
      try f.setValue(Float(i) / 3, at: [i % 333, i / 333])
    }
    arrays += [("c", c), ("f", f)]
    if Support.numpyAvailable {
      // A structured dtype whose header is longer than a page: the data starts past it.
      let wide = dir.appendingPathComponent("wide.npy").path
      try Support.python(
        """
        import sys, numpy as np
        a = np.zeros(1100, dtype=[('field_%03d' % i, '<f4') for i in range(300)])
        a['field_007'] = np.arange(1100); a['field_299'] = -np.arange(1100)
        np.save(sys.argv[1], a)
        """, wide)
      let array = try NPYFile.load(from: FilePath(wide))
      #expect(try NPYHeader.forSaving(dtype: array.dtype, shape: array.shape, order: .c).bytes.count > 4096)
      arrays.append(("wide", array))
    }
    for (name, array) in arrays {
      let reference = FilePath(dir.appendingPathComponent("\(name).ref.npy").path)
      try NPYFile.save(array, to: reference, durability: .unsynced)
      let expected = try Data(contentsOf: URL(fileURLWithPath: reference.string))
      let device = try Tensor(array).to(.sim(2))
      for route in [SaveRoute.directWrites, .writers, .mapped, .ring] {
        for durability in [Durability.synced, .unsynced] {
          let out = FilePath(dir.appendingPathComponent("\(name).out.npy").path)
          var reported: [Int] = []
          let taken = try NPYFile.save(
            device, to: out, durability: durability, transfer: .automatic, route: route,
            progress: { reported.append($0) })
          #expect(taken == route || (!direct && route == .directWrites && taken == .writers), "\(name) \(route)")
          let written = try Data(contentsOf: URL(fileURLWithPath: out.string))
          #expect(written == expected, "\(name) \(route) \(durability): \(written.count) vs \(expected.count) bytes")
          #expect(reported.last == array.byteCount, "\(name) \(route)")
        }
      }
    }
    // Nothing left beside the outputs.
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
    #expect(left.isEmpty, "\(left)")
  }

  @Test("a failing direct write stops the download, leaves no file, and the ring stays usable")
  func failingWrites() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let count = 6 * DirectTransferTests.chunk + 77
    let source = try NDArray(zeros: [count], dtype: .uint8)
    for i in stride(from: 0, to: count, by: 13) { try source.setValue(UInt8(i % 251), at: [i]) }
    let device = try Tensor(source).to(.sim(2))
    guard case .device(let memory) = device.buffer else { throw CancellationError() }
    let out = FilePath(dir.appendingPathComponent("out.npy").path)
    #expect(throws: TensorIOError.self) {
      try AtomicFile.write(to: out, durability: .unsynced) { (file: AtomicFile) throws(TensorIOError) in
        // A descriptor that takes no writes: every chunk's write fails (EBADF).
        let sink = FileSink(file: file, direct: FileDescriptor(rawValue: -1), dataStart: 0, head: [])
        try memory.download(count: count, path: .automatic, to: sink)
      }
    }
    #expect(!FileManager.default.fileExists(atPath: out.string))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    // The pooled slots went back usable: a save through the workers is intact.
    try NPYFile.save(device, to: out, durability: .unsynced, transfer: .automatic, route: .writers, progress: nil)
    let back = try NPYFile.load(from: out)
    #expect(back.shape == [count])
    #expect(try back.elements(as: UInt8.self) == source.elements(as: UInt8.self))
  }
}
