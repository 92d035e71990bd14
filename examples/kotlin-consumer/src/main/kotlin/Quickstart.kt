// Quickstart: a whole refund against the embedded sandbox, step by step.
//
//   scripts/run-example-kotlin        (= mvn -f bindings/kotlin/pom.xml install, then
//                                       mvn -f examples/kotlin-consumer/pom.xml verify)
//
// This project depends only on the Maven coordinates com.wechatpayrefund:wechatpay-refund.
// Each step checks its outcome: a wrong answer fails the run (and CI).
//
// The sandbox is a real WeChat Pay refund server on 127.0.0.1, inside the library: it checks
// every signature, signs every answer and encrypts notifications, with fresh TEST keys. Against
// production, build the ClientConfig from your merchant credentials instead (see step 8).

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.FastPath
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.buildQueryRefundRequest
import com.wechatpayrefund.notificationAckSuccess
import com.wechatpayrefund.invoke

fun step(n: Int, text: String) = println("\n[$n] $text")

fun main() {
    Sandbox.start().use { sandbox ->
        step(1, "Sandbox started at ${sandbox.baseUrl()}")

        val transactionId = sandbox.createOrder("T20261123001", 10000)
        step(2, "Paid order T20261123001 of 100.00 CNY seeded (transaction_id $transactionId)")

        RefundClient(sandbox.clientConfig()).use { client ->
            // Money is integer fen. Retrying with the same outRefundNo is always safe.
            var refund = client.createRefund(
                CreateRefundRequest(
                    outTradeNo = "T20261123001",
                    outRefundNo = "R20261123001",
                    amount = RefundAmountInput(refund = 100, total = 10000),
                    reason = "商品已售完",
                ),
            )
            check(refund.status == RefundStatus.PROCESSING) { "apply: ${refund.status}" }
            step(3, "Refund applied: ${refund.outRefundNo} is ${refund.status} (refund_id ${refund.refundId}, ${refund.amount.refund} fen)")

            sandbox.setRefundStatus("R20261123001", RefundStatus.ABNORMAL)
            refund = client.queryRefund("R20261123001", null)
            check(refund.status == RefundStatus.ABNORMAL) { "query: ${refund.status}" }
            step(4, "Queried: ${refund.status} (the user's card could not take the money)")

            // Bank account and name are encrypted with the WeChat Pay key before they leave.
            refund = client.applyAbnormalRefund(
                AbnormalRefundRequest(
                    refundId = refund.refundId,
                    outRefundNo = "R20261123001",
                    kind = AbnormalRefundKind.USER_BANK_CARD,
                    bankType = "ICBC_DEBIT",
                    bankAccount = "6222021234567890",
                    realName = "张三",
                ),
            )
            check(refund.status == RefundStatus.PROCESSING) { "abnormal refund: ${refund.status}" }
            step(5, "Abnormal refund re-routed to a bank card: ${refund.status}")

            sandbox.setRefundStatus("R20261123001", RefundStatus.SUCCESS)
            val incoming = sandbox.notification("R20261123001")
            // In a web handler: pass the raw headers and the raw body bytes, untouched.
            val note = client.parseNotification(incoming.headers, incoming.body)
            check(note.refundStatus == RefundStatus.SUCCESS && note.outRefundNo == "R20261123001") { "notification: $note" }
            val ack = notificationAckSuccess()
            step(6, "Notification verified and decrypted: ${note.eventType} ${note.outRefundNo} ${note.refundStatus}, " +
                "${note.amount.refund} fen to ${note.userReceivedAccount}; answer HTTP ${ack.status}")

            try {
                client.queryRefund("R404", null)
                error("a query of an unknown refund succeeded")
            } catch (e: RefundException.Api) {
                check(e.status.toInt() == 404) { "expected HTTP 404, got ${e.status}" }
                step(7, "Typed API error: HTTP ${e.status} ${e.code} (${e.errorMessage}), Request-ID ${e.requestId}, retryable=${e.retryable}")
            }
        }

        // The same client from plain credentials, as you would build it for production
        // (there: no baseUrl, your own mchid, serial, apiclient_key.pem, API v3 key, WeChat Pay public key).
        val k = sandbox.credentials()
        val config = ClientConfig(
            mchid = k.mchid,
            merchantSerialNo = k.merchantSerialNo,
            merchantPrivateKeyPem = k.merchantPrivateKeyPem,
            apiV3Key = k.apiV3Key,
            wechatpayPublicKeyId = k.wechatpayPublicKeyId,
            wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
            baseUrl = k.baseUrl,
        )
        step(8, "Config from credentials (secrets stay hidden): $config")
        RefundClient(config).use { client ->
            val again = client.queryRefund("R20261123001", null).status
            check(again == RefundStatus.SUCCESS) { "query again: $again" }
            println("    query again: $again")
        }

        // Bring your own HTTP client: the sans-IO functions sign (and verify, parse) without
        // sending anything — on the JVM in one JNI call each (FastPath), straight from this jar.
        val signed = buildQueryRefundRequest(config, "R20261123001", null, System.currentTimeMillis() / 1000, "NONCE0123")
        check(signed.headers.any { it.name == "Authorization" && it.value.startsWith("WECHATPAY2-SHA256-RSA2048 ") }) { "unsigned: $signed" }
        check(FastPath.isEnabled) { "the JVM fast path is off: ${FastPath.disabledReason}" }
        step(9, "Sans-IO: ${signed.method} ${signed.url} signed, nothing sent (JVM fast path live: ${FastPath.isEnabled})")
        println("\nrequests served by the sandbox: ${sandbox.requestCount()}")
        sandbox.stop()
    }
}
