import Glibc

/// Comparing two arrays as np.array_equal / np.allclose do.
public enum ArrayComparison {
  /// The outcome of a comparison.
  public struct Report: Sendable, Hashable {
    /// Why the arrays cannot be compared element by element (shape, or incompatible dtypes).
    public var mismatch: String?
    /// Elements compared.
    public var count: Int
    /// Elements that differ (beyond the tolerances).
    public var differing: Int
    /// The largest |a - b| over all elements (numeric arrays).
    public var maxAbsolute: Double?
    /// The largest |a - b| / |b| over elements where b != 0 (numeric arrays).
    public var maxRelative: Double?
    /// The C-order index of the first differing element.
    public var firstIndex: [Int]?
    /// Whether the arrays are equal (or close, with tolerances).
    public var isEqual: Bool { mismatch == nil && differing == 0 }
  }

  /// Compares `a` and `b` elementwise: `|a - b| <= atol + rtol * |b|` on values cast to
  /// float64 (complex: the modulus of the difference), NaN equal to NaN when `nanEqual`.
  /// Non-numeric arrays of the same dtype compare byte for byte.
  public static func compare(_ a: NDArray, _ b: NDArray, rtol: Double = 0, atol: Double = 0, nanEqual: Bool = true)
    throws(TensorIOError) -> Report
  {
    guard a.shape == b.shape else {
      return Report(mismatch: "shape \(a.shape) vs \(b.shape)", count: 0, differing: 0)
    }
    let count = a.count
    if !(a.dtype.isNumeric && b.dtype.isNumeric) {
      guard a.dtype.withByteOrder(.little) == b.dtype.withByteOrder(.little) else {
        return Report(mismatch: "dtype \(a.dtype) vs \(b.dtype)", count: 0, differing: 0)
      }
      // Zero-size elements (S0, U0, V0) hold no bytes: equal whatever their count.
      if a.dtype.itemSize == 0 { return Report(count: count, differing: 0) }
      let left = try a.copy(order: .c, byteOrder: .little)
      let right = try b.copy(order: .c, byteOrder: .little)
      let size = a.dtype.itemSize
      var differing = 0
      var first: Int?
      let l = left.storage.unsafeBaseAddress
      let r = right.storage.unsafeBaseAddress
      for i in 0..<count where memcmp(l + i * size, r + i * size, size) != 0 {
        differing += 1
        if first == nil { first = i }
      }
      return Report(count: count, differing: differing, firstIndex: first.map { unravel($0, a.shape) })
    }
    // Numeric: both walked in step as complex128 (real arrays get a zero imaginary
    // part), in C order, a bounded piece at a time.
    let left = try ConvertedPieces(a, to: .complex128, order: .c)
    let right = try ConvertedPieces(b, to: .complex128, order: .c)
    var report = Report(count: count, differing: 0, maxAbsolute: 0)
    var position = 0
    while let l = try left.next(), let r = try right.next() {
      let lv = l.bindMemory(to: Double.self)
      let rv = r.bindMemory(to: Double.self)
      for k in 0..<(lv.count / 2) {
        let (ar, ai, br, bi) = (lv[2 * k], lv[2 * k + 1], rv[2 * k], rv[2 * k + 1])
        let aNaN = ar.isNaN || ai.isNaN
        let bNaN = br.isNaN || bi.isNaN
        var same: Bool
        if aNaN || bNaN {
          same = nanEqual && aNaN && bNaN
        } else if ar == br && ai == bi {
          same = true  // also equal infinities
        } else {
          let dr = ar - br
          let di = ai - bi
          let difference = di == 0 ? abs(dr) : hypot(dr, di)
          let magnitude = bi == 0 ? abs(br) : hypot(br, bi)
          same = difference <= atol + rtol * magnitude
          if difference.isFinite {
            report.maxAbsolute = max(report.maxAbsolute ?? 0, difference)
            if magnitude > 0 { report.maxRelative = max(report.maxRelative ?? 0, difference / magnitude) }
          }
        }
        if !same {
          report.differing += 1
          if report.firstIndex == nil { report.firstIndex = unravel(position + k, a.shape) }
        }
      }
      position += lv.count / 2
    }
    return report
  }

  /// The multi-index of C-order position `position` in `shape`.
  static func unravel(_ position: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = position
    for axis in (0..<shape.count).reversed() where shape[axis] > 0 {
      index[axis] = rest % shape[axis]
      rest /= shape[axis]
    }
    return index
  }
}
