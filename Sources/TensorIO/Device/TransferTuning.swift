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
