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
  /// When uploads from a mapped file read chunks from the disk with direct I/O into the
  /// pinned ring (bypassing the page cache) instead of copying from the mapping.
  var directReads = DirectReads.coldChunks
  /// Whether uploads from a mapped file read the other (warm) chunks with `pread` from
  /// the page cache into the pinned ring instead of copying them from the mapping.
  var warmPread = false
  /// How device -> `.npy` saves of 1 MiB and more reach the file when not synced.
  var unsyncedSaves = SaveRoute.mapped
  /// How device -> `.npy` saves of 1 MiB and more reach the file when synced.
  var syncedSaves = SaveRoute.directWrites

  /// This tuning with the routes named in the environment, for measurements:
  /// `TENSORTOOL_DIRECT_READS` (`never`, `cold`, `always`), `TENSORTOOL_WARM_PREAD`
  /// (`1`: warm chunks by `pread`), `TENSORTOOL_SAVE_UNSYNCED`
  /// and `TENSORTOOL_SAVE_SYNCED` (`ring`, `mapped`, `writers`, `direct`).
  func applyingEnvironment() -> TransferTuning {
    var tuning = self
    if let text = SystemInfo.environment("TENSORTOOL_DIRECT_READS"), let mode = DirectReads(rawValue: text) {
      tuning.directReads = mode
    }
    if let value = environmentInteger("TENSORTOOL_WARM_PREAD", in: 0...1) { tuning.warmPread = value == 1 }
    if let text = SystemInfo.environment("TENSORTOOL_SAVE_UNSYNCED"), let route = SaveRoute(rawValue: text) {
      tuning.unsyncedSaves = route
    }
    if let text = SystemInfo.environment("TENSORTOOL_SAVE_SYNCED"), let route = SaveRoute(rawValue: text) {
      tuning.syncedSaves = route
    }
    return tuning
  }
}

/// When an upload from a mapped file reads from the disk directly (`O_DIRECT`).
enum DirectReads: String, Sendable, Hashable {
  /// Always through the mapping (the page cache).
  case never
  /// Chunks whose pages are mostly not in the page cache (`mincore`) are read directly:
  /// a cold file moves at the disk's speed and leaves the page cache as it was.
  case coldChunks = "cold"
  /// Every chunk is read directly (for tests and measurements).
  case always
}

/// How a device -> `.npy` save of 1 MiB or more reaches the file.
enum SaveRoute: String, Sendable, Hashable {
  /// One thread writes (`pwrite`) chunks from a ring of pinned buffers, in order.
  case ring
  /// The output is sized and mapped read-write; the transfer workers copy each chunk
  /// from their pinned slot into the mapping (page faults scale over threads, where
  /// buffered writes to one file serialize on its lock).
  case mapped
  /// The transfer workers write (`pwrite`) their chunks from their pinned slots at
  /// disjoint offsets, through the page cache.
  case writers
  /// The transfer workers write their chunks with direct I/O (`O_DIRECT`), the slots
  /// laid out in file coordinates (the header's last bytes in the first block), the
  /// file truncated to its size at the end: no page cache, the disk's own speed.
  case directWrites = "direct"
}

/// What one transfer did, chunk by chunk (for tests and measurements).
struct TransferReport: Sendable, Hashable {
  /// Chunks moved through registered host memory.
  var registered = 0
  /// Chunks moved through pinned staging buffers.
  var staged = 0
  /// Staged chunks read from the file with direct I/O (uploads from a mapped file).
  var directReads = 0
  /// Staged chunks read from the file with `pread` (uploads from a mapped file).
  var bufferedReads = 0
  /// Whether the bytes went in one direct (synchronous, pageable) copy instead.
  var direct = false
  /// Every chunk moved by the pipeline.
  var chunks: Int { registered + staged }

  mutating func add(_ other: TransferReport) {
    registered += other.registered
    staged += other.staged
    directReads += other.directReads
    bufferedReads += other.bufferedReads
    direct = direct || other.direct
  }
}
