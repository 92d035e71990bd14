import XCTest
@testable import WechatpayRefund

/// Platform certificates downloaded and rotated, several WeChat Pay public keys (issue 11).
final class CertificateTests: XCTestCase {
    private func merchant(_ sb: Sandbox, publicKeys: [WechatpayPublicKey] = [], download: Bool = false) throws -> ClientConfig {
        let c = sb.credentials()
        return try ClientConfig(
            mchid: c.mchid, merchantSerialNo: c.merchantSerialNo,
            merchantPrivateKeyPem: c.merchantPrivateKeyPem, apiV3Key: c.apiV3Key,
            wechatpayPublicKeys: publicKeys, downloadPlatformCertificates: download, baseUrl: c.baseUrl,
            options: ClientOptions(platformTrustAnchorsPem: c.platformTrustAnchorsPem))
    }

    private func refund(_ no: String) -> CreateRefundRequest {
        CreateRefundRequest(outRefundNo: no, amount: RefundAmountInput(refund: 1, total: 10000), outTradeNo: "T20261124001")
    }

    func testCertificatesAreDownloadedAndRefreshedAfterARotation() throws {
        let sb = try Sandbox.startWith(options: SandboxOptions(mode: .certificate))
        defer { sb.stop() }
        _ = try sb.createOrder(outTradeNo: "T20261124001", total: 10000)
        let config = try merchant(sb, download: true)
        let client = try RefundClient(config: config)
        _ = try client.createRefund(request: refund("R1"))
        XCTAssertEqual(config.platformCertificates().map { $0.serialNo }, [sb.credentials().platformCertificateSerialNo!])
        let newSerial = try sb.rotatePlatformCertificate()
        XCTAssertEqual(try client.queryRefund(outRefundNo: "R1").outRefundNo, "R1")
        XCTAssertTrue(config.platformCertificates().contains { $0.serialNo == newSerial })
    }

    func testAPublicKeyRotationWithSeveralKeys() throws {
        let sb = try Sandbox.start()
        defer { sb.stop() }
        _ = try sb.createOrder(outTradeNo: "T20261124001", total: 10000)
        let c = sb.credentials()
        let config = try merchant(sb, publicKeys: [WechatpayPublicKey(id: c.wechatpayPublicKeyId!, pem: c.wechatpayPublicKeyPem!)])
        let client = try RefundClient(config: config)
        _ = try client.createRefund(request: refund("R2"))
        let newId = try sb.rotateWechatpayPublicKey()
        try config.addWechatpayPublicKey(id: newId, pem: sb.credentials().wechatpayPublicKeyPem!)
        _ = try client.queryRefund(outRefundNo: "R2")
        try sb.expireWechatpayPublicKey(id: c.wechatpayPublicKeyId!)
        try config.removeWechatpayKey(id: c.wechatpayPublicKeyId!)
        XCTAssertEqual(config.wechatpayKeyIds(), [newId])
        _ = try client.queryRefund(outRefundNo: "R2")
        XCTAssertThrowsError(try config.removeWechatpayKey(id: newId))
    }
}
