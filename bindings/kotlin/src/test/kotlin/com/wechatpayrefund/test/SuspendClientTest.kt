package com.wechatpayrefund.test

import com.wechatpayrefund.ClientConfig
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
import com.wechatpayrefund.SandboxFault
import com.wechatpayrefund.SandboxKeyMode
import com.wechatpayrefund.V2RefundClient
import com.wechatpayrefund.V2RefundQuery
import com.wechatpayrefund.V2RefundRequest
import com.wechatpayrefund.V2RefundStatus
import com.wechatpayrefund.junit5.WechatpaySandbox
import com.wechatpayrefund.coroutines.suspending
import com.wechatpayrefund.junit5.SandboxExtension
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.util.Collections
import com.wechatpayrefund.invoke
import com.wechatpayrefund.withTransport

private fun refund(outTradeNo: String, outRefundNo: String, amount: Long, total: Long) =
    CreateRefundRequest(outTradeNo = outTradeNo, outRefundNo = outRefundNo, amount = RefundAmountInput(refund = amount, total = total))

/** Waits (bounded) until [condition] holds. */
private fun eventually(timeoutMs: Long = 10_000, condition: () -> Boolean) {
    val end = System.nanoTime() + timeoutMs * 1_000_000
    while (!condition()) {
        check(System.nanoTime() < end) { "condition not met within $timeoutMs ms" }
        Thread.sleep(20)
    }
}

/** The coroutine face (`RefundClient.suspending()`), against a sandbox injected by SandboxExtension. */
@Timeout(60)
@ExtendWith(SandboxExtension::class)
class SuspendClientTest {
    @Test
    fun `the refund lifecycle, suspending`(sandbox: Sandbox, client: RefundClient) = runBlocking {
        val api = client.suspending()
        sandbox.createOrder("T100100", 10000)
        assertEquals(RefundStatus.PROCESSING, api.createRefund(refund("T100100", "R1", 100, 10000)).status)
        sandbox.setRefundStatus("R1", RefundStatus.SUCCESS)
        assertEquals(RefundStatus.SUCCESS, api.queryRefund("R1").status)
        val n = sandbox.notification("R1")
        assertEquals(RefundStatus.SUCCESS, api.parseNotification(n.headers, n.body).refundStatus)
        val e = runCatching { api.queryRefund("R404") }.exceptionOrNull()
        assertTrue(e is RefundException.Api && e.status.toInt() == 404, "$e")
    }

    @Test
    fun `calls run on Dispatchers IO, not on the caller's thread, and concurrently`(sandbox: Sandbox) = runBlocking {
        val threads = Collections.synchronizedSet(HashSet<String>())
        val base = JdkHttpTransport()
        val recording = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse {
                threads.add(Thread.currentThread().name)
                Thread.sleep(100) // every exchange is slow: 8 of them in ~0.1 s only if they overlap
                return base.send(request)
            }
        }
        sandbox.createOrder("T200200", 100000)
        RefundClient.withTransport(sandbox.clientConfig(), recording).use { client ->
            val api = client.suspending()
            val caller = Thread.currentThread().name
            val t0 = System.nanoTime()
            val results = (1..8).map { i -> async { api.createRefund(refund("T200200", "R2-$i", 100, 100000)) } }.awaitAll()
            val ms = (System.nanoTime() - t0) / 1_000_000
            assertEquals(8, results.map { it.outRefundNo }.toSet().size)
            assertTrue(caller !in threads, "ran on the caller's thread $caller: $threads")
            assertTrue(threads.all { it.startsWith("DefaultDispatcher-worker") }, "$threads")
            assertTrue(ms < 8 * 100, "8 slow calls took $ms ms: they did not overlap")
        }
        assertEquals(8u, sandbox.refundCount("T200200"))
    }

    @Test
    fun `cancellation resumes at once and the request still completes once, never re-sent differently`(sandbox: Sandbox, client: RefundClient) = runBlocking {
        val api = client.suspending()
        sandbox.createOrder("T300300", 1000)
        val before = sandbox.requestCount()
        sandbox.injectFault(SandboxFault.Delay(1000u), 1u) // the answer comes after 1 s
        val call = async { api.createRefund(refund("T300300", "R3", 10, 1000)) }
        delay(200) // the request is on the wire (or being answered)
        val t0 = System.nanoTime()
        call.cancel()
        val outcome = runCatching { call.await() }.exceptionOrNull()
        val ms = (System.nanoTime() - t0) / 1_000_000
        assertTrue(outcome is CancellationException, "$outcome")
        assertTrue(ms < 500, "cancellation took $ms ms")
        // The blocking call finishes on its own thread: the refund exists once, from one request.
        eventually { sandbox.refundCount("T300300") == 1u && sandbox.requestCount() - before == 1u }
        Thread.sleep(300)
        assertEquals(1u, sandbox.requestCount() - before, "the request was sent again")
        // Applying again with the same out_refund_no is safe: the same refund, still one.
        assertEquals("R3", api.createRefund(refund("T300300", "R3", 10, 1000)).outRefundNo)
        assertEquals(1u, sandbox.refundCount("T300300"))
        assertEquals(10L, sandbox.refundedTotal("T300300"))
    }

    @Test
    @WechatpaySandbox(mode = SandboxKeyMode.CERTIFICATE)
    fun `certificates download, suspending`(k: SandboxCredentials) = runBlocking {
        val config = ClientConfig(
            mchid = k.mchid, merchantSerialNo = k.merchantSerialNo, merchantPrivateKeyPem = k.merchantPrivateKeyPem,
            apiV3Key = k.apiV3Key, downloadPlatformCertificates = true, baseUrl = k.baseUrl,
            options = com.wechatpayrefund.ClientOptions(platformTrustAnchorsPem = k.platformTrustAnchorsPem),
        )
        RefundClient(config).use { client ->
            val certs = client.suspending().refreshPlatformCertificates()
            assertEquals(listOf(k.platformCertificateSerialNo), certs.map { it.serialNo })
        }
    }

    @Test
    fun `v2 refund and query, suspending`(sandbox: Sandbox) = runBlocking {
        sandbox.createOrder("T500500", 1000)
        V2RefundClient(sandbox.v2Config()).use { blocking ->
            val v2 = blocking.suspending()
            val r = v2.refund(V2RefundRequest(outRefundNo = "R5V2", totalFee = 1000, refundFee = 10, outTradeNo = "T500500"))
            assertEquals(10L, r.refundFee)
            assertEquals(V2RefundStatus.PROCESSING, v2.refundQuery(V2RefundQuery(outRefundNo = "R5V2")).refunds[0].refundStatus)
            sandbox.setRefundStatus("R5V2", RefundStatus.SUCCESS)
            assertEquals(V2RefundStatus.SUCCESS, v2.parseRefundNotification(sandbox.v2Notification("R5V2")).refundStatus)
        }
    }

    @Test
    fun `withTimeout bounds the wait, not the request`(sandbox: Sandbox, client: RefundClient) = runBlocking {
        val api = client.suspending()
        sandbox.createOrder("T400400", 1000)
        api.createRefund(refund("T400400", "R4", 10, 1000))
        sandbox.injectFault(SandboxFault.Delay(800u), 1u)
        val e = runCatching { withTimeout(100) { api.queryRefund("R4") } }.exceptionOrNull()
        assertTrue(e is TimeoutCancellationException, "$e")
        assertEquals(RefundStatus.PROCESSING, api.queryRefund("R4").status)
    }
}
