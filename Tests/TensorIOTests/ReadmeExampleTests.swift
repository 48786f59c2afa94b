import Foundation
import SystemPackage
import TensorIO
import Testing

/// The README's library example, so that it keeps compiling and stays true.
@Suite("README example")
struct ReadmeExampleTests {
  @Test("load, read elements, convert and save")
  func example() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    _ = FileManager.default.changeCurrentDirectoryPath(Support.root.path)
    let out = FilePath(dir.appendingPathComponent("big-endian.npy").path)

    // --- README example ---
    let weights = try NDArray(contentsOf: "Fixtures/valid/order_f_f4_2d.npy")
    print(weights.dtype.name, weights.shape, weights.isFortranContiguous)  // float32 [3, 4] true
    print(try weights.value(at: [2, 1], as: Float.self))  // -46.802067
    let values = try weights.elements(as: Float.self)  // C order, whatever the file's order
    print(values.prefix(2))  // [-68.74988, 52.55509]
    try weights.copy(order: .c, byteOrder: .big).write(to: out)
    print(try NPYFile.info(at: out).header.dtype)  // '>f4'
    // --- end ---

    #expect(weights.dtype == .float32 && weights.shape == [3, 4] && weights.isFortranContiguous)
    #expect(try weights.value(at: [2, 1], as: Float.self) == -46.802067)
    #expect(Array(values.prefix(2)) == [-68.74988, 52.55509])
    #expect(try NPYFile.info(at: out).header.dtype.description == "'>f4'")
  }
}
