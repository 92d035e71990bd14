package com.wechatpayrefund.test

import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxCredentials
import com.wechatpayrefund.SandboxKeyMode
import com.wechatpayrefund.junit5.SandboxExtension
import com.wechatpayrefund.junit5.WechatpaySandbox
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.net.ConnectException
import java.net.InetSocketAddress
import java.net.Socket
import java.net.URI

/** Can a TCP connection be opened to the sandbox at [baseUrl]? */
internal fun listening(baseUrl: String): Boolean {
    val uri = URI(baseUrl)
    return try {
        Socket().use { it.connect(InetSocketAddress(uri.host, uri.port), 1000) }
        true
    } catch (e: ConnectException) {
        false
    }
}

/** SandboxExtension with method-scoped sandboxes: one per test, stopped after it. */
@Timeout(60)
@ExtendWith(SandboxExtension::class)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class SandboxExtensionTest {
    companion object {
        var firstUrl: String? = null
    }

    @Test
    @Order(1)
    fun `a test gets a running sandbox and a client for it`(sandbox: Sandbox, client: RefundClient, config: ClientConfig, k: SandboxCredentials) {
        assertEquals(sandbox.baseUrl(), k.baseUrl)
        assertEquals(k.mchid, config.toString().substringAfter("mchid=").substringBefore(","))
        sandbox.createOrder("T1001", 10000)
        val r = client.createRefund(CreateRefundRequest(outTradeNo = "T1001", outRefundNo = "R1", amount = RefundAmountInput(refund = 100, total = 10000)))
        assertEquals(RefundStatus.PROCESSING, r.status)
        assertEquals(1u, sandbox.refundCount("T1001"))
        firstUrl = sandbox.baseUrl()
        assert(listening(sandbox.baseUrl()))
    }

    @Test
    @Order(2)
    fun `the previous test's sandbox was stopped, and this one is fresh`(sandbox: Sandbox) {
        val previous = assertNotNull(firstUrl).let { firstUrl!! }
        assertEquals(false, listening(previous), "the sandbox of the previous test still listens at $previous")
        assertNotEquals(previous, sandbox.baseUrl())
        assertEquals(0u, sandbox.refundCount("T1001"))
    }

    @Test
    @Order(3)
    @WechatpaySandbox(mode = SandboxKeyMode.CERTIFICATE, mchid = "1900009999")
    fun `options from the annotation`(k: SandboxCredentials, client: RefundClient, sandbox: Sandbox) {
        assertEquals("1900009999", k.mchid)
        assertNull(k.wechatpayPublicKeyId)
        assertNotNull(k.platformCertificatePem)
        sandbox.createOrder("T2002", 500)
        assertEquals(RefundStatus.PROCESSING, client.createRefund(CreateRefundRequest(outTradeNo = "T2002", outRefundNo = "R2", amount = RefundAmountInput(500, 500))).status)
    }
}

/** SandboxExtension with a class-scoped sandbox: injected into the constructor, shared by every test. */
@Timeout(60)
@ExtendWith(SandboxExtension::class)
class SandboxExtensionClassScopeTest(private val shared: Sandbox) {
    @Test
    fun `test methods receive the class's sandbox`(sandbox: Sandbox, client: RefundClient) {
        assertSame(shared, sandbox)
        sandbox.createOrder("T3003", 100)
        assertEquals(RefundStatus.PROCESSING, client.createRefund(CreateRefundRequest(outTradeNo = "T3003", outRefundNo = "R3", amount = RefundAmountInput(100, 100))).status)
    }
}
