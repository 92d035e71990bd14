// swift-tools-version:5.9
// The Swift binding as a Linux server consumes it from a release: no unsafeFlags, so SwiftPM
// accepts it as a remote, versioned dependency (`.package(url:from:)`).
//
// scripts/build-swift-release OUT fills OUT with this manifest, the generated and hand-written
// Swift, the C header and a module map that links `wechatpay_refund`, and lib/ with
// libwechatpay_refund.so and wechatpay-refund.pc. A release commits OUT without lib/ (tagged);
// the machine that builds against it installs lib/ where the linker and the loader look
// (e.g. /usr/local/lib, then `ldconfig`), or points PKG_CONFIG_PATH at lib/pkgconfig.
import PackageDescription

let package = Package(
    name: "WechatpayRefund",
    products: [
        .library(name: "WechatpayRefund", targets: ["WechatpayRefund"]),
        .library(name: "WechatpayRefundTesting", targets: ["WechatpayRefundTesting"]),
    ],
    targets: [
        // The module map says `link "wechatpay_refund"`; pkg-config, when present, adds -L.
        .systemLibrary(
            name: "WechatpayRefundFFI",
            path: "Sources/WechatpayRefundFFI",
            pkgConfig: "wechatpay-refund"
        ),
        .target(
            name: "WechatpayRefund",
            dependencies: ["WechatpayRefundFFI"],
            path: "Sources/WechatpayRefund"
        ),
        .target(
            name: "WechatpayRefundTesting",
            dependencies: ["WechatpayRefund"],
            path: "Sources/WechatpayRefundTesting"
        ),
    ]
)
