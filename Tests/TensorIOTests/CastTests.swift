import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("numeric casts against numpy's astype")
struct CastTests {
  /// Runs numpy_crosscheck.py `mode`, which lists SOURCE and numpy's TARGET files in
  /// `mode.txt`, and converts each source with `Cast.convert` into the target's dtype
  /// in both byte orders: every element must equal numpy's bit for bit. Returns the
  /// number of pairs checked.
  func checkAgainstNumpy(_ mode: String) throws -> Int {
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try Support.numpyWrites(mode, into: dir)
    let list = try String(contentsOf: dir.appendingPathComponent("\(mode).txt"), encoding: .utf8)
    var checked = 0
    for line in list.split(separator: "\n") {
      let parts = line.split(separator: "\t").map(String.init)
      let source = try NDArray(contentsOf: dir.appendingPathComponent(parts[0]).path)
      let expected = try NDArray(contentsOf: dir.appendingPathComponent(parts[1]).path)
      for order in [ByteOrder.little, .big] {
        let target = expected.dtype.withByteOrder(order)
        let out = try NDArray(zeros: source.shape, dtype: target)
        try Cast.convert(
          source.storage.unsafeBaseAddress, source.dtype, out.storage.mutableBase, target, count: source.count)
        let width = target.itemSize
        let got = Support.littleEndianUnits(try Support.canonicalBytes(out), width: width)
        let want = Support.littleEndianUnits(try Support.canonicalBytes(expected), width: width)
        #expect(
          got == want,
          "\(parts[0]) -> \(target): \(got.prefix(8).map { String($0, radix: 16) }) vs \(want.prefix(8).map { String($0, radix: 16) })"
        )
      }
      checked += 1
    }
    return checked
  }

  @Test(
    "every numeric pair, bit for bit, in both target byte orders",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func everyPair() throws {
    #expect(try checkAgainstNumpy("casts") == 196)
  }

  @Test(
    "float <-> float on NaN payloads (signalling and quiet), infinities, subnormals and -0.0, bit for bit",
    .enabled(if: Support.numpyAvailable, "numpy is not installed: skipped"))
  func floatSpecials() throws {
    #expect(try checkAgainstNumpy("float_specials") == 12)
  }

  @Test("float to integer where numpy is undefined: NaN is 0, the rest saturates")
  func undefinedCases() throws {
    let source = try NDArray([.nan, .infinity, -.infinity, 300, -300, 1e30] as [Double], shape: [6])
    let out = try NDArray(zeros: [6], dtype: .int8)
    try Cast.convert(source.storage.unsafeBaseAddress, source.dtype, out.storage.mutableBase, .int8, count: 6)
    #expect(try out.elements(as: Int8.self) == [0, 127, -128, 127, -128, 127])
    let unsigned = try NDArray(zeros: [6], dtype: .uint64)
    try Cast.convert(source.storage.unsafeBaseAddress, source.dtype, unsigned.storage.mutableBase, .uint64, count: 6)
    #expect(try unsigned.elements(as: UInt64.self) == [0, .max, 0, 300, 0, .max])
    #expect(throws: TensorIOError.self) {
      try Cast.convert(
        source.storage.unsafeBaseAddress, source.dtype, out.storage.mutableBase, DType(.bytes(length: 8)), count: 1)
    }
  }
}

@Suite("float16 conversion")
struct HalfFloatTests {
  /// Every float32 exponent with mantissas at rounding boundaries, both signs, then
  /// `random` random words from `seed`.
  static func inputs(random: Int, seed: UInt64) -> [UInt32] {
    var rng = NumpyCrossCheckTests.SeededGenerator(state: seed)
    var inputs: [UInt32] = []
    for exponent in UInt32(0)...255 {
      for mantissa: UInt32 in [0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x7F_E000, 0x7F_F000, 0x7F_FFFF] {
        inputs.append(exponent << 23 | mantissa)
        inputs.append(0x8000_0000 | exponent << 23 | mantissa)
      }
    }
    for _ in 0..<random { inputs.append(UInt32(truncatingIfNeeded: rng.next())) }
    return inputs
  }

  @Test("the integer float32 -> float16 path equals Float16(Float) on edge and random numbers (NaNs: numpy's rule)")
  func matchesStandardLibrary() {
    let inputs = HalfFloatTests.inputs(random: 200_000, seed: 16)
    var mismatches = 0
    for value in inputs where !Float(bitPattern: value).isNaN {
      let expected = Float16(Float(bitPattern: value)).bitPattern
      if HalfFloat.bits(value) != expected {
        mismatches += 1
        if mismatches < 5 { Issue.record("0x\(String(value, radix: 16)): \(HalfFloat.bits(value)) vs \(expected)") }
      }
    }
    #expect(mismatches == 0)
  }

  @Test("the vectorized float32 -> float16 path (F16C where the CPU has it) equals the scalar one, byte orders too")
  func vectorMatchesScalar() {
    var inputs = HalfFloatTests.inputs(random: 100_003, seed: 61)
    // Long NaN-free runs (most random words are not NaN, but groups of 8 often hold one).
    inputs += HalfFloatTests.inputs(random: 50_000, seed: 62).suffix(50_000).map { $0 & 0xBFFF_FFFF }
    for (swapIn, swapOut) in [(false, false), (true, false), (false, true), (true, true)] {
      let source = inputs.map { swapIn ? $0.byteSwapped : $0 }
      // An odd start and length, so that the vector loop meets a tail and unaligned data.
      let count = source.count - 1
      var out = [UInt16](repeating: 0, count: source.count)
      source.withUnsafeBytes { from in
        out.withUnsafeMutableBytes { to in
          HalfFloat.convert(from.baseAddress! + 4, to.baseAddress! + 2, count: count, swapIn: swapIn, swapOut: swapOut)
        }
      }
      var mismatches = 0
      for i in 0..<count {
        var expected = HalfFloat.bits(inputs[i + 1])
        if swapOut { expected = expected.byteSwapped }
        if out[i + 1] != expected { mismatches += 1 }
      }
      #expect(out[0] == 0)
      #expect(mismatches == 0, "swapIn \(swapIn) swapOut \(swapOut)")
    }
  }
}
