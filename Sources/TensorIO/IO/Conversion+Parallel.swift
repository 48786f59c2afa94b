import CTensorShims
import SystemPackage

extension Conversion {
  /// Pieces that convert independently, written by one worker per core: each converts
  /// a piece into its own buffer, then writes it at its place. While one worker is in
  /// its (page-cache) write, the other converts: every core stays busy, with no
  /// separate writer thread to hand pieces to.
  static func writeInParallel(
    _ pieces: ConvertedPieces, count: Int, to file: AtomicFile, at start: Int, progress: ((Int) -> Void)?
  ) throws(TensorIOError) {
    // Progress calls are serialized by the lock (the callback itself need not be
    // thread-safe).
    let written = Locked(0)
    // Safety: called only with `written`'s lock held, before this function returns.
    let report = UnsafeShared(progress)
    // Safety: workers use only `convertPiece` and `workerBuffers`, which read state
    // that never changes; `pieces` outlives the region.
    let shared = UnsafeShared(pieces)
    try Parallel.workers(min(Parallel.cores, count), sharing: count) { (_, queue) throws(TensorIOError) in
      let pieces = shared.value
      let buffers = try pieces.workerBuffers()
      while let k = queue.next() {
        let bytes = try pieces.convertPiece(k, into: buffers, parts: 1)
        try file.write(bytes, at: start + pieces.pieceOffset(k))
        written.withLock { total in
          total += bytes.count
          report.value?(total)
        }
      }
    }
  }
}
