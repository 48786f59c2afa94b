import ArgumentParser
import Glibc
import SystemPackage
import TensorIO

/// The `tensortool` command: looks into and works with NumPy `.npy` files.
@main
struct TensorTool: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tensortool",
    abstract: "Inspect NumPy .npy and .npz files and move arrays between files and devices, without Python.",
    discussion: """
      Errors are printed as one line, `tensortool: error: <file>: <reason>`, and the
      exit status is 1.
      """,
    version: "0.1.0",
    subcommands: [
      Inspect.self, Convert.self, Copy.self, Devices.self, Diff.self, Show.self, Npz.self, Create.self, Append.self,
    ]
  )

  /// Runs the command. One documented alias is expanded first: `--compress=LEVEL`
  /// (an option whose value is optional, which ArgumentParser does not express) is
  /// short for `--compress --level LEVEL`. Nothing after `--` is touched.
  static func main() {
    // A closed pipe is a write error (EPIPE) the commands handle, not a signal that
    // kills the process mid-write.
    signal(SIGPIPE, SIG_IGN)
    main(expandingAliases(Array(CommandLine.arguments.dropFirst())))
  }

  /// `arguments` with every `--compress=LEVEL` before a `--` expanded to
  /// `--compress --level LEVEL`.
  static func expandingAliases(_ arguments: [String]) -> [String] {
    var expanded: [String] = []
    expanded.reserveCapacity(arguments.count + 2)
    var operandsOnly = false
    for argument in arguments {
      if !operandsOnly, argument.hasPrefix("--compress=") {
        expanded += ["--compress", "--level", String(argument.dropFirst("--compress=".count))]
      } else {
        if argument == "--" { operandsOnly = true }
        expanded.append(argument)
      }
    }
    return expanded
  }
}

/// The durability option every command that writes files shares.
struct WriteOptions: ParsableArguments {
  @Flag(
    help: """
      Skip the fsync: outputs are still replaced atomically, but may be lost on power \
      failure (np.save never syncs).
      """)
  var noSync = false

  /// `.unsynced` with --no-sync, else `.synced`.
  var durability: Durability { noSync ? .unsynced : .synced }
}

/// Options every command that reads files shares.
struct ReadOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Refuse headers longer than this many characters (numpy's max_header_size).",
      valueName: "N"))
  var maxHeaderSize: Int = NPYHeader.defaultMaxHeaderSize

  func validate() throws {
    guard maxHeaderSize > 0 else { throw ValidationError("--max-header-size must be positive") }
  }
}

/// A failure of a command's own making (not the library's): the file or argument it
/// concerns and why. Printed as library errors are, `<path>: <message>`.
struct CommandError: Error, CustomStringConvertible {
  /// The file or argument the error concerns.
  var path: String?
  /// Why the command failed.
  var message: String

  init(_ message: String, path: String? = nil) {
    self.message = message
    self.path = path
  }

  var description: String { path.map { "\($0): \(message)" } ?? message }
}

/// Writes one error line to standard error in the tool's format.
func reportError(_ error: Error) {
  let text: String
  if let error = error as? TensorIOError {
    text = error.description
  } else {
    text = "\(error)"
  }
  _ = try? FileDescriptor.standardError.writeAll(Array("tensortool: error: \(text)\n".utf8))
}
