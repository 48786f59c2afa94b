import SystemPackage

extension SafetensorsFile {
  /// A tensor to write: its name, the array, and the safetensors dtype its elements are
  /// written as.
  public struct TensorToWrite: Sendable {
    /// The tensor's name in the header.
    public var name: String
    /// The data (any byte order, any memory order: written little-endian, C order).
    public var array: NDArray
    /// The element type written. A numeric array is cast to it as numpy's `astype`
    /// (none when the kinds match); for BF16 and F8 the array holds their raw bytes
    /// (`|V2`, `|V1`).
    public var dtype: SafetensorsDType

    /// A tensor of the array's own dtype; nil when safetensors has none for it
    /// (complex128, strings, records, datetimes, long double, raw bytes).
    public init?(name: String, array: NDArray) {
      guard let dtype = SafetensorsDType(numpy: array.dtype) else { return nil }
      self.init(name: name, array: array, dtype: dtype)
    }

    /// A tensor written as `dtype`.
    public init(name: String, array: NDArray, dtype: SafetensorsDType) {
      self.name = name
      self.array = array
      self.dtype = dtype
    }
  }

  /// The order the reference writes tensors in: its dtype enumeration descending
  /// (largest alignment first), then the name's UTF-8 bytes.
  static func referenceOrder(_ tensors: [TensorToWrite]) -> [TensorToWrite] {
    tensors.sorted { a, b in
      if a.dtype.rank != b.dtype.rank { return a.dtype.rank > b.dtype.rank }
      return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
    }
  }

  /// The bytes before the data: the 8-byte little-endian length, then the JSON header
  /// as the reference's serializer writes it (compact, `__metadata__` first, tensors in
  /// `referenceOrder`), padded with spaces to a multiple of 8.
  public static func header(for tensors: [TensorToWrite], metadata: [MetadataEntry] = []) -> [UInt8] {
    var json = "{"
    var first = true
    if !metadata.isEmpty {
      json += "\"__metadata__\":{"
      json += metadata.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }.joined(separator: ",")
      json += "}"
      first = false
    }
    var offset = 0
    for tensor in referenceOrder(tensors) {
      let bytes = tensor.array.count * tensor.dtype.itemSize
      if !first { json += "," }
      first = false
      json += JSONText.quoted(tensor.name) + ":{\"dtype\":\"" + tensor.dtype.rawValue + "\",\"shape\":["
      json += tensor.array.shape.map(String.init).joined(separator: ",")
      json += "],\"data_offsets\":[\(offset),\(offset + bytes)]}"
      offset += bytes
    }
    json += "}"
    var text = Array(json.utf8)
    let padded = (text.count + 7) / 8 * 8
    text += [UInt8](repeating: UInt8(ascii: " "), count: padded - text.count)
    var length = UInt64(text.count).littleEndian
    return withUnsafeBytes(of: &length) { Array($0) } + text
  }

  /// Writes `tensors` as a `.safetensors` file byte-identical to the reference's
  /// `save_file` (with the metadata in the order given; the reference orders it
  /// arbitrarily), streaming each tensor in bounded pieces (byte-swapped and put in C
  /// order on the way), atomically. `progress` gets the data bytes written so far.
  public static func write(
    _ tensors: [TensorToWrite], metadata: [MetadataEntry] = [], to path: some FilePathConvertible,
    durability: Durability = .synced, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    let path = path.filePath
    var names = Set<String>()
    for tensor in tensors {
      guard names.insert(tensor.name).inserted else {
        throw TensorIOError(.duplicateName(tensor.name), path: path.string)
      }
      let raw = DType(.void(length: tensor.dtype.itemSize))
      guard (tensor.array.dtype.isNumeric && tensor.dtype.numpyDType != nil) || tensor.array.dtype == raw else {
        throw TensorIOError(
          .cannotHoldDType("\(tensor.array.dtype.name) as \(tensor.dtype.rawValue)"), path: path.string)
      }
      try tensor.array.storage.checkOpen()
    }
    let head = header(for: tensors, metadata: metadata)
    guard head.count - 8 <= maxHeaderLength else {
      throw TensorIOError(.headerTooLarge(head.count - 8), path: path.string)
    }
    let total = tensors.reduce(0) { $0 + $1.array.count * $1.dtype.itemSize }
    try AtomicFile.write(to: path, expectedSize: head.count + total, durability: durability) {
      (file: AtomicFile) throws(TensorIOError) in
      try typedThrows { try head.withUnsafeBytes { try file.write($0, at: 0) } }
      var at = head.count
      for tensor in referenceOrder(tensors) {
        let target = tensor.dtype.numpyDType ?? tensor.array.dtype
        try Conversion.stream(tensor.array, to: target, order: .c) { (piece) throws(TensorIOError) in
          try file.write(piece, at: at)
          at += piece.count
          progress?(at - head.count)
        }
      }
    }
  }
}

extension SafetensorsFile {
  /// Adds `tensors` to the file at `path`, replacing those of the same names, keeping
  /// every other tensor (its bytes copied from the old file's mapping) and the
  /// metadata (or `metadata`, when given); one atomic replace. Creates the file when
  /// there is none; a file that is not valid safetensors is an error and stays as it
  /// is.
  public static func update(
    _ path: some FilePathConvertible, adding tensors: [TensorToWrite], metadata: [MetadataEntry]? = nil,
    durability: Durability = .synced, progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    let path = path.filePath
    guard path.exists else {
      return try write(tensors, metadata: metadata ?? [], to: path, durability: durability, progress: progress)
    }
    let existing = try SafetensorsFile(path: path)
    let replaced = Set(tensors.map(\.name))
    var all: [TensorToWrite] = []
    for info in existing.tensors where !replaced.contains(info.name) {
      all.append(TensorToWrite(name: info.name, array: try existing.mapOrLoad(info.name), dtype: info.dtype))
    }
    try write(
      all + tensors, metadata: metadata ?? existing.metadata, to: path, durability: durability, progress: progress)
  }
}
