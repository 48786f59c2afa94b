/// Why a `.safetensors` file is refused: the rules of the reference implementation
/// (huggingface/safetensors), with its reasons.
public enum SafetensorsError: Sendable, Equatable, CustomStringConvertible {
  /// Fewer than the 8 bytes of the header length.
  case headerTooSmall
  /// A header length over the reference's limit of 100,000,000 bytes.
  case headerTooLarge(Int)
  /// A header length that reaches past the end of the file.
  case headerLengthPastEnd(length: Int, fileSize: Int)
  /// Header bytes that are not UTF-8.
  case invalidUTF8
  /// Header text that is not the JSON the format allows: where and why.
  case invalidJSON(offset: Int, reason: String)
  /// A tensor whose `data_offsets` do not start where the previous tensor ends (a gap,
  /// an overlap, or an end before the start).
  case invalidOffset(tensor: String)
  /// A shape whose element count, or byte count, overflows.
  case sizeOverflow(tensor: String)
  /// `data_offsets` that span a different number of bytes than the shape and dtype.
  case byteCountMismatch(tensor: String, expected: Int, given: Int)
  /// The tensors' data does not end where the file does.
  case incompleteCoverage(dataEnd: Int, fileDataBytes: Int)
  /// No tensor of that name.
  case tensorNotFound(String)
  /// A tensor name used twice in what is being written.
  case duplicateName(String)
  /// A dtype the format cannot hold (complex128, strings, records, ...).
  case cannotHoldDType(String)

  /// A short, human-readable statement of the reason.
  public var description: String {
    switch self {
    case .headerTooSmall: return "header too small: fewer than 8 bytes"
    case .headerTooLarge(let n): return "header too large: \(n) bytes (the limit is 100000000)"
    case .headerLengthPastEnd(let length, let size):
      return "invalid header length: \(length) bytes of header in a file of \(size)"
    case .invalidUTF8: return "invalid UTF-8 in header"
    case .invalidJSON(let offset, let reason): return "invalid JSON in header at byte \(offset): \(reason)"
    case .invalidOffset(let tensor): return "invalid offset for tensor `\(tensor)`"
    case .sizeOverflow(let tensor): return "overflow computing the byte size of tensor `\(tensor)`"
    case .byteCountMismatch(let tensor, let expected, let given):
      return "tensor `\(tensor)`: data_offsets span \(given) bytes, its shape and dtype \(expected)"
    case .incompleteCoverage(let end, let bytes):
      return "incomplete metadata, file not fully covered: tensors end at \(end) of \(bytes) data bytes"
    case .tensorNotFound(let name): return "no tensor named '\(name)'"
    case .duplicateName(let name): return "tensor name '\(name)' given twice"
    case .cannotHoldDType(let name): return "safetensors cannot hold dtype \(name)"
    }
  }
}
