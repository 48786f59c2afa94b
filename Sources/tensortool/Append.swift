import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool append DST.npy SRC...`: numpy's concatenate, in place.
struct Append: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Append arrays to a .npy in place (np.concatenate along axis 0; the last axis for Fortran order).",
    discussion: """
      DST is created from the first SRC when it does not exist. SRC dtypes must equal
      DST's (byte order included) unless --cast (numpy's astype, casting='unsafe'); the
      other dimensions must match. Crash-consistent: the new data is written and synced
      before the header is rewritten in place, so a killed append leaves DST as the old
      array or the new one. The cost is that of the appended data, not of DST.

      Examples:
        tensortool append log.npy batch_0042.npy
        tensortool append features.npy new.npz:features --cast
      """
  )

  @Argument(help: ArgumentHelp("The file to grow.", valueName: "DST.npy"))
  var destination: String

  @Argument(help: ArgumentHelp("The arrays to append: path.npy or path.npz:member.", valueName: "SRC"))
  var sources: [String]

  @Flag(help: "Cast SRC arrays to DST's dtype (numpy's astype) instead of requiring equal dtypes.")
  var cast = false

  @OptionGroup var writing: WriteOptions

  @OptionGroup var options: ReadOptions

  @OptionGroup var progress: ProgressOptions

  func run() throws {
    try runEdit {
      let arrays = try sources.map { try FileSpec($0).openArray(maxHeaderSize: options.maxHeaderSize) }
      let total = arrays.reduce(0) { $0 + $1.byteCount }
      try progress.run(total: total, label: "append") { done in
        try NPYFile.append(
          arrays, to: FilePath(destination), cast: cast, durability: writing.durability,
          maxHeaderSize: options.maxHeaderSize, progress: done)
      }
    }
  }
}
