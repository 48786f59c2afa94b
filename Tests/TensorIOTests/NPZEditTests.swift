import Foundation
import Glibc
import TensorIO
import Testing

/// `tensortool npz add | rm | mv | extract` on archives numpy wrote, checked by numpy and
/// Python's zipfile.
@Suite("npz editing", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
struct NPZEditTests {
  func tool(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
    try Support.run([CLITests.binary] + arguments)
  }

  /// Python that checks an archive: numpy loads every member to the expected arrays
  /// (`expected`: name -> a Python expression), zipfile's testzip passes, the names are
  /// in `order`, and the members in `untouched` kept the raw bytes they had in `before`.
  func check(
    _ archive: String, order: [String], expected: [String: String], untouched: [String], before: String
  ) throws {
    let expectations = expected.map { "'\($0.key)': \($0.value)" }.joined(separator: ", ")
    try Support.python(
      """
      import numpy as np, zipfile, sys
      a, before = sys.argv[1], sys.argv[2]
      exp = {\(expectations)}
      with np.load(a) as z:
          assert list(z.files) == \(order), (list(z.files), \(order))
          for k, v in exp.items():
              assert np.array_equal(z[k], v) and z[k].dtype == np.asarray(v).dtype, k
      with zipfile.ZipFile(a) as z:
          assert z.testzip() is None
          def raw(zf, name):
              i = zf.getinfo(name)
              with open(zf.filename, 'rb') as f:
                  f.seek(i.header_offset + 26)
                  n, e = int.from_bytes(f.read(2), 'little'), int.from_bytes(f.read(2), 'little')
                  f.seek(i.header_offset + 30 + n + e)
                  return (i.compress_type, i.CRC, f.read(i.compress_size))
          with zipfile.ZipFile(before) as b:
              for name in \(untouched.map { $0 + ".npy" }):
                  assert raw(z, name) == raw(b, name), name
      """, archive, before)
  }

  @Test("add, replace, remove and rename members: numpy reads the result, untouched members keep their bytes")
  func edits() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let archive = dir.appendingPathComponent("m.npz").path
    let original = dir.appendingPathComponent("original.npz").path
    let extra = dir.appendingPathComponent("extra.npy").path
    try Support.python(
      """
      import numpy as np, sys, shutil
      np.savez_compressed(sys.argv[1], a=np.arange(10, dtype='<f4'), b=np.ones((3, 4), '>i8'), c=np.zeros(5, 'u1'))
      shutil.copy(sys.argv[1], sys.argv[2])
      np.save(sys.argv[3], np.array([1.5, 2.5]))
      """, archive, original, extra)
    // add: a new member from an .npy, and a replacement from another archive's member.
    #expect(try tool("npz", "add", archive, extra, "--no-sync").status == 0)
    #expect(try tool("npz", "add", archive, original + ":c", "--as", "b", "--compress=1").status == 0)
    try check(
      archive, order: ["a", "b", "c", "extra"],
      expected: ["a": "np.arange(10, dtype='<f4')", "b": "np.zeros(5, 'u1')", "extra": "np.array([1.5, 2.5])"],
      untouched: ["a", "c"], before: original)
    // rm of an absent member fails and changes nothing; rm of present ones works.
    let snapshot = try Data(contentsOf: URL(fileURLWithPath: archive))
    let absent = try tool("npz", "rm", archive, "a", "nope")
    #expect(absent.status == 1 && absent.stderr.contains("no member named 'nope'"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: archive)) == snapshot)
    #expect(try tool("npz", "rm", archive, "c.npy").status == 0)
    try check(
      archive, order: ["a", "b", "extra"], expected: ["a": "np.arange(10, dtype='<f4')"], untouched: ["a"],
      before: original)
    // mv keeps the place and the bytes; an absent OLD or an existing NEW fails.
    #expect(try tool("npz", "mv", archive, "a", "layer/alpha").status == 0)
    try check(
      archive, order: ["layer/alpha", "b", "extra"], expected: ["layer/alpha": "np.arange(10, dtype='<f4')"],
      untouched: [], before: original)
    let beforeFailures = try Data(contentsOf: URL(fileURLWithPath: archive))
    #expect(try tool("npz", "mv", archive, "a", "z").status == 1)
    #expect(try tool("npz", "mv", archive, "b", "extra").status == 1)
    #expect(try tool("npz", "mv", archive, "b", "../escape").status == 1)
    #expect(try Data(contentsOf: URL(fileURLWithPath: archive)) == beforeFailures)
  }

  @Test("extract writes DIR/NAME.npy (folders for '/'), refuses to overwrite without --force")
  func extract() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let archive = dir.appendingPathComponent("m.npz").path
    try Support.python(
      """
      import numpy as np, sys
      np.savez(sys.argv[1], **{'a': np.arange(6).reshape(2, 3), 'deep/w': np.eye(3, dtype='>f4')})
      """, archive)
    let out = dir.appendingPathComponent("out").path
    #expect(try tool("npz", "extract", archive, "-C", out).status == 0)
    try Support.python(
      """
      import numpy as np, sys
      o = sys.argv[1]
      assert np.array_equal(np.load(o + '/a.npy'), np.arange(6).reshape(2, 3))
      w = np.load(o + '/deep/w.npy'); assert w.dtype == np.dtype('>f4') and np.array_equal(w, np.eye(3))
      """, out)
    let again = try tool("npz", "extract", archive, "deep/w", "-C", out)
    #expect(again.status == 1 && again.stderr.contains("exists"))
    #expect(try tool("npz", "extract", archive, "deep/w", "-C", out, "--force").status == 0)
    #expect(try tool("npz", "extract", archive, "missing", "-C", out).status == 1)
  }
}

/// `tensortool diff A.npz B.npz`: member by member.
@Suite("archive diff", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
struct ArchiveDiffTests {
  @Test("one line per differing member, nothing for equal ones; --json statuses; exit 0, 1 or 2")
  func members() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = dir.appendingPathComponent("a.npz").path
    let b = dir.appendingPathComponent("b.npz").path
    let same = dir.appendingPathComponent("same.npz").path
    try Support.python(
      """
      import numpy as np, sys
      x = np.arange(6, dtype='<f4').reshape(2, 3)
      np.savez(sys.argv[1], same=x, close=x, dtype=x, shape=x, gone=x)
      y = x.copy(); y[1, 2] += 1e-6
      np.savez_compressed(sys.argv[2], same=x, close=y, dtype=x.astype('<f8'), shape=x.T, new=x)
      np.savez_compressed(sys.argv[3], same=x, close=x, dtype=x, shape=x, gone=x)
      """, a, b, same)
    let result = try Support.run([CLITests.binary, "diff", a, b])
    #expect(result.status == 1)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 5, "\(result.stdout)")
    #expect(
      lines.first?.hasPrefix("close: 1 of 6 elements differ; first at [1, 2]; max abs diff 9.5367431640625e-07") == true
    )
    #expect(
      Array(lines.dropFirst()) == [
        "dtype: dtype <f4 vs <f8", "shape: shape (2, 3) vs (3, 2)", "only in A: gone", "only in B: new",
      ])
    let json = try Support.run([CLITests.binary, "diff", a, b, "--rtol", "1e-5", "--json"])
    #expect(json.status == 1)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    let statuses = (object["members"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? ""):\($0["status"] ?? "")" }
    #expect(
      statuses == [
        "same:equal", "close:close", "dtype:dtype_differs", "shape:shape_differs", "gone:only_in_a", "new:only_in_b",
      ])
    #expect(object["equal"] as? Bool == false)
    // The same arrays, stored in one and deflated in the other: equal, nothing printed.
    let equal = try Support.run([CLITests.binary, "diff", a, same])
    #expect(equal.status == 0 && equal.stdout.isEmpty)
    #expect(try Support.run([CLITests.binary, "diff", a, dir.appendingPathComponent("none.npz").path]).status == 2)
  }
}

/// `tensortool create` and `NDArray(creating:)`.
@Suite("create", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
struct CreateTests {
  @Test("headers equal open_memmap's, fill values equal numpy's casts, zeros are sparse, DST kept without --force")
  func create() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    let cases: [(String, [String], String)] = [
      ("a", ["--dtype", "<f4", "--shape", "3,4"], "np.zeros((3, 4), '<f4')"),
      ("b", ["--dtype", ">i2", "--shape", "5", "--order", "F", "--fill=-7"], "np.full(5, -7, '>i2')"),
      ("c", ["--dtype", "<M8[s]", "--shape", "2,2", "--fill", "NaT"], "np.full((2, 2), 'NaT', '<M8[s]')"),
      ("d", ["--dtype", "<f8", "--shape", "", "--fill", "nan"], "np.array(np.nan)"),
      (
        "e", ["--dtype", "|u1", "--shape", "4,3", "--order", "F", "--fill", "300"], "np.full((4, 3), 300).astype('u1')"
      ),
      ("f", ["--dtype", "|b1", "--shape", "2", "--fill", "true"], "np.ones(2, bool)"),
    ]
    var checks = "import numpy as np, sys\nd = sys.argv[1]\n"
    for (name, options, expected) in cases {
      let result = try Support.run([CLITests.binary, "create", path(name + ".npy")] + options)
      #expect(result.status == 0, "\(name): \(result.stderr)")
      let fortran = options.contains("F") ? "True" : "False"
      checks += """
        a = np.load(d + '/\(name).npy'); e = \(expected)
        assert a.dtype == e.dtype and np.array_equal(a, e, equal_nan=True), '\(name)'
        m = np.lib.format.open_memmap(d + '/\(name)_np.npy', mode='w+', dtype=e.dtype, shape=e.shape, fortran_order=\(fortran)); del m
        h = open(d + '/\(name)_np.npy', 'rb').read(128)
        assert open(d + '/\(name).npy', 'rb').read(len(h))[:len(h)] == h, '\(name) header'

        """
    }
    try Support.python(checks, dir.path)
    // 8 GB of zeros: created at once, nearly no blocks on disk.
    let big = path("big.npy")
    #expect(try Support.run([CLITests.binary, "create", big, "--dtype", "<f8", "--shape", "1000000000"]).status == 0)
    var info = stat()
    #expect(stat(big, &info) == 0 && info.st_size == 8_000_000_128 && info.st_blocks < 1024)
    try? FileManager.default.removeItem(atPath: big)
    // An existing file is kept unless --force.
    let before = try Data(contentsOf: URL(fileURLWithPath: path("a.npy")))
    let refused = try Support.run([CLITests.binary, "create", path("a.npy"), "--dtype", "<i8", "--shape", "2"])
    #expect(refused.status == 1 && refused.stderr.contains("exists"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: path("a.npy"))) == before)
    #expect(
      try Support.run([CLITests.binary, "create", path("a.npy"), "--dtype", "<i8", "--shape", "2", "--force"]).status
        == 0)
    #expect(
      try Support.run([CLITests.binary, "create", path("x.npy"), "--dtype", "<f4", "--shape", "2,-1"]).status != 0)
  }

  @Test("NDArray(creating:) maps the new file read-write: writes reach the file")
  func mapped() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.npy").path
    let array = try NDArray(creating: path, dtype: .float64, shape: [2, 3], order: .fortran)
    try array.setValue(2.5, at: [1, 2])
    try array.storage.flush()
    try Support.python(
      """
      import numpy as np, sys
      a = np.load(sys.argv[1])
      assert a.flags.f_contiguous and a[1, 2] == 2.5 and a.sum() == 2.5
      """, path)
  }
}

/// `tensortool append`: numpy's concatenate, in place, crash-consistent.
@Suite("append", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
struct AppendTests {
  @Test("results equal np.concatenate (C along axis 0, F along the last axis, --cast); mismatches change nothing")
  func concatenate() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Support.python(
      """
      import numpy as np, sys, os
      d = sys.argv[1]
      np.save(d + '/c.npy', np.arange(6, dtype='<f4').reshape(2, 3))
      np.save(d + '/s1.npy', np.ones((1, 3), '<f4'))
      np.save(d + '/s2.npy', np.full((2, 3), 7, '>f8'))
      np.save(d + '/f.npy', np.asfortranarray(np.arange(6, dtype='>i2').reshape(3, 2)))
      np.save(d + '/sf.npy', np.asfortranarray(np.ones((3, 4), '>i2')))
      np.save(d + '/bad.npy', np.ones((2, 2), '<f4'))
      # A header with no spare padding: growing the shape by a digit must rewrite the file.
      for n in range(1, 100000):
          text = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }" % n
          if (10 + len(text) + 1) % 64 == 0:
              break
      with open(d + '/tight.npy', 'wb') as f:
          f.write(b'\\x93NUMPY\\x01\\x00' + (len(text) + 1).to_bytes(2, 'little') + text.encode() + b'\\n')
          f.write(np.arange(n, dtype='<i8').tobytes())
      np.save(d + '/more.npy', np.arange(10 ** (len(str(n))) - n, dtype='<i8'))
      open(d + '/n.txt', 'w').write(str(n))
      """, dir.path)
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    #expect(try Support.run([CLITests.binary, "append", path("c.npy"), path("s1.npy")]).status == 0)
    let before = try Data(contentsOf: URL(fileURLWithPath: path("c.npy")))
    let refused = try Support.run([CLITests.binary, "append", path("c.npy"), path("s2.npy")])
    #expect(refused.status == 1 && refused.stderr.contains("differs"))
    let wrongShape = try Support.run([CLITests.binary, "append", path("c.npy"), path("bad.npy"), "--cast"])
    #expect(wrongShape.status == 1 && wrongShape.stderr.contains("must match"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: path("c.npy"))) == before)
    #expect(try Support.run([CLITests.binary, "append", path("c.npy"), path("s2.npy"), "--cast"]).status == 0)
    #expect(try Support.run([CLITests.binary, "append", path("f.npy"), path("sf.npy")]).status == 0)
    #expect(try Support.run([CLITests.binary, "append", path("new.npy"), path("s1.npy"), path("s1.npy")]).status == 0)
    #expect(try Support.run([CLITests.binary, "append", path("tight.npy"), path("more.npy")]).status == 0)
    try Support.python(
      """
      import numpy as np, sys
      d = sys.argv[1]
      c = np.load(d + '/c.npy')
      e = np.concatenate([np.arange(6, dtype='<f4').reshape(2, 3), np.ones((1, 3), '<f4'), np.full((2, 3), 7.0)]).astype('<f4')
      assert c.dtype == np.dtype('<f4') and np.array_equal(c, e)
      f = np.load(d + '/f.npy')
      e = np.concatenate([np.arange(6, dtype='>i2').reshape(3, 2), np.ones((3, 4), '>i2')], axis=1)
      assert f.dtype == np.dtype('>i2') and f.flags.f_contiguous and np.array_equal(f, e)
      assert np.array_equal(np.load(d + '/new.npy'), np.ones((2, 3), '<f4'))
      n = int(open(d + '/n.txt').read())
      t = np.load(d + '/tight.npy')
      assert np.array_equal(t, np.concatenate([np.arange(n), np.arange(10 ** len(str(n)) - n)])), t.shape
      """, dir.path)
  }

  @Test("killed at random moments, DST always loads as the old array or the new one")
  func killed() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Support.python(
      """
      import numpy as np, subprocess, sys, time, random, os, signal
      tool, d = sys.argv[1], sys.argv[2]
      old = np.arange(1 << 20, dtype='<f8').reshape(-1, 4)
      src = np.ones((1 << 21, 4), '<f8')
      np.save(d + '/src.npy', src)
      new = np.concatenate([old, src])
      rng = random.Random(9)
      outcomes = {'old': 0, 'new': 0}
      for i in range(30):
          np.save(d + '/dst.npy', old)
          p = subprocess.Popen([tool, 'append', d + '/dst.npy', d + '/src.npy'])
          time.sleep(rng.uniform(0, 0.25))
          p.send_signal(signal.SIGKILL)
          p.wait()
          a = np.load(d + '/dst.npy')
          if a.shape == old.shape:
              assert np.array_equal(a, old); outcomes['old'] += 1
          else:
              assert np.array_equal(a, new); outcomes['new'] += 1
      print(outcomes)
      """, CLITests.binary, dir.path)
  }
}

/// `-` as FILE (npy bytes on standard input) and as convert's destination (standard output).
@Suite("pipes", .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
struct PipeTests {
  @Test("inspect, diff and convert read '-'; convert writes '-'; a closed pipe ends quietly")
  func pipes() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = dir.appendingPathComponent("p.npy").path
    let expected = dir.appendingPathComponent("expected.npy").path
    let big = dir.appendingPathComponent("big.npy").path
    try Support.python(
      """
      import numpy as np, sys
      a = np.arange(12, dtype='>f4').reshape(3, 4)
      np.save(sys.argv[1], a)
      np.save(sys.argv[2], np.asfortranarray(a.astype('<f8')))
      np.save(sys.argv[3], np.zeros(20_000_000, 'f8'))
      """, source, expected, big)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
    let inspected = try Support.run([CLITests.binary, "inspect", "--json", "-"], stdin: bytes)
    #expect(inspected.status == 0 && inspected.stdout.contains("\"descr\": \">f4\""), "\(inspected.stdout)")
    let diff = try Support.run([CLITests.binary, "diff", "-", source], stdin: bytes)
    #expect(diff.status == 0 && diff.stdout == "equal\n")
    let copied = dir.appendingPathComponent("copy.npy").path
    #expect(try Support.run([CLITests.binary, "convert", "-", copied], stdin: bytes).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: copied)) == bytes)
    // To standard output: np.save's bytes of the converted array.
    let out = dir.appendingPathComponent("out.npy").path
    let shell = try Support.run([
      "bash", "-c", "\"$0\" convert \"$1\" - --dtype '<f8' --order F > \"$2\"", CLITests.binary, source, out,
    ])
    #expect(shell.status == 0, "\(shell.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: expected)))
    // A reader that stops early: no error, exit status 0.
    let closed = try Support.run([
      "bash", "-c", "\"$0\" convert \"$1\" - | head -c 100 > /dev/null; exit ${PIPESTATUS[0]}", CLITests.binary, big,
    ])
    #expect(closed.status == 0 && closed.stderr.isEmpty, "\(closed.status) \(closed.stderr)")
    // Not an npy on stdin: one error line naming '-'.
    let bad = try Support.run([CLITests.binary, "inspect", "-"], stdin: Data("hello".utf8))
    #expect(bad.status == 1 && bad.stderr.hasPrefix("tensortool: error: -: "), "\(bad.stderr)")
  }
}
