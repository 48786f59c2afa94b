/// Byte-order conversion of array elements in place.
enum ByteSwap {
  /// The multi-byte units of one element that converting from `source` to `target`
  /// (the same dtype in other byte orders) reverses: `(offset, width)` pairs in offset
  /// order. Empty when nothing changes.
  static func units(from source: DType, to target: DType) -> [(offset: Int, width: Int)] {
    var out: [(Int, Int)] = []
    collect(source, target, base: 0, into: &out)
    return out
  }

  private static func collect(_ source: DType, _ target: DType, base: Int, into out: inout [(Int, Int)]) {
    switch (source.kind, target.kind) {
    case (.structured(let fields, _), .structured(let targetFields, _)):
      for (field, other) in zip(fields, targetFields) {
        let size = field.dtype.itemSize
        for i in 0..<field.elementCount {
          collect(field.dtype, other.dtype, base: base + field.offset + i * size, into: &out)
        }
      }
    default:
      guard source.byteOrder != target.byteOrder, source.byteOrder != .notApplicable,
        target.byteOrder != .notApplicable
      else { return }
      switch source.kind {
      case .int(let n), .uint(let n), .float(let n):
        if n > 1 { out.append((base, n)) }
      case .complex(let n):
        out.append((base, n / 2))
        out.append((base + n / 2, n / 2))
      case .unicode(let n):
        for i in 0..<n { out.append((base + 4 * i, 4)) }
      case .bool, .bytes, .void, .structured:
        return
      }
    }
  }

  /// Converts `count` contiguous elements from `source`'s byte orders to `target`'s.
  static func convert(_ base: UnsafeMutableRawPointer, count: Int, from source: DType, to target: DType) {
    if case .structured = source.kind {
      let units = units(from: source, to: target)
      if units.isEmpty { return }
      let size = source.itemSize
      for i in 0..<count {
        let item = base + i * size
        for unit in units { swapOne(item + unit.offset, width: unit.width) }
      }
      return
    }
    guard source.byteOrder != target.byteOrder, source.byteOrder != .notApplicable else { return }
    switch source.kind {
    case .int(let n), .uint(let n), .float(let n): swapUniform(base, units: count, width: n)
    case .complex(let n): swapUniform(base, units: count * 2, width: n / 2)
    case .unicode(let n): swapUniform(base, units: count * n, width: 4)
    case .bool, .bytes, .void, .structured: return
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
