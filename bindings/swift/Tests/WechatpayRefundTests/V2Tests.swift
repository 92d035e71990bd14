import Foundation
import XCTest
import WechatpayRefund

/// Legacy v2 refunds through the sandbox: mutual TLS, typed errors.
final class V2Tests: XCTestCase {
    var sandbox: Sandbox!

    override func setUpWithError() throws {
        sandbox = try Sandbox.start()
    }

    override func tearDown() {
        sandbox?.stop()
        sandbox = nil
    }

    func testApplyQueryNotification() throws {
        let v2 = try V2RefundClient(config: try sandbox.v2Config())
        _ = try sandbox.createOrder(outTradeNo: "T20261124001", total: 10000)
        let r = try v2.refund(request: V2RefundRequest(outRefundNo: "R2V1", totalFee: 10000, refundFee: 100, outTradeNo: "T20261124001"))
        XCTAssertEqual(r.refundFee, 100)
        XCTAssertFalse(r.refundId.isEmpty)
        let q = try v2.refundQuery(query: V2RefundQuery(outRefundNo: "R2V1"))
        XCTAssertEqual(q.refunds[0].refundStatus, .processing)
        try sandbox.setRefundStatus(outRefundNo: "R2V1", status: .success)
        let note = try v2.parseRefundNotification(body: try sandbox.v2Notification(outRefundNo: "R2V1"))
        XCTAssertEqual(note.refundStatus, .success)
        XCTAssertEqual(note.outRefundNo, "R2V1")
    }

    func testTypedErrors() throws {
        let v2 = try V2RefundClient(config: try sandbox.v2Config())
        XCTAssertThrowsError(try v2.refund(request: V2RefundRequest(outRefundNo: "R-SW-1", totalFee: 1000, refundFee: 1, outTradeNo: "T-SW-NONE"))) { error in
            guard case let RefundError.V2Api(_, _, errCode, _, retryable, _) = error else {
                return XCTFail("expected RefundError.V2Api, got \(error)")
            }
            XCTAssertEqual(errCode, "ORDERNOTEXIST")
            XCTAssertFalse(retryable)
        }
        let c = try sandbox.v2Credentials()
        let noCert = try V2RefundClient(config: try V2Config(appid: c.appid, mchId: c.mchId, apiKey: c.apiKey,
            baseUrl: c.baseUrl, options: ClientOptions(trustRootsPem: [c.caPem])))
        _ = try sandbox.createOrder(outTradeNo: "T-SW-V2", total: 1000)
        // When to retry: INVALID_REQ_TOO_MUCH blocks for a minute (returned with the wait).
        sandbox.v2InjectError(errCode: "INVALID_REQ_TOO_MUCH", count: 1)
        XCTAssertThrowsError(try v2.refund(request: V2RefundRequest(outRefundNo: "R-SW-3", totalFee: 1000, refundFee: 1, outTradeNo: "T-SW-V2"))) { error in
            guard case let RefundError.V2Api(_, _, errCode, _, retryable, retryAfterMs) = error else {
                return XCTFail("expected RefundError.V2Api, got \(error)")
            }
            XCTAssertEqual(errCode, "INVALID_REQ_TOO_MUCH")
            XCTAssertTrue(retryable)
            XCTAssertEqual(retryAfterMs, 60000)
        }
        XCTAssertThrowsError(try noCert.refund(request: V2RefundRequest(outRefundNo: "R-SW-2", totalFee: 1000, refundFee: 1, outTradeNo: "T-SW-V2"))) { error in
            guard case RefundError.Config = error else {
                return XCTFail("expected RefundError.Config, got \(error)")
            }
        }
    }
}
