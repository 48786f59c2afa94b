// libFuzzer target: a whole .npy file read, mapped and converted, on arbitrary bytes.
// Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address).
import SystemPackage
import TensorIO

/// The input as a file (the readers take paths), rewritten for every input.
let fuzzPath = fuzzInputPath("npy")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard writeFuzzInput(data, size, to: fuzzPath) else { return 0 }
  _ = try? NPYFile.info(at: fuzzPath)
  if let array = try? NDArray(contentsOf: fuzzPath), array.byteCount <= 1 << 20 {
    _ = try? array.copy(order: .fortran, byteOrder: .big)
    if array.dtype.isNumeric { _ = try? array.copy(order: .c) }
  }
  if let mapped = try? NPYFile.map(fuzzPath, mode: .copyOnWrite), mapped.byteCount <= 1 << 20 {
    _ = try? mapped.copy()
  }
  return 0
}
