// swift-tools-version:6.0
import PackageDescription

// An out-of-tree Sluice interceptor in Swift. It depends on the SDK package
// only; build with the same Swift toolchain as the sluice binary:
//   swift build -c release
// then copy .build/release/libRedactInterceptor.so into a plugin directory.
let package = Package(
    name: "RedactInterceptor",
    products: [
        .library(name: "RedactInterceptor", type: .dynamic, targets: ["RedactInterceptor"]),
    ],
    dependencies: [
        // Point this at your Sluice checkout's sdk/ folder.
        .package(name: "sdk", path: "../../sdk"),
    ],
    targets: [
        .target(
            name: "RedactInterceptor",
            dependencies: [.product(name: "SluiceSDK", package: "sdk")],
            // Optional: export only the entry symbol.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/../../sdk/plugin-exports.map"])]
        ),
    ],
    swiftLanguageModes: [.v5]
)
