import Glibc

/// How the transfer engine cuts and spreads one device's copies.
struct TransferTuning: Sendable, Hashable {
  /// Bytes per staged chunk and per pinned buffer; a multiple of the page size.
  var chunk: Int
  /// Bytes per chunk when every worker registers in place: fewer, larger registrations
  /// (the CUDA driver registers one range at a time, so the calls' fixed cost counts);
  /// a multiple of the page size.
  var registrationChunk: Int
  /// Worker threads of one host <-> memory transfer (each keeps two chunks in flight).
  var workers: Int
  /// In `.automatic`, how many of the workers try to register their chunks in place
  /// first; the others stage through pinned buffers.
  var registeringWorkers: Int
  /// Chunks in flight while a download streams to a sink.
  var ringDepth: Int
  /// Copies smaller than this go in one direct copy.
  var smallCopy: Int
  /// Whether uploads map each chunk's pages in one call before registering or
  /// copying it, instead of a fault per page.
  var populate = false
  /// Worker threads of a device -> host memory transfer, when fewer than `workers` do
  /// better (many threads faulting in one output file's pages contend); nil: `workers`.
  var downloadWorkers: Int? = nil
  /// Whether device -> `.npy` saves fill the mapped output file (else a ring of pinned
  /// buffers and `pwrite`).
  var mappedDownloads = true
}

/// What one transfer did, chunk by chunk (for tests and measurements).
struct TransferReport: Sendable, Hashable {
  /// Chunks moved through registered host memory.
  var registered = 0
  /// Chunks moved through pinned staging buffers.
  var staged = 0
  /// Whether the bytes went in one direct (synchronous, pageable) copy instead.
  var direct = false
  /// Every chunk moved by the pipeline.
  var chunks: Int { registered + staged }

  mutating func add(_ other: TransferReport) {
    registered += other.registered
    staged += other.staged
    direct = direct || other.direct
  }
}

/// Streams and pinned staging buffers of one device, kept for reuse across transfers
/// (pinned memory is slow to allocate). Holds at most what the busiest moment needed.
final class TransferPool: Sendable {
  private struct State: Sendable {
    var streams: [DeviceStream] = []
    var buffers: [UInt] = []
  }
  private let state = Locked(State())

  /// A stream from the pool, or a new one.
  func stream(_ backend: any DeviceBackend) throws(TensorIOError) -> DeviceStream {
    if let stream = state.withLock({ $0.streams.popLast() }) { return stream }
    return try backend.makeStream()
  }

  /// Serializes refills, so that workers finding the pool empty at once make one
  /// allocation between them, not one each.
  private let refill = Locked(())

  /// A pinned buffer of `backend.tuning.chunk` bytes from the pool. An empty pool is
  /// refilled with the buffers of every worker's two slots at once, cut from one
  /// pinned allocation (one call into the driver instead of one per buffer).
  func buffer(_ backend: any DeviceBackend) throws(TensorIOError) -> UnsafeMutableRawPointer {
    if let buffer = pop() { return buffer }
    let raw = try refill.withLock { (_) throws(TensorIOError) -> UInt in
      if let buffer = pop() { return UInt(bitPattern: buffer) }  // refilled meanwhile
      let chunk = backend.tuning.chunk
      let count = max(1, backend.tuning.workers * 2)
      let arena = try backend.allocatePinned(chunk * count)
      state.withLock { state in
        for i in stride(from: count - 1, to: 0, by: -1) { state.buffers.append(UInt(bitPattern: arena + i * chunk)) }
      }
      return UInt(bitPattern: arena)
    }
    guard let buffer = UnsafeMutableRawPointer(bitPattern: raw) else {
      throw TensorIOError(.unavailable(device: "\(backend.device)", reason: "no pinned memory"))
    }
    return buffer
  }

  private func pop() -> UnsafeMutableRawPointer? {
    state.withLock { $0.buffers.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
  }

  /// Returns an idle stream to the pool.
  func recycle(stream: DeviceStream) {
    state.withLock { $0.streams.append(stream) }
  }

  /// Returns a pinned buffer no copy uses any more to the pool.
  func recycle(buffer: UnsafeMutableRawPointer) {
    state.withLock { $0.buffers.append(UInt(bitPattern: buffer)) }
  }
}

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

  private var tuning: TransferTuning { backend.tuning }

  /// Copies `count` host bytes at `source` to device address `destination`.
  func upload(to destination: UInt64, from source: UnsafeRawPointer, count: Int) throws(TensorIOError)
    -> TransferReport
  {
    try move(toDevice: true, device: destination, host: UnsafeMutableRawPointer(mutating: source), count)
  }

  /// Copies `count` bytes at device address `source` into host memory at `destination`.
  func download(from source: UInt64, into destination: UnsafeMutableRawPointer, count: Int) throws(TensorIOError)
    -> TransferReport
  {
    try move(toDevice: false, device: source, host: destination, count)
  }

  /// One direct copy for small or `.pageable` transfers, else the pipeline.
  private func move(toDevice: Bool, device: UInt64, host: UnsafeMutableRawPointer, _ count: Int)
    throws(TensorIOError) -> TransferReport
  {
    if count == 0 { return TransferReport() }
    guard path == .pageable || count < tuning.smallCopy else {
      return try pipeline(toDevice: toDevice, device: device, host: host, count)
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
  private func ringPlan(_ count: Int) throws(TensorIOError) -> (chunk: Int, chunks: Int, direct: Bool)? {
    if count == 0 { return nil }
    try backend.attachThread()
    let chunk = tuning.chunk
    return (chunk, (count - 1) / chunk + 1, path == .pageable || count < tuning.smallCopy)
  }

  /// Adds `depth` slots, each with a pooled stream and pinned buffer, to `slots`.
  private func fillRing(_ slots: inout [Slot], depth: Int) throws(TensorIOError) {
    for _ in 0..<depth {
      slots.append(Slot(stream: try backend.pool.stream(backend)))
      slots[slots.count - 1].buffer = try backend.pool.buffer(backend)
    }
  }

  // MARK: The worker pipeline

  /// The host side of a transfer cut on a grid of `chunk`-byte cells aligned to the
  /// page below the first byte: chunk boundaries fall on page boundaries, so the pages
  /// of different chunks never overlap and each chunk can be registered on its own.
  private struct ChunkGrid {
    let start: Int
    let count: Int
    let base: Int
    let chunk: Int
    let page: Int

    init(start: Int, count: Int, chunk: Int) {
      self.start = start
      self.count = count
      self.chunk = chunk
      let page = SystemInfo.pageSize
      self.page = page
      self.base = start & ~(page - 1)
    }

    var chunks: Int { (start + count - base - 1) / chunk + 1 }

    /// Chunk `i`'s bytes: offset from `start` and length.
    func bytes(_ i: Int) -> (offset: Int, count: Int) {
      let low = max(start, base + i * chunk)
      let high = min(start + count, base + (i + 1) * chunk)
      return (low - start, high - low)
    }

    /// Chunk `i`'s whole pages: offset of the first page from `start` (zero or
    /// negative) and length.
    func pages(_ i: Int) -> (offset: Int, count: Int) {
      let (offset, n) = bytes(i)
      let low = (start + offset) & ~(page - 1)
      let high = (start + offset + n + page - 1) & ~(page - 1)
      return (low - start, high - low)
    }
  }

  /// A chunk in flight: its stream, and what to do when its copy is done.
  private struct Slot {
    var stream: DeviceStream
    var buffer: UnsafeMutableRawPointer?
    var registered: UnsafeMutableRawPointer?
    var copyOut: (destination: UnsafeMutableRawPointer, count: Int)?
    var busy = false
    /// The bytes of the chunk in flight.
    var bytes = 0
    /// Whether the device may still be using the buffer (a failed synchronization):
    /// then the buffer is abandoned rather than reused.
    var poisoned = false

    init(stream: DeviceStream) { self.stream = stream }

    /// Waits for the slot's copy, then copies a staged download out, ends the chunk's
    /// registration and counts its bytes in `progress`.
    mutating func complete(_ backend: any DeviceBackend, progress: TransferProgress?) throws(TensorIOError) {
      guard busy else { return }
      busy = false
      let out = copyOut
      copyOut = nil
      do {
        try backend.synchronize(stream)
      } catch {
        poisoned = true
        throw error
      }
      if let registered {
        backend.unregister(registered)
        self.registered = nil
      }
      if let out, let buffer { memcpy(out.destination, buffer, out.count) }
      progress?.add(bytes)
    }
  }

  /// Completes every slot and returns its stream and buffer to the pool, recording
  /// (not throwing) failures.
  private func finish(_ slots: inout [Slot], failure: FirstError?) {
    for k in slots.indices {
      do {
        try slots[k].complete(backend, progress: progress)
      } catch {
        failure?.record(error)
      }
      guard !slots[k].poisoned else { continue }
      backend.pool.recycle(stream: slots[k].stream)
      if let buffer = slots[k].buffer { backend.pool.recycle(buffer: buffer) }
    }
    slots.removeAll()
  }

  /// Host memory <-> device through worker threads, each moving the chunks it takes
  /// from a shared counter, registered in place or staged.
  private func pipeline(toDevice: Bool, device: UInt64, host: UnsafeMutableRawPointer, _ count: Int)
    throws(TensorIOError) -> TransferReport
  {
    let everyWorkerRegisters =
      path == .registered || (path == .automatic && tuning.registeringWorkers >= tuning.workers)
    let grid = ChunkGrid(
      start: Int(bitPattern: host), count: count,
      chunk: everyWorkerRegisters ? tuning.registrationChunk : tuning.chunk)
    let workers = max(1, min(toDevice ? tuning.workers : tuning.downloadWorkers ?? tuning.workers, grid.chunks))
    let total = Locked(TransferReport())
    // Safety: each worker moves the chunks it takes, disjoint pages of the host range,
    // which the caller keeps alive until this returns.
    let shared = UnsafeShared(host)
    try Parallel.workers(workers, sharing: grid.chunks) { (worker, queue) throws(TensorIOError) in
      let host = shared.value
      let registers: Bool
      switch path {
      case .registered: registers = true
      case .staged, .pageable: registers = false
      case .automatic: registers = worker < tuning.registeringWorkers
      }
      var report = TransferReport()
      var slots: [Slot] = []
      do throws(TensorIOError) {
        try backend.attachThread()
        for _ in 0..<2 { slots.append(Slot(stream: try backend.pool.stream(backend))) }
        var s = 0
        while let i = queue.next() {
          try slots[s].complete(backend, progress: progress)
          let (offset, n) = grid.bytes(i)
          let address = device + UInt64(offset)
          let chunk = host + offset
          var inPlace = false
          let pages = grid.pages(i)
          if tuning.populate {
            // One call maps the chunk's pages (a file mapping's page cache pages), not
            // a fault per page in the copy.
            if toDevice {
              VirtualMemory.populate(host + pages.offset, length: pages.count)
            } else {
              VirtualMemory.populateForWriting(host + pages.offset, length: pages.count)
            }
          }
          if registers {
            do throws(TensorIOError) {
              try backend.register(host + pages.offset, count: pages.count, readOnly: toDevice)
              slots[s].registered = host + pages.offset
              inPlace = true
            } catch {
              if path == .registered { throw error }
            }
          }
          slots[s].busy = true
          slots[s].bytes = n
          if inPlace {
            report.registered += 1
            if toDevice {
              try backend.enqueueCopyToDevice(address, from: chunk, count: n, on: slots[s].stream)
            } else {
              try backend.enqueueCopyToHost(chunk, from: address, count: n, on: slots[s].stream)
            }
          } else {
            report.staged += 1
            if slots[s].buffer == nil { slots[s].buffer = try backend.pool.buffer(backend) }
            guard let buffer = slots[s].buffer else { continue }
            if n > tuning.chunk {
              try stageInPieces(
                toDevice: toDevice, device: address, host: chunk, count: n, buffer: buffer, stream: slots[s].stream)
            } else if toDevice {
              memcpy(buffer, chunk, n)
              try backend.enqueueCopyToDevice(address, from: buffer, count: n, on: slots[s].stream)
            } else {
              slots[s].copyOut = (chunk, n)
              try backend.enqueueCopyToHost(buffer, from: address, count: n, on: slots[s].stream)
            }
          }
          s ^= 1
        }
      } catch {
        queue.record(error)
      }
      finish(&slots, failure: queue.failure)
      total.withLock { $0.add(report) }
    }
    return total.withLock { $0 }
  }
}

extension TransferEngine {
  /// Stages a registration-sized chunk that the driver refused to register, through
  /// one pinned buffer a piece at a time, waiting for each piece (a rare fallback).
  fileprivate func stageInPieces(
    toDevice: Bool, device: UInt64, host: UnsafeMutableRawPointer, count: Int, buffer: UnsafeMutableRawPointer,
    stream: DeviceStream
  ) throws(TensorIOError) {
    var done = 0
    while done < count {
      let n = min(tuning.chunk, count - done)
      if toDevice {
        memcpy(buffer, host + done, n)
        try backend.enqueueCopyToDevice(device + UInt64(done), from: buffer, count: n, on: stream)
        try backend.synchronize(stream)
      } else {
        try backend.enqueueCopyToHost(buffer, from: device + UInt64(done), count: n, on: stream)
        try backend.synchronize(stream)
        memcpy(host + done, buffer, n)
      }
      done += n
    }
  }
}
