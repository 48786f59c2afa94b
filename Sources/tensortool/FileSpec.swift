import SystemPackage
import TensorIO

/// A FILE argument: `path.npy`, `path.npz` or `path.npz:member` (split at the first
/// `.npz:`; the member name may contain `/` and `.`).
enum FileSpec: CustomStringConvertible {
  /// `-`: npy bytes on standard input (or, as a destination, to standard output).
  case standardStream
  case npy(String)
  case npz(String)
  case npzMember(archive: String, member: String)

  init(_ text: String) {
    if text == "-" {
      self = .standardStream
      return
    }
    let bytes = Array(text.utf8)
    let marker = Array(".npz:".utf8)
    if bytes.count >= marker.count,
      let start = (0...(bytes.count - marker.count)).first(where: {
        bytes[$0..<($0 + marker.count)].elementsEqual(marker)
      })
    {
      let archive = String(decoding: bytes[..<(start + 4)], as: UTF8.self)
      self = .npzMember(archive: archive, member: String(decoding: bytes[(start + marker.count)...], as: UTF8.self))
    } else if text.hasSuffix(".npz") {
      self = .npz(text)
    } else {
      self = .npy(text)
    }
  }

  var description: String {
    switch self {
    case .standardStream: return "-"
    case .npy(let path), .npz(let path): return path
    case .npzMember(let archive, let member): return "\(archive):\(member)"
    }
  }

  /// The array this spec names, mapped read-only when it can be (an `.npy`, a stored
  /// aligned npz member), else loaded.
  func openArray(maxHeaderSize: Int) throws -> NDArray {
    if case .npy(let path) = self {
      return try NPYFile.map(FilePath(path), mode: .readOnly, maxHeaderSize: maxHeaderSize)
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
    case .npy, .standardStream: return nil
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
    case .npz, .npzMember, .standardStream:
      try write(tensor.detach().cpu(path: transfer).numpy(), durability: durability)
    }
  }

  /// Writes `array` to this spec (an `.npz` destination holds the one member; an
  /// `.npz:NAME` destination adds or replaces that member and keeps the others).
  func write(_ array: NDArray, durability: Durability = .synced) throws {
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
      try NPZArchive.write([("arr_0", array)], to: FilePath(path), durability: durability)
    case .npzMember(let path, let member):
      // Adds or replaces that member of an existing archive and keeps every other one.
      let name = NPZArchive.key(forMemberName: member)
      try NPZArchive.update(
        FilePath(path),
        adding: [.init(name: name, array: array, dtype: array.dtype, order: array.saveOrder)],
        durability: durability)
    }
  }
}
