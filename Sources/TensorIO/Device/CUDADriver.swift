import Glibc
import Synchronization

/// The CUDA driver API, loaded at run time with `dlopen("libcuda.so.1")`: no CUDA SDK
/// is needed to build, and machines without a driver get a clear error for `cuda:N`
/// while everything else works. Every call's result is checked and turned into an
/// error carrying the CUDA error name (`cuGetErrorName`).
final class CUDADriver: @unchecked Sendable {
  // Safety: every stored property is a `let` C function pointer into the driver
  // library, which stays loaded for the life of the process; the driver API may be
  // called from any thread.
  typealias Result = Int32
  typealias Context = OpaquePointer
  typealias Stream = OpaquePointer

  // Versioned symbols are looked up by their `_v2` names, as the driver exports them.
  let cuInit: @convention(c) (UInt32) -> Result
  let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
  let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
  let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Result
  let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result
  let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Result
  let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<Context?>, Int32) -> Result
  let cuCtxSetCurrent: @convention(c) (Context?) -> Result
  let cuGetErrorName: @convention(c) (Result, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result
  let cuMemAlloc: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Result
  let cuMemFree: @convention(c) (UInt64) -> Result
  let cuMemcpyHtoD: @convention(c) (UInt64, UnsafeRawPointer?, Int) -> Result
  let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int) -> Result
  let cuMemcpyDtoD: @convention(c) (UInt64, UInt64, Int) -> Result
  let cuMemcpyHtoDAsync: @convention(c) (UInt64, UnsafeRawPointer?, Int, Stream?) -> Result
  let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int, Stream?) -> Result
  let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Result
  let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> Result
  let cuMemHostRegister: @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Result
  let cuMemHostUnregister: @convention(c) (UnsafeMutableRawPointer?) -> Result
  let cuStreamCreate: @convention(c) (UnsafeMutablePointer<Stream?>, UInt32) -> Result
  let cuStreamSynchronize: @convention(c) (Stream?) -> Result

  /// `CU_MEMHOSTREGISTER_READ_ONLY`: register memory the driver may only read (needed
  /// for read-only file mappings).
  static let hostRegisterReadOnly: UInt32 = 0x08
  /// `CU_STREAM_NON_BLOCKING`.
  static let streamNonBlocking: UInt32 = 0x1

  /// The driver's version, e.g. 12040 for CUDA 12.4.
  let version: Int32
  /// Number of CUDA devices.
  let deviceCount: Int

  private let devices = Locked<[Int: CUDADevice]>([:])

  private static let loaded: Swift.Result<CUDADriver, TensorIOError> = {
    do throws(TensorIOError) {
      return .success(try CUDADriver())
    } catch {
      return .failure(error)
    }
  }()

  /// The driver, loaded and initialised once; or why it cannot be used.
  static func shared() throws(TensorIOError) -> CUDADriver {
    try loaded.get()
  }

  private init() throws(TensorIOError) {
    func unavailable(_ reason: String) -> TensorIOError {
      TensorIOError(.unavailable(device: "cuda", reason: reason))
    }
    let library: DynamicLibrary
    do {
      library = try DynamicLibrary(loading: "libcuda.so.1")
    } catch {
      throw unavailable("CUDA driver not available (dlopen libcuda.so.1: \(error.detail))")
    }
    func symbol<T>(_ name: String, as type: T.Type) throws(TensorIOError) -> T {
      guard let pointer = library.symbol(name) else {
        throw unavailable("the CUDA driver lacks \(name)")
      }
      return unsafeBitCast(pointer, to: type)
    }
    cuInit = try symbol("cuInit", as: (@convention(c) (UInt32) -> Result).self)
    cuDriverGetVersion = try symbol(
      "cuDriverGetVersion", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Result).self)
    cuDeviceGetCount = try symbol("cuDeviceGetCount", as: (@convention(c) (UnsafeMutablePointer<Int32>) -> Result).self)
    cuDeviceGet = try symbol("cuDeviceGet", as: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Result).self)
    cuDeviceGetName = try symbol(
      "cuDeviceGetName", as: (@convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result).self)
    cuDeviceTotalMem = try symbol(
      "cuDeviceTotalMem_v2", as: (@convention(c) (UnsafeMutablePointer<Int>, Int32) -> Result).self)
    cuDevicePrimaryCtxRetain = try symbol(
      "cuDevicePrimaryCtxRetain", as: (@convention(c) (UnsafeMutablePointer<Context?>, Int32) -> Result).self)
    cuCtxSetCurrent = try symbol("cuCtxSetCurrent", as: (@convention(c) (Context?) -> Result).self)
    cuGetErrorName = try symbol(
      "cuGetErrorName", as: (@convention(c) (Result, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result).self)
    cuMemAlloc = try symbol("cuMemAlloc_v2", as: (@convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Result).self)
    cuMemFree = try symbol("cuMemFree_v2", as: (@convention(c) (UInt64) -> Result).self)
    cuMemcpyHtoD = try symbol("cuMemcpyHtoD_v2", as: (@convention(c) (UInt64, UnsafeRawPointer?, Int) -> Result).self)
    cuMemcpyDtoH = try symbol(
      "cuMemcpyDtoH_v2", as: (@convention(c) (UnsafeMutableRawPointer?, UInt64, Int) -> Result).self)
    cuMemcpyDtoD = try symbol("cuMemcpyDtoD_v2", as: (@convention(c) (UInt64, UInt64, Int) -> Result).self)
    cuMemcpyHtoDAsync = try symbol(
      "cuMemcpyHtoDAsync_v2", as: (@convention(c) (UInt64, UnsafeRawPointer?, Int, Stream?) -> Result).self)
    cuMemcpyDtoHAsync = try symbol(
      "cuMemcpyDtoHAsync_v2", as: (@convention(c) (UnsafeMutableRawPointer?, UInt64, Int, Stream?) -> Result).self)
    cuMemAllocHost = try symbol(
      "cuMemAllocHost_v2", as: (@convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Result).self)
    cuMemFreeHost = try symbol("cuMemFreeHost", as: (@convention(c) (UnsafeMutableRawPointer?) -> Result).self)
    cuMemHostRegister = try symbol(
      "cuMemHostRegister_v2", as: (@convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Result).self)
    cuMemHostUnregister = try symbol(
      "cuMemHostUnregister", as: (@convention(c) (UnsafeMutableRawPointer?) -> Result).self)
    cuStreamCreate = try symbol(
      "cuStreamCreate", as: (@convention(c) (UnsafeMutablePointer<Stream?>, UInt32) -> Result).self)
    cuStreamSynchronize = try symbol("cuStreamSynchronize", as: (@convention(c) (Stream?) -> Result).self)

    let initResult = cuInit(0)
    if initResult != 0 {
      var name: UnsafePointer<CChar>?
      _ = cuGetErrorName(initResult, &name)
      throw unavailable("cuInit failed: \(name.map { String(cString: $0) } ?? "error") (\(initResult))")
    }
    var version: Int32 = 0
    _ = cuDriverGetVersion(&version)
    self.version = version
    var count: Int32 = 0
    let countResult = cuDeviceGetCount(&count)
    self.deviceCount = countResult == 0 ? Int(count) : 0
  }

  /// The name of a CUDA result code (`CUDA_ERROR_OUT_OF_MEMORY`).
  func errorName(_ code: Result) -> String {
    var name: UnsafePointer<CChar>?
    guard cuGetErrorName(code, &name) == 0, let name else { return "CUDA error" }
    return String(cString: name)
  }

  /// Throws for a non-zero result, naming the call and the error.
  func check(_ result: Result, _ call: String, device: Int) throws(TensorIOError) {
    if result != 0 {
      throw TensorIOError(.call(device: "cuda:\(device)", call: call, code: result, name: errorName(result)))
    }
  }

  /// The backend for device `index`, retaining its primary context on first use.
  func device(_ index: Int) throws(TensorIOError) -> CUDADevice {
    guard index >= 0, index < deviceCount else {
      throw TensorIOError(
        .unavailable(
          device: "cuda:\(index)",
          reason: deviceCount == 0 ? "no CUDA device found" : "no such device (\(deviceCount) CUDA devices)"))
    }
    var failure: TensorIOError?
    let device = devices.withLock { devices -> CUDADevice? in
      if let existing = devices[index] { return existing }
      do throws(TensorIOError) {
        let created = try CUDADevice(driver: self, index: index)
        devices[index] = created
        return created
      } catch {
        failure = error
        return nil
      }
    }
    guard let device else {
      throw failure ?? TensorIOError(.unavailable(device: "cuda:\(index)", reason: "unavailable"))
    }
    return device
  }
}
