import Foundation
import SystemPackage
import TensorIO
import Testing

/// The README's "PyTorch <-> NumPy rules" section: the seed's scenarios in Swift, with
/// the output they print.
@Suite("README seed scenarios")
struct ReadmeSeedTests {
  @Test("the seed's scenarios print what the README says")
  func scenarios() throws {
    var printed: [String] = []
    func show(_ value: Any) { printed.append("\(value)") }

    // CPU tensor: numpy() shares storage
    let a = try Tensor.ones([1, 2])
    let na = try a.numpy()
    try na.setValue(Float(10), at: [0, 0])
    show(try na.elements(as: Float.self))  // [10.0, 1.0]
    show(try a.elements(as: Float.self))  // [10.0, 1.0]

    // copy() makes separate storage
    let b = try Tensor.ones([1, 2])
    let nb = try b.numpy()
    let nbc = try nb.copy()
    try nbc.setValue(Float(10), at: [0, 0])
    show(try nbc.elements(as: Float.self))  // [10.0, 1.0]
    show(try nb.elements(as: Float.self))  // [1.0, 1.0]
    show(try b.elements(as: Float.self))  // [1.0, 1.0]

    // requiresGrad: detach() first
    let c = try Tensor.ones([1, 2], requiresGrad: true)
    do { _ = try c.numpy() } catch { show(error) }
    // Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.
    let nc = try c.detach().numpy()
    try nc.setValue(Float(10), at: [0, 0])
    show(try c.elements(as: Float.self))  // [10.0, 1.0]

    // a device tensor: copy it to the host first (.cuda(0) on a GPU machine)
    let d = try Tensor.ones([1, 2], device: .sim(0))
    do { _ = try d.numpy() } catch { show(error) }
    // can't convert sim:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.
    let nd = try d.to(.cpu).numpy()
    try nd.setValue(Float(10), at: [0, 0])
    show(try nd.elements(as: Float.self))  // [10.0, 1.0]
    show(try d.cpu().elements(as: Float.self))  // [1.0, 1.0]

    // a device tensor that requires grad: detach, then copy
    let e = try Tensor.ones([1, 2], device: .sim(0), requiresGrad: true)
    let ne = try e.detach().to(.cpu).numpy()
    try ne.setValue(Float(10), at: [0, 0])
    show(try ne.elements(as: Float.self))  // [10.0, 1.0]
    show(try e.cpu().elements(as: Float.self))  // [1.0, 1.0]

    #expect(
      printed == [
        "[10.0, 1.0]", "[10.0, 1.0]",
        "[10.0, 1.0]", "[1.0, 1.0]", "[1.0, 1.0]",
        "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
        "[10.0, 1.0]",
        "can't convert sim:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
        "[10.0, 1.0]", "[1.0, 1.0]",
        "[10.0, 1.0]", "[1.0, 1.0]",
      ])
  }

  @Test("mapped files and copy-on-write export, as the README shows them")
  func mapping() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("weights.npy").path
    try NDArray([1, 2, 3, 4] as [Float], shape: [2, 2]).write(to: FilePath(path))

    let weights = try Tensor(mapping: path, mode: .readWrite)  // numpy's mmap_mode="r+"
    let snapshot = try weights.numpy(.copyOnWrite)  // nothing copied yet
    try weights.setValue(Float(0), at: [0, 0])  // the snapshot takes its copy first
    try weights.requireHostStorage().flush()  // msync: the write is in the file
    let readOnly = try Tensor(mapping: path)  // mmap_mode="r"
    #expect(try readOnly.elements(as: Float.self) == [0, 2, 3, 4])
    #expect(try snapshot.elements(as: Float.self) == [1, 2, 3, 4])
    #expect(throws: TensorIOError.self) { try readOnly.setValue(Float(9), at: [0, 0]) }
  }
}
