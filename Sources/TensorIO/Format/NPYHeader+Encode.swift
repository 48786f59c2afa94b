extension NPYHeader {
  /// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare room left in the header so that the
  /// growth axis can be rewritten in place.
  static let growthAxisMaxDigits = 21
  /// Data starts at a multiple of this many bytes.
  public static let alignment = 64

  /// The header dict exactly as `np.save` writes it (before padding).
  public func dictText() throws(TensorIOError) -> String {
    guard let descr = dtype.descrOrNil else {
      throw TensorIOError(.dtypeHasNoDescr)
    }
    var text = "{'descr': "
    PyRepr.write(descr, to: &text)
    text += ", 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': "
    PyRepr.write(.tuple(shape.map { .integer($0) }), to: &text)
    text += ", }"
    if !shape.isEmpty {
      let growth = fortranOrder ? shape[shape.count - 1] : shape[0]
      text += String(repeating: " ", count: max(0, NPYHeader.growthAxisMaxDigits - String(growth).count))
    }
    return text
  }

  /// The header bytes `np.save` writes for an array of `dtype` and `shape` whose data
  /// is laid out in `order`, and the order the header records (Fortran only where the
  /// data is not also C-contiguous: `ArrayLayout.savedOrder`). Every writer of `.npy`
  /// bytes (files, npz members, device saves) starts here.
  static func forSaving(dtype: DType, shape: [Int], order: MemoryOrder) throws(TensorIOError)
    -> (bytes: [UInt8], order: MemoryOrder)
  {
    let saved = ArrayLayout.savedOrder(shape: shape, itemSize: dtype.itemSize, requested: order)
    let (_, bytes) = try NPYHeader(dtype: dtype, shape: shape, fortranOrder: saved == .fortran).encoded()
    return (bytes, saved)
  }

  /// The header bytes `np.lib.format.open_memmap(mode='w+')` writes: `fortran_order`
  /// exactly as requested (unlike `np.save`, even where the layout is also C-contiguous).
  static func forMemmap(dtype: DType, shape: [Int], order: MemoryOrder) throws(TensorIOError) -> [UInt8] {
    try NPYHeader(dtype: dtype, shape: shape, fortranOrder: order == .fortran).encoded().bytes
  }

  /// The complete header (magic, version, length, text, padding, newline),
  /// byte-identical to `np.save`'s, choosing version 1.0, else 2.0, else 3.0 as numpy
  /// does. `version` and `headerLength` of the returned header describe the bytes.
  public func encoded() throws(TensorIOError) -> (header: NPYHeader, bytes: [UInt8]) {
    let text = try dictText()
    let latin1: [UInt8]? = {
      var out: [UInt8] = []
      out.reserveCapacity(text.utf8.count)
      for scalar in text.unicodeScalars {
        guard scalar.value < 0x100 else { return nil }
        out.append(UInt8(scalar.value))
      }
      return out
    }()
    let candidates: [(Version, [UInt8])] =
      if let latin1 { [(.v1, latin1), (.v2, latin1)] } else { [(.v3, Array(text.utf8))] }
    for (version, body) in candidates {
      let prefix = 6 + 2 + version.lengthFieldSize
      let hlen = body.count + 1
      let padding = NPYHeader.alignment - (prefix + hlen) % NPYHeader.alignment
      let total = hlen + padding
      if version == .v1 && total > 0xFFFF { continue }
      guard total <= 0xFFFF_FFFF else {
        throw TensorIOError(.headerTooLongToWrite(bytes: total))
      }
      var bytes = NPYHeader.magic + [version.major, version.minor]
      for i in 0..<version.lengthFieldSize { bytes.append(UInt8(truncatingIfNeeded: total >> (8 * i))) }
      bytes += body
      bytes += repeatElement(UInt8(ascii: " "), count: padding)
      bytes.append(UInt8(ascii: "\n"))
      var header = self
      header.version = version
      header.headerLength = total
      return (header, bytes)
    }
    throw TensorIOError(.headerTooLongToWrite(bytes: text.utf8.count))
  }
}
