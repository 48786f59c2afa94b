import SystemPackage

extension NPZArchive {
  /// Writes members as `.npy` files: member `key` becomes `directory/key.npy` (a `/` in
  /// a key makes folders), each converted as `Conversion.writeNPY(member:of:to:)` does
  /// (streamed in bounded memory, atomic). `keys` nil: every array member. Without
  /// `overwrite`, a file already at any destination is an error before anything is
  /// written. Returns the paths written. `progress` gets the data bytes written so far,
  /// over all members.
  @discardableResult
  public func extract(
    _ keys: [String]? = nil, into directory: some FilePathConvertible, overwrite: Bool = false,
    durability: Durability = .synced, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) -> [FilePath] {
    let directory = directory.filePath
    var targets: [(String, FilePath)] = []
    for name in keys ?? members.filter(\.isArray).map(\.key) {
      let key = try member(name).key
      let path = directory.appending(key + MemberName.suffix)
      if !overwrite && path.exists {
        throw TensorIOError(.destinationExists, path: path.string)
      }
      targets.append((key, path))
    }
    var finished = 0
    for (key, path) in targets {
      let folder = path.removingLastComponent()
      if !folder.isEmpty {
        do {
          try folder.createDirectories()
        } catch {
          throw TensorIOError(.system(operation: "create folder", errno: error), path: folder.string)
        }
      }
      let before = finished
      try Conversion.writeNPY(member: key, of: self, to: path, durability: durability) { done in
        progress?(before + done)
      }
      finished += try info(key).header.dataBytes
    }
    return targets.map(\.1)
  }
}
