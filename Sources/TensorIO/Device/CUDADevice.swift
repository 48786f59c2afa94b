import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One CUDA device: its primary context, allocations, and host <-> device copies by
/// the path the caller or the data asks for (plain, pinned staging, or registered
/// memory — read-only file mappings are registered with the read-only flag).
final class CUDADevice: DeviceBackend, @unchecked Sendable {
  let device: Device
  let driver: CUDADriver
  let ordinal: Int32
  let context: CUDADriver.Context
  /// The device's name (`NVIDIA H100 PCIe`).
  let name: String
  /// Total device memory in bytes.
  let totalMemory: Int

  /// Bytes per pinned staging buffer; two of them form the ring.
  static let stagingChunk = 32 << 20
  /// Below this size a plain copy is as fast as any other path.
  static let smallCopy = 1 << 20

  /// The pinned staging ring and its streams, created on first use, used by one
  /// transfer at a time.
  private struct Staging: @unchecked Sendable {
    var buffers: [UnsafeMutableRawPointer] = []
    var streams: [CUDADriver.Stream] = []
  }
  private let staging = Mutex(Staging())

  init(driver: CUDADriver, index: Int) throws(TensorIOError) {
    self.driver = driver
    self.device = .cuda(index)
    var ordinal: Int32 = 0
    try driver.check(driver.cuDeviceGet(&ordinal, Int32(index)), "cuDeviceGet", device: index)
    self.ordinal = ordinal
    var context: CUDADriver.Context?
    try driver.check(driver.cuDevicePrimaryCtxRetain(&context, ordinal), "cuDevicePrimaryCtxRetain", device: index)
    guard let context else {
      throw TensorIOError(.deviceUnavailable(device: "cuda:\(index)", reason: "no primary context"))
    }
    self.context = context
    var buffer = [CChar](repeating: 0, count: 256)
    _ = driver.cuDeviceGetName(&buffer, Int32(buffer.count - 1), ordinal)
    self.name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var total = 0
    _ = driver.cuDeviceTotalMem(&total, ordinal)
    self.totalMemory = total
  }

  private var index: Int { Int(ordinal) }

  private func makeCurrent() throws(TensorIOError) {
    try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", device: index)
  }

  private func check(_ result: CUDADriver.Result, _ call: String) throws(TensorIOError) {
    try driver.check(result, call, device: index)
  }

  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64 {
    try makeCurrent()
    var address: UInt64 = 0
    try check(driver.cuMemAlloc(&address, bytes), "cuMemAlloc_v2")
    return address
  }

  func free(_ address: UInt64) {
    _ = driver.cuCtxSetCurrent(context)
    _ = driver.cuMemFree(address)
  }

  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError) {
    try makeCurrent()
    try check(driver.cuMemcpyDtoD(destination, source, count), "cuMemcpyDtoD_v2")
  }

  // MARK: Host to device

  func copyToDevice(
    _ destination: UInt64, from source: UnsafeRawPointer, count: Int, source storage: Storage?, path: TransferPath
  ) throws(TensorIOError) {
    try makeCurrent()
    let readOnlyMapping = storage?.mapping != nil && storage?.isWritable == false
    switch path {
    case .pageable:
      try check(driver.cuMemcpyHtoD(destination, source, count), "cuMemcpyHtoD_v2")
    case .staged:
      try uploadStaged(destination, source, count)
    case .registered:
      try uploadRegistered(destination, source, count, readOnly: readOnlyMapping || storage?.isWritable == false)
    case .automatic:
      if count < CUDADevice.smallCopy {
        try check(driver.cuMemcpyHtoD(destination, source, count), "cuMemcpyHtoD_v2")
      } else if storage?.mapping != nil {
        // File mappings are page-aligned: register in place (read-only flag for
        // read-only mappings), falling back to staging if the driver refuses.
        do {
          try uploadRegistered(destination, source, count, readOnly: readOnlyMapping)
        } catch {
          try uploadStaged(destination, source, count)
        }
      } else {
        try uploadStaged(destination, source, count)
      }
    }
  }

  /// The page-aligned range around `pointer ..< pointer + count`.
  private func pageRange(_ pointer: UnsafeRawPointer, _ count: Int) -> (UnsafeMutableRawPointer, Int) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: pointer) & ~(page - 1)
    let end = (Int(bitPattern: pointer) + count + page - 1) & ~(page - 1)
    return (UnsafeMutableRawPointer(bitPattern: start) ?? UnsafeMutableRawPointer(mutating: pointer), end - start)
  }

  private func uploadRegistered(_ destination: UInt64, _ source: UnsafeRawPointer, _ count: Int, readOnly: Bool)
    throws(TensorIOError)
  {
    let (start, length) = pageRange(source, count)
    try check(
      driver.cuMemHostRegister(start, length, readOnly ? CUDADriver.hostRegisterReadOnly : 0), "cuMemHostRegister_v2")
    defer { _ = driver.cuMemHostUnregister(start) }
    try check(driver.cuMemcpyHtoD(destination, source, count), "cuMemcpyHtoD_v2")
  }

  /// Runs `body` with the staging ring (two pinned buffers, two streams).
  private func withStaging<R>(_ body: ([UnsafeMutableRawPointer], [CUDADriver.Stream]) throws(TensorIOError) -> R)
    throws(TensorIOError) -> R
  {
    var failure: TensorIOError?
    let result = staging.withLock { staging -> R? in
      do throws(TensorIOError) {
        while staging.buffers.count < 2 {
          var pointer: UnsafeMutableRawPointer?
          try check(driver.cuMemAllocHost(&pointer, CUDADevice.stagingChunk), "cuMemAllocHost_v2")
          guard let pointer else {
            throw TensorIOError(.deviceUnavailable(device: "\(device)", reason: "no pinned memory"))
          }
          staging.buffers.append(pointer)
        }
        while staging.streams.count < 2 {
          var stream: CUDADriver.Stream?
          try check(driver.cuStreamCreate(&stream, CUDADriver.streamNonBlocking), "cuStreamCreate")
          guard let stream else { throw TensorIOError(.deviceUnavailable(device: "\(device)", reason: "no stream")) }
          staging.streams.append(stream)
        }
        return try body(staging.buffers, staging.streams)
      } catch {
        failure = error
        return nil
      }
    }
    if let failure { throw failure }
    guard let result else { throw TensorIOError(.deviceUnavailable(device: "\(device)", reason: "staging failed")) }
    return result
  }

  /// Host to device through the pinned ring: chunk k is copied into buffer k % 2 while
  /// the other buffer's asynchronous upload runs.
  private func uploadStaged(_ destination: UInt64, _ source: UnsafeRawPointer, _ count: Int) throws(TensorIOError) {
    try withStaging { (buffers, streams) throws(TensorIOError) in
      let chunk = CUDADevice.stagingChunk
      var offset = 0
      var k = 0
      var used = [false, false]
      while offset < count {
        let n = min(chunk, count - offset)
        if used[k] { try check(driver.cuStreamSynchronize(streams[k]), "cuStreamSynchronize") }
        memcpy(buffers[k], source + offset, n)
        try check(
          driver.cuMemcpyHtoDAsync(destination + UInt64(offset), buffers[k], n, streams[k]), "cuMemcpyHtoDAsync_v2")
        used[k] = true
        offset += n
        k ^= 1
      }
      for stream in streams { try check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize") }
    }
  }

  // MARK: Device to host

  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, path: TransferPath)
    throws(TensorIOError)
  {
    try makeCurrent()
    switch path {
    case .pageable:
      try check(driver.cuMemcpyDtoH(destination, source, count), "cuMemcpyDtoH_v2")
    case .registered:
      let (start, length) = pageRange(destination, count)
      try check(driver.cuMemHostRegister(start, length, 0), "cuMemHostRegister_v2")
      defer { _ = driver.cuMemHostUnregister(start) }
      try check(driver.cuMemcpyDtoH(destination, source, count), "cuMemcpyDtoH_v2")
    case .staged, .automatic:
      if count < CUDADevice.smallCopy {
        try check(driver.cuMemcpyDtoH(destination, source, count), "cuMemcpyDtoH_v2")
      } else {
        try downloadStaged(destination, source, count)
      }
    }
  }

  /// Device to host through the pinned ring: the download of chunk k + 1 runs while
  /// chunk k is copied out of its buffer.
  private func downloadStaged(_ destination: UnsafeMutableRawPointer, _ source: UInt64, _ count: Int)
    throws(TensorIOError)
  {
    try withStaging { (buffers, streams) throws(TensorIOError) in
      let chunk = CUDADevice.stagingChunk
      let chunks = (count + chunk - 1) / chunk
      func issue(_ i: Int) throws(TensorIOError) {
        let offset = i * chunk
        let n = min(chunk, count - offset)
        try check(
          driver.cuMemcpyDtoHAsync(buffers[i % 2], source + UInt64(offset), n, streams[i % 2]), "cuMemcpyDtoHAsync_v2")
      }
      try issue(0)
      for i in 0..<chunks {
        if i + 1 < chunks { try issue(i + 1) }
        try check(driver.cuStreamSynchronize(streams[i % 2]), "cuStreamSynchronize")
        let offset = i * chunk
        memcpy(destination + offset, buffers[i % 2], min(chunk, count - offset))
      }
    }
  }
}
