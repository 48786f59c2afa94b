import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// safetensors files written by the reference implementation (fixtures) and by
/// TensorIO, checked against the reference.
@Suite("safetensors")
struct SafetensorsTests {
  static let safetensorsAvailable: Bool = {
    (try? Support.run(["python3", "-c", "import safetensors, numpy"]).status) == 0
  }()

  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  /// The bytes of an array's data as stored (C order; raw for BF16 and F8).
  static func storedBytes(_ array: NDArray) throws -> [UInt8] {
    try Support.canonicalBytes(array)
  }

  @Test("every valid fixture reads as the reference reads it", arguments: Manifest.shared.safetensorsValid)
  func valid(_ entry: Manifest.SafetensorsValid) throws {
    let file = try SafetensorsFile(path: FilePath(entry.path))
    #expect(Dictionary(uniqueKeysWithValues: file.metadata.map { ($0.key, $0.value) }) == entry.metadata)
    #expect(
      file.tensors.map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        == entry.tensors.map(\.name))
    for expected in entry.tensors {
      let info = try file.info(expected.name)
      #expect(info.dtype.rawValue == expected.dtype)
      #expect(info.shape == expected.shape)
      let array = try file.mapOrLoad(expected.name)
      #expect(SHA256.hex(try Self.storedBytes(array)) == expected.sha256, "\(expected.name)")
      if let floats = expected.float32Sha256 {
        let upcast = try Upcast.float32(array, from: info.dtype)
        #expect(SHA256.hex(try Support.canonicalBytes(upcast)) == floats, "\(expected.name) as float32")
      }
      if info.isMappable {
        #expect(try file.map(expected.name).storage.mappedFile != nil)
      }
    }
  }

  @Test("every valid fixture written back is byte-identical", arguments: Manifest.shared.safetensorsValid)
  func rewrite(_ entry: Manifest.SafetensorsValid) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = try SafetensorsFile(path: FilePath(entry.path))
    let tensors = try file.tensors.map {
      SafetensorsFile.TensorToWrite(name: $0.name, array: try file.mapOrLoad($0.name), dtype: $0.dtype)
    }
    let out = dir.appendingPathComponent("out.safetensors").path
    try SafetensorsFile.write(tensors, metadata: file.metadata, to: FilePath(out), durability: .unsynced)
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: entry.path)))
  }

  @Test(
    "every malformed fixture is refused with its reason, naming the file",
    arguments: Manifest.shared.safetensorsMalformed)
  func malformed(_ entry: Manifest.SafetensorsMalformed) throws {
    do {
      _ = try SafetensorsFile(path: FilePath(entry.path))
      Issue.record("\(entry.file) was read; the reference says \(entry.reference)")
    } catch {
      #expect(Support.caseName(error.reason) == entry.reason, "\(error)")
      #expect(error.path == entry.path)
    }
  }

  @Test("hostile headers: deep nesting, lone surrogates, huge numbers, bad escapes are typed errors")
  func hostileHeaders() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cases: [String] = [
      String(repeating: "[", count: 100_000),
      #"{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#,
      #"{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
      #"{"\q":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
      #"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#,
      "{\"a\u{1}\":{}}",
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#,
      // Offsets near Int.max: refused, never added to the data's start.
      #"{"a":{"dtype":"U8","shape":[9223372036854775807],"data_offsets":[0,9223372036854775807]},"#
        + #""b":{"dtype":"U8","shape":[0],"data_offsets":[9223372036854775807,9223372036854775807]}}"#,
    ]
    for (i, text) in cases.enumerated() {
      var bytes = Array(text.utf8)
      var length = UInt64(bytes.count).littleEndian
      bytes = withUnsafeBytes(of: &length) { Array($0) } + bytes + [0, 0, 0, 0]
      let path = dir.appendingPathComponent("h\(i).safetensors").path
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      #expect(throws: TensorIOError.self) { _ = try SafetensorsFile(path: FilePath(path)) }
    }
  }

  /// A `.safetensors` file in `dir` with header `text` and `dataBytes` zero bytes.
  static func file(_ text: String, dataBytes: Int, in dir: URL, named name: String) throws -> FilePath {
    var length = UInt64(text.utf8.count).littleEndian
    let bytes = withUnsafeBytes(of: &length) { Array($0) } + Array(text.utf8) + [UInt8](repeating: 0, count: dataBytes)
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return FilePath(path)
  }

  @Test("any JSON spelling reads as the writer's; names compare byte for byte; repeated names keep the last")
  func spellingsAndNames() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let canonical =
      #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"U8","shape":[],"data_offsets":[24,25]}}"#
    let spelled = """
      { "b" : {"data_offsets": [24, 25], "shape": [ ], "dtype": "U8", "x": [1.5, {"y": null}]},
        "__metadata__": {"k": "v"},
        "\\u0061": {"shape":[2,3],"dtype":"F\\u0033\\u0032","data_offsets":[0,24]} }
      """
    let one = try SafetensorsFile(path: Self.file(canonical, dataBytes: 25, in: dir, named: "c.safetensors"))
    let two = try SafetensorsFile(path: Self.file(spelled, dataBytes: 25, in: dir, named: "s.safetensors"))
    for name in ["a", "b"] {
      var (x, y) = (try one.info(name), try two.info(name))
      x.dataOffset -= 8 + one.headerLength
      y.dataOffset -= 8 + two.headerLength
      #expect(x == y)
    }
    #expect(one.tensors.names == ["a", "b"] && two.tensors.names == ["b", "a"])
    #expect(two.metadata == [SafetensorsFile.MetadataEntry(key: "k", value: "v")])
    // A precomposed é and e + U+0301 are equal Strings but different names to the format.
    let names =
      #"{"\u00e9":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"e\u0301":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},"#
      + #""__metadata__":{"\u00e9":"1","e\u0301":"2"}}"#
    let both = try SafetensorsFile(path: Self.file(names, dataBytes: 3, in: dir, named: "n.safetensors"))
    #expect(both.tensors.count == 2)
    #expect(both.metadata.map(\.value) == ["1", "2"])
    #expect(try both.info("\u{E9}").shape == [1])
    #expect(try both.info("e\u{301}").shape == [2])
    #expect(both.tensors.map(\.name).map { Array($0.unicodeScalars) } == [["\u{E9}"], ["e", "\u{301}"]])
    // The same name twice (once escaped): the last entry is the tensor, the first's
    // bytes are a gap.
    let twice =
      #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"\u0061":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
    #expect(throws: TensorIOError.self) {
      _ = try SafetensorsFile(path: Self.file(twice, dataBytes: 2, in: dir, named: "t.safetensors"))
    }
    let last = try SafetensorsFile(path: Self.file(twice, dataBytes: 1, in: dir, named: "l.safetensors"))
    let a = try last.info("a")
    #expect(last.tensors.count == 1 && a.dataOffset == 8 + twice.utf8.count)
    // Shapes the writer's spelling would not take are refused by the general reader too.
    for shape in ["[1.5]", "[-1]", "[1e2]", "[1,]", "[01]", "[1 2]", "[\"1\"]", "[1]]"] {
      let text = #"{"a":{"dtype":"U8","shape":"# + shape + #","data_offsets":[0,1]}}"#
      #expect(throws: TensorIOError.self, "\(shape)") {
        _ = try SafetensorsFile(path: Self.file(text, dataBytes: 1, in: dir, named: "x.safetensors"))
      }
    }
  }

  @Test("BF16 and F8 upcast exactly; writing refuses dtypes safetensors cannot hold")
  func upcastAndRefusals() throws {
    #expect(Upcast.e4m3(0x38) == 1.0)
    #expect(Upcast.e4m3(0x7E) == 448.0)
    #expect(Upcast.e4m3(0x01) == 0.001953125)
    #expect(Upcast.e4m3(0x7F).isNaN)
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let complex = try NDArray([Complex<Double>(1, 2)], shape: [1])
    #expect(SafetensorsFile.TensorToWrite(name: "c", array: complex) == nil)
    let strings = try NDArray(zeros: [2], dtype: DType(.bytes(length: 3)))
    #expect(throws: TensorIOError.self) {
      try SafetensorsFile.write(
        [.init(name: "s", array: strings, dtype: .uint8)],
        to: FilePath(dir.appendingPathComponent("x.safetensors").path))
    }
  }

  @Test(
    "random tensors: ours byte-identical to the reference's save_file, and the reference's read back exactly",
    .enabled(if: SafetensorsTests.safetensorsAvailable, "the safetensors package is not installed: skipped"))
  func crossCheck() throws {
    let printed = try Support.crossCheck("safetensors_crosscheck.py")
    #expect(printed.contains("60 cases, 0 failures"), "\(printed)")
  }

  @Test("the command line: inspect, show, convert both ways, into an existing file, npz add, refusals")
  func commands() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let mixed = Support.fixtures.appendingPathComponent("safetensors/valid/bf16_f8.safetensors").path
    var result = try tool("inspect", "--json", mixed)
    #expect(result.status == 0)
    #expect(result.stdout.contains(#"{"name": "bf", "dtype": "BF16", "descr": null, "shape": [2, 4]"#), "\(result)")
    result = try tool("show", mixed + ":bf")
    // numpy's print of the same values as float32.
    #expect(
      result.stdout == "[[ 1.000000e+00 -2.000000e+00           inf          -inf]\n"
        + " [          nan  9.183550e-41 -0.000000e+00  3.140625e+00]]\n", "\(result)")
    // To .npy: raw bytes by default, exact float32 with --dtype.
    let raw = dir.appendingPathComponent("raw.npy").path
    let f4 = dir.appendingPathComponent("f4.npy").path
    #expect(try tool("convert", mixed + ":bf", raw, "-q").status == 0)
    #expect(try NPYFile.info(at: FilePath(raw)).header.dtype == DType(.void(length: 2)))
    #expect(try tool("convert", mixed + ":e5m2", f4, "--dtype", "<f4", "-q").status == 0)
    let values = try NDArray(contentsOf: FilePath(f4)).elements(as: Float.self)
    #expect(values[0x3C] == 1.0 && values[0x7B] == 57344 && values[0x7C] == .infinity && values[0x7D].isNaN)
    // Into an existing file under a new name: the other tensors and the metadata kept.
    let copy = dir.appendingPathComponent("m.safetensors").path
    try FileManager.default.copyItem(
      atPath: Support.fixtures.appendingPathComponent("safetensors/valid/metadata.safetensors").path, toPath: copy)
    #expect(try tool("convert", f4, copy + ":added", "-q").status == 0)
    let updated = try SafetensorsFile(path: FilePath(copy))
    #expect(Set(updated.tensors.map(\.name)) == ["w", "added"])
    #expect(updated.metadata.contains { $0.key == "format" && $0.value == "pt" })
    // npz add takes a tensor's own name; BF16 becomes float32.
    let npz = dir.appendingPathComponent("a.npz").path
    #expect(try tool("npz", "add", npz, mixed + ":bf", "-q").status == 0)
    #expect(try NPZArchive(path: FilePath(npz)).info("bf").header.dtype == DType(.float(bytes: 4), byteOrder: .little))
    // inspect --stats reads BF16 as its float values; copy takes a tensor to a device
    // and back to an .npy unchanged.
    result = try tool("inspect", "--stats", "--json", mixed + ":e4m3")
    #expect(result.stdout.contains(#""min": -448.0, "max": 448.0"#), "\(result)")
    let back = dir.appendingPathComponent("back.npy").path
    result = try tool(
      "copy", Support.fixtures.appendingPathComponent("safetensors/valid/dtype_f32.safetensors").path + ":t", "sim:0",
      back, "-q")
    #expect(result.status == 0, "\(result)")
    let original = try SafetensorsFile(
      path: FilePath(Support.fixtures.appendingPathComponent("safetensors/valid/dtype_f32.safetensors").path))
    #expect(
      try Support.canonicalBytes(NDArray(contentsOf: FilePath(back))) == Support.canonicalBytes(original.load("t")))
    // diff of whole files, across formats: equal after a round trip; a changed tensor
    // and a missing one are named.
    let every = Support.fixtures.appendingPathComponent("safetensors/valid/every_dtype.safetensors").path
    let asNPZ = dir.appendingPathComponent("every.npz").path
    #expect(try tool("convert", every, asNPZ, "-q").status == 0)
    result = try tool("diff", every, asNPZ)
    #expect(result.status == 0 && result.stdout.isEmpty, "\(result)")
    #expect(try tool("npz", "rm", asNPZ, "u8", "-q").status == 0)
    #expect(try tool("convert", mixed + ":f", asNPZ + ":f32", "-q").status == 0)
    result = try tool("diff", every, asNPZ, "--json")
    #expect(result.status == 1, "\(result)")
    #expect(result.stdout.contains(#"{"name": "u8", "status": "only_in_a"}"#), "\(result)")
    #expect(result.stdout.contains(#"{"name": "f32", "status": "shape_differs"}"#), "\(result)")
    // Refused: a dtype safetensors has no type for, and Fortran order.
    let c16 = dir.appendingPathComponent("c.npy").path
    try NPYFile.save(try NDArray([Complex<Double>(1, 2)], shape: [1]), to: FilePath(c16))
    result = try tool("convert", c16, dir.appendingPathComponent("c.safetensors").path)
    #expect(result.status == 1 && result.stderr.contains("safetensors cannot hold dtype complex128"), "\(result)")
    result = try tool("convert", f4, dir.appendingPathComponent("f.safetensors").path, "--order", "F")
    #expect(result.status == 1)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("f.safetensors").path))
  }
}
