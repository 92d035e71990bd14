// Quickstart: a whole refund against the embedded sandbox, step by step.
//
//   scripts/run-example-swift
//
// The sandbox is a real WeChat Pay refund server on 127.0.0.1, inside the library: it checks
// every signature, signs every answer and encrypts notifications, with fresh TEST keys. Against
// production, build the ClientConfig from your merchant credentials instead (see step 8).
import Foundation
import WechatpayRefund

func step(_ n: Int, _ text: String) { print("\n[\(n)] \(text)") }

do {
    let sandbox = try Sandbox.start()
    defer { sandbox.stop() }
    step(1, "Sandbox started at \(sandbox.baseUrl())")

    let transactionId = try sandbox.createOrder(outTradeNo: "T20261123001", total: 10000)
    step(2, "Paid order T20261123001 of 100.00 CNY seeded (transaction_id \(transactionId))")

    let client = try RefundClient(config: try sandbox.clientConfig())
    // Money is integer fen. Retrying with the same outRefundNo is always safe.
    var refund = try client.createRefund(request: CreateRefundRequest(
        outRefundNo: "R20261123001",
        amount: RefundAmountInput(refund: 100, total: 10000),
        outTradeNo: "T20261123001",
        reason: "商品已售完"
    ))
    step(3, "Refund applied: \(refund.outRefundNo) is \(refund.status) (refund_id \(refund.refundId), \(refund.amount.refund) fen)")

    try sandbox.setRefundStatus(outRefundNo: "R20261123001", status: .abnormal)
    refund = try client.queryRefund(outRefundNo: "R20261123001", subMchid: nil)
    step(4, "Queried: \(refund.status) (the user's card could not take the money)")

    // Bank account and name are encrypted with the WeChat Pay key before they leave.
    refund = try client.applyAbnormalRefund(request: AbnormalRefundRequest(
        refundId: refund.refundId,
        outRefundNo: "R20261123001",
        kind: .userBankCard,
        bankType: "ICBC_DEBIT",
        bankAccount: "6222021234567890",
        realName: "张三"
    ))
    step(5, "Abnormal refund re-routed to a bank card: \(refund.status)")

    try sandbox.setRefundStatus(outRefundNo: "R20261123001", status: .success)
    let incoming = try sandbox.notification(outRefundNo: "R20261123001")
    // In a web handler: pass the raw headers and the raw body bytes, untouched.
    let note = try client.parseNotification(headers: incoming.headers, body: incoming.body)
    let ack = notificationAckSuccess()
    step(6, "Notification verified and decrypted: \(note.eventType) \(note.outRefundNo) \(note.refundStatus), "
        + "\(note.amount.refund) fen to \(note.userReceivedAccount); answer HTTP \(ack.status)")

    do {
        _ = try client.queryRefund(outRefundNo: "R404", subMchid: nil)
    } catch let RefundError.Api(status, code, message, _, _, _, requestId, retryable, _) {
        step(7, "Typed API error: HTTP \(status) \(code) (\(message)), Request-ID \(requestId ?? "-"), retryable=\(retryable)")
    }

    // The same client from plain credentials, as you would build it for production
    // (there: no baseUrl, your own mchid, serial, apiclient_key.pem, API v3 key, WeChat Pay public key).
    let k = sandbox.credentials()
    let config = try ClientConfig(
        mchid: k.mchid,
        merchantSerialNo: k.merchantSerialNo,
        merchantPrivateKeyPem: k.merchantPrivateKeyPem,
        apiV3Key: k.apiV3Key,
        wechatpayPublicKeyId: k.wechatpayPublicKeyId,
        wechatpayPublicKeyPem: k.wechatpayPublicKeyPem,
        baseUrl: k.baseUrl
    )
    step(8, "Config from credentials (secrets stay hidden): \(config)")
    print("    query again: \(try RefundClient(config: config).queryRefund(outRefundNo: "R20261123001", subMchid: nil).status)")
    print("\nrequests served by the sandbox: \(sandbox.requestCount())")
} catch {
    print("quickstart failed: \(error)")
    exit(1)
}
