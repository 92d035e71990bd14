package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.HttpHeader
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.parseRefundResponse
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.FundsAccount
import com.wechatpayrefund.NotificationEventType
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundChannel
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.junit5.SandboxExtension
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.security.Signature
import java.util.Base64

/** The open enums (WireEnums.kt, generated from src/wire.rs) carry the wire string, known or not. */
@Timeout(60)
class WireEnumsTest {
    @Test
    fun `constants are their wire values`() {
        assertEquals("SUCCESS", RefundStatus.SUCCESS.value)
        assertEquals("SUCCESS", RefundStatus.SUCCESS.toString())
        assertEquals("SUCCESS", "${RefundStatus.SUCCESS}")
        assertEquals("REFUND.SUCCESS", NotificationEventType.REFUND_SUCCESS.value)
        assertEquals("REFUND.SUCCESS", NotificationEventType.REFUND_SUCCESS.toString())
        assertEquals("REFUND_SUCCESS", NotificationEventType.REFUND_SUCCESS.name)
        assertEquals("OTHER_BANKCARD", RefundChannel.OTHER_BANKCARD.value)
        assertEquals("ECNY_BASIC", FundsAccount.ECNY_BASIC.value)
        assertEquals("USER_BANK_CARD", AbnormalRefundKind.USER_BANK_CARD.value)
        assertTrue(RefundStatus.SUCCESS.isFinal())
        assertFalse(RefundStatus.ABNORMAL.isFinal())
    }

    @Test
    fun `of() finds the constant, or keeps an unknown value as received`() {
        assertEquals(RefundStatus.PROCESSING, RefundStatus.of("PROCESSING"))
        assertTrue(RefundStatus.of("PROCESSING").isKnown)
        val future = RefundStatus.of("PARTIALLY_REFUNDED")
        assertFalse(future.isKnown)
        assertEquals("UNKNOWN", future.name)
        assertEquals("PARTIALLY_REFUNDED", future.value)
        assertEquals("PARTIALLY_REFUNDED", future.toString())
        assertEquals(RefundStatus.of("PARTIALLY_REFUNDED"), future)
        assertEquals(RefundStatus.of("PARTIALLY_REFUNDED").hashCode(), future.hashCode())
        assertNotEquals(RefundStatus.PROCESSING, future)
        assertEquals(listOf("PROCESSING", "SUCCESS", "CLOSED", "ABNORMAL"), RefundStatus.entries.map { it.value })
        assertEquals("REFUND.ABNORMAL", NotificationEventType.of("REFUND.ABNORMAL").value)
    }
}

/** Across the FFI: values the server sends that this version does not know keep their raw string. */
@Timeout(60)
@ExtendWith(SandboxExtension::class)
class WireEnumsFfiTest {
    private val keys = Vectors.keys
    private val wx = keys.obj("wechatpay_public_key")

    @Test
    fun `unknown values in a verified response keep their raw strings`() {
        val verification = Vectors.load("verification.json")
        val ok = Vectors.cases(verification).getValue("ok_public_key")
        val original = ok.str("body")
        assertTrue(original.contains("\"status\":\"PROCESSING\""), original)
        assertTrue(original.contains("\"channel\":\"ORIGINAL\""), original)
        val body = original.replace("\"status\":\"PROCESSING\"", "\"status\":\"PARTIALLY_REFUNDED\"")
            .replace("\"channel\":\"ORIGINAL\"", "\"channel\":\"DIGITAL_WALLET\"")
        // Signed here with the vector WeChat Pay key (JCA), as the server would.
        val ts = verification.long("now")
        val nonce = "WIRE0123456789"
        val signature = Signature.getInstance("SHA256withRSA").run {
            initSign(pkcs8PrivateKey(wx.str("private_key_pkcs8_pem")))
            update("$ts\n$nonce\n$body\n".toByteArray())
            Base64.getEncoder().encodeToString(sign())
        }
        val headers = listOf(
            HttpHeader("Wechatpay-Timestamp", ts.toString()),
            HttpHeader("Wechatpay-Nonce", nonce),
            HttpHeader("Wechatpay-Signature", signature),
            HttpHeader("Wechatpay-Serial", wx.str("id")),
            HttpHeader("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
        )
        val config = ClientConfig(
            mchid = keys.str("mchid"),
            merchantSerialNo = keys.obj("merchant").str("serial_no"),
            merchantPrivateKeyPem = keys.obj("merchant").str("private_key_pkcs8_pem"),
            apiV3Key = keys.str("api_v3_key"),
            wechatpayPublicKeyId = wx.str("id"),
            wechatpayPublicKeyPem = wx.str("public_key_pem"),
        )
        val r = parseRefundResponse(config, HttpResponse(200u, headers, body.toByteArray()), ts)
        assertEquals("PARTIALLY_REFUNDED", r.status.value)
        assertFalse(r.status.isKnown)
        assertEquals("UNKNOWN", r.status.name)
        assertEquals("DIGITAL_WALLET", r.channel.value)
        assertFalse(r.channel.isKnown)
        assertEquals(body, r.rawJson)
    }

    @Test
    fun `wire values cross the FFI both ways through the sandbox`(sandbox: Sandbox, client: RefundClient) {
        sandbox.createOrder("T1001", 1000)
        client.createRefund(CreateRefundRequest(outTradeNo = "T1001", outRefundNo = "R1", amount = RefundAmountInput(10, 1000)))
        // Lowered as "CLOSED", lifted back as the constant.
        sandbox.setRefundStatus("R1", RefundStatus.of("CLOSED"))
        assertEquals(RefundStatus.CLOSED, client.queryRefund("R1", null).status)
        val n = sandbox.notification("R1")
        val note = client.parseNotification(n.headers, n.body)
        assertEquals("REFUND.CLOSED", note.eventType.value)
        assertEquals(NotificationEventType.REFUND_CLOSED, note.eventType)
    }
}
