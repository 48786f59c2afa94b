/// Shape and stride arithmetic shared by arrays and views, overflow-checked.
extension ArrayLayout {
  /// `product(shape) * itemSize`, or `nil` on overflow or a negative dimension.
  static func byteCount(shape: [Int], itemSize: Int) -> Int? {
    var total = itemSize
    var hasZero = false
    for dim in shape {
      guard dim >= 0 else { return nil }
      if dim == 0 {
        hasZero = true
        continue
      }
      let (product, overflow) = total.multipliedReportingOverflow(by: dim)
      if overflow { return nil }
      total = product
    }
    return hasZero ? 0 : total
  }

  /// Byte strides of a contiguous array in `order`.
  static func contiguousStrides(shape: [Int], itemSize: Int, order: MemoryOrder) -> [Int] {
    var strides = [Int](repeating: 0, count: shape.count)
    var step = itemSize
    let axes = order == .c ? Array((0..<shape.count).reversed()) : Array(0..<shape.count)
    for axis in axes {
      strides[axis] = step
      step &*= max(shape[axis], 1)
    }
    return strides
  }

  /// numpy's contiguity flags: empty arrays are contiguous; axes of length 1 do not count.
  static func isContiguous(shape: [Int], strides: [Int], itemSize: Int, order: MemoryOrder) -> Bool {
    if shape.contains(0) { return true }
    var expected = itemSize
    let axes = order == .c ? Array((0..<shape.count).reversed()) : Array(0..<shape.count)
    for axis in axes where shape[axis] != 1 {
      if strides[axis] != expected { return false }
      expected &*= shape[axis]
    }
    return true
  }

  /// The order np.save records for an array written in `requested` order: Fortran only
  /// when that layout is not also C-contiguous (1-d arrays, and shapes with a single
  /// axis longer than 1, are both, and numpy writes them as C). The one place this
  /// rule lives: every writer (npy, npz member, device save) asks it.
  static func savedOrder(shape: [Int], itemSize: Int, requested: MemoryOrder) -> MemoryOrder {
    guard requested == .fortran else { return .c }
    let fStrides = contiguousStrides(shape: shape, itemSize: itemSize, order: .fortran)
    return isContiguous(shape: shape, strides: fStrides, itemSize: itemSize, order: .c) ? .c : .fortran
  }

  /// The lowest and highest byte offsets (relative to element zero, highest exclusive)
  /// an array touches, and its element count; `nil` on overflow.
  static func extent(shape: [Int], strides: [Int], itemSize: Int) -> (lowest: Int, highest: Int, count: Int)? {
    guard let count = byteCount(shape: shape, itemSize: 1) else { return nil }
    if count == 0 { return (0, 0, 0) }
    var low = 0
    var high = itemSize
    for (dim, stride) in zip(shape, strides) {
      let (span, overflow) = (dim - 1).multipliedReportingOverflow(by: stride)
      if overflow { return nil }
      if span < 0 { low += span } else { high += span }
    }
    return (low, high, count)
  }

  /// Calls `body` with the byte offset of every element, in C order of `shape`.
  static func forEachElement(shape: [Int], strides: [Int], _ body: (Int) -> Void) {
    guard let count = byteCount(shape: shape, itemSize: 1), count > 0 else { return }
    var cursor = StridedCursor(shape: shape, strides: strides)
    for _ in 0..<count {
      body(cursor.offset)
      cursor.advance()
    }
  }
}

/// Successive byte offsets of an array's elements in C order of `shape`, one step at a time.
struct StridedCursor {
  let shape: [Int]
  let strides: [Int]
  private var index: [Int]
  private(set) var offset = 0

  init(shape: [Int], strides: [Int]) {
    self.shape = shape
    self.strides = strides
    self.index = [Int](repeating: 0, count: shape.count)
  }

  mutating func advance() {
    var axis = shape.count - 1
    while axis >= 0 {
      index[axis] += 1
      offset += strides[axis]
      if index[axis] < shape[axis] { return }
      offset -= strides[axis] * shape[axis]
      index[axis] = 0
      axis -= 1
    }
  }
}
