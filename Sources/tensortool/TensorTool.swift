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
    if arguments.first == "inspect", arguments.count > 64 {
      inspectMany(Array(arguments.dropFirst()))
      return
    }
    main(arguments)
  }

  /// `inspect` with many files: ArgumentParser's handling of positional values grows
  /// quadratically with their number, so the options are parsed alone and the files
  /// handed over directly.
  static func inspectMany(_ arguments: [String]) {
    var options: [String] = []
    var files: [String] = []
    var index = 0
    var onlyOperands = false
    while index < arguments.count {
      let argument = arguments[index]
      if onlyOperands || !argument.hasPrefix("-") || argument == "-" {
        files.append(argument)
      } else if argument == "--" {
        onlyOperands = true
      } else {
        options.append(argument)
        if argument == "--max-header-size", index + 1 < arguments.count {
          options.append(arguments[index + 1])
          index += 1
        }
      }
      index += 1
    }
    do {
      var command = try Inspect.parse(options + files.prefix(1))
      command.files = files
      try command.run()
    } catch {
      Inspect.exit(withError: error)
    }
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
