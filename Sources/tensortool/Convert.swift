import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool convert SRC DST`: changes dtype, byte order, memory order or container.
struct Convert: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Convert between .npy and .npz, dtypes, byte orders and memory orders.",
    discussion: """
      SRC and DST are FILE specs: path.npy, path.npz (every member) or path.npz:member.
      A DST of path.npz:member adds that member to an existing archive, or replaces the
      member of that name in its place; every other member is kept byte for byte.
      A DST of path.npz is a new archive (an existing one is replaced).
      With no options the dtype (byte order included) and the memory order are kept.
      --dtype gives numpy's astype(DESCR, casting='unsafe') bit for bit; where numpy's
      result is undefined (a float NaN, infinity or out-of-range value cast to an
      integer), NaN becomes 0 and other values saturate to the integer's range.
      Output is written streaming, in bounded memory (about 1 Mi elements of source and
      target per core at a time, whatever the file's size), for .npy and .npz
      destinations alike. The output is written atomically: a failed convert leaves no
      DST and never touches an existing one.

      Examples:
        tensortool convert big_endian.npy native.npy --byte-order native
        tensortool convert weights.npy weights_f16.npy --dtype '<f2'
        tensortool convert a.npy a_fortran.npy --order F
        tensortool convert model.npz model_small.npz --compress=9
        tensortool convert model.npz:layer1/weight w.npy
      """
  )

  @Argument(help: ArgumentHelp("The source: path.npy, path.npz or path.npz:member.", valueName: "SRC"))
  var source: String

  @Argument(help: ArgumentHelp("The destination: path.npy, path.npz or path.npz:member.", valueName: "DST"))
  var destination: String

  @Option(help: ArgumentHelp("Target dtype: a numpy descr such as '<f4', 'f2', 'int64'.", valueName: "DESCR"))
  var dtype: String?

  @Option(help: ArgumentHelp("Memory order of the output: C or F.", valueName: "C|F"))
  var order: OrderArgument?

  @Option(help: ArgumentHelp("Byte order of the output.", valueName: "little|big|native"))
  var byteOrder: ByteOrderArgument?

  @Flag(
    help:
      "Deflate npz members, at the default level (6, numpy's) unless --level says. --compress=LEVEL is short for --compress --level LEVEL."
  )
  var compress = false

  @Option(
    help: ArgumentHelp(
      "Level for --compress, on zlib's scale: 1 (fastest) to 9 (smallest). Implies --compress.", valueName: "LEVEL"))
  var level: Int?

  @Flag(help: "Store npz members uncompressed (the default), 64-byte aligned.")
  var stored = false

  @Option(
    help: ArgumentHelp(
      "A safetensors __metadata__ entry for a .safetensors destination (repeatable).", valueName: "KEY=VALUE"))
  var metadata: [String] = []

  @OptionGroup var writing: WriteOptions

  @Flag(name: .shortAndLong, help: "No progress bar.")
  var quiet = false

  @OptionGroup var options: ReadOptions

  enum OrderArgument: String, ExpressibleByArgument {
    case c = "C"
    case f = "F"
  }

  enum ByteOrderArgument: String, ExpressibleByArgument {
    case little, big, native
  }

  func validate() throws {
    if compress && stored { throw ValidationError("--compress and --stored exclude each other") }
    for item in metadata where !item.contains("=") {
      throw ValidationError("--metadata takes KEY=VALUE, not '\(item)'")
    }
    if let level, !(1...9).contains(level) {
      throw ValidationError("--level takes a zlib level from 1 to 9")
    }
  }

  func run() throws {
    do {
      try convert()
    } catch {
      reportError(error)
      throw ExitCode(1)
    }
  }

  private func convert() throws {
    let from = FileSpec(source)
    let to = FileSpec(destination)
    let targetDType = try dtype.map { try DType(typeString: $0) }
    let targetByteOrder: ByteOrder? = byteOrder.map {
      switch $0 {
      case .little: return .little
      case .big: return .big
      case .native: return .native
      }
    }
    let compression: NPZArchive.Compression =
      compress || level != nil ? .deflate(level: level ?? -1) : .stored
    func plan(_ array: NDArray) throws -> (DType, MemoryOrder) {
      let target = try Conversion.targetDType(source: array.dtype, dtype: targetDType, byteOrder: targetByteOrder)
      let memoryOrder: MemoryOrder = order.map { $0 == .f ? .fortran : .c } ?? array.saveOrder
      return (target, memoryOrder)
    }
    switch to {
    case .standardStream:
      // npy bytes to standard output; a reader that closes the pipe ends this quietly.
      if compress || level != nil || stored {
        throw CommandError("--compress and --stored need an .npz destination", path: "-")
      }
      let array = try from.openArray(maxHeaderSize: options.maxHeaderSize, upcast: targetDType != nil)
      let (target, memoryOrder) = try plan(array)
      do throws(TensorIOError) {
        try Conversion.writeNPY(array, to: .standardOutput, dtype: target, order: memoryOrder)
      } catch {
        if case .system(_, .brokenPipe) = error.reason { return }
        throw error
      }
    case .npy(let path):
      if compress || level != nil || stored {
        throw CommandError("--compress and --stored need an .npz destination", path: path)
      }
      let durability = writing.durability
      if let (archive, key) = try from.archiveMember(maxHeaderSize: options.maxHeaderSize) {
        // An npz member: a deflated one streams into the output (bounded memory).
        let info = try archive.info(key)
        let itemSize = try Conversion.targetDType(
          source: info.header.dtype, dtype: targetDType, byteOrder: targetByteOrder
        ).itemSize
        let bar = ProgressBar(total: info.header.count * itemSize, label: "convert", quiet: quiet)
        defer { bar.finish() }
        try Conversion.writeNPY(
          member: key, of: archive, to: path, dtype: targetDType, byteOrder: targetByteOrder,
          order: order.map { $0 == .f ? .fortran : .c }, durability: durability, progress: { bar.update($0) })
        return
      }
      let array = try from.openArray(maxHeaderSize: options.maxHeaderSize, upcast: targetDType != nil)
      let (target, memoryOrder) = try plan(array)
      let bar = ProgressBar(total: array.count * target.itemSize, label: "convert", quiet: quiet)
      defer { bar.finish() }
      try Conversion.writeNPY(
        array, to: FilePath(path), dtype: target, order: memoryOrder, durability: writing.durability,
        progress: { bar.update($0) })
    case .npz(let path):
      var plans: [NPZArchive.MemberToWrite] = []
      switch from {
      case .npz, .safetensors:
        for source in try lazySources(from, upcast: targetDType != nil) {
          let array = try source.open()
          let (target, memoryOrder) = try plan(array)
          plans.append(.init(name: source.name, array: array, dtype: target, order: memoryOrder))
        }
      default:
        let array = try from.openArray(maxHeaderSize: options.maxHeaderSize, upcast: targetDType != nil)
        let (target, memoryOrder) = try plan(array)
        plans.append(.init(name: "arr_0", array: array, dtype: target, order: memoryOrder))
      }
      try writeArchive(plans, to: path, compression: compression)
    case .safetensors(let path), .safetensorsTensor(let path, _):
      if compress || level != nil || stored || order == .f || byteOrder == .big {
        throw CommandError(
          "a safetensors file holds little-endian, C-order, uncompressed data: --order F, --byte-order big, "
            + "--compress and --stored do not apply", path: path)
      }
      var tensors: [SafetensorsFile.TensorToWrite] = []
      for source in try lazySources(from, upcast: targetDType != nil) {
        // BF16 and F8 stay raw bytes unless a --dtype asks for their values.
        if let raw = source.raw, targetDType == nil {
          tensors.append(.init(name: source.name, shape: source.shape, dtype: raw, opening: source.open))
          continue
        }
        let target = try Conversion.targetDType(source: source.dtype, dtype: targetDType, byteOrder: targetByteOrder)
        guard let type = SafetensorsDType(numpy: target) else {
          throw TensorIOError(.cannotHoldDType(target.name), path: path)
        }
        tensors.append(.init(name: source.name, shape: source.shape, dtype: type, opening: source.open))
      }
      try writeSafetensors(tensors, to: to, inheriting: from)
    case .npzMember(let path, let member):
      let array = try from.openArray(maxHeaderSize: options.maxHeaderSize, upcast: targetDType != nil)
      let (target, memoryOrder) = try plan(array)
      let name = NPZArchive.key(forMemberName: member)
      // Into an existing archive: adds or replaces that one member, keeps the others.
      try writeArchive(
        [.init(name: name, array: array, dtype: target, order: memoryOrder)], to: path, compression: compression,
        keepingOthers: true)
    }
  }

  /// A source array known by its name, dtype and shape, opened only when written.
  private struct LazySource {
    var name: String
    var dtype: DType
    var shape: [Int]
    /// The safetensors dtype of BF16 and F8 data kept as raw bytes.
    var raw: SafetensorsDType?
    var open: @Sendable () throws(TensorIOError) -> NDArray
  }

  /// The arrays SRC names, each opened only when its turn to be written comes (so that
  /// a whole archive converts holding one member at a time): every member of a whole
  /// archive, every tensor of a whole safetensors file (BF16 and F8 as float32 with
  /// `upcast`, else as raw bytes), or the one array.
  private func lazySources(_ from: FileSpec, upcast: Bool) throws -> [LazySource] {
    switch from {
    case .npz(let path):
      let archive = try NPZArchive(path: FilePath(path), maxHeaderSize: options.maxHeaderSize)
      return try archive.members.map { member in
        let header = try archive.info(member.key).header
        return LazySource(name: member.key, dtype: header.dtype, shape: header.shape, raw: nil) {
          () throws(TensorIOError) in try archive.mapOrLoad(member.key)
        }
      }
    case .safetensors(let path):
      let file = try SafetensorsFile(path: FilePath(path))
      return file.tensors.map { info in
        guard info.dtype.isExtendedFloat else {
          return LazySource(name: info.name, dtype: info.dtype.arrayDType, shape: info.shape, raw: nil) {
            () throws(TensorIOError) in try file.mapOrLoad(info.name)
          }
        }
        if upcast {
          return LazySource(
            name: info.name, dtype: DType(.float(bytes: 4), byteOrder: .native), shape: info.shape, raw: nil
          ) { () throws(TensorIOError) in try Upcast.float32(try file.mapOrLoad(info.name), from: info.dtype) }
        }
        return LazySource(name: info.name, dtype: info.dtype.arrayDType, shape: info.shape, raw: info.dtype) {
          () throws(TensorIOError) in try file.mapOrLoad(info.name)
        }
      }
    default:
      let array = try from.openArray(maxHeaderSize: options.maxHeaderSize, upcast: upcast)
      let raw = try from.safetensorsTensor().flatMap { $0.1.dtype.isExtendedFloat && !upcast ? $0.1.dtype : nil }
      return [LazySource(name: from.arrayName, dtype: array.dtype, shape: array.shape, raw: raw) { array }]
    }
  }

  /// Writes a safetensors destination: a new file of `tensors` (with the source file's
  /// metadata when it is a whole safetensors file, and `--metadata`), or for
  /// `file:NAME` the one tensor added to an existing file under NAME.
  private func writeSafetensors(_ tensors: [SafetensorsFile.TensorToWrite], to: FileSpec, inheriting from: FileSpec)
    throws
  {
    var entries: [SafetensorsFile.MetadataEntry] = []
    if case .safetensors(let path) = from { entries = try SafetensorsFile(path: FilePath(path)).metadata }
    for item in metadata {
      let (key, value) = item.halvesAtEquals
      entries.removeAll { $0.key == key }
      entries.append(.init(key: key, value: value))
    }
    let total = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.itemSize }
    let bar = ProgressBar(total: total, label: "convert", quiet: quiet)
    defer { bar.finish() }
    switch to {
    case .safetensorsTensor(let path, let name):
      guard tensors.count == 1, var tensor = tensors.first else {
        throw CommandError("a single tensor goes into \(path):\(name)", path: path)
      }
      tensor.name = name
      try SafetensorsFile.update(
        FilePath(path), adding: [tensor], metadata: metadata.isEmpty ? nil : entries,
        durability: writing.durability, progress: { bar.update($0) })
    default:
      try SafetensorsFile.write(
        tensors, metadata: entries, to: FilePath(to.description), durability: writing.durability,
        progress: { bar.update($0) })
    }
  }

  /// Writes the archive (or, `keepingOthers`, updates the members named in `plans` of
  /// an existing one), with a progress bar over the members' data bytes.
  private func writeArchive(
    _ plans: [NPZArchive.MemberToWrite], to path: String, compression: NPZArchive.Compression,
    keepingOthers: Bool = false
  ) throws {
    let total = plans.reduce(0) { $0 + $1.array.count * $1.dtype.itemSize }
    let bar = ProgressBar(total: total, label: "convert", quiet: quiet)
    defer { bar.finish() }
    let durability = writing.durability
    if keepingOthers {
      try NPZArchive.update(
        FilePath(path), adding: plans, compression: compression, durability: durability, progress: { bar.update($0) })
    } else {
      try NPZArchive.write(
        plans, to: FilePath(path), compression: compression, durability: durability, progress: { bar.update($0) })
    }
  }
}

extension String {
  /// The text before the first `=` and after it.
  var halvesAtEquals: (String, String) {
    guard let i = firstIndex(of: "=") else { return (self, "") }
    return (String(self[..<i]), String(self[index(after: i)...]))
  }
}
