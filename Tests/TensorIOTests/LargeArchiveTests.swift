import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// A member over 4 GiB (ZIP64 in every record), written by us and read by us and by
/// numpy. Opt-in (TENSORTOOL_BIG_TESTS=1): it writes about 10 GB and needs as much free
/// memory as the array's size twice over.
@Suite(
  "archives over 4 GiB",
  .enabled(if: ProcessInfo.processInfo.environment["TENSORTOOL_BIG_TESTS"] == "1", "set TENSORTOOL_BIG_TESTS=1 to run"))
struct LargeArchiveTests {
  @Test("a 4.5 GiB member, stored and deflated", arguments: [NPZArchive.Compression.stored, .deflate(level: 1)])
  func bigMember(compression: NPZArchive.Compression) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let count = (4 << 30) / 4 + 128 << 20  // 4.5 GiB of float32
    let array = try NDArray(zeros: [count], dtype: .float32)
    for index in [0, 1, count / 2, count - 1] { try array.setValue(Float(index % 1000) + 0.5, at: [index]) }
    let path = dir.appendingPathComponent("big.npz").path
    try NPZArchive.write([("a", array)], to: FilePath(path), compression: compression, durability: .unsynced)
    let npz = try NPZArchive(path: FilePath(path))
    #expect(npz.members.first?.uncompressedBytes ?? 0 > 1 << 32)
    let back = try npz.load("a")
    #expect(back.count == count)
    for index in [0, 1, count / 2, count - 1] {
      #expect(try back.value(at: [index], as: Float.self) == Float(index % 1000) + 0.5)
    }
    if Support.numpyAvailable {
      let script = """
        import numpy as np
        with np.load('\(path)') as z:
            a = z['a']
        idx = [0, 1, \(count / 2), \(count - 1)]
        print(a.shape[0], a.dtype, [float(a[i]) for i in idx], float(a.sum()))
        """
      let result = try Support.run(["python3", "-c", script])
      let expectedSum = [0, 1, count / 2, count - 1].map { Double($0 % 1000) + 0.5 }.reduce(0, +)
      #expect(result.status == 0, "\(result.stderr)")
      let idx = [0, 1, count / 2, count - 1].map { "\(Double($0 % 1000) + 0.5)" }.joined(separator: ", ")
      #expect(result.stdout.hasPrefix("\(count) float32 [\(idx)] \(expectedSum)"), "\(result.stdout)")
    }
  }
}

/// Over 4 GiB through the transfer engine on sim:1: a mapped file up to the device, then
/// streamed from the device into a new file, compared byte for byte. Opt-in
/// (TENSORTOOL_BIG_TESTS=1): it writes about 10 GB and needs 5 GB of memory.
@Suite(
  "device transfers over 4 GiB",
  .enabled(if: ProcessInfo.processInfo.environment["TENSORTOOL_BIG_TESTS"] == "1", "set TENSORTOOL_BIG_TESTS=1 to run"))
struct LargeTransferTests {
  @Test("a 4.5 GiB file -> sim:1 -> file, identical")
  func bigRoundTrip() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let count = (4 << 30) / 4 + 128 << 20  // 4.5 GiB of float32
    let source = FilePath(dir.appendingPathComponent("big.npy").path)
    do {
      let array = try NDArray(zeros: [count], dtype: .float32)
      for index in stride(from: 0, to: count, by: 4099) { try array.setValue(Float(index), at: [index]) }
      try NPYFile.save(array, to: source, durability: .unsynced)
    }
    let mapped = Tensor(try NPYFile.map(source))
    let device = try mapped.to(.sim(1))
    let back = FilePath(dir.appendingPathComponent("back.npy").path)
    try NPYFile.save(device, to: back, durability: .unsynced)
    let a = try NPYFile.map(source)
    let b = try NPYFile.map(back)
    #expect(a.byteCount == b.byteCount && a.byteCount > 1 << 32)
    guard let x = a.unsafeContiguousBytes?.baseAddress, let y = b.unsafeContiguousBytes?.baseAddress else {
      Issue.record("not contiguous")
      return
    }
    #expect(memcmp(x, y, a.byteCount) == 0)
  }
}
