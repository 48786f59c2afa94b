import ArgumentParser
import TensorIO

/// `tensortool devices`: the devices tensors can live on.
struct Devices: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the devices: cpu, the simulated sim:N, and every CUDA device.",
    discussion: """
      CUDA devices are found through the driver (libcuda.so.1, loaded at run time); when
      it is missing or finds no device, the reason is printed and the other devices are
      still listed.

      Examples:
        tensortool devices
        tensortool devices --json
      """
  )

  @Flag(help: "Print JSON.")
  var json = false

  func run() throws {
    let (devices, cudaUnavailable) = DeviceCatalog.list()
    if json {
      let list = devices.map { info -> JSONValue in
        var members: [(String, JSONValue)] = [
          ("device", .string(info.device.description)),
          ("name", .string(info.name)),
          ("memory_bytes", info.memoryBytes.map { .integer($0) } ?? .null),
        ]
        if let version = info.driverVersion { members.append(("driver_version", .string(version))) }
        return .object(members)
      }
      print(
        JSONValue.object([("devices", .array(list)), ("cuda_error", cudaUnavailable.map { .string($0) } ?? .null)])
          .rendered)
      return
    }
    for info in devices {
      var line = info.device.description.padding(toLength: 8) + info.name
      if let bytes = info.memoryBytes { line += ", " + formatBytes(bytes) }
      if let version = info.driverVersion { line += ", driver \(version)" }
      print(line)
    }
    if let cudaUnavailable { print("cuda    unavailable: \(cudaUnavailable)") }
  }
}

extension String {
  /// The string padded with spaces to `length` characters (or followed by one space).
  func padding(toLength length: Int) -> String {
    count >= length ? self + " " : self + String(repeating: " ", count: length - count)
  }
}

/// `1.5 GiB`, `512 MiB`, `24 B`.
func formatBytes(_ bytes: Int) -> String {
  let units = ["B", "KiB", "MiB", "GiB", "TiB"]
  var value = Double(bytes)
  var unit = 0
  while value >= 1024 && unit < units.count - 1 {
    value /= 1024
    unit += 1
  }
  if unit == 0 { return "\(bytes) B" }
  let rounded = (value * 10).rounded() / 10
  return "\(rounded) \(units[unit])"
}
