import Glibc

/// Where each of a list of distinct names is: an open-addressing table of positions,
/// keyed by the names' UTF-8 bytes. The names themselves stay with the caller, who
/// lends them by position (`nameAt(position, body)` calls `body` with that name's
/// bytes and returns what it returns).
///
/// Names compare byte for byte, as the reference's map compares them (`String`
/// equality would merge canonically equivalent names such as a precomposed "é" and
/// "e" + U+0301, which the format keeps apart). The hash is the standard library's
/// per-process seeded one, so crafted names cannot make the table degrade.
struct NameIndex: Sendable {
  /// Lends the bytes of the name at a position to a comparison.
  typealias NameAt = (Int, (UnsafeRawBufferPointer) -> Bool) -> Bool

  /// A position, or -1 for an empty slot; a power-of-two count.
  private var slots: [Int32]
  /// The hash of the name at each position.
  private var hashes: [Int] = []

  /// An empty index with room for `capacity` names before it grows.
  init(capacity: Int) {
    var size = 8
    while size < capacity * 2 { size <<= 1 }
    slots = [Int32](repeating: -1, count: size)
    hashes.reserveCapacity(capacity)
  }

  private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
    var hasher = Hasher()
    hasher.combine(bytes: bytes)
    return hasher.finalize()
  }

  /// The slot holding `name` (hashed to `hash`), or the empty slot where it would go.
  private func slot(of name: UnsafeRawBufferPointer, hash: Int, nameAt: NameAt) -> Int {
    let mask = slots.count - 1
    var i = hash & mask
    while true {
      let p = Int(slots[i])
      guard p >= 0 else { return i }
      if hashes[p] == hash
        && nameAt(
          p,
          { other in
            guard other.count == name.count else { return false }
            guard let a = other.baseAddress, let b = name.baseAddress else { return true }
            return memcmp(a, b, name.count) == 0
          })
      {
        return i
      }
      i = (i + 1) & mask
    }
  }

  /// The position of `name`, if it is in the list.
  func position(of name: UnsafeRawBufferPointer, nameAt: NameAt) -> Int? {
    let p = slots[slot(of: name, hash: Self.hash(name), nameAt: nameAt)]
    return p < 0 ? nil : Int(p)
  }

  /// The position of `name` when it is in the list already; else nil, after recording
  /// it at the next position (the caller appends it there).
  mutating func insert(_ name: UnsafeRawBufferPointer, nameAt: NameAt) -> Int? {
    if (hashes.count + 1) * 2 > slots.count { grow() }
    let hash = Self.hash(name)
    let i = slot(of: name, hash: hash, nameAt: nameAt)
    if slots[i] >= 0 { return Int(slots[i]) }
    slots[i] = Int32(truncatingIfNeeded: hashes.count)
    hashes.append(hash)
    return nil
  }

  private mutating func grow() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    let mask = slots.count - 1
    for (p, hash) in hashes.enumerated() {
      var i = hash & mask
      while slots[i] >= 0 { i = (i + 1) & mask }
      slots[i] = Int32(truncatingIfNeeded: p)
    }
  }
}
