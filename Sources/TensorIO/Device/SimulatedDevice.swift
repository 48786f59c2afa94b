import Glibc
import Synchronization

/// A simulated device, `sim:N`: memory that the host reaches only through explicit
/// copies (addresses are opaque handles, never pointers), with a fixed capacity, so
/// that the device rules (no host access, copies on `to(device)`, out-of-memory errors)
/// and the transfer engine's pipeline are tested on machines without a GPU.
///
/// Its streams behave like a GPU's at their most hostile: an enqueued copy runs only
/// when its stream is synchronized, so a pipeline that reuses a buffer or ends a
/// registration too early moves the wrong bytes. Asynchronous copies must use pinned
/// or registered host memory (a download never into memory registered read-only), and
/// registrations must be page-aligned and must not overlap, as with CUDA.
final class SimulatedDevice: DeviceBackend {
  /// Number of simulated devices: `sim:0` ... `sim:3`.
  static let count = 4
  /// Capacity of each simulated device.
  static let capacity = 16 << 30

  let device: Device
  /// Engine v1's CUDA shape (every worker registers; registration chunks four staging
  /// chunks long) at a small scale, so that small test arrays already run the pipeline
  /// through many chunks, on three workers concurrently. With
  /// `TENSORTOOL_SIM_TUNING=cuda`, the CUDA device's own tuning instead (its chunk
  /// sizes, workers and routes, environment overrides included): the host side of a
  /// GPU transfer, measured without a GPU.
  let tuning =
    SystemInfo.environment("TENSORTOOL_SIM_TUNING") == "cuda"
    ? CUDADevice.defaultTuning()
    : TransferTuning(
      chunk: max(64 << 10, SystemInfo.pageSize),
      registrationChunk: 4 * max(64 << 10, SystemInfo.pageSize), workers: 3, registeringWorkers: 3,
      ringDepth: 3, smallCopy: 4096)
  let pool = TransferPool()

  private struct Allocation {
    var pointer: UnsafeMutableRawPointer
    var bytes: Int
  }

  /// A copy waiting for its stream's synchronization (host addresses as integers).
  private struct PendingCopy {
    var destination: UInt
    var source: UInt
    var count: Int
  }

  private struct HostRange {
    var count: Int
    var readOnly: Bool
  }

  private struct State: @unchecked Sendable {
    // Safety: a `State` lives only inside `state` (a `Locked`) and is touched only
    // under its lock; its pointers are the simulated device's own allocations.
    var allocations: [UInt64: Allocation] = [:]
    var used = 0
    var nextAddress: UInt64 = 0x5157_0000_0000  // opaque, never a host pointer
    var streams: [UInt: [PendingCopy]] = [:]
    var pinned: [UInt: Int] = [:]
    var registered: [UInt: HostRange] = [:]
  }

  private let state = Locked(State())

  private init(index: Int) { device = .sim(index) }

  private static let devices: [SimulatedDevice] = (0..<count).map { SimulatedDevice(index: $0) }

  static func device(_ index: Int) throws(TensorIOError) -> SimulatedDevice {
    guard index >= 0, index < count else {
      throw TensorIOError(
        .unavailable(device: "sim:\(index)", reason: "no such device (sim:0 ... sim:\(count - 1))"))
    }
    return devices[index]
  }

  /// Bytes currently allocated on the device.
  var bytesInUse: Int { state.withLock { $0.used } }

  /// Host ranges currently registered.
  var registrations: Int { state.withLock { $0.registered.count } }

  private func failure(_ name: String, _ call: String) -> TensorIOError {
    TensorIOError(.call(device: device.description, call: call, code: 1, name: name))
  }

  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64 {
    var failure: TensorIOError?
    let address = state.withLock { state -> UInt64 in
      guard bytes <= SimulatedDevice.capacity - state.used,
        let pointer = try? HeapMemory.allocate(byteCount: bytes, alignment: 64)
      else {
        failure = TensorIOError(
          .outOfMemory(
            device: device.description, requested: bytes, available: SimulatedDevice.capacity - state.used))
        return 0
      }
      let address = state.nextAddress
      // Leave a gap so that an address plus an offset never reaches the next buffer.
      state.nextAddress += UInt64((bytes + 0xFFFF) & ~0xFFFF) + 0x10000
      state.allocations[address] = Allocation(pointer: pointer, bytes: bytes)
      state.used += bytes
      return address
    }
    if let failure { throw failure }
    return address
  }

  func free(_ address: UInt64) {
    state.withLock { state in
      if let allocation = state.allocations.removeValue(forKey: address) {
        HeapMemory.free(allocation.pointer)
        state.used -= allocation.bytes
      }
    }
  }

  /// The host pointer behind device range `address ..< address + count`, checked
  /// against the allocation.
  private func resolve(_ address: UInt64, count: Int) throws(TensorIOError) -> UnsafeMutableRawPointer {
    let found = state.withLock { state -> UnsafeMutableRawPointer? in
      for (base, allocation) in state.allocations where address >= base {
        let offset = Int(address - base)
        if offset <= allocation.bytes - count { return allocation.pointer + offset }
      }
      return nil
    }
    guard let found else { throw failure("SIM_ERROR_INVALID_ADDRESS", "copy") }
    return found
  }

  func copyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int) throws(TensorIOError) {
    memcpy(try resolve(destination, count: count), source, count)
  }

  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int) throws(TensorIOError) {
    memcpy(destination, try resolve(source, count: count), count)
  }

  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError) {
    memmove(try resolve(destination, count: count), try resolve(source, count: count), count)
  }

  // MARK: Pipeline primitives

  func attachThread() throws(TensorIOError) {}

  func makeStream() throws(TensorIOError) -> DeviceStream {
    state.withLock { state in
      let raw = UInt(state.streams.count + 1)
      state.streams[raw] = []
      return DeviceStream(raw: raw)
    }
  }

  /// Whether host range `start ..< start + count` lies in pinned memory or in one
  /// registration (a writable one when `writable`).
  private func isPinned(_ start: UnsafeRawPointer, count: Int, writable: Bool) -> Bool {
    let low = UInt(bitPattern: Int(bitPattern: start))
    let high = low + UInt(count)
    return state.withLock { state in
      state.pinned.contains { low >= $0.key && high <= $0.key + UInt($0.value) }
        || state.registered.contains {
          low >= $0.key && high <= $0.key + UInt($0.value.count) && !(writable && $0.value.readOnly)
        }
    }
  }

  private func enqueue(_ copy: PendingCopy, on stream: DeviceStream) throws(TensorIOError) {
    let known = state.withLock { state -> Bool in
      guard state.streams[stream.raw] != nil else { return false }
      state.streams[stream.raw, default: []].append(copy)
      return true
    }
    if !known { throw failure("SIM_ERROR_INVALID_HANDLE", "enqueue") }
  }

  func enqueueCopyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int, on stream: DeviceStream)
    throws(TensorIOError)
  {
    guard isPinned(source, count: count, writable: false) else {
      throw failure("SIM_ERROR_NOT_PINNED", "enqueueCopyToDevice")
    }
    let target = try resolve(destination, count: count)
    try enqueue(
      PendingCopy(
        destination: UInt(bitPattern: Int(bitPattern: target)), source: UInt(bitPattern: Int(bitPattern: source)),
        count: count), on: stream)
  }

  func enqueueCopyToHost(
    _ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, on stream: DeviceStream
  ) throws(TensorIOError) {
    guard isPinned(destination, count: count, writable: true) else {
      throw failure("SIM_ERROR_NOT_PINNED", "enqueueCopyToHost")
    }
    let origin = try resolve(source, count: count)
    try enqueue(
      PendingCopy(
        destination: UInt(bitPattern: Int(bitPattern: destination)),
        source: UInt(bitPattern: Int(bitPattern: origin)), count: count), on: stream)
  }

  /// Runs the stream's pending copies, in order.
  func synchronize(_ stream: DeviceStream) throws(TensorIOError) {
    let pending = state.withLock { state -> [PendingCopy]? in
      guard let pending = state.streams[stream.raw] else { return nil }
      state.streams[stream.raw] = []
      return pending
    }
    guard let pending else { throw failure("SIM_ERROR_INVALID_HANDLE", "synchronize") }
    for copy in pending {
      guard let destination = UnsafeMutableRawPointer(bitPattern: copy.destination),
        let source = UnsafeRawPointer(bitPattern: copy.source)
      else { continue }
      memcpy(destination, source, copy.count)
    }
  }

  func allocatePinned(_ bytes: Int) throws(TensorIOError) -> UnsafeMutableRawPointer {
    // Page-aligned, as the driver's pinned memory is (direct I/O needs it).
    guard let pointer = try? HeapMemory.allocate(byteCount: bytes, alignment: SystemInfo.pageSize) else {
      throw failure("SIM_ERROR_OUT_OF_MEMORY", "allocatePinned")
    }
    state.withLock { $0.pinned[UInt(bitPattern: Int(bitPattern: pointer))] = bytes }
    return pointer
  }

  func register(_ start: UnsafeMutableRawPointer, count: Int, readOnly: Bool) throws(TensorIOError) {
    let page = UInt(SystemInfo.pageSize)
    let low = UInt(bitPattern: Int(bitPattern: start))
    guard count > 0, low % page == 0, UInt(count) % page == 0 else {
      throw failure("SIM_ERROR_INVALID_VALUE", "register")
    }
    let high = low + UInt(count)
    let overlaps = state.withLock { state -> Bool in
      if state.registered.contains(where: { low < $0.key + UInt($0.value.count) && $0.key < high }) { return true }
      state.registered[low] = HostRange(count: count, readOnly: readOnly)
      return false
    }
    if overlaps { throw failure("SIM_ERROR_HOST_MEMORY_ALREADY_REGISTERED", "register") }
  }

  func unregister(_ start: UnsafeMutableRawPointer) {
    _ = state.withLock { $0.registered.removeValue(forKey: UInt(bitPattern: Int(bitPattern: start))) }
  }
}
