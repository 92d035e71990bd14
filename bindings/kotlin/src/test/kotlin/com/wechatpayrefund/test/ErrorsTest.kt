package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.ClientOptions
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.buildApplyAbnormalRefundRequest
import com.wechatpayrefund.buildCreateRefundRequest
import com.wechatpayrefund.buildQueryRefundRequest
import com.wechatpayrefund.notificationAckFailure
import com.wechatpayrefund.notificationAckSuccess
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout

/** Rust `RefundError` variants arrive as typed `RefundException` subclasses with their fields. */
@Timeout(60)
class ErrorsTest {
    private val keys = Vectors.keys
    private val merchant = keys.obj("merchant")
    private val wx = keys.obj("wechatpay_public_key")

    private fun config(
        apiV3Key: String = keys.str("api_v3_key"),
        pem: String = merchant.str("private_key_pkcs8_pem"),
        options: ClientOptions? = null,
    ) = ClientConfig(
        mchid = keys.str("mchid"),
        merchantSerialNo = merchant.str("serial_no"),
        merchantPrivateKeyPem = pem,
        apiV3Key = apiV3Key,
        wechatpayPublicKeyId = wx.str("id"),
        wechatpayPublicKeyPem = wx.str("public_key_pem"),
        options = options,
    )

    @Test
    fun `Config - an API v3 key of the wrong length`() {
        val e = assertThrows<RefundException.Config> { config(apiV3Key = "too-short") }
        assertTrue(e.reason.contains("api_v3_key"), e.reason)
        assertTrue(e.reason.contains("32 bytes"), e.reason)
    }

    @Test
    fun `Config - a garbage private key PEM`() {
        val e = assertThrows<RefundException.Config> { config(pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n") }
        assertTrue(e.reason.contains("merchant_private_key_pem"), e.reason)
        assertThrows<RefundException.Config> { config(pem = "garbage") }
    }

    @Test
    fun `Config - other settings`() {
        // A public key id without its PEM.
        assertThrows<RefundException.Config> {
            ClientConfig(keys.str("mchid"), merchant.str("serial_no"), merchant.str("private_key_pkcs8_pem"), keys.str("api_v3_key"), wechatpayPublicKeyId = wx.str("id"))
        }
        // No WeChat Pay key at all.
        assertThrows<RefundException.Config> {
            ClientConfig(keys.str("mchid"), merchant.str("serial_no"), merchant.str("private_key_pkcs8_pem"), keys.str("api_v3_key"))
        }
        // Plain http to a non-loopback host.
        val e = assertThrows<RefundException.Config> {
            ClientConfig(
                keys.str("mchid"), merchant.str("serial_no"), merchant.str("private_key_pkcs8_pem"), keys.str("api_v3_key"),
                wechatpayPublicKeyId = wx.str("id"), wechatpayPublicKeyPem = wx.str("public_key_pem"),
                baseUrl = "http://api.mch.weixin.qq.com",
            )
        }
        assertTrue(e.reason.contains("base_url"), e.reason)
        // Options are checked too.
        assertThrows<RefundException.Config> { config(options = ClientOptions(maxAttempts = 0u)) }
    }

    @Test
    fun `ClientConfig - toString never shows the private key or the API v3 key`() {
        val cfg = config()
        val text = cfg.toString()
        assertTrue(text.contains(keys.str("mchid")), text)
        assertFalse(text.contains("PRIVATE KEY"), text)
        assertFalse(text.contains(keys.str("api_v3_key")), text)
        assertEquals(listOf(wx.str("id")), cfg.wechatpayKeyIds())
    }

    @Test
    fun `InvalidInput - names the offending field and nothing is signed`() {
        val cfg = config()
        fun create(amount: RefundAmountInput, outRefundNo: String = "R1", outTradeNo: String? = "T20261123001") =
            buildCreateRefundRequest(cfg, CreateRefundRequest(outRefundNo = outRefundNo, amount = amount, outTradeNo = outTradeNo), 1795000000, "NONCE")

        var e = assertThrows<RefundException.InvalidInput> { create(RefundAmountInput(refund = 0, total = 100)) }
        assertEquals("amount.refund", e.field)
        e = assertThrows { create(RefundAmountInput(refund = 101, total = 100)) }
        assertEquals("amount.refund", e.field)
        e = assertThrows { create(RefundAmountInput(refund = 1, total = 0)) }
        assertEquals("amount.total", e.field)
        e = assertThrows { create(RefundAmountInput(refund = 1, total = 100, currency = "USD")) }
        assertEquals("amount.currency", e.field)
        e = assertThrows { create(RefundAmountInput(refund = 1, total = 100), outRefundNo = "R 1") }
        assertEquals("out_refund_no", e.field)
        assertTrue(e.reason.isNotBlank())
        e = assertThrows { buildQueryRefundRequest(cfg, "", null, 1795000000, "NONCE") }
        assertEquals("out_refund_no", e.field)
        e = assertThrows { buildCreateRefundRequest(cfg, CreateRefundRequest(outRefundNo = "R1", amount = RefundAmountInput(1, 100), outTradeNo = "T20261123001"), 1795000000, "bad nonce!") }
        assertEquals("nonce", e.field)
        e = assertThrows {
            buildApplyAbnormalRefundRequest(
                cfg,
                AbnormalRefundRequest(refundId = "50000000382019052709732678859", outRefundNo = "R1", kind = AbnormalRefundKind.USER_BANK_CARD, bankType = "ICBC_DEBIT", realName = "张三"),
                1795000000, "NONCE",
            )
        }
        assertEquals("bank_account", e.field)
    }

    @Test
    fun `RefundException is one catchable type with readable text`() {
        val e: RefundException = assertThrows { config(apiV3Key = "x") }
        assertTrue(e is RefundException.Config)
        assertTrue(e.message!!.contains("api_v3_key"), e.message)
    }

    @Test
    fun `notification acknowledgements`() {
        assertEquals(204.toUShort(), notificationAckSuccess().status)
        val f = notificationAckFailure("数据库不可用")
        assertEquals(500.toUShort(), f.status)
        assertEquals("""{"code":"FAIL","message":"数据库不可用"}""", f.body)
        assertEquals("application/json", f.contentType)
    }
}
