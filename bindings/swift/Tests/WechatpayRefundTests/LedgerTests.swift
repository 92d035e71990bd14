import Foundation
import XCTest
import WechatpayRefund
import WechatpayRefundTesting

/// The refund ledger (issue 19) from Swift: the Python contract as Swift, on SQLite.
final class LedgerTests: XCTestCase {
    var sandbox: Sandbox!
    var client: RefundClient!

    override func setUpWithError() throws {
        (sandbox, client) = try startSandboxWithClient()
    }

    func refund(_ order: String, _ no: String, _ amount: Int64, of total: Int64) -> CreateRefundRequest {
        CreateRefundRequest(outRefundNo: no, amount: RefundAmountInput(refund: amount, total: total), outTradeNo: order)
    }

    func testTheLifecycleOfTheContract() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("refunds.db").path
        let ledger = try RefundLedger.openSqlite(path: db, client: client)

        _ = try sandbox.createOrder(outTradeNo: "T20261202001", total: 10000)
        let req = refund("T20261202001", "R1", 100, of: 10000)
        let e = try ledger.submit(request: req)
        XCTAssertEqual(e.outRefundNo, "R1")
        XCTAssertEqual(e.status, .processing)
        XCTAssertEqual(e.state, .open)
        XCTAssertNotNil(e.refundId)
        XCTAssertEqual(try ledger.submit(request: req).refundId, e.refundId)
        XCTAssertEqual(sandbox.refundCount(outTradeNo: "T20261202001"), 1)
        guard case let .InvalidInput(field, _)? = refundError({ try ledger.submit(request: refund("T20261202001", "R1", 200, of: 10000)) })
        else { return XCTFail("an out_refund_no reused with another amount must be refused before sending") }
        XCTAssertEqual(field, "amount.refund")

        try sandbox.setRefundStatus(outRefundNo: "R1", status: .success)
        let n = try sandbox.notification(outRefundNo: "R1")
        _ = try ledger.handleNotification(headers: n.headers, body: n.body)
        _ = try ledger.handleNotification(headers: n.headers, body: n.body)
        XCTAssertEqual(try ledger.get(outRefundNo: "R1")?.status, .success)

        _ = try sandbox.createOrder(outTradeNo: "T20261202002", total: 500)
        _ = try ledger.submit(request: refund("T20261202002", "R2", 500, of: 500))
        try sandbox.setRefundStatus(outRefundNo: "R2", status: .abnormal)
        let changed = try ledger.poll(onlyDue: false)
        XCTAssertEqual(changed.map { $0.outRefundNo }, ["R2"])
        XCTAssertEqual(changed.first?.status, .abnormal)
        XCTAssertEqual(try ledger.needsAction().map { $0.outRefundNo }, ["R2"])
        let refundId = try XCTUnwrap(try ledger.get(outRefundNo: "R2")?.refundId)
        _ = try ledger.resolveAbnormal(request: AbnormalRefundRequest(refundId: refundId, outRefundNo: "R2", kind: .merchantBankCard))
        XCTAssertEqual(try ledger.needsAction().count, 0)
        try sandbox.setRefundStatus(outRefundNo: "R2", status: .success)
        _ = try ledger.poll(onlyDue: false)
        XCTAssertEqual(try ledger.get(outRefundNo: "R2")?.status, .success)

        let evs = try ledger.events(after: 0)
        XCTAssertEqual(evs.map { $0.seq }, Array(Set(evs.map { $0.seq })).sorted())
        XCTAssertEqual(evs.filter { $0.outRefundNo == "R1" }.map { $0.status }, [.processing, .success])
        XCTAssertTrue(evs.filter { $0.outRefundNo == "R2" }.map { $0.status }.contains(.abnormal))
        XCTAssertEqual(try ledger.events(after: evs.last!.seq).count, 0)

        ledger.close()
        let again = try RefundLedger.openSqlite(path: db, client: client)
        XCTAssertEqual(try again.get(outRefundNo: "R1")?.status, .success)
        XCTAssertNil(try again.get(outRefundNo: "R404"))
        XCTAssertEqual(try again.resume().count, 0)
    }

    func testReconcileTheDaysBillAgainstTheLedger() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try RefundLedger.openSqlite(path: dir.appendingPathComponent("refunds.db").path, client: client)
        defer { ledger.close() }
        let day = chinaDate(sandbox.clock())
        _ = try sandbox.createOrder(outTradeNo: "TRC", total: 10000)
        for (no, fen) in [("RC1", Int64(100)), ("RC2", 200)] {
            _ = try ledger.submit(request: refund("TRC", no, fen, of: 10000))
            try sandbox.setRefundStatus(outRefundNo: no, status: .success)
        }
        // A refund made outside the ledger (the merchant platform, another system).
        _ = try client.createRefund(request: refund("TRC", "RC3", 300, of: 10000))
        try sandbox.setRefundStatus(outRefundNo: "RC3", status: .success)
        XCTAssertEqual(try ledger.poll(onlyDue: false).map { $0.outRefundNo }.sorted(), ["RC1", "RC2"])
        guard chinaDate(sandbox.clock()) == day else {
            return XCTFail("midnight China time passed during the setup: run again")
        }
        _ = sandbox.advanceClock(seconds: 86400) // the day's bill is ready the next day
        let bill = try client.downloadBill(request: TradeBillRequest(billDate: day, billType: .all))
        let report = try ledger.reconcile(bill: bill, billDate: day)
        XCTAssertEqual(report.matched.map { $0.outRefundNo }.sorted(), ["RC1", "RC2"])
        XCTAssertEqual(report.missingInLedger.map { $0.outRefundNo }, ["RC3"])
        XCTAssertEqual(report.missingInLedger.map { $0.refundFen }, [300])
        XCTAssertEqual(report.missingInBill.count, 0)
        XCTAssertEqual(report.amountMismatches.count, 0)
        XCTAssertEqual(report.statusMismatches.count, 0)
        guard case .InvalidInput? = refundError({ try ledger.reconcile(bill: bill, billDate: "2026-13-01") }) else {
            return XCTFail("a bill date that does not exist must be InvalidInput")
        }
    }
}
