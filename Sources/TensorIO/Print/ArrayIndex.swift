/// numpy's basic indexing: integers (negative ones count from the end), slices
/// `start:stop:step` with any part left out, and at most one `...`.
///
/// ```swift
/// let row = try array.subscripted(ArrayIndex(parsing: "[2, ::-1]"))
/// ```
public struct ArrayIndex: Sendable, Hashable, CustomStringConvertible {
  /// One component of an index.
  public enum Item: Sendable, Hashable {
    /// One position along an axis; the axis is removed from the result.
    case index(Int)
    /// A range of positions, Python's `slice(start, stop, step)`.
    case slice(start: Int?, stop: Int?, step: Int?)
    /// `...`: as many full slices as the other items leave axes.
    case ellipsis
  }

  /// The components, in axis order.
  public var items: [Item]

  /// An index of `items`.
  public init(_ items: [Item]) {
    self.items = items
  }

  /// Parses an index as written inside numpy's brackets (`1, ::2, ...`); the
  /// brackets themselves may be given. The empty text selects the whole array.
  public init(parsing text: String) throws(TensorIOError) {
    var body = Substring(text).trimmingSpaces
    if body.first == "[" {
      guard body.last == "]" else { throw TensorIOError(.invalidIndex(text, reason: "no closing ']'")) }
      body = body.dropFirst().dropLast().trimmingSpaces
    }
    var parts = body.split(separator: ",", omittingEmptySubsequences: false).map(\.trimmingSpaces)
    // A trailing comma makes a tuple, as in Python: a[0,] is a[0].
    if parts.count > 1 && parts.last?.isEmpty == true { parts.removeLast() }
    if parts == [""] { parts = [] }
    var items: [Item] = []
    for part in parts {
      if part == "..." {
        items.append(.ellipsis)
        continue
      }
      guard !part.isEmpty else { throw TensorIOError(.invalidIndex(text, reason: "an empty component")) }
      let pieces = part.split(separator: ":", omittingEmptySubsequences: false).map(\.trimmingSpaces)
      func integer(_ piece: Substring) throws(TensorIOError) -> Int? {
        if piece.isEmpty { return nil }
        guard let value = Int(piece) else {
          throw TensorIOError(.invalidIndex(text, reason: "'\(piece)' is not an integer, a slice or '...'"))
        }
        return value
      }
      switch pieces.count {
      case 1:
        guard let value = try integer(pieces[0]) else {
          throw TensorIOError(.invalidIndex(text, reason: "an empty component"))
        }
        items.append(.index(value))
      case 2, 3:
        let step = pieces.count == 3 ? try integer(pieces[2]) : nil
        items.append(.slice(start: try integer(pieces[0]), stop: try integer(pieces[1]), step: step))
      default:
        throw TensorIOError(.invalidIndex(text, reason: "'\(part)' has more than two ':'"))
      }
    }
    self.items = items
  }

  /// numpy's spelling: `[1, ::2, ...]`.
  public var description: String {
    let parts = items.map { item -> String in
      switch item {
      case .index(let i): return String(i)
      case .ellipsis: return "..."
      case .slice(let start, let stop, let step):
        let head = (start.map(String.init) ?? "") + ":" + (stop.map(String.init) ?? "")
        return step.map { head + ":" + String($0) } ?? head
      }
    }
    return "[" + parts.joined(separator: ", ") + "]"
  }

  /// Whether numpy gives a scalar, not an array, for this index on an array of `rank`
  /// dimensions: an integer for every axis and no `...`.
  public func selectsElement(rank: Int) -> Bool {
    items.count == rank && items.allSatisfy { if case .index = $0 { return true } else { return false } }
  }

  /// The view this index selects from `layout`: numpy's rules, numpy's IndexError
  /// messages. No element is read.
  public func apply(to layout: ArrayLayout) throws(TensorIOError) -> ArrayLayout {
    let ellipses = items.filter { $0 == .ellipsis }.count
    if ellipses > 1 { throw TensorIOError(.multipleEllipses) }
    let rank = layout.shape.count
    let indexed = items.count - ellipses
    if indexed > rank { throw TensorIOError(.tooManyIndices(given: indexed, dimensions: rank)) }
    // Expand `...` (or the implied trailing one) into full slices.
    var expanded: [Item] = []
    for item in items {
      if item == .ellipsis {
        expanded += Array(repeating: .slice(start: nil, stop: nil, step: nil), count: rank - indexed)
      } else {
        expanded.append(item)
      }
    }
    expanded += Array(repeating: .slice(start: nil, stop: nil, step: nil), count: rank - expanded.count)
    var shape: [Int] = []
    var strides: [Int] = []
    var offset = layout.byteOffset
    for (axis, item) in expanded.enumerated() {
      let n = layout.shape[axis]
      let stride = layout.strides[axis]
      switch item {
      case .index(let i):
        let position = i < 0 ? i &+ n : i
        guard position >= 0 && position < n else {
          throw TensorIOError(.indexOutOfBounds(index: i, axis: axis, size: n))
        }
        offset += position * stride
      case .slice(let start, let stop, let step):
        let (first, count, step) = try Self.resolve(start: start, stop: stop, step: step, length: n)
        if count > 0 { offset += first * stride }
        shape.append(count)
        strides.append(count > 1 ? stride * step : stride)
      case .ellipsis:
        break
      }
    }
    return ArrayLayout(dtype: layout.dtype, shape: shape, strides: strides, byteOffset: offset)
  }

  /// Python's `slice.indices(length)`: the first position, the number of positions
  /// and the step.
  static func resolve(start: Int?, stop: Int?, step: Int?, length n: Int) throws(TensorIOError) -> (Int, Int, Int) {
    let step = step ?? 1
    guard step != 0 else { throw TensorIOError(.zeroStep) }
    func clamp(_ value: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
      guard var v = value else { return fallback }
      if v < 0 {
        v = v &+ n
        if v < 0 { v = low }
      } else if v > high {
        v = high
      }
      return v
    }
    if step > 0 {
      let first = clamp(start, 0, low: 0, high: n)
      let end = clamp(stop, n, low: 0, high: n)
      return (first, first < end ? (end - first - 1) / step + 1 : 0, step)
    }
    let first = clamp(start, n - 1, low: -1, high: n - 1)
    let end = clamp(stop, -1, low: -1, high: n - 1)
    // A step of Int.min has no positive counterpart: one position at most.
    let back = step == Int.min ? Int.max : -step
    return (first, end < first ? (first - end - 1) / back + 1 : 0, step)
  }
}

extension HostArray {
  /// The view numpy's basic index selects (`a[1, ::2]`): same storage, no copy; a 0-d
  /// view for an index that picks one element.
  public func subscripted(_ index: ArrayIndex) throws(TensorIOError) -> Self {
    try withLayout(index.apply(to: layout))
  }
}

extension ArrayLayout {
  /// The layout of one field of a structured array (numpy's `a[name]`): the field's
  /// dtype, its subarray shape appended to the array's.
  public func field(_ name: String) throws(TensorIOError) -> ArrayLayout {
    guard case .structured(let fields, _) = dtype.kind, let field = fields.first(where: { $0.name == name }) else {
      throw TensorIOError(.noField(name))
    }
    var inner = [Int](repeating: field.dtype.itemSize, count: field.shape.count)
    for axis in stride(from: field.shape.count - 2, through: 0, by: -1) {
      inner[axis] = inner[axis + 1] * field.shape[axis + 1]
    }
    return ArrayLayout(
      dtype: field.dtype, shape: shape + field.shape, strides: strides + inner, byteOffset: byteOffset + field.offset)
  }
}

extension HostArray {
  /// The view of one field of a structured array (numpy's `a[name]`).
  public func field(_ name: String) throws(TensorIOError) -> Self {
    try withLayout(layout.field(name))
  }
}

extension Substring {
  /// Without leading and trailing spaces.
  var trimmingSpaces: Substring {
    var s = self
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return s
  }
}
