import ArgumentParser
import SystemPackage
import TensorIO

/// `diff A.npz B.npz`: two archives compared member by member.
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

  /// Compares every member: those of A in A's order, then those only in B. Arrays
  /// compare as `ArrayComparison.compare` does (same tolerances); other members byte
  /// for byte.
  static func compare(
    _ a: NPZArchive, _ b: NPZArchive, rtol: Double, atol: Double, nanEqual: Bool
  ) throws -> [Row] {
    var rows: [Row] = []
    let keysB = Set(b.members.map(\.key))
    let keysA = Set(a.members.map(\.key))
    for member in a.members {
      let name = member.key
      guard keysB.contains(name) else {
        rows.append(Row(name: name, status: .onlyInA, line: "only in A: \(name)"))
        continue
      }
      let other = try b.member(name)
      guard member.isArray || other.isArray else {
        // Other members: sizes and CRC-32s first (nothing read); bytes compared when
        // they agree and the members are small enough to hold, else the CRC-32s decide.
        var same = member.uncompressedBytes == other.uncompressedBytes && member.crc32 == other.crc32
        if same && member.uncompressedBytes <= 64 << 20 { same = try a.bytes(name) == b.bytes(name) }
        rows.append(Row(name: name, status: same ? .equal : .different, line: same ? nil : "\(name): bytes differ"))
        continue
      }
      let infoA = try a.info(name)
      let infoB = try b.info(name)
      if infoA.header.dtype != infoB.header.dtype {
        rows.append(
          Row(
            name: name, status: .dtypeDiffers,
            line: "\(name): dtype \(infoA.header.dtype.typeString) vs \(infoB.header.dtype.typeString)"))
        continue
      }
      if infoA.header.shape != infoB.header.shape {
        rows.append(
          Row(
            name: name, status: .shapeDiffers,
            line: "\(name): shape \(Inspect.shapeText(infoA.header.shape)) vs \(Inspect.shapeText(infoB.header.shape))"
          ))
        continue
      }
      let report = try ArrayComparison.compare(
        try a.mapOrLoad(name), try b.mapOrLoad(name), rtol: rtol, atol: atol, nanEqual: nanEqual)
      if report.isEqual {
        // Equal: no element differs at all (within tolerances, some may).
        let exact = report.differing == 0 && (report.maxAbsolute ?? 0) == 0
        rows.append(Row(name: name, status: exact ? .equal : .close))
      } else {
        rows.append(Row(name: name, status: .different, line: "\(name): " + Diff.describe(report)))
      }
    }
    for member in b.members where !keysA.contains(member.key) {
      rows.append(Row(name: member.key, status: .onlyInB, line: "only in B: \(member.key)"))
    }
    return rows
  }
}
