import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool npz add ARCHIVE.npz FILE...`: adds members, or replaces those of the same
/// name, creating the archive when there is none.
struct NpzAdd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Add arrays to an archive (replacing members of the same name), creating it if missing.",
    discussion: """
      Each FILE becomes a member named after it: the member's own name for x.npz:NAME,
      else the file name without .npy (--as renames a single FILE).

      Examples:
        tensortool npz add model.npz layer3.npy layer4.npy
        tensortool npz add model.npz other.npz:embeddings --as emb --compress
      """
  )

  @Argument(help: ArgumentHelp("The archive to edit.", valueName: "ARCHIVE.npz"))
  var archive: String

  @Argument(help: ArgumentHelp("The arrays to add: path.npy or path.npz:member.", valueName: "FILE"))
  var files: [String]

  @Option(name: .customLong("as"), help: ArgumentHelp("The member name, for a single FILE.", valueName: "NAME"))
  var name: String?

  @Flag(help: "Deflate the new members at the default level (6, numpy's); --compress=LEVEL sets the level.")
  var compress = false

  @Option(help: ArgumentHelp("Level for --compress, on zlib's scale: 1 (fastest) to 9 (smallest).", valueName: "LEVEL"))
  var level: Int?

  @Flag(help: "Store the new members uncompressed (the default), 64-byte aligned.")
  var stored = false

  @OptionGroup var writing: WriteOptions

  @OptionGroup var options: ReadOptions

  @OptionGroup var progress: ProgressOptions

  func validate() throws {
    if compress && stored { throw ValidationError("--compress and --stored exclude each other") }
    if let level, !(1...9).contains(level) { throw ValidationError("--level takes a zlib level from 1 to 9") }
    if name != nil && files.count != 1 { throw ValidationError("--as names a single FILE") }
  }

  func run() throws {
    try runEdit {
      var members: [NPZArchive.MemberToWrite] = []
      for file in files {
        let spec = FileSpec(file)
        if case .standardStream = spec, name == nil {
          throw CommandError("name the member with --as", path: "-")
        }
        // BF16 and F8 tensors become their exact float32 values: numpy has no such dtype.
        let array = try spec.openArray(maxHeaderSize: options.maxHeaderSize, upcast: true)
        let key = spec.arrayName
        members.append(.init(name: name ?? key, array: array, dtype: array.dtype, order: array.saveOrder))
      }
      try progress.run(total: NPZArchive.updateWork(FilePath(archive), adding: members), label: "npz add") { done in
        try NPZArchive.update(
          FilePath(archive), adding: members,
          compression: compress || level != nil ? .deflate(level: level ?? -1) : .stored,
          durability: writing.durability, progress: done)
      }
    }
  }
}
