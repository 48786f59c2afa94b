// seconds per call. Usage: tensorio-bench OP FILE REPEATS [OUT]
//   load    NDArray(contentsOf: FILE)
//   save    array.write(to: OUT) (temporary + fsync + rename), array loaded from FILE
//   save-unsynced  the same without fsync (durability: .unsynced)
//   open    NPYFile.info(at: FILE): open, read and parse the header, check the size
//   map-r, map-r+, map-c   NDArray(mapping: FILE, mode:) and drop it (numpy's mmap_mode)
//   cow     a copy-on-write export (Tensor.numpy(.copyOnWrite)) of FILE loaded in memory
//   savez, savez-compressed   NPZArchive.write([("a", FILE's array)], to: OUT) unsynced
//   npz-load   NPZArchive(path: FILE).load("a") (FILE an .npz)
//   npz-map    NPZArchive(path: FILE).map("a") (FILE an .npz written by savez)
import SystemPackage
import TensorIO

// The TensorIO side of Benchmarks/run: times one operation and prints the median
#if canImport(Glibc)
  import Glibc
#endif

/// The best of several samples: on a shared machine, noise only ever adds time.
func best(_ values: [Double]) -> Double { values.min() ?? 0 }

func seconds(_ duration: Duration) -> Double {
  let (s, attoseconds) = duration.components
  return Double(s) + Double(attoseconds) * 1e-18
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let repeats = Int(arguments[3]), repeats > 0 else {
  print("usage: tensorio-bench load|save|open FILE REPEATS [OUT]")
  exit(2)
}
let operation = arguments[1]
let file = FilePath(arguments[2])
let clock = ContinuousClock()
var times: [Double] = []

do {
  switch operation {
  case "load":
    for _ in 0..<repeats {
      let start = clock.now
      let array = try NDArray(contentsOf: file)
      times.append(seconds(clock.now - start))
      precondition(array.count > 0)
    }
  case "save", "save-unsynced":
    guard arguments.count >= 5 else {
      print("save needs OUT")
      exit(2)
    }
    let array = try NDArray(contentsOf: file)
    for _ in 0..<repeats {
      sync()  // start from no dirty pages, as the NumPy side does
      let start = clock.now
      try array.write(to: FilePath(arguments[4]), durability: operation == "save" ? .synced : .unsynced)
      times.append(seconds(clock.now - start))
    }
  case "open":
    // Many calls per sample: one call is a few microseconds.
    let inner = 1000
    for _ in 0..<repeats {
      let start = clock.now
      for _ in 0..<inner { _ = try NPYFile.info(at: file) }
      times.append(seconds(clock.now - start) / Double(inner))
    }
  case "map-r", "map-r+", "map-c":
    let mode = MapMode(rawValue: String(operation.dropFirst(4))) ?? .readOnly
    let inner = 1000
    for _ in 0..<repeats {
      let start = clock.now
      for _ in 0..<inner {
        let array = try NDArray(mapping: file, mode: mode)
        precondition(array.storage.byteCount > 0)
      }
      times.append(seconds(clock.now - start) / Double(inner))
    }
  case "cow":
    let tensor = Tensor(try NDArray(contentsOf: file))
    let inner = 1000
    for _ in 0..<repeats {
      let start = clock.now
      for _ in 0..<inner {
        let export = try tensor.numpy(.copyOnWrite)
        precondition(export.storage.isBorrowing)
      }
      times.append(seconds(clock.now - start) / Double(inner))
    }
  case "savez", "savez-compressed":
    guard arguments.count >= 5 else {
      print("\(operation) needs OUT")
      exit(2)
    }
    let array = try NDArray(contentsOf: file)
    for _ in 0..<repeats {
      sync()  // start from no dirty pages, as the NumPy side does
      let start = clock.now
      try NPZArchive.write(
        [("a", array)], to: FilePath(arguments[4]),
        compression: operation == "savez" ? .stored : .deflate(level: -1), durability: .unsynced)
      times.append(seconds(clock.now - start))
    }
  case "npz-load":
    for _ in 0..<repeats {
      let start = clock.now
      let array = try NPZArchive(path: file).load("a")
      times.append(seconds(clock.now - start))
      precondition(array.count > 0)
    }
  case "npz-map":
    let inner = 200
    for _ in 0..<repeats {
      let start = clock.now
      for _ in 0..<inner {
        let array = try NPZArchive(path: file).map("a")
        precondition(array.storage.mapping != nil)
      }
      times.append(seconds(clock.now - start) / Double(inner))
    }
  default:
    print("unknown operation \(operation)")
    exit(2)
  }
} catch {
  print("error: \(error)")
  exit(1)
}
print(best(times))
