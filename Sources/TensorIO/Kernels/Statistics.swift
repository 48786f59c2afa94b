/// Summary statistics of a numeric array, computed in one streaming pass split over all
/// cores (a mapped file larger than memory is fine).
///
/// NaNs are counted and left out of the other figures, as numpy's `nanmin`, `nanmax`,
/// `nanmean` and `nanstd` (population, ddof=0) do; infinities take part. Booleans
/// count as 0 and 1. Complex arrays report the counts and the mean and standard
/// deviation of the modulus-free definition numpy uses (`std = sqrt(mean(|x - mean|^2))`),
/// with min and max left out (complex numbers are not ordered).
public struct ArrayStatistics: Sendable, Hashable {
  /// Elements.
  public var count: Int
  /// NaN elements (a complex element counts when either part is NaN).
  public var nanCount: Int
  /// Infinite elements (either part, for complex).
  public var infCount: Int
  /// The smallest non-NaN value (real arrays with a non-NaN element).
  public var min: Double?
  /// The largest non-NaN value.
  public var max: Double?
  /// The mean of the non-NaN values (real part, for complex).
  public var mean: Double?
  /// The imaginary part of the mean, for complex arrays.
  public var meanImaginary: Double?
  /// The population standard deviation of the non-NaN values.
  public var std: Double?

  /// Partial results of one range, combined with Chan et al.'s parallel formula.
  struct Partial: Sendable {
    var count = 0
    var nan = 0
    var inf = 0
    var n = 0
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var meanRe = 0.0
    var meanIm = 0.0
    var m2 = 0.0

    mutating func add(_ re: Double, _ im: Double) {
      count += 1
      // As numpy's isinf and isnan: a complex (inf, nan) counts as both.
      if re.isInfinite || im.isInfinite { inf += 1 }
      if re.isNaN || im.isNaN {
        nan += 1
        return
      }
      n += 1
      if re < minimum { minimum = re }
      if re > maximum { maximum = re }
      let dRe = re - meanRe
      let dIm = im - meanIm
      meanRe += dRe / Double(n)
      meanIm += dIm / Double(n)
      m2 += dRe * (re - meanRe) + dIm * (im - meanIm)
    }

    /// Adds a piece of real values: one pass for counts, sum, min and max, a second
    /// (cache-hot) pass for the squared deviations from the piece's mean.
    mutating func addReal(_ values: UnsafeBufferPointer<Double>) {
      var piece = Partial()
      var sum = 0.0
      for v in values {
        if v.isInfinite { piece.inf += 1 }
        if v.isNaN {
          piece.nan += 1
          continue
        }
        piece.n += 1
        sum += v
        if v < piece.minimum { piece.minimum = v }
        if v > piece.maximum { piece.maximum = v }
      }
      piece.count = values.count
      if piece.n > 0 {
        let mean = sum / Double(piece.n)
        var m2 = 0.0
        for v in values where !v.isNaN {
          let d = v - mean
          m2 += d * d
        }
        piece.meanRe = mean
        piece.m2 = m2
      }
      merge(piece)
    }

    mutating func merge(_ other: Partial) {
      count += other.count
      nan += other.nan
      inf += other.inf
      guard other.n > 0 else { return }
      if n == 0 {
        (n, minimum, maximum, meanRe, meanIm, m2) = (
          other.n, other.minimum, other.maximum, other.meanRe, other.meanIm, other.m2
        )
        return
      }
      let total = Double(n + other.n)
      let dRe = other.meanRe - meanRe
      let dIm = other.meanIm - meanIm
      m2 += other.m2 + (dRe * dRe + dIm * dIm) * Double(n) * Double(other.n) / total
      meanRe += dRe * Double(other.n) / total
      meanIm += dIm * Double(other.n) / total
      n += other.n
      minimum = Swift.min(minimum, other.minimum)
      maximum = Swift.max(maximum, other.maximum)
    }
  }

  /// The statistics of `array` (numeric dtypes only).
  public static func compute(_ array: NDArray) throws(TensorIOError) -> ArrayStatistics {
    guard array.dtype.isNumeric else {
      throw TensorIOError(.notNumeric(operation: "statistics", dtype: array.dtype.name))
    }
    let isComplex: Bool
    if case .complex = array.dtype.kind { isComplex = true } else { isComplex = false }
    let target: DType = isComplex ? .complex128 : .float64
    // Statistics ignore order: walk a contiguous array as flat ranges, one per core.
    var flat: [NDArray] = []
    if (array.isCContiguous || array.isFortranContiguous) && array.count > (1 << 20) {
      let linear = try NDArray(
        storage: array.storage, dtype: array.dtype, shape: [array.count], strides: [array.dtype.itemSize],
        byteOffset: array.byteOffset)
      let parts = Parallel.cores * 2
      let step = (array.count + parts - 1) / parts
      for i in 0..<parts {
        let range = (i * step)..<Swift.min(array.count, (i + 1) * step)
        if !range.isEmpty { flat.append(try linear.slice(range)) }
      }
    } else {
      flat = [array]
    }
    let ranges = flat
    let partials = try Parallel.map(ranges.count) { (i) throws(TensorIOError) -> Partial in
      var partial = Partial()
      let pieces = try ConvertedPieces(ranges[i], to: target, order: .c)
      while let piece = try pieces.next() {
        let values = piece.bindMemory(to: Double.self)
        if isComplex {
          for k in 0..<(values.count / 2) { partial.add(values[2 * k], values[2 * k + 1]) }
        } else {
          partial.addReal(values)
        }
      }
      return partial
    }
    var total = Partial()
    for partial in partials { total.merge(partial) }
    let some = total.n > 0
    return ArrayStatistics(
      count: total.count, nanCount: total.nan, infCount: total.inf,
      min: some && !isComplex ? total.minimum : nil, max: some && !isComplex ? total.maximum : nil,
      mean: some ? total.meanRe : nil, meanImaginary: some && isComplex ? total.meanIm : nil,
      std: some ? (total.m2 / Double(total.n)).squareRoot() : nil)
  }
}
