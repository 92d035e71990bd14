import Foundation
import XCTest
import WechatpayRefund
import WechatpayRefundTesting

/// `YYYY-MM-DD` of a Unix time in China (UTC+8): the day a bill is of.
func chinaDate(_ unix: Int64) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
    f.dateFormat = "yyyy-MM-dd"
    return f.string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
}

/// SHA1 (lowercase hex) written here, so that the test does not take the library's word for it.
func sha1Hex(_ data: Data) -> String {
    var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
    var msg = [UInt8](data)
    let bits = UInt64(msg.count) * 8
    msg.append(0x80)
    while msg.count % 64 != 56 { msg.append(0) }
    for i in (0..<8).reversed() { msg.append(UInt8((bits >> (UInt64(i) * 8)) & 0xFF)) }
    func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
    for chunk in stride(from: 0, to: msg.count, by: 64) {
        var w = [UInt32](repeating: 0, count: 80)
        for i in 0..<16 {
            let j = chunk + i * 4
            w[i] = UInt32(msg[j]) << 24 | UInt32(msg[j + 1]) << 16 | UInt32(msg[j + 2]) << 8 | UInt32(msg[j + 3])
        }
        for i in 16..<80 { w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
        var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
        for i in 0..<80 {
            let (f, k): (UInt32, UInt32)
            switch i {
            case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
            case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
            case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
            default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
            }
            let t = rotl(a, 5) &+ f &+ e &+ k &+ w[i]
            (e, d, c, b, a) = (d, c, rotl(b, 30), a, t)
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
    }
    return h.map { String(format: "%08x", $0) }.joined()
}

/// Issue 20 §1 from Swift: the daily trade bill downloaded (streamed, SHA1 checked), parsed with
/// exact fen, plain and GZIP, a corrupted file refused, WeChat Pay's "no bill" answers.
final class BillTests: XCTestCase {
    var sandbox: Sandbox!
    var client: RefundClient!
    var dir: URL!

    override func setUpWithError() throws {
        (sandbox, client) = try startSandboxWithClient()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("bill-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let d = dir!
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    }

    /// One order and two refunds (29.99 yuan SUCCESS, 0.29 PROCESSING) made today; then the
    /// sandbox's clock a day on, so that today's bill is ready. Returns the day and the numbers.
    func yesterday() throws -> (String, [String]) {
        let day = chinaDate(sandbox.clock())
        _ = try sandbox.createOrder(outTradeNo: "TB1", total: 10000)
        let nos = ["RB1", "RB2"]
        for (no, fen) in zip(nos, [Int64(2999), 29]) {
            _ = try client.createRefund(request: CreateRefundRequest(
                outRefundNo: no, amount: RefundAmountInput(refund: fen, total: 10000), outTradeNo: "TB1"))
        }
        try sandbox.setRefundStatus(outRefundNo: nos[0], status: .success)
        if chinaDate(sandbox.clock()) != day {
            throw XCTSkip("midnight China time passed during the setup")
        }
        _ = sandbox.advanceClock(seconds: 86400)
        return (day, nos)
    }

    func checkRefundRows(_ bill: Bill, _ nos: [String], file: StaticString = #filePath, line: UInt = #line) {
        let refunds = Dictionary(bill.rows.filter { $0.tradeState == "REFUND" }.map { ($0.outRefundNo, $0) },
                                 uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(refunds.keys), Set(nos), file: file, line: line)
        XCTAssertEqual(refunds[nos[0]]?.refundFen, 2999, file: file, line: line)
        XCTAssertEqual(refunds[nos[0]]?.refundStatus, .success, file: file, line: line)
        XCTAssertEqual(refunds[nos[1]]?.refundFen, 29, file: file, line: line)
        XCTAssertEqual(refunds[nos[1]]?.refundStatus, .processing, file: file, line: line)
        XCTAssertEqual(refunds[nos[0]]?.outTradeNo, "TB1", file: file, line: line)
        XCTAssertFalse(refunds[nos[0]]?.refundId.isEmpty ?? true, file: file, line: line)
    }

    func testDownloadAndParsePlainAndGzipWithExactFen() throws {
        let (day, nos) = try yesterday()
        let bill = try client.downloadBill(request: TradeBillRequest(billDate: day, billType: .all))
        checkRefundRows(bill, nos)
        XCTAssertEqual(bill.rows.count, 3) // the payment and the two refunds
        XCTAssertEqual(bill.summary?.refundTotalFen, 3028)
        XCTAssertEqual(bill.summary?.totalCount, 3)
        XCTAssertTrue(bill.columns.contains("交易时间"), "\(bill.columns)")

        let gz = try client.downloadBill(request: TradeBillRequest(billDate: day, billType: .all, gzip: true))
        checkRefundRows(gz, nos)
        XCTAssertEqual(gz.rows, bill.rows)
        XCTAssertEqual(gz.summary, bill.summary)

        let refundsOnly = try client.downloadBill(request: TradeBillRequest(billDate: day, billType: .refund))
        XCTAssertEqual(Set(refundsOnly.rows.map { $0.outRefundNo }), Set(nos))
    }

    func testDownloadToAFileIsTheFileAsSentWithItsSha1() throws {
        let (day, _) = try yesterday()
        // Two steps: the signed answer (where, and the digest), then the file.
        let info = try client.tradeBill(request: TradeBillRequest(billDate: day, billType: .all))
        XCTAssertEqual(info.hashType, "SHA1")
        XCTAssertFalse(info.downloadUrl.isEmpty)
        let plainPath = dir.appendingPathComponent("bill.csv").path
        let plain = try client.downloadBillFile(info: info, path: plainPath)
        let data = try Data(contentsOf: URL(fileURLWithPath: plainPath))
        XCTAssertEqual(plain.path, plainPath)
        XCTAssertFalse(plain.gzip)
        XCTAssertEqual(plain.bytes, UInt64(data.count))
        XCTAssertEqual(plain.sha1, info.hashValue.lowercased())
        XCTAssertEqual(sha1Hex(data), plain.sha1)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).hasPrefix("交易时间,"))
        XCTAssertEqual(try parseBillFile(body: data, hashValue: info.hashValue).rows.count, 3)

        // One step, GZIP: the file is saved compressed, exactly as downloaded.
        let gzPath = dir.appendingPathComponent("bill.csv.gz").path
        let gz = try client.downloadBillTo(request: TradeBillRequest(billDate: day, billType: .refund, gzip: true), path: gzPath)
        let gzData = try Data(contentsOf: URL(fileURLWithPath: gzPath))
        XCTAssertTrue(gz.gzip)
        XCTAssertEqual(Array(gzData.prefix(2)), [0x1F, 0x8B])
        XCTAssertEqual(gz.bytes, UInt64(gzData.count))
        XCTAssertEqual(sha1Hex(gzData), gz.sha1)
        XCTAssertEqual(try parseBillFile(body: gzData, hashValue: gz.sha1).rows.count, 2)
    }

    func testACorruptedBillIsASignatureErrorAndNothingIsSaved() throws {
        let (day, _) = try yesterday()
        sandbox.corruptNextBills(count: 1)
        let path = dir.appendingPathComponent("bill.csv").path
        guard case let .Signature(reason, _)? = refundError({
            try client.downloadBillTo(request: TradeBillRequest(billDate: day, billType: .all), path: path)
        }) else { return XCTFail("a bill whose SHA1 does not match must be RefundError.Signature") }
        XCTAssertTrue(reason.contains("bill digest mismatch"), reason)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])

        // The next one is whole again; a body changed by one bit fails the sans-IO check too.
        let info = try client.tradeBill(request: TradeBillRequest(billDate: day, billType: .all))
        let f = try client.downloadBillFile(info: info, path: path)
        var data = try Data(contentsOf: URL(fileURLWithPath: f.path))
        data[data.count - 1] ^= 1
        guard case .Signature? = refundError({ try parseBillFile(body: data, hashValue: info.hashValue) }) else {
            return XCTFail("a changed bill must be RefundError.Signature")
        }
    }

    func testNoBillYetAndNoBillAreApiErrorsWithTheirCodes() throws {
        let today = chinaDate(sandbox.clock())
        guard case let .Api(status, code, _, _, _, _, _, _, _)? = refundError({
            try client.tradeBill(request: TradeBillRequest(billDate: today, billType: .all))
        }) else { return XCTFail("today's bill must be RefundError.Api") }
        XCTAssertEqual(status, 400)
        XCTAssertEqual(code, "STATEMENT_CREATING")

        let twoDaysAgo = chinaDate(sandbox.clock() - 2 * 86400)
        guard case let .Api(_, noBill, _, _, _, _, _, _, _)? = refundError({
            try client.downloadBill(request: TradeBillRequest(billDate: twoDaysAgo, billType: .all))
        }) else { return XCTFail("a day without a bill must be RefundError.Api") }
        XCTAssertEqual(noBill, "NO_STATEMENT_EXIST")

        guard case let .InvalidInput(field, _)? = refundError({
            try client.tradeBill(request: TradeBillRequest(billDate: "2026-02-30", billType: .all))
        }) else { return XCTFail("a date that does not exist must be InvalidInput") }
        XCTAssertEqual(field, "bill_date")
    }
}
