// libFuzzer target: a raw deflate stream (numpy's deflated members have no restart
// points) inflated on two cores by SplitInflate, with sizes small enough that inputs of
// a few hundred KiB take every route: cut search, head, tail behind two stand-ins,
// middle behind the real window. Whatever the bytes: no access outside the buffers (ASan),
// the input restored, and a split that calls itself complete must give exactly what one
// pass gives. The block walker the deflate writer uses runs over the same bytes. Built
// and run by scripts/fuzz (swiftc -sanitize=fuzzer,address).
@testable import TensorIO

let tuning = SplitInflate.Tuning(minimumInput: 0, minimumOutput: 1 << 16, checkLength: 1 << 16, minimumMiddle: 1 << 14)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSplitInflate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  // The first three bytes: the output's size (up to 16 MiB); the rest: the stream.
  guard size > 3 else { return 0 }
  let capacity = Int(data[0]) | Int(data[1]) << 8 | Int(data[2]) << 16
  var input = Array(UnsafeBufferPointer(start: data + 3, count: size - 3))
  let original = input
  _ = original.withUnsafeBytes { DeflateWalker.ends(of: $0) }
  var split = [UInt8](repeating: 0, count: capacity)
  let result = input.withUnsafeMutableBytes { i in
    split.withUnsafeMutableBytes { SplitInflate.split(i, into: $0, tuning: tuning) }
  }
  precondition(input == original, "the input was not restored")
  guard let (outcome, _) = result else { return 0 }
  var whole = [UInt8](repeating: 0, count: capacity)
  let one = original.withUnsafeBytes { i in whole.withUnsafeMutableBytes { WholeInflate.inflate(i, into: $0) } }
  precondition(outcome == one && split == whole, "the split inflate disagrees with one pass")
  return 0
}
