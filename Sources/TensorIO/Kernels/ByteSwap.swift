import CTensorShims

/// Byte-order conversion of array elements, in place or while copying.
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
      case .datetime, .timedelta:
        out.append((base, 8))
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
    convert(UnsafeRawPointer(base), into: base, count: count, from: source, to: target)
  }

  /// Copies `count` contiguous elements of `source` dtype at `from` into `to` in
  /// `target`'s byte orders, in one pass. `from` and `to` are the same or do not overlap.
  static func convert(
    _ from: UnsafeRawPointer, into to: UnsafeMutableRawPointer, count: Int, from source: DType, to target: DType
  ) {
    if case .structured = source.kind {
      if from != UnsafeRawPointer(to) { to.copyMemory(from: from, byteCount: count * source.itemSize) }
      let units = units(from: source, to: target)
      if units.isEmpty { return }
      let size = source.itemSize
      for i in 0..<count {
        let item = to + i * size
        for unit in units { swapOne(item + unit.offset, width: unit.width) }
      }
      return
    }
    let swaps = source.byteOrder != target.byteOrder && source.byteOrder != .notApplicable
    switch source.kind {
    case .int(let n) where swaps, .uint(let n) where swaps, .float(let n) where swaps:
      tensortool_copy_swapped(from, to, count, Int32(n))
    case .datetime where swaps, .timedelta where swaps:
      tensortool_copy_swapped(from, to, count, 8)
    case .complex(let n) where swaps: tensortool_copy_swapped(from, to, count * 2, Int32(n / 2))
    case .unicode(let n) where swaps: tensortool_copy_swapped(from, to, count * n, 4)
    default:
      if from != UnsafeRawPointer(to) { to.copyMemory(from: from, byteCount: count * source.itemSize) }
    }
  }

  /// Swaps `units` consecutive values of `width` bytes in place.
  static func swapUniform(_ base: UnsafeMutableRawPointer, units: Int, width: Int) {
    guard [2, 4, 8, 16].contains(width) else { return }
    tensortool_copy_swapped(base, base, units, Int32(width))
  }

  @inline(__always)
  private static func swapOne(_ p: UnsafeMutableRawPointer, width: Int) {
    switch width {
    case 2: p.storeBytes(of: p.loadUnaligned(as: UInt16.self).byteSwapped, as: UInt16.self)
    case 4: p.storeBytes(of: p.loadUnaligned(as: UInt32.self).byteSwapped, as: UInt32.self)
    case 8: p.storeBytes(of: p.loadUnaligned(as: UInt64.self).byteSwapped, as: UInt64.self)
    case 16:
      var bytes = UnsafeMutableRawBufferPointer(start: p, count: 16)
      bytes.reverse()
    default: return
    }
  }
}
