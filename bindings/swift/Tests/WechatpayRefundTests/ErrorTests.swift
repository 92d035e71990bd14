import Foundation
import XCTest
import WechatpayRefund

/// Rust `RefundError` variants arrive as Swift `RefundError` cases with their fields.
final class ErrorTests: XCTestCase {
    var keys: [String: Any] = [:]

    override func setUpWithError() throws {
        keys = try Vectors.load("keys.json")
    }

    func config(apiV3Key: String? = nil, pem: String? = nil, baseUrl: String? = nil,
                options: ClientOptions? = nil) throws -> ClientConfig {
        let merchant = try keys.obj("merchant"), wx = try keys.obj("wechatpay_public_key")
        return try ClientConfig(
            mchid: try keys.str("mchid"),
            merchantSerialNo: try merchant.str("serial_no"),
            merchantPrivateKeyPem: try pem ?? merchant.str("private_key_pkcs8_pem"),
            apiV3Key: try apiV3Key ?? keys.str("api_v3_key"),
            wechatpayPublicKeyId: try wx.str("id"),
            wechatpayPublicKeyPem: try wx.str("public_key_pem"),
            baseUrl: baseUrl,
            options: options
        )
    }

    func testConfigWrongLengthApiV3Key() {
        guard case let .Config(reason)? = refundError({ try config(apiV3Key: "too-short") }) else {
            return XCTFail("expected RefundError.Config")
        }
        XCTAssertTrue(reason.contains("api_v3_key"), reason)
        XCTAssertTrue(reason.contains("32 bytes"), reason)
    }

    func testConfigGarbagePem() {
        guard case let .Config(reason)? = refundError({
            try config(pem: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        }) else { return XCTFail("expected RefundError.Config") }
        XCTAssertTrue(reason.contains("merchant_private_key_pem"), reason)
        guard case .Config? = refundError({ try config(pem: "garbage") }) else {
            return XCTFail("expected RefundError.Config")
        }
    }

    func testConfigOtherSettings() {
        guard case let .Config(reason)? = refundError({ try config(baseUrl: "http://api.mch.weixin.qq.com") }) else {
            return XCTFail("plain http to a public host must be refused")
        }
        XCTAssertTrue(reason.contains("base_url"), reason)
        guard case .Config? = refundError({ try config(options: ClientOptions(maxAttempts: 0)) }) else {
            return XCTFail("max_attempts 0 must be refused")
        }
    }

    func testConfigDescriptionHidesSecrets() throws {
        let cfg = try config()
        let text = "\(cfg) \(String(reflecting: cfg))"
        XCTAssertTrue(text.contains(try keys.str("mchid")), text)
        XCTAssertFalse(text.contains("PRIVATE KEY"), text)
        XCTAssertFalse(text.contains(try keys.str("api_v3_key")), text)
        XCTAssertEqual(cfg.wechatpayKeyIds(), [try keys.obj("wechatpay_public_key").str("id")])
    }

    func testInvalidInputNamesTheField() throws {
        let cfg = try config()
        func create(_ amount: RefundAmountInput, outRefundNo: String = "R1", outTradeNo: String = "T20261123001") -> RefundError? {
            refundError {
                try buildCreateRefundRequest(config: cfg, request: CreateRefundRequest(
                    outRefundNo: outRefundNo, amount: amount, outTradeNo: outTradeNo
                ), timestamp: 1795000000, nonce: "NONCE")
            }
        }
        let cases: [(RefundError?, String)] = [
            (create(RefundAmountInput(refund: 0, total: 100)), "amount.refund"),
            (create(RefundAmountInput(refund: 101, total: 100)), "amount.refund"),
            (create(RefundAmountInput(refund: 1, total: 0)), "amount.total"),
            (create(RefundAmountInput(refund: 1, total: 100, currency: "USD")), "amount.currency"),
            (create(RefundAmountInput(refund: 1, total: 100), outRefundNo: "R 1"), "out_refund_no"),
            (create(RefundAmountInput(refund: 1, total: 100), outTradeNo: "T10@01"), "out_trade_no"),
            (refundError { try buildQueryRefundRequest(config: cfg, outRefundNo: "", subMchid: nil, timestamp: 1, nonce: "N") }, "out_refund_no"),
            (refundError {
                try buildApplyAbnormalRefundRequest(config: cfg, request: AbnormalRefundRequest(
                    refundId: "50000000382019052709732678859", outRefundNo: "R1", kind: .userBankCard,
                    bankType: "ICBC_DEBIT", realName: "张三"
                ), timestamp: 1, nonce: "N")
            }, "bank_account"),
        ]
        for (e, expected) in cases {
            guard case let .InvalidInput(field, reason)? = e else {
                XCTFail("expected InvalidInput(\(expected)), got \(String(describing: e))")
                continue
            }
            XCTAssertEqual(field, expected)
            XCTAssertFalse(reason.isEmpty)
        }
    }

    func testErrorsDescribeThemselves() {
        let e = refundError { try config(apiV3Key: "x") }
        XCTAssertNotNil(e)
        XCTAssertTrue("\(e!)".contains("api_v3_key"), "\(e!)")
        XCTAssertNotNil((e! as Error).localizedDescription)
    }

    func testNotificationAcks() {
        XCTAssertEqual(notificationAckSuccess().status, 204)
        let f = notificationAckFailure(reason: "数据库不可用")
        XCTAssertEqual(f.status, 500)
        XCTAssertEqual(f.body, #"{"code":"FAIL","message":"数据库不可用"}"#)
    }
}
