import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Writing `ARCHIVE.npz:NAME` into an existing archive keeps every other member: the
/// data-loss case of the trust issue, checked against numpy and zipfile.
@Suite("npz members added and replaced in place")
struct NPZUpdateTests {
  /// The archive's bytes before `step` and numpy's verdict on it after.
  func check(_ dir: URL, before: URL, after: URL, order: [String], changed: [String], values: [String: String])
    throws
  {
    let spec: [String: Any] = [
      "order": order, "changed": changed,
      "values": values.mapValues { dir.appendingPathComponent($0).path },
    ]
    let specURL = dir.appendingPathComponent("spec.json")
    try JSONSerialization.data(withJSONObject: spec).write(to: specURL)
    let result = try Support.run([
      "python3", NumpyCrossCheckTests.script, "npz_update_check", before.path, after.path, specURL.path,
    ])
    #expect(result.status == 0, "\(after.lastPathComponent) after changing \(changed): \(result.stderr)")
  }

  @Test(
    "convert and copy add, replace and re-add members; the others keep method, CRC-32 and bytes",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func addReplaceReadd() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let setup = """
      import numpy as np, sys, shutil
      d = sys.argv[1]
      rng = np.random.default_rng(5)
      a = rng.standard_normal((64, 33)).astype(np.float32)
      b = np.arange(1000, dtype='>i8')
      np.savez_compressed(d + '/deflated.npz', a=a, b=b)
      np.savez(d + '/stored.npz', a=a, b=b)
      shutil.copy('\(Support.fixtures.path)/npz/valid/data_descriptors_deflate.npz', d + '/descriptors.npz')
      np.save(d + '/a.npy', a)
      np.save(d + '/b.npy', b)
      c = np.asfortranarray(rng.standard_normal((5, 7)))
      np.save(d + '/c.npy', c)
      np.save(d + '/c_as_f4.npy', c.astype('<f4'))
      np.save(d + '/c_f4.npy', np.asfortranarray(rng.standard_normal((5, 7))).astype('<f4'))
      np.save(d + '/r.npy', rng.integers(0, 9, 100_000).astype(np.uint8))
      z = np.load(d + '/descriptors.npz')
      for k in z.files: np.save(d + '/descriptors_' + k + '.npy', z[k])
      print(' '.join(z.files))
      """
    let made = try Support.run(["python3", "-c", setup, dir.path])
    try #require(made.status == 0, "\(made.stderr)")
    let descriptorKeys = made.stdout.split(separator: " ").map {
      String($0).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let tool = CLITests.binary
    // One of ours too: deflated with restart points in the central directory.
    let ours = try Support.run([
      tool, "convert", dir.appendingPathComponent("r.npy").path,
      dir.appendingPathComponent("ours.npz").path + ":r", "--compress", "-q",
    ])
    try #require(ours.status == 0, "\(ours.stderr)")
    let archives: [(String, [String], [String: String])] = [
      ("deflated.npz", ["a", "b"], ["a": "a.npy", "b": "b.npy"]),
      ("stored.npz", ["a", "b"], ["a": "a.npy", "b": "b.npy"]),
      (
        "descriptors.npz", descriptorKeys,
        Dictionary(uniqueKeysWithValues: descriptorKeys.map { ($0, "descriptors_\($0).npy") })
      ),
      ("ours.npz", ["r"], ["r": "r.npy"]),
    ]
    for (name, keys, values) in archives {
      let archive = dir.appendingPathComponent(name)
      let before = dir.appendingPathComponent("before.npz")
      func step(_ arguments: [String], changed: String, order: [String], values: [String: String]) throws {
        try? FileManager.default.removeItem(at: before)
        try FileManager.default.copyItem(at: archive, to: before)
        let result = try Support.run([tool] + arguments)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        try check(dir, before: before, after: archive, order: order, changed: [changed], values: values)
      }
      var expected = values
      // Add a member: the others stay, in their places.
      expected["c"] = "c.npy"
      try step(
        ["convert", dir.appendingPathComponent("c.npy").path, archive.path + ":c", "-q"], changed: "c",
        order: keys + ["c"], values: expected)
      // Replace the first member in its place, with another dtype and shape.
      expected[keys[0]] = "c_f4.npy"
      try step(
        ["convert", dir.appendingPathComponent("c_f4.npy").path, archive.path + ":\(keys[0]).npy", "-q"],
        changed: keys[0], order: keys + ["c"], values: expected)
      // Re-add the added member with a cast, through convert --dtype.
      expected["c"] = "c_as_f4.npy"
      try step(
        ["convert", dir.appendingPathComponent("c.npy").path, archive.path + ":c", "--dtype", "<f4", "-q"],
        changed: "c", order: keys + ["c"], values: expected)
      // copy writes through the same path (file -> sim:0 -> archive member).
      expected["d"] = "a.npy"
      try step(
        ["copy", dir.appendingPathComponent("a.npy").path, "sim:0", archive.path + ":d", "-q"], changed: "d",
        order: keys + ["c", "d"], values: expected)
      // The archive is still readable by our strictest check.
      let verify = try Support.run([tool, "inspect", "--verify", "-q", archive.path])
      #expect(verify.status == 0, "\(name): \(verify.stderr)")
    }
  }

  @Test("update removes named members, refuses absent ones and leaves a non-archive alone")
  func removeAndRefuse() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = FilePath(dir.appendingPathComponent("x.npz").path)
    let arrays = try NPZWriterTests.sampleArrays()
    try NPZArchive.write(arrays, to: path, compression: .deflate(level: 1), durability: .unsynced)
    let before = try Data(contentsOf: URL(fileURLWithPath: path.string))
    #expect(throws: TensorIOError.self) {
      try NPZArchive.update(path, adding: [], removing: ["a", "nope"], durability: .unsynced)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path.string)) == before)
    try NPZArchive.update(path, adding: [], removing: ["a", "fortran.npy"], durability: .unsynced)
    let npz = try NPZArchive(path: path)
    let kept = arrays.filter { $0.name != "a" && $0.name != "fortran" }
    #expect(npz.members.map(\.key) == kept.map(\.name))
    for (name, array) in kept {
      #expect(try Support.canonicalBytes(npz.load(name)) == Support.canonicalBytes(array), "\(name)")
    }
    try npz.verify()
    // A file that is not a zip archive is never replaced.
    let text = dir.appendingPathComponent("notes.npz")
    try Data("not a zip".utf8).write(to: text)
    #expect(throws: TensorIOError.self) {
      try NPZArchive.update(
        FilePath(text.path), adding: [.init(name: "a", array: arrays[0].array, dtype: .float32, order: .c)])
    }
    #expect(try Data(contentsOf: text) == Data("not a zip".utf8))
  }
}
