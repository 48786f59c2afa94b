import Glibc

/// One CUDA device: its primary context, allocations, and the primitives the transfer
/// engine pipelines (non-blocking streams, async copies, pinned memory from
/// cuMemAllocHost, in-place registration with cuMemHostRegister — read-only for
/// uploads, so that read-only file mappings can be registered).
final class CUDADevice: DeviceBackend, @unchecked Sendable {
  // Safety: every stored property is a `let`; the context handle is used through the
  // CUDA driver API, which is thread-safe (each thread makes the context current
  // with `attachThread` before its calls).
  let device: Device
  let driver: CUDADriver
  let ordinal: Int32
  let context: CUDADriver.Context
  /// The device's name (`NVIDIA H100 PCIe`).
  let name: String
  /// Total device memory in bytes.
  let totalMemory: Int

  /// How transfers are cut and spread (engine v2): up to 8 workers, each with two
  /// slots of a pinned ring of 4 MiB buffers (one allocation: huge pages, pre-faulted,
  /// registered), fill their slot from the source (its pages mapped in one call first)
  /// and copy it on their own stream while the other slot fills; downloads use 2
  /// workers. Measured on an H200 (scripts/gpu-check and gpu-sweep, 2026-11-30): 8
  /// upload workers beat 16 (1 GiB: 36.8 vs 24.1 GB/s; 8 GiB: 48.5 vs 43.9), and 2
  /// download workers filling a mapped output beat 1, 4 and 8 at 8 GiB (5.8 GB/s against
  /// 3.0, 3.3 and 2.1), where many threads faulting in one file's pages contend.
  /// Registering the source in place (256 MiB at a time) stays available as
  /// `.registered`, or by `TENSORTOOL_REGISTER_WORKERS=N`: the driver registers one
  /// range at a time, at about 21-25 GB/s whatever the number of threads.
  /// `TENSORTOOL_TRANSFER_WORKERS`, `TENSORTOOL_DOWNLOAD_WORKERS`,
  /// `TENSORTOOL_REGISTER_WORKERS`, `TENSORTOOL_TRANSFER_CHUNK_MIB`,
  /// `TENSORTOOL_REGISTER_CHUNK_MIB`, `TENSORTOOL_TRANSFER_POPULATE=0`,
  /// `TENSORTOOL_PINNED_ALLOC=1`, and the routes `TENSORTOOL_DIRECT_READS`,
  /// `TENSORTOOL_SAVE_SYNCED` and `TENSORTOOL_SAVE_UNSYNCED` (see
  /// `TransferTuning.applyingEnvironment()`) override these, for measurements. Engine
  /// v2.1 (not yet measured on a GPU): cold chunks of a mapped file are read with
  /// `O_DIRECT` into the ring, and synced saves write with `O_DIRECT`.
  let tuning: TransferTuning
  let pool = TransferPool()

  static func defaultTuning() -> TransferTuning {
    let cores = SystemInfo.onlineProcessors
    let workers = environmentInteger("TENSORTOOL_TRANSFER_WORKERS", in: 1...64) ?? min(8, max(2, cores))
    let registering = environmentInteger("TENSORTOOL_REGISTER_WORKERS", in: 0...64) ?? 0
    let chunk = (environmentInteger("TENSORTOOL_TRANSFER_CHUNK_MIB", in: 1...1024) ?? 4) << 20
    let registrationChunk = (environmentInteger("TENSORTOOL_REGISTER_CHUNK_MIB", in: 1...4096) ?? 256) << 20
    return TransferTuning(
      chunk: chunk, registrationChunk: registrationChunk, workers: workers, registeringWorkers: registering,
      ringDepth: 4, smallCopy: 1 << 20,
      populate: environmentInteger("TENSORTOOL_TRANSFER_POPULATE", in: 0...1) != 0,
      downloadWorkers: environmentInteger("TENSORTOOL_DOWNLOAD_WORKERS", in: 1...64) ?? min(2, workers)
    ).applyingEnvironment()
  }

  init(driver: CUDADriver, index: Int) throws(TensorIOError) {
    self.driver = driver
    self.device = .cuda(index)
    var ordinal: Int32 = 0
    try driver.check(driver.cuDeviceGet(&ordinal, Int32(index)), "cuDeviceGet", device: index)
    self.ordinal = ordinal
    var context: CUDADriver.Context?
    try driver.check(driver.cuDevicePrimaryCtxRetain(&context, ordinal), "cuDevicePrimaryCtxRetain", device: index)
    guard let context else {
      throw TensorIOError(.unavailable(device: "cuda:\(index)", reason: "no primary context"))
    }
    self.context = context
    var buffer = [CChar](repeating: 0, count: 256)
    _ = driver.cuDeviceGetName(&buffer, Int32(buffer.count - 1), ordinal)
    self.name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var total = 0
    _ = driver.cuDeviceTotalMem(&total, ordinal)
    self.totalMemory = total
    self.tuning = CUDADevice.defaultTuning()
  }

  private var index: Int { Int(ordinal) }

  func attachThread() throws(TensorIOError) {
    try check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
  }

  private func check(_ result: CUDADriver.Result, _ call: String) throws(TensorIOError) {
    try driver.check(result, call, device: index)
  }

  func allocate(_ bytes: Int) throws(TensorIOError) -> UInt64 {
    try attachThread()
    var address: UInt64 = 0
    try check(driver.cuMemAlloc(&address, bytes), "cuMemAlloc_v2")
    return address
  }

  func free(_ address: UInt64) {
    _ = driver.cuCtxSetCurrent(context)
    _ = driver.cuMemFree(address)
  }

  func copyOnDevice(_ destination: UInt64, from source: UInt64, count: Int) throws(TensorIOError) {
    try attachThread()
    try check(driver.cuMemcpyDtoD(destination, source, count), "cuMemcpyDtoD_v2")
  }

  func copyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int) throws(TensorIOError) {
    try check(driver.cuMemcpyHtoD(destination, source, count), "cuMemcpyHtoD_v2")
  }

  func copyToHost(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int) throws(TensorIOError) {
    try check(driver.cuMemcpyDtoH(destination, source, count), "cuMemcpyDtoH_v2")
  }

  func makeStream() throws(TensorIOError) -> DeviceStream {
    var stream: CUDADriver.Stream?
    try check(driver.cuStreamCreate(&stream, CUDADriver.streamNonBlocking), "cuStreamCreate")
    guard let stream else { throw TensorIOError(.unavailable(device: "\(device)", reason: "no stream")) }
    return DeviceStream(raw: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(stream))))
  }

  private func stream(_ handle: DeviceStream) -> CUDADriver.Stream? {
    UnsafeRawPointer(bitPattern: handle.raw).map { OpaquePointer($0) }
  }

  func enqueueCopyToDevice(_ destination: UInt64, from source: UnsafeRawPointer, count: Int, on stream: DeviceStream)
    throws(TensorIOError)
  {
    try check(driver.cuMemcpyHtoDAsync(destination, source, count, self.stream(stream)), "cuMemcpyHtoDAsync_v2")
  }

  func enqueueCopyToHost(
    _ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int, on stream: DeviceStream
  ) throws(TensorIOError) {
    try check(driver.cuMemcpyDtoHAsync(destination, source, count, self.stream(stream)), "cuMemcpyDtoHAsync_v2")
  }

  func synchronize(_ stream: DeviceStream) throws(TensorIOError) {
    try check(driver.cuStreamSynchronize(self.stream(stream)), "cuStreamSynchronize")
  }

  /// Pinned memory made the way that is fastest to set up (as InstantTensor found
  /// against cudaHostAlloc): an anonymous mapping on huge pages, pre-faulted on all
  /// cores, then registered with the driver; `cuMemAllocHost` when that fails, or
  /// always with `TENSORTOOL_PINNED_ALLOC=1` (for measurements).
  func allocatePinned(_ bytes: Int) throws(TensorIOError) -> UnsafeMutableRawPointer {
    if environmentInteger("TENSORTOOL_PINNED_ALLOC", in: 0...1) != 1,
      let memory = try? VirtualMemory.mapAnonymous(length: bytes)
    {
      VirtualMemory.prefault(memory, length: bytes)
      if (try? check(driver.cuMemHostRegister(memory, bytes, 0), "cuMemHostRegister_v2")) != nil { return memory }
      VirtualMemory.unmap(memory, length: bytes)
    }
    var pointer: UnsafeMutableRawPointer?
    try check(driver.cuMemAllocHost(&pointer, bytes), "cuMemAllocHost_v2")
    guard let pointer else { throw TensorIOError(.unavailable(device: "\(device)", reason: "no pinned memory")) }
    return pointer
  }

  func register(_ start: UnsafeMutableRawPointer, count: Int, readOnly: Bool) throws(TensorIOError) {
    try check(
      driver.cuMemHostRegister(start, count, readOnly ? CUDADriver.hostRegisterReadOnly : 0), "cuMemHostRegister_v2")
  }

  func unregister(_ start: UnsafeMutableRawPointer) {
    _ = driver.cuMemHostUnregister(start)
  }
}

/// The value of environment variable `name` when it is an integer within `range`.
func environmentInteger(_ name: String, in range: ClosedRange<Int>) -> Int? {
  guard let text = SystemInfo.environment(name), let value = Int(text), range.contains(value) else {
    return nil
  }
  return value
}
