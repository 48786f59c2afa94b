/// How `Tensor.numpy(_:)` relates the array to the tensor.
public enum ExportMode: Sendable, Hashable {
  /// The array shares the tensor's storage: no bytes copied, writes through either are
  /// seen by the other (PyTorch's `numpy()`).
  case shared
  /// The array has its own storage, copied now.
  case copy
  /// No bytes are copied now; the first write on either side copies, so that later
  /// writes on either side are never seen by the other.
  case copyOnWrite
}

extension Tensor {
  /// The tensor as a numpy-side array (PyTorch's `tensor.numpy()`), sharing its storage
  /// by default.
  ///
  /// Throws PyTorch's errors: for a tensor that requires grad ("Can't call numpy() on
  /// Tensor that requires grad. Use tensor.detach().numpy() instead.") and for a
  /// tensor on a device ("can't convert cuda:0 device type tensor to numpy. Use
  /// Tensor.cpu() to copy the tensor to host memory first.").
  public func numpy(_ mode: ExportMode = .shared) throws(TensorIOError) -> NDArray {
    if requiresGrad { throw TensorIOError(.requiresGrad) }
    let storage = try requireHostStorage()
    try storage.checkOpen()
    switch mode {
    case .shared:
      return NDArray(unchecked: storage, layout: layout)
    case .copy:
      let (copy, copyLayout) = try HostBuffers.copy(storage, layout, order: .c, byteOrder: nil)
      return NDArray(unchecked: copy, layout: copyLayout)
    case .copyOnWrite:
      return NDArray(unchecked: try storage.copyOnWriteSnapshot(), layout: layout)
    }
  }

  /// A copy with its own storage on the same device (PyTorch's `clone()`): contiguous in
  /// C order on the host; on a device, a Fortran-contiguous tensor keeps its order.
  public func copy() throws(TensorIOError) -> Tensor {
    switch buffer {
    case .host(let storage):
      let (copy, copyLayout) = try HostBuffers.copy(storage, layout, order: .c, byteOrder: nil)
      return Tensor(buffer: .host(copy), layout: copyLayout, requiresGrad: requiresGrad)
    case .device(let memory):
      guard layout.isCContiguous || layout.isFortranContiguous, layout.byteCount == memory.byteCount else {
        return try cpu().copy().to(device)
      }
      let copy = try DeviceBuffer(backend: memory.backend, byteCount: memory.byteCount)
      if memory.byteCount > 0 {
        try memory.backend.copyOnDevice(copy.address, from: memory.address, count: memory.byteCount)
      }
      return Tensor(buffer: .device(copy), layout: layout, requiresGrad: requiresGrad)
    }
  }

  /// This tensor when it is already contiguous in C order, else a contiguous copy.
  public func contiguous() throws(TensorIOError) -> Tensor {
    layout.isCContiguous ? self : try copy()
  }

  /// The tensor on `device`: itself (shared) when it is already there, else a copy —
  /// a device copy is never shared with the host, and a host copy of a device tensor
  /// never changes the device tensor. `path` chooses how bytes cross (for measuring);
  /// `progress`, when given, counts the bytes moved while the copy runs.
  public func to(_ device: Device, path: TransferPath = .automatic, progress: TransferProgress? = nil)
    throws(TensorIOError) -> Tensor
  {
    try to(device, path: path, progress: progress, directReads: true)
  }

  /// `to(_:path:progress:)`; `directReads: false` keeps a mapped file's cold chunks
  /// coming through the mapping (for callers that read the same pages meanwhile, which
  /// then come from the disk once).
  func to(_ device: Device, path: TransferPath, progress: TransferProgress?, directReads: Bool)
    throws(TensorIOError) -> Tensor
  {
    if device == self.device { return self }
    switch (buffer, device) {
    case (.host(let storage), _):
      // Host to device: contiguous bytes (C or Fortran order, kept as they are),
      // uploaded from where they are when possible (a mapping can be registered in
      // place), else from a C-contiguous copy.
      try storage.checkOpen()
      let backend = try Devices.backend(for: device)
      let source = layout.isCContiguous || layout.isFortranContiguous ? self : try copy()
      guard case .host(let sourceStorage) = source.buffer else { return source }
      let memory = try DeviceBuffer(backend: backend, byteCount: source.layout.byteCount)
      let lowest =
        ArrayLayout.extent(shape: source.shape, strides: source.strides, itemSize: dtype.itemSize)?.lowest ?? 0
      let start = sourceStorage.unsafeBaseAddress + source.byteOffset + lowest
      let count = source.layout.byteCount
      // A mapped file's cold chunks are read from the disk directly.
      let reader =
        directReads && count >= backend.tuning.chunk && (path == .automatic || path == .staged)
        ? FileReader.open(
          sourceStorage, at: start, count: count, mode: backend.tuning.directReads,
          warmPread: backend.tuning.warmPread) : nil
      try memory.upload(start, count: count, path: path, progress: progress, reader: reader)
      var deviceLayout = source.layout
      deviceLayout.byteOffset = -lowest
      return Tensor(buffer: .device(memory), layout: deviceLayout, requiresGrad: requiresGrad)
    case (.device(let memory), .cpu):
      // Device to host: the bytes the layout spans, then the same layout on the host.
      let extent = ArrayLayout.extent(shape: shape, strides: strides, itemSize: dtype.itemSize)
      let low = layout.byteOffset + (extent?.lowest ?? 0)
      let span = (extent?.count ?? 0) == 0 ? 0 : (extent?.highest ?? 0) - (extent?.lowest ?? 0)
      let storage = try Storage(zeroedByteCount: span)
      try memory.download(storage.mutableBase, count: span, at: low, path: path, progress: progress)
      var hostLayout = layout
      hostLayout.byteOffset -= low
      return Tensor(buffer: .host(storage), layout: hostLayout, requiresGrad: requiresGrad)
    case (.device, _):
      return try cpu(path: path).to(device, path: path, progress: progress)
    }
  }

  /// A host copy of a device tensor, or the tensor itself when on the CPU (PyTorch's
  /// `cpu()`). `progress`, when given, counts the bytes moved while the copy runs.
  public func cpu(path: TransferPath = .automatic, progress: TransferProgress? = nil) throws(TensorIOError)
    -> Tensor
  {
    try to(.cpu, path: path, progress: progress)
  }
}
