// swift-tools-version:5.9
// The Swift binding as an app consumes it on Apple platforms: the Rust core as a binary target
// (WechatpayRefundFFI.xcframework: static libraries for iOS devices, the iOS simulator and macOS,
// with the C header and module map), the generated Swift and the hand-written Swift on top.
//
// scripts/build-xcframework (macOS only) fills this folder next to this file:
//   WechatpayRefundFFI.xcframework/
//   Sources/WechatpayRefund/{WechatpayRefund.swift, WireEnums.swift, Async.swift, Events.swift}
//   Sources/WechatpayRefundTesting/SandboxTesting.swift
// Then add the folder as a local package (or publish it with the xcframework zipped and
// `.binaryTarget(name:url:checksum:)`). UNVERIFIED: written to Apple's documented layout, not
// built here (no macOS / Xcode on this project's machines).
import PackageDescription

let package = Package(
    name: "WechatpayRefund",
    platforms: [.iOS(.v13), .macOS(.v10_15)],
    products: [
        .library(name: "WechatpayRefund", targets: ["WechatpayRefund"]),
        .library(name: "WechatpayRefundTesting", targets: ["WechatpayRefundTesting"]),
    ],
    targets: [
        .binaryTarget(name: "WechatpayRefundFFI", path: "WechatpayRefundFFI.xcframework"),
        .target(
            name: "WechatpayRefund",
            dependencies: ["WechatpayRefundFFI"],
            path: "Sources/WechatpayRefund",
            // getrandom (SecRandomCopyBytes) and the system trust store live in Security.
            linkerSettings: [.linkedFramework("Security")]
        ),
        .target(
            name: "WechatpayRefundTesting",
            dependencies: ["WechatpayRefund"],
            path: "Sources/WechatpayRefundTesting"
        ),
    ]
)
