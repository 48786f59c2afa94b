import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Deflated members we write carry restart points in their central directory entry, and
/// our reader inflates the stretches between them on all cores; a restart index that
/// lies must never change what is read.
@Suite("npz restart points")
struct NPZRestartTests {
  /// 12 MiB (by default) of float32 that compress like weights: three restart points
  /// (every 4 MiB of data), so four stretches (the first holds only the npy header).
  static func weights(count: Int = 3 << 20) throws -> NDArray {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 5)
    let array = try NDArray(zeros: [count], dtype: .float32)
    let values = array.storage.mutableBase.assumingMemoryBound(to: Float.self)
    for i in 0..<count {
      // A sum of four 10-bit uniforms, rounded to 1/64: small values, some redundancy.
      let r = rng.next()
      let sum = (r & 1023) + (r >> 10 & 1023) + (r >> 20 & 1023) + (r >> 30 & 1023)
      values[i] = ((Float(sum) / 1024 - 2) * 64).rounded() / 64
    }
    return array
  }

  /// Writes `array` deflated and returns the archive's path and its member entry.
  static func write(_ array: NDArray, in dir: URL) throws -> (FilePath, ZipEntry) {
    let path = FilePath(dir.appendingPathComponent("w.npz").path)
    try NPZArchive.write([("a", array)], to: path, compression: .deflate(level: 1), durability: .unsynced)
    let entry = try #require(try ZipArchive(path: path).entries.first)
    return (path, entry)
  }

  /// Where the restart extra field's pairs start in `archive` (the field: ID 0x7454,
  /// its length, then `points` pairs of 8-byte offsets, uncompressed then compressed).
  static func restartField(in archive: Data, points: Int) throws -> Int {
    let marker = Data([0x54, 0x74, UInt8(points * 16), 0])
    return try #require(archive.range(of: marker, options: .backwards)).upperBound
  }

  /// Inflates member `a` of `path` through its restart points only (no fallback):
  /// whether that succeeded, and the bytes.
  static func inflateInParallel(_ path: FilePath) throws -> (Bool, [UInt8]) {
    let archive = try ZipArchive(path: path)
    let entry = try #require(archive.entries.first)
    let reader = try DeflatedMember(
      archive: archive, entry: entry, start: try archive.dataOffset(of: entry, spec: "a"), spec: "a")
    let header = try reader.readHeader(maxHeaderSize: 10_000)
    guard let stretches = reader.stretches(for: header) else { return (false, []) }
    let storage = try Storage(zeroedByteCount: header.dataBytes)
    let ok = reader.inflateInParallel(stretches, header: header, into: storage)
    return (ok, Array(UnsafeRawBufferPointer(start: storage.mutableBase, count: header.dataBytes)))
  }

  @Test("the writer records increasing restart points inside the data, and they inflate in parallel")
  func recordedAndUsed() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let array = try Self.weights()
    let (path, entry) = try Self.write(array, in: dir)
    let dataStart = entry.uncompressedSize - array.byteCount
    #expect(entry.restarts.map(\.uncompressedOffset) == [0, 4 << 20, 8 << 20].map { dataStart + $0 })
    #expect(zip(entry.restarts, entry.restarts.dropFirst()).allSatisfy { $0.compressedOffset < $1.compressedOffset })
    let (parallel, bytes) = try Self.inflateInParallel(path)
    #expect(parallel)
    #expect(bytes == Array(try #require(array.unsafeContiguousBytes)))
    let loaded = try NPZArchive(path: path).load("a")
    #expect(Array(try #require(loaded.unsafeContiguousBytes)) == bytes)
  }

  @Test("a restart index that lies is caught: the member still loads right, in one pass")
  func lyingIndex() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let array = try Self.weights()
    let (path, entry) = try Self.write(array, in: dir)
    var file = try Data(contentsOf: URL(fileURLWithPath: path.string))
    let field = try Self.restartField(in: file, points: entry.restarts.count)
    let secondCompressed = field + 16 + 8
    for shift: UInt8 in [1, 7] {
      var lying = file
      lying[secondCompressed] &+= shift
      try lying.write(to: URL(fileURLWithPath: path.string))
      let archive = try ZipArchive(path: path)
      #expect(archive.entries.first?.restarts.count == 3)
      #expect(try Self.inflateInParallel(path).0 == false, "shift \(shift)")
      let loaded = try NPZArchive(path: path).load("a")
      #expect(Array(try #require(loaded.unsafeContiguousBytes)) == Array(try #require(array.unsafeContiguousBytes)))
    }
    // A malformed field (not whole pairs) is ignored, not an error.
    file[field - 2] = UInt8(entry.restarts.count * 16 - 1)
    try file.write(to: URL(fileURLWithPath: path.string))
    let archive = try ZipArchive(path: path)
    #expect(archive.entries.first?.restarts.isEmpty == true)
  }

  @Test("random mutations of an archive with restart points: the right bytes or a typed error, never a trap")
  func mutations() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let array = try Self.weights(count: 1_200_000)  // 4.6 MiB: restart points at 0 and 4 MiB of data
    let expected = Array(try #require(array.unsafeContiguousBytes))
    let (path, entry) = try Self.write(array, in: dir)
    #expect(entry.restarts.count == 2)
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path.string)))
    let field = try Self.restartField(in: Data(original), points: 2)
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 77)
    var (loaded, refused) = (0, 0)
    for round in 0..<120 {
      var bytes = original
      switch round % 3 {
      case 0:  // the restart index: any values at all
        for _ in 0..<(1 + Int(rng.next() % 4)) {
          bytes[field + Int(rng.next() % 32)] = UInt8(truncatingIfNeeded: rng.next())
        }
      case 1:  // the compressed data
        bytes[Int(rng.next() % UInt64(field))] = UInt8(truncatingIfNeeded: rng.next())
      default:  // the index and the data
        bytes[field + Int(rng.next() % 32)] = UInt8(truncatingIfNeeded: rng.next())
        bytes[Int(rng.next() % UInt64(field))] ^= UInt8(1 + rng.next() % 255)
      }
      try Data(bytes).write(to: URL(fileURLWithPath: path.string))
      switch Result(catching: { () throws(TensorIOError) in try NPZArchive(path: path).load("a") }) {
      case .success(let array):
        #expect(array.unsafeContiguousBytes.map(Array.init) == expected, "round \(round)")
        loaded += 1
      case .failure(let error):
        #expect(error.path?.hasPrefix(path.string) == true, "\(error)")
        refused += 1
      }
    }
    #expect(loaded > 0 && refused > 0)
  }

  @Test("more restart points than an extra field holds are thinned evenly, not dropped")
  func thinning() {
    let points = (0..<10_001).map { DeflateRestart(uncompressedOffset: 100 + $0 * 10, compressedOffset: 1 + $0 * 3) }
    let kept = ZipWriter.thinned(points)
    #expect(kept.count <= ZipWriter.maxRestarts && kept.count > ZipWriter.maxRestarts / 2)
    #expect(kept.first == points.first)
    #expect(Set(kept).isSubset(of: Set(points)))
    #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.uncompressedOffset < $1.uncompressedOffset })
    #expect(ZipWriter.thinned(Array(points.prefix(4000))).count == 4000)
  }
}
