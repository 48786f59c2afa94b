import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Commands on a deflated member much larger than the memory they may use: run inside
/// a cgroup (v1 memory controller) limited to a fraction of its size, they must finish with the right
/// result instead of being killed. Needs root; skipped with a reason otherwise.
@Suite("bounded memory on a big deflated member")
struct MemoryLimitTests {
  static let controller = "/sys/fs/cgroup/memory"

  /// Why the test cannot run here, or nil.
  static let unavailable: String? = {
    guard geteuid() == 0 else { return "not root: no cgroup can be made" }
    // ThreadSanitizer's shadow memory alone outgrows the limit (scripts/sanitize sets this).
    if ProcessInfo.processInfo.environment["TENSORTOOL_SANITIZER"] == "thread" {
      return "under ThreadSanitizer, whose shadow memory exceeds the limit"
    }
    guard FileManager.default.fileExists(atPath: controller + "/memory.limit_in_bytes") else {
      return "no cgroup v1 memory controller at \(controller)"
    }
    return nil
  }()

  @Test(
    "inspect --verify, --stats, convert, diff and show --json of a 640 MiB deflated member under a 256 MiB limit (4 GiB under 512 MiB with TENSORTOOL_BIG_TESTS=1)",
    .enabled(if: unavailable == nil && Support.numpyAvailable, "\(unavailable ?? "numpy is not installed"): skipped"))
  func deflatedMemberUnderLimit() throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let big = ProcessInfo.processInfo.environment["TENSORTOOL_BIG_TESTS"] == "1"
    // complex128: 4 GiB, or 640 MiB (few elements per byte: a debug build compares
    // and sums them slowly).
    let count = big ? 1 << 28 : 5 << 23
    let limit = big ? 512 << 20 : 256 << 20
    let npy = dir.appendingPathComponent("big.npy").path
    let npz = dir.appendingPathComponent("big.npz").path
    // A sparse file with a value every 4 KiB: numpy writes it without holding it.
    let made = try Support.run([
      "python3", "-c",
      """
      import numpy as np, sys
      a = np.lib.format.open_memmap(sys.argv[1], mode='w+', dtype=np.complex128, shape=(\(count),))
      a[::256] = np.arange(a[::256].size) * (1 + 2j)
      a.flush()
      """, npy,
    ])
    try #require(made.status == 0, "\(made.stderr)")
    let tool = CLITests.binary
    let deflate = try Support.run([tool, "convert", npy, npz + ":a", "--compress=1", "-q", "--no-sync"])
    try #require(deflate.status == 0, "\(deflate.stderr)")
    let group = "\(Self.controller)/tensortool-test-\(getpid())"
    try FileManager.default.createDirectory(atPath: group, withIntermediateDirectories: true)
    defer { _ = rmdir(group) }
    try "\(limit)".write(toFile: group + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
    /// The command run inside the cgroup: status and output.
    func limited(_ arguments: [String], program: String? = nil) throws -> (
      status: Int32, stdout: String, stderr: String
    ) {
      try Support.run(
        ["sh", "-c", "echo $$ > \(group)/cgroup.procs && exec \"$0\" \"$@\"", program ?? tool] + arguments)
    }
    let verify = try limited(["inspect", "--verify", "-q", npz])
    #expect(verify.status == 0, "inspect --verify: \(verify.status) \(verify.stderr)")
    let stats = try limited(["inspect", "--stats", "--json", npz + ":a"])
    #expect(stats.status == 0, "inspect --stats: \(stats.status) \(stats.stderr)")
    #expect(stats.stdout.contains("\"nan\": 0") && stats.stdout.contains("\"inf\": 0"), "\(stats.stdout.prefix(600))")
    let out = dir.appendingPathComponent("out.npy").path
    let convert = try limited(["convert", npz + ":a", out, "-q", "--no-sync"])
    #expect(convert.status == 0, "convert: \(convert.status) \(convert.stderr)")
    #expect(FileManager.default.contentsEqual(atPath: out, andPath: npy), "convert's output differs from the source")
    try? FileManager.default.removeItem(atPath: out)
    // convert streams a deflated member straight into its output: no scratch file needed.
    let streamed = try limited(
      ["TENSORTOOL_SPILL_MIB=1000000", tool, "convert", npz + ":a", out, "-q", "--no-sync"], program: "env")
    #expect(streamed.status == 0, "convert without a scratch file: \(streamed.status) \(streamed.stderr)")
    #expect(FileManager.default.contentsEqual(atPath: out, andPath: npy), "streamed convert's output differs")
    try? FileManager.default.removeItem(atPath: out)
    let diff = try limited(["diff", npz + ":a", npy])
    #expect(diff.status == 0, "diff: \(diff.status) \(diff.stdout) \(diff.stderr)")
    // show --json of a large selection (over 4 Mi elements: read from the member
    // loaded into a scratch file) streams its output: 63 MB of JSON under 256 MiB.
    let json = dir.appendingPathComponent("show.json").path
    let show = try limited(
      ["-c", "exec \"$0\" show --json \"$1\" '[::8]' > \"$2\"", tool, npz + ":a", json], program: "sh")
    #expect(show.status == 0, "show --json: \(show.status) \(show.stderr)")
    let checked = try Support.run([
      "python3", "-c",
      """
      import json, sys, numpy as np
      d = json.load(open(sys.argv[1])); a = np.load(sys.argv[2], mmap_mode='r')[::8]
      v = np.array(d['values'], dtype=float)
      sys.exit(0 if d['shape'] == [a.size] and np.array_equal(v[:, 0], a.real) and np.array_equal(v[:, 1], a.imag) else 1)
      """, json, npy,
    ])
    #expect(checked.status == 0, "show --json's values differ from numpy's: \(checked.stderr)")
    let killed = (try? String(contentsOfFile: group + "/memory.oom_control", encoding: .utf8)) ?? ""
    #expect(!killed.contains("oom_kill 1"), "\(killed)")
  }
}
