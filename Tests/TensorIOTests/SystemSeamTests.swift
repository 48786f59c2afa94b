import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Tests that watch the system calls (through `SystemCallSeam`) rather than trusting
/// what the page cache makes look right.
@Suite("system calls seen through the seam")
struct SystemSeamTests {
  func makeFile(count: Int) throws -> (URL, FilePath) {
    let dir = try Support.temporaryDirectory()
    let path = FilePath(dir.appendingPathComponent("s.npy").path)
    let values = (0..<count).map { Float($0) }
    try NDArray(values, shape: [count]).write(to: path, durability: .unsynced)
    return (dir, path)
  }

  @Test("flush() of an r+ mapping runs msync over the mapping; r and c mappings sync nothing")
  func flushRunsMsync() throws {
    let (dir, path) = try makeFile(count: 5000)
    defer { try? FileManager.default.removeItem(at: dir) }
    for mode in MapMode.allCases {
      let array = try NDArray(mapping: path, mode: mode)
      if mode != .readOnly { try array.setValue(Float(-1), at: [7]) }
      let seam = SystemCallSeam()
      try SystemCallSeam.$current.withValue(seam) { try array.storage.flush() }
      let synced = seam.log.withLock { $0.synced }
      if mode == .readWrite {
        let base = UInt(bitPattern: array.storage.unsafeBaseAddress)
        // The mapping starts at the file's first byte, before the data.
        #expect(synced.contains { $0.start <= base && base + 20_000 <= $0.start + UInt($0.length) }, "\(synced)")
      } else {
        #expect(synced.isEmpty, "\(mode): \(synced)")
      }
    }
  }

  @Test("mapping and info read the header only; verify reads every byte")
  func mappingReadsHeaderOnly() throws {
    let (dir, path) = try makeFile(count: 1 << 20)
    defer { try? FileManager.default.removeItem(at: dir) }
    for open in [{ _ = try NDArray(mapping: path) }, { _ = try NPYFile.info(at: path) }] as [() throws -> Void] {
      let seam = SystemCallSeam()
      try SystemCallSeam.$current.withValue(seam) { try open() }
      let read = seam.log.withLock { $0.bytesRead }
      #expect(read > 0 && read <= 4096, "read \(read) bytes to open a 4 MiB file")
    }
    let seam = SystemCallSeam()
    _ = try SystemCallSeam.$current.withValue(seam) { try NPYFile.verify(at: path) }
    #expect(seam.log.withLock { $0.bytesRead } >= 4 << 20)
  }

  @Test("short reads and EINTR give the same results: header, verify, npz members")
  func shortReadsAndInterruptions() throws {
    let (dir, path) = try makeFile(count: 3001)
    defer { try? FileManager.default.removeItem(at: dir) }
    let npz = FilePath(dir.appendingPathComponent("x.npz").path)
    let arrays = try NPZWriterTests.sampleArrays().prefix(4)
    try NPZArchive.write(Array(arrays), to: npz, compression: .deflate(level: 1), durability: .unsynced)
    let seam = SystemCallSeam(maxRead: 7, interruptions: 25)
    try SystemCallSeam.$current.withValue(seam) {
      let info = try NPYFile.verify(at: path)
      #expect(info.header.shape == [3001])
      let archive = try NPZArchive(path: npz)
      try archive.verify()
      for (name, array) in arrays {
        #expect(try Support.canonicalBytes(archive.load(name)) == Support.canonicalBytes(array), "\(name)")
      }
    }
    let log = seam.log.withLock { $0 }
    #expect(log.interrupted == 25)
    #expect(log.reads > log.bytesRead / 7)
  }

  @Test("a full disk (ENOSPC) fails the write with the reason, keeps the old file, leaves no temporary")
  func diskFull() throws {
    let (dir, path) = try makeFile(count: 10)
    defer { try? FileManager.default.removeItem(at: dir) }
    let before = try Data(contentsOf: URL(fileURLWithPath: path.string))
    let big = try NDArray(zeros: [100_000], dtype: .float64)
    let seam = SystemCallSeam(writeFailure: (after: 4096, errno: .noSpace))
    do {
      try SystemCallSeam.$current.withValue(seam) { try big.write(to: path) }
      Issue.record("the write succeeded on a full disk")
    } catch let error as TensorIOError {
      guard case .system(_, let errno) = error.reason else {
        Issue.record("\(error)")
        return
      }
      #expect(errno == .noSpace)
      #expect(error.path == path.string)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path.string)) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["s.npy"])
  }

  @Test("a snapshot that separates keeps the storage it borrowed alive while it lives")
  func separatedSnapshotHoldsItsSource() throws {
    var root: Storage? = try Storage(zeroedByteCount: 64)
    weak let watched = root
    let snapshot = try root!.copyOnWriteSnapshot()
    root = nil
    // A reader may still hold the address it fetched before the write separates.
    let address = snapshot.unsafeBaseAddress
    try snapshot.withUnsafeMutableBytes { $0.storeBytes(of: 1, as: UInt8.self) }
    #expect(snapshot.unsafeBaseAddress != address)
    #expect(watched != nil, "the borrowed storage was released while a snapshot could still be read from it")
  }
}
