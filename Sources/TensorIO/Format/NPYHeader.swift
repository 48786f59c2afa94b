/// The header of an `.npy` file: format version, dtype, shape and memory order, and
/// where the array's bytes start.
public struct NPYHeader: Sendable, Hashable {
  /// An `.npy` format version (1.0, 2.0 or 3.0).
  public struct Version: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The major version.
    public var major: UInt8
    /// The minor version.
    public var minor: UInt8
    /// Format 1.0: 2-byte header length, latin-1 header.
    public static let v1 = Version(major: 1, minor: 0)
    /// Format 2.0: 4-byte header length, latin-1 header.
    public static let v2 = Version(major: 2, minor: 0)
    /// Format 3.0: 4-byte header length, UTF-8 header.
    public static let v3 = Version(major: 3, minor: 0)

    /// `"1.0"`, `"2.0"`, `"3.0"`.
    public var description: String { "\(major).\(minor)" }

    /// Bytes of the header-length field: 2 for 1.0, 4 for 2.0 and 3.0.
    public var lengthFieldSize: Int { major == 1 ? 2 : 4 }

    /// Orders versions by major, then minor number.
    public static func < (a: Version, b: Version) -> Bool {
      (a.major, a.minor) < (b.major, b.minor)
    }
  }

  /// The format version.
  public var version: Version
  /// The element type.
  public var dtype: DType
  /// The array's shape; empty for a 0-d array.
  public var shape: [Int]
  /// Whether the data is in Fortran (column-major) order.
  public var fortranOrder: Bool
  /// The HEADER_LEN field: bytes of header text, padding and newline included.
  public var headerLength: Int

  /// The 6-byte magic string every `.npy` file starts with.
  public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

  /// numpy's default `max_header_size`.
  public static let defaultMaxHeaderSize = 10_000

  /// The most dimensions numpy supports.
  public static let maxDimensions = 64

  /// Creates a header for an array; `headerLength` is computed by `encoded()` when the
  /// header is written, so 0 here means "not yet laid out".
  public init(dtype: DType, shape: [Int], fortranOrder: Bool, version: Version = .v1, headerLength: Int = 0) {
    self.dtype = dtype
    self.shape = shape
    self.fortranOrder = fortranOrder
    self.version = version
    self.headerLength = headerLength
  }

  /// Offset of the first data byte: magic, version, length field and header text.
  public var dataOffset: Int { 6 + 2 + version.lengthFieldSize + headerLength }

  /// Number of elements (1 for a 0-d array, 0 for an empty one).
  public var count: Int { shape.reduce(1, *) }

  /// Bytes of array data: `count * itemSize`.
  public var dataBytes: Int { count * dtype.itemSize }

  /// The layout of the data in memory: contiguous in the header's order.
  public var layout: ArrayLayout {
    ArrayLayout(
      dtype: dtype, shape: shape,
      strides: ArrayLayout.contiguousStrides(
        shape: shape, itemSize: dtype.itemSize, order: fortranOrder ? .fortran : .c))
  }
}

extension NPYHeader {
  /// The preamble of an `.npy` file: version and header length, read from its first
  /// 10 or 12 bytes.
  public struct Preamble: Sendable, Hashable {
    /// The format version.
    public var version: NPYHeader.Version
    /// The HEADER_LEN field.
    public var headerLength: Int
    /// Offset of the header text (10 for 1.0, 12 for 2.0 and 3.0).
    public var headerStart: Int { 8 + version.lengthFieldSize }
  }

  /// Reads the preamble from the first bytes of a file (`fileSize` is the whole file's
  /// size, for the error message).
  public static func preamble(_ bytes: UnsafeRawBufferPointer) throws(TensorIOError) -> Preamble {
    guard bytes.count >= 8 else {
      if !bytes.elementsEqual(magic.prefix(bytes.count)) { throw TensorIOError(.badMagic) }
      throw TensorIOError(.truncatedPreamble(fileSize: bytes.count))
    }
    guard bytes.prefix(6).elementsEqual(magic) else { throw TensorIOError(.badMagic) }
    let version = Version(major: bytes[6], minor: bytes[7])
    guard version == .v1 || version == .v2 || version == .v3 else {
      throw TensorIOError(.unsupportedVersion(major: version.major, minor: version.minor))
    }
    let fieldEnd = 8 + version.lengthFieldSize
    guard bytes.count >= fieldEnd else { throw TensorIOError(.truncatedPreamble(fileSize: bytes.count)) }
    var length = 0
    for i in (8..<fieldEnd).reversed() { length = length << 8 | Int(bytes[i]) }
    return Preamble(version: version, headerLength: length)
  }

  /// Parses the header text (the `headerLength` bytes after the preamble), applying
  /// numpy's checks: `max_header_size`, a dict with exactly the keys `descr`,
  /// `fortran_order` and `shape`, a tuple of non-negative integers whose byte size fits
  /// in memory, a bool order and a known dtype.
  public static func parse(
    preamble: Preamble,
    text bytes: UnsafeRawBufferPointer,
    maxHeaderSize: Int = defaultMaxHeaderSize
  ) throws(TensorIOError) -> NPYHeader {
    let scalars: [Unicode.Scalar]
    if preamble.version == .v3 {
      // A UTF-8 character is at least one byte: refuse before decoding what cannot fit.
      if maxHeaderSize < Int.max / 4, bytes.count > 4 * maxHeaderSize {
        throw TensorIOError(.headerTooLarge(length: bytes.count, limit: maxHeaderSize))
      }
      guard let text = String(validating: bytes, as: UTF8.self) else {
        throw TensorIOError(.headerEncoding("not valid UTF-8 (format 3.0)"))
      }
      scalars = Array(text.unicodeScalars)
    } else {
      scalars = bytes.map { Unicode.Scalar($0) }
    }
    if scalars.count > maxHeaderSize {
      throw TensorIOError(.headerTooLarge(length: scalars.count, limit: maxHeaderSize))
    }
    if scalars.contains("\0") { throw TensorIOError(.headerSyntax("header contains a NUL character")) }
    let literal: PythonLiteral
    do {
      literal = try PythonLiteralParser.parse(scalars, allowsLongSuffix: preamble.version < .v3)
    } catch {
      throw TensorIOError(.headerSyntax("\(error.message) at character \(error.position)"))
    }
    guard case .dict(let entries) = literal else {
      throw TensorIOError(.headerNotDictionary(found: literal.typeName))
    }
    var descr: PythonLiteral?
    var fortran: PythonLiteral?
    var shape: PythonLiteral?
    var otherKeys: [String] = []
    for entry in entries {
      switch entry.key {
      case .string("descr"): descr = entry.value
      case .string("fortran_order"): fortran = entry.value
      case .string("shape"): shape = entry.value
      default:
        let key = PyRepr.repr(entry.key)
        if !otherKeys.contains(key) { otherKeys.append(key) }
      }
    }
    guard let descr, let fortran, let shape, otherKeys.isEmpty else {
      var keys = otherKeys
      if descr != nil { keys.append("'descr'") }
      if fortran != nil { keys.append("'fortran_order'") }
      if shape != nil { keys.append("'shape'") }
      throw TensorIOError(.headerKeys(keys.sorted()))
    }
    guard case .tuple(let dims) = shape else { throw TensorIOError(.invalidShape(PyRepr.repr(shape))) }
    var parsedShape: [Int] = []
    parsedShape.reserveCapacity(dims.count)
    for dim in dims {
      switch dim {
      case .integer(let n):
        if n < 0 { throw TensorIOError(.negativeDimension(n)) }
        parsedShape.append(n)
      case .bigInteger(let digits):
        if digits.hasPrefix("-") { throw TensorIOError(.negativeDimension(Int.min)) }
        throw TensorIOError(.shapeOverflow(PyRepr.repr(shape)))
      default:
        throw TensorIOError(.invalidShape(PyRepr.repr(shape)))
      }
    }
    if parsedShape.count > maxDimensions { throw TensorIOError(.tooManyDimensions(parsedShape.count)) }
    guard case .bool(let isFortran) = fortran else {
      throw TensorIOError(.invalidFortranOrder(PyRepr.repr(fortran)))
    }
    let dtype = try DType(descr: descr)
    // numpy: the byte size, ignoring zero dimensions, must fit in a signed machine integer.
    var bytesTotal = dtype.itemSize
    for dim in parsedShape where dim != 0 {
      let (product, overflow) = bytesTotal.multipliedReportingOverflow(by: dim)
      if overflow { throw TensorIOError(.shapeOverflow(PyRepr.repr(shape))) }
      bytesTotal = product
    }
    return NPYHeader(
      dtype: dtype, shape: parsedShape, fortranOrder: isFortran,
      version: preamble.version, headerLength: preamble.headerLength)
  }

  /// Parses a complete header from the start of a file's bytes (which must hold at
  /// least the preamble and header text; data may follow).
  public static func parse(
    _ bytes: UnsafeRawBufferPointer, maxHeaderSize: Int = defaultMaxHeaderSize
  ) throws(TensorIOError) -> NPYHeader {
    let pre = try preamble(bytes)
    let available = bytes.count - pre.headerStart
    guard pre.headerLength <= available else {
      throw TensorIOError(.truncatedHeader(declared: pre.headerLength, available: available))
    }
    let text = UnsafeRawBufferPointer(rebasing: bytes[pre.headerStart..<(pre.headerStart + pre.headerLength)])
    return try parse(preamble: pre, text: text, maxHeaderSize: maxHeaderSize)
  }
}

extension NPYHeader {
  /// Reads and checks the header of `.npy` bytes `length` long (a file, or an npz
  /// member), fetching bytes through `bytes(range)` (which may return fewer at the end):
  /// the preamble, the header length against `length` and `maxHeaderSize` (refused
  /// before the header is fetched), the header itself, and that the data it promises
  /// fits in `length`.
  static func read(
    length: Int, maxHeaderSize: Int, bytes: (Range<Int>) throws(TensorIOError) -> [UInt8]
  ) throws(TensorIOError) -> NPYHeader {
    let head = try bytes(0..<min(4096, length))
    let preamble = try typedThrows { try head.withUnsafeBytes { try NPYHeader.preamble($0) } }
    let available = length - preamble.headerStart
    guard preamble.headerLength <= available else {
      throw TensorIOError(.truncatedHeader(declared: preamble.headerLength, available: max(0, available)))
    }
    // Latin-1 is a byte a character, UTF-8 at least a byte a character.
    let bytesPerChar = preamble.version == .v3 ? 4 : 1
    if maxHeaderSize < Int.max / 4, preamble.headerLength > maxHeaderSize * bytesPerChar {
      throw TensorIOError(.headerTooLarge(length: preamble.headerLength, limit: maxHeaderSize))
    }
    let end = preamble.headerStart + preamble.headerLength
    let text = end <= head.count ? Array(head[preamble.headerStart..<end]) : try bytes(preamble.headerStart..<end)
    guard text.count == preamble.headerLength else {
      throw TensorIOError(.truncatedHeader(declared: preamble.headerLength, available: text.count))
    }
    let header = try typedThrows {
      try text.withUnsafeBytes { try NPYHeader.parse(preamble: preamble, text: $0, maxHeaderSize: maxHeaderSize) }
    }
    guard header.dataBytes <= length - header.dataOffset else {
      throw TensorIOError(.truncatedData(expected: header.dataBytes, available: length - header.dataOffset))
    }
    return header
  }
}
