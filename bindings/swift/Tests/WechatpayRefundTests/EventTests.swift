import Foundation
import XCTest
import WechatpayRefund
import WechatpayRefundTesting

/// The events received by a listener (from any thread).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Event] = []

    func append(_ e: Event) { lock.lock(); items.append(e); lock.unlock() }
    var all: [Event] { lock.lock(); defer { lock.unlock() }; return items }

    /// The events of the calls about one refund (the call's span adds `out_refund_no`): events of
    /// an earlier test's background threads cannot slip in.
    func of(_ outRefundNo: String, named name: String? = nil) -> [Event] {
        all.filter { $0["out_refund_no"]?.stringValue == outRefundNo && (name == nil || $0.name == name) }
    }
}

/// Issue 22 §3: the library's events as Swift values (WechatpayRefundEvents, Events.swift). The
/// listener is process-wide and XCTest runs every test in one process: tearDown unregisters.
final class EventTests: XCTestCase {
    var sandbox: Sandbox!
    var client: RefundClient!

    override func setUpWithError() throws {
        (sandbox, client) = try startSandboxWithClient()
    }

    override func tearDown() {
        WechatpayRefundEvents.unregister()
        super.tearDown()
    }

    func refund(_ order: String, _ no: String, _ amount: Int64, of total: Int64) -> CreateRefundRequest {
        CreateRefundRequest(outRefundNo: no, amount: RefundAmountInput(refund: amount, total: total), outTradeNo: order)
    }

    func testAttemptsAndTheRetryOfARefundArriveAsEvents() throws {
        let log = EventLog()
        XCTAssertTrue(WechatpayRefundEvents.register(level: .debug) { log.append($0) })
        XCTAssertEqual(WechatpayRefundEvents.level, .debug)
        _ = try sandbox.createOrder(outTradeNo: "TEV1", total: 10000)
        sandbox.injectFault(fault: .systemError, count: 1)
        XCTAssertEqual(try client.createRefund(request: refund("TEV1", "REV1", 100, of: 10000)).status, .processing)

        for e in log.of("REV1") { print("event: \(e)") } // the README's excerpt comes from this
        let attempts = log.of("REV1", named: "http.attempt")
        XCTAssertEqual(attempts.map { $0["status"]?.intValue }, [500, 200])
        XCTAssertEqual(attempts.map { $0["attempt"]?.intValue }, [1, 2])
        XCTAssertEqual(attempts.map { $0.level }, [.debug, .debug])
        for a in attempts {
            XCTAssertEqual(a["method"]?.stringValue, "POST")
            XCTAssertTrue(a["path"]?.stringValue?.hasPrefix("/v3/refund/domestic/refunds") ?? false, "\(a)")
            XCTAssertEqual(a["operation"]?.stringValue, "create_refund")
            XCTAssertNotNil(a["elapsed_ms"]?.intValue)
        }
        let second = try XCTUnwrap(attempts.last)
        XCTAssertFalse((second["request_id"]?.stringValue ?? "").isEmpty, "\(second)")
        XCTAssertTrue("\(second)".hasPrefix("http.attempt method=POST path=/v3/refund/domestic/refunds status=200 attempt=2 "), "\(second)")
        XCTAssertFalse(second.description.contains("event="), "the name is not repeated as a field")
        XCTAssertEqual(second.values["status"], .integer(value: 200))
        XCTAssertNil(second.values["event"])

        let retries = log.of("REV1", named: "http.retry")
        XCTAssertEqual(retries.count, 1)
        let retry = try XCTUnwrap(retries.first)
        XCTAssertEqual(retry.level, .info)
        XCTAssertEqual(retry["next_attempt"]?.intValue, 2)
        XCTAssertEqual(retry["reason"]?.stringValue, "http 500 SYSTEM_ERROR")
        XCTAssertTrue("\(retry)".contains(" reason=\"http 500 SYSTEM_ERROR\" "), "\(retry)")

        // The counters of the same calls.
        let stats = client.stats()
        XCTAssertEqual(stats.attempts, 2)
        XCTAssertEqual(stats.retries, 1)
        let text = stats.toPrometheus()
        print(text) // and this one too
        XCTAssertTrue(text.contains("wechatpay_refund_http_attempts_total 2\n"), text)
        XCTAssertTrue(text.contains("wechatpay_refund_retries_total 1\n"), text)
        XCTAssertTrue(text.contains("wechatpay_refund_calls_total{operation=\"create_refund\",outcome=\"ok\"} 1\n"), text)
    }

    func testAListenerObjectAndTheInfoLevel() throws {
        final class Names: EventListener, @unchecked Sendable {
            let log = EventLog()
            func onEvent(event: Event) { log.append(event) }
        }
        let names = Names()
        WechatpayRefundEvents.register(listener: names) // .info by default: no attempts
        XCTAssertEqual(WechatpayRefundEvents.level, .info)
        _ = try sandbox.createOrder(outTradeNo: "TEV2", total: 1000)
        sandbox.injectFault(fault: .systemError, count: 1)
        _ = try client.createRefund(request: refund("TEV2", "REV2", 10, of: 1000))
        XCTAssertEqual(names.log.of("REV2").map { $0.name }, ["http.retry"])
    }

    func testNothingArrivesAtLevelNilOrAfterUnregister() throws {
        let log = EventLog()
        WechatpayRefundEvents.register(level: .trace) { log.append($0) }
        WechatpayRefundEvents.level = nil
        XCTAssertNil(WechatpayRefundEvents.level)
        _ = try sandbox.createOrder(outTradeNo: "TEV3", total: 10000)
        sandbox.injectFault(fault: .systemError, count: 1)
        _ = try client.createRefund(request: refund("TEV3", "REV3", 100, of: 10000))
        XCTAssertEqual(log.all.count, 0, "\(log.all)")

        WechatpayRefundEvents.level = .debug // the same listener again
        _ = try client.queryRefund(outRefundNo: "REV3", subMchid: nil)
        XCTAssertEqual(log.of("REV3").map { $0.name }, ["http.attempt"])

        WechatpayRefundEvents.unregister()
        XCTAssertNil(WechatpayRefundEvents.level)
        let before = log.all.count
        sandbox.injectFault(fault: .systemError, count: 1)
        _ = try client.queryRefund(outRefundNo: "REV3", subMchid: nil)
        _ = refundError { try client.queryRefund(outRefundNo: "R404", subMchid: nil) }
        XCTAssertEqual(log.all.count, before)
    }

    func testNoEventHoldsAKeyASignatureOrPersonalData() throws {
        let log = EventLog()
        WechatpayRefundEvents.register(level: .trace) { log.append($0) }
        let k = sandbox.credentials()

        _ = try sandbox.createOrder(outTradeNo: "TEV4", total: 10000)
        sandbox.injectFault(fault: .systemError, count: 1)
        let r = try client.createRefund(request: refund("TEV4", "REV4", 100, of: 10000))
        try sandbox.setRefundStatus(outRefundNo: "REV4", status: .abnormal)
        _ = try client.applyAbnormalRefund(request: AbnormalRefundRequest(
            refundId: r.refundId, outRefundNo: "REV4", kind: .userBankCard,
            bankType: "ICBC_DEBIT", bankAccount: "6222021234567890", realName: "张三"
        ))
        try sandbox.setRefundStatus(outRefundNo: "REV4", status: .success)
        let n = try sandbox.notification(outRefundNo: "REV4")
        _ = try client.parseNotification(headers: n.headers, body: n.body)
        sandbox.injectFault(fault: .tamperedBody, count: 1)
        _ = refundError { try client.queryRefund(outRefundNo: "REV4", subMchid: nil) }
        _ = refundError { try client.queryRefund(outRefundNo: "R404", subMchid: nil) }

        let events = log.all
        let names = Set(events.map { $0.name })
        XCTAssertTrue(names.isSuperset(of: ["http.attempt", "http.retry", "verify.failed"]), "\(names)")
        let text = events.map { "\($0) \(String(reflecting: $0))" }.joined(separator: "\n")

        let keyLines = k.merchantPrivateKeyPem.split(whereSeparator: \.isNewline)
            .map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 16 }
        XCTAssertFalse(keyLines.isEmpty)
        for line in keyLines { XCTAssertFalse(text.contains(line), "a line of the private key PEM is in an event") }
        XCTAssertFalse(text.contains("PRIVATE KEY"))
        XCTAssertFalse(text.contains(k.apiV3Key), "the API v3 key is in an event")
        for secret in ["Authorization", "WECHATPAY2-SHA256-RSA2048", "signature=\"", "6222021234567890", "张三"] {
            XCTAssertFalse(text.contains(secret), "\(secret) is in an event")
        }
        let body = String(decoding: n.body, as: UTF8.self)
        if let range = body.range(of: "\"ciphertext\":\"") {
            let ciphertext = body[range.upperBound...].prefix(while: { $0 != "\"" })
            XCTAssertFalse(text.contains(String(ciphertext.prefix(24))), "the notification's ciphertext is in an event")
        } else {
            XCTFail("the sandbox's notification has no ciphertext: \(body)")
        }
    }

    func testEventValuesAndDescription() {
        let e = Event(name: "http.retry", level: .info, fields: [
            EventField(key: "event", value: .text(value: "http.retry")),
            EventField(key: "reason", value: .text(value: "http 500 SYSTEM_ERROR")),
            EventField(key: "delay_ms", value: .integer(value: 120)),
            EventField(key: "request_id", value: .text(value: "")),
            EventField(key: "ok", value: .flag(value: false)),
            EventField(key: "ratio", value: .real(value: 0.5)),
        ])
        XCTAssertEqual(e.description, "http.retry reason=\"http 500 SYSTEM_ERROR\" delay_ms=120 request_id=\"\" ok=false ratio=0.5")
        XCTAssertEqual(e["delay_ms"]?.intValue, 120)
        XCTAssertEqual(e["delay_ms"]?.doubleValue, 120)
        XCTAssertNil(e["delay_ms"]?.stringValue)
        XCTAssertEqual(e["reason"]?.stringValue, "http 500 SYSTEM_ERROR")
        XCTAssertEqual(e["ok"]?.boolValue, false)
        XCTAssertEqual(e["ratio"]?.doubleValue, 0.5)
        XCTAssertNil(e["missing"])
        XCTAssertEqual(Set(e.values.keys), ["reason", "delay_ms", "request_id", "ok", "ratio"])
    }
}
