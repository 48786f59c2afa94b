import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("mapped .npy files")
struct MappingTests {
  func makeFile(_ values: [Float] = [1, 2, 3, 4, 5, 6], shape: [Int] = [2, 3]) throws -> (URL, String) {
    let dir = try Support.temporaryDirectory()
    let path = dir.appendingPathComponent("m.npy").path
    try NDArray(values, shape: shape).write(to: FilePath(path))
    return (dir, path)
  }

  @Test("r+: a write through the tensor is in the file, seen by a fresh reader and by numpy")
  func readWrite() throws {
    let (dir, path) = try makeFile()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try Tensor(mapping: path, mode: .readWrite)
    #expect(try t.requireHostStorage().mappedFile?.mode == .readWrite)
    try t.setValue(Float(10), at: [0, 0])
    try t.requireHostStorage().flush()
    #expect(try NDArray(contentsOf: FilePath(path)).elements(as: Float.self) == [10, 2, 3, 4, 5, 6])
    if Support.numpyAvailable {
      let result = try Support.run(["python3", "-c", "import numpy as np; print(np.load('\(path)')[0, 0])"])
      #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "10.0")
    }
    // A second mapping of the same file sees the write too (shared mapping).
    #expect(try NDArray(mapping: FilePath(path)).value(at: [0, 0], as: Float.self) == 10)
  }

  @Test("r: writing is a thrown error, never a crash")
  func readOnly() throws {
    let (dir, path) = try makeFile()
    defer { try? FileManager.default.removeItem(at: dir) }
    let t = try Tensor(mapping: path, mode: .readOnly)
    #expect(throws: TensorIOError(.readOnly, path: path)) { try t.setValue(Float(10), at: [0, 0]) }
    #expect(throws: TensorIOError.self) { try t.numpy().setValue(Float(10), at: [1, 1]) }
    #expect(throws: TensorIOError.self) {
      try t.requireHostStorage().withUnsafeMutableBytes { $0.storeBytes(of: 1, as: UInt8.self) }
    }
    #expect(try t.elements(as: Float.self) == [1, 2, 3, 4, 5, 6])
  }

  @Test("c: writes are visible in the tensor, the file never changes")
  func copyOnWriteMapping() throws {
    let (dir, path) = try makeFile()
    defer { try? FileManager.default.removeItem(at: dir) }
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    let t = try Tensor(mapping: path, mode: .copyOnWrite)
    try t.setValue(Float(10), at: [0, 0])
    #expect(try t.value(at: [0, 0], as: Float.self) == 10)
    try t.requireHostStorage().flush()
    try t.requireHostStorage().close()
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
  }

  @Test("mapping costs O(header): the storage is the file's bytes, read lazily")
  func lazy() throws {
    let (dir, path) = try makeFile(Array(repeating: 0.5, count: 1 << 20), shape: [1 << 20])
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = try NDArray(mapping: FilePath(path))
    #expect(a.storage.mappedFile?.path == path)
    #expect(a.storage.byteCount == 4 << 20)
    #expect(try a.value(at: [-1], as: Float.self) == 0.5)
  }

  @Test("malformed files are refused at map time in every mode and left unchanged", arguments: MapMode.allCases)
  func malformed(mode: MapMode) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for entry in Manifest.shared.malformed {
      // Work on a copy: r+ opens the file for writing.
      let path = dir.appendingPathComponent(URL(fileURLWithPath: entry.path).lastPathComponent).path
      let original = try Data(contentsOf: URL(fileURLWithPath: entry.path))
      try original.write(to: URL(fileURLWithPath: path))
      do {
        _ = try NDArray(mapping: FilePath(path), mode: mode, maxHeaderSize: entry.maxHeaderSize ?? 10_000)
        Issue.record("\(entry.file) mapped in mode \(mode.rawValue)")
      } catch {
        #expect(Support.caseName(error.reason) == entry.reason, "\(entry.file): \(error)")
        #expect(error.path == path)
      }
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original, "\(entry.file) changed")
    }
  }

  @Test("mappings live while a view or export references them; close() ends element access")
  func lifetime() throws {
    let (dir, path) = try makeFile()
    defer { try? FileManager.default.removeItem(at: dir) }
    var view: Tensor
    do {
      let t = try Tensor(mapping: path, mode: .readOnly)
      view = try t.select(1)
    }
    #expect(try view.elements(as: Float.self) == [4, 5, 6])
    let exported = try view.numpy()
    view = try Tensor.zeros([1])
    #expect(try exported.elements(as: Float.self) == [4, 5, 6])
    try exported.storage.close()
    #expect(throws: TensorIOError(.closed, path: path)) { try exported.elements(as: Float.self) }
  }

  @Test("opening and dropping 10 000 mappings leaks no descriptors or mappings")
  func noLeaks() throws {
    let (dir, path) = try makeFile()
    defer { try? FileManager.default.removeItem(at: dir) }
    // Descriptors open on the test's file (other tests run meanwhile and open their own).
    func descriptors() -> Int {
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
      return entries.filter {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path
      }
      .count
    }
    func mappings() -> Int {
      // Read to the end: /proc files report a size of 0, and the maps of a test process
      // run long.
      let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data()
      return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasSuffix(path) }.count
    }
    // The probes must see a live mapping, or the counts below prove nothing.
    do {
      let held = try NDArray(mapping: FilePath(path))
      #expect(held.storage.byteCount == 24)
      #expect(mappings() >= 1, "/proc/self/maps shows no mapping of \(path)")
    }
    let fdsBefore = descriptors()
    for i in 0..<10_000 {
      let mode = MapMode.allCases[i % 3]
      let a = try NDArray(mapping: FilePath(path), mode: mode)
      #expect(a.storage.byteCount == 24)
    }
    #expect(fdsBefore == 0)
    #expect(descriptors() == 0)
    #expect(mappings() == 0)
  }
}

@Suite("tensor views")
struct ViewTests {
  @Test("slices with steps, transpose, permute, reshape and rows share storage")
  func views() throws {
    let t = try Tensor((0..<24).map { Int32($0) }, shape: [2, 3, 4])
    let stepped = try t.slice(axis: 2, 0..<4, step: 2)
    #expect(stepped.shape == [2, 3, 2])
    #expect(!stepped.isContiguous)
    #expect(try stepped.elements(as: Int32.self) == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22])
    let backwards = try t.slice(axis: 2, 0..<4, step: -1)
    #expect(try backwards.select(0).select(0).elements(as: Int32.self) == [3, 2, 1, 0])
    #expect(try t.slice(axis: 1, 1..<3).shape == [2, 2, 4])
    #expect(try t.slice(axis: 1, 5..<9).shape == [2, 0, 4])
    let transposed = t.transposed()
    #expect(transposed.shape == [4, 3, 2])
    #expect(try transposed.value(at: [3, 2, 1], as: Int32.self) == 23)
    #expect(transposed.isFortranContiguous)
    let permuted = try t.permuted([1, 0, 2])
    #expect(try permuted.value(at: [2, 1, 3], as: Int32.self) == 23)
    #expect(throws: TensorIOError.self) { try t.permuted([0, 0, 1]) }
    let reshaped = try t.reshaped([6, 4])
    #expect(try reshaped.value(at: [5, 3], as: Int32.self) == 23)
    #expect(throws: TensorIOError.self) { try t.reshaped([5, 5]) }
    #expect(throws: TensorIOError.self) { try transposed.reshaped([24]) }
    let row = try t.select(1)
    #expect(row.shape == [3, 4])
    // All views share storage: a write through one is seen by all.
    try stepped.setValue(Int32(-1), at: [1, 2, 1])  // element [1, 2, 2]
    #expect(try t.value(at: [1, 2, 2], as: Int32.self) == -1)
    #expect(try transposed.value(at: [2, 2, 1], as: Int32.self) == -1)
    #expect(try row.value(at: [2, 2], as: Int32.self) == -1)
    #expect(stepped.sharesStorage(with: t) && row.sharesStorage(with: t))
    let contiguous = try stepped.contiguous()
    #expect(contiguous.isContiguous && !contiguous.sharesStorage(with: t))
    #expect(try t.contiguous().sharesStorage(with: t))
    #expect(throws: TensorIOError.self) { try t.select(axis: 3, 0) }
    #expect(throws: TensorIOError.self) { try t.select(2) }
  }
}

@Suite("CUDA")
struct CUDATests {
  @Test("without a driver or device, cuda:N is a clear error and everything else works")
  func unavailable() throws {
    if TestDevices.cudaAvailable {
      let t = try Tensor([1, 2, 3] as [Float], shape: [3], device: .cuda(0))
      #expect(try t.cpu().elements(as: Float.self) == [1, 2, 3])
      return
    }
    print("CUDA not available here: cuda:0 round trips run only in scripts/gpu-check")
    #expect {
      try Tensor.ones([2], device: .cuda(0))
    } throws: { error in
      guard let error = error as? TensorIOError, case .device(.unavailable(let device, let reason)) = error.reason
      else {
        return false
      }
      return device.hasPrefix("cuda") && !reason.isEmpty
    }
    #expect(try Tensor.ones([2], device: .sim(1)).cpu().elements(as: Float.self) == [1, 1])
  }

  @Test("device specs parse as DESIGN.md says")
  func deviceSpecs() throws {
    #expect(try Device(parsing: "cpu") == .cpu)
    #expect(try Device(parsing: "cuda:1") == .cuda(1))
    #expect(try Device(parsing: "cuda") == .cuda(0))
    #expect(try Device(parsing: "sim:3") == .sim(3))
    for bad in ["gpu", "cuda:-1", "cuda:x", "sim:", "cpu:1", "", "cuda:1:2"] {
      #expect(throws: TensorIOError.self, "\(bad)") { try Device(parsing: bad) }
    }
    #expect(throws: TensorIOError.self) { try Tensor.ones([1], device: .sim(99)) }
  }

  @Test("sim enforces its capacity and frees memory when the last tensor goes")
  func simMemory() throws {
    let sim = try SimulatedDevice.device(2)
    let before = sim.bytesInUse
    do {
      let t = try Tensor.zeros([1024], device: .sim(2))
      #expect(sim.bytesInUse == before + 4096)
      #expect(t.device == .sim(2))
    }
    #expect(sim.bytesInUse == before)
    #expect {
      try DeviceBuffer(backend: sim, byteCount: SimulatedDevice.capacity + 1)
    } throws: { error in
      guard let error = error as? TensorIOError, case .device(.outOfMemory) = error.reason else { return false }
      return true
    }
  }
}
