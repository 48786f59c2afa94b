// libFuzzer target: a .safetensors file opened (header length, strict JSON, dtypes,
// shapes, offsets, coverage), every tensor mapped or loaded, BF16/F8 upcast, and the
// file verified, on arbitrary bytes. Built and run by scripts/fuzz
// (swiftc -sanitize=fuzzer,address).
import SystemPackage
import TensorIO

/// The input as a file (the reader takes paths), rewritten for every input.
let fuzzPath = fuzzInputPath("safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard writeFuzzInput(data, size, to: fuzzPath) else { return 0 }
  guard let file = try? SafetensorsFile(path: fuzzPath) else { return 0 }
  for info in file.tensors where info.byteCount <= 16 << 20 {
    guard let array = try? file.mapOrLoad(info.name) else { continue }
    if info.dtype.isExtendedFloat { _ = try? Upcast.float32(array, from: info.dtype) }
  }
  _ = try? file.verify()
  return 0
}
