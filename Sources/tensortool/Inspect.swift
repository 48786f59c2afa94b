import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool inspect FILE...`: format, dtype, shape and layout of `.npy` files.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the format, dtype, shape and layout of .npy files.",
    discussion: """
      The header is parsed and checked against the file (the data it promises must be
      there); the data itself is not read.

      Examples:
        tensortool inspect weights.npy
        tensortool inspect --json a.npy b.npy
      """
  )

  @Argument(help: ArgumentHelp("The .npy files to inspect.", valueName: "FILE"))
  var files: [String]

  @Flag(help: "Print JSON: one object per file, an array when several files are given.")
  var json = false

  @OptionGroup var options: ReadOptions

  func run() throws {
    var reports: [JSONValue] = []
    var failed = false
    for (i, file) in files.enumerated() {
      do {
        let info = try NPYFile.info(at: FilePath(file), maxHeaderSize: options.maxHeaderSize)
        if json {
          reports.append(Self.json(path: file, info: info))
        } else {
          if i > 0 { print() }
          print(Self.text(path: file, info: info), terminator: "")
        }
      } catch {
        reportError(error)
        failed = true
      }
    }
    if json {
      if files.count == 1 {
        if let report = reports.first { print(report.rendered) }
      } else {
        print(JSONValue.array(reports).rendered)
      }
    }
    if failed { throw ExitCode(1) }
  }

  static func json(path: String, info: NPYFile.Info) -> JSONValue {
    let header = info.header
    return .object([
      ("path", .string(path)),
      ("format", .string("npy")),
      ("version", .string(header.version.description)),
      ("descr", JSONValue(literal: header.dtype.descr)),
      ("dtype", .string(header.dtype.name)),
      ("shape", .array(header.shape.map { .integer($0) })),
      ("fortran_order", .bool(header.fortranOrder)),
      ("count", .integer(header.count)),
      ("header_length", .integer(header.headerLength)),
      ("data_offset", .integer(header.dataOffset)),
      ("data_bytes", .integer(header.dataBytes)),
    ])
  }

  static func text(path: String, info: NPYFile.Info) -> String {
    let header = info.header
    let dtype = header.dtype
    let order: String
    switch dtype.byteOrder {
    case .little: order = "little-endian"
    case .big: order = "big-endian"
    case .notApplicable: order = "no byte order"
    }
    let shape = "(" + header.shape.map(String.init).joined(separator: ", ") + (header.shape.count == 1 ? ",)" : ")")
    let alignment = header.dataOffset % 64 == 0 ? "64-byte aligned" : "not 64-byte aligned"
    var lines = [
      path,
      "  format   npy \(header.version)",
      "  dtype    \(dtype.name)  descr \(dtype)  (\(order), \(dtype.itemSize) bytes per element)",
      "  shape    \(shape)",
      "  order    \(header.fortranOrder ? "Fortran (column-major)" : "C (row-major)")",
      "  count    \(header.count)",
      "  data     \(header.dataBytes) bytes at offset \(header.dataOffset) (\(alignment))",
      "  header   \(header.headerLength) bytes",
    ]
    let trailing = info.fileSize - header.dataOffset - header.dataBytes
    if trailing > 0 { lines.append("  note     \(trailing) bytes after the array data (ignored)") }
    return lines.joined(separator: "\n") + "\n"
  }
}
