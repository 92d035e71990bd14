import Foundation
import XCTest
import WechatpayRefund
import WechatpayRefundTesting

/// Waits (bounded) until `condition` holds.
func eventually(timeout: TimeInterval = 10, _ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
    let end = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() > end { return XCTFail("condition not met within \(timeout) s", file: file, line: line) }
        Thread.sleep(forTimeInterval: 0.02)
    }
}

/// The async/await variants of the client calls, against a sandbox from the XCTest helper.
final class AsyncTests: XCTestCase {
    func refund(_ outTradeNo: String, _ outRefundNo: String, _ amount: Int64, of total: Int64) -> CreateRefundRequest {
        CreateRefundRequest(outRefundNo: outRefundNo, amount: RefundAmountInput(refund: amount, total: total), outTradeNo: outTradeNo)
    }

    func testLifecycleWithAsyncAwait() async throws {
        let (sandbox, client) = try startSandboxWithClient()
        _ = try sandbox.createOrder(outTradeNo: "T100100", total: 10000)
        let created = try await client.createRefund(request: refund("T100100", "R1", 100, of: 10000))
        XCTAssertEqual(created.status, .processing)
        try sandbox.setRefundStatus(outRefundNo: "R1", status: .success)
        let queried = try await client.queryRefund(outRefundNo: "R1")
        XCTAssertEqual(queried.status, .success)
        let n = try sandbox.notification(outRefundNo: "R1")
        let note = try await client.parseNotification(headers: n.headers, body: n.body)
        XCTAssertEqual(note.eventType.rawValue, "REFUND.SUCCESS")
        do {
            _ = try await client.queryRefund(outRefundNo: "R404")
            XCTFail("expected RefundError.Api")
        } catch let RefundError.Api(status, code, _, _, _, _, _, _, _) {
            XCTAssertEqual(status, 404)
            XCTAssertEqual(code, "RESOURCE_NOT_EXISTS")
        }
    }

    func testConcurrentCallsOverlap() async throws {
        let (sandbox, client) = try startSandboxWithClient()
        _ = try sandbox.createOrder(outTradeNo: "T200200", total: 100000)
        sandbox.injectFault(fault: .delay(millis: 300), count: 8) // every answer takes 0.3 s
        let t0 = Date()
        let numbers = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 1...8 {
                group.addTask { try await client.createRefund(request: self.refund("T200200", "R2-\(i)", 100, of: 100000)).outRefundNo }
            }
            var out = Set<String>()
            for try await n in group { out.insert(n) }
            return out
        }
        XCTAssertEqual(numbers.count, 8)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 8 * 0.3, "8 slow calls did not overlap")
        XCTAssertEqual(sandbox.refundCount(outTradeNo: "T200200"), 8)
    }

    func testCancellationResumesAtOnceAndTheRequestCompletesOnce() async throws {
        let (sandbox, client) = try startSandboxWithClient()
        _ = try sandbox.createOrder(outTradeNo: "T300300", total: 1000)
        let before = sandbox.requestCount()
        sandbox.injectFault(fault: .delay(millis: 1000), count: 1)
        let task = Task { try await client.createRefund(request: self.refund("T300300", "R3", 10, of: 1000)) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let t0 = Date()
        task.cancel()
        let outcome = await task.result
        XCTAssertLessThan(Date().timeIntervalSince(t0), 0.5)
        guard case .failure(let error) = outcome, error is CancellationError else {
            return XCTFail("expected CancellationError, got \(outcome)")
        }
        // The blocking call ran to its end on its thread: one request, one refund.
        eventually { sandbox.refundCount(outTradeNo: "T300300") == 1 && sandbox.requestCount() - before == 1 }
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(sandbox.requestCount() - before, 1, "the request was sent again")
        // Applying again with the same out_refund_no returns the same refund.
        let again = try await client.createRefund(request: refund("T300300", "R3", 10, of: 1000))
        XCTAssertEqual(again.outRefundNo, "R3")
        XCTAssertEqual(sandbox.refundCount(outTradeNo: "T300300"), 1)
    }
}

extension AsyncTests {
    func testCertificatesDownloadAsync() async throws {
        let sandbox = try startSandbox(options: SandboxOptions(mode: .certificate))
        let k = sandbox.credentials()
        let client = try RefundClient(config: try ClientConfig(
            mchid: k.mchid, merchantSerialNo: k.merchantSerialNo, merchantPrivateKeyPem: k.merchantPrivateKeyPem,
            apiV3Key: k.apiV3Key, downloadPlatformCertificates: true, baseUrl: k.baseUrl,
            options: ClientOptions(platformTrustAnchorsPem: k.platformTrustAnchorsPem)))
        let certs = try await client.refreshPlatformCertificates()
        XCTAssertEqual(certs.map { $0.serialNo }, [k.platformCertificateSerialNo])
    }

    func testV2RefundAsync() async throws {
        let sandbox = try startSandbox()
        _ = try sandbox.createOrder(outTradeNo: "T500500", total: 1000)
        let v2 = try V2RefundClient(config: try sandbox.v2Config())
        let r = try await v2.refund(request: V2RefundRequest(outRefundNo: "R5V2", totalFee: 1000, refundFee: 10, outTradeNo: "T500500"))
        XCTAssertEqual(r.refundFee, 10)
        let q = try await v2.refundQuery(query: V2RefundQuery(outRefundNo: "R5V2"))
        XCTAssertEqual(q.refunds[0].refundStatus, .processing)
        try sandbox.setRefundStatus(outRefundNo: "R5V2", status: .success)
        let note = try await v2.parseRefundNotification(body: try sandbox.v2Notification(outRefundNo: "R5V2"))
        XCTAssertEqual(note.refundStatus, .success)
    }
}

/// The XCTest helper: the sandbox runs during the test and is stopped after it.
final class SandboxHelperTests: XCTestCase {
    var probe: RefundClient?

    override func tearDown() {
        // Teardown blocks (the helper's stop) run before tearDown(): the port must be closed now.
        guard let probe = probe else { return }
        guard case .Transport(let kind, _, _)? = refundError({ try probe.queryRefund(outRefundNo: "R1", subMchid: nil) }) else {
            return XCTFail("the sandbox still answers after the test")
        }
        XCTAssertEqual(kind, .connect)
    }

    func testHelperStartsASandboxAndStopsItAfterTheTest() throws {
        let sandbox = try startSandbox(options: SandboxOptions(mode: .certificate, mchid: "1900009999"))
        let k = sandbox.credentials()
        XCTAssertEqual(k.mchid, "1900009999")
        XCTAssertNil(k.wechatpayPublicKeyId)
        XCTAssertNotNil(k.platformCertificatePem)
        let client = try RefundClient(config: try sandbox.clientConfig())
        _ = try sandbox.createOrder(outTradeNo: "T1001", total: 100)
        XCTAssertEqual(try client.createRefund(request: CreateRefundRequest(
            outRefundNo: "R1", amount: RefundAmountInput(refund: 100, total: 100), outTradeNo: "T1001")).status, .processing)
        let config = try ClientConfig(
            mchid: k.mchid, merchantSerialNo: k.merchantSerialNo, merchantPrivateKeyPem: k.merchantPrivateKeyPem,
            apiV3Key: k.apiV3Key, platformCertificatesPem: [k.platformCertificatePem!], baseUrl: k.baseUrl,
            options: ClientOptions(connectTimeoutMs: 500, maxAttempts: 1, platformTrustAnchorsPem: k.platformTrustAnchorsPem)
        )
        probe = try RefundClient(config: config)
    }

    func testOpenEnumsCarryWireValues() {
        XCTAssertEqual(RefundStatus.success.rawValue, "SUCCESS")
        XCTAssertEqual(NotificationEventType.refundSuccess.rawValue, "REFUND.SUCCESS")
        let future = RefundStatus(rawValue: "PARTIALLY_REFUNDED")
        XCTAssertFalse(future.isKnown)
        XCTAssertEqual(future.rawValue, "PARTIALLY_REFUNDED")
        XCTAssertEqual("\(future)", "PARTIALLY_REFUNDED")
        XCTAssertTrue(RefundStatus.processing.isKnown)
        XCTAssertEqual(RefundStatus(rawValue: "CLOSED"), .closed)
    }
}
