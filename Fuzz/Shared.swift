// Shared by the libFuzzer targets (compiled into each by scripts/fuzz).
import Glibc
import SystemPackage

/// A per-process file for targets whose readers take paths; `extension` names its kind.
func fuzzInputPath(_ extension: String) -> FilePath {
  FilePath("/tmp/tensortool-fuzz-\(getpid()).\(`extension`)")
}

/// Writes the fuzzer's input to `path`, replacing what was there; false when it cannot.
func writeFuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int, to path: FilePath) -> Bool {
  guard
    let fd = try? FileDescriptor.open(
      path, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
  else { return false }
  defer { _ = try? fd.close() }
  return (try? fd.writeAll(UnsafeRawBufferPointer(start: data, count: size))) != nil
}
