// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "tensortool",
  products: [
    .library(name: "TensorIO", targets: ["TensorIO"]),
    .executable(name: "tensortool", targets: ["tensortool"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CZlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    .target(name: "CTensorShims"),
    .target(
      name: "TensorIO",
      dependencies: [
        "CZlib",
        "CTensorShims",
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    .executableTarget(
      name: "tensortool",
      dependencies: [
        "TensorIO",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]
    ),
    .executableTarget(
      name: "tensorio-bench",
      dependencies: ["TensorIO"],
      path: "Benchmarks/tensorio-bench"
    ),
    .testTarget(
      name: "TensorIOTests",
      dependencies: ["TensorIO", "tensortool"],
      resources: []
    ),
  ],
  swiftLanguageModes: [.v6]
)
