import CTensorShims

/// Cache-blocked gathering of a transpose.
enum Transpose {
  /// Writes `rows` rows of `offsets.count` elements: element `(r, i)` of the output
  /// (row-major) is read at `base + r * itemSize + offsets[i]`. Tiles of one cache line
  /// of rows are walked along `i`, so every source line read serves a whole tile, a
  /// cache-sized block of `i` at a time.
  static func gather(
    _ base: UnsafeRawPointer, rows: Int, offsets: [Int], itemSize: Int, into out: UnsafeMutableRawPointer
  ) {
    if itemSize == 4,
      offsets.withUnsafeBufferPointer({ tensortool_gather_transpose32(base, rows, $0.baseAddress, $0.count, out) })
        == 1
    {
      return
    }
    switch itemSize {
    case 1: gather(base, rows, offsets, out, UInt8.self)
    case 2: gather(base, rows, offsets, out, UInt16.self)
    case 4: gather(base, rows, offsets, out, UInt32.self)
    default: gather(base, rows, offsets, out, UInt64.self)
    }
  }

  private static func gather<T: FixedWidthInteger>(
    _ base: UnsafeRawPointer, _ rows: Int, _ offsets: [Int], _ out: UnsafeMutableRawPointer, _: T.Type
  ) {
    let tile = max(1, 64 / MemoryLayout<T>.size)
    let inner = offsets.count
    let destination = out.assumingMemoryBound(to: T.self)
    // Blocks of `block` source lines, each read by every tile while it is in cache (a
    // tile per source line at a time would touch a new page per element: a TLB miss).
    let block = 256
    offsets.withUnsafeBufferPointer { offsets in
      var i0 = 0
      while i0 < inner {
        let i1 = min(inner, i0 + block)
        var r0 = 0
        while r0 < rows {
          let r1 = min(rows, r0 + tile)
          for i in i0..<i1 {
            let line = base + offsets[i]
            for r in r0..<r1 {
              destination[r * inner + i] = line.loadUnaligned(fromByteOffset: r * MemoryLayout<T>.size, as: T.self)
            }
          }
          r0 = r1
        }
        i0 = i1
      }
    }
  }
}
