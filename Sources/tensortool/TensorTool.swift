import ArgumentParser
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
    subcommands: [Inspect.self, Convert.self, Copy.self, Devices.self, Diff.self]
  )

  /// Runs the command; `--compress=LEVEL` (an option whose value is optional, which
  /// ArgumentParser does not express) becomes `--compress --compress-level LEVEL`.
  static func main() {
    var arguments: [String] = []
    for argument in CommandLine.arguments.dropFirst() {
      if argument.hasPrefix("--compress=") {
        arguments += ["--compress", "--compress-level", String(argument.dropFirst("--compress=".count))]
      } else {
        arguments.append(argument)
      }
    }
    main(arguments)
  }
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
