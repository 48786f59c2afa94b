import SystemPackage
import TensorIO

// The TensorIO side of Benchmarks/run: times one operation and prints the best (lowest)
// seconds per call over the repeats. Usage: tensorio-bench OP FILE REPEATS [OUT] [--new-file]
// (--new-file: writes start with OUT removed, as writing to a new path does; by default
// each write replaces the OUT the previous one made, deletion of the old file included)
//   load    NDArray(contentsOf: FILE)
//   save    array.write(to: OUT) (temporary + fsync + rename), array loaded from FILE
//   save-unsynced  the same without fsync (durability: .unsynced)
//   open    NPYFile.info(at: FILE): open, read and parse the header, check the size
//   map-r, map-r+, map-c   NDArray(mapping: FILE, mode:) and drop it (numpy's mmap_mode)
//   cow     a copy-on-write export (Tensor.numpy(.copyOnWrite)) of FILE loaded in memory
//   savez, savez-compressed   NPZArchive.write([("a", FILE's array)], to: OUT) unsynced
//   npz-load   NPZArchive(path: FILE).load("a") (FILE an .npz)
//   npz-map    NPZArchive(path: FILE).map("a") (FILE an .npz written by savez)
//   st-open    SafetensorsFile(path: FILE) and its tensor names (safe_open(...).keys())
//   st-load    every tensor of the .safetensors FILE loaded (safetensors.numpy.load_file)
#if canImport(Glibc)
  import Glibc
#endif

let newFile = CommandLine.arguments.last == "--new-file"
let arguments = newFile ? Array(CommandLine.arguments.dropLast()) : CommandLine.arguments
guard arguments.count >= 4, let repeats = Int(arguments[3]), repeats > 0 else {
  print("usage: tensorio-bench OP FILE REPEATS [OUT]")
  exit(2)
}
let operation = arguments[1]
let file = FilePath(arguments[2])
let clock = ContinuousClock()

/// The best (lowest) seconds per call over `repeats` samples of `inner` calls each: on
/// a shared machine, noise only ever adds time. `cleanPageCache` syncs before each
/// sample, so that writes start with no dirty pages (as the NumPy side does), after
/// removing OUT when `--new-file` was given.
func measure(inner: Int = 1, cleanPageCache: Bool = false, _ body: () throws -> Void) rethrows -> Double {
  var best = Double.infinity
  for _ in 0..<repeats {
    if newFile, arguments.count >= 5 { unlink(arguments[4]) }
    if cleanPageCache { sync() }
    let start = clock.now
    for _ in 0..<inner { try body() }
    let (s, attoseconds) = (clock.now - start).components
    best = min(best, (Double(s) + Double(attoseconds) * 1e-18) / Double(inner))
  }
  return best
}

func output() -> FilePath {
  guard arguments.count >= 5 else {
    print("\(operation) needs OUT")
    exit(2)
  }
  return FilePath(arguments[4])
}

do {
  let result: Double
  switch operation {
  case "load":
    result = try measure {
      let value = try NDArray(contentsOf: file)
      precondition(value.count > 0)
    }
  case "save", "save-unsynced":
    let array = try NDArray(contentsOf: file)
    let out = output()
    result = try measure(cleanPageCache: true) {
      try array.write(to: out, durability: operation == "save" ? .synced : .unsynced)
    }
  case "open":
    result = try measure(inner: 1000) { _ = try NPYFile.info(at: file) }
  case "map-r", "map-r+", "map-c":
    let mode = MapMode(rawValue: String(operation.dropFirst(4))) ?? .readOnly
    result = try measure(inner: 1000) {
      let value = try NDArray(mapping: file, mode: mode)
      precondition(value.storage.byteCount > 0)
    }
  case "cow":
    let tensor = Tensor(try NDArray(contentsOf: file))
    result = try measure(inner: 1000) {
      let value = try tensor.numpy(.copyOnWrite)
      precondition(value.storage.borrowsSourceBytes)
    }
  case "savez", "savez-compressed":
    let array = try NDArray(contentsOf: file)
    let out = output()
    result = try measure(cleanPageCache: true) {
      try NPZArchive.write(
        [("a", array)], to: out, compression: operation == "savez" ? .stored : .deflate(level: -1),
        durability: .unsynced)
    }
  case "npz-load":
    result = try measure {
      let value = try NPZArchive(path: file).load("a")
      precondition(value.count > 0)
    }
  case "npz-map":
    result = try measure(inner: 200) {
      let value = try NPZArchive(path: file).mapOrLoad("a")
      precondition(value.storage.mappedFile != nil)
    }
  case "st-open":
    result = try measure(inner: 20) {
      let names = try SafetensorsFile(path: file).tensors.names
      precondition(!names.isEmpty)
    }
  case "st-load":
    result = try measure {
      let st = try SafetensorsFile(path: file)
      let arrays = try st.tensors.map { try st.load($0.name) }
      precondition(!arrays.isEmpty)
    }
  default:
    print("unknown operation \(operation)")
    exit(2)
  }
  print(result)
} catch {
  print("error: \(error)")
  exit(1)
}
