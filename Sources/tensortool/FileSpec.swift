import SystemPackage
import TensorIO

/// A FILE argument: `path.npy`, `path.npz`, `path.npz:member`, `path.safetensors` or
/// `path.safetensors:NAME` (split at the first `.npz:` or `.safetensors:`; the name may
/// contain `/`, `.` and `:`), or `-`.
enum FileSpec: CustomStringConvertible {
  /// `-`: npy bytes on standard input (or, as a destination, to standard output).
  case standardStream
  case npy(String)
  case npz(String)
  case npzMember(archive: String, member: String)
  case safetensors(String)
  case safetensorsTensor(file: String, name: String)

  init(_ text: String) {
    if text == "-" {
      self = .standardStream
      return
    }
    let bytes = Array(text.utf8)
    func find(_ marker: String) -> Int? {
      let m = Array(marker.utf8)
      guard bytes.count >= m.count else { return nil }
      return (0...(bytes.count - m.count)).first { bytes[$0..<($0 + m.count)].elementsEqual(m) }
    }
    let npz = find(".npz:")
    let safetensors = find(".safetensors:")
    func split(_ start: Int, _ suffixLength: Int) -> (String, String) {
      (
        String(decoding: bytes[..<(start + suffixLength)], as: UTF8.self),
        String(decoding: bytes[(start + suffixLength + 1)...], as: UTF8.self)
      )
    }
    if let start = npz, start <= (safetensors ?? Int.max) {
      let (archive, member) = split(start, 4)
      self = .npzMember(archive: archive, member: member)
    } else if let start = safetensors {
      let (file, name) = split(start, 12)
      self = .safetensorsTensor(file: file, name: name)
    } else if text.hasSuffix(".npz") {
      self = .npz(text)
    } else if text.hasSuffix(".safetensors") {
      self = .safetensors(text)
    } else {
      self = .npy(text)
    }
  }

  var description: String {
    switch self {
    case .standardStream: return "-"
    case .npy(let path), .npz(let path), .safetensors(let path): return path
    case .npzMember(let archive, let member): return "\(archive):\(member)"
    case .safetensorsTensor(let file, let name): return "\(file):\(name)"
    }
  }

  /// The name an array from this spec takes in an archive or safetensors file: the
  /// member's or tensor's own name, else the file name without `.npy`.
  var arrayName: String {
    switch self {
    case .standardStream: return "arr_0"
    case .npzMember(_, let member): return NPZArchive.key(forMemberName: member)
    case .safetensorsTensor(_, let name): return name
    case .npy(let path), .npz(let path), .safetensors(let path):
      let last = FilePath(path).lastComponent?.string ?? path
      for suffix in [".npz", ".safetensors"] where last.hasSuffix(suffix) { return String(last.dropLast(suffix.count)) }
      return NPZArchive.key(forMemberName: last)
    }
  }

  /// The safetensors file and tensor this spec names (an archive with one tensor names
  /// it), else nil.
  func safetensorsTensor() throws -> (SafetensorsFile, SafetensorsFile.TensorInfo)? {
    switch self {
    case .safetensors(let path):
      let file = try SafetensorsFile(path: FilePath(path))
      guard file.tensors.count == 1, let only = file.tensors.first else {
        throw CommandError("the file has \(file.tensors.count) tensors: name one as \(path):NAME", path: path)
      }
      return (file, only)
    case .safetensorsTensor(let path, let name):
      let file = try SafetensorsFile(path: FilePath(path))
      return (file, try file.info(name))
    default: return nil
    }
  }

  /// The array this spec names, mapped read-only when it can be (an `.npy`, a stored
  /// aligned npz member, an aligned safetensors tensor), else loaded. BF16 and F8
  /// tensors come as raw bytes (`|V2`, `|V1`), or with `upcast` as their exact float32
  /// values.
  func openArray(maxHeaderSize: Int, upcast: Bool = false) throws -> NDArray {
    if case .npy(let path) = self {
      return try NPYFile.map(FilePath(path), mode: .readOnly, maxHeaderSize: maxHeaderSize)
    }
    if let (file, info) = try safetensorsTensor() {
      let array = try file.mapOrLoad(info.name)
      return upcast && info.dtype.isExtendedFloat ? try Upcast.float32(array, from: info.dtype) : array
    }
    if case .standardStream = self { return try NPYFile.read(maxHeaderSize: maxHeaderSize).array }
    guard let (archive, key) = try archiveMember(maxHeaderSize: maxHeaderSize) else {
      throw CommandError("not an array file", path: description)
    }
    return try archive.mapOrLoad(key)
  }

  /// The archive and member key when this spec names an npz member (or an archive
  /// holding exactly one), else nil.
  func archiveMember(maxHeaderSize: Int) throws -> (NPZArchive, String)? {
    switch self {
    case .npy, .standardStream, .safetensors, .safetensorsTensor: return nil
    case .npz(let path):
      let archive = try NPZArchive(path: FilePath(path), maxHeaderSize: maxHeaderSize)
      guard archive.members.count == 1, let only = archive.members.first else {
        throw CommandError("the archive has \(archive.members.count) members: name one as \(path):NAME", path: path)
      }
      return (archive, only.key)
    case .npzMember(let path, let member):
      return (try NPZArchive(path: FilePath(path), maxHeaderSize: maxHeaderSize), member)
    }
  }

  /// Writes `tensor` to this spec (an `.npz` destination holds the one member; an
  /// `.npz:NAME` destination adds or replaces that member and keeps the others). An
  /// `.npy` destination streams a device tensor straight from the device and reports
  /// the bytes written to `progress`.
  func write(_ tensor: Tensor, durability: Durability, transfer: TransferPath, progress: ((Int) -> Void)? = nil)
    throws
  {
    switch self {
    case .npy(let path):
      try NPYFile.save(tensor, to: FilePath(path), durability: durability, transfer: transfer, progress: progress)
    case .npz, .npzMember, .standardStream, .safetensors, .safetensorsTensor:
      try write(tensor.detach().cpu(path: transfer).numpy(), durability: durability)
    }
  }

  /// Writes `array` to this spec (an `.npz` or `.safetensors` destination holds the one
  /// array, named `name`; an `.npz:NAME` or `.safetensors:NAME` destination adds or
  /// replaces that one and keeps the others).
  func write(_ array: NDArray, name: String = "arr_0", durability: Durability = .synced) throws {
    switch self {
    case .standardStream:
      do throws(TensorIOError) {
        try Conversion.writeNPY(array, to: .standardOutput, dtype: array.dtype, order: array.saveOrder)
      } catch {
        if case .system(_, .brokenPipe) = error.reason { return }
        throw error
      }
    case .npy(let path):
      try array.write(to: FilePath(path), durability: durability)
    case .npz(let path):
      try NPZArchive.write([(name, array)], to: FilePath(path), durability: durability)
    case .safetensors(let path):
      try SafetensorsFile.write([try Self.tensor(name, array, path)], to: FilePath(path), durability: durability)
    case .safetensorsTensor(let path, let tensorName):
      try SafetensorsFile.update(
        FilePath(path), adding: [try Self.tensor(tensorName, array, path)], durability: durability)
    case .npzMember(let path, let member):
      // Adds or replaces that member of an existing archive and keeps every other one.
      let name = NPZArchive.key(forMemberName: member)
      try NPZArchive.update(
        FilePath(path),
        adding: [.init(name: name, array: array, dtype: array.dtype, order: array.saveOrder)],
        durability: durability)
    }
  }

  /// `array` as a safetensors tensor, or the error naming the dtype it cannot hold.
  static func tensor(_ name: String, _ array: NDArray, _ path: String) throws -> SafetensorsFile.TensorToWrite {
    guard let tensor = SafetensorsFile.TensorToWrite(name: name, array: array) else {
      throw TensorIOError(.cannotHoldDType(array.dtype.name), path: path)
    }
    return tensor
  }
}
