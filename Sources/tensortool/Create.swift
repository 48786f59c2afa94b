import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool create DST.npy --dtype DESCR --shape N[,N...]`: a new array file.
struct Create: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Create a new .npy of zeros (a sparse file, instant at any size) or of one value.",
    discussion: """
      The header is the one np.lib.format.open_memmap(DST, mode='w+', ...) writes.
      --fill takes the dtype's value: an integer, a float (nan, inf, -inf), true or
      false, or for datetime64/timedelta64 a count of the unit or NaT; it is cast as
      numpy's astype does. An existing DST is not replaced without --force.

      Examples:
        tensortool create big.npy --dtype '<f4' --shape 100000,100000
        tensortool create mask.npy --dtype bool --shape 1024,1024 --fill true
      """
  )

  @Argument(help: ArgumentHelp("The file to create.", valueName: "DST.npy"))
  var destination: String

  @Option(help: ArgumentHelp("The dtype: a numpy descr such as '<f4', 'int64', '<M8[s]'.", valueName: "DESCR"))
  var dtype: String

  @Option(help: ArgumentHelp("The shape: comma-separated lengths (empty for a 0-d array).", valueName: "N[,N...]"))
  var shape: String

  @Option(help: ArgumentHelp("Memory order: C or F.", valueName: "C|F"))
  var order: Convert.OrderArgument = .c

  @Option(help: ArgumentHelp("The value of every element (default: zeros).", valueName: "VALUE"))
  var fill: String?

  @Flag(help: "Replace an existing DST.")
  var force = false

  @OptionGroup var writing: WriteOptions

  func run() throws {
    try runEdit {
      let dtype = try DType(typeString: dtype)
      let lengths = try shape.split(separator: ",", omittingEmptySubsequences: true).map { part -> Int in
        let text = String(part.filter { $0 != " " })
        guard let n = Int(text), n >= 0 else { throw CommandError("not a length: '\(text)'", path: "--shape") }
        return n
      }
      try NPYFile.create(
        at: FilePath(destination), dtype: dtype, shape: lengths, order: order == .f ? .fortran : .c,
        fill: try fill.map { try Self.value($0, for: dtype) }, overwrite: force,
        durability: writing.durability)
    }
  }

  /// `text` as a one-element array to cast to `dtype`.
  static func value(_ text: String, for dtype: DType) throws -> NDArray {
    let lower = text.lowercased()
    if dtype.isTime {
      if lower == "nat" { return try NDArray([Int64.min], shape: [1]) }
      guard let count = Int64(text) else { throw CommandError("not a count or NaT: '\(text)'", path: "--fill") }
      return try NDArray([count], shape: [1])
    }
    guard dtype.isNumeric else { throw CommandError("only numeric and time dtypes take a fill value", path: "--fill") }
    switch lower {
    case "true": return try NDArray([true], shape: [1])
    case "false": return try NDArray([false], shape: [1])
    default: break
    }
    if let integer = Int64(text) { return try NDArray([integer], shape: [1]) }
    if let unsigned = UInt64(text) { return try NDArray([unsigned], shape: [1]) }
    if let real = Double(text) { return try NDArray([real], shape: [1]) }
    throw CommandError("not a number: '\(text)'", path: "--fill")
  }
}
