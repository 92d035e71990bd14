// swift-tools-version:5.9
// Quickstart for the Swift binding: `scripts/run-example-swift` (it generates the binding first).
// (Its own folder: a package in examples/swift would share the identity "swift" with bindings/swift.)
import PackageDescription

let package = Package(
    name: "Quickstart",
    dependencies: [
        // The binding package; a local package's identity is its folder name.
        .package(path: "../../../bindings/swift"),
    ],
    targets: [
        .executableTarget(
            name: "Quickstart",
            dependencies: [.product(name: "WechatpayRefund", package: "swift")],
            path: "Sources/Quickstart"
        ),
    ]
)
