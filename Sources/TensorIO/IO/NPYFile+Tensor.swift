import SystemPackage

extension NPYFile {
  /// Writes `tensor` as an `.npy` file at `path`, atomically, like `save(_:to:)` for
  /// arrays. A device tensor whose elements are contiguous (C or Fortran order) streams
  /// from the device straight into the file: chunks are copied into a ring of pinned
  /// buffers while the previous ones are written, with no host copy of the whole
  /// tensor. Other device tensors are copied to the host first. The export rules do not
  /// apply (saving reads the tensor, it exports nothing): a tensor that requires grad
  /// is saved as its values, as `torch.save` does. `transfer` chooses how bytes leave
  /// the device; `progress`, when given, is called with the data bytes written so far.
  public static func save(
    _ tensor: Tensor, to path: some FilePathConvertible, durability: Durability = .synced,
    transfer: TransferPath = .automatic,
    progress: ((Int) -> Void)? = nil
  ) throws(TensorIOError) {
    try save(tensor, to: path.filePath, durability: durability, transfer: transfer, route: nil, progress: progress)
  }

  /// `save(_:to:durability:transfer:progress:)`, with the device tensor's route to the
  /// file forced when `route` is given (tests), else chosen by the device's tuning.
  /// Returns the route taken (nil: the tensor was copied to the host first).
  @discardableResult
  static func save(
    _ tensor: Tensor, to path: FilePath, durability: Durability, transfer: TransferPath, route forced: SaveRoute?,
    progress: ((Int) -> Void)?
  ) throws(TensorIOError) -> SaveRoute? {
    let layout = tensor.layout
    guard case .device(let memory) = tensor.buffer, layout.isCContiguous || layout.isFortranContiguous else {
      try save(tensor.detach().cpu(path: transfer).numpy(), to: path, durability: durability, progress: progress)
      return nil
    }
    var taken = SaveRoute.ring
    try NPYWriter.write(
      to: path, dtype: layout.dtype, shape: layout.shape, order: tensor.saveOrder, durability: durability
    ) { (file: AtomicFile, dataStart: Int, _: MemoryOrder) throws(TensorIOError) in
      let total = dataStart + layout.byteCount
      let tuning = memory.backend.tuning
      // Tensors of 1 MiB and more go from the transfer workers' pinned slots straight
      // to the file, in parallel (see `SaveRoute`); not for `.registered` and
      // `.pageable`, which name their own way.
      var route = SaveRoute.ring
      if layout.byteCount >= 1 << 20, transfer == .automatic || transfer == .staged {
        route = forced ?? (durability == .synced ? tuning.syncedSaves : tuning.unsyncedSaves)
      }
      switch route {
      case .mapped:
        guard let mapping = try? file.mapForWriting(length: total) else { break }
        defer { VirtualMemory.unmap(mapping, length: total) }
        try memory.download(mapping + dataStart, count: layout.byteCount, at: layout.byteOffset, path: transfer)
        progress?(layout.byteCount)
        taken = .mapped
        return
      case .directWrites, .writers:
        // Direct writes where the file system takes them (not tmpfs), else writers.
        let direct = route == .directWrites ? try? file.descriptor.reopenForDirectWrites() : nil
        defer { _ = try? direct?.close() }
        // The header's bytes in the first page of the data travel in the first slot.
        let headCount = direct == nil ? 0 : dataStart & (DirectIO.alignment - 1)
        let head = try file.read(headCount, at: dataStart - headCount)
        let sink = FileSink(file: file, direct: direct, dataStart: dataStart, head: head)
        try memory.download(count: layout.byteCount, at: layout.byteOffset, path: transfer, to: sink)
        progress?(layout.byteCount)
        taken = direct == nil ? .writers : .directWrites
        return
      case .ring:
        break
      }
      try memory.download(count: layout.byteCount, at: layout.byteOffset, path: transfer) {
        (bytes: UnsafeRawBufferPointer, offset: Int) throws(TensorIOError) in
        try file.write(bytes, at: dataStart + offset)
        progress?(offset + bytes.count)
      }
    }
    return taken
  }
}
