import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool copy SRC [VIA...] DST`: moves an array between files and devices, leg by
/// leg, and reports each leg's speed.
struct Copy: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Copy an array between .npy/.npz files and devices, printing each leg's GB/s.",
    discussion: """
      Each of SRC, VIA and DST is a FILE (path.npy, path.npz:member) or a DEVICE (cpu,
      cuda:N, sim:N); the array travels SRC -> VIA... -> DST. A source file (or stored,
      aligned npz member) is memory-mapped, not read up front; an npz member copied to a
      device goes there straight from the archive, its CRC-32 checked (a deflated one is
      inflated chunk by chunk into pinned buffers that upload while the next chunk
      inflates, and verifying it inflates it once more on the host). A path.npz
      destination is a new archive holding that one member; path.npz:NAME adds or
      replaces NAME in an existing archive and keeps every other member. Uploads to a device are verified by reading the bytes back and comparing
      CRC-32s (not counted in the leg's time); --no-verify skips that. Output files are
      written atomically: a failed copy leaves no partial file. A file named like a
      device is given as ./cpu.

      Examples:
        tensortool copy weights.npy cuda:0                 # upload and verify
        tensortool copy weights.npy cuda:0 roundtrip.npy   # file -> GPU -> file
        tensortool copy big.npy sim:0 cpu out.npy --json
      """
  )

  @Argument(help: ArgumentHelp("Source, intermediate stops and destination.", valueName: "SPEC"))
  var specs: [String]

  @Flag(inversion: .prefixedNo, help: "Read uploads back and compare checksums.")
  var verify = true

  @Option(help: "How bytes cross to and from devices: automatic, pageable, staged or registered.")
  var transfer: TransferPath = .automatic

  @OptionGroup var writing: WriteOptions

  @Flag(help: "Print JSON: one object with the legs.")
  var json = false

  @Flag(name: .shortAndLong, help: "Print nothing but errors (no legs, no progress bar).")
  var quiet = false

  @OptionGroup var options: ReadOptions

  func validate() throws {
    guard specs.count >= 2 else { throw ValidationError("copy needs a source and a destination") }
  }

  enum Spec: CustomStringConvertible {
    case file(FileSpec)
    case device(Device)

    init(_ text: String) {
      if let device = try? TensorIO.Device(parsing: text) {
        self = .device(device)
      } else {
        self = .file(FileSpec(text))
      }
    }

    var description: String {
      switch self {
      case .file(let spec): return spec.description
      case .device(let device): return device.description
      }
    }
  }

  struct Leg {
    var from: String
    var to: String
    var bytes: Int
    var seconds: Double
    var verified: Bool?
  }

  func run() throws {
    do {
      let legs = try performLegs()
      if !quiet { report(legs) }
    } catch {
      reportError(error)
      throw ExitCode(1)
    }
  }

  private func performLegs() throws -> [Leg] {
    let parsed = specs.map(Spec.init)
    guard case .file(let source) = parsed[0] else {
      throw CommandError("the source must be a file, not a device", path: specs[0])
    }
    // Drivers and contexts start before the clock does: legs time moving bytes.
    for case .device(let device) in parsed { try DeviceCatalog.prepare(device) }
    let clock = ContinuousClock()
    var start = clock.now
    var legs: [Leg] = []
    var previous = parsed[0]
    var rest = parsed.dropFirst()
    let tensor0: Tensor
    if case .device(let device) = parsed[1], device != .cpu,
      let (archive, key) = try source.archiveMember(maxHeaderSize: options.maxHeaderSize)
    {
      // An npz member goes onto the device straight from the archive (a deflated one
      // inflates chunk by chunk into the pinned ring), not through a host copy.
      let progress = TransferProgress()
      let total = try archive.info(key).header.dataBytes
      let bar = ProgressBar(total: total, label: "copy to \(device)", quiet: quiet || json)
      tensor0 = try bar.track(progress) { try archive.load(key, to: device, path: transfer, progress: progress) }
      let elapsed = clock.now - start
      // Against the member on the host: mapped when stored and aligned, else loaded
      // (a deflated one inflates once more).
      let verified = verify ? try checkUpload(Tensor(archive.mapOrLoad(key)), tensor0, source: source.description) : nil
      legs.append(
        Leg(
          from: source.description, to: device.description, bytes: tensor0.byteCount, seconds: seconds(elapsed),
          verified: verified))
      previous = parsed[1]
      rest = parsed.dropFirst(2)
      start = clock.now
    } else {
      tensor0 = Tensor(try source.openArray(maxHeaderSize: options.maxHeaderSize))
    }
    var tensor = tensor0
    for spec in rest {
      var verified: Bool? = nil
      switch spec {
      case .device(let device):
        let wasMapped = tensor.device == .cpu && (try? tensor.requireHostStorage().mappedFile) != nil
        let moved: Tensor
        if device == .cpu && tensor.device == .cpu {
          // Into memory: a mapped file is read.
          moved = wasMapped ? try readIntoMemory(tensor) : tensor
        } else {
          let progress = TransferProgress()
          let bar = ProgressBar(total: tensor.byteCount, label: "copy to \(device)", quiet: quiet || json)
          let source = tensor
          moved = try bar.track(progress) { try source.to(device, path: transfer, progress: progress) }
        }
        let elapsed = clock.now - start
        if verify && device != .cpu && tensor.device == .cpu {
          verified = try checkUpload(tensor, moved, source: source.description)
        }
        legs.append(
          Leg(
            from: previous.description, to: spec.description, bytes: tensor.byteCount, seconds: seconds(elapsed),
            verified: verified))
        tensor = moved
      case .file(let destination):
        let bar = ProgressBar(total: tensor.byteCount, label: "copy to \(destination)", quiet: quiet || json)
        defer { bar.finish() }
        try destination.write(
          tensor, durability: writing.durability, transfer: transfer, progress: { bar.update($0) })
        legs.append(
          Leg(
            from: previous.description, to: destination.description, bytes: tensor.byteCount,
            seconds: seconds(clock.now - start), verified: nil))
        tensor = Tensor(try destination.openArray(maxHeaderSize: options.maxHeaderSize))
      }
      previous = spec
      start = clock.now
    }
    return legs
  }

  /// A host copy of a mapped tensor in its own memory order (a Fortran-order file stays
  /// Fortran-order through `cpu`).
  private func readIntoMemory(_ tensor: Tensor) throws -> Tensor {
    let array = try tensor.numpy()
    return Tensor(try array.copy(order: array.saveOrder))
  }

  /// Reads `uploaded` back and compares its CRC-32 with `host`'s: true, or an error
  /// naming `source`.
  private func checkUpload(_ host: Tensor, _ uploaded: Tensor, source: String) throws -> Bool {
    guard try checksum(host) == checksum(try uploaded.cpu(path: transfer)) else {
      throw CommandError("verification failed: \(uploaded.device) holds different bytes", path: source)
    }
    return true
  }

  private func checksum(_ tensor: Tensor) throws -> UInt32 {
    let array = try tensor.contiguous().numpy()
    guard let bytes = array.unsafeContiguousBytes else { return 0 }
    return CRC32.checksum(bytes)
  }

  private func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
  }

  private func report(_ legs: [Leg]) {
    func rate(_ leg: Leg) -> Double { leg.seconds > 0 ? Double(leg.bytes) / leg.seconds / 1e9 : 0 }
    if json {
      let list = legs.map { leg -> JSONValue in
        .object([
          ("from", .string(leg.from)), ("to", .string(leg.to)), ("bytes", .integer(leg.bytes)),
          ("seconds", .number(leg.seconds)), ("gb_per_s", .number(rate(leg))),
          ("verified", leg.verified.map { .bool($0) } ?? .null),
        ])
      }
      print(JSONValue.object([("legs", .array(list))]).rendered)
      return
    }
    for leg in legs {
      var line =
        "\(leg.from) -> \(leg.to): \(formatBytes(leg.bytes)) in \(format(leg.seconds, 4)) s, \(format(rate(leg), 2)) GB/s"
      if leg.verified == true { line += " (verified)" }
      print(line)
    }
  }
}

extension TransferPath: ExpressibleByArgument {}

/// `value` with `digits` decimals.
func format(_ value: Double, _ digits: Int) -> String {
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let rounded = (value * scale).rounded() / scale
  var text = String(rounded)
  if let dot = text.firstIndex(of: ".") {
    let decimals = text.distance(from: dot, to: text.endIndex) - 1
    if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
  }
  return text
}
