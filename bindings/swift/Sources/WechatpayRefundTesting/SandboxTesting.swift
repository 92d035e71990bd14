// XCTest helper: a running WeChat Pay refund sandbox for one test, stopped after it.
import WechatpayRefund
import XCTest

extension XCTestCase {
    /// Starts an embedded sandbox (a real WeChat Pay refund server on 127.0.0.1 with fresh TEST
    /// keys) for the current test and stops it when the test ends (an XCTest teardown block, so it
    /// also runs after a failure).
    ///
    /// ```swift
    /// import WechatpayRefundTesting
    ///
    /// func testRefund() throws {
    ///     let (sandbox, client) = try startSandboxWithClient()
    ///     try sandbox.createOrder(outTradeNo: "T1001", total: 10000)
    ///     let r = try client.createRefund(request: CreateRefundRequest(
    ///         outRefundNo: "R1", amount: RefundAmountInput(refund: 100, total: 10000), outTradeNo: "T1001"))
    ///     XCTAssertEqual(r.status, .processing)
    /// }
    /// ```
    ///
    /// Call it from a test method or `setUpWithError()`; `options` picks the key mode, TLS, mchid.
    public func startSandbox(options: SandboxOptions? = nil) throws -> Sandbox {
        let sandbox = try options.map { try Sandbox.startWith(options: $0) } ?? Sandbox.start()
        addTeardownBlock { sandbox.stop() }
        return sandbox
    }

    /// `startSandbox(options:)` and a `RefundClient` configured for it.
    public func startSandboxWithClient(options: SandboxOptions? = nil) throws -> (Sandbox, RefundClient) {
        let sandbox = try startSandbox(options: options)
        return (sandbox, try RefundClient(config: try sandbox.clientConfig()))
    }
}
