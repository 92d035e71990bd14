import Foundation
import XCTest
import WechatpayRefund
import WechatpayRefundTesting

/// End to end through the embedded sandbox: a real HTTP server on 127.0.0.1 inside the library,
/// one per test (the XCTest helper starts it and stops it after the test).
final class SandboxTests: XCTestCase {
    var sandbox: Sandbox!
    var client: RefundClient!

    override func setUpWithError() throws {
        (sandbox, client) = try startSandboxWithClient()
    }

    func refund(_ outTradeNo: String, _ outRefundNo: String, _ amount: Int64, of total: Int64) -> CreateRefundRequest {
        CreateRefundRequest(outRefundNo: outRefundNo, amount: RefundAmountInput(refund: amount, total: total), outTradeNo: outTradeNo)
    }

    func testRefundLifecycle() throws {
        let transactionId = try sandbox.createOrder(outTradeNo: "T100100", total: 10000)
        XCTAssertFalse(transactionId.isEmpty)

        var r = try client.createRefund(request: refund("T100100", "R1", 100, of: 10000))
        XCTAssertEqual(r.status, .processing)
        XCTAssertEqual(r.amount.refund, 100)
        XCTAssertEqual(r.transactionId, transactionId)

        try sandbox.setRefundStatus(outRefundNo: "R1", status: .abnormal)
        r = try client.queryRefund(outRefundNo: "R1", subMchid: nil)
        XCTAssertEqual(r.status, .abnormal)

        r = try client.applyAbnormalRefund(request: AbnormalRefundRequest(
            refundId: r.refundId, outRefundNo: "R1", kind: .userBankCard,
            bankType: "ICBC_DEBIT", bankAccount: "6222021234567890", realName: "张三"
        ))
        XCTAssertEqual(r.status, .processing)
        XCTAssertEqual(sandbox.abnormalRefundRecipient(outRefundNo: "R1"), ["ICBC_DEBIT", "6222021234567890", "张三"])

        try sandbox.setRefundStatus(outRefundNo: "R1", status: .success)
        let n = try sandbox.notification(outRefundNo: "R1")
        let note = try client.parseNotification(headers: n.headers, body: n.body)
        XCTAssertEqual(note.outRefundNo, "R1")
        XCTAssertEqual(note.refundStatus, .success)
        XCTAssertEqual(note.eventType, .refundSuccess)
        XCTAssertEqual(note.eventType.rawValue, "REFUND.SUCCESS")
        XCTAssertEqual("\(note.eventType)", "REFUND.SUCCESS")
        XCTAssertEqual(try client.queryRefund(outRefundNo: "R1", subMchid: nil).status, .success)
        XCTAssertEqual(sandbox.refundCount(outTradeNo: "T100100"), 1)
    }

    func testUnknownRefundIsApi404WithRequestId() {
        guard case let .Api(status, code, errorMessage, _, _, _, requestId, retryable, _)? =
            refundError({ try client.queryRefund(outRefundNo: "R404", subMchid: nil) })
        else { return XCTFail("expected RefundError.Api") }
        XCTAssertEqual(status, 404)
        XCTAssertEqual(code, "RESOURCE_NOT_EXISTS")
        XCTAssertFalse(errorMessage.isEmpty)
        XCTAssertNotNil(requestId)
        XCTAssertFalse(requestId?.isEmpty ?? true)
        XCTAssertFalse(retryable)
    }

    func testBadInputNeverReachesTheServer() {
        let before = sandbox.requestCount()
        guard case let .InvalidInput(field, _)? = refundError({ try client.createRefund(request: refund("T10@01", "R2", 100, of: 10000)) }) else {
            return XCTFail("expected InvalidInput")
        }
        XCTAssertEqual(field, "out_trade_no")
        XCTAssertEqual(sandbox.requestCount(), before)
    }

    func testCredentialsBuildAConfigWhoseDescriptionHidesTheKey() throws {
        let k = sandbox.credentials()
        let cfg = try ClientConfig(
            mchid: k.mchid, merchantSerialNo: k.merchantSerialNo, merchantPrivateKeyPem: k.merchantPrivateKeyPem,
            apiV3Key: k.apiV3Key, wechatpayPublicKeyId: k.wechatpayPublicKeyId,
            wechatpayPublicKeyPem: k.wechatpayPublicKeyPem, baseUrl: k.baseUrl
        )
        XCTAssertFalse("\(cfg)".contains("PRIVATE KEY"), "\(cfg)")
        XCTAssertFalse(String(reflecting: cfg).contains("PRIVATE KEY"))
        XCTAssertEqual(k.baseUrl, sandbox.baseUrl())
        _ = try sandbox.createOrder(outTradeNo: "T300300", total: 2000)
        let c = try RefundClient(config: cfg)
        XCTAssertEqual(try c.createRefund(request: refund("T300300", "R300", 2000, of: 2000)).status, .processing)
    }

    func testRetriesAndVerificationFailures() throws {
        _ = try sandbox.createOrder(outTradeNo: "T400400", total: 1000)
        let before = sandbox.requestCount()
        sandbox.injectFault(fault: .systemError, count: 2)
        XCTAssertEqual(try client.createRefund(request: refund("T400400", "R400", 10, of: 1000)).status, .processing)
        XCTAssertEqual(sandbox.requestCount() - before, 3)
        XCTAssertEqual(sandbox.refundCount(outTradeNo: "T400400"), 1)

        sandbox.injectFault(fault: .tamperedBody, count: 1)
        guard case .Signature? = refundError({ try client.queryRefund(outRefundNo: "R400", subMchid: nil) }) else {
            return XCTFail("a tampered body must be a Signature error")
        }
        sandbox.injectFault(fault: .staleTimestamp, count: 1)
        guard case .TimestampOutOfWindow? = refundError({ try client.queryRefund(outRefundNo: "R400", subMchid: nil) }) else {
            return XCTFail("a stale timestamp must be TimestampOutOfWindow")
        }
    }

    func testCertificateMode() throws {
        let sb = try Sandbox.startWith(options: SandboxOptions(port: 0, mode: .certificate))
        defer { sb.stop() }
        let k = sb.credentials()
        XCTAssertNil(k.wechatpayPublicKeyId)
        XCTAssertNotNil(k.platformCertificatePem)
        _ = try sb.createOrder(outTradeNo: "T900900", total: 1000)
        let c = try RefundClient(config: try sb.clientConfig())
        XCTAssertEqual(try c.createRefund(request: refund("T900900", "R900", 10, of: 1000)).status, .processing)
        try sb.setRefundStatus(outRefundNo: "R900", status: .closed)
        let n = try sb.notification(outRefundNo: "R900")
        XCTAssertEqual(try c.parseNotification(headers: n.headers, body: n.body).refundStatus, .closed)
    }

    func testSwiftURLSessionTransport() throws {
        _ = try sandbox.createOrder(outTradeNo: "T110110", total: 10000)
        let transport = URLSessionTransport()
        let c = RefundClient.withTransport(config: try sandbox.clientConfig(), transport: transport)
        XCTAssertEqual(try c.createRefund(request: refund("T110110", "RK1", 100, of: 10000)).status, .processing)
        XCTAssertEqual(try c.queryRefund(outRefundNo: "RK1", subMchid: nil).amount.refund, 100)
        guard case let .Api(status, code, _, _, _, _, _, _, _)? = refundError({ try c.queryRefund(outRefundNo: "R404", subMchid: nil) }) else {
            return XCTFail("expected RefundError.Api through the Swift transport")
        }
        XCTAssertEqual(status, 404)
        XCTAssertEqual(code, "RESOURCE_NOT_EXISTS")
        XCTAssertEqual(transport.calls, 3)
    }

    func testErrorsThrownBySwiftCallbacksReachTheCaller() throws {
        final class Down: HttpTransport, @unchecked Sendable {
            func send(request: HttpRequest) throws -> HttpResponse {
                throw RefundError.Transport(kind: .connect, reason: "connection refused (test)", retryable: false)
            }
        }
        final class LockedKeystore: Signer, @unchecked Sendable {
            func sign(message: Data) throws -> Data {
                throw RefundError.Signer(reason: "keystore locked (test)")
            }
        }
        let c = RefundClient.withTransport(config: try sandbox.clientConfig(), transport: Down())
        guard case let .Transport(kind, reason, _)? = refundError({ try c.queryRefund(outRefundNo: "R1", subMchid: nil) }) else {
            return XCTFail("expected RefundError.Transport")
        }
        XCTAssertEqual(kind, .connect)
        XCTAssertEqual(reason, "connection refused (test)")

        let k = sandbox.credentials()
        let cfg = try ClientConfig.withSigner(
            mchid: k.mchid, merchantSerialNo: k.merchantSerialNo, signer: LockedKeystore(), apiV3Key: k.apiV3Key,
            wechatpayPublicKeyId: k.wechatpayPublicKeyId, wechatpayPublicKeyPem: k.wechatpayPublicKeyPem, baseUrl: k.baseUrl
        )
        guard case let .Signer(why)? = refundError({ try RefundClient(config: cfg).queryRefund(outRefundNo: "R1", subMchid: nil) }) else {
            return XCTFail("expected RefundError.Signer")
        }
        XCTAssertEqual(why, "keystore locked (test)")
    }
}
