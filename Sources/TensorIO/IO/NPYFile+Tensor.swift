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
    let path = path.filePath
    let layout = tensor.layout
    guard case .device(let memory) = tensor.buffer, layout.isCContiguous || layout.isFortranContiguous else {
      try save(tensor.detach().cpu(path: transfer).numpy(), to: path, durability: durability, progress: progress)
      return
    }
    try NPYWriter.write(
      to: path, dtype: layout.dtype, shape: layout.shape, order: tensor.saveOrder, durability: durability
    ) { (file: AtomicFile, dataStart: Int, _: MemoryOrder) throws(TensorIOError) in
      let total = dataStart + layout.byteCount
      // Large tensors land in the file's pages directly: the output is mapped and the
      // transfer engine's workers fill it in parallel (page faults scale across
      // threads where buffered writes to one file serialize on its inode lock).
      // (Not for `.registered`: the driver refuses to register a file's shared pages.)
      if layout.byteCount >= 1 << 20, transfer == .automatic || transfer == .staged,
        memory.backend.tuning.mappedDownloads,
        let mapping = try? file.mapForWriting(length: total)
      {
        defer { VirtualMemory.unmap(mapping, length: total) }
        try memory.download(mapping + dataStart, count: layout.byteCount, at: layout.byteOffset, path: transfer)
        progress?(layout.byteCount)
        return
      }
      try memory.download(count: layout.byteCount, at: layout.byteOffset, path: transfer) {
        (bytes: UnsafeRawBufferPointer, offset: Int) throws(TensorIOError) in
        try file.write(bytes, at: dataStart + offset)
        progress?(offset + bytes.count)
      }
    }
  }
}
