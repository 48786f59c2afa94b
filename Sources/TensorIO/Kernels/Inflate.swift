import CZlib

/// Raw deflate decompression through zlib, writing straight into caller-provided
/// buffers: no intermediate copies, and never more output than asked for.
final class Inflater {
  private var stream = z_stream()
  private var initialised = false
  /// Bytes produced so far.
  private(set) var totalOut = 0
  /// Whether the end of the deflate stream was reached.
  private(set) var finished = false

  init() throws(TensorIOError) {
    let status = inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw TensorIOError(.inflateFailed("inflateInit2 failed (\(status))")) }
    initialised = true
  }

  deinit {
    if initialised { inflateEnd(&stream) }
  }

  /// Inflates into `output` until it is full, the input runs out (`needInput` is then
  /// true) or the stream ends. Returns bytes written and whether more input is needed.
  func inflate(into output: UnsafeMutableRawBufferPointer, from input: inout UnsafeRawBufferPointer)
    throws(TensorIOError) -> (written: Int, needInput: Bool)
  {
    guard let out = output.baseAddress, output.count > 0, !finished else { return (0, false) }
    var written = 0
    while written < output.count && !finished {
      let inputBase = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
      stream.next_in = inputBase
      stream.avail_in = uInt(min(input.count, Int(UInt32.max)))
      let want = min(output.count - written, Int(UInt32.max))
      stream.next_out = (out + written).assumingMemoryBound(to: Bytef.self)
      stream.avail_out = uInt(want)
      let status = CZlib.inflate(&stream, Z_NO_FLUSH)
      let consumed = min(input.count, Int(UInt32.max)) - Int(stream.avail_in)
      let produced = want - Int(stream.avail_out)
      input = UnsafeRawBufferPointer(rebasing: input[consumed...])
      written += produced
      totalOut += produced
      switch status {
      case Z_STREAM_END:
        finished = true
      case Z_OK:
        break
      case Z_BUF_ERROR:
        // No progress possible: more input needed (or output full, handled by the loop).
        if input.isEmpty { return (written, true) }
      default:
        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        throw TensorIOError(.inflateFailed(message))
      }
      if input.isEmpty && written < output.count && !finished && produced == 0 { return (written, true) }
    }
    return (written, false)
  }
}
