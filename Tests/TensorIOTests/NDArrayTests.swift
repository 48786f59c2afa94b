import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("host arrays: elements, sharing, copies, atomic save")
struct NDArrayTests {
  @Test("typed element access, negative indices and errors")
  func elements() throws {
    let a = try NDArray([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    #expect(try a.value(at: [1, 2], as: Float.self) == 6)
    #expect(try a.value(at: [-1, -3], as: Float.self) == 4)
    #expect(throws: TensorIOError.self) { try a.value(at: [2, 0], as: Float.self) }
    #expect(throws: TensorIOError.self) { try a.value(at: [0], as: Float.self) }
    #expect(throws: TensorIOError.self) { try a.value(at: [0, 0], as: Double.self) }
    let f = try a.copy(order: .fortran, byteOrder: .big)
    #expect(f.isFortranContiguous && !f.isCContiguous)
    #expect(try f.elements(as: Float.self) == [1, 2, 3, 4, 5, 6])
    #expect(try f.value(at: [0, 1], as: Float.self) == 2)
    // Raw bytes are big-endian and column-major: 1, 4, 2, 5, 3, 6.
    let raw = Array(f.unsafeContiguousBytes!)
    #expect(Array(raw[4..<8]) == [0x40, 0x80, 0, 0])
  }

  @Test("copies of an NDArray value share storage; copy() does not (the seed's scenarios)")
  func sharing() throws {
    let a = try NDArray([1, 1] as [Float], shape: [1, 2])
    let na = a
    try na.setValue(Float(10), at: [0, 0])
    #expect(try a.value(at: [0, 0], as: Float.self) == 10)
    #expect(a.sharesStorage(with: na))
    let nac = try na.copy()
    try nac.setValue(Float(20), at: [0, 0])
    #expect(try na.value(at: [0, 0], as: Float.self) == 10)
    #expect(try nac.value(at: [0, 0], as: Float.self) == 20)
    #expect(!nac.sharesStorage(with: na))
    #expect(nac.storage.unsafeBaseAddress != na.storage.unsafeBaseAddress)
  }

  @Test("save replaces the destination atomically and leaves no temporary")
  func atomicSave() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.npy")
    try Data("old contents".utf8).write(to: path)
    let a = try NDArray([1, 2, 3] as [Int16], shape: [3])
    try a.write(to: FilePath(path.path))
    #expect(try NDArray(contentsOf: FilePath(path.path)).elements(as: Int16.self) == [1, 2, 3])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.npy"])

    // A destination that cannot be replaced (a non-empty folder): the save fails, the
    // folder is untouched and no temporary is left behind.
    let blocker = dir.appendingPathComponent("blocked.npy")
    try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: blocker.appendingPathComponent("inside"))
    #expect {
      try a.write(to: FilePath(blocker.path))
    } throws: { error in (error as? TensorIOError)?.path == blocker.path }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["blocked.npy", "x.npy"])
    #expect(try Data(contentsOf: blocker.appendingPathComponent("inside")) == Data("keep".utf8))

    // A folder that does not exist.
    let missing = dir.appendingPathComponent("no/such/dir/y.npy").path
    #expect(throws: TensorIOError.self) { try a.write(to: FilePath(missing)) }
  }

  @Test("non-contiguous arrays are written in C order, as numpy does")
  func nonContiguousSave() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let base = try NDArray((0..<12).map { Int32($0) }, shape: [3, 4])
    // Every other column: shape (3, 2), strides (16, 8).
    let view = try NDArray(storage: base.storage, dtype: base.dtype, shape: [3, 2], strides: [16, 8])
    #expect(!view.isCContiguous && !view.isFortranContiguous)
    let path = FilePath(dir.appendingPathComponent("v.npy").path)
    try view.write(to: path)
    let back = try NDArray(contentsOf: path)
    #expect(back.isCContiguous)
    #expect(try back.elements(as: Int32.self) == [0, 2, 4, 6, 8, 10])
    #expect(throws: TensorIOError.self) {
      try NDArray(storage: base.storage, dtype: base.dtype, shape: [3, 5], strides: [16, 4])
    }
  }

  @Test("large arrays load through the parallel reader")
  func largeRoundTrip() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let count = 40 << 20 / 8 + 3  // 40 MiB and change: several 16 MiB pieces plus a tail
    let a = try NDArray(zeros: [count], dtype: .float64)
    let p = a.storage.mutableBase.assumingMemoryBound(to: Double.self)
    for i in 0..<count { p[i] = Double(i) * 0.5 }
    let path = FilePath(dir.appendingPathComponent("big.npy").path)
    try a.write(to: path)
    let b = try NDArray(contentsOf: path)
    #expect(memcmp(a.storage.unsafeBaseAddress, b.storage.unsafeBaseAddress, a.byteCount) == 0)
  }
}
