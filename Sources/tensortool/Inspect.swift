import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool inspect FILE...`: format, dtype, shape and layout of `.npy` files and
/// the members of `.npz` archives.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the format, dtype, shape and layout of .npy files and .npz members.",
    discussion: """
      Structure is checked cheaply: each header is parsed and checked against the file
      (the data it promises must be there), an archive's directories and each member's
      npy header are read; the data itself is not. --verify also reads every byte (and
      checks the CRC-32 of every npz member).

      Examples:
        tensortool inspect weights.npy
        tensortool inspect --json a.npy b.npz
        tensortool inspect --verify model.npz:layer1/weight
        find data -name '*.npy' | tensortool inspect --files-from -
      """
  )

  @Argument(help: ArgumentHelp("The files to inspect: path.npy, path.npz or path.npz:member.", valueName: "FILE"))
  var files: [String] = []

  @Option(
    help: ArgumentHelp(
      """
      Also inspect the files named in LIST, one per line ('-': standard input). For \
      thousands of files: parsing them as arguments costs time that grows with the \
      square of their number.
      """, valueName: "LIST"))
  var filesFrom: String?

  @Flag(help: "Print JSON: one object per file, an array when several files are given.")
  var json = false

  @Flag(help: "Also read every byte: CRC-32 of every npz member, every .npy's data.")
  var verify = false

  @Flag(
    help: """
      Add min, max, mean, std, NaN and inf counts for numeric arrays (one streaming pass \
      over all cores; NaNs are counted and left out, as numpy's nanmin, nanmax, nanmean, \
      nanstd).
      """)
  var stats = false

  @Flag(
    name: .shortAndLong,
    help: "Print nothing but errors: the exit status says whether every file is valid (with --verify, every byte).")
  var quiet = false

  @OptionGroup var options: ReadOptions

  func validate() throws {
    guard !files.isEmpty || filesFrom != nil else { throw ValidationError("Missing expected argument '<file> ...'") }
  }

  func run() throws {
    var reports: [JSONValue] = []
    var failed = false
    var files = self.files
    if let filesFrom {
      do {
        files += try FileList.read(filesFrom)
      } catch {
        reportError(error)
        throw ExitCode(1)
      }
    }
    for (i, file) in files.enumerated() {
      do {
        let spec = FileSpec(file)
        let report: (json: JSONValue, text: String)
        switch spec {
        case .npy, .standardStream:
          // A file is mapped only when stats need it; a stream is read whole (into a
          // temporary file), which also reads every byte as --verify would.
          let info: NPYFile.Info
          let array: () throws -> NDArray
          if case .npy(let path) = spec {
            info = try NPYFile.info(at: FilePath(path), maxHeaderSize: options.maxHeaderSize)
            if verify { _ = try NPYFile.verify(at: FilePath(path), maxHeaderSize: options.maxHeaderSize) }
            array = { try NPYFile.map(FilePath(path), maxHeaderSize: options.maxHeaderSize) }
          } else {
            let streamed = try NPYFile.read(maxHeaderSize: options.maxHeaderSize)
            info = streamed.info
            array = { streamed.array }
          }
          var json = Self.json(path: file, info: info)
          var text = self.json ? "" : Self.text(path: file, info: info)
          if stats, info.header.dtype.isTime {
            let summary = try TimeStatistics.compute(try array())
            json = json.adding("stats", Self.timeStatsJSON(summary, dtype: info.header.dtype))
            text += "  stats    " + Self.timeStatsText(summary, dtype: info.header.dtype) + "\n"
          }
          if stats, info.header.dtype.isNumeric {
            let summary = try ArrayStatistics.compute(try array())
            json = json.adding("stats", Self.statsJSON(summary))
            text += "  stats    " + Self.statsText(summary) + "\n"
          }
          report = (json, text)
        case .npz(let path):
          report = try inspectArchive(path: path, only: nil)
        case .npzMember(let path, let member):
          report = try inspectArchive(path: path, only: member)
        case .safetensors(let path):
          report = try inspectSafetensors(path: path, only: nil)
        case .safetensorsTensor(let path, let name):
          report = try inspectSafetensors(path: path, only: name)
        }
        if quiet {
          continue
        } else if json {
          reports.append(report.json)
        } else {
          if i > 0 { print() }
          print(report.text, terminator: "")
        }
      } catch {
        reportError(error)
        failed = true
      }
    }
    if json && !quiet {
      if files.count == 1 {
        if let report = reports.first { print(report.rendered) }
      } else {
        print(JSONValue.array(reports).rendered)
      }
    }
    if failed { throw ExitCode(1) }
  }

  /// An archive's members (or just `only`), each npy member's header read and checked.
  private func inspectArchive(path: String, only: String?) throws -> (json: JSONValue, text: String) {
    let archive = try NPZArchive(path: FilePath(path), maxHeaderSize: options.maxHeaderSize)
    let members = try only.map { [try archive.member($0)] } ?? archive.members
    var rows: [JSONValue] = []
    var lines = [path, "  format   npz (zip), \(archive.members.count) members"]
    for member in members {
      // Members named *.npy must be arrays; others are arrays when they parse as one.
      let info = member.isArray ? try archive.info(member.key) : try? archive.info(member.key)
      if verify { try archive.verify(member.key, asArray: info != nil) }
      var summary: ArrayStatistics?
      var timeSummary: TimeStatistics?
      if stats, let info, info.header.dtype.isNumeric {
        summary = try ArrayStatistics.compute(try archive.mapOrLoad(member.key))
      }
      if stats, let info, info.header.dtype.isTime {
        timeSummary = try TimeStatistics.compute(try archive.mapOrLoad(member.key))
      }
      var fields: [(String, JSONValue)] = [
        ("name", .string(member.key)),
        ("compression", .string(member.compression.methodName)),
        ("compressed_bytes", .integer(member.compressedBytes)),
      ]
      let ratio = member.uncompressedBytes > 0 ? Double(member.compressedBytes) / Double(member.uncompressedBytes) : 1
      var line = "  \(member.key)  \(member.compression.methodName)"
      if member.compression == .deflate {
        line += " (\(format(ratio * 100, 1))% of \(formatBytes(member.uncompressedBytes)))"
      }
      if let info {
        let header = info.header
        fields += [
          ("descr", JSONValue(literal: header.dtype.descr)),
          ("dtype", .string(header.dtype.name)),
          ("shape", .array(header.shape.map { .integer($0) })),
          ("fortran_order", .bool(header.fortranOrder)),
          ("count", .integer(header.count)),
          ("data_bytes", .integer(header.dataBytes)),
          ("data_offset", info.dataOffset.map { .integer($0) } ?? .null),
          ("mappable", .bool(info.isMappable)),
        ]
        line +=
          "  \(header.dtype.name) \(header.dtype) shape \(Self.shapeText(header.shape))"
          + " \(header.fortranOrder ? "F" : "C")-order, \(formatBytes(header.dataBytes))"
          + (info.isMappable ? ", mappable" : "")
      } else {
        fields.append(("bytes", .integer(member.uncompressedBytes)))
        line += "  not an array: \(formatBytes(member.uncompressedBytes))"
      }
      if let summary {
        fields.append(("stats", Self.statsJSON(summary)))
        line += "\n    stats  " + Self.statsText(summary)
      }
      if let timeSummary, let dtype = info?.header.dtype {
        fields.append(("stats", Self.timeStatsJSON(timeSummary, dtype: dtype)))
        line += "\n    stats  " + Self.timeStatsText(timeSummary, dtype: dtype)
      }
      rows.append(.object(fields))
      lines.append(line)
    }
    let json = JSONValue.object([("path", .string(path)), ("format", .string("npz")), ("members", .array(rows))])
    return (json, lines.joined(separator: "\n") + "\n")
  }

  static func statsJSON(_ s: ArrayStatistics) -> JSONValue {
    func number(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
    return .object([
      ("min", number(s.min)), ("max", number(s.max)),
      ("mean", s.meanImaginary.map { .array([number(s.mean), .number($0)]) } ?? number(s.mean)),
      ("std", number(s.std)), ("nan", .integer(s.nanCount)), ("inf", .integer(s.infCount)),
    ])
  }

  static func statsText(_ s: ArrayStatistics) -> String {
    func show(_ value: Double?) -> String { value.map { $0.isNaN ? "nan" : "\($0)" } ?? "-" }
    let mean = s.meanImaginary.map { "(\(show(s.mean)), \($0))" } ?? show(s.mean)
    return
      "min \(show(s.min))  max \(show(s.max))  mean \(mean)  std \(show(s.std))  nan \(s.nanCount)  inf \(s.infCount)"
  }

  /// Time statistics as JSON: min and max as numpy prints them (strings), NaT counted.
  static func timeStatsJSON(_ s: TimeStatistics, dtype: DType) -> JSONValue {
    func value(_ v: Int64?) -> JSONValue { v.flatMap { dtype.formatTime($0) }.map { .string($0) } ?? .null }
    return .object([("min", value(s.min)), ("max", value(s.max)), ("nat", .integer(s.natCount))])
  }

  static func timeStatsText(_ s: TimeStatistics, dtype: DType) -> String {
    func value(_ v: Int64?) -> String { v.flatMap { dtype.formatTime($0) } ?? "-" }
    return "min \(value(s.min))  max \(value(s.max))  nat \(s.natCount)"
  }

  static func shapeText(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
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
    let shape = shapeText(header.shape)
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
