package com.wechatpayrefund.test

import com.wechatpayrefund.ClientOptions
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.V2Config
import com.wechatpayrefund.V2RefundClient
import com.wechatpayrefund.V2RefundQuery
import com.wechatpayrefund.V2RefundRequest
import com.wechatpayrefund.V2RefundStatus
import com.wechatpayrefund.V2SignType
import com.wechatpayrefund.v2NotificationAckSuccess
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import com.wechatpayrefund.invoke

/** Legacy v2 refunds through the sandbox: mutual TLS, MD5/HMAC-SHA256, typed errors. */
@Timeout(120)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class V2Test {
    private val sandbox = Sandbox.start()
    private val v2 = V2RefundClient(sandbox.v2Config())

    @AfterAll
    fun stop() = sandbox.stop()

    @Test
    fun `apply, query, notification`() {
        sandbox.createOrder("T20261124001", 10000)
        val r = v2.refund(V2RefundRequest(outRefundNo = "R2V1", totalFee = 10000, refundFee = 100, outTradeNo = "T20261124001"))
        assertEquals(100L, r.refundFee)
        assertTrue(r.refundId.isNotEmpty())
        val q = v2.refundQuery(V2RefundQuery(outRefundNo = "R2V1"))
        assertEquals(V2RefundStatus.PROCESSING, q.refunds[0].refundStatus)
        sandbox.setRefundStatus("R2V1", RefundStatus.SUCCESS)
        val note = v2.parseRefundNotification(sandbox.v2Notification("R2V1"))
        assertEquals(V2RefundStatus.SUCCESS, note.refundStatus)
        assertEquals("R2V1", note.outRefundNo)
        assertTrue(String(v2NotificationAckSuccess()).contains("SUCCESS"))
    }

    @Test
    fun `typed errors, wrong key, missing certificate, HMAC-SHA256`() {
        sandbox.createOrder("T-KT-V2-ERR", 1000)
        val e = assertThrows(RefundException.V2Api::class.java) {
            v2.refund(V2RefundRequest(outRefundNo = "R-KT-1", totalFee = 1000, refundFee = 1, outTradeNo = "T-KT-NONE"))
        }
        assertEquals("ORDERNOTEXIST", e.errCode)
        assertFalse(e.retryable)

        val c = sandbox.v2Credentials()
        val opts = ClientOptions(trustRootsPem = listOf(c.caPem))
        val wrong = V2RefundClient(V2Config(appid = c.appid, mchId = c.mchId, apiKey = "0".repeat(32),
            clientCertPem = c.clientCertPem, clientKeyPem = c.clientKeyPem, baseUrl = c.baseUrl, options = opts))
        val w = assertThrows(RefundException.V2Api::class.java) {
            wrong.refund(V2RefundRequest(outRefundNo = "R-KT-2", totalFee = 1000, refundFee = 1, outTradeNo = "T-KT-V2-ERR"))
        }
        assertEquals("FAIL", w.returnCode)
        assertNull(w.errCode)
        assertNull(w.retryAfterMs)

        // When to retry: INVALID_REQ_TOO_MUCH blocks for a minute (longer than the deadline:
        // returned at once, with the wait).
        sandbox.v2InjectError("INVALID_REQ_TOO_MUCH", 1u)
        val held = assertThrows(RefundException.V2Api::class.java) {
            v2.refund(V2RefundRequest(outRefundNo = "R-KT-5", totalFee = 1000, refundFee = 1, outTradeNo = "T-KT-V2-ERR"))
        }
        assertTrue(held.retryable)
        assertEquals(60_000uL, held.retryAfterMs)

        val noCert = V2RefundClient(V2Config(appid = c.appid, mchId = c.mchId, apiKey = c.apiKey, baseUrl = c.baseUrl, options = opts))
        assertThrows(RefundException.Config::class.java) {
            noCert.refund(V2RefundRequest(outRefundNo = "R-KT-3", totalFee = 1000, refundFee = 1, outTradeNo = "T-KT-V2-ERR"))
        }

        val hmac = V2RefundClient(V2Config(appid = c.appid, mchId = c.mchId, apiKey = c.apiKey,
            clientCertPem = c.clientCertPem, clientKeyPem = c.clientKeyPem, baseUrl = c.baseUrl,
            signType = V2SignType.HMAC_SHA256, options = opts))
        assertEquals(7L, hmac.refund(V2RefundRequest(outRefundNo = "R-KT-4", totalFee = 1000, refundFee = 7, outTradeNo = "T-KT-V2-ERR")).refundFee)
    }
}
