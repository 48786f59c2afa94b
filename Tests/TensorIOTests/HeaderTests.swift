import Testing

@testable import TensorIO

@Suite("NPY header parsing and writing")
struct HeaderTests {
  func literal(_ text: String, v1: Bool = true) throws -> PythonLiteral {
    try PythonLiteralParser.parse(Array(text.unicodeScalars), allowsLongSuffix: v1)
  }

  func header(_ text: String, version: UInt8 = 1, data: Int = 1 << 20) throws(TensorIOError) -> NPYHeader {
    var bytes = NPYHeader.magic + [version, 0]
    let body = Array(text.utf8)
    if version == 1 {
      bytes += [UInt8(body.count & 0xff), UInt8(body.count >> 8)]
    } else {
      bytes += (0..<4).map { UInt8(truncatingIfNeeded: body.count >> (8 * $0)) }
    }
    bytes += body
    return try typedThrows { try bytes.withUnsafeBytes { try NPYHeader.parse($0) } }
  }

  func reason(_ text: String, version: UInt8 = 1) -> String {
    do {
      _ = try header(text, version: version)
      return "accepted"
    } catch {
      return Support.caseName(error.reason)
    }
  }

  @Test("Python literals: strings, numbers, containers")
  func literals() throws {
    #expect(try literal("'a\\'b'") == .string("a'b"))
    #expect(try literal("\"x\\ty\\x41\\u00e9\\U0001F600\\101\"") == .string("x\tyAé😀A"))
    #expect(try literal("r'\\n'") == .string("\\n"))
    #expect(try literal("b'\\x00\\xff'") == .bytes([0, 255]))
    #expect(try literal("'''tri'ple'''") == .string("tri'ple"))
    #expect(try literal("'a' \"b\" 'c'") == .string("abc"))
    #expect(
      try literal("(1, -2, +3, 0x1F, 0o17, 0b101, 1_000,)") == .tuple([1, -2, 3, 31, 15, 5, 1000].map { .integer($0) }))
    #expect(try literal("(3)") == .integer(3))
    #expect(try literal("()") == .tuple([]))
    #expect(
      try literal("[1, (2,), {'a': None}, {1, 2}]")
        == .list([
          .integer(1), .tuple([.integer(2)]), .dict([.init(key: .string("a"), value: .none)]),
          .set([.integer(1), .integer(2)]),
        ]))
    #expect(try literal("99999999999999999999999") == .bigInteger("99999999999999999999999"))
    #expect(try literal("-99999999999999999999999") == .bigInteger("-99999999999999999999999"))
    #expect(try literal("1.5e3") == .float(1500))
    #expect(try literal("1+2j") == .complex(real: 1, imaginary: 2))
    #expect(try literal("True") == .bool(true))
    #expect(try literal("(3L, 4 L)") == .tuple([.integer(3), .integer(4)]))
    #expect(throws: PythonLiteralParser.SyntaxError.self) { try literal("(3L,)", v1: false) }
    for bad in [
      "1+1", "x", "(3*2,)", "f'a'", "'unterminated", "{'a': 1", "--3", "-True", "03", "1__0", "lambda: 1", "{**d}",
      "[1 2]", "'\\N{DASH}'", "'a\nb'",
    ] {
      #expect(throws: PythonLiteralParser.SyntaxError.self, "\(bad)") { try literal(bad) }
    }
  }

  @Test("repr matches Python's")
  func reprs() {
    #expect(PyRepr.repr(.string("a'b")) == "\"a'b\"")
    #expect(PyRepr.repr(.string("a'b\"")) == "'a\\'b\"'")
    #expect(PyRepr.repr(.string("tab\there\u{7f}\u{a0}é日本\u{200b}")) == "'tab\\there\\x7f\\xa0é日本\\u200b'")
    #expect(PyRepr.repr(.tuple([.integer(3)])) == "(3,)")
    #expect(PyRepr.repr(.tuple([])) == "()")
    #expect(
      PyRepr.repr(.list([.tuple([.string("a"), .string("<f4"), .tuple([.integer(2), .integer(2)])])]))
        == "[('a', '<f4', (2, 2))]")
  }

  @Test("type strings normalise as numpy's dtype.str")
  func typeStrings() throws {
    let cases: [(String, String)] = [
      ("<f4", "<f4"), ("=d", "<f8"), ("|f4", "<f4"), ("i", "<i4"), ("float32", "<f4"), ("b1", "|b1"), ("<b1", "|b1"),
      (">i1", "|i1"), ("?", "|b1"), ("S5", "|S5"), ("a5", "|S5"), (">U2", ">U2"), ("|U2", "<U2"), ("V8", "|V8"),
      ("<q", "<i8"), (">Q", ">u8"), ("e", "<f2"), ("D", "<c16"), ("F", "<c8"), ("i08", "<i8"), ("complex", "<c16"),
      ("intp", "<i8"), ("bool", "|b1"), ("h", "<i2"), ("B", "|u1"),
      ("<M8[ns]", "<M8[ns]"), (">m8[10s]", ">m8[10s]"), ("M8", "<M8"), ("m8[007D]", "<m8[7D]"), ("M8[1Y]", "<M8[Y]"),
      ("datetime64", "<M8"), ("m8[0s]", "<m8[0s]"),
      ("f16", "<f16"), (">f16", ">f16"), ("g", "<f16"), ("G", "<c32"), ("longdouble", "<f16"), ("complex256", "<c32"),
    ]
    for (input, expected) in cases {
      #expect(try DType(typeString: input).typeString == expected, "\(input)")
    }
    let refused: [(String, String)] = [
      ("O", "objectDType"), ("|O", "objectDType"), ("object", "objectDType"), ("<M8[xs]", "invalidDescr"),
      ("M8[-2s]", "invalidDescr"), ("M4[s]", "invalidDescr"), ("M8[s", "invalidDescr"),
      ("f12", "unsupportedDType"), ("c24", "unsupportedDType"), ("U", "unsupportedDType"),
      ("i3", "invalidDescr"), ("<float32", "invalidDescr"), ("f4 ", "invalidDescr"), ("", "invalidDescr"),
      ("!f4", "invalidDescr"),
      ("c4", "invalidDescr"), ("b2", "invalidDescr"),
    ]
    for (input, expected) in refused {
      #expect(throws: TensorIOError.self) { try DType(typeString: input) }
      do {
        _ = try DType(typeString: input)
      } catch {
        #expect(Support.caseName(error.reason) == expected, "\(input): \(error)")
      }
    }
  }

  @Test("header checks follow numpy's")
  func headerChecks() {
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}") == "accepted")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}") == "invalidShape")
    #expect(reason("{'descr': '<f4', 'fortran_order': 1, 'shape': (3,)}") == "invalidFortranOrder")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 1: 2}") == "headerKeys")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}", version: 3) == "headerSyntax")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,)}", version: 2) == "accepted")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}") == "negativeDimension")
    #expect(
      reason("{'descr': '<f4', 'fortran_order': False, 'shape': (-99999999999999999999,)}") == "negativeDimension")
    #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,)}") == "shapeOverflow")
    #expect(reason("{'descr': [('a', '<f4', (-1,))], 'fortran_order': False, 'shape': (1,)}") == "invalidDescr")
    #expect(
      reason("{'descr': [('a', '<f4', (1099511627776, 1099511627776))], 'fortran_order': False, 'shape': (1,)}")
        == "shapeOverflow")
    #expect(reason("{'descr': [], 'fortran_order': False, 'shape': (1,)}") == "unsupportedDType")
    #expect(reason("{'descr': ('<f4', (2,)), 'fortran_order': False, 'shape': (1,)}") == "unsupportedDType")
    #expect(reason("\n{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}") == "accepted")
    #expect(reason("  {'descr': '<f4', 'fortran_order': False, 'shape': (3,)}") == "accepted")
    #expect(reason("\n  {'descr': '<f4', 'fortran_order': False, 'shape': (3,)}") == "headerSyntax")
  }

  @Test("written headers are numpy's, version chosen as numpy chooses")
  func encoding() throws {
    let (h, bytes) = try NPYHeader(dtype: .float32, shape: [3], fortranOrder: false).encoded()
    let text = String(decoding: bytes[10...], as: UTF8.self)
    #expect(
      text == "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + String(repeating: " ", count: 60) + "\n")
    #expect(bytes.count == 128 && h.dataOffset == 128 && h.version == .v1)
    let f = try NPYHeader(dtype: .int16, shape: [2, 345], fortranOrder: true).encoded()
    #expect(
      String(decoding: f.bytes, as: UTF8.self).contains("'shape': (2, 345), }" + String(repeating: " ", count: 18)))
    let utf8 = DType(.structured(fields: [.init(name: "温度", dtype: .float32, offset: 0)], itemSize: 4))
    #expect(try NPYHeader(dtype: utf8, shape: [1], fortranOrder: false).encoded().header.version == .v3)
    let latin = DType(.structured(fields: [.init(name: "é", dtype: .float32, offset: 0)], itemSize: 4))
    #expect(try NPYHeader(dtype: latin, shape: [1], fortranOrder: false).encoded().header.version == .v1)
    let wide = DType(
      .structured(fields: (0..<5000).map { .init(name: "field\($0)", dtype: .uint8, offset: $0) }, itemSize: 5000))
    let v2 = try NPYHeader(dtype: wide, shape: [1], fortranOrder: false).encoded()
    #expect(v2.header.version == .v2 && v2.bytes.count % 64 == 0)
    // Every written header parses back to the same header.
    for (header, bytes) in [(h, bytes), f, v2] {
      let parsed = try bytes.withUnsafeBytes { try NPYHeader.parse($0, maxHeaderSize: 1 << 20) }
      #expect(parsed == header)
    }
    let overlapping = DType(
      .structured(
        fields: [.init(name: "a", dtype: .int32, offset: 0), .init(name: "b", dtype: .int32, offset: 2)], itemSize: 8))
    #expect(throws: TensorIOError.self) { try NPYHeader(dtype: overlapping, shape: [1], fortranOrder: false).encoded() }
  }
}
