import Foundation
import SystemPackage
import Testing

@testable import TensorIO

@Suite("npz archives written by numpy")
struct NPZFixtureTests {
  @Test(
    "valid archives: members, sizes, CRCs and arrays as numpy and zipfile report them",
    arguments: Manifest.shared.npzValid)
  func reads(_ entry: Manifest.NPZValid) throws {
    let npz = try NPZArchive(path: FilePath(entry.path))
    #expect(npz.members.map(\.name) == entry.members.map(\.name))
    for (member, expected) in zip(npz.members, entry.members) {
      #expect(member.key == expected.key)
      #expect(member.compression.methodName == expected.compression)
      #expect(member.compressedBytes == expected.compressedBytes)
      #expect(member.uncompressedBytes == expected.uncompressedBytes)
      #expect(member.crc32 == expected.crc32)
      if let descr = expected.descr {
        let info = try npz.info(member.key)
        #expect(info.header.dtype.description == descr)
        #expect(info.header.shape == expected.shape)
        #expect(info.header.count == expected.count)
        #expect(info.header.dataBytes == expected.dataBytes)
        let array = try npz.load(member.key)
        #expect(SHA256.hex(try Support.canonicalBytes(array)) == expected.sha256, "\(member.name)")
        #expect((array.isFortranContiguous && !array.isCContiguous) == expected.fortranOrder)
        // By key and by name alike.
        #expect(try npz[member.name].shape == array.shape)
        // Mapping gives the same values (in place when aligned, else loaded).
        let mapped = try npz.mapOrLoad(member.key, mode: .copyOnWrite)
        #expect(try Support.canonicalBytes(mapped) == Support.canonicalBytes(array))
        #expect((mapped.storage.mappedFile != nil) == info.isMappable)
        // `map` maps or refuses: it never loads behind the caller's back.
        if info.isMappable {
          #expect(try npz.map(member.key).storage.mappedFile?.path == "\(npz.path):\(member.key)")
        } else {
          #expect {
            try npz.map(member.key)
          } throws: { error in
            guard let error = error as? TensorIOError, case .archive(.memberNotMappable) = error.reason else {
              return false
            }
            return error.path == "\(npz.path):\(member.key)"
          }
        }
      } else {
        #expect(SHA256.hex(try npz.bytes(member.key)) == expected.sha256Member)
      }
    }
    try npz.verify()
  }

  @Test(
    "malformed archives give a typed error naming the file and stay unchanged", arguments: Manifest.shared.npzMalformed)
  func refuses(_ entry: Manifest.NPZMalformed) throws {
    let before = try Data(contentsOf: URL(fileURLWithPath: entry.path))
    do {
      let npz = try NPZArchive(path: FilePath(entry.path))
      if entry.member == nil { Issue.record("\(entry.file) opened; numpy: \(entry.numpy)") }
      try npz.verify()
      Issue.record("\(entry.file) read without error; numpy: \(entry.numpy)")
    } catch {
      #expect(Support.caseName(error.reason) == entry.reason, "\(entry.file): \(error)")
      #expect(error.path?.hasPrefix(entry.path) == true, "\(error)")
      if let member = entry.member { #expect(error.path == "\(entry.path):\(member)") }
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: entry.path)) == before)
  }

  @Test("read-write mapping of a member is refused with a reason")
  func noReadWriteMapping() throws {
    let npz = try NPZArchive(path: FilePath(Support.fixtures.appendingPathComponent("npz/valid/savez.npz").path))
    #expect {
      try npz.mapOrLoad("a", mode: .readWrite)
    } throws: { error in
      (error as? TensorIOError)?.description.contains("r+") == true
    }
    #expect(throws: TensorIOError.self) { try npz.load("nope") }
  }
}
