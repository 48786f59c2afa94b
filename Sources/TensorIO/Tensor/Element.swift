/// A Swift type that can be read from and written to array elements of a matching
/// numeric dtype, in either byte order.
public protocol NPYElement: Sendable {
  /// The dtype kind this type reads and writes (`Float` ↔ `.float(bytes: 4)`).
  static var kind: DType.Kind { get }
  /// Reads a value from `pointer` (any alignment), swapping bytes when `swapped`.
  static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self
  /// Writes the value to `pointer` (any alignment), swapping bytes when `swapped`.
  func store(to pointer: UnsafeMutableRawPointer, swapped: Bool)
}

/// An element stored as a fixed-width bit pattern.
protocol BitPatternElement: NPYElement {
  associatedtype Bits: FixedWidthInteger
  var bits: Bits { get }
  init(bits: Bits)
}

extension BitPatternElement {
  /// Reads the bit pattern, byte-swapping when the dtype's order differs from the machine's.
  @inlinable
  public static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self {
    let raw = pointer.loadUnaligned(as: Bits.self)
    return Self(bits: swapped ? raw.byteSwapped : raw)
  }

  /// Writes the bit pattern, byte-swapping when the dtype's order differs from the machine's.
  @inlinable
  public func store(to pointer: UnsafeMutableRawPointer, swapped: Bool) {
    pointer.storeBytes(of: swapped ? bits.byteSwapped : bits, as: Bits.self)
  }
}

extension Bool: NPYElement, BitPatternElement {
  /// `.bool`
  public static var kind: DType.Kind { .bool }
  var bits: UInt8 { self ? 1 : 0 }
  init(bits: UInt8) { self = bits != 0 }
}

extension Int8: NPYElement, BitPatternElement {
  /// `.int(bytes: 1)`
  public static var kind: DType.Kind { .int(bytes: 1) }
  var bits: UInt8 { UInt8(bitPattern: self) }
  init(bits: UInt8) { self.init(bitPattern: bits) }
}

extension Int16: NPYElement, BitPatternElement {
  /// `.int(bytes: 2)`
  public static var kind: DType.Kind { .int(bytes: 2) }
  var bits: UInt16 { UInt16(bitPattern: self) }
  init(bits: UInt16) { self.init(bitPattern: bits) }
}

extension Int32: NPYElement, BitPatternElement {
  /// `.int(bytes: 4)`
  public static var kind: DType.Kind { .int(bytes: 4) }
  var bits: UInt32 { UInt32(bitPattern: self) }
  init(bits: UInt32) { self.init(bitPattern: bits) }
}

extension Int64: NPYElement, BitPatternElement {
  /// `.int(bytes: 8)`
  public static var kind: DType.Kind { .int(bytes: 8) }
  var bits: UInt64 { UInt64(bitPattern: self) }
  init(bits: UInt64) { self.init(bitPattern: bits) }
}

extension UInt8: NPYElement, BitPatternElement {
  /// `.uint(bytes: 1)`
  public static var kind: DType.Kind { .uint(bytes: 1) }
  var bits: UInt8 { self }
  init(bits: UInt8) { self = bits }
}

extension UInt16: NPYElement, BitPatternElement {
  /// `.uint(bytes: 2)`
  public static var kind: DType.Kind { .uint(bytes: 2) }
  var bits: UInt16 { self }
  init(bits: UInt16) { self = bits }
}

extension UInt32: NPYElement, BitPatternElement {
  /// `.uint(bytes: 4)`
  public static var kind: DType.Kind { .uint(bytes: 4) }
  var bits: UInt32 { self }
  init(bits: UInt32) { self = bits }
}

extension UInt64: NPYElement, BitPatternElement {
  /// `.uint(bytes: 8)`
  public static var kind: DType.Kind { .uint(bytes: 8) }
  var bits: UInt64 { self }
  init(bits: UInt64) { self = bits }
}

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  extension Float16: NPYElement, BitPatternElement {
    /// `.float(bytes: 2)`
    public static var kind: DType.Kind { .float(bytes: 2) }
    var bits: UInt16 { bitPattern }
    init(bits: UInt16) { self.init(bitPattern: bits) }
  }
#endif

extension Float: NPYElement, BitPatternElement {
  /// `.float(bytes: 4)`
  public static var kind: DType.Kind { .float(bytes: 4) }
  var bits: UInt32 { bitPattern }
  init(bits: UInt32) { self.init(bitPattern: bits) }
}

extension Double: NPYElement, BitPatternElement {
  /// `.float(bytes: 8)`
  public static var kind: DType.Kind { .float(bytes: 8) }
  var bits: UInt64 { bitPattern }
  init(bits: UInt64) { self.init(bitPattern: bits) }
}

#if arch(x86_64) && os(Linux)
  extension Float80: NPYElement {
    /// `.float(bytes: 16)`: numpy's `longdouble` on x86-64, the x87 80-bit extended
    /// format in the first 10 of 16 bytes (the rest is padding, written as zeros).
    public static var kind: DType.Kind { .float(bytes: 16) }

    /// Reads the 80-bit value; `swapped` reverses all 16 bytes first, as numpy's
    /// byte swap of a long double does.
    public static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self {
      var bytes = (UInt64(0), UInt64(0))
      withUnsafeMutableBytes(of: &bytes) { raw in
        raw.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: 16))
        if swapped {
          var reversed = raw
          reversed.reverse()
        }
      }
      var value = Float80(0)
      withUnsafeBytes(of: bytes) { source in
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<10])) }
      }
      return value
    }

    /// Writes the 80-bit value and six zero bytes of padding, all 16 reversed when
    /// `swapped`.
    public func store(to pointer: UnsafeMutableRawPointer, swapped: Bool) {
      var bytes = (UInt64(0), UInt64(0))
      withUnsafeBytes(of: self) { source in
        withUnsafeMutableBytes(of: &bytes) { raw in
          UnsafeMutableRawBufferPointer(rebasing: raw[..<10]).copyMemory(
            from: UnsafeRawBufferPointer(rebasing: source[..<10]))
          if swapped {
            var reversed = raw
            reversed.reverse()
          }
        }
      }
      withUnsafeBytes(of: bytes) { UnsafeMutableRawBufferPointer(start: pointer, count: 16).copyMemory(from: $0) }
    }
  }
#endif

/// A complex number as numpy stores it: real part, then imaginary part.
public struct Complex<Real: BinaryFloatingPoint & NPYElement>: Sendable, Hashable {
  /// The real part.
  public var real: Real
  /// The imaginary part.
  public var imaginary: Real
  /// Creates `real + imaginary·i`.
  public init(_ real: Real, _ imaginary: Real) {
    self.real = real
    self.imaginary = imaginary
  }
}

extension Complex: NPYElement {
  /// `.complex(bytes: 2 × the real type's size)`
  public static var kind: DType.Kind { .complex(bytes: 2 * MemoryLayout<Real>.size) }

  /// Reads both parts, each byte-swapped when `swapped`.
  public static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self {
    Complex(
      Real.load(from: pointer, swapped: swapped),
      Real.load(from: pointer + MemoryLayout<Real>.size, swapped: swapped))
  }

  /// Writes both parts, each byte-swapped when `swapped`.
  public func store(to pointer: UnsafeMutableRawPointer, swapped: Bool) {
    real.store(to: pointer, swapped: swapped)
    imaginary.store(to: pointer + MemoryLayout<Real>.size, swapped: swapped)
  }
}
