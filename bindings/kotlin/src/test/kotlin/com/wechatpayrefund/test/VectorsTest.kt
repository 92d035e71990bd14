package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.FromAccount
import com.wechatpayrefund.FundsAccount
import com.wechatpayrefund.FundsFrom
import com.wechatpayrefund.GoodsDetailInput
import com.wechatpayrefund.HttpRequest
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.PromotionType
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundChannel
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.RequestFundsAccount
import com.wechatpayrefund.buildApplyAbnormalRefundRequest
import com.wechatpayrefund.buildCreateRefundRequest
import com.wechatpayrefund.buildQueryRefundRequest
import com.wechatpayrefund.decryptResource
import com.wechatpayrefund.parseNotificationAt
import com.wechatpayrefund.parseRefundResponse
import com.wechatpayrefund.verifyWechatpaySignature
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.util.Base64
import javax.crypto.Cipher
import javax.crypto.spec.OAEPParameterSpec
import javax.crypto.spec.PSource
import java.security.spec.MGF1ParameterSpec

private const val PRODUCTION = "https://api.mch.weixin.qq.com"

/** The golden vectors of tests/vectors/, through the sans-IO functions of the Kotlin binding. */
@Timeout(60)
class VectorsTest {
    private val keys = Vectors.keys
    private val signing = Vectors.load("signing.json")

    private fun HttpRequest.header(name: String): String? =
        headers.firstOrNull { it.name.equals(name, ignoreCase = true) }?.value

    /** Builds each signing case with the typed API (`null` for cases that have no typed form). */
    private fun buildCase(config: ClientConfig, c: Map<String, Any?>): HttpRequest? {
        val ts = c.long("timestamp")
        val nonce = c.str("nonce")
        return when (c.str("name")) {
            "create_refund" -> buildCreateRefundRequest(
                config,
                CreateRefundRequest(
                    outTradeNo = "1217752501201407033233368018",
                    outRefundNo = "R20261123001",
                    amount = RefundAmountInput(refund = 888, total = 888),
                    reason = "商品已售完",
                    notifyUrl = "https://merchant.example.com/wechatpay/refund-notify",
                ),
                ts, nonce,
            )
            "create_refund_full" -> buildCreateRefundRequest(
                config,
                CreateRefundRequest(
                    outRefundNo = "R-2026_11|23*x@y",
                    amount = RefundAmountInput(
                        refund = 600,
                        total = 1000,
                        fundsFrom = listOf(FundsFrom(FromAccount.AVAILABLE, 400), FundsFrom(FromAccount.UNAVAILABLE, 200)),
                    ),
                    transactionId = "1217752501201407033233368018",
                    subMchid = "1900000109",
                    reason = "部分退款",
                    notifyUrl = "https://merchant.example.com/notify",
                    fundsAccount = RequestFundsAccount.AVAILABLE,
                    goodsDetail = listOf(
                        GoodsDetailInput(
                            merchantGoodsId = "SKU-1",
                            unitPrice = 600,
                            refundAmount = 600,
                            refundQuantity = 1,
                            wechatpayGoodsId = "1001",
                            goodsName = "iPhone 16 测试",
                        ),
                    ),
                ),
                ts, nonce,
            )
            "query_refund_encoded" -> buildQueryRefundRequest(config, "R-2026_11|23*x@y", null, ts, nonce)
            "query_refund_sub_mchid" -> buildQueryRefundRequest(config, "R20261123001", "1900000109", ts, nonce)
            "apply_abnormal_refund" -> buildApplyAbnormalRefundRequest(
                config,
                AbnormalRefundRequest(
                    refundId = "50000000382019052709732678859",
                    outRefundNo = "R20261123001",
                    kind = AbnormalRefundKind.MERCHANT_BANK_CARD,
                ),
                ts, nonce,
            )
            "empty_body_post" -> null // a raw-signing case: no typed request has an empty POST body
            else -> fail("signing.json has a case this test does not know: ${c.str("name")}")
        }
    }

    private fun checkSigningVectors(config: ClientConfig) {
        var built = 0
        for (c in signing.arr("cases")) {
            val req = buildCase(config, c) ?: continue
            built++
            val name = c.str("name")
            assertEquals(c.str("method"), req.method, name)
            assertEquals(PRODUCTION + c.str("url"), req.url, name)
            assertEquals(c.str("body"), req.body.toString(Charsets.UTF_8), name)
            // Byte-identical Authorization header.
            assertEquals(c.str("authorization"), req.header("Authorization"), name)
        }
        assertEquals(5, built)
    }

    @Test
    fun `signing vectors - Authorization headers are byte-identical`() {
        checkSigningVectors(Vectors.config())
    }

    @Test
    fun `signing vectors - the same headers with a Kotlin JCA signer`() {
        val signer = JcaSigner.fromPkcs8Pem(keys.obj("merchant").str("private_key_pkcs8_pem"))
        // Every case's raw signature, straight from the JCA signer.
        for (c in signing.arr("cases")) {
            val sig = signer.sign(c.str("message").toByteArray(Charsets.UTF_8))
            assertEquals(c.str("signature"), Base64.getEncoder().encodeToString(sig), c.str("name"))
        }
        val wx = keys.obj("wechatpay_public_key")
        val config = ClientConfig.withSigner(
            mchid = keys.str("mchid"),
            merchantSerialNo = keys.obj("merchant").str("serial_no"),
            signer = signer,
            apiV3Key = keys.str("api_v3_key"),
            wechatpayPublicKeyId = wx.str("id"),
            wechatpayPublicKeyPem = wx.str("public_key_pem"),
            platformCertificatesPem = listOf(keys.obj("platform").str("certificate_pem")),
            options = com.wechatpayrefund.ClientOptions(platformTrustAnchorsPem = listOf(keys.obj("platform").str("certificate_pem"))),
        )
        val before = signer.calls.get()
        checkSigningVectors(config)
        assertEquals(5, signer.calls.get() - before)
    }

    @Test
    fun `apply abnormal refund - sensitive fields are RSA-OAEP encrypted to the WeChat Pay key`() {
        val req = buildApplyAbnormalRefundRequest(
            Vectors.config(),
            AbnormalRefundRequest(
                refundId = "50000000382019052709732678859",
                outRefundNo = "R20261123001",
                kind = AbnormalRefundKind.USER_BANK_CARD,
                bankType = "ICBC_DEBIT",
                bankAccount = "6222021234567890",
                realName = "张三",
            ),
            1795000055, "7F3A9C2E1B8D4F6A0C5E9B3D7A1F2C4E",
        )
        assertEquals(keys.obj("wechatpay_public_key").str("id"), req.header("Wechatpay-Serial"))
        val body = Json.parse(req.body.toString(Charsets.UTF_8)).obj()
        assertEquals("USER_BANK_CARD", body.str("type"))
        assertEquals("ICBC_DEBIT", body.str("bank_type"))
        // Decrypt with the WeChat Pay private key, independently of the library (JCA OAEP SHA-1).
        val key = pkcs8PrivateKey(keys.obj("wechatpay_public_key").str("private_key_pkcs8_pem"))
        val oaep = Cipher.getInstance("RSA/ECB/OAEPPadding").apply {
            init(Cipher.DECRYPT_MODE, key, OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT))
        }
        fun dec(field: String) = oaep.doFinal(Base64.getDecoder().decode(body.str(field))).toString(Charsets.UTF_8)
        assertEquals("6222021234567890", dec("bank_account"))
        assertEquals("张三", dec("real_name"))
    }

    @Test
    fun `verification vectors - every expected outcome`() {
        val v = Vectors.load("verification.json")
        val now = v.long("now")
        val config = Vectors.config()
        var okParsed = 0
        for (c in v.arr("cases")) {
            val name = c.str("name")
            val rid = c.str("request_id")
            val headers = Vectors.responseHeaders(c)
            val body = c.str("body").toByteArray(Charsets.UTF_8)
            when (val expect = c.str("expect")) {
                "ok" -> verifyWechatpaySignature(config, headers, body, now)
                "signature", "signature_type" -> {
                    val e = assertThrows<RefundException.Signature>(name) { verifyWechatpaySignature(config, headers, body, now) }
                    assertEquals(rid, e.requestId, name)
                }
                "probe" -> {
                    val e = assertThrows<RefundException.ProbeSignature>(name) { verifyWechatpaySignature(config, headers, body, now) }
                    assertEquals(rid, e.requestId, name)
                }
                "timestamp" -> {
                    val e = assertThrows<RefundException.TimestampOutOfWindow>(name) { verifyWechatpaySignature(config, headers, body, now) }
                    assertEquals(c.long("timestamp"), e.timestamp, name)
                    assertEquals(now, e.now, name)
                }
                "unknown_serial" -> {
                    val e = assertThrows<RefundException.UnknownSerial>(name) { verifyWechatpaySignature(config, headers, body, now) }
                    assertEquals(c.str("serial"), e.serial, name)
                    assertEquals(rid, e.requestId, name)
                }
                else -> fail("unknown expectation $expect in $name")
            }

            // The same case as a 200 response: only verified bodies are parsed.
            if (body.isEmpty()) continue
            val response = HttpResponse(200u, headers, body)
            if (c.str("expect") == "ok") {
                val r = parseRefundResponse(config, response, now)
                assertEquals(RefundStatus.PROCESSING, r.status, name)
                assertEquals(100L, r.amount.refund)
                assertEquals(10000L, r.amount.total)
                assertEquals(RefundChannel.ORIGINAL, r.channel)
                assertEquals(FundsAccount.AVAILABLE, r.fundsAccount)
                assertEquals(2, r.promotionDetail.size)
                assertEquals(PromotionType.CASH, r.promotionDetail[0].promotionType)
                assertEquals("1001", r.promotionDetail[0].goodsDetail[0].goodsId)
                assertEquals(PromotionType.COUPON, r.promotionDetail[1].promotionType)
                assertEquals("COUPON", r.promotionDetail[1].promotionType?.value)
                assertEquals("109520", r.promotionDetail[1].couponId)
                assertEquals(c.str("body"), r.rawJson)
                okParsed++
            } else {
                assertThrows<RefundException>(name) { parseRefundResponse(config, response, now) }
            }
        }
        assertEquals(5, okParsed)
    }

    @Test
    fun `notification vectors - verified, decrypted, parsed`() {
        val v = Vectors.load("notification.json")
        val now = v.long("now")
        val config = Vectors.config()
        val cases = v.arr("cases")
        assertEquals(3, cases.size)
        for (c in cases) {
            val name = c.str("name")
            @Suppress("UNCHECKED_CAST")
            val headers = c.obj("headers") as Map<String, String>
            val body = c.str("body").toByteArray(Charsets.UTF_8)
            val e = c.obj("expected")
            val n = parseNotificationAt(config, headers, body, now)
            assertEquals(e.str("id"), n.id, name)
            assertEquals(e.str("create_time"), n.createTime, name)
            assertEquals(e.str("event_type"), eventTypeWire(n.eventType.name), name)
            assertEquals(e.str("summary"), n.summary, name)
            assertEquals(e.strOrNull("mchid"), n.mchid, name)
            assertEquals(e.strOrNull("sp_mchid"), n.spMchid, name)
            assertEquals(e.strOrNull("sub_mchid"), n.subMchid, name)
            assertEquals(e.str("out_trade_no"), n.outTradeNo, name)
            assertEquals(e.str("transaction_id"), n.transactionId, name)
            assertEquals(e.str("out_refund_no"), n.outRefundNo, name)
            assertEquals(e.str("refund_id"), n.refundId, name)
            assertEquals(e.str("refund_status"), n.refundStatus.name, name)
            assertEquals(e.strOrNull("success_time"), n.successTime, name)
            assertEquals(e.str("user_received_account"), n.userReceivedAccount, name)
            assertEquals(e.obj("amount").long("total"), n.amount.total, name)
            assertEquals(e.obj("amount").long("refund"), n.amount.refund, name)
            assertEquals(e.obj("amount").long("payer_total"), n.amount.payerTotal, name)
            assertEquals(e.obj("amount").long("payer_refund"), n.amount.payerRefund, name)
            assertEquals(c.str("plaintext"), n.rawJson, name)

            // Header names as servlet containers and WSGI hand them over.
            val lower = headers.mapKeys { it.key.lowercase() }
            assertEquals(n, parseNotificationAt(config, lower, body, now), name)
            val wsgi = headers.mapKeys { "HTTP_" + it.key.uppercase().replace('-', '_') }
            assertEquals(n, parseNotificationAt(config, wsgi, body, now), name)

            // One changed byte of the body breaks the signature.
            val tampered = c.str("body").replaceFirst("refund", "refunD").toByteArray(Charsets.UTF_8)
            assertThrows<RefundException.Signature>(name) { parseNotificationAt(config, headers, tampered, now) }
            // Outside the ±300 s window even a good signature is refused.
            assertThrows<RefundException.TimestampOutOfWindow>(name) { parseNotificationAt(config, headers, body, now + 301) }
            // A probe signature is its own error.
            val probe = headers + ("Wechatpay-Signature" to "WECHATPAY/SIGNTEST/abc")
            assertThrows<RefundException.ProbeSignature>(name) { parseNotificationAt(config, probe, body, now) }
            // A different API v3 key cannot decrypt the (authentic) resource.
            val otherKey = Vectors.config(apiV3Key = "ZZZZzzzz0000111122223333abcdABCD")
            assertThrows<RefundException.Decryption>(name) { parseNotificationAt(otherKey, headers, body, now) }
        }
    }

    @Test
    fun `gcm vectors - decryptResource`() {
        val cases = Vectors.load("gcm.json").arr("cases")
        assertTrue(cases.size >= 4)
        for (c in cases) {
            val aad = c.str("associated_data")
            val plain = decryptResource(c.str("key"), "AEAD_AES_256_GCM", c.str("ciphertext"), c.str("nonce"), aad)
            assertEquals(c.str("plaintext"), plain, c.str("name"))
            // Flipping one ciphertext bit fails the tag check.
            val ct = Base64.getDecoder().decode(c.str("ciphertext"))
            ct[0] = (ct[0].toInt() xor 1).toByte()
            assertThrows<RefundException.Decryption>(c.str("name")) {
                decryptResource(c.str("key"), "AEAD_AES_256_GCM", Base64.getEncoder().encodeToString(ct), c.str("nonce"), aad)
            }
        }
        assertThrows<RefundException.Config> {
            decryptResource("short", "AEAD_AES_256_GCM", "AAAA", "000000000000", null)
        }
    }

    @Test
    fun `the key PEMs of the vectors are accepted in both PKCS#8 and PKCS#1`() {
        val m = keys.obj("merchant")
        for (field in listOf("private_key_pkcs8_pem", "private_key_pkcs1_pem")) {
            val cfg = ClientConfig(
                mchid = keys.str("mchid"),
                merchantSerialNo = m.str("serial_no"),
                merchantPrivateKeyPem = m.str(field),
                apiV3Key = keys.str("api_v3_key"),
                wechatpayPublicKeyId = keys.obj("wechatpay_public_key").str("id"),
                wechatpayPublicKeyPem = keys.obj("wechatpay_public_key").str("public_key_pem"),
            )
            val c = Vectors.cases(signing).getValue("create_refund")
            val req = buildCase(cfg, c)!!
            assertEquals(c.str("authorization"), req.header("Authorization"), field)
            assertArrayEquals(c.str("body").toByteArray(Charsets.UTF_8), req.body)
        }
    }

    /** `REFUND_SUCCESS` (Kotlin enum name) -> `REFUND.SUCCESS` (wire value). */
    private fun eventTypeWire(kotlinName: String) = kotlinName.replaceFirst('_', '.')
}
