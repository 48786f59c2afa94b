import ArgumentParser
import SystemPackage
import TensorIO

/// `tensortool show FILE [INDEX]`: the values, printed as numpy prints them.
struct Show: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print an array or a slice of it exactly as numpy's print(a[INDEX]) does.",
    discussion: """
      FILE is a FILE spec (path.npy, path.npz:member, - for npy bytes on standard
      input). INDEX is numpy basic indexing, brackets optional: integers (negative ones
      count from the end), slices start:stop:step with any part left out, and one ...;
      quote it for the shell. Only the elements shown are read: the file is mapped.
      The options are np.set_printoptions' (defaults: threshold 1000, edgeitems 3,
      precision 8, linewidth 75). --json prints {"path", "index", "descr", "shape",
      "values"} with every value exact (floats as their shortest round-trip decimal,
      nan and infinities as strings).

      Examples:
        tensortool show weights.npy '[0, :5]'
        tensortool show model.npz:embeddings -- -1 --precision 4
      """
  )

  @Argument(help: ArgumentHelp("The array.", valueName: "FILE"))
  var file: String

  @Argument(help: ArgumentHelp("numpy basic index, e.g. '[0, ::2, ...]'.", valueName: "INDEX"))
  var index: String = ""

  @Option(help: ArgumentHelp("Summarise arrays with more elements than this.", valueName: "N"))
  var threshold: Int?

  @Option(help: ArgumentHelp("Elements shown at each end of a summarised axis.", valueName: "N"))
  var edgeitems: Int?

  @Option(help: ArgumentHelp("Digits after the decimal point at most.", valueName: "N"))
  var precision: Int?

  @Option(help: ArgumentHelp("Characters per line.", valueName: "N"))
  var linewidth: Int?

  @Option(help: ArgumentHelp("Select this field of a structured array first.", valueName: "NAME"))
  var field: String?

  @Flag(help: "Print JSON: the values as nested lists, exact.")
  var json = false

  @OptionGroup var options: ReadOptions

  func validate() throws {
    for (name, value) in [("--threshold", threshold), ("--edgeitems", edgeitems), ("--precision", precision)] {
      if let value, value < 0 { throw ValidationError("\(name) must be >= 0") }
    }
    if let linewidth, linewidth < 1 { throw ValidationError("--linewidth must be positive") }
  }

  func run() throws {
    try runEdit {
      let spec = FileSpec(file)
      do {
        let parsed = try ArrayIndex(parsing: index)
        let printOptions = PrintOptions(
          threshold: threshold, edgeItems: edgeitems, precision: precision, lineWidth: linewidth)
        if let (archive, key) = try spec.archiveMember(maxHeaderSize: options.maxHeaderSize),
          try !archive.info(key).isMappable
        {
          // A deflated member: inflated only as far as the last element shown.
          var layout = try archive.info(key).header.layout
          if let field { layout = try layout.field(field) }
          let scalar = !index.isEmpty && parsed.selectsElement(rank: layout.shape.count)
          if json {
            let selected = try archive.selection(key, index: parsed, field: field)
            try ShowJSON.print(path: spec.description, index: parsed, layout: selected) {
              (write) throws(TensorIOError) in
              try archive.writeValuesJSON(key, index: parsed, field: field, write)
            }
          } else {
            print(try archive.printed(key, index: parsed, field: field, options: printOptions, scalar: scalar))
          }
          return
        }
        var array = try spec.openArray(maxHeaderSize: options.maxHeaderSize, upcast: true)
        if let field { array = try array.field(field) }
        // No INDEX prints the array itself (a 0-d array stays one); an index, even
        // `[()]`, gives numpy's scalar when it picks one element.
        let scalar = !index.isEmpty && parsed.selectsElement(rank: array.rank)
        array = try array.subscripted(parsed)
        if json {
          let selected = array
          try ShowJSON.print(path: spec.description, index: parsed, layout: array.layout) {
            (write) throws(TensorIOError) in try selected.writeValuesJSON(write)
          }
        } else {
          print(try array.printed(options: printOptions, scalar: scalar))
        }
      } catch let error as TensorIOError where error.path == nil {
        throw error.naming(spec.description)
      }
    }
  }
}
