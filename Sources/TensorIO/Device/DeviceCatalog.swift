import Glibc

/// What one device is, as `tensortool devices` lists it.
public struct DeviceInfo: Sendable, Hashable {
  /// The device.
  public var device: Device
  /// A human-readable name (`NVIDIA H100 PCIe`, `simulated device`, `host memory`).
  public var name: String
  /// Total memory in bytes (device memory; physical memory for the CPU).
  public var memoryBytes: Int?
  /// The CUDA driver version (`12.4`), for CUDA devices.
  public var driverVersion: String?
}

/// The devices this machine offers.
public enum DeviceCatalog {
  /// Every usable device (cpu, the simulated devices, each CUDA device), and why CUDA
  /// is unavailable when it is.
  public static func list() -> (devices: [DeviceInfo], cudaUnavailable: String?) {
    var devices = [DeviceInfo(device: .cpu, name: "host memory", memoryBytes: physicalMemory())]
    for index in 0..<SimulatedDevice.count {
      devices.append(DeviceInfo(device: .sim(index), name: "simulated device", memoryBytes: SimulatedDevice.capacity))
    }
    do {
      let driver = try CUDADriver.shared()
      let version = "\(driver.version / 1000).\(driver.version % 1000 / 10)"
      if driver.deviceCount == 0 { return (devices, "no CUDA device found (driver \(version))") }
      for index in 0..<driver.deviceCount {
        do {
          let device = try driver.device(index)
          devices.append(
            DeviceInfo(device: .cuda(index), name: device.name, memoryBytes: device.totalMemory, driverVersion: version)
          )
        } catch {
          return (devices, error.description)
        }
      }
      return (devices, nil)
    } catch {
      if case .device(.unavailable(_, let reason)) = error.reason { return (devices, reason) }
      return (devices, error.reason.description)
    }
  }

  /// Loads the device's driver and creates its context now (for CUDA, seconds at
  /// most), so that later transfers measure only moving bytes. Nothing to do for the
  /// CPU.
  public static func prepare(_ device: Device) throws(TensorIOError) {
    guard device != .cpu else { return }
    try Devices.backend(for: device).attachThread()
  }

  private static func physicalMemory() -> Int? { SystemInfo.physicalMemory }
}
