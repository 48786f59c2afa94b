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

@Suite("README npz example")
struct ReadmeNPZExampleTests {
  @Test("open, list, load, map and write an archive")
  func example() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = FilePath(dir.appendingPathComponent("model.npz").path)
    let out = FilePath(dir.appendingPathComponent("out.npz").path)
    try NPZArchive.write(
      [
        ("layer1/weight", try NDArray([1, 2, 3, 4] as [Float], shape: [2, 2])),
        ("embeddings", try NDArray([5, 6] as [Double], shape: [2])),
      ], to: model)

    // --- README example (paths made temporary) ---
    let npz = try NPZArchive(path: model)
    for member in npz.members { print(member.key, member.compression, member.uncompressedBytes) }
    let w = try npz["layer1/weight"]
    let m = try npz.mapOrLoad("embeddings", mode: .copyOnWrite)
    try NPZArchive.write([("a", w), ("b", m)], to: out, compression: .deflate)
    // --- end ---

    #expect(npz.members.map(\.key) == ["layer1/weight", "embeddings"])
    #expect(try w.elements(as: Float.self) == [1, 2, 3, 4])
    #expect(m.storage.mappedFile != nil)
    let back = try NPZArchive(path: out)
    #expect(back.members.map(\.compression) == [.deflate, .deflate])
    #expect(try back["b"].elements(as: Double.self) == [5, 6])
  }
}
