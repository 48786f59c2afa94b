import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("kernels")
struct KernelTests {
  @Test("CRC-32 through zlib: the standard check value, chunked and combined")
  func crc32() {
    let text = Array("123456789".utf8)
    #expect(text.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
    let a = text.prefix(4).withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer($0)) }
    let b = text.suffix(5).withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer($0)) }
    #expect(CRC32.combine(a, b, lengthOfB: 5) == 0xCBF4_3926)
    var running = CRC32()
    text.prefix(4).withUnsafeBytes { running.update(UnsafeRawBufferPointer($0)) }
    text.suffix(5).withUnsafeBytes { running.update(UnsafeRawBufferPointer($0)) }
    #expect(running.value == 0xCBF4_3926)
  }

  @Test("byte-order conversion swaps only the fields whose order changes")
  func byteSwapRecord() throws {
    let record = DType(
      .structured(
        fields: [
          .init(name: "a", dtype: DType(.int(bytes: 2), byteOrder: .big), offset: 0),
          .init(name: "b", dtype: DType(.int(bytes: 2), byteOrder: .little), offset: 2),
          .init(name: "c", dtype: DType(.complex(bytes: 8), byteOrder: .big), shape: [2], offset: 4),
        ], itemSize: 20))
    let units = ByteSwap.units(from: record, to: record.withByteOrder(.little))
    #expect(units.map(\.offset) == [0, 4, 8, 12, 16])
    #expect(units.allSatisfy { $0.width == ($0.offset == 0 ? 2 : 4) })
  }

  @Test("copying with a byte swap (vectorized where the CPU allows) reverses every unit, at any length and offset")
  func copySwapped() {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 5)
    let bytes = (0..<4099).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    for width in [2, 4, 8] {
      let dtype = DType(.uint(bytes: width), byteOrder: .big)
      for count in [0, 1, 15, 16, 17, 129, 4099 / width - 1] {
        var out = [UInt8](repeating: 0xAA, count: bytes.count)
        bytes.withUnsafeBytes { from in
          out.withUnsafeMutableBytes { to in
            ByteSwap.convert(
              from.baseAddress! + 1, into: to.baseAddress! + 3, count: count, from: dtype,
              to: dtype.withByteOrder(.little))
          }
        }
        var expected = [UInt8](repeating: 0xAA, count: bytes.count)
        for i in 0..<count {
          for k in 0..<width { expected[3 + i * width + k] = bytes[1 + i * width + width - 1 - k] }
        }
        #expect(out == expected, "width \(width) count \(count)")
        // In place gives the same.
        var inPlace = Array(bytes[1..<(1 + count * width)])
        inPlace.withUnsafeMutableBytes { ByteSwap.swapUniform($0.baseAddress!, units: count, width: width) }
        #expect(inPlace == Array(expected[3..<(3 + count * width)]))
      }
    }
  }

  @Test(
    "C -> Fortran conversions (the tiled transpose, and its 8 x 8 vector form) keep every element, with and without a byte swap or cast",
    arguments: [[300, 77], [304, 80], [16, 24, 40]])
  func transposeConversions(shape: [Int]) throws {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { Float($0) * 0.5 - 7 }
    let array = try NDArray(values, shape: shape)
    for target in [DType.float32, DType.float32.withByteOrder(.big), DType.float64] {
      let out = try Conversion.converted(array, dtype: target, order: .fortran)
      #expect(out.isFortranContiguous && !out.isCContiguous)
      let back = try Conversion.converted(out, dtype: .float32, order: .c)
      #expect(try back.elements(as: Float.self) == values, "\(target.name)")
      // Fortran order in memory: element (3, 5, ...) sits at 3 + 5 * shape[0].
      let bytes = try #require(out.unsafeContiguousBytes)
      let size = target.itemSize
      let probe = Array(bytes[(size * (shape[0] * 5 + 3))..<(size * (shape[0] * 5 + 4))])
      let cIndex = 3 * shape.dropFirst().reduce(1, *) + 5 * shape.dropFirst(2).reduce(1, *)
      let expected = try Conversion.converted(try NDArray([values[cIndex]], shape: [1]), dtype: target, order: .c)
      #expect(probe == Array(try #require(expected.unsafeContiguousBytes)), "\(target.name)")
    }
  }

  @Test(
    "writeNPY over many pieces (one worker per core, written out of order) equals the in-memory conversion",
    arguments: [
      ([2_500_001], DType.float32.withByteOrder(.big), MemoryOrder.c), ([1500, 1700], DType.float64, .fortran),
      ([1504, 1704], DType.float32, .fortran),
    ])
  func parallelWrites(shape: [Int], target: DType, order: MemoryOrder) throws {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let count = shape.reduce(1, *)
    let array = try NDArray((0..<count).map { Float($0 % 65_521) - 3 }, shape: shape)
    let path = dir.appendingPathComponent("out.npy").path
    var reports: [Int] = []
    try Conversion.writeNPY(array, to: FilePath(path), dtype: target, order: order, progress: { reports.append($0) })
    let written = try NDArray(contentsOf: FilePath(path))
    let expected = try Conversion.converted(array, dtype: target, order: order)
    #expect(written.dtype == target && written.shape == shape)
    let same = written.unsafeContiguousBytes.map(Array.init) == expected.unsafeContiguousBytes.map(Array.init)
    #expect(same, "the written data differs from the in-memory conversion")
    #expect(reports.count >= 3 && reports == reports.sorted())
    // Progress counts data bytes, up to all of them (the header is not counted).
    #expect(reports.last == count * target.itemSize)
  }

  @Test("parallel deflate over many chunks (completed out of order, emitted in order) inflates back, CRC-32 combined")
  func parallelDeflate() throws {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 9)
    // The first chunk random over 4 values (slow at level 6: long hash chains, short
    // matches), the rest runs of repeated bytes (fast): with two free cores, later
    // chunks usually complete before the first (InOrder's own test pins the ordering).
    var input = [UInt8](repeating: 0, count: 5 * Deflate.chunkSize + 123)
    for k in 0..<Deflate.chunkSize { input[k] = UInt8(truncatingIfNeeded: rng.next() & 3) }
    var i = Deflate.chunkSize
    while i < input.count {
      let run = Int(rng.next() % 300) + 1
      let value = UInt8(truncatingIfNeeded: rng.next())
      for k in i..<min(input.count, i + run) { input[k] = value }
      i += run
    }
    var stream: [UInt8] = []
    var pieces = 0
    let crc = try input.withUnsafeBytes { bytes in
      try Deflate.compress(bytes, level: 6, isFinal: true) { (piece: [UInt8], _: Int?) throws(TensorIOError) in
        stream += piece
        pieces += 1
      }
    }
    #expect(pieces == 6)
    #expect(crc == input.withUnsafeBytes { CRC32.checksum($0) })
    let inflater = try Inflater()
    var back = [UInt8](repeating: 0, count: input.count + 1)
    var consumed = 0
    let written = try stream.withUnsafeBytes { all in
      try back.withUnsafeMutableBytes { out in
        var source = UnsafeRawBufferPointer(all)
        let (n, _) = try inflater.inflate(into: out, from: &source)
        consumed = all.count - source.count
        return n
      }
    }
    #expect(written == input.count && inflater.finished && consumed == stream.count)
    let same = Array(back.prefix(input.count)) == input
    #expect(same, "inflated bytes differ")
    // A sink that fails stops the stream with its error, after no further pieces.
    var calls = 0
    #expect(throws: TensorIOError.self) {
      _ = try input.withUnsafeBytes { bytes in
        try Deflate.compress(bytes, level: 1, isFinal: true) { (_: [UInt8], _: Int?) throws(TensorIOError) in
          calls += 1
          if calls == 2 { throw TensorIOError(.system(operation: "write", errno: .noSpace)) }
        }
      }
    }
    #expect(calls == 2)
  }

  @Test("results completed out of order are handed on in index order, none early")
  func inOrder() {
    var order = InOrder<String>()
    #expect(order.complete(2, "c").isEmpty)
    #expect(order.complete(1, "b").isEmpty)
    #expect(order.complete(0, "a").map(\.1) == ["a", "b", "c"])
    #expect(order.complete(4, "e").isEmpty)
    #expect(order.complete(3, "d").map(\.1) == ["d", "e"])
    #expect(order.next == 5)
  }

  @Test("CRC-32 (carry-less multiply folding, zlib for the tail) equals a bitwise reference at every length and offset")
  func crc32MatchesReference() {
    func reference(_ bytes: ArraySlice<UInt8>, from start: UInt32 = 0) -> UInt32 {
      var crc = ~start
      for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
      }
      return ~crc
    }
    #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)  // the check value
    var rng = NumpyCrossCheckTests.SeededGenerator(state: 32)
    let data = (0..<(300 << 10)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    data.withUnsafeBytes { all in
      var lengths = Array(0..<200) + (0..<300).map { _ in Int(rng.next() % 4096) }
      lengths += [65_536, 65_537, 300 << 10 - 64]
      for (i, length) in lengths.enumerated() {
        let offset = length >= 65_536 ? Int(rng.next() % 64) : i % 64
        let slice = data[offset..<(offset + length)]
        let expected = reference(slice)
        #expect(
          CRC32.checksum(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])) == expected, "\(length)")
        // Fed in two parts, the second continuing the first.
        let cut = length / 3
        var crc = CRC32()
        crc.update(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + cut)]))
        crc.update(UnsafeRawBufferPointer(rebasing: all[(offset + cut)..<(offset + length)]))
        #expect(crc.value == expected)
      }
    }
  }
}
