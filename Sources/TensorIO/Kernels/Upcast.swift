/// Exact float32 values of the float formats numpy has no dtype for, as safetensors
/// stores them (raw bytes here: `|V2` for BF16, `|V1` for F8).
public enum Upcast {
  /// The array of raw BF16 / F8 elements (`|V2` / `|V1`) as float32 (C order, native
  /// byte order): every value exact, NaN kept NaN. Large results live in a scratch file
  /// the kernel can write out, so memory stays bounded.
  public static func float32(_ array: NDArray, from dtype: SafetensorsDType) throws(TensorIOError) -> NDArray {
    guard dtype.isExtendedFloat, array.dtype == DType(.void(length: dtype.itemSize)) else {
      throw TensorIOError(.cannotCast(from: array.dtype.name, to: "float32 as \(dtype.rawValue)"))
    }
    let source = try array.requireHostStorage()
    try source.checkOpen()
    let bytes = array.count * 4
    let storage = try Storage(scratchByteCount: bytes, near: nil)
    let out = storage.mutableBase.assumingMemoryBound(to: UInt32.self)
    let base = UnsafeRawPointer(source.mutableBase) + array.byteOffset
    var i = 0
    ArrayLayout.forEachElement(shape: array.shape, strides: array.strides) { offset in
      let p = base + offset
      switch dtype {
      case .bfloat16: out[i] = UInt32(p.loadUnaligned(as: UInt16.self).littleEndian) << 16
      case .float8E5M2: out[i] = e5m2(p.load(as: UInt8.self))
      default: out[i] = e4m3(p.load(as: UInt8.self)).bitPattern
      }
      i += 1
    }
    guard let layout = ArrayLayout.contiguous(dtype: DType(.float(bytes: 4), byteOrder: .native), shape: array.shape)
    else { throw TensorIOError(.tooLarge(shape: array.shape)) }
    return NDArray(unchecked: storage, layout: layout)
  }

  /// F8_E5M2 (the top byte of a float16) as float32 bits; NaN payloads are kept as
  /// numpy's float16 to float32 cast keeps them.
  static func e5m2(_ bits: UInt8) -> UInt32 {
    let half = UInt16(bits) << 8
    guard half & 0x7C00 == 0x7C00 else { return Float(Float16(bitPattern: half)).bitPattern }
    return UInt32(half & 0x8000) << 16 | 0x7F80_0000 | UInt32(half & 0x03FF) << 13
  }

  /// F8_E4M3 (the `fn` variant: bias 7, no infinities, S.1111.111 is NaN).
  static func e4m3(_ bits: UInt8) -> Float {
    let sign: Float = bits & 0x80 != 0 ? -1 : 1
    let exponent = Int((bits >> 3) & 0xF)
    let mantissa = Float(bits & 0x7)
    if exponent == 0xF && bits & 0x7 == 0x7 { return .nan }
    if exponent == 0 { return sign * mantissa / 8 * Float(sign: .plus, exponent: -6, significand: 1) }
    return sign * (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
  }
}
