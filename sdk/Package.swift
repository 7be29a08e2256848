// swift-tools-version:6.0
import PackageDescription

// The Sluice plugin SDK: the C ABI header (SluiceABI) and the Swift SDK
// (SluiceSDK). Out-of-tree plugins depend on this package alone:
//   .package(name: "sdk", path: "<sluice>/sdk")
let package = Package(
    name: "sdk",
    products: [
        .library(name: "SluiceSDK", targets: ["SluiceSDK"]),
        .library(name: "SluiceABI", targets: ["SluiceABI"]),
    ],
    targets: [
        .target(name: "SluiceABI", path: "include", publicHeadersPath: "."),
        .target(name: "SluiceSDK", dependencies: ["SluiceABI"], path: "swift"),
    ],
    swiftLanguageModes: [.v5]
)
