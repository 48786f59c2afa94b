import ArgumentParser

/// `tensortool npz add|rm|mv|extract`: edit an archive's members in place.
struct Npz: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Edit .npz archives: add, remove, rename and extract members.",
    discussion: """
      Every edit replaces the archive atomically, and every member it does not name is
      copied as it is: compressed bytes, method and CRC-32 unchanged, never inflated;
      stored members stay 64-byte aligned. Replaced members keep their place, new ones
      go at the end.
      """,
    subcommands: [NpzAdd.self, NpzRemove.self, NpzMove.self, NpzExtract.self]
  )
}

/// Runs an edit, printing a failure as the tool's one error line with exit status 1.
func runEdit(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch {
    reportError(error)
    throw ExitCode(1)
  }
}
