import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("Fixtures written by numpy")
struct FixtureTests {
  @Test("the manifest lists every fixture category")
  func manifestIsComplete() {
    let manifest = Manifest.shared
    #expect(manifest.valid.count >= 80, "\(manifest.numpyVersion)")
    #expect(manifest.malformed.count >= 60)
    let files = try? FileManager.default.contentsOfDirectory(
      atPath: Support.fixtures.appendingPathComponent("valid").path)
    #expect(files?.count == manifest.valid.count)
    let reasons = Set(manifest.malformed.map(\.reason))
    for reason in [
      "badMagic", "unsupportedVersion", "truncatedPreamble", "truncatedHeader", "headerTooLarge", "headerSyntax",
      "headerNotDictionary", "headerKeys", "invalidShape", "negativeDimension", "shapeOverflow",
      "invalidFortranOrder", "invalidDescr", "objectDType", "truncatedData", "headerEncoding", "tooManyDimensions",
    ] {
      #expect(reasons.contains(reason), "no malformed fixture for \(reason)")
    }
  }

  @Test("valid fixtures read as numpy reads them", arguments: Manifest.shared.valid)
  func readsValid(_ entry: Manifest.Valid) throws {
    let limit = entry.maxHeaderSize ?? NPYHeader.defaultMaxHeaderSize
    let info = try NPYFile.info(at: FilePath(entry.path), maxHeaderSize: limit)
    let header = info.header
    #expect(header.version.description == entry.version)
    #expect(header.dtype.description == entry.descr)
    #expect(header.dtype.name == entry.dtype)
    #expect(header.dtype.itemSize == entry.itemsize)
    #expect(header.shape == entry.shape)
    #expect(header.fortranOrder == entry.headerFortranOrder)
    #expect(header.count == entry.count)
    #expect(header.headerLength == entry.headerLength)
    #expect(header.dataOffset == entry.dataOffset)
    #expect(header.dataBytes == entry.dataBytes)

    let array = try NDArray(contentsOf: FilePath(entry.path), maxHeaderSize: limit)
    #expect(array.shape == entry.shape)
    #expect((array.isFortranContiguous && !array.isCContiguous) == entry.fortranOrder)
    let canonical = try Support.canonicalBytes(array)
    #expect(SHA256.hex(canonical) == entry.sha256, "canonical bytes differ from numpy's")

    // Typed element access gives the same values as the canonical bytes, whatever the
    // file's byte order and memory order.
    if let bits = try Support.typedBits(array) {
      let width: Int
      switch array.dtype.kind {
      case .complex(let n): width = n / 2
      default: width = array.dtype.itemSize
      }
      #expect(bits == Support.littleEndianUnits(canonical, width: width))
    }
  }

  @Test("valid fixtures written back are byte-identical to np.save", arguments: Manifest.shared.valid)
  func writesValid(_ entry: Manifest.Valid) throws {
    let limit = entry.maxHeaderSize ?? NPYHeader.defaultMaxHeaderSize
    let array = try NDArray(contentsOf: FilePath(entry.path), maxHeaderSize: limit)
    let dir = try Support.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.npy")
    try array.write(to: FilePath(out.path))
    let bytes = try Data(contentsOf: out)
    #expect(SHA256.hex(bytes) == entry.resaveSha256, "differs from np.save of the same array")
    if entry.writtenBy == "np.save" {
      let original = try Data(contentsOf: URL(fileURLWithPath: entry.path))
      #expect(bytes == original)
    }
    // Nothing else is left in the folder (the temporary was renamed).
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])
  }

  @Test("malformed fixtures give a typed error naming the file and reason", arguments: Manifest.shared.malformed)
  func refusesMalformed(_ entry: Manifest.Malformed) throws {
    let before = try Data(contentsOf: URL(fileURLWithPath: entry.path))
    let limit = entry.maxHeaderSize ?? NPYHeader.defaultMaxHeaderSize
    for attempt in 0..<2 {
      do {
        if attempt == 0 {
          _ = try NPYFile.info(at: FilePath(entry.path), maxHeaderSize: limit)
        } else {
          _ = try NDArray(contentsOf: FilePath(entry.path), maxHeaderSize: limit)
        }
        Issue.record("\(entry.file) was accepted; numpy: \(entry.numpy)")
      } catch {
        #expect(Support.caseName(error.reason) == entry.reason, "\(error)")
        #expect(error.path == entry.path)
        #expect(error.description.hasPrefix(entry.path + ": "))
      }
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: entry.path)) == before, "the input was modified")
  }

  @Test("a header over maxHeaderSize loads once the limit is raised")
  func maxHeaderSizeOverride() throws {
    let path = Support.fixtures.appendingPathComponent("valid/header_max_header_size_override.npy").path
    #expect(throws: TensorIOError.self) { try NPYFile.info(at: FilePath(path)) }
    do {
      _ = try NPYFile.info(at: FilePath(path))
    } catch {
      guard case .format(.headerTooLarge(let length, let limit)) = error.reason else {
        Issue.record("wrong reason \(error)")
        return
      }
      #expect(limit == 10_000)
      #expect(length > 10_000)
    }
    let array = try NDArray(contentsOf: FilePath(path), maxHeaderSize: 20_000)
    #expect(try array.elements(as: Float.self) == [0, 1, 2])
  }
}
