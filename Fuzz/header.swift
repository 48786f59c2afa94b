// libFuzzer target: the .npy preamble and header parser on arbitrary bytes.
// Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address).
import TensorIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  if let header = try? NPYHeader.parse(bytes, maxHeaderSize: 1 << 16) {
    // What a parsed header promises must be self-consistent.
    precondition(header.dataOffset <= size, "data offset past the header bytes")
    _ = header.count
    _ = header.dtype.name
  }
  return 0
}
