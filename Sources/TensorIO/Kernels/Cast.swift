import CTensorShims

/// numpy's `astype(dtype, casting='unsafe')` between numeric dtypes, element by element,
/// in any byte orders.
///
/// Conversions follow numpy (C casts): integers wrap, integers and floats round to
/// nearest-even, complex to real keeps the real part, anything to bool is `!= 0`. Where
/// numpy's result is undefined (float to integer of NaN, infinity or a value out of the
/// target's range, which depends on the CPU and compiler), TensorIO defines it: NaN
/// becomes 0 and other values saturate to the target's minimum or maximum.
enum Cast {
  /// Converts `count` contiguous elements of `source` dtype at `from` into `target`
  /// dtype at `to`. Both dtypes must be numeric.
  static func convert(
    _ from: UnsafeRawPointer, _ source: DType, _ to: UnsafeMutableRawPointer, _ target: DType, count: Int
  ) throws(TensorIOError) {
    if source.isTime || target.isTime {
      if source.kind == target.kind {
        ByteSwap.convert(from, into: to, count: count, from: source, to: target)
      } else {
        try TimeCast.convert(from, source, to, target, count: count)
      }
      return
    }
    guard source.isNumeric, target.isNumeric else {
      throw TensorIOError(.cannotCast(from: source.name, to: target.name))
    }
    if source.kind == target.kind {
      // Same type: a copy, byte-swapped when the orders differ.
      ByteSwap.convert(from, into: to, count: count, from: source, to: target)
      return
    }
    let swapIn = source.byteOrder.needsSwap
    let swapOut = target.byteOrder.needsSwap
    switch (source.kind, target.kind) {
    case (.float(bytes: 4), .float(bytes: 2)):
      HalfFloat.convert(from, to, count: count, swapIn: swapIn, swapOut: swapOut)
      return
    // numpy converts half floats by bit arithmetic (npy_half_to_float and friends), not
    // through the FPU: NaN payloads are kept, signalling NaNs stay signalling.
    case (.float(bytes: 2), .float(bytes: 4)):
      bitLoop(UInt16.self, UInt32.self, from, to, count, swapIn, swapOut, HalfFloat.widenToFloat)
      return
    case (.float(bytes: 2), .float(bytes: 8)):
      bitLoop(UInt16.self, UInt64.self, from, to, count, swapIn, swapOut, HalfFloat.widenToDouble)
      return
    case (.float(bytes: 8), .float(bytes: 2)):
      bitLoop(UInt64.self, UInt16.self, from, to, count, swapIn, swapOut, HalfFloat.narrow)
      return
    default: break
    }
    func run<S: CastSource>(_: S.Type) {
      switch target.kind {
      case .bool: loop(S.self, Bool.self, from, to, count, swapIn, swapOut)
      case .int(1): loop(S.self, Int8.self, from, to, count, swapIn, swapOut)
      case .int(2): loop(S.self, Int16.self, from, to, count, swapIn, swapOut)
      case .int(4): loop(S.self, Int32.self, from, to, count, swapIn, swapOut)
      case .int(8): loop(S.self, Int64.self, from, to, count, swapIn, swapOut)
      case .uint(1): loop(S.self, UInt8.self, from, to, count, swapIn, swapOut)
      case .uint(2): loop(S.self, UInt16.self, from, to, count, swapIn, swapOut)
      case .uint(4): loop(S.self, UInt32.self, from, to, count, swapIn, swapOut)
      case .uint(8): loop(S.self, UInt64.self, from, to, count, swapIn, swapOut)
      case .float(2): loop(S.self, Float16.self, from, to, count, swapIn, swapOut)
      case .float(4): loop(S.self, Float.self, from, to, count, swapIn, swapOut)
      case .float(8): loop(S.self, Double.self, from, to, count, swapIn, swapOut)
      case .complex(8): loop(S.self, Complex<Float>.self, from, to, count, swapIn, swapOut)
      case .complex(16): loop(S.self, Complex<Double>.self, from, to, count, swapIn, swapOut)
      case .float(16): loop(S.self, Float80.self, from, to, count, swapIn, swapOut)
      case .complex(32): loop(S.self, Complex<Float80>.self, from, to, count, swapIn, swapOut)
      default: break
      }
    }
    switch source.kind {
    case .bool: run(Bool.self)
    case .int(1): run(Int8.self)
    case .int(2): run(Int16.self)
    case .int(4): run(Int32.self)
    case .int(8): run(Int64.self)
    case .uint(1): run(UInt8.self)
    case .uint(2): run(UInt16.self)
    case .uint(4): run(UInt32.self)
    case .uint(8): run(UInt64.self)
    case .float(2): run(Float16.self)
    case .float(4): run(Float.self)
    case .float(8): run(Double.self)
    case .complex(8): run(Complex<Float>.self)
    case .complex(16): run(Complex<Double>.self)
    case .float(16): run(Float80.self)
    case .complex(32): run(Complex<Float80>.self)
    default: break
    }
  }

  /// `convert` over bit patterns, element by element.
  @inline(__always)
  private static func bitLoop<S: FixedWidthInteger, D: FixedWidthInteger>(
    _: S.Type, _: D.Type, _ from: UnsafeRawPointer, _ to: UnsafeMutableRawPointer, _ count: Int, _ swapIn: Bool,
    _ swapOut: Bool, _ convert: (S) -> D
  ) {
    for i in 0..<count {
      var value = from.loadUnaligned(fromByteOffset: i * MemoryLayout<S>.size, as: S.self)
      if swapIn { value = value.byteSwapped }
      var out = convert(value)
      if swapOut { out = out.byteSwapped }
      to.storeBytes(of: out, toByteOffset: i * MemoryLayout<D>.size, as: D.self)
    }
  }

  @inline(__always)
  private static func loop<S: CastSource, D: CastDestination>(
    _: S.Type, _: D.Type, _ from: UnsafeRawPointer, _ to: UnsafeMutableRawPointer, _ count: Int, _ swapIn: Bool,
    _ swapOut: Bool
  ) {
    let inSize = MemoryLayout<S>.size
    let outSize = MemoryLayout<D>.size
    for i in 0..<count {
      let value = S.load(from: from + i * inSize, swapped: swapIn).castValue
      D(casting: value).store(to: to + i * outSize, swapped: swapOut)
    }
  }
}

/// A value on its way from one numeric type to another, keeping what the source holds
/// exactly (64-bit integers are not squeezed through a Double).
enum CastValue {
  case bool(Bool)
  case signed(Int64)
  case unsigned(UInt64)
  case real(Double)
  case complex(Double, Double)
  /// A long double (x86-64 80-bit), kept exact.
  case extended(Float80)
  /// A complex long double, kept exact.
  case complexExtended(Float80, Float80)
}

/// A numeric element type that can be cast from.
protocol CastSource: NPYElement {
  var castValue: CastValue { get }
}

/// A numeric element type that can be cast to.
protocol CastDestination: NPYElement {
  init(casting value: CastValue)
}

extension Bool: CastSource, CastDestination {
  var castValue: CastValue { .bool(self) }
  init(casting value: CastValue) {
    switch value {
    case .bool(let b): self = b
    case .signed(let i): self = i != 0
    case .unsigned(let u): self = u != 0
    case .real(let d): self = d != 0
    case .complex(let re, let im): self = re != 0 || im != 0
    case .extended(let x): self = x != 0
    case .complexExtended(let re, let im): self = re != 0 || im != 0
    }
  }
}

/// Float to integer, defined where C leaves it undefined: NaN is 0, the rest saturates.
@inline(__always)
private func saturating<I: FixedWidthInteger>(_ d: Double, _: I.Type) -> I {
  if d.isNaN { return 0 }
  if d <= Double(I.min) { return I.min }
  if d >= Double(I.max) { return I.max }
  return I(d.rounded(.towardZero))
}

extension FixedWidthInteger where Self: CastSource {
  /// Integer casts: wrap between integers, C casts from floats (see `saturating`).
  init(integerCasting value: CastValue) {
    switch value {
    case .bool(let b): self = b ? 1 : 0
    case .signed(let i): self = Self(truncatingIfNeeded: i)
    case .unsigned(let u): self = Self(truncatingIfNeeded: u)
    case .real(let d): self = saturating(d, Self.self)
    case .complex(let re, _): self = saturating(re, Self.self)
    case .extended(let x): self = saturatingExtended(x, Self.self)
    case .complexExtended(let re, _): self = saturatingExtended(re, Self.self)
    }
  }
}

/// Long double to integer: truncation, exact for every 64-bit value; NaN is 0 and
/// out-of-range values saturate (see `saturating`).
@inline(__always)
private func saturatingExtended<I: FixedWidthInteger>(_ x: Float80, _: I.Type) -> I {
  if x.isNaN { return 0 }
  if x <= Float80(I.min) { return I.min }
  if x >= Float80(I.max) { return I.max }
  return I(x.rounded(.towardZero))
}

extension CastSource where Self: FixedWidthInteger & SignedInteger {
  var castValue: CastValue { .signed(Int64(self)) }
}
extension CastSource where Self: FixedWidthInteger & UnsignedInteger {
  var castValue: CastValue { .unsigned(UInt64(self)) }
}
extension CastDestination where Self: FixedWidthInteger & CastSource {
  init(casting value: CastValue) { self.init(integerCasting: value) }
}
extension Int8: CastSource, CastDestination {}
extension Int16: CastSource, CastDestination {}
extension Int32: CastSource, CastDestination {}
extension Int64: CastSource, CastDestination {}
extension UInt8: CastSource, CastDestination {}
extension UInt16: CastSource, CastDestination {}
extension UInt32: CastSource, CastDestination {}
extension UInt64: CastSource, CastDestination {}

extension BinaryFloatingPoint where Self: CastSource {
  /// Float casts: round to nearest-even from integers (directly, not through Double)
  /// and from wider floats.
  init(floatCasting value: CastValue) {
    switch value {
    case .bool(let b): self = b ? 1 : 0
    case .signed(let i): self = Self(i)
    case .unsigned(let u): self = Self(u)
    case .real(let d): self = Self(d)
    case .complex(let re, _): self = Self(re)
    case .extended(let x): self = Self(x)
    case .complexExtended(let re, _): self = Self(re)
    }
  }
}

extension Float80: CastSource, CastDestination {
  var castValue: CastValue { .extended(self) }
  init(casting value: CastValue) { self.init(floatCasting: value) }
}

extension Float16: CastSource, CastDestination {
  var castValue: CastValue { .real(Double(self)) }
  init(casting value: CastValue) {
    // numpy converts integers to half through double.
    switch value {
    case .signed(let i): self = Float16(Double(i))
    case .unsigned(let u): self = Float16(Double(u))
    default: self.init(floatCasting: value)
    }
  }
}
extension Float: CastSource, CastDestination {
  var castValue: CastValue { .real(Double(self)) }
  init(casting value: CastValue) { self.init(floatCasting: value) }
}
extension Double: CastSource, CastDestination {
  var castValue: CastValue { .real(self) }
  init(casting value: CastValue) { self.init(floatCasting: value) }
}

extension Complex: CastSource, CastDestination where Real: CastSource & CastDestination {
  var castValue: CastValue {
    Real.self == Float80.self
      ? .complexExtended(Float80(real), Float80(imaginary)) : .complex(Double(real), Double(imaginary))
  }
  init(casting value: CastValue) {
    switch value {
    case .complex(let re, let im): self.init(Real(re), Real(im))
    case .complexExtended(let re, let im): self.init(Real(re), Real(im))
    default: self.init(Real(casting: value), 0)
    }
  }
}

/// float32 to float16 without the software conversion call Swift makes on CPUs it
/// does not assume F16C for: round-to-nearest-even by integer arithmetic (Fabian
/// Giesen's method), identical to `Float16(Float)` for every number. NaNs follow numpy's
/// bit arithmetic (npy_floatbits_to_halfbits and friends) instead of the FPU's: the
/// payload's top bits are kept and a signalling NaN stays signalling.
enum HalfFloat {
  /// numpy's half NaN: exponent all ones, `payload` as the mantissa, made non-zero so
  /// that the result stays a NaN.
  @inline(__always)
  static func nanBits(sign: UInt32, payload: UInt16) -> UInt16 {
    let mantissa = payload & 0x3FF
    return UInt16(truncatingIfNeeded: sign) | 0x7C00 | (mantissa == 0 ? 1 : mantissa)
  }

  /// float16 bits to float32 bits as numpy's `npy_halfbits_to_floatbits`.
  @inline(__always)
  static func widenToFloat(_ half: UInt16) -> UInt32 {
    guard half & 0x7C00 == 0x7C00, half & 0x3FF != 0 else { return Float(Float16(bitPattern: half)).bitPattern }
    return UInt32(half & 0x8000) << 16 | 0x7F80_0000 | UInt32(half & 0x3FF) << 13
  }

  /// float16 bits to float64 bits as numpy's `npy_halfbits_to_doublebits`.
  @inline(__always)
  static func widenToDouble(_ half: UInt16) -> UInt64 {
    guard half & 0x7C00 == 0x7C00, half & 0x3FF != 0 else { return Double(Float16(bitPattern: half)).bitPattern }
    return UInt64(half & 0x8000) << 48 | 0x7FF0_0000_0000_0000 | UInt64(half & 0x3FF) << 42
  }

  /// float64 bits to float16 bits as numpy's `npy_doublebits_to_halfbits`: numbers
  /// rounded to nearest even in one step (no double rounding through float32).
  @inline(__always)
  static func narrow(_ double: UInt64) -> UInt16 {
    let magnitude = double & 0x7FFF_FFFF_FFFF_FFFF
    guard magnitude > 0x7FF0_0000_0000_0000 else { return Float16(Double(bitPattern: double)).bitPattern }
    return nanBits(
      sign: UInt32(truncatingIfNeeded: double >> 48) & 0x8000,
      payload: UInt16(truncatingIfNeeded: (magnitude & 0xF_FFFF_FFFF_FFFF) >> 42))
  }

  @inline(__always)
  static func bits(_ value: UInt32) -> UInt16 {
    let sign = value & 0x8000_0000
    var f = value ^ sign
    let out: UInt32
    if f >= 0x4780_0000 {  // (127 + 16) << 23: overflow to infinity, or inf/NaN
      if f > 0x7F80_0000 {
        return nanBits(sign: sign >> 16, payload: UInt16(truncatingIfNeeded: (f & 0x7F_FFFF) >> 13))
      }
      out = 0x7C00
    } else if f < 0x3880_0000 {  // 113 << 23: the result is subnormal or zero
      let magic: UInt32 = 0x3F00_0000  // ((127 - 15) + (23 - 10) + 1) << 23
      let sum = Float(bitPattern: f) + Float(bitPattern: magic)
      out = sum.bitPattern &- magic
    } else {
      let odd = (f >> 13) & 1
      f = f &+ 0xC800_0FFF  // ((15 - 127) << 23) + 0xfff, wrapping
      f = f &+ odd
      out = f >> 13
    }
    return UInt16(truncatingIfNeeded: out | (sign >> 16))
  }

  /// Converts `count` float32 values at `from` into float16 at `to`: 8 at a time with
  /// the CPU's F16C instructions where it has them, the rest (NaN groups, the tail, or
  /// everything on other CPUs) by `bits`.
  static func convert(
    _ from: UnsafeRawPointer, _ to: UnsafeMutableRawPointer, count: Int, swapIn: Bool, swapOut: Bool
  ) {
    var i = 0
    while i < count {
      i += tensortool_f32_to_f16(from + 4 * i, to + 2 * i, count - i, swapIn ? 1 : 0, swapOut ? 1 : 0)
      // What the fast path left: a group holding a NaN, the tail, or (on a CPU
      // without F16C) everything, a block at a time.
      let end = min(count, i + 64)
      while i < end {
        var value = from.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
        if swapIn { value = value.byteSwapped }
        var half = bits(value)
        if swapOut { half = half.byteSwapped }
        to.storeBytes(of: half, toByteOffset: 2 * i, as: UInt16.self)
        i += 1
      }
    }
  }
}
