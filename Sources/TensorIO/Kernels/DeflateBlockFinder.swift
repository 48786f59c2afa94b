/// Finds where a deflate block with dynamic Huffman codes may start inside a raw deflate
/// stream, from a bit position on, without decoding what comes before (the speculative
/// search of rapidgzip, Knespel and Brunst 2023).
///
/// A position is a candidate when the bits there read as a complete, valid block header:
/// not the final block, dynamic codes, at most 286 literal/length and 30 distance codes,
/// a complete code-length code, code lengths that decode from it without running past
/// their count (a repeat needs a previous length), a complete literal/length code
/// (or one code) with an end-of-block code, a complete distance code (or one code, or
/// none). Random bits pass all of that rarely; a candidate is still only a guess, which
/// the caller confirms by inflating from it.
struct DeflateBlockFinder {
  private let input: UnsafeRawBufferPointer
  /// Reused between candidates: code lengths, and counts per length.
  private var lengths = [UInt8](repeating: 0, count: 286 + 30)
  private var counts = [Int](repeating: 0, count: 16)
  private var codeLengths = [UInt8](repeating: 0, count: 19)
  private var codeLengthSymbols = [UInt8](repeating: 0, count: 19)
  private var offsets = [Int](repeating: 0, count: 9)

  /// The order the code-length code's lengths are stored in.
  private static let order: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  /// A finder over `input` (valid while it is).
  init(_ input: UnsafeRawBufferPointer) {
    self.input = input
  }

  /// The first candidate at or after bit `start` and before bit `end`, if any.
  mutating func next(from start: Int, before end: Int) -> Int? {
    let limit = min(end, input.count * 8 - 17)
    var p = max(0, start)
    while p < limit {
      // Bits 0-2: not final, dynamic codes (0b10 after the 0 of BFINAL).
      let head = bits(at: p, count: 17)
      if head & 7 == 0b100, (head >> 3) & 31 <= 29, (head >> 8) & 31 <= 29, completeCodeLengthCode(at: p, head: head),
        isBlockHeader(at: p, head: head)
      {
        return p
      }
      p += 1
    }
    return nil
  }

  /// Whether the code-length code's lengths (3 bits each, after the 17 header bits)
  /// make a complete code: the quick test most positions fail.
  private func completeCodeLengthCode(at p: Int, head: UInt64) -> Bool {
    let count = Int((head >> 13) & 15) + 4
    let lengths = bits(at: p + 17, count: 57)
    var sum = 0
    for i in 0..<count {
      let length = Int((lengths >> UInt64(3 * i)) & 7)
      if length != 0 { sum += 128 >> length }
    }
    return sum == 128
  }

  /// `count` (at most 57) bits from bit `p`, the stream's first bit lowest; bits past
  /// the input read as 0.
  private func bits(at p: Int, count: Int) -> UInt64 {
    let byte = p >> 3
    var word: UInt64 = 0
    if byte + 8 <= input.count {
      word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
    } else {
      for i in 0..<max(0, min(8, input.count - byte)) { word |= UInt64(input[byte + i]) << (8 * i) }
    }
    return (word >> UInt64(p & 7)) & ((1 << UInt64(count)) - 1)
  }

  /// Whether the lengths in `counts[1...maxLength]` make a complete prefix code
  /// (`single`: or a single code of length 1; `empty`: or no code at all).
  private func isComplete(maxLength: Int, single: Bool, empty: Bool) -> Bool {
    var left = 1
    var used = 0
    for length in 1...maxLength {
      left <<= 1
      left -= counts[length]
      used += counts[length]
      if left < 0 { return false }
    }
    return left == 0 || (single && used == 1 && counts[1] == 1) || (empty && used == 0)
  }

  private mutating func isBlockHeader(at start: Int, head: UInt64) -> Bool {
    let literalCodes = Int((head >> 3) & 31) + 257
    let distanceCodes = Int((head >> 8) & 31) + 1
    let codeLengthCodes = Int((head >> 13) & 15) + 4
    var p = start + 17
    guard p + 3 * codeLengthCodes <= input.count * 8 else { return false }
    // The code-length code: complete (zlib and libdeflate refuse anything else).
    for i in 0..<19 { codeLengths[i] = 0 }
    for i in 0..<codeLengthCodes {
      codeLengths[Self.order[i]] = UInt8(bits(at: p, count: 3))
      p += 3
    }
    for i in 0..<16 { counts[i] = 0 }
    for length in codeLengths { counts[Int(length)] += 1 }
    guard isComplete(maxLength: 7, single: false, empty: false) else { return false }
    // Canonical code: symbols by length, then value.
    for i in 0..<9 { offsets[i] = 0 }
    for length in 1...7 { offsets[length + 1] = offsets[length] + counts[length] }
    for symbol in 0..<19 where codeLengths[symbol] != 0 {
      codeLengthSymbols[offsets[Int(codeLengths[symbol])]] = UInt8(symbol)
      offsets[Int(codeLengths[symbol])] += 1
    }
    let codeLengthCounts = counts
    // The literal/length and distance code lengths.
    let total = literalCodes + distanceCodes
    var filled = 0
    while filled < total {
      guard let symbol = decodeCodeLength(at: &p, counts: codeLengthCounts) else { return false }
      var repeatCount = 1
      var value: UInt8 = 0
      switch symbol {
      case 0...15: value = UInt8(symbol)
      case 16:
        guard filled > 0 else { return false }
        value = lengths[filled - 1]
        repeatCount = 3 + Int(bits(at: p, count: 2))
        p += 2
      case 17:
        repeatCount = 3 + Int(bits(at: p, count: 3))
        p += 3
      default:
        repeatCount = 11 + Int(bits(at: p, count: 7))
        p += 7
      }
      guard filled + repeatCount <= total, p <= input.count * 8 else { return false }
      for i in filled..<filled + repeatCount { lengths[i] = value }
      filled += repeatCount
    }
    guard lengths[256] != 0 else { return false }
    for i in 0..<16 { counts[i] = 0 }
    for i in 0..<literalCodes { counts[Int(lengths[i])] += 1 }
    guard isComplete(maxLength: 15, single: true, empty: false) else { return false }
    for i in 0..<16 { counts[i] = 0 }
    for i in literalCodes..<total { counts[Int(lengths[i])] += 1 }
    return isComplete(maxLength: 15, single: true, empty: true)
  }

  /// One symbol of the code-length code (canonical decoding a bit at a time).
  private func decodeCodeLength(at p: inout Int, counts: [Int]) -> Int? {
    var code = 0
    var first = 0
    var index = 0
    for length in 1...7 {
      guard p < input.count * 8 else { return nil }
      code |= Int(bits(at: p, count: 1))
      p += 1
      let count = counts[length]
      if code - first < count { return Int(codeLengthSymbols[index + code - first]) }
      index += count
      first = (first + count) << 1
      code <<= 1
    }
    return nil
  }
}
