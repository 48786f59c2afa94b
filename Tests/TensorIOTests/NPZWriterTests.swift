import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("npz writer")
struct NPZWriterTests {
  /// A few arrays of different dtypes and layouts.
  static func sampleArrays() throws -> [(name: String, array: NDArray)] {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 99)
    func random(_ dtype: DType, _ shape: [Int], order: MemoryOrder = .c) throws -> NDArray {
      let a = try NDArray(zeros: shape, dtype: dtype, order: order)
      let p = a.storage.mutableBase
      for i in 0..<a.byteCount {
        let byte = UInt8(truncatingIfNeeded: rng.next())
        p.storeBytes(of: dtype.kind == .bool ? byte & 1 : byte, toByteOffset: i, as: UInt8.self)
      }
      return a
    }
    return [
      ("a", try random(.float32, [3, 4])),
      ("big_endian", try random(DType(.int(bytes: 8), byteOrder: .big), [5])),
      ("fortran", try random(.float64, [3, 5], order: .fortran)),
      ("scalar", try random(.complex64, [])),
      ("empty", try random(.int16, [0, 4])),
      ("flags", try random(.bool, [7])),
      ("dir/sub.name", try random(.uint16, [2, 2])),
      ("ünïcode", try random(.float16, [3])),
      ("large", try random(.float32, [700_000])),  // a deflate chunk of its own (KernelTests cover many)
      ("strided", try random(.int32, [4, 6]).slice(axis: 1, 0..<6, step: 2)),
    ]
  }

  @Test("round trip through our reader, stored and deflated, with and without ZIP64 records", arguments: [false, true])
  func roundTrip(zip64: Bool) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arrays = try Self.sampleArrays()
    for compression in [NPZArchive.Compression.stored, .deflate(level: -1), .deflate(level: 1)] {
      let path = FilePath(dir.appendingPathComponent("x.npz").path)
      try NPZArchive.write(arrays, to: path, compression: compression, durability: .unsynced, forceZip64: zip64)
      let npz = try NPZArchive(path: path)
      #expect(npz.members.map(\.key) == arrays.map(\.name))
      for (name, array) in arrays {
        let back = try npz.load(name)
        #expect(back.shape == array.shape && back.dtype == array.dtype, "\(name)")
        #expect(try Support.canonicalBytes(back) == Support.canonicalBytes(array), "\(name)")
        let info = try npz.info(name)
        if compression == .stored {
          #expect(info.dataOffset.map { $0 % 64 == 0 } == true, "\(name) data not 64-byte aligned")
          #expect(info.isMappable)
          let mapped = try npz.mapOrLoad(name)
          #expect(mapped.storage.mappedFile != nil)
          #expect(try Support.canonicalBytes(mapped) == Support.canonicalBytes(array))
        } else {
          #expect(!info.isMappable)
        }
      }
      try npz.verify()
    }
  }

  @Test("progress reports every member's data bytes, in order, ending at the total", arguments: [false, true])
  func progress(compressed: Bool) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arrays = try Self.sampleArrays()
    let plans = arrays.map {
      NPZArchive.MemberToWrite(name: $0.name, array: $0.array, dtype: .float64, order: .c)
    }
    var reports: [Int] = []
    try NPZArchive.write(
      plans, to: FilePath(dir.appendingPathComponent("p.npz").path),
      compression: compressed ? .deflate(level: 1) : .stored, durability: .unsynced, progress: { reports.append($0) })
    let total = arrays.reduce(0) { $0 + $1.array.count * 8 }
    #expect(reports.last == total)
    #expect(reports == reports.sorted())
    #expect(reports.count >= arrays.filter { $0.array.count > 0 }.count)
  }

  @Test("update, extract and append report their bytes, ending at the work they announce")
  func editProgress() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = FilePath(dir.appendingPathComponent("e.npz").path)
    let arrays = try Self.sampleArrays()
    let plans = arrays.map { NPZArchive.MemberToWrite(name: $0.name, array: $0.array, dtype: .float64, order: .c) }
    try NPZArchive.write(plans, to: path, compression: .deflate(level: 1), durability: .unsynced)
    let removed = try #require(plans.first?.name)
    let total = NPZArchive.updateWork(path, adding: [], removing: [removed])
    var reports: [Int] = []
    try NPZArchive.update(path, adding: [], removing: [removed], durability: .unsynced) { reports.append($0) }
    #expect(total > 0 && reports.last == total && reports == reports.sorted())
    let npz = try NPZArchive(path: path)
    reports = []
    try npz.extract(into: FilePath(dir.appendingPathComponent("out").path), durability: .unsynced) {
      reports.append($0)
    }
    #expect(reports.last == npz.members.reduce(0) { $0 + ((try? npz.info($1.key).header.dataBytes) ?? 0) })
    let grown = FilePath(dir.appendingPathComponent("g.npy").path)
    try NPYFile.save(try NDArray([1.0, 2.0], shape: [2]), to: grown)
    reports = []
    try NPYFile.append([try NDArray([3.0, 4.0, 5.0], shape: [3])], to: grown, durability: .unsynced) {
      reports.append($0)
    }
    #expect(reports.last == 24)
  }

  @Test("the empty archive is numpy's 22 bytes")
  func emptyArchive() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("e.npz").path
    try NPZArchive.write([], to: FilePath(path))
    let ours = try Data(contentsOf: URL(fileURLWithPath: path))
    let numpys = try Data(contentsOf: Support.fixtures.appendingPathComponent("npz/valid/empty_archive.npz"))
    #expect(ours == numpys)
    #expect(try NPZArchive(path: FilePath(path)).members.isEmpty)
  }

  @Test("bad names are refused and nothing is written: every name the reader refuses, the writer refuses")
  func badNames() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = try NDArray([1] as [Float], shape: [1])
    let path = FilePath(dir.appendingPathComponent("n.npz").path)
    for names in [["../x"], ["/abs"], ["\\abs"], ["C:x"], ["a\\..\\..\\b"], ["a", "a"], [""]] {
      #expect("\(names)") {
        try NPZArchive.write(names.map { ($0, a) }, to: path)
      } throws: { error in
        (error as? TensorIOError)?.path == path.string
      }
      #expect(throws: TensorIOError.self, "\(names)") {
        try NPZArchive.update(path, adding: names.map { .init(name: $0, array: a, dtype: a.dtype, order: .c) })
      }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    // Names the reader accepts are written and read back under the same key.
    let fine = ["a/b", "x.npy", "dots..in..name", "ünïcode"]
    try NPZArchive.write(fine.map { ($0, a) }, to: path)
    #expect(try NPZArchive(path: path).members.map(\.key) == fine)
  }

  @Test(
    "numpy reads every archive we write", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"),
    arguments: [false, true])
  func numpyReads(zip64: Bool) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let arrays = try Self.sampleArrays()
    var list = ""
    var expected = 0
    for (index, compression) in [NPZArchive.Compression.stored, .deflate(level: -1), .deflate(level: 9)]
      .enumerated()
    {
      let archive = "a\(index).npz"
      try NPZArchive.write(
        arrays, to: FilePath(dir.appendingPathComponent(archive).path), compression: compression,
        durability: .unsynced, forceZip64: zip64)
      for (name, array) in arrays {
        let bin = dir.appendingPathComponent("\(archive).\(name.replacingOccurrences(of: "/", with: "_")).bin")
        try Data(try Support.canonicalBytes(array)).write(to: bin)
        let fortran = array.isFortranContiguous && !array.isCContiguous
        list +=
          "\(archive)\t\(name)\t\(array.dtype)\t\(array.shape.map(String.init).joined(separator: ","))\t\(fortran ? "F" : "C")\n"
        expected += 1
      }
    }
    try list.write(to: dir.appendingPathComponent("npz.txt"), atomically: true, encoding: .utf8)
    let result = try Support.run(["python3", NumpyCrossCheckTests.script, "npz-read", dir.path])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.last == "checked \(expected)")
    #expect(lines.dropLast().isEmpty, "\(lines.dropLast().joined(separator: "\n"))")
  }

  @Test(
    "parallel deflate at the default level is at most 1% larger than np.savez_compressed, and numpy reads it",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func compressedSizeMatchesNumpy() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Support.numpyWrites("weights", into: dir)
    let weights = try NDArray(contentsOf: FilePath(dir.appendingPathComponent("w.npy").path))
    let ours = dir.appendingPathComponent("ours.npz")
    // 12 MiB: twelve deflate chunks, compressed concurrently and concatenated.
    try NPZArchive.write(
      [("a", weights)], to: FilePath(ours.path), compression: .deflate(level: -1), durability: .unsynced)
    func size(_ name: String) throws -> Double {
      let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)
      return Double(try #require(attributes[.size] as? Int))
    }
    let ratio = try size("ours.npz") / size("w.npz")
    #expect(ratio < 1.01 && ratio > 0.9, "ours / numpy's size = \(ratio)")
    let check = try Support.run([
      "python3", "-c",
      "import sys, numpy as np; a = np.load(sys.argv[1]); b = np.load(sys.argv[2])['a']; "
        + "assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all(); print('same')",
      dir.appendingPathComponent("w.npy").path, ours.path,
    ])
    #expect(check.stdout == "same\n", "\(check.stderr)")
  }
}
