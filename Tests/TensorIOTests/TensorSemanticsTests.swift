import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// The devices every semantics test runs on: cpu, sim:0, and cuda:0 when a GPU and
/// driver are present.
enum TestDevices {
  static let cudaAvailable: Bool = (try? CUDADriver.shared().device(0)) != nil
  static let all: [Device] = [.cpu, .sim(0)] + (cudaAvailable ? [.cuda(0)] : [])
  static let accelerators: [Device] = [.sim(0)] + (cudaAvailable ? [.cuda(0)] : [])
}

/// The rows of DESIGN.md's semantics table, written like the seed's scenarios:
/// `ones((1, 2))`, set `[0][0] = 10`, look at the other side.
@Suite("PyTorch <-> NumPy semantics")
struct TensorSemanticsTests {
  @Test("numpy() shares storage: writes through either side are seen by the other", arguments: [false, true])
  func numpyShares(viaTensorWrite: Bool) throws {
    let a = try Tensor.ones([1, 2])
    let na = try a.numpy()
    #expect(na.storage.unsafeBaseAddress == (try a.requireHostStorage()).unsafeBaseAddress)  // no bytes copied
    if viaTensorWrite {
      try a.setValue(Float(10), at: [0, 0])
      #expect(try na.elements(as: Float.self) == [10, 1])
    } else {
      try na.setValue(Float(10), at: [0, 0])
      #expect(try a.elements(as: Float.self) == [10, 1])
    }
  }

  @Test("copy() of the array separates storage")
  func copySeparates() throws {
    let a = try Tensor.ones([1, 2])
    let na = try a.numpy()
    let nac = try na.copy()
    try nac.setValue(Float(10), at: [0, 0])
    #expect(try nac.elements(as: Float.self) == [10, 1])
    #expect(try na.elements(as: Float.self) == [1, 1])
    #expect(try a.elements(as: Float.self) == [1, 1])
    #expect(nac.storage.unsafeBaseAddress != na.storage.unsafeBaseAddress)
  }

  @Test("requiresGrad: numpy() throws PyTorch's message; detach().numpy() shares", arguments: TestDevices.all)
  func requiresGrad(device: Device) throws {
    let a = try Tensor.ones([1, 2], device: device, requiresGrad: true)
    #expect(a.requiresGrad)
    #expect {
      try a.numpy()
    } throws: { error in
      (error as? TensorIOError)?.description
        == "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    }
    let host = device == .cpu ? a : try a.detach().cpu()
    let na = try host.detach().numpy()
    try na.setValue(Float(10), at: [0, 0])
    #expect(try host.elements(as: Float.self) == [10, 1])
    #expect(host.detach().sharesStorage(with: host))
    #expect(!host.detach().requiresGrad)
  }

  @Test("a device tensor refuses numpy() with PyTorch's message naming the device", arguments: TestDevices.accelerators)
  func deviceNumpy(device: Device) throws {
    let a = try Tensor.ones([1, 2], device: device)
    #expect(a.device == device)
    #expect {
      try a.numpy()
    } throws: { error in
      (error as? TensorIOError)?.description
        == "can't convert \(device) device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
    }
    #expect(throws: TensorIOError.self) { try a.value(at: [0, 0], as: Float.self) }
    #expect(throws: TensorIOError.self) { try a.setValue(Float(1), at: [0, 0]) }
    // With requires_grad too, the grad check comes first (as in PyTorch).
    #expect {
      try a.requiringGrad().numpy()
    } throws: { error in (error as? TensorIOError)?.reason == .access(.requiresGrad) }
  }

  @Test(
    "to(.cpu) of a device tensor is a host copy; changing it never changes the device tensor",
    arguments: TestDevices.accelerators)
  func deviceToHost(device: Device) throws {
    let a = try Tensor.ones([1, 2], device: device)
    let na = try a.to(.cpu).numpy()
    try na.setValue(Float(10), at: [0, 0])
    #expect(try na.elements(as: Float.self) == [10, 1])
    #expect(try a.cpu().elements(as: Float.self) == [1, 1])
    #expect(!a.sharesStorage(with: try a.cpu()))
  }

  @Test("to(device) copies; to the device it is already on returns it shared", arguments: TestDevices.accelerators)
  func toDevice(device: Device) throws {
    let host = try Tensor([1, 2, 3, 4, 5, 6] as [Int32], shape: [2, 3])
    let d = try host.to(device)
    #expect(d.device == device)
    #expect(try d.to(device).sharesStorage(with: d))
    try host.setValue(Int32(100), at: [0, 0])  // the device copy is never shared with the host
    #expect(try d.cpu().elements(as: Int32.self) == [1, 2, 3, 4, 5, 6])
    // A non-contiguous view is made contiguous on the way.
    let t = try host.transposed().to(device)
    #expect(t.shape == [3, 2])
    #expect(try t.cpu().elements(as: Int32.self) == [100, 4, 2, 5, 3, 6])
    // A view of a device tensor comes back as that view.
    let row = try d.select(1)
    #expect(try row.cpu().elements(as: Int32.self) == [4, 5, 6])
    let copied = try d.copy()
    #expect(!copied.sharesStorage(with: d))
    #expect(try copied.cpu().elements(as: Int32.self) == [1, 2, 3, 4, 5, 6])
  }

  @Test("a tensor made from an NDArray shares its storage (torch.from_numpy)")
  func fromNumpy() throws {
    let na = try NDArray([1, 1] as [Double], shape: [1, 2])
    let t = Tensor(na)
    #expect(t.sharesStorage(with: na))
    try na.setValue(Double(10), at: [0, 0])
    #expect(try t.elements(as: Double.self) == [10, 1])
  }
}

@Suite("copy-on-write export")
struct CopyOnWriteTests {
  @Test("no bytes copied at export; a write on the tensor side copies first", arguments: [false, true])
  func tensorWrites(large: Bool) throws {
    let shape = large ? [1024, 1024] : [1, 2]
    let a = try Tensor.ones(shape)
    let snapshot = try a.numpy(.copyOnWrite)
    #expect(snapshot.storage.unsafeBaseAddress == (try a.requireHostStorage()).unsafeBaseAddress)
    #expect(snapshot.storage.borrowsSourceBytes)
    try a.setValue(Float(10), at: [0, 0])
    #expect(try a.value(at: [0, 0], as: Float.self) == 10)
    #expect(try snapshot.value(at: [0, 0], as: Float.self) == 1)
    #expect(!snapshot.storage.borrowsSourceBytes)
    #expect(snapshot.storage.unsafeBaseAddress != (try a.requireHostStorage()).unsafeBaseAddress)
    // Both independent from now on.
    try snapshot.setValue(Float(20), at: [0, 1])
    #expect(try a.value(at: [0, 1], as: Float.self) == 1)
  }

  @Test("a write on the export side copies; the tensor never sees it")
  func exportWrites() throws {
    let a = try Tensor.ones([1, 2])
    let snapshot = try a.numpy(.copyOnWrite)
    try snapshot.setValue(Float(10), at: [0, 0])
    #expect(try snapshot.elements(as: Float.self) == [10, 1])
    #expect(try a.elements(as: Float.self) == [1, 1])
    #expect(snapshot.storage.unsafeBaseAddress != (try a.requireHostStorage()).unsafeBaseAddress)
    try a.setValue(Float(5), at: [0, 1])
    #expect(try snapshot.elements(as: Float.self) == [10, 1])
  }

  @Test("snapshots of snapshots stay independent of each other and of the source")
  func nested() throws {
    let a = try Tensor.ones([4])
    let s1 = try a.numpy(.copyOnWrite)
    let s2 = try Tensor(s1).numpy(.copyOnWrite)
    #expect(s2.storage.unsafeBaseAddress == (try a.requireHostStorage()).unsafeBaseAddress)
    try s1.setValue(Float(7), at: [0])
    #expect(try s2.value(at: [0], as: Float.self) == 1)
    try a.setValue(Float(9), at: [1])
    #expect(try s2.elements(as: Float.self) == [1, 1, 1, 1])
    #expect(try s1.elements(as: Float.self) == [7, 1, 1, 1])
    #expect(try a.elements(as: Float.self) == [1, 9, 1, 1])
  }

  @Test("export of a read-write file mapping is a snapshot the file's later writes never reach")
  func mappedSource() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.npy").path
    try NDArray([1, 2, 3] as [Float], shape: [3]).write(to: FilePath(path))
    let t = try Tensor(mapping: path, mode: .readWrite)
    let snapshot = try t.numpy(.copyOnWrite)
    #expect(snapshot.storage.unsafeBaseAddress == (try t.requireHostStorage()).unsafeBaseAddress)
    try t.setValue(Float(30), at: [2])
    try t.requireHostStorage().flush()
    #expect(try snapshot.elements(as: Float.self) == [1, 2, 3])
    #expect(try NDArray(contentsOf: FilePath(path)).elements(as: Float.self) == [1, 2, 30])
    // A snapshot of a read-only mapping is writable, and writing it leaves the file alone.
    let ro = try Tensor(mapping: path, mode: .readOnly)
    let roSnapshot = try ro.numpy(.copyOnWrite)
    try roSnapshot.setValue(Float(-1), at: [0])
    #expect(try ro.elements(as: Float.self) == [1, 2, 30])
    #expect(try NDArray(contentsOf: FilePath(path)).elements(as: Float.self) == [1, 2, 30])
  }

  @Test("export time does not depend on the size (nothing copied)")
  func exportCost() throws {
    let small = try Tensor.zeros([256])  // 1 KiB
    let big = try Tensor.zeros([64 << 20])  // 256 MiB
    let clock = ContinuousClock()
    func time(_ t: Tensor) throws -> Duration {
      var best = Duration.seconds(1000)
      for _ in 0..<20 {
        let start = clock.now
        let s = try t.numpy(.copyOnWrite)
        best = min(best, clock.now - start)
        #expect(s.storage.borrowsSourceBytes)
      }
      return best
    }
    let smallTime = try time(small)
    let bigTime = try time(big)
    // A copy of 256 MiB takes tens of milliseconds; an export takes microseconds either way.
    #expect(bigTime < .milliseconds(1), "256 MiB export took \(bigTime)")
    #expect(bigTime < smallTime * 20 + .microseconds(50), "\(bigTime) vs \(smallTime)")
  }
}
