import CLibdeflate

/// A raw deflate stream without restart points (numpy's deflated members) inflated on
/// two cores through libdeflate, which only inflates whole streams.
///
/// The stream is cut at a block boundary found past its middle (`DeflateBlockFinder`,
/// confirmed by inflating a little from it):
/// - the head, the compressed bits before the cut closed by an empty final block
///   (written over three bytes at the cut in the caller's private copy, then put back),
///   is a complete stream: it inflates on this core straight into the output;
/// - the tail, the bits from the cut on, copies from up to 32 KiB before the cut, which
///   the head has not produced yet. On the other core it inflates behind a 32 KiB
///   stored block standing in for that window, and again behind a second stand-in. The
///   two stand-ins give each window position a pair of bytes that no other position
///   has and that are never equal: where the two outputs agree, the byte is the tail's
///   own; where they differ, the pair names the window position it was copied from
///   (through any chain of copies). Once 32 KiB in a row agree, no later byte can reach
///   the window, so the second inflate runs over the tail's first MiB only.
/// - Where copies from the window persist past that MiB (data of few byte values, such
///   as floats rounded to fewer bits, copy runs of zeros along forever), the tail would
///   cost two full inflates. Then the other core takes only the last third (cut again,
///   inflated behind both stand-ins), and this core, after the head, inflates the part
///   between the two cuts behind the real window, which it has by then.
///
/// When both sides are done, the last part's bytes are resolved from their window and
/// placed after the others. Anything unexpected (no boundary, a candidate that does
/// not inflate, sizes that do not add up, a pair no position makes) ends in one inflate
/// of the whole stream instead; the caller checks the CRC-32 of the output as always.
enum SplitInflate {
  /// Sizes that decide whether and how a stream is split (smaller in tests).
  struct Tuning: Sendable {
    /// Compressed streams shorter than this inflate whole (splitting would not pay).
    var minimumInput = 16 << 20
    /// Outputs shorter than this too.
    var minimumOutput = 8 << 20
    /// How much of the tail the second inflate covers unless copies persist.
    var checkLength = 1 << 20
    /// The least distance between the two cuts, in compressed bytes.
    var minimumMiddle = 1 << 20
  }

  /// Which parts a split stream was inflated in.
  enum Route: Equatable {
    /// Head and tail.
    case headTail
    /// Head, middle (behind the real window) and last part, where copies persist.
    case headMiddleTail
  }

  /// Where the search for the cut starts, in 1/64ths of the compressed stream.
  static let headShare = 36
  /// Where the search for the second cut starts when copies persist.
  static let lastShare = 46
  /// How far past those points a boundary is searched for, in compressed bytes.
  static let searchBytes = 4 << 20
  private static let window = 32768
  /// libdeflate stops short of a full output by less than a stored block (64 KiB):
  /// what lies before that is written.
  private static let stopMargin = 65536
  /// A stored block of 32 KiB: not final, LEN 0x8000, NLEN 0x7FFF.
  private static let storedHeader: [UInt8] = [0x00, 0x00, 0x80, 0xFF, 0x7F]
  private static let streamStart = storedHeader.count + window

  /// Inflates `input` into `output`, which it must fill exactly, as
  /// `WholeInflate.inflate` does, on two cores when it can. `input` is changed while
  /// this runs (three bytes) and restored before it returns.
  static func inflate(
    _ input: UnsafeMutableRawBufferPointer, into output: UnsafeMutableRawBufferPointer, tuning: Tuning = Tuning()
  ) -> WholeInflate.Outcome {
    guard Parallel.cores > 1, input.count >= tuning.minimumInput, output.count >= tuning.minimumOutput,
      let (done, _) = split(input, into: output, tuning: tuning)
    else { return WholeInflate.inflateFaultingAhead(UnsafeRawBufferPointer(input), into: output) }
    return done
  }

  /// The byte window position `k` stands in as, in the first and second stand-ins:
  /// never equal, and the pair gives the position back (`position(_:_:)`).
  @inline(__always) static func standIn(_ k: Int) -> (UInt8, UInt8) {
    let low = UInt8(truncatingIfNeeded: k)
    return (low, low &+ UInt8(truncatingIfNeeded: k >> 8) &+ 1)
  }

  /// The window position that stands in as `(a, b)` (a != b), or nil if none does.
  @inline(__always) static func position(_ a: UInt8, _ b: UInt8) -> Int? {
    let high = b &- a &- 1
    return high < 128 ? Int(high) << 8 | Int(a) : nil
  }

  /// The first confirmed block boundary at or after bit `from`, if one is found soon.
  static func cut(in input: UnsafeRawBufferPointer, from: Int) -> Int? {
    var finder = DeflateBlockFinder(input)
    var from = from
    let end = from + searchBytes * 8
    for _ in 0..<16 {
      guard let candidate = finder.next(from: from, before: end) else { return nil }
      if confirms(input, cut: candidate) { return candidate }
      from = candidate + 1
    }
    return nil
  }

  /// Whether the stream from bit `cut` inflates for a while behind a stand-in window.
  private static func confirms(_ input: UnsafeRawBufferPointer, cut: Int) -> Bool {
    let first = cut >> 3
    let start = Array(input[first..<min(input.count, first + 17)])
    let room = window + (64 << 10)
    guard let stream = stream(input, from: cut, start: start, count: 256 << 10), let output = Buffer(room) else {
      return false
    }
    fillWindow(stream.bytes, 0)
    // Out of room: valid this far. Success: the stream ended within the probe.
    let (result, _) = run(stream, output.bytes)
    return result == LIBDEFLATE_INSUFFICIENT_SPACE || result == LIBDEFLATE_SUCCESS
  }

  /// The compressed bits from bit `cut` as a stream of their own: a stored block for a
  /// window (to be filled), then at most `count` bytes of those bits, moved to start on
  /// a byte. Its first bytes come from `start` (the input's bytes from the cut's, as
  /// they were before the head was closed: the input's may be changing).
  private static func stream(_ input: UnsafeRawBufferPointer, from cut: Int, start: [UInt8], count: Int) -> Buffer? {
    let (first, shift) = (cut >> 3, cut & 7)
    let count = max(0, min(input.count - first, count))
    guard let buffer = Buffer(streamStart + count) else { return nil }
    let stream = buffer.bytes
    for (i, byte) in storedHeader.enumerated() { stream[i] = byte }
    func byte(_ j: Int) -> UInt8 { j < start.count ? start[j] : first + j < input.count ? input[first + j] : 0 }
    let s = UInt64(shift)
    var i = 0
    while i < count && i + 1 < start.count {
      stream[streamStart + i] = UInt8(truncatingIfNeeded: (UInt16(byte(i)) | UInt16(byte(i + 1)) << 8) >> s)
      i += 1
    }
    while i + 9 <= count && first + i + 9 <= input.count {
      let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: first + i, as: UInt64.self))
      let next = UInt64(input[first + i + 8])
      let shifted = s == 0 ? word : (word >> s) | (next << (64 - s))
      stream.storeBytes(of: shifted.littleEndian, toByteOffset: streamStart + i, as: UInt64.self)
      i += 8
    }
    while i < count {
      stream[streamStart + i] = UInt8(truncatingIfNeeded: (UInt16(byte(i)) | UInt16(byte(i + 1)) << 8) >> s)
      i += 1
    }
    return buffer
  }

  /// Ends the stream in `bytes` at bit `p` with an empty final block with fixed codes
  /// (BFINAL 1, BTYPE 01, end-of-block 0000000): writes bytes `p / 8 ..< p / 8 + 3`,
  /// keeping the bits before `p`. The stream is then `p / 8 + 3` bytes long.
  @inline(__always) static func close(_ bytes: UnsafeMutableRawBufferPointer, atBit p: Int) {
    let (q, r) = (p >> 3, UInt32(p & 7))
    let closing = UInt32(bytes[q] & UInt8(truncatingIfNeeded: (1 << r) - 1)) | (3 << r)
    for i in 0..<3 { bytes[q + i] = UInt8(truncatingIfNeeded: closing >> (8 * UInt32(i))) }
  }

  /// Memory for a stream or an output (huge pages where large, as `Storage` maps them).
  private struct Buffer: Sendable {
    let storage: Storage
    let count: Int

    init?(_ count: Int) {
      guard let storage = try? Storage(zeroedByteCount: count) else { return nil }
      (self.storage, self.count) = (storage, count)
    }

    /// The first `count` bytes of `buffer`.
    init(_ buffer: Buffer, count: Int) {
      (storage, self.count) = (buffer.storage, min(count, buffer.count))
    }

    /// The bytes (valid while this buffer is).
    var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: storage.mutableBase, count: count) }
  }

  /// Writes stand-in `which` (0 or 1) into the window of `stream`.
  private static func fillWindow(_ stream: UnsafeMutableRawBufferPointer, _ which: Int) {
    for k in 0..<window {
      let (a, b) = standIn(k)
      stream[storedHeader.count + k] = which == 0 ? a : b
    }
  }

  /// Inflates `stream` into `output`: libdeflate's result and the bytes produced (known
  /// on success only).
  private static func run(_ stream: Buffer, _ output: UnsafeMutableRawBufferPointer) -> (libdeflate_result, Int) {
    run(UnsafeRawBufferPointer(stream.bytes), output)
  }

  private static func run(_ stream: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer)
    -> (libdeflate_result, Int)
  {
    guard let decompressor = libdeflate_alloc_decompressor(), let input = stream.baseAddress,
      let out = output.baseAddress
    else { return (LIBDEFLATE_BAD_DATA, 0) }
    defer { libdeflate_free_decompressor(decompressor) }
    var produced = 0
    let result = libdeflate_deflate_decompress_ex(decompressor, input, stream.count, out, output.count, nil, &produced)
    return (result, produced)
  }

  /// The last part inflated behind both stand-ins.
  private struct Tail: Sendable {
    /// Behind the first stand-in: the window, then the part's bytes.
    var first: Buffer
    /// Behind the second, as far as `compared`.
    var second: Buffer
    /// Where in `first` the bytes that may come from the window end.
    var compared: Int
  }

  /// What the other core does, decided within its first milliseconds: the tail from the
  /// cut, or (where copies persist) only the part from `middleEnd`, the second cut.
  private struct Plan: Sendable {
    var middleEnd: Int?
    var tail: BackgroundTask<Tail?>
  }

  /// Inflates the stream from bit `cut` (at most `total` bytes) behind both stand-ins;
  /// the second inflate stops after `secondRoom` bytes when given and the two agree on
  /// their last 32 KiB there.
  private static func inflateBoth(
    _ input: UnsafeRawBufferPointer, from cut: Int, start: [UInt8], total: Int, secondRoom: Int?
  ) -> Tail? {
    guard let stream = stream(input, from: cut, start: start, count: input.count),
      let first = Buffer(window + total)
    else { return nil }
    fillWindow(stream.bytes, 0)
    let (result, count) = run(stream, first.bytes)
    guard result == LIBDEFLATE_SUCCESS, count >= window else { return nil }
    let tail = Buffer(first, count: count)
    fillWindow(stream.bytes, 1)
    if let room = secondRoom, count > room, let second = Buffer(room) {
      let (result, _) = run(stream, second.bytes)
      let written = room - stopMargin
      if result == LIBDEFLATE_INSUFFICIENT_SPACE, agree(tail, second, before: written) {
        return Tail(first: tail, second: second, compared: written)
      }
    }
    guard let second = Buffer(count), run(stream, second.bytes) == (LIBDEFLATE_SUCCESS, count) else { return nil }
    return Tail(first: tail, second: second, compared: count)
  }

  /// Whether `a` and `b` agree on the 32 KiB before `end`.
  private static func agree(_ a: Buffer, _ b: Buffer, before end: Int) -> Bool {
    guard end >= 2 * window, end <= a.count, end <= b.count else { return false }
    let range = (end - window)..<end
    return UnsafeRawBufferPointer(rebasing: a.bytes[range]).elementsEqual(
      UnsafeRawBufferPointer(rebasing: b.bytes[range]))
  }

  /// The other core's first step: whether copies from before the cut persist through
  /// the tail's first `checkLength` bytes, and the work that follows from it, started.
  private static func plan(_ input: UnsafeRawBufferPointer, cut: Int, start: [UInt8], total: Int, tuning: Tuning)
    -> Plan?
  {
    let room = window + tuning.checkLength + stopMargin
    guard let check = stream(input, from: cut, start: start, count: 2 * tuning.checkLength), let one = Buffer(room),
      let two = Buffer(room)
    else { return nil }
    var results: [libdeflate_result] = []
    for (which, output) in [one, two].enumerated() {
      fillWindow(check.bytes, which)
      results.append(run(check, output.bytes).0)
    }
    let persist =
      results.allSatisfy { $0 == LIBDEFLATE_INSUFFICIENT_SPACE } && !agree(one, two, before: room - stopMargin)
    // Safety (both tasks): the input is only read, from 17 bytes past the first cut's
    // byte on; the caller waits for the plan and its task before the input goes.
    let shared = UnsafeShared(input)
    if persist, let second = Self.cut(in: input, from: input.count / 64 * lastShare * 8),
      second >= cut + 8 * tuning.minimumMiddle
    {
      let start = Array(input[(second >> 3)..<min(input.count, (second >> 3) + 17)])
      return Plan(
        middleEnd: second,
        tail: BackgroundTask { inflateBoth(shared.value, from: second, start: start, total: total, secondRoom: nil) })
    }
    return Plan(
      middleEnd: nil,
      tail: BackgroundTask {
        inflateBoth(shared.value, from: cut, start: start, total: total, secondRoom: persist ? nil : room)
      })
  }

  /// The split inflate, or nil where it did not work out (the output then holds
  /// anything: inflate the whole stream).
  static func split(
    _ input: UnsafeMutableRawBufferPointer, into output: UnsafeMutableRawBufferPointer, tuning: Tuning
  ) -> (WholeInflate.Outcome, Route)? {
    let readOnly = UnsafeRawBufferPointer(input)
    guard let cut = cut(in: readOnly, from: input.count / 64 * headShare * 8), (cut >> 3) + 17 <= input.count else {
      return nil
    }
    // The bytes the head's closing overwrites, as the other core is to read them.
    let start = Array(readOnly[(cut >> 3)..<(cut >> 3) + 17])
    let total = output.count
    // Safety: the plan reads the input from 17 bytes past the cut's byte on (the bytes
    // before are in `start`), which nothing writes; it is waited for before this
    // returns.
    let shared = UnsafeShared(readOnly)
    let planning = BackgroundTask { plan(shared.value, cut: cut, start: start, total: total, tuning: tuning) }
    var waited = false
    defer {
      if !waited { _ = try? planning.wait()?.tail.wait() }
    }
    // The head, here, straight into the output.
    close(input, atBit: cut)
    let (headResult, headCount) = run(UnsafeRawBufferPointer(rebasing: input[..<((cut >> 3) + 3)]), output)
    for i in 0..<3 { input[(cut >> 3) + i] = start[i] }
    guard headResult == LIBDEFLATE_SUCCESS, headCount >= window, let plan = try? planning.wait() else { return nil }
    // Between the cuts (where copies persist), here too, behind the real window.
    var before = headCount
    if let end = plan.middleEnd {
      guard let stream = stream(readOnly, from: cut, start: start, count: ((end - cut) >> 3) + 4) else { return nil }
      let bytes = stream.bytes
      let windowBytes = UnsafeRawBufferPointer(rebasing: output[(headCount - window)..<headCount])
      UnsafeMutableRawBufferPointer(rebasing: bytes[storedHeader.count..<streamStart]).copyMemory(from: windowBytes)
      let closingBit = 8 * streamStart + (end - cut)
      close(bytes, atBit: closingBit)
      let middle = UnsafeRawBufferPointer(rebasing: bytes[..<((closingBit >> 3) + 3)])
      let (result, count) = run(middle, UnsafeMutableRawBufferPointer(rebasing: output[(headCount - window)...]))
      guard result == LIBDEFLATE_SUCCESS, count > window else { return nil }
      before = headCount - window + count
    }
    waited = true
    guard let tail = try? plan.tail.wait(), before + tail.first.count - window == total,
      resolve(tail, into: output, from: before)
    else { return nil }
    return (.complete(consumed: input.count), plan.middleEnd == nil ? .headTail : .headMiddleTail)
  }

  /// Writes the last part's bytes after the `before` bytes produced so far, on all
  /// cores: where both inflates ran, a byte they agree on as it is and any other from
  /// the window position its pair names; after that, as the first inflate made them.
  /// False if a pair names no position.
  private static func resolve(_ tail: Tail, into output: UnsafeMutableRawBufferPointer, from before: Int) -> Bool {
    guard before >= window, let a = tail.first.bytes.baseAddress, let b = tail.second.bytes.baseAddress,
      let out = output.baseAddress
    else { return false }
    let (compared, count) = (tail.compared, tail.first.count)
    // Output position `origin + i` holds the part's byte `i` (counted with the window).
    let origin = before - window
    let piece = 1 << 20
    let pieces = (count - window + piece - 1) / piece
    let valid = Locked(true)
    // Safety: each task writes its own range of the output after `before`, and reads
    // the 32 KiB before it (written before the region) and the part's buffers; all
    // outlive the region.
    let (first, second, target) = (UnsafeShared(a), UnsafeShared(b), UnsafeShared(out + origin))
    Parallel.forEach(pieces) { p in
      let (a, b, out) = (first.value, second.value, target.value)
      let start = window + p * piece
      let end = min(start + piece, count)
      let split = max(start, min(end, compared))
      var i = start
      var bad: UInt8 = 0
      while i < split {
        // 32 bytes at a time while the two agree; else byte by byte, without branches.
        if i + 32 <= split {
          let x = a.loadUnaligned(fromByteOffset: i, as: SIMD4<UInt64>.self)
          let y = b.loadUnaligned(fromByteOffset: i, as: SIMD4<UInt64>.self)
          if x == y {
            out.storeBytes(of: x, toByteOffset: i, as: SIMD4<UInt64>.self)
            i += 32
            continue
          }
        }
        for j in i..<min(i + 32, split) {
          let (x, y) = (a.load(fromByteOffset: j, as: UInt8.self), b.load(fromByteOffset: j, as: UInt8.self))
          let high = y &- x &- 1
          let copied = out.load(fromByteOffset: Int(high & 0x7F) << 8 | Int(x), as: UInt8.self)
          let differ: UInt8 = x == y ? 0 : 0xFF
          bad |= differ & high
          out.storeBytes(of: (x & ~differ) | (copied & differ), toByteOffset: j, as: UInt8.self)
        }
        i = min(i + 32, split)
      }
      if end > split { (out + split).copyMemory(from: a + split, byteCount: end - split) }
      if bad & 0x80 != 0 { valid.withLock { $0 = false } }
    }
    return valid.withLock { $0 }
  }
}
