import Foundation
import XCTest
import WechatpayRefund

private let production = "https://api.mch.weixin.qq.com"

/// The golden vectors of tests/vectors/, through the sans-IO functions of the Swift binding.
final class VectorTests: XCTestCase {
    var keys: [String: Any] = [:]

    override func setUpWithError() throws {
        keys = try Vectors.load("keys.json")
    }

    /// The vector merchant, trusting both the WeChat Pay public key and the platform certificate.
    func vectorConfig(apiV3Key: String? = nil) throws -> ClientConfig {
        let merchant = try keys.obj("merchant"), wx = try keys.obj("wechatpay_public_key")
        return try ClientConfig(
            mchid: try keys.str("mchid"),
            merchantSerialNo: try merchant.str("serial_no"),
            merchantPrivateKeyPem: try merchant.str("private_key_pkcs8_pem"),
            apiV3Key: try apiV3Key ?? keys.str("api_v3_key"),
            wechatpayPublicKeyId: try wx.str("id"),
            wechatpayPublicKeyPem: try wx.str("public_key_pem"),
            platformCertificatesPem: [try keys.obj("platform").str("certificate_pem")],
            // The test platform certificate is self-signed: its own trust anchor.
            options: ClientOptions(platformTrustAnchorsPem: [try keys.obj("platform").str("certificate_pem")])
        )
    }

    func testSigningVectorsAuthorizationIsByteIdentical() throws {
        let v = try Vectors.load("signing.json")
        let config = try vectorConfig()
        var built = 0
        for c in try Vectors.cases(v) {
            let name = try c.str("name"), ts = try c.int("timestamp"), nonce = try c.str("nonce")
            let req: HttpRequest
            switch name {
            case "create_refund":
                req = try buildCreateRefundRequest(config: config, request: CreateRefundRequest(
                    outRefundNo: "R20261123001",
                    amount: RefundAmountInput(refund: 888, total: 888),
                    outTradeNo: "1217752501201407033233368018",
                    reason: "商品已售完",
                    notifyUrl: "https://merchant.example.com/wechatpay/refund-notify"
                ), timestamp: ts, nonce: nonce)
            case "create_refund_full":
                req = try buildCreateRefundRequest(config: config, request: CreateRefundRequest(
                    outRefundNo: "R-2026_11|23*x@y",
                    amount: RefundAmountInput(refund: 600, total: 1000, fundsFrom: [
                        FundsFrom(account: .available, amount: 400),
                        FundsFrom(account: .unavailable, amount: 200),
                    ]),
                    transactionId: "1217752501201407033233368018",
                    subMchid: "1900000109",
                    reason: "部分退款",
                    notifyUrl: "https://merchant.example.com/notify",
                    fundsAccount: .available,
                    goodsDetail: [GoodsDetailInput(
                        merchantGoodsId: "SKU-1", unitPrice: 600, refundAmount: 600, refundQuantity: 1,
                        wechatpayGoodsId: "1001", goodsName: "iPhone 16 测试"
                    )]
                ), timestamp: ts, nonce: nonce)
            case "query_refund_encoded":
                req = try buildQueryRefundRequest(config: config, outRefundNo: "R-2026_11|23*x@y", subMchid: nil, timestamp: ts, nonce: nonce)
            case "query_refund_sub_mchid":
                req = try buildQueryRefundRequest(config: config, outRefundNo: "R20261123001", subMchid: "1900000109", timestamp: ts, nonce: nonce)
            case "apply_abnormal_refund":
                req = try buildApplyAbnormalRefundRequest(config: config, request: AbnormalRefundRequest(
                    refundId: "50000000382019052709732678859", outRefundNo: "R20261123001", kind: .merchantBankCard
                ), timestamp: ts, nonce: nonce)
            case "empty_body_post":
                continue // a raw-signing case: no typed request has an empty POST body
            default:
                XCTFail("signing.json has a case this test does not know: \(name)")
                continue
            }
            built += 1
            XCTAssertEqual(req.method, try c.str("method"), name)
            XCTAssertEqual(req.url, production + (try c.str("url")), name)
            XCTAssertEqual(String(decoding: req.body, as: UTF8.self), try c.str("body"), name)
            XCTAssertEqual(req.header("Authorization"), try c.str("authorization"), name)
        }
        XCTAssertEqual(built, 5)
    }

    func testVerificationVectorsEveryOutcome() throws {
        let v = try Vectors.load("verification.json")
        let now = try v.int("now")
        let config = try vectorConfig()
        var okParsed = 0
        for c in try Vectors.cases(v) {
            let name = try c.str("name"), rid = try c.str("request_id")
            let headers = [
                HttpHeader(name: "Wechatpay-Timestamp", value: String(try c.int("timestamp"))),
                HttpHeader(name: "Wechatpay-Nonce", value: try c.str("nonce")),
                HttpHeader(name: "Wechatpay-Signature", value: try c.str("signature")),
                HttpHeader(name: "Wechatpay-Serial", value: try c.str("serial")),
                HttpHeader(name: "Wechatpay-Signature-Type", value: try c.str("signature_type")),
                HttpHeader(name: "Request-ID", value: rid),
            ]
            let body = Data(try c.str("body").utf8)
            let expect = try c.str("expect")
            if expect == "ok" {
                XCTAssertNoThrow(try verifyWechatpaySignature(config: config, headers: headers, body: body, now: now), name)
            } else {
                let e = refundError { try verifyWechatpaySignature(config: config, headers: headers, body: body, now: now) }
                switch (expect, e) {
                case ("signature", .Signature(_, let r)?), ("signature_type", .Signature(_, let r)?):
                    XCTAssertEqual(r, rid, name)
                case ("probe", .ProbeSignature(let r)?):
                    XCTAssertEqual(r, rid, name)
                case ("timestamp", .TimestampOutOfWindow(let ts, let n, _)?):
                    XCTAssertEqual(ts, try c.int("timestamp"), name)
                    XCTAssertEqual(n, now, name)
                case ("unknown_serial", .UnknownSerial(let serial, let r)?):
                    XCTAssertEqual(serial, try c.str("serial"), name)
                    XCTAssertEqual(r, rid, name)
                default:
                    XCTFail("\(name): expected \(expect), got \(String(describing: e))")
                }
            }

            // The same case as a 200 response: only verified bodies are parsed.
            if body.isEmpty { continue }
            let response = HttpResponse(status: 200, headers: headers, body: body)
            if expect == "ok" {
                let r = try parseRefundResponse(config: config, response: response, now: now)
                XCTAssertEqual(r.status, .processing, name)
                XCTAssertEqual(r.amount.refund, 100)
                XCTAssertEqual(r.amount.total, 10000)
                XCTAssertEqual(r.channel, .original)
                XCTAssertEqual(r.fundsAccount, .available)
                XCTAssertEqual(r.promotionDetail.count, 2)
                XCTAssertEqual(r.promotionDetail[0].promotionType, .cash)
                XCTAssertEqual(r.promotionDetail[0].goodsDetail[0].goodsId, "1001")
                XCTAssertEqual(r.promotionDetail[1].promotionType, .coupon)
                XCTAssertEqual(r.promotionDetail[1].promotionType?.rawValue, "COUPON")
                XCTAssertEqual(r.rawJson, try c.str("body"))
                okParsed += 1
            } else {
                XCTAssertThrowsError(try parseRefundResponse(config: config, response: response, now: now), name)
            }
        }
        XCTAssertEqual(okParsed, 5)
    }

    func testNotificationVectors() throws {
        let v = try Vectors.load("notification.json")
        let now = try v.int("now")
        let config = try vectorConfig()
        let cases = try Vectors.cases(v)
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = try c.str("name")
            guard let headers = c["headers"] as? [String: String] else { throw VectorError.shape("headers") }
            let body = Data(try c.str("body").utf8)
            let e = try c.obj("expected"), amount = try e.obj("amount")
            let n = try parseNotificationAt(config: config, headers: headers, body: body, now: now)
            XCTAssertEqual(n.id, try e.str("id"), name)
            XCTAssertEqual(n.createTime, try e.str("create_time"), name)
            XCTAssertEqual(n.summary, try e.str("summary"), name)
            XCTAssertEqual(n.mchid, e.strOrNil("mchid"), name)
            XCTAssertEqual(n.spMchid, e.strOrNil("sp_mchid"), name)
            XCTAssertEqual(n.subMchid, e.strOrNil("sub_mchid"), name)
            XCTAssertEqual(n.outTradeNo, try e.str("out_trade_no"), name)
            XCTAssertEqual(n.transactionId, try e.str("transaction_id"), name)
            XCTAssertEqual(n.outRefundNo, try e.str("out_refund_no"), name)
            XCTAssertEqual(n.refundId, try e.str("refund_id"), name)
            XCTAssertEqual(n.successTime, e.strOrNil("success_time"), name)
            XCTAssertEqual(n.userReceivedAccount, try e.str("user_received_account"), name)
            XCTAssertEqual(n.amount.total, try amount.int("total"), name)
            XCTAssertEqual(n.amount.refund, try amount.int("refund"), name)
            XCTAssertEqual(n.amount.payerTotal, try amount.int("payer_total"), name)
            XCTAssertEqual(n.amount.payerRefund, try amount.int("payer_refund"), name)
            XCTAssertEqual(n.rawJson, try c.str("plaintext"), name)
            let status: [String: RefundStatus] = ["SUCCESS": .success, "ABNORMAL": .abnormal, "CLOSED": .closed]
            XCTAssertEqual(n.refundStatus, status[try e.str("refund_status")], name)
            let event: [String: NotificationEventType] = [
                "REFUND.SUCCESS": .refundSuccess, "REFUND.ABNORMAL": .refundAbnormal, "REFUND.CLOSED": .refundClosed,
            ]
            XCTAssertEqual(n.eventType, event[try e.str("event_type")], name)

            // Header names in any case, or as CGI/WSGI-style environment names.
            let lower = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
            XCTAssertEqual(try parseNotificationAt(config: config, headers: lower, body: body, now: now), n, name)
            let cgi = Dictionary(uniqueKeysWithValues: headers.map {
                ("HTTP_" + $0.key.uppercased().replacingOccurrences(of: "-", with: "_"), $0.value)
            })
            XCTAssertEqual(try parseNotificationAt(config: config, headers: cgi, body: body, now: now), n, name)

            // One changed byte of the body breaks the signature.
            var text = try c.str("body")
            text.replaceSubrange(text.range(of: "refund")!, with: "refunD")
            let tampered = Data(text.utf8)
            guard case .Signature? = refundError({ try parseNotificationAt(config: config, headers: headers, body: tampered, now: now) }) else {
                return XCTFail("\(name): tampered body must be a Signature error")
            }
            guard case .TimestampOutOfWindow? = refundError({ try parseNotificationAt(config: config, headers: headers, body: body, now: now + 301) }) else {
                return XCTFail("\(name): outside the window must be TimestampOutOfWindow")
            }
            var probe = headers
            probe["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/abc"
            guard case .ProbeSignature? = refundError({ try parseNotificationAt(config: config, headers: probe, body: body, now: now) }) else {
                return XCTFail("\(name): a probe signature must be ProbeSignature")
            }
            let otherKey = try vectorConfig(apiV3Key: "ZZZZzzzz0000111122223333abcdABCD")
            guard case .Decryption? = refundError({ try parseNotificationAt(config: otherKey, headers: headers, body: body, now: now) }) else {
                return XCTFail("\(name): a wrong API v3 key must be a Decryption error")
            }
        }
    }

    func testGcmVectorsDecryptResource() throws {
        let cases = try Vectors.cases(try Vectors.load("gcm.json"))
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for c in cases {
            let name = try c.str("name")
            let plain = try decryptResource(apiV3Key: try c.str("key"), algorithm: "AEAD_AES_256_GCM",
                                            ciphertext: try c.str("ciphertext"), nonce: try c.str("nonce"),
                                            associatedData: try c.str("associated_data"))
            XCTAssertEqual(plain, try c.str("plaintext"), name)
            var ct = Data(base64Encoded: try c.str("ciphertext"))!
            ct[0] ^= 1
            guard case .Decryption? = refundError({
                try decryptResource(apiV3Key: try c.str("key"), algorithm: "AEAD_AES_256_GCM",
                                    ciphertext: ct.base64EncodedString(), nonce: try c.str("nonce"),
                                    associatedData: try c.str("associated_data"))
            }) else { return XCTFail("\(name): a flipped bit must fail the tag check") }
        }
    }
}
