import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool npz extract ARCHIVE.npz [NAME...]`: writes members as `.npy` files.
struct NpzExtract: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "extract",
    abstract: "Write members as DIR/NAME.npy files (all members unless NAMEs are given).",
    discussion: """
      A name with '/' makes folders under DIR. An existing file is not overwritten
      without --force; each file is written atomically.

      Examples:
        tensortool npz extract model.npz -C weights/
        tensortool npz extract model.npz layer1/weight --force
      """
  )

  @Argument(help: ArgumentHelp("The archive.", valueName: "ARCHIVE.npz"))
  var archive: String

  @Argument(help: ArgumentHelp("The members to extract (default: every array member).", valueName: "NAME"))
  var names: [String] = []

  @Option(name: .customShort("C"), help: ArgumentHelp("The folder to write into (default: .).", valueName: "DIR"))
  var directory: String = "."

  @Flag(help: "Overwrite existing files.")
  var force = false

  @OptionGroup var writing: WriteOptions

  @OptionGroup var options: ReadOptions

  @OptionGroup var progress: ProgressOptions

  func run() throws {
    try runEdit {
      let npz = try NPZArchive(path: FilePath(archive), maxHeaderSize: options.maxHeaderSize)
      let keys = names.isEmpty ? npz.members.filter(\.isArray).map(\.key) : names
      let total = keys.reduce(0) { $0 + ((try? npz.info($1).header.dataBytes) ?? 0) }
      try progress.run(total: total, label: "npz extract") { done in
        try npz.extract(
          names.isEmpty ? nil : names, into: directory, overwrite: force, durability: writing.durability,
          progress: done)
      }
    }
  }
}
