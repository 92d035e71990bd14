package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.ClientOptions
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.NotificationEventType
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxFault
import com.wechatpayrefund.SandboxKeyMode
import com.wechatpayrefund.SandboxOptions
import com.wechatpayrefund.TransportErrorKind
import com.wechatpayrefund.junit5.SandboxExtension
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import com.wechatpayrefund.invoke

private fun refundOf(outTradeNo: String, outRefundNo: String, refund: Long, total: Long) =
    CreateRefundRequest(outTradeNo = outTradeNo, outRefundNo = outRefundNo, amount = RefundAmountInput(refund = refund, total = total))

/**
 * End to end through the embedded sandbox: a real HTTP server on 127.0.0.1 inside the library,
 * one for the class (constructor injection by SandboxExtension, stopped after the last test).
 */
@Timeout(120)
@ExtendWith(SandboxExtension::class)
class SandboxTest(private val sandbox: Sandbox, private val client: RefundClient) {

    @Test
    fun `the refund lifecycle`() {
        val transactionId = sandbox.createOrder("T100100", 10000)
        assertTrue(transactionId.isNotEmpty())

        var r = client.createRefund(refundOf("T100100", "R1", 100, 10000))
        assertEquals(RefundStatus.PROCESSING, r.status)
        assertEquals(100L, r.amount.refund)
        assertEquals(10000L, r.amount.total)
        assertEquals("R1", r.outRefundNo)
        assertEquals(transactionId, r.transactionId)
        assertTrue(r.rawJson.contains("\"out_refund_no\":\"R1\""), r.rawJson)

        sandbox.setRefundStatus("R1", RefundStatus.ABNORMAL)
        r = client.queryRefund("R1", null)
        assertEquals(RefundStatus.ABNORMAL, r.status)

        r = client.applyAbnormalRefund(
            AbnormalRefundRequest(
                refundId = r.refundId,
                outRefundNo = "R1",
                kind = AbnormalRefundKind.USER_BANK_CARD,
                bankType = "ICBC_DEBIT",
                bankAccount = "6222021234567890",
                realName = "张三",
            ),
        )
        assertEquals(RefundStatus.PROCESSING, r.status)
        // The sandbox decrypted what the library encrypted.
        assertEquals(listOf("ICBC_DEBIT", "6222021234567890", "张三"), sandbox.abnormalRefundRecipient("R1"))

        sandbox.setRefundStatus("R1", RefundStatus.SUCCESS)
        val n = sandbox.notification("R1")
        val note = client.parseNotification(n.headers, n.body)
        assertEquals("R1", note.outRefundNo)
        assertEquals(RefundStatus.SUCCESS, note.refundStatus)
        assertEquals(NotificationEventType.REFUND_SUCCESS, note.eventType)
        assertEquals("REFUND.SUCCESS", note.eventType.value)
        assertEquals("REFUND.SUCCESS", note.eventType.toString())
        assertEquals("T100100", note.outTradeNo)
        assertEquals(100L, note.amount.refund)
        assertEquals(RefundStatus.SUCCESS, client.queryRefund("R1", null).status)

        assertEquals(1u, sandbox.refundCount("T100100"))
        assertEquals(100L, sandbox.refundedTotal("T100100"))
    }

    @Test
    fun `an unknown refund is RefundException Api 404 with its Request-ID`() {
        val e = assertThrows<RefundException.Api> { client.queryRefund("R404", null) }
        assertEquals(404.toUShort(), e.status)
        assertEquals("RESOURCE_NOT_EXISTS", e.code)
        assertNotNull(e.requestId)
        assertTrue(e.requestId!!.isNotBlank())
        assertTrue(e.errorMessage.isNotBlank())
        assertFalse(e.retryable)
    }

    @Test
    fun `business errors are typed - refund above the order total`() {
        sandbox.createOrder("T200200", 500)
        val e = assertThrows<RefundException.Api> { client.createRefund(refundOf("T200200", "R-too-much", 400, 400)) }
        assertEquals(400.toUShort(), e.status)
        assertEquals("INVALID_REQUEST", e.code)
        assertEquals("amount.total", e.detailField)
    }

    @Test
    fun `bad input never reaches the server`() {
        val before = sandbox.requestCount()
        val e = assertThrows<RefundException.InvalidInput> { client.createRefund(refundOf("T10@01", "R2", 100, 10000)) }
        assertEquals("out_trade_no", e.field)
        val e2 = assertThrows<RefundException.InvalidInput> { client.createRefund(refundOf("T100100", "R2", 0, 10000)) }
        assertEquals("amount.refund", e2.field)
        assertEquals(before, sandbox.requestCount())
    }

    @Test
    fun `credentials build a working ClientConfig whose text hides the key`() {
        val k = sandbox.credentials()
        assertTrue(k.merchantPrivateKeyPem.contains("PRIVATE KEY"))
        val cfg = ClientConfig(
            mchid = k.mchid,
            merchantSerialNo = k.merchantSerialNo,
            merchantPrivateKeyPem = k.merchantPrivateKeyPem,
            apiV3Key = k.apiV3Key,
            wechatpayPublicKeyId = k.wechatpayPublicKeyId,
            wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
            baseUrl = k.baseUrl,
        )
        assertFalse(cfg.toString().contains("PRIVATE KEY"), cfg.toString())
        assertFalse(cfg.toString().contains(k.apiV3Key), cfg.toString())
        assertEquals(sandbox.baseUrl(), k.baseUrl)
        sandbox.createOrder("T300300", 2000)
        RefundClient(cfg).use { c ->
            assertFalse(c.toString().contains("PRIVATE KEY"))
            assertEquals(RefundStatus.PROCESSING, c.createRefund(refundOf("T300300", "R300", 2000, 2000)).status)
        }
    }

    @Test
    fun `retries - a 500 SYSTEM_ERROR is retried with the same request, refunding once`() {
        sandbox.createOrder("T400400", 1000)
        val before = sandbox.requestCount()
        sandbox.injectFault(SandboxFault.SystemError, 2u)
        val r = client.createRefund(refundOf("T400400", "R400", 10, 1000))
        assertEquals(RefundStatus.PROCESSING, r.status)
        assertEquals(3u, sandbox.requestCount() - before)
        assertEquals(1u, sandbox.refundCount("T400400"))
    }

    @Test
    fun `retries - a dropped connection after processing refunds once`() {
        sandbox.createOrder("T500500", 1000)
        // A short read timeout: however the dropped exchange ends (reset or silence), it ends soon.
        val k = sandbox.credentials()
        val cfg = ClientConfig(
            k.mchid, k.merchantSerialNo, k.merchantPrivateKeyPem, k.apiV3Key,
            wechatpayPublicKeyId = k.wechatpayPublicKeyId, wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
            baseUrl = k.baseUrl,
            options = ClientOptions(readTimeoutMs = 1000u, initialBackoffMs = 20u),
        )
        sandbox.injectFault(SandboxFault.DropConnection, 1u)
        RefundClient(cfg).use { c ->
            val r = c.createRefund(refundOf("T500500", "R500", 10, 1000))
            assertEquals("R500", r.outRefundNo)
        }
        assertEquals(1u, sandbox.refundCount("T500500"))
    }

    @Test
    fun `a dropped answer is an unknown outcome - the same out_refund_no settles it`() {
        sandbox.createOrder("T500510", 1000)
        val k = sandbox.credentials()
        val cfg = ClientConfig(
            k.mchid, k.merchantSerialNo, k.merchantPrivateKeyPem, k.apiV3Key,
            wechatpayPublicKeyId = k.wechatpayPublicKeyId, wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
            baseUrl = k.baseUrl,
            options = ClientOptions(readTimeoutMs = 1000u, maxAttempts = 1u),
        )
        sandbox.injectFault(SandboxFault.DropConnection, 1u)
        RefundClient(cfg).use { c ->
            val e = assertThrows<RefundException.Transport> { c.createRefund(refundOf("T500510", "R510", 10, 1000)) }
            assertTrue(e.isOutcomeUnknown() && e.isRetryable(), "$e")
            // Query it, or send it again with the same out_refund_no: one refund.
            assertEquals("R510", c.createRefund(refundOf("T500510", "R510", 10, 1000)).outRefundNo)
            val missing = assertThrows<RefundException.Api> { c.queryRefund("R-none-510", null) }
            assertFalse(missing.isOutcomeUnknown())
        }
        assertEquals(1u, sandbox.refundCount("T500510"))
    }

    @Test
    fun `verification failures are typed`() {
        sandbox.createOrder("T600600", 1000)
        client.createRefund(refundOf("T600600", "R600", 10, 1000))
        sandbox.injectFault(SandboxFault.TamperedBody, 1u)
        assertThrows<RefundException.Signature> { client.queryRefund("R600", null) }
        sandbox.injectFault(SandboxFault.StaleTimestamp, 1u)
        assertThrows<RefundException.TimestampOutOfWindow> { client.queryRefund("R600", null) }
        sandbox.injectFault(SandboxFault.ProbeSignature, 1u)
        assertThrows<RefundException.ProbeSignature> { client.queryRefund("R600", null) }
        sandbox.injectFault(SandboxFault.UnknownSerial, 1u)
        assertThrows<RefundException.UnknownSerial> { client.queryRefund("R600", null) }
        assertEquals(RefundStatus.PROCESSING, client.queryRefund("R600", null).status)
    }

    @Test
    fun `a slow answer past the read timeout is a Transport timeout`() {
        sandbox.createOrder("T700700", 1000)
        val k = sandbox.credentials()
        val impatient = ClientConfig(
            k.mchid, k.merchantSerialNo, k.merchantPrivateKeyPem, k.apiV3Key,
            wechatpayPublicKeyId = k.wechatpayPublicKeyId, wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
            baseUrl = k.baseUrl,
            options = ClientOptions(readTimeoutMs = 200u, maxAttempts = 1u),
        )
        sandbox.injectFault(SandboxFault.Delay(1500u), 1u)
        RefundClient(impatient).use { c ->
            val e = assertThrows<RefundException.Transport> { c.queryRefund("R-none", null) }
            assertEquals(TransportErrorKind.TIMEOUT, e.kind)
            assertTrue(e.retryable)
        }
        sandbox.clearFaults()
    }

    @Test
    fun `one client shared by many JVM threads`() {
        sandbox.createOrder("T800800", 100000)
        val pool = Executors.newFixedThreadPool(8)
        try {
            val results = (1..16).map { i ->
                pool.submit(Callable { client.createRefund(refundOf("T800800", "R800-$i", 100, 100000)) })
            }.map { it.get(60, TimeUnit.SECONDS) }
            assertEquals((1..16).map { "R800-$it" }.toSet(), results.map { it.outRefundNo }.toSet())
            assertEquals(16u, sandbox.refundCount("T800800"))
            assertEquals(1600L, sandbox.refundedTotal("T800800"))
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `certificate mode and migration mode`() {
        for (mode in listOf(SandboxKeyMode.CERTIFICATE, SandboxKeyMode.BOTH)) {
            Sandbox.startWith(SandboxOptions(port = 0u, mode = mode)).use { sb ->
                val k = sb.credentials()
                assertNotNull(k.platformCertificatePem, "$mode")
                assertNotNull(k.platformCertificateSerialNo, "$mode")
                if (mode == SandboxKeyMode.CERTIFICATE) assertNull(k.wechatpayPublicKeyId) else assertNotNull(k.wechatpayPublicKeyId)
                sb.createOrder("T900900", 1000)
                RefundClient(sb.clientConfig()).use { c ->
                    assertEquals(RefundStatus.PROCESSING, c.createRefund(refundOf("T900900", "R900", 10, 1000)).status)
                    sb.setRefundStatus("R900", RefundStatus.CLOSED)
                    val n = sb.notification("R900")
                    assertEquals(RefundStatus.CLOSED, c.parseNotification(n.headers, n.body).refundStatus)
                }
                sb.stop()
            }
        }
    }
}
