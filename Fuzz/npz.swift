// libFuzzer target: an .npz archive opened, every member's header read, loaded, mapped
// and verified (CRC-32, inflate, ZIP64 records, data descriptors, restart points), on
// arbitrary bytes. Built and run by scripts/fuzz (swiftc -sanitize=fuzzer,address).
import SystemPackage
import TensorIO

/// The input as a file (the readers take paths), rewritten for every input.
let fuzzPath = fuzzInputPath("npz")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard writeFuzzInput(data, size, to: fuzzPath) else { return 0 }
  guard let archive = try? NPZArchive(path: fuzzPath) else { return 0 }
  for member in archive.members where member.uncompressedBytes <= 16 << 20 {
    _ = try? archive.info(member.key)
    _ = try? archive.load(member.key)
    _ = try? archive.mapOrLoad(member.key)
  }
  _ = try? archive.verify()
  return 0
}
