import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A simulated device, `sim:N`: memory that the host reaches only through explicit
/// copies (addresses are opaque handles, never pointers), with a fixed capacity, so
/// that the device rules (no host access, copies on `to(device)`, out-of-memory errors,
/// transfer chunking) are tested on machines without a GPU.
final class SimulatedDevice: DeviceBackend {
  /// Number of simulated devices: `sim:0` ... `sim:3`.
  static let count = 4
  /// Capacity of each simulated device.
  static let capacity = 16 << 30

  let device: Device
  /// Chunk size of simulated transfers, as a real pipelined transfer would split them.
  static let chunk = 4 << 20

  private struct Allocation {
    var pointer: UnsafeMutableRawPointer
    var bytes: Int
  }

  private struct State: @unchecked Sendable {
    var allocations: [UInt64: Allocation] = [:]
    var used = 0
    var nextAddress: UInt64 = 0x5157_0000_0000  // opaque, never a host pointer
    var chunksCopied = 0
  }

  private let state = Mutex(State())

  private init(index: Int) { device = .sim(index) }

  private static let devices: [SimulatedDevice] = (0..<count).map { SimulatedDevice(index: $0) }

  static func device(_ index: Int) throws(TensorIOError) -> SimulatedDevice {
    guard index >= 0, index < count else {
      throw TensorIOError(
        .deviceUnavailable(device: "sim:\(index)", reason: "no such device (sim:0 ... sim:\(count - 1))"))
    }
    return devices[index]
  }

  /// Bytes currently allocated on the device.
  var bytesInUse: Int { state.withLock { $0.used } }

  /// Chunks moved by copies so far (to check that transfers are chunked).
  var chunksCopied: Int { state.withLock { $0.chunksCopied } }

  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64 {
    var failure: TensorIOError?
    let address = state.withLock { state -> UInt64 in
      guard bytes <= SimulatedDevice.capacity - state.used else {
        failure = TensorIOError(
          .outOfDeviceMemory(
            device: device.description, requested: bytes, available: SimulatedDevice.capacity - state.used))
        return 0
      }
      guard let pointer = malloc(bytes) else {
        failure = TensorIOError(
          .outOfDeviceMemory(
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
        Glibc.free(allocation.pointer)
        state.used -= allocation.bytes
      }
    }
  }

  /// The host pointer behind `address ..< address + count`, checked against the allocation.
  private func resolve(_ address: UInt64, count: Int) throws(TensorIOError) -> UnsafeMutableRawPointer {
    let found = state.withLock { state -> UnsafeMutableRawPointer? in
      for (base, allocation) in state.allocations where address >= base {
        let offset = Int(address - base)
        if offset <= allocation.bytes - count { return allocation.pointer + offset }
      }
      return nil
    }
    guard let found else {
      throw TensorIOError(
        .deviceCall(device: device.description, call: "copy", code: 1, name: "SIM_ERROR_INVALID_ADDRESS"))
    }
    return found
  }

  /// Copies in chunks, as the real transfer pipeline does.
  private func chunkedCopy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, count: Int) {
    var done = 0
    var chunks = 0
    while done < count {
      let n = min(SimulatedDevice.chunk, count - done)
      memcpy(destination + done, source + done, n)
      done += n
      chunks += 1
    }
    state.withLock { $0.chunksCopied += chunks }
  }

  func copyToDevice(
    _ destination: UInt64, from source: UnsafeRawPointer, count: Int, source storage: Storage?, path: TransferPath
  ) throws(TensorIOError) {
    chunkedCopy(try resolve(destination, count: count), source, count: count)
  }

  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, path: TransferPath)
    throws(TensorIOError)
  {
    chunkedCopy(destination, try resolve(source, count: count), count: count)
  }

  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError) {
    chunkedCopy(try resolve(destination, count: count), try resolve(source, count: count), count: count)
  }
}
