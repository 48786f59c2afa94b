import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool diff A B`: compares two arrays like np.array_equal / np.allclose.
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare two arrays: exit 0 when equal (or close), 1 when not, 2 on errors.",
    discussion: """
      A and B are FILE specs (path.npy, path.npz:member). Without tolerances the arrays
      must be equal (np.array_equal, NaN equal to NaN unless --nan-differs); with --rtol
      or --atol, close as np.allclose: |a - b| <= atol + rtol * |b|, elementwise, after
      casting both to float64 (complex: the modulus of the difference). Arrays of
      different dtypes compare by value; strings and records compare byte for byte.
      Prints shape or dtype mismatches, how many elements differ, the largest absolute
      and relative differences and the first differing index.

      Two whole archives or safetensors files (A.npz B.npz, a.safetensors b.npz, ...)
      compare member by member, by name: one line per member that differs (only in A,
      only in B, dtype, shape, elements), nothing for equal ones; exit 0 when both hold
      the same members and every one is equal (or close).

      Examples:
        tensortool diff a.npy b.npy
        tensortool diff model.npz checkpoint.npz --rtol 1e-6
        tensortool diff --rtol 1e-5 --atol 1e-8 model.npz:w ref.npy --json
      """
  )

  @Argument(help: ArgumentHelp("The first array.", valueName: "A"))
  var first: String

  @Argument(help: ArgumentHelp("The second array.", valueName: "B"))
  var second: String

  @Option(help: "Relative tolerance (np.allclose's rtol); 0 by default.")
  var rtol: Double = 0

  @Option(help: "Absolute tolerance (np.allclose's atol); 0 by default.")
  var atol: Double = 0

  @Flag(help: "Count NaN against NaN as a difference (numpy's equal_nan=False).")
  var nanDiffers = false

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var options: ReadOptions

  func validate() throws {
    guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else {
      throw ValidationError("--rtol and --atol must be finite and non-negative")
    }
  }

  func run() throws {
    switch (FileSpec(first), FileSpec(second)) {
    case (.npz, .npz), (.npz, .safetensors), (.safetensors, .npz), (.safetensors, .safetensors):
      return try diffArchives(FileSpec(first), FileSpec(second))
    default: break
    }
    let report: ArrayComparison.Report
    do {
      let a = try FileSpec(first).openArray(maxHeaderSize: options.maxHeaderSize, upcast: true)
      let b = try FileSpec(second).openArray(maxHeaderSize: options.maxHeaderSize, upcast: true)
      report = try ArrayComparison.compare(a, b, rtol: rtol, atol: atol, nanEqual: !nanDiffers)
    } catch {
      reportError(error)
      throw ExitCode(2)
    }
    if json {
      print(
        JSONValue.object([
          ("equal", .bool(report.isEqual)),
          ("reason", report.mismatch.map { .string($0) } ?? .null),
          ("count", .integer(report.count)),
          ("differing", .integer(report.differing)),
          ("max_abs_diff", report.maxAbsolute.map { .number($0) } ?? .null),
          ("max_rel_diff", report.maxRelative.map { .number($0) } ?? .null),
          ("first_index", report.firstIndex.map { .array($0.map { .integer($0) }) } ?? .null),
        ]).rendered)
    } else if let mismatch = report.mismatch {
      print("different: \(mismatch)")
    } else if report.isEqual {
      print(report.differing == 0 && rtol == 0 && atol == 0 ? "equal" : "close")
    } else {
      print(Self.describe(report))
    }
    if !report.isEqual { throw ExitCode(1) }
  }

  /// `K of N elements differ; first at [i, j]; max abs diff ...; max rel diff ...`.
  static func describe(_ report: ArrayComparison.Report) -> String {
    var line = "\(report.differing) of \(report.count) elements differ"
    if let index = report.firstIndex { line += "; first at [\(index.map(String.init).joined(separator: ", "))]" }
    if let value = report.maxAbsolute { line += "; max abs diff \(value)" }
    if let value = report.maxRelative { line += "; max rel diff \(value)" }
    return line
  }

  /// Two whole archives or safetensors files, member by member (`ArchiveDiff`).
  private func diffArchives(_ specA: FileSpec, _ specB: FileSpec) throws {
    let rows: [ArchiveDiff.Row]
    do {
      func members(_ spec: FileSpec) throws -> [ArchiveDiff.Member] {
        if case .safetensors(let path) = spec {
          return ArchiveDiff.members(of: try SafetensorsFile(path: FilePath(path)))
        }
        return try ArchiveDiff.members(
          of: try NPZArchive(path: FilePath(spec.description), maxHeaderSize: options.maxHeaderSize))
      }
      rows = try ArchiveDiff.compare(
        try members(specA), try members(specB), rtol: rtol, atol: atol, nanEqual: !nanDiffers)
    } catch {
      reportError(error)
      throw ExitCode(2)
    }
    let equal = rows.allSatisfy { $0.status == .equal || $0.status == .close }
    if json {
      print(
        JSONValue.object([
          ("equal", .bool(equal)),
          (
            "members",
            .array(rows.map { .object([("name", .string($0.name)), ("status", .string($0.status.rawValue))]) })
          ),
        ]).rendered)
    } else {
      for row in rows { if let line = row.line { print(line) } }
    }
    if !equal { throw ExitCode(1) }
  }
}
