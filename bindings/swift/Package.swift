// swift-tools-version:5.9
// The Swift binding of wechatpay-refund: UniFFI-generated Swift over the Rust library.
//
// The generated files are NOT committed; scripts/test-swift generates and places them:
//   Sources/WechatpayRefundFFI/WechatpayRefundFFI.h + module.modulemap   (the C interface)
//   Sources/WechatpayRefund/WechatpayRefund.swift                       (the Swift API)
// and copies libwechatpay_refund.so into build/lib/ (or set WECHATPAY_REFUND_LIB_DIR).
// Committed, hand-written or generated-and-checked: Sources/WechatpayRefund/WireEnums.swift (open
// enums, generated from src/wire.rs), Async.swift (async/await), Events.swift (event listener, os.Logger,
// toPrometheus), Sources/WechatpayRefundTesting
// (the XCTest helper). An iOS/macOS app uses the XCFramework variant instead: dist/Package.swift,
// filled by scripts/build-xcframework (README.md).
import PackageDescription

let libDir = Context.environment["WECHATPAY_REFUND_LIB_DIR"] ?? "\(Context.packageDirectory)/build/lib"

let package = Package(
    name: "WechatpayRefund",
    products: [
        .library(name: "WechatpayRefund", targets: ["WechatpayRefund"]),
        // XCTest helper: a running sandbox per test (startSandbox / startSandboxWithClient).
        .library(name: "WechatpayRefundTesting", targets: ["WechatpayRefundTesting"]),
    ],
    targets: [
        .systemLibrary(name: "WechatpayRefundFFI", path: "Sources/WechatpayRefundFFI"),
        .target(
            name: "WechatpayRefund",
            dependencies: ["WechatpayRefundFFI"],
            path: "Sources/WechatpayRefund",
            linkerSettings: [
                .linkedLibrary("wechatpay_refund"),
                .unsafeFlags(["-L\(libDir)", "-Xlinker", "-rpath", "-Xlinker", libDir]),
            ]
        ),
        .target(
            name: "WechatpayRefundTesting",
            dependencies: ["WechatpayRefund"],
            path: "Sources/WechatpayRefundTesting"
        ),
        .testTarget(
            name: "WechatpayRefundTests",
            dependencies: ["WechatpayRefund", "WechatpayRefundTesting"],
            path: "Tests/WechatpayRefundTests"
        ),
    ]
)
