import Foundation
import SystemPackage
import TensorIO
import Testing

/// The built `tensortool` binary, run as a user would.
@Suite("tensortool command line")
struct CLITests {
  static let binary: String = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("tensortool").path
  }()

  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([Self.binary] + arguments)
  }

  func fixture(_ name: String) -> String { Support.fixtures.appendingPathComponent(name).path }

  @Test("inspect --json prints the DESIGN.md keys with strict types")
  func inspectJSON() throws {
    for entry in Manifest.shared.valid where entry.maxHeaderSize == nil {
      let result = try tool("inspect", "--json", entry.path)
      try #require(result.status == 0, "\(result.stderr)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
      #expect(
        Set(object.keys) == [
          "path", "format", "version", "descr", "dtype", "shape", "fortran_order", "count", "header_length",
          "data_offset", "data_bytes",
        ])
      #expect(object["path"] as? String == entry.path)
      #expect(object["format"] as? String == "npy")
      #expect(object["version"] as? String == entry.version)
      #expect(object["dtype"] as? String == entry.dtype)
      #expect(object["shape"] as? [Int] == entry.shape)
      // Strict JSON types: a bool is a bool, counts are integers, the version a string.
      #expect(result.stdout.contains("\"fortran_order\": \(entry.headerFortranOrder)"))
      #expect(result.stdout.contains("\"count\": \(entry.count),"))
      #expect(result.stdout.contains("\"version\": \"\(entry.version)\""))
      #expect(object["fortran_order"] as? Bool == entry.headerFortranOrder)
      #expect(object["count"] as? Int == entry.count)
      #expect(object["header_length"] as? Int == entry.headerLength)
      #expect(object["data_offset"] as? Int == entry.dataOffset)
      #expect(object["data_bytes"] as? Int == entry.dataBytes)
      if entry.descr.hasPrefix("'") {
        #expect("'\(object["descr"] as? String ?? "")'" == entry.descr)
      } else {
        #expect(object["descr"] is [Any])
      }
    }
  }

  @Test("inspect of several files prints a JSON array; the table names dtype, shape and order")
  func inspectSeveral() throws {
    let a = fixture("valid/order_f_f4_2d.npy")
    let b = fixture("valid/dtype_be_i8.npy")
    let json = try tool("inspect", "--json", a, b)
    #expect(json.status == 0)
    let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(array.map { $0["path"] as? String } == [a, b])
    #expect(array[1]["descr"] as? String == ">i8")
    let text = try tool("inspect", a)
    #expect(text.status == 0)
    #expect(text.stdout.contains("float32"))
    #expect(text.stdout.contains("'<f4'"))
    #expect(text.stdout.contains("(3, 4)"))
    #expect(text.stdout.contains("Fortran"))
  }

  @Test(
    "bad files: one line on stderr naming file and reason, exit status 1",
    arguments: Manifest.shared.malformed.prefix(30))
  func inspectMalformed(_ entry: Manifest.Malformed) throws {
    var arguments = ["inspect", entry.path]
    if let limit = entry.maxHeaderSize { arguments += ["--max-header-size", String(limit)] }
    let result = try Support.run([Self.binary] + arguments)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(result.stderr.hasPrefix("tensortool: error: \(entry.path): "))
  }

  @Test("--max-header-size raises numpy's limit")
  func maxHeaderSize() throws {
    let path = fixture("valid/header_max_header_size_override.npy")
    let refused = try tool("inspect", path)
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("max_header_size"))
    let accepted = try tool("inspect", "--max-header-size", "20000", path)
    #expect(accepted.status == 0)
    let invalid = try tool("inspect", "--max-header-size", "0", path)
    #expect(invalid.status != 0)
  }

  @Test("a missing file is an error; other files are still inspected")
  func missingFile() throws {
    let good = fixture("valid/dtype_le_f4.npy")
    let result = try tool("inspect", "/nonexistent/x.npy", good)
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("tensortool: error: /nonexistent/x.npy: "))
    #expect(result.stdout.contains("float32"))
  }

  @Test("inspect -q prints nothing but errors; the exit status says whether every file is valid")
  func quietInspect() throws {
    let good = fixture("valid/dtype_le_f4.npy")
    let quiet = try tool("inspect", "-q", "--verify", good, fixture("npz/valid/savez.npz"))
    #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty)
    let bad = try tool("inspect", "--quiet", "--json", good, fixture("malformed/truncated_data.npy"))
    #expect(bad.status == 1 && bad.stdout.isEmpty)
    #expect(bad.stderr.hasPrefix("tensortool: error: ") && bad.stderr.split(separator: "\n").count == 1)
  }

  @Test("--files-from reads the file list from a file or stdin: the same report as the files given as arguments")
  func filesFrom() throws {
    let files = Manifest.shared.valid.filter { $0.maxHeaderSize == nil }.map(\.path)
    let asArguments = try Support.run([Self.binary, "inspect", "--json"] + files)
    try #require(asArguments.status == 0, "\(asArguments.stderr)")
    let list = files.joined(separator: "\r\n") + "\n\n"
    let fromStdin = try Support.run([Self.binary, "inspect", "--json", "--files-from", "-"], stdin: Data(list.utf8))
    #expect(fromStdin.status == 0 && fromStdin.stdout == asArguments.stdout)
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let listFile = dir.appendingPathComponent("list.txt")
    try Data(files.dropFirst().joined(separator: "\n").utf8).write(to: listFile)
    let mixed = try tool("inspect", "--json", files[0], "--files-from", listFile.path)
    #expect(mixed.status == 0 && mixed.stdout == asArguments.stdout)
    let missingList = try tool("inspect", "--files-from", dir.appendingPathComponent("none").path)
    #expect(missingList.status == 1 && missingList.stderr.hasPrefix("tensortool: error: "))
    let nothing = try tool("inspect")
    #expect(nothing.status != 0 && nothing.stderr.contains("Missing expected argument"))
  }

  @Test("--compress=LEVEL is --compress --level LEVEL; --level alone implies --compress; levels outside 1-9 refused")
  func compressionLevels() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = dir.appendingPathComponent("walk.npy").path
    try Support.python(
      "import numpy as np, sys; rng = np.random.default_rng(3); "
        + "np.save(sys.argv[1], np.round(np.cumsum(rng.standard_normal(1 << 20))).astype(np.int32))", source)
    func archive(_ name: String, _ options: String...) throws -> Data {
      let out = dir.appendingPathComponent(name).path
      let result = try Support.run([Self.binary, "convert", source, out] + options)
      try #require(result.status == 0, "\(result.stderr)")
      return try Data(contentsOf: URL(fileURLWithPath: out))
    }
    let alias = try archive("a.npz", "--compress=1")
    let spelled = try archive("b.npz", "--compress", "--level", "1")
    let implied = try archive("c.npz", "--level", "1")
    let best = try archive("d.npz", "--compress=9")
    let stored = try archive("e.npz")
    // Same level, same compressed bytes (the archives differ only in their timestamps).
    #expect(alias.count == spelled.count && spelled.count == implied.count)
    #expect(best.count < alias.count && alias.count < stored.count)
    let bad = try tool("convert", source, dir.appendingPathComponent("f.npz").path, "--compress=0")
    #expect(bad.status != 0 && bad.stderr.contains("--level"))
    // After `--`, `--compress=1` is an operand, not an option.
    let operand = try tool("inspect", "--", "--compress=1")
    #expect(operand.status == 1 && operand.stderr.hasPrefix("tensortool: error: --compress=1: "))
  }
}

@Suite("tensortool copy and devices")
struct CLICopyTests {
  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  @Test("file -> sim:0 -> file round trips every np.save fixture byte for byte")
  func roundTrips() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for entry in Manifest.shared.valid where entry.writtenBy == "np.save" {
      let out = dir.appendingPathComponent("out.npy").path
      let result = try tool("copy", "--max-header-size", "1000000", entry.path, "sim:0", out)
      #expect(result.status == 0, "\(entry.file): \(result.stderr)")
      #expect(result.stdout.contains("(verified)"), "\(entry.file)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: entry.path)),
        "\(entry.file)")
    }
  }

  @Test("copy --json reports each leg; devices --json lists cpu and sim")
  func json() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = Support.fixtures.appendingPathComponent("valid/dtype_le_f8.npy").path
    let out = dir.appendingPathComponent("o.npy").path
    let result = try tool("copy", "--json", source, "sim:1", "cpu", out)
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let legs = try #require(object["legs"] as? [[String: Any]])
    #expect(legs.map { $0["to"] as? String } == ["sim:1", "cpu", out])
    #expect(legs.allSatisfy { $0["bytes"] as? Int == 48 })
    #expect(legs[0]["verified"] as? Bool == true)
    let devices = try tool("devices", "--json")
    #expect(devices.status == 0)
    let list = try #require(try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [String: Any])
    let names = (list["devices"] as? [[String: Any]])?.compactMap { $0["device"] as? String } ?? []
    #expect(Array(names.prefix(5)) == ["cpu", "sim:0", "sim:1", "sim:2", "sim:3"])
    if !TestDevices.cudaAvailable { #expect(list["cuda_error"] is String) }
  }

  @Test("failures: one error line, exit 1, no output file")
  func failures() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("never.npy").path
    let source = Support.fixtures.appendingPathComponent("valid/dtype_le_f4.npy").path
    var cases: [[String]] = [
      [Support.fixtures.appendingPathComponent("malformed/truncated_data.npy").path, "sim:0", out],
      [source, "sim:9", out],
      ["sim:0", out],
      [source, dir.appendingPathComponent("no/such/folder/x.npz").path],
      [Support.fixtures.appendingPathComponent("npz/valid/savez.npz").path, out],
    ]
    if !TestDevices.cudaAvailable { cases.append([source, "cuda:0", out]) }
    for arguments in cases {
      let result = try Support.run([CLITests.binary, "copy"] + arguments)
      #expect(result.status == 1, "\(arguments)")
      #expect(result.stderr.hasPrefix("tensortool: error: "), "\(arguments): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }
}

@Suite("tensortool with npz archives")
struct CLINPZTests {
  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  @Test("inspect --json lists every member as DESIGN.md says", arguments: Manifest.shared.npzValid)
  func inspectJSON(_ entry: Manifest.NPZValid) throws {
    let result = try tool("inspect", "--json", "--verify", entry.path)
    try #require(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["format"] as? String == "npz")
    #expect(object["path"] as? String == entry.path)
    let members = try #require(object["members"] as? [[String: Any]])
    #expect(members.map { $0["name"] as? String } == entry.members.map(\.key))
    for (member, expected) in zip(members, entry.members) {
      #expect(member["compression"] as? String == expected.compression)
      #expect(member["compressed_bytes"] as? Int == expected.compressedBytes)
      if let descr = expected.descr {
        #expect(member["shape"] as? [Int] == expected.shape)
        #expect(member["count"] as? Int == expected.count)
        #expect(member["data_bytes"] as? Int == expected.dataBytes)
        #expect(member["mappable"] is Bool)
        if expected.compression == "deflate" { #expect(member["data_offset"] is NSNull) }
        if descr.hasPrefix("'") { #expect("'\(member["descr"] as? String ?? "")'" == descr) }
      }
    }
  }

  @Test("inspect refuses malformed archives with one error line", arguments: Manifest.shared.npzMalformed)
  func inspectMalformed(_ entry: Manifest.NPZMalformed) throws {
    // Structure errors appear without --verify; data errors (bad CRC, corrupt streams) with it.
    // Members inflate whole (libdeflate) by default; with the limit for that at 0 they
    // stream through zlib: both refuse, with one line naming the file.
    for environment in [[], ["TENSORTOOL_SPILL_MIB=0"]] {
      let result = try Support.run(environment + [CLITests.binary, "inspect", "--verify", entry.path])
      #expect(result.status == 1, "\(entry.file) \(environment)")
      #expect(result.stderr.hasPrefix("tensortool: error: \(entry.path)"), "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1)
    }
  }

  @Test("copy from an npz member (deflated: streamed onto the device) through sim:0 into another archive")
  func copyMembers() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = Support.fixtures.appendingPathComponent("npz/valid/savez_compressed.npz").path
    let out = dir.appendingPathComponent("out.npz").path
    let result = try tool("copy", "\(source):big", "sim:0", "\(out):weights/big")
    #expect(result.status == 0, "\(result.stderr)")
    let original = try NPZArchive(path: FilePath(source)).load("big")
    let copied = try NPZArchive(path: FilePath(out))
    #expect(copied.members.map(\.name) == ["weights/big.npy"])
    #expect(try Support.canonicalBytes(copied.load("weights/big")) == Support.canonicalBytes(original))
    // The deflated member streams onto the device, and its read-back checks out.
    let streamed = try tool("copy", "--json", "\(source):big", "sim:0")
    #expect(
      streamed.status == 0 && streamed.stdout.contains("\"bytes\": 800000")
        && streamed.stdout.contains("\"verified\": true"))
    let missing = try tool("copy", "\(source):nope", "sim:0")
    #expect(missing.status == 1 && missing.stderr.contains("no member named 'nope'"))
  }
}
