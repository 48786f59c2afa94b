import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool npz rm ARCHIVE.npz NAME...`: removes members.
struct NpzRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove members from an archive (the archive is unchanged if one is absent).",
    discussion: """
      Examples:
        tensortool npz rm model.npz optimizer_state
        tensortool npz rm model.npz a b.npy
      """
  )

  @Argument(help: ArgumentHelp("The archive to edit.", valueName: "ARCHIVE.npz"))
  var archive: String

  @Argument(help: ArgumentHelp("The members to remove (with or without .npy).", valueName: "NAME"))
  var names: [String]

  @OptionGroup var writing: WriteOptions

  @OptionGroup var progress: ProgressOptions

  func run() throws {
    try runEdit {
      let total = NPZArchive.updateWork(FilePath(archive), adding: [], removing: names)
      try progress.run(total: total, label: "npz rm") { done in
        try NPZArchive.update(
          FilePath(archive), adding: [], removing: names, durability: writing.durability, progress: done)
      }
    }
  }
}
