import Glibc

/// Moves bytes between host memory and a device, pipelined: the range is cut into
/// chunks on a page-aligned grid, worker threads take chunks from a shared counter and
/// keep two in flight each on their own streams, so that preparing one chunk
/// (registering its pages in place, or copying it into a pinned buffer) overlaps the
/// asynchronous copies of others. Downloads to a sink keep a ring of pinned buffers in
/// flight while the sink consumes them in order. The simulated device runs the same
/// code, with copies that execute only when their stream is synchronized.
struct TransferEngine {
  let backend: any DeviceBackend
  let path: TransferPath
  /// Counts the bytes of each chunk once its copy has completed.
  var progress: TransferProgress? = nil
  /// Replaces the backend's tuning's choices for this transfer (tests; the chunk size
  /// must stay the backend's, which sizes the pooled buffers).
  var tuningOverride: TransferTuning? = nil

  var tuning: TransferTuning { tuningOverride ?? backend.tuning }

  /// Copies `count` host bytes at `source` to device address `destination`; cold
  /// chunks of a mapped file come from `reader` when given.
  func upload(to destination: UInt64, from source: UnsafeRawPointer, count: Int, reader: FileReader? = nil)
    throws(TensorIOError) -> TransferReport
  {
    try move(toDevice: true, device: destination, host: UnsafeMutableRawPointer(mutating: source), count, reader)
  }

  /// Copies `count` bytes at device address `source` into host memory at `destination`.
  func download(from source: UInt64, into destination: UnsafeMutableRawPointer, count: Int) throws(TensorIOError)
    -> TransferReport
  {
    try move(toDevice: false, device: source, host: destination, count)
  }

  /// One direct copy for small or `.pageable` transfers, else the pipeline.
  private func move(
    toDevice: Bool, device: UInt64, host: UnsafeMutableRawPointer, _ count: Int, _ reader: FileReader? = nil
  ) throws(TensorIOError) -> TransferReport {
    if count == 0 { return TransferReport() }
    guard path == .pageable || count < tuning.smallCopy else {
      return try pipeline(toDevice: toDevice, device: device, host: host, count, reader: reader)
    }
    try backend.attachThread()
    if toDevice {
      try backend.copyToDevice(device, from: host, count: count)
    } else {
      try backend.copyToHost(host, from: device, count: count)
    }
    progress?.add(count)
    return TransferReport(direct: true)
  }

  /// Streams `count` bytes at device address `source` to `sink` in order, a chunk at a
  /// time with its offset, through a ring of pinned buffers: while the sink consumes
  /// chunk k, chunks k + 1 ..< k + ringDepth are being copied. Every path but
  /// `.pageable` (plain copies into one buffer) uses the ring: a sink has no host range
  /// of its own to register.
  func download(
    from source: UInt64, count: Int, to sink: (UnsafeRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> TransferReport {
    guard let (chunk, chunks, direct) = try ringPlan(count) else { return TransferReport() }
    if direct {
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: min(count, chunk), alignment: 64)
      defer { buffer.deallocate() }
      for i in 0..<chunks {
        let n = min(chunk, count - i * chunk)
        try backend.copyToHost(buffer, from: source + UInt64(i * chunk), count: n)
        try sink(UnsafeRawBufferPointer(start: buffer, count: n), i * chunk)
        progress?.add(n)
      }
      return TransferReport(direct: true)
    }
    var slots: [Slot] = []
    defer { finish(&slots, failure: nil) }
    try fillRing(&slots, depth: min(tuning.ringDepth, chunks))
    func issue(_ i: Int) throws(TensorIOError) {
      let k = i % slots.count
      guard let buffer = slots[k].buffer else { return }
      slots[k].busy = true
      slots[k].bytes = min(chunk, count - i * chunk)
      try backend.enqueueCopyToHost(
        buffer, from: source + UInt64(i * chunk), count: min(chunk, count - i * chunk), on: slots[k].stream)
    }
    for i in 0..<slots.count { try issue(i) }
    for i in 0..<chunks {
      let k = i % slots.count
      try slots[k].complete(backend, progress: nil)
      guard let buffer = slots[k].buffer else { break }
      try sink(UnsafeRawBufferPointer(start: buffer, count: min(chunk, count - i * chunk)), i * chunk)
      progress?.add(slots[k].bytes)
      if i + slots.count < chunks { try issue(i + slots.count) }
    }
    return TransferReport(staged: chunks)
  }

  /// Fills `count` bytes at device address `destination` from `producer`, which is
  /// called in order with a buffer to fill completely and the buffer's offset in the
  /// range, a chunk at a time, through a ring of pinned buffers: while the producer
  /// fills chunk k, chunks k - ringDepth + 1 ..< k are being copied. A buffer stays
  /// untouched until the producer call after the next one returns (so the producer may
  /// still read the previous chunk while it fills the current one).
  func upload(
    to destination: UInt64, count: Int,
    from producer: (UnsafeMutableRawBufferPointer, Int) throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> TransferReport {
    guard let (chunk, chunks, direct) = try ringPlan(count) else { return TransferReport() }
    if direct {
      // Two plain buffers in turn, so that the previous chunk stays readable.
      let size = min(count, chunk)
      let buffers = [
        UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64),
        UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64),
      ]
      defer { for buffer in buffers { buffer.deallocate() } }
      for i in 0..<chunks {
        let n = min(chunk, count - i * chunk)
        try producer(UnsafeMutableRawBufferPointer(start: buffers[i % 2], count: n), i * chunk)
        try backend.copyToDevice(destination + UInt64(i * chunk), from: buffers[i % 2], count: n)
        progress?.add(n)
      }
      return TransferReport(direct: true)
    }
    var slots: [Slot] = []
    defer { finish(&slots, failure: nil) }
    try fillRing(&slots, depth: min(max(tuning.ringDepth, 2), chunks))
    for i in 0..<chunks {
      let k = i % slots.count
      try slots[k].complete(backend, progress: progress)
      guard let buffer = slots[k].buffer else { break }
      let n = min(chunk, count - i * chunk)
      try producer(UnsafeMutableRawBufferPointer(start: buffer, count: n), i * chunk)
      slots[k].busy = true
      slots[k].bytes = n
      try backend.enqueueCopyToDevice(destination + UInt64(i * chunk), from: buffer, count: n, on: slots[k].stream)
    }
    return TransferReport(staged: chunks)
  }

  /// A ring transfer of `count` bytes: nil when there is nothing to move, else the
  /// chunk size, the number of chunks, and whether plain (pageable) copies do it. Makes
  /// this thread current for the device.
  func ringPlan(_ count: Int) throws(TensorIOError) -> (chunk: Int, chunks: Int, direct: Bool)? {
    if count == 0 { return nil }
    try backend.attachThread()
    let chunk = tuning.chunk
    return (chunk, (count - 1) / chunk + 1, path == .pageable || count < tuning.smallCopy)
  }

  /// Adds `depth` slots, each with a pooled stream and pinned buffer, to `slots`.
  func fillRing(_ slots: inout [Slot], depth: Int) throws(TensorIOError) {
    for _ in 0..<depth {
      slots.append(Slot(stream: try backend.pool.stream(backend)))
      slots[slots.count - 1].buffer = try backend.pool.buffer(backend)
    }
  }
}
