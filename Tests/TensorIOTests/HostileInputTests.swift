import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Mutated and truncated versions of valid files: every one must either load or give a
/// TensorIOError naming the file; none may trap, hang or change the input.
@Suite("hostile input")
struct HostileInputTests {
  @Test("random mutations of valid headers never trap")
  func mutatedHeaders() throws {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 2026)
    let sources = Manifest.shared.valid.filter { $0.maxHeaderSize == nil }
    try #require(!sources.isEmpty)
    var accepted = 0
    var refused = 0
    for round in 0..<4000 {
      let source = sources[round % sources.count]
      var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source.path)))
      let headerEnd = min(bytes.count, source.dataOffset)
      switch rng.next() % 4 {
      case 0:  // flip bytes in the header
        for _ in 0..<(1 + Int(rng.next() % 4)) {
          bytes[Int(rng.next() % UInt64(headerEnd))] = UInt8(truncatingIfNeeded: rng.next())
        }
      case 1:  // truncate anywhere
        bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
      case 2:  // replace a header character with a Python-significant one
        let specials = Array("(){}[],:'\"\\#L-+0123456789eE.jJ \n".utf8)
        let at = 10 + Int(rng.next() % UInt64(max(1, headerEnd - 10)))
        if at < bytes.count { bytes[at] = specials[Int(rng.next() % UInt64(specials.count))] }
      default:  // corrupt the header length field
        bytes[8] = UInt8(truncatingIfNeeded: rng.next())
        if rng.next() % 2 == 0 { bytes[9] = UInt8(truncatingIfNeeded: rng.next()) }
      }
      do {
        let header = try bytes.withUnsafeBytes { try NPYHeader.parse($0) }
        accepted += 1
        // Whatever was accepted must be sane.
        #expect(header.shape.allSatisfy { $0 >= 0 })
        // Zero-size elements (S0, U0, V0) are valid and hold no bytes whatever the shape.
        #expect(header.dtype.itemSize >= 0)
        #expect(header.dtype.itemSize > 0 || header.dataBytes == 0)
      } catch is TensorIOError {
        refused += 1
      }
    }
    #expect(accepted > 0 && refused > 0)
  }

  @Test("truncated and corrupted files on disk give typed errors and stay unchanged")
  func corruptedFiles() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 7)
    for (i, source) in Manifest.shared.valid.prefix(40).enumerated() {
      let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: source.path)))
      for cut in [0, 5, 9, 11, source.dataOffset - 1, source.dataOffset, original.count - 1]
      where cut >= 0 && cut < original.count {
        let path = dir.appendingPathComponent("t\(i)_\(cut).npy")
        let bytes = Array(original.prefix(cut))
        try Data(bytes).write(to: path)
        do {
          _ = try NDArray(contentsOf: FilePath(path.path))
          // Only arrays with no data bytes at all can survive losing their tail.
          #expect(cut >= source.dataOffset && source.dataBytes == 0, "\(path.lastPathComponent) loaded")
        } catch {
          #expect(error.path == path.path)
        }
        #expect(try [UInt8](Data(contentsOf: path)) == bytes)
      }
      var corrupted = original
      corrupted[Int(rng.next() % UInt64(min(corrupted.count, source.dataOffset)))] ^= 0x5A
      let path = dir.appendingPathComponent("c\(i).npy")
      try Data(corrupted).write(to: path)
      do { _ = try NDArray(contentsOf: FilePath(path.path)) } catch { #expect(error.path == path.path) }
    }
  }

  @Test("a header claiming a huge array is refused without allocating it")
  func hugeClaims() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("huge.npy")
    var header = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }".utf8)
    header.append(UInt8(ascii: "\n"))
    try Data(NPYHeader.magic + [1, 0, UInt8(header.count), 0] + header).write(to: path)
    #expect {
      try NDArray(contentsOf: FilePath(path.path))
    } throws: { error in
      guard let error = error as? TensorIOError,
        case .format(.truncatedData(let expected, let available)) = error.reason
      else {
        return false
      }
      return expected == 8_000_000_000_000 && available == 0
    }
  }

  @Test("directories, FIFOs and missing files give errors naming them, without hanging")
  func notFiles() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let fifo = dir.appendingPathComponent("pipe.npy").path
    try #require(mkfifo(fifo, 0o600) == 0)
    #expect {
      try NPYFile.info(at: FilePath(fifo))
    } throws: { error in (error as? TensorIOError)?.path == fifo }
    #expect(throws: TensorIOError.self) { try NPZArchive(path: FilePath(fifo)) }
    #expect {
      try NPYFile.info(at: FilePath(dir.path))
    } throws: { error in (error as? TensorIOError)?.path == dir.path }
    let missing = dir.appendingPathComponent("missing.npy").path
    #expect {
      try NPYFile.info(at: FilePath(missing))
    } throws: { error in
      guard let error = error as? TensorIOError, case .system(_, let errno) = error.reason else { return false }
      return errno == .noSuchFileOrDirectory && error.description.hasPrefix(missing + ": ")
    }
  }
}

@Suite("hostile archives")
struct HostileArchiveTests {
  @Test("random mutations and truncations of npz archives never trap")
  func mutatedArchives() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 4242)
    let sources = try Manifest.shared.npzValid.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0.path))) }
      .filter { $0.count > 22 }
    try #require(!sources.isEmpty)
    var opened = 0
    var refused = 0
    for round in 0..<1500 {
      var bytes = sources[round % sources.count]
      switch rng.next() % 3 {
      case 0:
        for _ in 0..<(1 + Int(rng.next() % 8)) {
          bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
        }
      case 1:
        bytes.removeLast(1 + Int(rng.next() % UInt64(bytes.count - 1)))
      default:
        // Corrupt the end of the archive, where the directories are.
        let at = bytes.count - 1 - Int(rng.next() % UInt64(min(bytes.count, 200)))
        bytes[at] = UInt8(truncatingIfNeeded: rng.next())
      }
      let path = dir.appendingPathComponent("m.npz")
      try Data(bytes).write(to: path)
      do {
        let npz = try NPZArchive(path: FilePath(path.path))
        opened += 1
        try npz.verify()
      } catch {
        refused += 1
        #expect(error.path?.hasPrefix(path.path) == true, "\(error)")
      }
    }
    #expect(opened > 0 && refused > 0)
  }
}
