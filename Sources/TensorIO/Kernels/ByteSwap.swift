/// Byte-order conversion of array elements in place.
enum ByteSwap {
  /// The multi-byte units of one element of `dtype` that a byte-order change reverses:
  /// `(offset, width)` pairs, in offset order. Empty when nothing needs swapping.
  static func units(of dtype: DType) -> [(offset: Int, width: Int)] {
    var out: [(Int, Int)] = []
    collect(dtype, base: 0, into: &out)
    return out
  }

  private static func collect(_ dtype: DType, base: Int, into out: inout [(Int, Int)]) {
    switch dtype.kind {
    case .bool, .bytes, .void: return
    case .int(let n), .uint(let n), .float(let n):
      if n > 1 { out.append((base, n)) }
    case .complex(let n):
      out.append((base, n / 2))
      out.append((base + n / 2, n / 2))
    case .unicode(let n):
      for i in 0..<n { out.append((base + 4 * i, 4)) }
    case .structured(let fields, _):
      for field in fields {
        let size = field.dtype.itemSize
        for i in 0..<field.elementCount { collect(field.dtype, base: base + field.offset + i * size, into: &out) }
      }
    }
  }

  /// Reverses the byte order of every element of `dtype` in `count` contiguous elements.
  static func swap(_ base: UnsafeMutableRawPointer, count: Int, dtype: DType) {
    let size = dtype.itemSize
    switch dtype.kind {
    case .int(let n), .uint(let n), .float(let n):
      swapUniform(base, units: count, width: n)
    case .complex(let n):
      swapUniform(base, units: count * 2, width: n / 2)
    case .unicode(let n):
      swapUniform(base, units: count * n, width: 4)
    case .bool, .bytes, .void:
      return
    case .structured:
      let units = units(of: dtype)
      if units.isEmpty { return }
      for i in 0..<count {
        let item = base + i * size
        for unit in units { swapOne(item + unit.offset, width: unit.width) }
      }
    }
  }

  /// Swaps `units` consecutive values of `width` bytes.
  static func swapUniform(_ base: UnsafeMutableRawPointer, units: Int, width: Int) {
    switch width {
    case 2: swapTyped(base, units: units, as: UInt16.self)
    case 4: swapTyped(base, units: units, as: UInt32.self)
    case 8: swapTyped(base, units: units, as: UInt64.self)
    default: return
    }
  }

  @inline(__always)
  private static func swapTyped<T: FixedWidthInteger>(_ base: UnsafeMutableRawPointer, units: Int, as: T.Type) {
    let stride = MemoryLayout<T>.size
    if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
      let typed = base.assumingMemoryBound(to: T.self)
      for i in 0..<units { typed[i] = typed[i].byteSwapped }
    } else {
      for i in 0..<units {
        let p = base + i * stride
        p.storeBytes(of: p.loadUnaligned(as: T.self).byteSwapped, as: T.self)
      }
    }
  }

  @inline(__always)
  private static func swapOne(_ p: UnsafeMutableRawPointer, width: Int) {
    switch width {
    case 2: p.storeBytes(of: p.loadUnaligned(as: UInt16.self).byteSwapped, as: UInt16.self)
    case 4: p.storeBytes(of: p.loadUnaligned(as: UInt32.self).byteSwapped, as: UInt32.self)
    case 8: p.storeBytes(of: p.loadUnaligned(as: UInt64.self).byteSwapped, as: UInt64.self)
    default: return
    }
  }
}
