import CLibdeflate

/// Raw deflate inflated in one call, through libdeflate: the whole compressed stream in
/// memory, the whole output buffer sized to what the stream must produce. Several
/// times zlib's streaming inflate on one core; used where a member's compressed bytes
/// and its array both fit in memory (zlib streams everything else).
enum WholeInflate {
  /// How a whole-buffer inflate ended.
  enum Outcome: Equatable {
    /// The stream ended (its final block) after filling exactly `output`; `consumed`
    /// compressed bytes were read.
    case complete(consumed: Int)
    /// The stream ended after only `produced` bytes.
    case short(produced: Int)
    /// The stream goes on past the end of `output`.
    case overrun
    /// The stream is not valid deflate.
    case corrupt
  }

  /// Inflates the raw deflate stream in `input` into `output`, which it must fill
  /// exactly. Never writes past `output`, whatever the input.
  static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Outcome {
    guard let decompressor = libdeflate_alloc_decompressor() else { return .corrupt }
    defer { libdeflate_free_decompressor(decompressor) }
    var consumed = 0
    var produced = 0
    // libdeflate needs non-null pointers even for empty buffers.
    var empty: UInt8 = 0
    let result = withUnsafeMutablePointer(to: &empty) { spare in
      libdeflate_deflate_decompress_ex(
        decompressor, input.baseAddress ?? UnsafeRawPointer(spare), input.count,
        output.baseAddress ?? UnsafeMutableRawPointer(spare), output.count, &consumed, &produced)
    }
    switch result {
    case LIBDEFLATE_SUCCESS:
      return produced == output.count ? .complete(consumed: consumed) : .short(produced: produced)
    case LIBDEFLATE_INSUFFICIENT_SPACE: return .overrun
    default: return .corrupt
    }
  }

  /// `inflate(_:into:)` while another core faults in the output's pages, so that the
  /// kernel's zeroing of fresh pages does not stall the inflater.
  static func inflateFaultingAhead(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer)
    -> Outcome
  {
    // Safety: the task only populates `output`'s pages, and is waited for before this
    // returns.
    let pages = UnsafeShared(output)
    let populating = BackgroundTask {
      if let base = pages.value.baseAddress { VirtualMemory.populateForWriting(base, length: pages.value.count) }
    }
    defer { _ = try? populating.wait() }
    return inflate(input, into: output)
  }
}
