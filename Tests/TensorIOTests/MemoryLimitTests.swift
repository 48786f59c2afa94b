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
    "inspect --verify, --stats, convert and diff of a 640 MiB deflated member under a 256 MiB limit (4 GiB under 512 MiB with TENSORTOOL_BIG_TESTS=1)",
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
    let killed = (try? String(contentsOfFile: group + "/memory.oom_control", encoding: .utf8)) ?? ""
    #expect(!killed.contains("oom_kill 1"), "\(killed)")
  }
}
