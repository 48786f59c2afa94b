import Foundation
import SystemPackage
import Testing

@testable import TensorIO

/// Paths and helpers shared by the tests.
enum Support {
  /// The package's root folder.
  static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The `Fixtures` folder.
  static let fixtures = root.appendingPathComponent("Fixtures")

  /// A fresh temporary folder.
  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tensortool-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Whether `python3 -c 'import numpy'` works on this machine.
  static let numpyAvailable: Bool = {
    guard let result = try? run(["python3", "-c", "import numpy"]) else { return false }
    return result.status == 0
  }()

  /// Runs `Tests/numpy_crosscheck.py MODE DIR`, in which numpy writes the files or the
  /// expectations a test compares against, and requires it to succeed.
  static func numpyWrites(_ mode: String, into dir: URL) throws {
    let result = try run(["python3", NumpyCrossCheckTests.script, mode, dir.path])
    try #require(result.status == 0, "numpy_crosscheck.py \(mode): \(result.stderr)")
  }

  /// Runs `python3 -c CODE ARGUMENTS...` and requires it to succeed.
  static func python(_ code: String, _ arguments: String...) throws {
    let result = try run(["python3", "-c", code] + arguments)
    try #require(result.status == 0, "python3: \(result.stderr)")
  }

  /// Runs the cross-check script `Tests/NAME` against the built `tensortool` in a fresh
  /// temporary folder and returns what it printed; requires it to succeed.
  static func crossCheck(_ name: String) throws -> String {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try run(["python3", root.appendingPathComponent("Tests/" + name).path, CLITests.binary, dir.path])
    try #require(result.status == 0, "\(name): \(result.stdout)\(result.stderr)")
    return result.stdout
  }

  /// Runs a program (looked up on PATH) and returns its exit status and output.
  static func run(_ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe()
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    if let stdin {
      let input = Pipe()
      process.standardInput = input
      try process.run()
      input.fileHandleForWriting.write(stdin)
      try input.fileHandleForWriting.close()
    } else {
      try process.run()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try err.close()
    let errData = (try? Data(contentsOf: errURL)) ?? Data()
    return (
      process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
  }

  /// The canonical bytes of an array: C order, little-endian, as the generator hashes them.
  static func canonicalBytes(_ array: NDArray) throws -> [UInt8] {
    let copy = try array.copy(order: .c, byteOrder: .little)
    return Array(copy.unsafeContiguousBytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
  }

  /// The bit patterns of every element, read through the typed accessor for the dtype's
  /// Swift type, in C order (complex: real and imaginary parts in turn).
  static func typedBits(_ array: NDArray) throws -> [UInt64]? {
    switch array.dtype.kind {
    case .bool: return try array.elements(as: Bool.self).map { $0 ? 1 : 0 }
    case .int(1): return try array.elements(as: Int8.self).map { UInt64(UInt8(bitPattern: $0)) }
    case .int(2): return try array.elements(as: Int16.self).map { UInt64(UInt16(bitPattern: $0)) }
    case .int(4): return try array.elements(as: Int32.self).map { UInt64(UInt32(bitPattern: $0)) }
    case .int(8): return try array.elements(as: Int64.self).map { UInt64(bitPattern: $0) }
    case .uint(1): return try array.elements(as: UInt8.self).map { UInt64($0) }
    case .uint(2): return try array.elements(as: UInt16.self).map { UInt64($0) }
    case .uint(4): return try array.elements(as: UInt32.self).map { UInt64($0) }
    case .uint(8): return try array.elements(as: UInt64.self)
    case .float(2): return try array.elements(as: Float16.self).map { UInt64($0.bitPattern) }
    case .float(4): return try array.elements(as: Float.self).map { UInt64($0.bitPattern) }
    case .float(8): return try array.elements(as: Double.self).map { $0.bitPattern }
    case .complex(8):
      return try array.elements(as: Complex<Float>.self).flatMap {
        [UInt64($0.real.bitPattern), UInt64($0.imaginary.bitPattern)]
      }
    case .complex(16):
      return try array.elements(as: Complex<Double>.self).flatMap { [$0.real.bitPattern, $0.imaginary.bitPattern] }
    default: return nil
    }
  }

  /// Little-endian units of `width` bytes read from canonical bytes.
  static func littleEndianUnits(_ bytes: [UInt8], width: Int) -> [UInt64] {
    stride(from: 0, to: bytes.count, by: width).map { start in
      var value: UInt64 = 0
      for i in (0..<width).reversed() { value = value << 8 | UInt64(bytes[start + i]) }
      return value
    }
  }

  /// The name of a reason's case, as the manifest spells it.
  static func caseName(_ reason: TensorIOError.Reason) -> String {
    switch reason {
    case .format(let reason): return leafName(reason)
    case .archive(.structure): return "archiveStructure"
    case .archive(.unsupported): return "unsupportedArchive"
    case .archive(let reason): return leafName(reason)
    case .array(let reason): return leafName(reason)
    case .access(let reason): return leafName(reason)
    case .device(.unavailable): return "deviceUnavailable"
    case .device(.call): return "deviceCall"
    case .device(.outOfMemory): return "outOfDeviceMemory"
    case .device(let reason): return leafName(reason)
    case .safetensors(.headerTooSmall): return "headerTooSmall"
    case .safetensors(.invalidUTF8): return "invalidUTF8"
    case .safetensors(let reason): return leafName(reason)
    case .system: return "system"
    case .notRegularFile: return "notRegularFile"
    case .destinationExists: return "destinationExists"
    case .internalFailure: return "internalFailure"
    }
  }

  /// The name of an enum case without its associated values (`truncatedData`): the
  /// label of its payload, or for a case without one, its name.
  private static func leafName(_ value: Any) -> String {
    if let label = Mirror(reflecting: value).children.first?.label { return label }
    switch value {
    case let v as FormatError where v == .badMagic: return "badMagic"
    case let v as FormatError where v == .objectDType: return "objectDType"
    case let v as FormatError where v == .dtypeHasNoDescr: return "dtypeHasNoDescr"
    case let v as ArchiveError where v == .memberNotWritable: return "memberNotWritable"
    case let v as ArrayError where v == .zeroStep: return "zeroStep"
    case let v as AccessError where v == .readOnly: return "readOnly"
    case let v as AccessError where v == .closed: return "closed"
    case let v as AccessError where v == .requiresGrad: return "requiresGrad"
    case let v as DeviceError where v == .hostHasNoBackend: return "hostHasNoBackend"
    default: return "\(value)"
    }
  }
}

/// `Fixtures/manifest.json`, written by `Fixtures/generate.py`.
struct Manifest: Decodable {
  struct Valid: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var writtenBy: String
    var version: String
    var descr: String
    var dtype: String
    var itemsize: Int
    var shape: [Int]
    var fortranOrder: Bool
    var headerFortranOrder: Bool
    var count: Int
    var headerLength: Int
    var dataOffset: Int
    var dataBytes: Int
    var sha256: String
    var resaveSha256: String
    var maxHeaderSize: Int?
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  struct Malformed: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var reason: String
    var numpy: String
    var maxHeaderSize: Int?
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  struct NPZMember: Decodable, Sendable {
    var name: String
    var key: String
    var compression: String
    var compressedBytes: Int
    var uncompressedBytes: Int
    var crc32: UInt32
    var dataDescriptor: Bool
    var sha256Member: String
    var descr: String?
    var shape: [Int]?
    var fortranOrder: Bool?
    var count: Int?
    var dataBytes: Int?
    var sha256: String?
  }

  struct NPZValid: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var writtenBy: String
    var members: [NPZMember]
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  struct NPZMalformed: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var reason: String
    var numpy: String
    var member: String?
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  struct SafetensorsTensor: Decodable, Sendable {
    var name: String
    var dtype: String
    var shape: [Int]
    var sha256: String
    var float32Sha256: String?
  }

  struct SafetensorsValid: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var writtenBy: String
    var metadata: [String: String]
    var tensors: [SafetensorsTensor]
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  struct SafetensorsMalformed: Decodable, CustomTestStringConvertible, Sendable {
    var file: String
    var reason: String
    var reference: String
    var testDescription: String { file }
    var path: String { Support.fixtures.appendingPathComponent(file).path }
  }

  var numpyVersion: String
  var valid: [Valid]
  var malformed: [Malformed]
  var npzValid: [NPZValid]
  var npzMalformed: [NPZMalformed]
  var safetensorsValid: [SafetensorsValid]
  var safetensorsMalformed: [SafetensorsMalformed]

  static let shared: Manifest = {
    let url = Support.fixtures.appendingPathComponent("manifest.json")
    do {
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      return try decoder.decode(Manifest.self, from: Data(contentsOf: url))
    } catch {
      return Manifest(
        numpyVersion: "unreadable manifest: \(error)", valid: [], malformed: [], npzValid: [], npzMalformed: [],
        safetensorsValid: [], safetensorsMalformed: [])
    }
  }()
}
