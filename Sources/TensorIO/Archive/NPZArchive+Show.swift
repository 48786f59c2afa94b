extension NPZArchive {
  /// What numpy's `print(a[index])` prints for member `name` (`field` selected first;
  /// `scalar` as for `HostArray.printed`), reading only the elements shown: from the
  /// mapping of a stored member, and for a deflated one by inflating only as far as
  /// the last of them, keeping just their bytes (bounded memory; the CRC-32 is then not
  /// checked, as the rest of the member is not read).
  public func printed(
    _ name: String, index: ArrayIndex, field: String? = nil, options: PrintOptions = PrintOptions(),
    scalar: Bool = false
  ) throws(TensorIOError) -> String {
    let layout = try selection(name, index: index, field: field)
    let printer = ArrayPrinter(layout: layout, options: options, scalar: scalar)
    if try info(name).isMappable {
      return try map(name).withLayout(layout).printed(options: options, scalar: scalar)
    }
    return try withElements(name, layout: layout, offsets: printer.shownOffsets) { read in printer.text(read) }
  }

  /// Member `name`'s selected elements as JSON (see `HostArray.valuesJSON`), with the
  /// selection's layout, read as `printed` reads them.
  public func valuesJSON(_ name: String, index: ArrayIndex, field: String? = nil) throws(TensorIOError) -> (
    layout: ArrayLayout, json: String
  ) {
    let layout = try selection(name, index: index, field: field)
    if try info(name).isMappable {
      return (layout, try map(name).withLayout(layout).valuesJSON())
    }
    let json = try withElements(name, layout: layout, offsets: ValuesJSON.offsets(layout)) { read in
      ValuesJSON.render(layout, read)
    }
    return (layout, json)
  }

  /// The layout `index` (after `field`) selects from member `name`'s data.
  private func selection(_ name: String, index: ArrayIndex, field: String?) throws(TensorIOError) -> ArrayLayout {
    var layout = try info(name).header.layout
    if let field { layout = try layout.field(field) }
    return try index.apply(to: layout)
  }

  /// Calls `body` with a reader of the elements at `offsets` (bytes into the member's
  /// data), having copied just those elements out of the inflated stream; a stored
  /// member that cannot be mapped is loaded instead.
  private func withElements<R>(
    _ name: String, layout: ArrayLayout, offsets: [Int], _ body: ((Int) -> PrintValue) -> R
  ) throws(TensorIOError) -> R {
    let itemSize = layout.dtype.itemSize
    let wanted = Array(Set(offsets)).sorted()
    var bytes = [UInt8](repeating: 0, count: max(1, wanted.count * itemSize))
    var next = 0
    let header = try typedThrows {
      try bytes.withUnsafeMutableBytes { out in
        try streamDeflatedData(name, pieceBytes: 4 << 20, through: (wanted.last ?? -itemSize) + itemSize) {
          piece, start in
          let end = start + piece.count
          var i = next
          while i < wanted.count && wanted[i] < end {
            let from = max(wanted[i], start)
            let to = min(wanted[i] + itemSize, end)
            if from < to {
              UnsafeMutableRawBufferPointer(rebasing: out[(i * itemSize + from - wanted[i])...])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: piece[(from - start)..<(to - start)]))
            }
            if wanted[i] + itemSize <= end { next = i + 1 }
            i += 1
          }
        }
      }
    }
    guard header != nil else {
      // A stored member that is not aligned: loaded, then read in place.
      let array = try load(name).withLayout(layout)
      let storage = try array.requireHostStorage()
      let base = UnsafeRawPointer(storage.mutableBase)
      return body { PrintValue.decode(base + $0, layout.dtype) }
    }
    return bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return body { _ in .bytes([]) } }
      return body { offset in
        var low = 0
        var high = wanted.count
        while low < high {
          let mid = (low + high) / 2
          if wanted[mid] < offset { low = mid + 1 } else { high = mid }
        }
        return PrintValue.decode(base + low * itemSize, layout.dtype)
      }
    }
  }
}
