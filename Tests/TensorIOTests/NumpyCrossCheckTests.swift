import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Random arrays exchanged with numpy: numpy must read what TensorIO writes (values,
/// dtype, shape, order, and the very bytes np.save would write), and TensorIO must read
/// what numpy writes. Skipped, with a message, where numpy is not installed.
@Suite("numpy cross-checks", .enabled(if: Support.numpyAvailable, "numpy is not installed: cross-checks skipped"))
struct NumpyCrossCheckTests {
  static let script = Support.root.appendingPathComponent("Tests/numpy_crosscheck.py").path

  /// SplitMix64: a seeded generator, so that a failure can be reproduced.
  struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  @Test("numpy reads back what TensorIO writes, bit for bit")
  func numpyReadsOurFiles() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = SeededGenerator(state: 42)
    var list = ""
    let kinds: [DType.Kind] = [
      .bool, .int(bytes: 1), .uint(bytes: 1), .int(bytes: 2), .uint(bytes: 2), .int(bytes: 4), .uint(bytes: 4),
      .int(bytes: 8), .uint(bytes: 8), .float(bytes: 2), .float(bytes: 4), .float(bytes: 8), .complex(bytes: 8),
      .complex(bytes: 16), .unicode(length: 2), .bytes(length: 3),
    ]
    var written = 0
    for kind in kinds {
      for byteOrder in [ByteOrder.little, .big] {
        for shape in [[], [7], [3, 5], [2, 3, 4], [0, 3]] {
          for order in [MemoryOrder.c, .fortran] where order == .c || shape.count >= 2 {
            let dtype = DType(kind, byteOrder: byteOrder)
            // Random canonical bytes (C order, little-endian); bools 0/1, strings ASCII.
            let canonical = try NDArray(zeros: shape, dtype: dtype.withByteOrder(.little))
            for i in 0..<canonical.byteCount {
              let byte = UInt8(truncatingIfNeeded: rng.next())
              switch kind {
              case .bool: canonical.storage.mutableBase.storeBytes(of: byte & 1, toByteOffset: i, as: UInt8.self)
              case .unicode:
                canonical.storage.mutableBase.storeBytes(
                  of: i % 4 == 0 ? 0x41 + byte % 26 : 0, toByteOffset: i, as: UInt8.self)
              default: canonical.storage.mutableBase.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
              }
            }
            let array = try canonical.copy(order: order, byteOrder: byteOrder)
            let name = "a\(written)"
            try array.write(to: FilePath(dir.appendingPathComponent(name + ".npy").path))
            try Data(Array(canonical.unsafeContiguousBytes!)).write(to: dir.appendingPathComponent(name + ".bin"))
            let fortran = array.isFortranContiguous && !array.isCContiguous
            list += "\(name)\t\(dtype)\t\(shape.map(String.init).joined(separator: ","))\t\(fortran ? "F" : "C")\n"
            written += 1
          }
        }
      }
    }
    try list.write(to: dir.appendingPathComponent("list.txt"), atomically: true, encoding: .utf8)
    let result = try Support.run(["python3", Self.script, "read", dir.path])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.last == "checked \(written)")
    #expect(lines.dropLast().isEmpty, "\(lines.dropLast().joined(separator: "\n"))")
  }

  @Test("TensorIO reads what numpy writes: C, Fortran, transposed and strided arrays")
  func weReadNumpyFiles() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try Support.run(["python3", Self.script, "write", dir.path])
    try #require(result.status == 0, "\(result.stderr)")
    let list = try String(contentsOf: dir.appendingPathComponent("list.txt"), encoding: .utf8)
    var checked = 0
    for line in list.split(separator: "\n") {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      try #require(fields.count == 4)
      let name = fields[0]
      let array = try NDArray(contentsOf: FilePath(dir.appendingPathComponent(name + ".npy").path))
      #expect(array.dtype.description == fields[1], "\(name)")
      #expect(array.shape.map(String.init).joined(separator: ",") == fields[2], "\(name)")
      #expect((array.isFortranContiguous && !array.isCContiguous) == (fields[3] == "F"), "\(name)")
      let expected = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
      let canonical = try Support.canonicalBytes(array)
      #expect(canonical == expected, "\(name): values differ")
      if let bits = try Support.typedBits(array) {
        let width: Int
        if case .complex(let n) = array.dtype.kind { width = n / 2 } else { width = array.dtype.itemSize }
        #expect(bits == Support.littleEndianUnits(expected, width: width), "\(name): typed access differs")
      }
      checked += 1
    }
    #expect(
      checked == Int(result.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
    #expect(checked > 250)
  }
}
