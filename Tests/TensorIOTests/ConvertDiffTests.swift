import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("tensortool convert and diff")
struct ConvertDiffTests {
  func tool(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  @Test(
    "convert matches np.save(np.load(src).astype(dtype, order)) byte for byte",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func convertMatchesNumpy() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let targets = ["-", "<f4", ">f8", "<f2", "<c8", ">i8", "<i4", "float64"]
    let orders = ["-", "C", "F"]
    let byteOrders = ["-", "little", "big", "native"]
    // Long double fixtures hold infinities and NaNs, whose casts to integers C leaves
    // undefined: Tests/longdouble_crosscheck.py covers long double casts instead.
    let sources = Manifest.shared.valid.filter {
      ($0.file.hasPrefix("valid/dtype_") || $0.file.hasPrefix("valid/order_"))
        && !$0.file.contains("f16") && !$0.file.contains("c32")
    }
    .map(\.path)
    var list = ""
    var cases: [(String, String, [String])] = []
    var k = 0
    for source in sources {
      for _ in 0..<3 {
        let (descr, order, byteOrder) = (targets[k % targets.count], orders[k % 3], byteOrders[k % 4])
        k += 1
        let out = dir.appendingPathComponent("out\(k).npy").path
        var arguments = ["convert", source, out]
        if descr != "-" { arguments += ["--dtype", descr] }
        if order != "-" { arguments += ["--order", order] }
        if byteOrder != "-" { arguments += ["--byte-order", byteOrder] }
        list += "\(source)\t\(out)\t\(descr)\t\(order)\t\(byteOrder)\n"
        cases.append((source, out, arguments))
      }
    }
    try list.write(to: dir.appendingPathComponent("convert.txt"), atomically: true, encoding: .utf8)
    try Support.numpyWrites("converts", into: dir)
    var deflated: [String: String] = [:]
    for (index, (source, out, arguments)) in cases.enumerated() {
      let result = try tool(arguments)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      let expectedBytes = try Data(contentsOf: URL(fileURLWithPath: out + ".expected.npy"))
      #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == expectedBytes, "\(arguments.joined(separator: " "))")
      // The same conversion from a deflated npz member holding the source: inflated
      // whole (libdeflate), and with the size limit for that at 0, streamed into the
      // output when the memory order stays (zlib), else loaded into a scratch file.
      if deflated[source] == nil {
        let archive = dir.appendingPathComponent("src\(deflated.count).npz").path
        #expect(try tool(["convert", source, archive + ":s", "--compress=1", "-q"]).status == 0)
        deflated[source] = archive + ":s"
      }
      var fromMember = arguments
      fromMember[1] = deflated[source] ?? source
      fromMember[2] = out + ".from-member.npy"
      let memberResult = try tool(fromMember)
      #expect(memberResult.status == 0, "\(fromMember): \(memberResult.stderr)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: fromMember[2])) == expectedBytes,
        "\(fromMember.joined(separator: " "))")
      fromMember[2] = out + ".streamed.npy"
      let streamed = try Support.run(["TENSORTOOL_SPILL_MIB=0", CLITests.binary] + fromMember)
      #expect(streamed.status == 0, "\(fromMember): \(streamed.stderr)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: fromMember[2])) == expectedBytes,
        "streamed: \(fromMember.joined(separator: " "))")
      // The same conversion into an npz member (stored and deflated in turn): the
      // member's bytes are the same .npy.
      if index % 3 == 0 {
        let archive = out + ".npz"
        var npzArguments = arguments
        npzArguments[2] = archive + ":m"
        if index % 2 == 0 { npzArguments.append("--compress") }
        let npzResult = try tool(npzArguments)
        #expect(npzResult.status == 0, "\(npzArguments): \(npzResult.stderr)")
        #expect(try Data(NPZArchive(path: FilePath(archive)).bytes("m")) == expectedBytes, "\(npzArguments)")
      }
    }
    #expect(cases.count > 60)
  }

  @Test("convert between npy and npz, and refusals leave no output")
  func containers() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let npz = Support.fixtures.appendingPathComponent("npz/valid/savez.npz").path
    let out = dir.appendingPathComponent("all.npz").path
    #expect(try tool(["convert", npz, out, "--compress=1"]).status == 0)
    let original = try NPZArchive(path: FilePath(npz))
    let converted = try NPZArchive(path: FilePath(out))
    #expect(converted.members.map(\.key) == original.members.map(\.key))
    #expect(converted.members.allSatisfy { $0.compression == .deflate })
    for member in original.members {
      #expect(
        try Support.canonicalBytes(converted.load(member.key)) == Support.canonicalBytes(original.load(member.key)))
    }
    let single = dir.appendingPathComponent("b.npy").path
    #expect(try tool(["convert", "\(npz):b", single, "--byte-order", "little"]).status == 0)
    #expect(try NDArray(contentsOf: FilePath(single)).dtype.description == "'<i8'")
    // Refused: a cast of a record, --compress for an .npy, a malformed source.
    let refused: [[String]] = [
      [
        "convert", Support.fixtures.appendingPathComponent("valid/struct_simple.npy").path,
        dir.appendingPathComponent("x.npy").path, "--dtype", "<f4",
      ],
      ["convert", single, dir.appendingPathComponent("y.npy").path, "--compress"],
      [
        "convert", Support.fixtures.appendingPathComponent("malformed/truncated_data.npy").path,
        dir.appendingPathComponent("z.npy").path,
      ],
      ["convert", single, dir.appendingPathComponent("w.npy").path, "--dtype", "<f3"],
    ]
    for arguments in refused {
      let result = try tool(arguments)
      #expect(result.status != 0, "\(arguments)")
      #expect(result.stderr.hasPrefix("tensortool: error: ") || result.stderr.contains("Error"), "\(result.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["all.npz", "b.npy"])
  }

  @Test("diff: exit 0 equal or close, 1 different, 2 on errors")
  func diff() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    func save(_ name: String, _ values: [Double], shape: [Int]? = nil) throws -> String {
      let path = dir.appendingPathComponent(name).path
      try NDArray(values, shape: shape ?? [values.count]).write(to: FilePath(path))
      return path
    }
    let a = try save("a.npy", [1, 2, .nan, 4])
    let same = try save("same.npy", [1, 2, .nan, 4])
    let near = try save("near.npy", [1, 2.000001, .nan, 4])
    let far = try save("far.npy", [1, 3, .nan, 5])
    let reshaped = try save("reshaped.npy", [1, 2, .nan, 4], shape: [2, 2])
    #expect(try tool(["diff", a, same]).status == 0)
    #expect(try tool(["diff", a, same, "--nan-differs"]).status == 1)
    #expect(try tool(["diff", a, near]).status == 1)
    #expect(try tool(["diff", a, near, "--rtol", "1e-5"]).status == 0)
    let result = try tool(["diff", a, far])
    #expect(result.status == 1)
    #expect(result.stdout.contains("2 of 4 elements differ; first at [1]; max abs diff 1.0"))
    let json = try tool(["diff", a, far, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(
      object["differing"] as? Int == 2 && object["first_index"] as? [Int] == [1] && object["equal"] as? Bool == false)
    #expect(try tool(["diff", a, reshaped]).stdout.contains("shape"))
    #expect(try tool(["diff", a, reshaped]).status == 1)
    // Different dtypes compare by value.
    let ints = dir.appendingPathComponent("ints.npy").path
    try NDArray([1, 2, 3] as [Int32], shape: [3]).write(to: FilePath(ints))
    let doubles = try save("doubles.npy", [1, 2, 3])
    #expect(try tool(["diff", ints, doubles]).status == 0)
    #expect(try tool(["diff", a, dir.appendingPathComponent("missing.npy").path]).status == 2)
  }
}

@Suite("inspect --stats")
struct StatsTests {
  @Test(
    "statistics agree with numpy on every numeric fixture",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func againstNumpy() throws {
    let paths = Manifest.shared.valid.filter {
      $0.maxHeaderSize == nil && $0.count > 0
        && (try? NPYFile.info(at: FilePath($0.path)).header.dtype.isNumeric) == true
    }.map(\.path)
    let numpy = try Support.run(["python3", NumpyCrossCheckTests.script, "stats"] + paths)
    try #require(numpy.status == 0, "\(numpy.stderr)")
    let expected = numpy.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    try #require(expected.count == paths.count)
    let ours = try Support.run([CLITests.binary, "inspect", "--stats", "--json"] + paths)
    try #require(ours.status == 0, "\(ours.stderr)")
    let reports = try #require(try JSONSerialization.jsonObject(with: Data(ours.stdout.utf8)) as? [[String: Any]])
    func close(_ a: Any?, _ b: Any?) -> Bool {
      switch (a, b) {
      case (nil, nil), (is NSNull, nil), (is NSNull, is NSNull), (nil, is NSNull): return true
      case (let x as Double, let y as Double):
        return x == y || abs(x - y) <= 1e-9 * max(abs(x), abs(y)) || (x.isNaN && y.isNaN)
      case (is NSNull, let y as Double): return y.isNaN || y.isInfinite
      case (let x as [Any], let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { close($0, $1) }
      default: return false
      }
    }
    for (report, numpy) in zip(reports, expected) {
      let stats = try #require(report["stats"] as? [String: Any], "\(report["path"] ?? "")")
      #expect(stats["nan"] as? Int == numpy["nan"] as? Int, "\(numpy["path"]!)")
      #expect(stats["inf"] as? Int == numpy["inf"] as? Int, "\(numpy["path"]!)")
      // With infinities, mean and std are inf/nan arithmetic artefacts (numpy's complex
      // division by the count included): only the counts, min and max are compared.
      let keys = (numpy["inf"] as? Int ?? 0) > 0 ? ["min", "max"] : ["min", "max", "mean", "std"]
      for key in keys where numpy[key] != nil || stats[key] != nil {
        #expect(
          close(stats[key], numpy[key]), "\(numpy["path"]!) \(key): \(stats[key] ?? "nil") vs \(numpy[key] ?? "nil")")
      }
    }
  }

  @Test("a large array is reduced on all cores with the same result as one pass")
  func parallelMatches() throws {
    let count = 3 << 20
    let array = try NDArray(zeros: [count], dtype: .float32)
    let p = array.storage.mutableBase.assumingMemoryBound(to: Float.self)
    for i in 0..<count { p[i] = Float(i % 1000) - 499.5 }
    p[7] = .nan
    let stats = try ArrayStatistics.compute(array)
    #expect(stats.count == count && stats.nanCount == 1)
    #expect(stats.min == -499.5 && stats.max == 499.5)
    let view = try array.slice(0..<count, step: 1).reshaped([3, 1 << 20]).transposed()  // not C-contiguous: one pass
    let serial = try ArrayStatistics.compute(view)
    #expect(abs((serial.mean ?? 0) - (stats.mean ?? 1)) < 1e-9)
    #expect(abs((serial.std ?? 0) - (stats.std ?? 1)) < 1e-9)
  }
}

/// datetime64 and timedelta64 conversions against numpy.
@Suite("time dtypes against numpy")
struct TimeCrossCheckTests {
  @Test(
    "convert --dtype between every pair of time units (overflow and refusals included), and to and from numbers, equals numpy's astype; --stats prints numpy's dates",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func unitCasts() throws {
    let printed = try Support.crossCheck("time_crosscheck.py")
    #expect(printed.contains("448 cases, 0 failures"), "\(printed)")
    #expect(printed.contains("52 stats cases, 0 stats failures"), "\(printed)")
  }
}

/// Long double conversions against numpy.
@Suite("long double against numpy")
struct LongDoubleCrossCheckTests {
  @Test(
    "convert --dtype to and from long double and complex long double equals numpy's astype",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func casts() throws {
    let printed = try Support.crossCheck("longdouble_crosscheck.py")
    #expect(printed.contains("92 cases, 0 failures"), "\(printed)")
  }
}
