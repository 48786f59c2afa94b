// swift-tools-version:6.2
import PackageDescription

/// The package's own targets build with warnings as errors when
/// TENSORTOOL_WARNINGS_AS_ERRORS is set (CI sets it: a new warning fails the run).
let ownSettings: [SwiftSetting] =
  Context.environment["TENSORTOOL_WARNINGS_AS_ERRORS"] != nil ? [.treatAllWarnings(as: .error)] : []

let package = Package(
  name: "tensortool",
  products: [
    .library(name: "TensorIO", targets: ["TensorIO"]),
    .executable(name: "tensortool", targets: ["tensortool"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
    // `swift package generate-documentation --target TensorIO` builds the DocC catalog.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CZlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    // libdeflate: whole-buffer inflate, several times zlib's speed. Linked statically
    // (libdeflate.a), so that the binary needs no libdeflate at run time.
    .systemLibrary(
      name: "CLibdeflate",
      providers: [.apt(["libdeflate-dev"])]
    ),
    .target(name: "CTensorShims"),
    .target(
      name: "TensorIO",
      dependencies: [
        "CZlib",
        "CLibdeflate",
        "CTensorShims",
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      swiftSettings: ownSettings,
      linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libdeflate.a"])]
    ),
    .executableTarget(
      name: "tensortool",
      dependencies: [
        "TensorIO",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      swiftSettings: ownSettings
    ),
    .executableTarget(
      name: "tensorio-bench",
      dependencies: ["TensorIO"],
      path: "Benchmarks/tensorio-bench",
      swiftSettings: ownSettings
    ),
    .testTarget(
      name: "TensorIOTests",
      dependencies: ["TensorIO", "tensortool"],
      resources: [],
      swiftSettings: ownSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
