import ArgumentParser
import SystemPackage
import TensorIO

/// `diff A B` of two whole archives or safetensors files (either kind on either side):
/// compared member by member, by name.
struct ArchiveDiff {
  /// How one member compares.
  enum Status: String {
    case equal, close, different
    case onlyInA = "only_in_a"
    case onlyInB = "only_in_b"
    case dtypeDiffers = "dtype_differs"
    case shapeDiffers = "shape_differs"
  }

  /// One member's status and the line printed for it (nil when equal or close).
  struct Row {
    var name: String
    var status: Status
    var line: String?
  }

  /// One member of a whole archive or safetensors file, as the comparison sees it.
  struct Member {
    var name: String
    /// The dtype as printed (`<f4`, or a safetensors name such as `BF16` for types numpy
    /// lacks); nil for an npz member that is not an array.
    var dtype: String?
    var shape: [Int]
    /// The array (BF16 and F8 as their float32 values).
    var open: () throws -> NDArray
    /// For a member that is not an array: its size, CRC-32 and bytes.
    var raw: (size: Int, crc: UInt32, bytes: () throws -> [UInt8])?
  }

  /// An archive's members (a member named *.npy must be an array; others are arrays
  /// when they parse as one).
  static func members(of archive: NPZArchive) throws -> [Member] {
    try archive.members.map { member in
      let info = member.isArray ? try archive.info(member.key) : try? archive.info(member.key)
      let key = member.key
      return Member(
        name: key, dtype: info?.header.dtype.typeString, shape: info?.header.shape ?? [],
        open: { try archive.mapOrLoad(key) },
        raw: info == nil ? (member.uncompressedBytes, member.crc32, { try archive.bytes(key) }) : nil)
    }
  }

  /// A safetensors file's tensors.
  static func members(of file: SafetensorsFile) -> [Member] {
    file.tensors.map { info in
      Member(
        name: info.name, dtype: info.dtype.numpyDType?.typeString ?? info.dtype.rawValue, shape: info.shape,
        open: {
          let array = try file.mapOrLoad(info.name)
          return info.dtype.isExtendedFloat ? try Upcast.float32(array, from: info.dtype) : array
        }, raw: nil)
    }
  }

  /// Compares every member: those of A in A's order, then those only in B. Arrays
  /// compare as `ArrayComparison.compare` does (same tolerances); other members by
  /// size and CRC-32, and byte for byte when those agree and they are under 64 MiB.
  static func compare(_ a: [Member], _ b: [Member], rtol: Double, atol: Double, nanEqual: Bool) throws -> [Row] {
    var rows: [Row] = []
    let byName = Dictionary(b.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let namesA = Set(a.map(\.name))
    for member in a {
      let name = member.name
      guard let other = byName[name] else {
        rows.append(Row(name: name, status: .onlyInA, line: "only in A: \(name)"))
        continue
      }
      if let rawA = member.raw, let rawB = other.raw {
        // Nothing read unless sizes and CRC-32s agree.
        var same = rawA.size == rawB.size && rawA.crc == rawB.crc
        if same && rawA.size <= 64 << 20 { same = try rawA.bytes() == rawB.bytes() }
        rows.append(Row(name: name, status: same ? .equal : .different, line: same ? nil : "\(name): bytes differ"))
        continue
      }
      let dtypeA = member.dtype ?? "not an array"
      let dtypeB = other.dtype ?? "not an array"
      if dtypeA != dtypeB {
        rows.append(Row(name: name, status: .dtypeDiffers, line: "\(name): dtype \(dtypeA) vs \(dtypeB)"))
        continue
      }
      if member.shape != other.shape {
        rows.append(
          Row(
            name: name, status: .shapeDiffers,
            line: "\(name): shape \(Inspect.shapeText(member.shape)) vs \(Inspect.shapeText(other.shape))"))
        continue
      }
      let report = try ArrayComparison.compare(
        try member.open(), try other.open(), rtol: rtol, atol: atol, nanEqual: nanEqual)
      if report.isEqual {
        // Equal: no element differs at all (within tolerances, some may).
        let exact = report.differing == 0 && (report.maxAbsolute ?? 0) == 0
        rows.append(Row(name: name, status: exact ? .equal : .close))
      } else {
        rows.append(Row(name: name, status: .different, line: "\(name): " + Diff.describe(report)))
      }
    }
    for member in b where !namesA.contains(member.name) {
      rows.append(Row(name: member.name, status: .onlyInB, line: "only in B: \(member.name)"))
    }
    return rows
  }
}
