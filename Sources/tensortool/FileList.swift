import SystemPackage

/// A list of file names, one per line, read from a file or standard input (`-`): how
/// thousands of files reach a command without passing through argument parsing.
enum FileList {
  /// The most bytes a list may have (about a million typical paths).
  static let maxBytes = 256 << 20

  /// The non-empty lines of the list at `path` (`-`: standard input), a trailing `\r`
  /// removed from each.
  static func read(_ path: String) throws -> [String] {
    let descriptor: FileDescriptor
    if path == "-" {
      descriptor = .standardInput
    } else {
      do {
        descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
      } catch {
        throw CommandError("cannot open the file list: \(error)", path: path)
      }
    }
    defer { if path != "-" { _ = try? descriptor.close() } }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let n: Int
      do {
        n = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0, retryOnInterrupt: true) }
      } catch {
        throw CommandError("cannot read the file list: \(error)", path: path)
      }
      if n == 0 { break }
      guard bytes.count + n <= maxBytes else {
        throw CommandError("the file list is longer than \(maxBytes >> 20) MiB", path: path)
      }
      bytes += buffer[..<n]
    }
    return bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
      let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
      return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
    }
  }
}
