/// Little-endian reading of ZIP records from bytes, every access bounds-checked.
struct ByteReader {
  let bytes: [UInt8]
  var position: Int

  init(_ bytes: [UInt8], at position: Int = 0) {
    self.bytes = bytes
    self.position = position
  }

  var remaining: Int { bytes.count - position }

  static let truncated = TensorIOError(.structure("a zip record is truncated"))

  mutating func uint16() throws(TensorIOError) -> UInt16 {
    guard remaining >= 2 else { throw ByteReader.truncated }
    defer { position += 2 }
    return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
  }

  mutating func uint32() throws(TensorIOError) -> UInt32 {
    guard remaining >= 4 else { throw ByteReader.truncated }
    var value: UInt32 = 0
    for i in (0..<4).reversed() { value = value << 8 | UInt32(bytes[position + i]) }
    position += 4
    return value
  }

  mutating func uint64() throws(TensorIOError) -> UInt64 {
    guard remaining >= 8 else { throw ByteReader.truncated }
    var value: UInt64 = 0
    for i in (0..<8).reversed() { value = value << 8 | UInt64(bytes[position + i]) }
    position += 8
    return value
  }

  mutating func take(_ count: Int) throws(TensorIOError) -> ArraySlice<UInt8> {
    guard count >= 0, remaining >= count else { throw ByteReader.truncated }
    defer { position += count }
    return bytes[position..<(position + count)]
  }

  /// A ZIP64 field value as a non-negative `Int`.
  mutating func size64() throws(TensorIOError) -> Int {
    let value = try uint64()
    guard value <= UInt64(Int.max) else { throw ByteReader.truncated }
    return Int(value)
  }
}

/// Little-endian writing of ZIP records.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func uint16(_ value: UInt16) {
    bytes.append(UInt8(truncatingIfNeeded: value))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
  }

  mutating func uint32(_ value: UInt32) {
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
  }

  mutating func uint64(_ value: UInt64) {
    for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
  }

  mutating func append<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }
}

/// Signatures, sizes and flags of the ZIP format (APPNOTE.TXT).
enum Zip {
  static let localHeaderSignature: UInt32 = 0x0403_4B50
  static let centralHeaderSignature: UInt32 = 0x0201_4B50
  static let endSignature: UInt32 = 0x0605_4B50
  static let zip64EndSignature: UInt32 = 0x0606_4B50
  static let zip64LocatorSignature: UInt32 = 0x0706_4B50
  static let localHeaderSize = 30
  static let centralHeaderSize = 46
  static let endSize = 22
  static let zip64EndSize = 56
  static let zip64LocatorSize = 20
  static let zip64ExtraID: UInt16 = 0x0001
  /// The extra-field ID zipalign uses for alignment padding.
  static let alignmentExtraID: UInt16 = 0xD935
  /// TensorIO's extra field ("Tt") in a deflated member's central directory entry:
  /// its restart points, each as two 8-byte little-endian offsets (uncompressed, then
  /// compressed). Other readers skip unknown extra fields.
  static let restartExtraID: UInt16 = 0x7454
  /// Flag bit 0: encrypted.
  static let flagEncrypted: UInt16 = 0x0001
  /// Flag bit 3: sizes and CRC follow the data in a data descriptor.
  static let flagDataDescriptor: UInt16 = 0x0008
  /// Flag bit 6: strong encryption.
  static let flagStrongEncryption: UInt16 = 0x0040
  /// Flag bit 11: the name is UTF-8.
  static let flagUTF8: UInt16 = 0x0800
  static let methodStored: UInt16 = 0
  static let methodDeflate: UInt16 = 8
  /// The most a deflate stream can expand (zlib's limit is 1032:1), with room for
  /// tiny members.
  static let maxDeflateRatio = 1032

  /// Names of compression methods, for errors.
  static func methodName(_ method: UInt16) -> String {
    switch method {
    case 0: return "stored"
    case 8: return "deflate"
    case 9: return "deflate64"
    case 12: return "bzip2"
    case 14: return "LZMA"
    case 93: return "zstd"
    case 95: return "xz"
    case 99: return "AES encryption"
    default: return "method \(method)"
    }
  }

  /// Decodes a member name: UTF-8 when flag bit 11 says so, else code page 437 (as
  /// Python's zipfile does).
  static func decodeName(_ bytes: ArraySlice<UInt8>, utf8: Bool) -> String? {
    if utf8 || bytes.allSatisfy({ $0 < 0x80 }) {
      return String(validating: bytes, as: UTF8.self)
    }
    var scalars = String.UnicodeScalarView()
    for byte in bytes {
      if byte < 0x80 {
        scalars.append(Unicode.Scalar(byte))
      } else if let scalar = cp437High[Int(byte - 0x80)].unicodeScalars.first {
        scalars.append(scalar)
      }
    }
    return String(scalars)
  }

  private static let cp437High: [String] = Array(
    "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}"
  ).map(String.init)
}
