/// The one policy for npz member names, used by the reader and the writer alike: which
/// names are safe, and how a member's zip entry name (`a.npy`) relates to the key it is
/// looked up by (`a`), as numpy's `NpzFile` does.
enum MemberName {
  /// The suffix numpy appends to each array's name.
  static let suffix = ".npy"

  /// The key a zip entry is looked up by: its name without `.npy`.
  static func key(ofEntry name: String) -> String {
    name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
  }

  /// The zip entry name an array saved under `key` gets (`np.savez` appends `.npy`).
  static func entry(forKey key: String) -> String { key + suffix }

  /// Throws unless `name` is a safe member name: not empty, not absolute (`/x`,
  /// `\x`), no drive letter (`C:x`), no `..` component (with `/` or `\` as
  /// separators). What the reader refuses, the writer refuses too.
  static func check(_ name: String) throws(TensorIOError) {
    guard !name.isEmpty else { throw TensorIOError(.invalidMemberName(name, reason: "names must be non-empty")) }
    let components = name.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
    if name.hasPrefix("/") || name.hasPrefix("\\") || components.contains("..")
      || (name.count >= 2 && name.dropFirst().first == ":")
    {
      throw TensorIOError(.unsafeMemberName(name))
    }
  }
}
