// swift-tools-version:5.9
// The Swift binding of wechatpay-refund: UniFFI-generated Swift over the Rust library.
//
// The generated files are NOT committed; scripts/test-swift generates and places them:
//   Sources/WechatpayRefundFFI/WechatpayRefundFFI.h + module.modulemap   (the C interface)
//   Sources/WechatpayRefund/WechatpayRefund.swift                       (the Swift API)
// and copies libwechatpay_refund.so into build/lib/ (or set WECHATPAY_REFUND_LIB_DIR).
import PackageDescription

let libDir = Context.environment["WECHATPAY_REFUND_LIB_DIR"] ?? "\(Context.packageDirectory)/build/lib"

let package = Package(
    name: "WechatpayRefund",
    products: [
        .library(name: "WechatpayRefund", targets: ["WechatpayRefund"]),
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
        .testTarget(
            name: "WechatpayRefundTests",
            dependencies: ["WechatpayRefund"],
            path: "Tests/WechatpayRefundTests"
        ),
    ]
)
