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
  /// selection's layout, read as `writeValuesJSON` reads them.
  public func valuesJSON(_ name: String, index: ArrayIndex, field: String? = nil) throws(TensorIOError) -> (
    layout: ArrayLayout, json: String
  ) {
    var json = ""
    let layout = try writeValuesJSON(name, index: index, field: field) { json += $0 }
    return (layout, json)
  }

  /// Member `name`'s selected elements as JSON handed to `write` a piece at a time (see
  /// `HostArray.writeValuesJSON`); returns the selection's layout. Memory stays bounded
  /// whatever the member's size: a stored member is read through its mapping; from a
  /// deflated one, a selection of up to 4 Mi elements is copied out of the inflated
  /// stream as `printed` does, a larger one reads the member loaded as `mapOrLoad`
  /// loads it (from 256 MiB on into a scratch file).
  @discardableResult
  public func writeValuesJSON(
    _ name: String, index: ArrayIndex, field: String? = nil, _ write: (String) -> Void
  ) throws(TensorIOError) -> ArrayLayout {
    let layout = try selection(name, index: index, field: field)
    if try info(name).isMappable {
      try map(name).withLayout(layout).writeValuesJSON(write)
    } else if layout.count <= 1 << 22 {
      try withElements(name, layout: layout, offsets: ValuesJSON.offsets(layout)) { read in
        ValuesJSON.render(layout, read, write: write)
      }
    } else {
      try loaded(name, as: layout).writeValuesJSON(write)
    }
    return layout
  }

  /// Member `name` loaded (from 256 MiB on into a scratch file), seen through `layout`,
  /// a selection whose offsets count from the member's first data byte.
  private func loaded(_ name: String, as layout: ArrayLayout) throws(TensorIOError) -> NDArray {
    let array = try load(name, scratch: true)
    var shifted = layout
    shifted.byteOffset += array.layout.byteOffset
    return try array.withLayout(shifted)
  }

  /// The layout `index` (after `field`) selects from member `name`'s data (offsets and
  /// strides in bytes from the data's first byte).
  public func selection(_ name: String, index: ArrayIndex, field: String? = nil) throws(TensorIOError) -> ArrayLayout {
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
      // A stored member that is not aligned: loaded (from 256 MiB on into a scratch
      // file), then read in place.
      let array = try loaded(name, as: layout)
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
