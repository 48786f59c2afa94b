import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool npz mv ARCHIVE.npz OLD NEW`: renames a member in its place.
struct NpzMove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mv",
    abstract: "Rename a member (its bytes and place unchanged); fails if OLD is absent or NEW exists.",
    discussion: """
      Examples:
        tensortool npz mv model.npz layer1/w layer1/weight
        tensortool npz mv model.npz arr_0 embeddings
      """
  )

  @Argument(help: ArgumentHelp("The archive to edit.", valueName: "ARCHIVE.npz"))
  var archive: String

  @Argument(help: ArgumentHelp("The member to rename.", valueName: "OLD"))
  var old: String

  @Argument(help: ArgumentHelp("Its new name.", valueName: "NEW"))
  var new: String

  @OptionGroup var writing: WriteOptions

  @OptionGroup var progress: ProgressOptions

  func run() throws {
    try runEdit {
      try progress.run(total: NPZArchive.updateWork(FilePath(archive), adding: []), label: "npz mv") { done in
        try NPZArchive.update(
          FilePath(archive), adding: [], renaming: [old: new], durability: writing.durability, progress: done)
      }
    }
  }
}
