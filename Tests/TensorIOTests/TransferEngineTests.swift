import Dispatch
import Foundation
import Synchronization
import SystemPackage
import Testing

@testable import TensorIO

/// The transfer engine's pipeline on the simulated device, whose streams run an enqueued
/// copy only when the stream is synchronized: a pipeline that refilled a staging buffer,
/// ended a registration or read a download before its copy was done would move the
/// wrong bytes, and these byte-for-byte comparisons would fail. sim:3 is used only here
/// (tests of `.registered` need nobody else registering pages next to theirs).
@Suite("transfer engine", .serialized)
struct TransferEngineTests {
  static let sim: SimulatedDevice = {
    do { return try SimulatedDevice.device(3) } catch { fatalError("sim:3 missing: \(error)") }
  }()
  static var chunk: Int { sim.tuning.chunk }
  static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

  /// Page-aligned host memory owned by one test, with `count` pattern bytes at `offset`.
  final class HostBytes {
    let base: UnsafeMutableRawPointer
    let allocated: Int
    let offset: Int
    let count: Int

    init(count: Int, offset: Int = 13, seed: UInt64 = 1) {
      allocated = (offset + count + TransferEngineTests.page) / TransferEngineTests.page * TransferEngineTests.page
      base = UnsafeMutableRawPointer.allocate(byteCount: allocated, alignment: TransferEngineTests.page)
      memset(base, 0xEE, allocated)
      self.offset = offset
      self.count = count
      var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
      for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        base.storeBytes(of: UInt8(truncatingIfNeeded: state), toByteOffset: offset + i, as: UInt8.self)
      }
    }

    deinit { base.deallocate() }

    var pointer: UnsafeMutableRawPointer { base + offset }
    var bytes: [UInt8] { Array(UnsafeRawBufferPointer(start: pointer, count: count)) }
  }

  static let sizes: [Int] = [0, 1, 4095, 4096, 4097, chunk - 1, chunk, chunk + 1, 7 * chunk + 123, (3 << 20) + 5]

  @Test("bytes round-trip on every path, every size (0 and 1 byte, not a multiple of the chunk), progress counted")
  func roundTrips() throws {
    for path in TransferPath.allCases {
      for size in TransferEngineTests.sizes {
        let source = HostBytes(count: size, seed: UInt64(size))
        let memory = try DeviceBuffer(backend: TransferEngineTests.sim, byteCount: size + 100)
        let (upward, downward) = (TransferProgress(), TransferProgress())
        let up = try memory.upload(source.pointer, count: size, at: 100, path: path, progress: upward)
        let back = HostBytes(count: size, offset: 7, seed: 99)
        let down = try memory.download(back.pointer, count: size, at: 100, path: path, progress: downward)
        #expect(back.bytes == source.bytes ? true : false, "\(path) \(size) bytes")
        // Every chunk counted once, whichever way it went.
        #expect(upward.bytes == size && downward.bytes == size, "\(path) \(size) progress")
        for report in [up, down] where size > 0 {
          if path == .pageable || size < TransferEngineTests.sim.tuning.smallCopy {
            #expect(report.direct && report.chunks == 0)
          } else {
            // The grid starts at the page below the first byte; registering paths use
            // the larger registration chunks.
            let chunk = path == .staged ? TransferEngineTests.chunk : TransferEngineTests.sim.tuning.registrationChunk
            let chunks = ((13 + size - 1) / chunk) + 1
            #expect(report.chunks >= chunks - 1 && report.chunks <= chunks + 1, "\(path) \(size)")
            if path == .staged { #expect(report.registered == 0) }
            if path == .registered { #expect(report.staged == 0) }
          }
        }
      }
    }
    #expect(TransferEngineTests.sim.registrations == 0)
  }

  @Test("a read-only file mapping uploads registered in place (read-only flag), and comes back identical")
  func mappedUpload() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = FilePath(dir.appendingPathComponent("a.npy").path)
    let array = try NDArray(zeros: [300_001], dtype: .float32)
    for i in stride(from: 0, to: 300_001, by: 997) { try array.setValue(Float(i) * 0.5, at: [i]) }
    try NPYFile.save(array, to: path, durability: .unsynced)
    let mapped = Tensor(try NPYFile.map(path, mode: .readOnly))
    for transfer in [TransferPath.registered, .automatic, .staged] {
      let device = try mapped.to(.sim(3), path: transfer)
      let back = try device.cpu(path: transfer).numpy()
      let same = back.unsafeContiguousBytes.map(Array.init) == array.unsafeContiguousBytes.map(Array.init)
      #expect(same, "\(transfer)")
    }
    #expect(TransferEngineTests.sim.registrations == 0)
    // Which path the engine took, from its own report: every chunk registered in place
    // (read-only mapping), or every chunk staged.
    let bytes = try #require(mapped.numpy().unsafeContiguousBytes)
    let buffer = try DeviceBuffer(backend: TransferEngineTests.sim, byteCount: bytes.count)
    let registered = try buffer.upload(try #require(bytes.baseAddress), count: bytes.count, path: .registered)
    #expect(registered.chunks > 1 && registered.registered == registered.chunks, "\(registered)")
    let staged = try buffer.upload(try #require(bytes.baseAddress), count: bytes.count, path: .staged)
    #expect(staged.chunks > 1 && staged.staged == staged.chunks && staged.registered == 0, "\(staged)")
  }

  @Test("a chunk whose pages are already registered falls back to staging (automatic) or fails (registered)")
  func registrationRefused() throws {
    let sim = TransferEngineTests.sim
    let big = sim.tuning.registrationChunk
    let source = HostBytes(count: 2 * big + 5 * TransferEngineTests.chunk / 2, offset: 0, seed: 5)
    let memory = try DeviceBuffer(backend: sim, byteCount: source.count)
    // Someone else holds a page inside the second registration chunk: that chunk is
    // staged piece by piece, in both directions.
    let held = source.base + big + TransferEngineTests.chunk
    try sim.register(held, count: TransferEngineTests.page, readOnly: false)
    defer { sim.unregister(held) }
    var engine = TransferEngine(backend: sim, path: .automatic)
    let report = try engine.upload(to: memory.address, from: source.pointer, count: source.count)
    #expect(report.registered == 2 && report.staged == 1)
    let back = HostBytes(count: source.count, offset: 0, seed: 0)
    let heldBack = back.base + 2 * big
    try sim.register(heldBack, count: TransferEngineTests.page, readOnly: false)
    let backReport = try engine.download(from: memory.address, into: back.pointer, count: source.count)
    sim.unregister(heldBack)
    #expect(backReport.registered == 2 && backReport.staged == 1)
    #expect(back.bytes == source.bytes ? true : false)
    engine = TransferEngine(backend: sim, path: .registered)
    #expect {
      try engine.upload(to: memory.address, from: source.pointer, count: source.count)
    } throws: { error in
      guard let error = error as? TensorIOError, case .device(.call(_, _, _, let name)) = error.reason else {
        return false
      }
      return name == "SIM_ERROR_HOST_MEMORY_ALREADY_REGISTERED"
    }
    #expect(sim.registrations == 1)  // only the test's own
  }

  @Test("downloads stream to a sink in order, chunk after chunk, for odd sizes; a failing sink stops cleanly")
  func sinkDownloads() throws {
    for size in TransferEngineTests.sizes {
      let source = HostBytes(count: size, seed: 3)
      let memory = try DeviceBuffer(backend: TransferEngineTests.sim, byteCount: size)
      try memory.upload(source.pointer, count: size, path: .automatic)
      for path in [TransferPath.automatic, .pageable] {
        var received: [UInt8] = []
        try memory.download(count: size, path: path) { (bytes: UnsafeRawBufferPointer, offset: Int) in
          #expect(offset == received.count)
          #expect(bytes.count <= TransferEngineTests.chunk)
          received += bytes
        }
        #expect(received == source.bytes ? true : false, "\(size) \(path)")
      }
    }
    let source = HostBytes(count: 10 * TransferEngineTests.chunk, seed: 4)
    let memory = try DeviceBuffer(backend: TransferEngineTests.sim, byteCount: source.count)
    try memory.upload(source.pointer, count: source.count, path: .automatic)
    var calls = 0
    #expect(throws: TensorIOError.self) {
      try memory.download(count: source.count, path: .automatic) {
        (_: UnsafeRawBufferPointer, _: Int) throws(TensorIOError) in
        calls += 1
        if calls == 4 { throw TensorIOError(.system(operation: "write", errno: .noSpace)) }
      }
    }
    #expect(calls == 4)
    // The ring's buffers went back to the pool in a usable state.
    var received: [UInt8] = []
    try memory.download(count: source.count, path: .automatic) { (bytes: UnsafeRawBufferPointer, _: Int) in
      received += bytes
    }
    #expect(received == source.bytes ? true : false)
  }

  @Test("concurrent transfers from several threads keep their bytes apart")
  func concurrentTransfers() throws {
    let failures = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      do {
        let source = HostBytes(
          count: (i + 1) * TransferEngineTests.chunk + i * 1000 + 1, offset: i * 7, seed: UInt64(i))
        let memory = try DeviceBuffer(backend: TransferEngineTests.sim, byteCount: source.count)
        let path: TransferPath = [.automatic, .staged, .registered][i % 3]
        try memory.upload(source.pointer, count: source.count, path: path)
        let back = HostBytes(count: source.count, offset: 3, seed: 0)
        try memory.download(back.pointer, count: source.count, path: path)
        if back.bytes != source.bytes { failures.withLock { $0 += 1 } }
      } catch {
        failures.withLock { $0 += 1 }
      }
    }
    #expect(failures.withLock { $0 } == 0)
    #expect(TransferEngineTests.sim.registrations == 0)
  }

  @Test("views that are not contiguous are made contiguous on the way to the device")
  func nonContiguousViews() throws {
    let count = 3 * TransferEngineTests.chunk / 4
    let array = try NDArray(zeros: [count], dtype: .int32)
    for i in stride(from: 0, to: count, by: 1) where i % 101 == 0 { try array.setValue(Int32(i), at: [i]) }
    let view = try Tensor(array).reshaped([count / 4, 4]).transposed().slice(axis: 1, 1..<(count / 4), step: -3)
    let (up, down) = (TransferProgress(), TransferProgress())
    let back = try view.to(.sim(3), progress: up).cpu(progress: down)
    #expect(up.bytes == view.byteCount && down.bytes == view.byteCount)
    #expect(back.shape == view.shape)
    #expect(try back.elements(as: Int32.self) == view.elements(as: Int32.self))
  }

  @Test("a device tensor saves straight from the device, byte-identical to saving its host copy")
  func saveFromDevice() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for (shape, order) in [
      ([0], MemoryOrder.c), ([1], .c), ([501, 333], .c), ([501, 333], .fortran), ([7, 3, 0], .c),
      ([3, 70_001], .fortran),  // over 1 MiB: straight into the mapped output, many chunks
    ] {
      let count = shape.reduce(1, *)
      let host = try NDArray(zeros: shape, dtype: .float64, order: order)
      if count > 0 {
        for i in stride(from: 0, to: count, by: 37) {
          try host.setValue(Double(i) / 3, at: [i / shape.dropFirst().reduce(1, *)] + shape.dropFirst().map { _ in 0 })
        }
      }
      let device = try Tensor(host).to(.sim(3))
      let ours = FilePath(dir.appendingPathComponent("device.npy").path)
      let reference = FilePath(dir.appendingPathComponent("host.npy").path)
      try NPYFile.save(device, to: ours, durability: .unsynced)
      try NPYFile.save(host, to: reference, durability: .unsynced)
      let a = try Data(contentsOf: URL(fileURLWithPath: ours.string))
      let b = try Data(contentsOf: URL(fileURLWithPath: reference.string))
      #expect(a == b, "\(shape) \(order)")
    }
    // Progress counts the data bytes written, up to all of them, from a device and from
    // the host alike.
    let big = try Tensor(NDArray(zeros: [3 * TransferEngineTests.chunk], dtype: .uint8))
    for tensor in [big, try big.to(.sim(3))] {
      var reports: [Int] = []
      try NPYFile.save(
        tensor, to: FilePath(dir.appendingPathComponent("p.npy").path), durability: .unsynced,
        progress: { reports.append($0) })
      #expect(reports.last == 3 * TransferEngineTests.chunk && reports == reports.sorted(), "\(tensor.device)")
      #expect(tensor.device == .cpu || reports.count == 3)
    }
    // A tensor that requires grad saves its values (as torch.save does).
    let grad = try Tensor.ones([5], device: .sim(3), requiresGrad: true)
    let path = FilePath(dir.appendingPathComponent("grad.npy").path)
    try NPYFile.save(grad, to: path)
    #expect(try NPYFile.load(from: path).elements(as: Float.self) == [1, 1, 1, 1, 1])
  }

  @Test(
    "npz members load straight onto a device (deflated: inflated chunk by chunk into the pinned ring), identical to load"
  )
  func npzMembersToDevice() throws {
    var archives = Manifest.shared.npzValid.map(\.path)
    if Support.numpyAvailable {
      // A deflated member of many ring chunks, and the same archive with a flipped byte.
      let dir = try Support.temporaryDirectory()
      defer { try? FileManager.default.removeItem(at: dir) }
      let path = dir.appendingPathComponent("big.npz").path
      let script = """
        import sys, numpy as np
        a = (np.arange(400_003, dtype='<f8') % 977) * 0.25
        np.savez_compressed(sys.argv[1], a=a, b=np.arange(7, dtype='>i2'), e=np.zeros((0, 3), '<f4'))
        """
      let made = try Support.run(["python3", "-c", script, path])
      try #require(made.status == 0, "\(made.stderr)")
      var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
      archives.append(path)
      let copy = dir.appendingPathComponent("corrupt.npz").path
      bytes[bytes.count / 3] ^= 0x40
      try bytes.write(to: URL(fileURLWithPath: copy))
      try checkMembers(of: archives)
      #expect(throws: TensorIOError.self) { try NPZArchive(path: FilePath(copy)).load("a", to: .sim(3)) }
    } else {
      try checkMembers(of: archives)
    }
    #expect(TransferEngineTests.sim.registrations == 0)
  }

  @Test("an aligned stored npz member uploads from its mapping, its CRC-32 checked alongside; a corrupt one fails")
  func storedMemberToDevice() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("stored.npz").path
    let values = (0..<300_001).map { Double($0 % 1009) * 0.5 }
    try NPZArchive.write([("w", try NDArray(values, shape: [values.count]))], to: FilePath(path), compression: .stored)
    let archive = try NPZArchive(path: FilePath(path))
    #expect(try archive.info("w").isMappable)
    let progress = TransferProgress()
    let device = try archive.load("w", to: .sim(3), path: .registered, progress: progress)
    #expect(try device.cpu().numpy().elements(as: Double.self) == values)
    #expect(progress.bytes == values.count * 8)
    // One data byte flipped: the CRC-32 no longer matches, and no tensor comes back.
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let offset = try #require(archive.info("w").dataOffset)
    bytes[offset + 12_345] ^= 0x01
    let corrupt = dir.appendingPathComponent("corrupt.npz").path
    try bytes.write(to: URL(fileURLWithPath: corrupt))
    #expect {
      try NPZArchive(path: FilePath(corrupt)).load("w", to: .sim(3))
    } throws: { error in
      guard let error = error as? TensorIOError, case .archive(.checksumMismatch) = error.reason else { return false }
      return true
    }
    #expect(TransferEngineTests.sim.registrations == 0)
  }

  @Test("a member we deflated, with restart points, inflates on all cores and reaches the device intact")
  func restartMemberToDevice() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let array = try NPZRestartTests.weights()
    let (path, entry) = try NPZRestartTests.write(array, in: dir)
    #expect(entry.restarts.count == 3)
    let progress = TransferProgress()
    let device = try NPZArchive(path: path).load("a", to: .sim(3), progress: progress)
    #expect(device.device == .sim(3))
    let back = try device.cpu().numpy()
    #expect(Array(try #require(back.unsafeContiguousBytes)) == Array(try #require(array.unsafeContiguousBytes)))
    #expect(progress.bytes == array.byteCount)
    #expect(TransferEngineTests.sim.registrations == 0)
  }

  private func checkMembers(of archives: [String]) throws {
    var chunks = 0
    for path in archives {
      let archive = try NPZArchive(path: FilePath(path))
      for member in archive.members where member.name.hasSuffix(".npy") {
        let host = try archive.load(member.key)
        let progress = TransferProgress()
        let device = try archive.load(member.key, to: .sim(3), progress: progress)
        #expect(device.device == .sim(3) && device.shape == host.shape && device.dtype == host.dtype)
        let back = try device.cpu().numpy()
        #expect(
          back.unsafeContiguousBytes.map(Array.init) == host.unsafeContiguousBytes.map(Array.init),
          "\(path):\(member.key)")
        #expect(progress.bytes == host.count * host.dtype.itemSize)
        chunks = max(chunks, progress.bytes / TransferEngineTests.chunk)
      }
    }
    if Support.numpyAvailable { #expect(chunks >= 10) }
  }
}
