import Foundation
import Testing

@testable import TensorIO

/// numpy's deflated members (zlib raw deflate, no restart points) inflated on two cores:
/// streams written by Python's zlib, every kind of data, checked byte for byte against
/// what was compressed; damaged streams never write outside the output.
@Suite("split inflate")
struct SplitInflateTests {
  /// Small sizes, so that streams of a few MiB take every route.
  static let tuning = SplitInflate.Tuning(
    minimumInput: 0, minimumOutput: 1 << 20, checkLength: 256 << 10, minimumMiddle: 256 << 10)

  /// Each kind of data (6 MiB, some at other levels), written by Python as `NAME.raw` and
  /// its raw deflate stream `NAME.deflate`.
  static let kinds: [String] = {
    guard let dir = try? Support.temporaryDirectory() else { return [] }
    let script = #"""
      import sys, zlib, numpy as np
      d = sys.argv[1]
      rng = np.random.default_rng(11)
      n = 6 << 20
      kinds = {
          "int32_walk": np.round(np.cumsum(rng.standard_normal(n // 4))).astype(np.int32),
          "float32_normal": rng.standard_normal(n // 4).astype(np.float32),
          "float32_rounded": rng.standard_normal(n // 4).astype(np.float16).astype(np.float32),
          "uint8_image": (np.add.outer(np.arange(n // 2048), np.arange(2048)) % 251
                          + rng.integers(0, 5, (n // 2048, 2048))).astype(np.uint8),
          "random_bytes": rng.integers(0, 256, n, dtype=np.uint8),
          "text": np.frombuffer((b"the quick brown fox %d jumps over the lazy dog\n" * (n // 40))[:n], np.uint8),
      }
      for name, array in kinds.items():
          for level in ([6, 1, 9] if name == "float32_normal" else [6]):
              raw = array.tobytes()
              c = zlib.compressobj(level, zlib.DEFLATED, -15)
              key = "%s_%d" % (name, level)
              open("%s/%s.raw" % (d, key), "wb").write(raw)
              open("%s/%s.deflate" % (d, key), "wb").write(c.compress(raw) + c.flush())
      """#
    guard (try? Support.python(script, dir.path)) != nil,
      let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
    else { return [] }
    return names.filter { $0.hasSuffix(".deflate") }.sorted().map {
      dir.appendingPathComponent(String($0.dropLast(".deflate".count))).path
    }
  }()

  /// Inflates `stream` into `capacity` bytes (a guard byte after them must survive):
  /// the split's outcome and route (nil: it fell back), and the output.
  static func split(_ stream: [UInt8], capacity: Int) -> ((WholeInflate.Outcome, SplitInflate.Route)?, [UInt8]) {
    var input = stream
    var output = [UInt8](repeating: 0xAB, count: capacity + 1)
    let result = input.withUnsafeMutableBytes { inBytes in
      output.withUnsafeMutableBytes { out in
        SplitInflate.split(inBytes, into: UnsafeMutableRawBufferPointer(rebasing: out[..<capacity]), tuning: tuning)
      }
    }
    #expect(input == stream, "the input is restored")
    #expect(output.last == 0xAB, "nothing written past the output")
    return (result, Array(output.prefix(capacity)))
  }

  @Test("every kind of data inflates exactly, through both routes", arguments: kinds)
  func kind(_ base: String) throws {
    let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".raw")))
    let stream = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".deflate")))
    let (result, output) = Self.split(stream, capacity: raw.count)
    let name = URL(fileURLWithPath: base).lastPathComponent
    // Incompressible data is stored blocks, with no dynamic block to cut at; text this
    // repetitive is a few blocks: one pass. Every kind of numbers splits.
    if result == nil {
      #expect(name.hasPrefix("random_bytes") || name.hasPrefix("text"), "\(name) was not split")
    }
    if let (outcome, route) = result {
      #expect(outcome == .complete(consumed: stream.count))
      #expect(output == raw, "\(name)")
      // Floats rounded to half precision copy zeros from before any cut for ever: the
      // three-part route; normal floats resolve within the check.
      if name.hasPrefix("float32_rounded") { #expect(route == .headMiddleTail) }
      if name.hasPrefix("float32_normal") { #expect(route == .headTail) }
    }
    // Through the public entry too (split or not, the same bytes).
    var input = stream
    var again = [UInt8](repeating: 0, count: raw.count)
    let whole = input.withUnsafeMutableBytes { i in
      again.withUnsafeMutableBytes { SplitInflate.inflate(i, into: $0, tuning: Self.tuning) }
    }
    #expect(whole == .complete(consumed: stream.count) && again == raw)
  }

  @Test("damaged streams: never past the output, never a wrong size called complete, the input restored")
  func damaged() throws {
    let base = try #require(Self.kinds.first { $0.hasSuffix("float32_normal_6") })
    let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".raw")))
    let stream = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".deflate")))
    var rng = SystemRandomNumberGenerator()
    let trials = Int(ProcessInfo.processInfo.environment["SPLIT_TRIALS"] ?? "") ?? 24
    for trial in 0..<trials {
      var damaged = stream
      // Around the places a cut is searched for, and anywhere.
      let around = [stream.count * SplitInflate.headShare / 64, stream.count * SplitInflate.lastShare / 64][trial % 2]
      let at =
        trial < 16
        ? min(stream.count - 1, around + Int.random(in: 0..<(64 << 10), using: &rng))
        : Int.random(in: 0..<stream.count, using: &rng)
      damaged[at] ^= UInt8.random(in: 1...255, using: &rng)
      let capacity = trial % 3 == 0 ? raw.count - 1 : raw.count
      let (result, output) = Self.split(damaged, capacity: capacity)
      if let (outcome, _) = result {
        // Deflate has no checksum: damage can still decode. Then as one pass decodes it.
        var whole = [UInt8](repeating: 0, count: capacity)
        let one = damaged.withUnsafeBytes { i in whole.withUnsafeMutableBytes { WholeInflate.inflate(i, into: $0) } }
        #expect(outcome == .complete(consumed: damaged.count) && one == outcome && whole == output, "\(trial) at \(at)")
      }
    }
    // Cut short, and a stream longer than the output.
    #expect(Self.split(Array(stream.prefix(stream.count * 3 / 4)), capacity: raw.count).0 == nil)
    #expect(Self.split(stream, capacity: raw.count / 2).0 == nil)
  }

  @Test("stand-ins: every window position is a pair of unequal bytes that gives it back")
  func standIns() {
    var seen = Set<UInt16>()
    for k in 0..<32768 {
      let (a, b) = SplitInflate.standIn(k)
      #expect(a != b && SplitInflate.position(a, b) == k)
      seen.insert(UInt16(a) << 8 | UInt16(b))
    }
    #expect(seen.count == 32768)
  }
}

/// libdeflate chunks joined into one stream (`Deflate`), read by Python's zlib as numpy
/// reads a member; `DeflateWalker` on streams Python's zlib wrote.
@Suite("joined deflate")
struct JoinedDeflateTests {
  @Test("every level: the joined stream is one raw deflate stream Python's zlib reads back exactly")
  func everyLevel() throws {
    let base = try #require(SplitInflateTests.kinds.first { $0.hasSuffix("int32_walk_6") })
    // Three and a half chunks of a kind that compresses, then bytes that do not.
    var input = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".raw")).prefix(3 * Deflate.chunkSize))
    var rng = SystemRandomNumberGenerator()
    input += (0..<(Deflate.chunkSize / 2)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data(input).write(to: dir.appendingPathComponent("raw"))
    for level: Int32 in [-1, 0, 1, 4, 5, 6, 9] {
      var stream: [UInt8] = []
      let crc = try input.withUnsafeBytes { bytes in
        try Deflate.compress(bytes, level: level, isFinal: true) { (piece: [UInt8], _: Int?) throws(TensorIOError) in
          stream += piece
        }
      }
      #expect(crc == input.withUnsafeBytes { CRC32.checksum($0) })
      let path = dir.appendingPathComponent("level\(level)").path
      try Data(stream).write(to: URL(fileURLWithPath: path))
      try Support.python(
        "import sys, zlib; d = zlib.decompressobj(-15); out = d.decompress(open(sys.argv[1], 'rb').read());"
          + " assert d.eof and not d.unused_data, 'not one complete stream';"
          + " assert out == open(sys.argv[2], 'rb').read(), 'different bytes'",
        path, dir.appendingPathComponent("raw").path)
      // The walker finds the end of what it joined: the stream's last byte.
      let ends = try #require(stream.withUnsafeBytes { DeflateWalker.ends(of: $0) })
      #expect((ends.end + 7) / 8 == stream.count && ends.lastBlock < ends.end)
    }
  }

  @Test("the walker reads Python's zlib streams (stored, fixed, dynamic blocks) to their last bit and refuses damage")
  func walker() throws {
    for base in SplitInflateTests.kinds {
      let stream = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base + ".deflate")))
      let ends = try #require(stream.withUnsafeBytes { DeflateWalker.ends(of: $0) }, "\(base)")
      #expect((ends.end + 7) / 8 == stream.count, "\(base)")
      // The final block's BFINAL bit is set; a stream cut short does not walk.
      #expect(stream[ends.lastBlock >> 3] & (1 << UInt8(ends.lastBlock & 7)) != 0)
      #expect(Array(stream.prefix(stream.count - 2)).withUnsafeBytes { DeflateWalker.ends(of: $0) } == nil)
    }
    // Small streams are fixed-code blocks.
    let small: [UInt8] = [0x4B, 0x4C, 0x4A, 0x06, 0x00]  // zlib raw deflate of "abc"
    #expect(small.withUnsafeBytes { DeflateWalker.ends(of: $0) } != nil)
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let noise = (0..<Int.random(in: 0..<4096, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      _ = noise.withUnsafeBytes { DeflateWalker.ends(of: $0) }  // any answer; never a trap
    }
  }
}
