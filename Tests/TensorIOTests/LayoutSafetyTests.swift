import Foundation
import Testing

@testable import TensorIO

/// A layout a caller builds by hand can never reach outside its storage, or trap.
@Suite("layouts from outside are checked where they enter")
struct LayoutSafetyTests {
  @Test("withLayout refuses layouts past the storage, negative reaches and overflowing shapes")
  func hostileLayouts() throws {
    let array = try NDArray([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    let tensor = Tensor(array)
    let device = try Tensor(array).to(.sim(1))
    let hostile = [
      ArrayLayout(dtype: .float32, shape: [7], strides: [4]),  // one element too many
      ArrayLayout(dtype: .float32, shape: [2], strides: [4], byteOffset: 20),  // past the end
      ArrayLayout(dtype: .float32, shape: [2], strides: [-4]),  // before the start
      ArrayLayout(dtype: .float64, shape: [4], strides: [8]),  // wider elements
      ArrayLayout(dtype: .float32, shape: [Int.max / 2, 4], strides: [16, 4]),  // overflows
      ArrayLayout(dtype: .float32, shape: [-1], strides: [4]),  // negative dimension
      ArrayLayout(dtype: .float32, shape: [2, 3], strides: [12]),  // rank mismatch
    ]
    for layout in hostile {
      #expect(throws: TensorIOError.self, "\(layout)") { _ = try array.withLayout(layout) }
      #expect(throws: TensorIOError.self, "\(layout)") { _ = try tensor.withLayout(layout) }
      #expect(throws: TensorIOError.self, "\(layout)") { _ = try device.withLayout(layout) }
    }
    // count and byteCount of a layout no array accepts do not trap.
    #expect(ArrayLayout(dtype: .float32, shape: [Int.max / 2, 4], strides: [16, 4]).count == .max)
    #expect(ArrayLayout(dtype: .float64, shape: [Int.max / 4], strides: [8]).byteCount == .max)
    // A valid reinterpretation is a view sharing storage.
    let column = try array.withLayout(ArrayLayout(dtype: .float32, shape: [2], strides: [12], byteOffset: 8))
    #expect(try column.elements(as: Float.self) == [3, 6])
    #expect(column.sharesStorage(with: array))
    #expect(try array.transposed().elements(as: Float.self) == [1, 4, 2, 5, 3, 6])
  }
}

@Suite("paths as String or FilePath")
struct StringPathTests {
  @Test("every entry point takes a String variable as well as a FilePath")
  func stringPaths() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let npy: String = dir.appendingPathComponent("a.npy").path
    let npz: String = dir.appendingPathComponent("a.npz").path
    let array = try NDArray([1, 2, 3] as [Int32], shape: [3])
    try array.write(to: npy)
    #expect(try NDArray(contentsOf: npy).elements(as: Int32.self) == [1, 2, 3])
    #expect(try NDArray(mapping: npy).elements(as: Int32.self) == [1, 2, 3])
    #expect(try NPYFile.info(at: npy).header.shape == [3])
    #expect(try NPYFile.verify(at: npy).header.shape == [3])
    try NPZArchive.write([("a", array)], to: npz)
    try NPZArchive.update(npz, adding: [.init(name: "b", array: array, dtype: .int32, order: .c)])
    #expect(try NPZArchive(path: npz).members.map(\.key) == ["a", "b"])
    #expect(try Tensor(mapping: npy).elements(as: Int32.self) == [1, 2, 3])
  }
}
