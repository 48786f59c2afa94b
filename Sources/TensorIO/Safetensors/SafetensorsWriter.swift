import SystemPackage

extension SafetensorsFile {
  /// A tensor to write: its name, its shape, the safetensors dtype its elements are
  /// written as, and its data: an array, or a way to open one only when its turn comes
  /// (so that a file of many large tensors is written holding one at a time).
  public struct TensorToWrite: Sendable {
    /// The tensor's name in the header.
    public var name: String
    /// The tensor's shape.
    public var shape: [Int]
    /// The element type written. A numeric array is cast to it as numpy's `astype`
    /// (none when the kinds match); for BF16 and F8 the array holds their raw bytes
    /// (`|V2`, `|V1`).
    public var dtype: SafetensorsDType
    /// Opens the data (any byte order, any memory order: written little-endian, C
    /// order); its shape must be `shape`.
    let open: @Sendable () throws(TensorIOError) -> NDArray

    /// A tensor whose data is opened by `opening` when it is written.
    public init(
      name: String, shape: [Int], dtype: SafetensorsDType,
      opening: @escaping @Sendable () throws(TensorIOError) -> NDArray
    ) {
      self.name = name
      self.shape = shape
      self.dtype = dtype
      self.open = opening
    }

    /// The number of elements.
    var count: Int { shape.reduce(1, *) }

    /// A tensor of the array's own dtype; nil when safetensors has none for it
    /// (complex128, strings, records, datetimes, long double, raw bytes).
    public init?(name: String, array: NDArray) {
      guard let dtype = SafetensorsDType(numpy: array.dtype) else { return nil }
      self.init(name: name, array: array, dtype: dtype)
    }

    /// A tensor of `array`'s data written as `dtype`.
    public init(name: String, array: NDArray, dtype: SafetensorsDType) {
      self.init(name: name, shape: array.shape, dtype: dtype) { array }
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
      let bytes = tensor.count * tensor.dtype.itemSize
      if !first { json += "," }
      first = false
      json += JSONText.quoted(tensor.name) + ":{\"dtype\":\"" + tensor.dtype.rawValue + "\",\"shape\":["
      json += tensor.shape.map(String.init).joined(separator: ",")
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
      guard tensor.shape.allSatisfy({ $0 >= 0 }),
        ArrayLayout.contiguous(dtype: tensor.dtype.arrayDType, shape: tensor.shape) != nil
      else { throw TensorIOError(.tooLarge(shape: tensor.shape), path: path.string) }
    }
    let head = header(for: tensors, metadata: metadata)
    guard head.count - 8 <= maxHeaderLength else {
      throw TensorIOError(.headerTooLarge(head.count - 8), path: path.string)
    }
    let total = tensors.reduce(0) { $0 + $1.count * $1.dtype.itemSize }
    try AtomicFile.write(to: path, expectedSize: head.count + total, durability: durability) {
      (file: AtomicFile) throws(TensorIOError) in
      try typedThrows { try head.withUnsafeBytes { try file.write($0, at: 0) } }
      var at = head.count
      for tensor in referenceOrder(tensors) {
        let array = try tensor.open()
        let raw = DType(.void(length: tensor.dtype.itemSize))
        guard (array.dtype.isNumeric && tensor.dtype.numpyDType != nil) || array.dtype == raw else {
          throw TensorIOError(.cannotHoldDType("\(array.dtype.name) as \(tensor.dtype.rawValue)"), path: path.string)
        }
        guard array.shape == tensor.shape else {
          throw TensorIOError(
            .internalFailure("tensor '\(tensor.name)' opened with shape \(array.shape), not \(tensor.shape)"))
        }
        try array.storage.checkOpen()
        let target = tensor.dtype.numpyDType ?? array.dtype
        try Conversion.stream(array, to: target, order: .c) { (piece) throws(TensorIOError) in
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
      all.append(
        TensorToWrite(name: info.name, shape: info.shape, dtype: info.dtype) { () throws(TensorIOError) in
          try existing.mapOrLoad(info.name)
        })
    }
    try write(
      all + tensors, metadata: metadata ?? existing.metadata, to: path, durability: durability, progress: progress)
  }
}
