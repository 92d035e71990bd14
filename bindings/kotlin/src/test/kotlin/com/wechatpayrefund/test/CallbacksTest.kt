package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.ClientOptions
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.HttpRequest
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.HttpTransport
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxCredentials
import com.wechatpayrefund.junit5.SandboxExtension
import com.wechatpayrefund.SandboxFault
import com.wechatpayrefund.Signer
import com.wechatpayrefund.TransportErrorKind
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.atomic.AtomicInteger
import com.wechatpayrefund.invoke
import com.wechatpayrefund.withTransport

/** Kotlin implementations of the library's foreign traits: HttpTransport and Signer. */
@Timeout(120)
@ExtendWith(SandboxExtension::class)
class CallbacksTest(private val sandbox: Sandbox, private val k: SandboxCredentials) {

    private fun configWith(signer: Signer, options: ClientOptions? = null) = ClientConfig.withSigner(
        mchid = k.mchid,
        merchantSerialNo = k.merchantSerialNo,
        signer = signer,
        apiV3Key = k.apiV3Key,
        wechatpayPublicKeyId = k.wechatpayPublicKeyId,
        wechatpayPublicKeyPem = k.wechatpayPublicKeyPem,
        baseUrl = k.baseUrl,
        options = options,
    )

    @Test
    fun `a Kotlin HttpTransport carries a whole refund`() {
        sandbox.createOrder("T110110", 10000)
        val transport = JdkHttpTransport()
        RefundClient.withTransport(sandbox.clientConfig(), transport).use { client ->
            var r = client.createRefund(CreateRefundRequest(outTradeNo = "T110110", outRefundNo = "RK1", amount = RefundAmountInput(100, 10000)))
            assertEquals(RefundStatus.PROCESSING, r.status)
            sandbox.setRefundStatus("RK1", RefundStatus.ABNORMAL)
            r = client.queryRefund("RK1", null)
            assertEquals(RefundStatus.ABNORMAL, r.status)
            r = client.applyAbnormalRefund(AbnormalRefundRequest(refundId = r.refundId, outRefundNo = "RK1", kind = AbnormalRefundKind.MERCHANT_BANK_CARD))
            assertEquals(RefundStatus.PROCESSING, r.status)
            // 4xx answers travel as responses and become typed API errors.
            val e = assertThrows<RefundException.Api> { client.queryRefund("R404", null) }
            assertEquals(404.toUShort(), e.status)
            assertEquals("RESOURCE_NOT_EXISTS", e.code)
            // The retry policy drives the foreign transport too: 500, then success.
            sandbox.injectFault(SandboxFault.SystemError, 1u)
            assertEquals(RefundStatus.PROCESSING, client.queryRefund("RK1", null).status)
        }
        assertEquals(6, transport.calls.get())
    }

    @Test
    fun `a Transport exception raised in Kotlin reaches the caller typed, after retries`() {
        val calls = AtomicInteger()
        val down = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse {
                calls.incrementAndGet()
                throw RefundException.Transport(TransportErrorKind.CONNECT, "connection refused (test)", true)
            }
        }
        val cfg = configWith(JcaSigner.fromPkcs8Pem(k.merchantPrivateKeyPem), ClientOptions(maxAttempts = 2u, initialBackoffMs = 1u))
        RefundClient.withTransport(cfg, down).use { client ->
            val e = assertThrows<RefundException.Transport> { client.queryRefund("R1", null) }
            assertEquals(TransportErrorKind.CONNECT, e.kind)
            assertEquals("connection refused (test)", e.reason)
        }
        assertEquals(2, calls.get())
    }

    @Test
    fun `an unexpected Kotlin exception in a callback becomes RefundException Callback`() {
        val broken = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse = throw IllegalStateException("boom")
        }
        RefundClient.withTransport(sandbox.clientConfig(), broken).use { client ->
            val e = assertThrows<RefundException.Callback> { client.queryRefund("R1", null) }
            assertTrue(e.reason.contains("boom"), e.reason)
        }
    }

    @Test
    fun `a Kotlin JCA Signer signs requests the sandbox accepts`() {
        sandbox.createOrder("T120120", 5000)
        val signer = JcaSigner.fromPkcs8Pem(k.merchantPrivateKeyPem)
        val cfg = configWith(signer)
        assertTrue(!cfg.toString().contains("PRIVATE KEY"))
        RefundClient(cfg).use { client ->
            val r = client.createRefund(CreateRefundRequest(outTradeNo = "T120120", outRefundNo = "RS1", amount = RefundAmountInput(500, 5000)))
            assertEquals(RefundStatus.PROCESSING, r.status)
            assertEquals(RefundStatus.PROCESSING, client.queryRefund("RS1", null).status)
        }
        assertEquals(2, signer.calls.get())
        // Both foreign traits at once.
        RefundClient.withTransport(cfg, JdkHttpTransport()).use { client ->
            assertEquals(500L, client.queryRefund("RS1", null).amount.refund)
        }
    }

    @Test
    fun `a signer with the wrong key is refused by the server, and a failing signer is a Signer error`() {
        // Another RSA key: the sandbox answers 401 SIGN_ERROR.
        val other = java.security.KeyPairGenerator.getInstance("RSA").apply { initialize(2048) }.generateKeyPair().private
        RefundClient(configWith(JcaSigner(other))).use { client ->
            val e = assertThrows<RefundException.Api> { client.queryRefund("RS1", null) }
            assertEquals(401.toUShort(), e.status)
        }
        val failing = object : Signer {
            override fun sign(message: ByteArray): ByteArray = throw RefundException.Signer("keystore locked (test)")
        }
        RefundClient(configWith(failing)).use { client ->
            val e = assertThrows<RefundException.Signer> { client.queryRefund("RS1", null) }
            assertEquals("keystore locked (test)", e.reason)
        }
    }
}
