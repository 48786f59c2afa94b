/// Walks the blocks of a complete raw deflate stream without producing its output: where
/// its last block starts and where the stream ends, to the bit. Used on libdeflate's
/// output (whole-buffer streams that end in a final block), so that such streams can be
/// joined into one: the final block's BFINAL bit cleared, the stream ended at its last
/// bit and a sync-flush marker (an empty stored block) appended.
///
/// Every read is bounds-checked and every code validated: a stream that is not valid
/// deflate gives nil, never a trap.
struct DeflateWalker {
  private let input: UnsafeRawBufferPointer
  private var position = 0  // in bits
  private let limit: Int

  private static let lengthBase: [Int] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  private static let lengthExtra: [Int] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceExtra: [Int] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
  private static let order: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  /// Where the last block starts and where the stream ends (bit offsets from the first
  /// byte's lowest bit).
  struct Ends: Equatable {
    var lastBlock: Int
    var end: Int
  }

  /// A walker over `input` (valid while it is).
  init(_ input: UnsafeRawBufferPointer) {
    self.input = input
    limit = input.count * 8
  }

  /// The ends of the stream, or nil if it is not a valid, complete deflate stream.
  static func ends(of input: UnsafeRawBufferPointer) -> Ends? {
    var walker = DeflateWalker(input)
    return walker.walk()
  }

  private mutating func walk() -> Ends? {
    while true {
      let start = position
      guard let final = bits(1), let type = bits(2) else { return nil }
      switch type {
      case 0:
        position = (position + 7) & ~7
        guard let length = bits(16), let complement = bits(16), length ^ complement == 0xFFFF,
          position + 8 * length <= limit
        else { return nil }
        position += 8 * length
      case 1:
        guard let (literal, distance) = Self.fixedCodes, symbols(literal, distance) else { return nil }
      case 2:
        guard let (literal, distance) = dynamicCodes(), symbols(literal, distance) else { return nil }
      default:
        return nil
      }
      if final == 1 { return Ends(lastBlock: start, end: position) }
    }
  }

  /// `count` (at most 32) bits, the first lowest; nil past the end.
  @inline(__always) private mutating func bits(_ count: Int) -> Int? {
    guard position + count <= limit else { return nil }
    let value = peek(count)
    position += count
    return value
  }

  /// Up to 32 bits from the current position without consuming them (0 past the end).
  @inline(__always) private func peek(_ count: Int) -> Int {
    let byte = position >> 3
    var word: UInt64 = 0
    if byte + 8 <= input.count {
      word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
    } else {
      for i in 0..<max(0, input.count - byte) { word |= UInt64(input[byte + i]) << (8 * UInt64(i)) }
    }
    return Int((word >> UInt64(position & 7)) & ((1 << UInt64(count)) - 1))
  }

  /// A canonical Huffman code: a lookup table over its first (up to) 10 bits, each entry
  /// a symbol and its code length (bits read lowest first; 0: a longer code), and the
  /// counts and symbols in code order for the longer codes.
  struct Code {
    var table: [UInt32]
    var bits: Int
    var counts: [Int]
    var symbols: [Int]

    /// The code of `lengths` (0: unused symbol), or nil if it is over-subscribed or
    /// (with more than one code) incomplete.
    init?(_ lengths: [Int]) {
      counts = [Int](repeating: 0, count: 16)
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var left = 1
      for length in 1..<16 {
        left = (left << 1) - counts[length]
        if left < 0 { return nil }
      }
      guard left == 0 || counts.reduce(0, +) <= 1 else { return nil }
      var offsets = [Int](repeating: 0, count: 17)
      for length in 1..<16 { offsets[length + 1] = offsets[length] + counts[length] }
      symbols = [Int](repeating: 0, count: offsets[16])
      var next = [Int](repeating: 0, count: 16)
      var code = 0
      for length in 1..<16 {
        code = (code + counts[length - 1]) << 1
        next[length] = code
      }
      bits = min(10, max(1, lengths.max() ?? 1))
      table = [UInt32](repeating: 0, count: 1 << bits)
      for (symbol, length) in lengths.enumerated() where length > 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
        let value = next[length]
        next[length] += 1
        guard length <= bits else { continue }
        // Reversed: the stream sends a code's first bit lowest.
        var reversed = 0
        for i in 0..<length where value & (1 << i) != 0 { reversed |= 1 << (length - 1 - i) }
        var index = reversed
        while index < table.count {
          table[index] = UInt32(symbol) << 8 | UInt32(length)
          index += 1 << length
        }
      }
    }
  }

  private static let fixedCodes: (Code, Code)? = {
    let literal = (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }
    guard let l = Code(literal), let d = Code([Int](repeating: 5, count: 32)) else { return nil }
    return (l, d)
  }()

  /// One symbol of `code`; nil for an unused code or past the end.
  @inline(__always) private mutating func symbol(_ code: Code) -> Int? {
    let entry = code.table[peek(code.bits)]
    let length = Int(entry & 0xFF)
    guard length > 0 else { return longSymbol(code) }
    guard position + length <= limit else { return nil }
    position += length
    return Int(entry >> 8)
  }

  /// A symbol whose code is longer than the table's bits: decoded a bit at a time.
  private mutating func longSymbol(_ code: Code) -> Int? {
    var value = 0
    var first = 0
    var index = 0
    for length in 1..<16 {
      guard let bit = bits(1) else { return nil }
      value |= bit
      let count = code.counts[length]
      if value - first < count { return code.symbols[index + value - first] }
      index += count
      first = (first + count) << 1
      value <<= 1
    }
    return nil
  }

  private mutating func dynamicCodes() -> (Code, Code)? {
    guard let hlit = bits(5), let hdist = bits(5), let hclen = bits(4) else { return nil }
    var codeLengths = [Int](repeating: 0, count: 19)
    for i in 0..<(hclen + 4) {
      guard let length = bits(3) else { return nil }
      codeLengths[Self.order[i]] = length
    }
    guard let lengthCode = Code(codeLengths) else { return nil }
    let total = hlit + 257 + hdist + 1
    guard hlit + 257 <= 286, hdist + 1 <= 30 else { return nil }
    var lengths: [Int] = []
    lengths.reserveCapacity(total)
    while lengths.count < total {
      guard let symbol = symbol(lengthCode) else { return nil }
      switch symbol {
      case 0...15: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last, let extra = bits(2) else { return nil }
        lengths += repeatElement(previous, count: 3 + extra)
      case 17:
        guard let extra = bits(3) else { return nil }
        lengths += repeatElement(0, count: 3 + extra)
      default:
        guard let extra = bits(7) else { return nil }
        lengths += repeatElement(0, count: 11 + extra)
      }
    }
    guard lengths.count == total, lengths[256] > 0, let literal = Code(Array(lengths[..<(hlit + 257)])),
      let distance = Code(Array(lengths[(hlit + 257)...]))
    else { return nil }
    return (literal, distance)
  }

  /// Skips a block's symbols up to and including its end-of-block code.
  private mutating func symbols(_ literal: Code, _ distance: Code) -> Bool {
    while true {
      guard let symbol = symbol(literal) else { return false }
      if symbol < 256 { continue }
      if symbol == 256 { return true }
      let index = symbol - 257
      guard index < 29, bits(Self.lengthExtra[index]) != nil, let d = self.symbol(distance), d < 30,
        bits(Self.distanceExtra[d]) != nil
      else { return false }
    }
  }
}
