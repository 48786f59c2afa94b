import Glibc

extension TransferEngine {
  /// The host side of a transfer cut on a grid of `chunk`-byte cells aligned to the
  /// page below the first byte: chunk boundaries fall on page boundaries, so the pages
  /// of different chunks never overlap and each chunk can be registered on its own.
  struct ChunkGrid {
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
  struct Slot {
    var stream: DeviceStream
    var buffer: UnsafeMutableRawPointer?
    var registered: UnsafeMutableRawPointer?
    var copyOut: (destination: UnsafeMutableRawPointer, count: Int)?
    /// A download's file write, done once the copy into the buffer is.
    var writeOut: PendingWrite?
    var busy = false
    /// The bytes of the chunk in flight.
    var bytes = 0
    /// Whether the device may still be using the buffer (a failed synchronization):
    /// then the buffer is abandoned rather than reused.
    var poisoned = false

    init(stream: DeviceStream) { self.stream = stream }

    /// Waits for the slot's copy, then copies a staged download out (to memory or to
    /// its file), ends the chunk's registration and counts its bytes in `progress`.
    mutating func complete(_ backend: any DeviceBackend, progress: TransferProgress?) throws(TensorIOError) {
      guard busy else { return }
      busy = false
      let out = copyOut
      let write = writeOut
      copyOut = nil
      writeOut = nil
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
      if let write, let buffer { try write.sink.write(buffer + write.lead, count: write.count, at: write.offset) }
      progress?.add(bytes)
    }
  }

  /// Completes every slot and returns its stream and buffer to the pool, recording
  /// (not throwing) failures.
  func finish(_ slots: inout [Slot], failure: FirstError?) {
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

  /// Runs `workers` threads over `chunks` chunks handed out by a shared counter. Each
  /// worker has two slots (pooled streams, and pooled pinned buffers when `buffers`)
  /// that it uses in turn: a slot's previous chunk is completed before `body` prepares
  /// the next one in it (so one slot's copy runs while the other is prepared). At the
  /// end every slot is completed and returned to the pool; the first error stops every
  /// worker and is thrown. Returns the workers' reports added up.
  func eachChunk(
    workers: Int, chunks: Int, buffers: Bool,
    _ body:
      @Sendable (_ worker: Int, _ chunk: Int, _ slot: inout Slot, _ report: inout TransferReport)
      throws(TensorIOError) -> Void
  ) throws(TensorIOError) -> TransferReport {
    let total = Locked(TransferReport())
    try Parallel.workers(workers, sharing: chunks) { (worker, queue) throws(TensorIOError) in
      var report = TransferReport()
      var slots: [Slot] = []
      do throws(TensorIOError) {
        try backend.attachThread()
        for _ in 0..<2 {
          slots.append(Slot(stream: try backend.pool.stream(backend)))
          if buffers { slots[slots.count - 1].buffer = try backend.pool.buffer(backend) }
        }
        var s = 0
        while let i = queue.next() {
          try slots[s].complete(backend, progress: progress)
          try body(worker, i, &slots[s], &report)
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

  /// Host memory <-> device through worker threads, each moving the chunks it takes
  /// from a shared counter, registered in place or staged.
  ///
  /// Uploads given a `reader` read the chunks it takes (cold ones) from the file into a
  /// pinned slot instead of copying them from the mapping at `host`.
  func pipeline(
    toDevice: Bool, device: UInt64, host: UnsafeMutableRawPointer, _ count: Int, reader: FileReader? = nil
  ) throws(TensorIOError) -> TransferReport {
    let everyWorkerRegisters =
      path == .registered || (path == .automatic && tuning.registeringWorkers >= tuning.workers)
    let grid = ChunkGrid(
      start: Int(bitPattern: host), count: count,
      chunk: everyWorkerRegisters ? tuning.registrationChunk : tuning.chunk)
    let workers = max(1, min(toDevice ? tuning.workers : tuning.downloadWorkers ?? tuning.workers, grid.chunks))
    // Safety: each worker moves the chunks it takes, disjoint pages of the host range,
    // which the caller keeps alive until this returns.
    let shared = UnsafeShared(host)
    return try eachChunk(workers: workers, chunks: grid.chunks, buffers: false) {
      (worker, i, slot: inout Slot, report: inout TransferReport) throws(TensorIOError) in
      let host = shared.value
      let registers: Bool
      switch path {
      case .registered: registers = true
      case .staged, .pageable: registers = false
      case .automatic: registers = worker < tuning.registeringWorkers
      }
      let (offset, n) = grid.bytes(i)
      let address = device + UInt64(offset)
      let chunk = host + offset
      var inPlace = false
      let pages = grid.pages(i)
      // A chunk the reader takes (a cold one) is read from the file: neither mapped,
      // nor registered.
      let read = toDevice && n <= tuning.chunk ? reader?.route(host + pages.offset, count: pages.count) : nil
      if tuning.populate && read == nil {
        // One call maps the chunk's pages (a file mapping's page cache pages), not
        // a fault per page in the copy.
        if toDevice {
          VirtualMemory.populate(host + pages.offset, length: pages.count)
        } else {
          VirtualMemory.populateForWriting(host + pages.offset, length: pages.count)
        }
      }
      if registers && read == nil {
        do throws(TensorIOError) {
          try backend.register(host + pages.offset, count: pages.count, readOnly: toDevice)
          slot.registered = host + pages.offset
          inPlace = true
        } catch {
          if path == .registered { throw error }
        }
      }
      slot.busy = true
      slot.bytes = n
      if inPlace {
        report.registered += 1
        if toDevice {
          try backend.enqueueCopyToDevice(address, from: chunk, count: n, on: slot.stream)
        } else {
          try backend.enqueueCopyToHost(chunk, from: address, count: n, on: slot.stream)
        }
      } else {
        report.staged += 1
        if slot.buffer == nil { slot.buffer = try backend.pool.buffer(backend) }
        guard let buffer = slot.buffer else { return }
        if n > tuning.chunk {
          try stageInPieces(
            toDevice: toDevice, device: address, host: chunk, count: n, buffer: buffer, stream: slot.stream)
        } else if toDevice {
          let lead = offset - pages.offset
          if let reader, let read,
            try reader.read(read, into: buffer, at: pages.offset, count: pages.count, needed: lead + n)
          {
            if read == .direct { report.directReads += 1 } else { report.bufferedReads += 1 }
            try backend.enqueueCopyToDevice(address, from: buffer + lead, count: n, on: slot.stream)
          } else {
            memcpy(buffer, chunk, n)
            try backend.enqueueCopyToDevice(address, from: buffer, count: n, on: slot.stream)
          }
        } else {
          slot.copyOut = (chunk, n)
          try backend.enqueueCopyToHost(buffer, from: address, count: n, on: slot.stream)
        }
      }
    }
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
