import Foundation
import TensorIO
import Testing

/// `tensortool show` and the library's indexing and printing, against numpy's print.
@Suite("show")
struct ShowTests {
  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  @Test(
    "show equals numpy's print(a[INDEX]) on random arrays of every dtype, random indices and options, and on every fixture; --json is exact",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func crossCheck() throws {
    let printed = try Support.crossCheck("show_crosscheck.py")
    #expect(
      printed.contains("600 cases, 200 json checks, 150 through deflated members, 110 fixtures, 0 failures"),
      "\(printed)")
  }

  @Test("index expressions parse as numpy's basic indexing and select numpy's views")
  func indexing() throws {
    let array = try NDArray((0..<24).map(Int32.init), shape: [2, 3, 4])
    let row = try array.subscripted(ArrayIndex(parsing: "[1, ::-1, ...]"))
    #expect(row.shape == [3, 4])
    #expect(try row.value(at: [0, 0], as: Int32.self) == 20)
    let column = try array.subscripted(ArrayIndex(parsing: "..., -1"))
    #expect(column.shape == [2, 3])
    #expect(try column.elements(as: Int32.self) == [3, 7, 11, 15, 19, 23])
    let stepped = try array.subscripted(ArrayIndex(parsing: "0, 5:-7:-2, 1:"))
    #expect(stepped.shape == [2, 3])
    #expect(try stepped.elements(as: Int32.self) == [9, 10, 11, 1, 2, 3])
    let element = try ArrayIndex(parsing: "1,2,3")
    #expect(element.selectsElement(rank: 3))
    #expect(try array.subscripted(element).shape == [])
    #expect(try array.subscripted(ArrayIndex(parsing: "0,")).shape == [3, 4])
    #expect(try array.subscripted(ArrayIndex(parsing: "")).shape == [2, 3, 4])
    #expect(try array.subscripted(ArrayIndex(parsing: "7:9")).shape == [0, 3, 4])
  }

  @Test("bad indices give numpy's IndexError messages, malformed ones a typed error")
  func indexErrors() throws {
    let array = try NDArray([1.0, 2.0, 3.0], shape: [3])
    func message(_ text: String) -> String {
      do {
        _ = try array.subscripted(ArrayIndex(parsing: text))
        return "no error"
      } catch {
        return error.description
      }
    }
    #expect(message("5") == "index 5 is out of bounds for axis 0 with size 3")
    #expect(message("-4") == "index -4 is out of bounds for axis 0 with size 3")
    #expect(message("0, 1") == "too many indices for array: array is 1-dimensional, but 2 were indexed")
    #expect(message("..., ...") == "an index can only have a single ellipsis ('...')")
    #expect(message("::0") == "slice step cannot be zero")
    #expect(message("1:2:3:4").hasPrefix("invalid index"))
    #expect(message("x").hasPrefix("invalid index"))
    #expect(message("[1").hasPrefix("invalid index"))
    #expect(message("1,,2").hasPrefix("invalid index"))
    #expect(message("99999999999999999999").hasPrefix("invalid index"))
  }

  @Test("printing follows numpy: float columns, summarisation, scalars")
  func printing() throws {
    #expect(try NDArray([1.5, 2.0, -0.25], shape: [3]).printed() == "[ 1.5   2.   -0.25]")
    #expect(try NDArray([1e-10, 1.5e-10], shape: [2]).printed() == "[1.0e-10 1.5e-10]")
    #expect(try NDArray([Float(0.1)], shape: []).printed() == "0.1")
    let big = try NDArray((0..<2000).map(Int64.init), shape: [2000])
    #expect(try big.printed() == "[   0    1    2 ... 1997 1998 1999]")
    #expect(
      try big.printed(options: PrintOptions(threshold: 3000, lineWidth: 20)).hasPrefix(
        "[   0    1    2\n    3    4    5\n"))
    #expect(try NDArray([Float16(33024)], shape: [1]).printed() == "[3.302e+04]")
    #expect(try NDArray([Float16(1000)], shape: [1]).printed() == "[1.e+03]")
    // Extreme options are not arithmetic traps: everything is shown.
    let wide = PrintOptions(threshold: 0, edgeItems: Int.max, precision: Int.max, lineWidth: Int.max)
    #expect(try NDArray([1.5, 2.0, 3.0], shape: [3]).printed(options: wide) == "[1.5 2.  3. ]")
  }

  @Test(
    "show --json of a large selection of deflated and stored members (a field, reversed, sliced) equals numpy",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func largeJSON() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let deflated = dir.appendingPathComponent("d.npz").path
    let stored = dir.appendingPathComponent("s.npz").path
    // Over 4 Mi elements: a deflated member's selection is read from the loaded member.
    try Support.python(
      """
      import numpy as np, sys
      a = np.zeros((1 << 22) + 100, [('x', '<i2'), ('y', '<f4')])
      a['x'] = np.arange(a.size) % 3000; a['y'] = np.arange(a.size) * 0.5
      np.savez_compressed(sys.argv[1], a=a); np.savez(sys.argv[2], a=a)
      """, deflated, stored)
    for (archive, index, field) in [
      (deflated, "[::-1]", "y"), (deflated, "[5:]", "x"), (stored, "[3::2]", "y"), (deflated, "[7:1000:3]", "x"),
    ] {
      let out = dir.appendingPathComponent("out.json").path
      let result = try Support.run([
        "sh", "-c", "exec \"$0\" show --json \"$1\" \"$2\" --field \"$3\" > \"$4\"",
        CLITests.binary, archive + ":a", index, field, out,
      ])
      #expect(result.status == 0, "\(result.stderr)")
      let checked = try Support.run([
        "python3", "-c",
        """
        import json, sys, numpy as np
        d = json.load(open(sys.argv[1])); a = eval('np.load(sys.argv[2])["a"][sys.argv[4]]' + sys.argv[3])
        sys.exit(0 if d['shape'] == list(a.shape) and np.array_equal(np.array(d['values'], a.dtype), a) else 1)
        """, out, archive, index, field,
      ])
      #expect(checked.status == 0, "\(archive) \(index) \(field): \(checked.stderr)")
    }
  }

  @Test(
    "show: an npz member, standard input, --field, --json, and errors that name the file",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func command() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let npz = dir.appendingPathComponent("a.npz").path
    let npy = dir.appendingPathComponent("r.npy").path
    try Support.python(
      """
      import numpy as np, sys
      np.savez_compressed(sys.argv[1], w=np.arange(6.0).reshape(2, 3) / 4)
      r = np.zeros(2, [('x', '<i4'), ('y', '<f8')]); r['y'] = [0.5, 1e-7]
      np.save(sys.argv[2], r)
      """, npz, npy)
    var result = try tool("show", npz + ":w", "--", "-1")
    #expect(result.status == 0 && result.stdout == "[0.75 1.   1.25]\n", "\(result)")
    result = try tool("show", npy, "--field", "y")
    #expect(result.stdout == "[5.e-01 1.e-07]\n", "\(result)")
    result = try tool("show", npz + ":w", "[0, 1]", "--json")
    #expect(
      result.stdout
        == #"{"path": "\#(npz):w", "index": "[0, 1]", "descr": "<f8", "shape": [], "values": 0.25}"# + "\n",
      "\(result)")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: npy))
    result = try Support.run([CLITests.binary, "show", "-", "1"], stdin: bytes)
    #expect(result.stdout == "(0, 1e-07)\n", "\(result)")
    result = try tool("show", npz + ":w", "2")
    #expect(result.status == 1)
    #expect(
      result.stderr == "tensortool: error: \(npz):w: index 2 is out of bounds for axis 0 with size 2\n", "\(result)")
    result = try tool("show", npy, "--field", "z")
    #expect(result.status == 1 && result.stderr.hasSuffix("no field of name z\n"), "\(result)")
  }
}
