package com.wechatpayrefund.test

import ch.qos.logback.classic.Level
import ch.qos.logback.classic.spi.ILoggingEvent
import ch.qos.logback.core.read.ListAppender
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.EventLevel
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.Slf4jEventListener
import com.wechatpayrefund.SandboxFault
import com.wechatpayrefund.WechatpayRefundLogging
import com.wechatpayrefund.eventLevel
import com.wechatpayrefund.junit5.SandboxExtension
import com.wechatpayrefund.toPrometheus
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import org.slf4j.LoggerFactory
import java.lang.reflect.Proxy

/**
 * The SLF4J bridge (WechatpayRefundLogging) against the embedded sandbox, its records captured by
 * logback's ListAppender with their key-value pairs. The listener is process-wide: each test
 * installs it and uninstalls it after.
 */
@Timeout(120)
@ExtendWith(SandboxExtension::class)
class LoggingTest(private val sandbox: Sandbox, private val client: RefundClient) {

    private val logger = LoggerFactory.getLogger(WechatpayRefundLogging.LOGGER_NAME) as ch.qos.logback.classic.Logger
    private val captured = ListAppender<ILoggingEvent>()

    @BeforeEach
    fun capture() {
        captured.start()
        logger.addAppender(captured)
        logger.isAdditive = false
        logger.level = Level.DEBUG
    }

    @AfterEach
    fun release() {
        WechatpayRefundLogging.uninstall()
        logger.detachAppender(captured)
        logger.isAdditive = true
        logger.level = null
        captured.stop()
    }

    private fun refund(order: String, no: String) =
        client.createRefund(CreateRefundRequest(outTradeNo = order, outRefundNo = no, amount = RefundAmountInput(refund = 10, total = 1000)))

    private fun ILoggingEvent.kv(): Map<String, Any?> = (keyValuePairs ?: emptyList()).associate { it.key to it.value }
    private fun named(name: String) = captured.list.filter { it.kv()["event"] == name }

    @Test
    fun `a retried refund is two http_attempt records and one http_retry, as key-value pairs`() {
        assertTrue(WechatpayRefundLogging.install())
        assertTrue(WechatpayRefundLogging.isInstalled)
        assertEquals(EventLevel.DEBUG, eventLevel())
        sandbox.createOrder("TL100", 1000)
        sandbox.injectFault(SandboxFault.SystemError, 1u)
        assertEquals(RefundStatus.PROCESSING, refund("TL100", "RL100").status)

        val attempts = named("http.attempt")
        assertEquals(listOf(500L, 200L), attempts.map { it.kv()["status"] }, "${captured.list.map { it.formattedMessage }}")
        assertTrue(attempts.all { it.level == Level.DEBUG && it.loggerName == "com.wechatpayrefund" })
        val (first, second) = attempts.map { it.kv() }
        assertEquals(1L, first["attempt"])
        assertEquals(2L, second["attempt"])
        for (a in listOf(first, second)) {
            assertEquals("POST", a["method"])
            assertTrue((a["path"] as String).startsWith("/v3/refund/domestic/refunds"), "${a["path"]}")
            assertTrue((a["request_id"] as String).isNotEmpty())
            assertTrue(a["elapsed_ms"] is Long)
            assertEquals("primary", a["host"])
            assertEquals("create_refund", a["operation"])
            assertEquals("RL100", a["out_refund_no"])
        }
        assertTrue(attempts[1].formattedMessage.startsWith("http.attempt method=POST path=/v3/refund/domestic/refunds"),
            attempts[1].formattedMessage)
        assertTrue(" status=200 attempt=2 " in attempts[1].formattedMessage, attempts[1].formattedMessage)

        val retry = named("http.retry").single()
        assertEquals(Level.INFO, retry.level)
        assertEquals("http 500 SYSTEM_ERROR", retry.kv()["reason"])
        assertEquals(2L, retry.kv()["next_attempt"])
        assertEquals(first["request_id"], retry.kv()["request_id"])
        assertTrue(" reason=\"http 500 SYSTEM_ERROR\" " in retry.formattedMessage, retry.formattedMessage)

        // Nothing secret in any record: keys, the Authorization header, signatures, bodies.
        val k = sandbox.credentials()
        val pemLines = k.merchantPrivateKeyPem.lines().map { it.trim() }.filter { it.length >= 16 && !it.startsWith("-----") }
        assertTrue(pemLines.size > 10)
        val texts = captured.list.flatMap { e -> listOf(e.formattedMessage) + e.kv().map { (key, v) -> "$key=$v" } }
        assertTrue(texts.size > 20)
        for (t in texts) {
            for (line in pemLines) assertFalse(line in t, "a line of the private key in: $t")
            assertFalse(k.apiV3Key in t, "the API v3 key in: $t")
            for (word in listOf("authorization", "WECHATPAY2-SHA256", "signature=", "PRIVATE KEY", "out_trade_no", "TL100")) {
                assertFalse(word.lowercase() in t.lowercase(), "$word in: $t")
            }
        }

        // The counters the same exchange left, in the Prometheus text format.
        val metrics = client.stats().toPrometheus()
        assertTrue("# TYPE wechatpay_refund_retries_total counter" in metrics, metrics)
        assertTrue(Regex("""wechatpay_refund_calls_total\{operation="create_refund",outcome="ok"} [1-9]""").containsMatchIn(metrics), metrics)
    }

    @Test
    fun `the core sends only what the logger wants, and follows it`() {
        logger.level = Level.INFO
        WechatpayRefundLogging.install()
        assertEquals(EventLevel.INFO, eventLevel())
        sandbox.createOrder("TL200", 1000)
        sandbox.injectFault(SandboxFault.SystemError, 1u)
        refund("TL200", "RL200")
        assertEquals(listOf("http.retry"), captured.list.map { it.kv()["event"] })

        // Quieter: the next event the listener sees brings the core down with it.
        logger.level = Level.WARN
        sandbox.injectFault(SandboxFault.SystemError, 1u)
        refund("TL200", "RL201")
        assertEquals(EventLevel.WARN, eventLevel())
        assertEquals(1, captured.list.size)

        // Louder: syncLevel() tells the core.
        logger.level = Level.DEBUG
        assertEquals(EventLevel.DEBUG, WechatpayRefundLogging.syncLevel())
        assertEquals(EventLevel.DEBUG, eventLevel())
        refund("TL200", "RL202")
        assertEquals(1, named("http.attempt").size)

        // Off: nothing at all.
        logger.level = Level.OFF
        assertNull(WechatpayRefundLogging.syncLevel())
        assertNull(eventLevel())
        refund("TL200", "RL203")
        assertEquals(2, captured.list.size)

        WechatpayRefundLogging.uninstall()
        assertFalse(WechatpayRefundLogging.isInstalled)
        assertNull(eventLevel())
        assertNull(WechatpayRefundLogging.syncLevel())
    }

    @Test
    fun `the message can be the name alone, for a backend that prints the key-value pairs itself`() {
        assertTrue(Slf4jEventListener.fieldsInMessageFor(logger))
        WechatpayRefundLogging.install(fieldsInMessage = false)
        sandbox.createOrder("TL400", 1000)
        refund("TL400", "RL400")
        val attempt = named("http.attempt").single()
        assertEquals("http.attempt", attempt.formattedMessage)
        assertEquals(200L, attempt.kv()["status"])
        assertEquals("RL400", attempt.kv()["out_refund_no"])
    }

    @Test
    fun `a logger that throws never fails a refund`() {
        val calls = java.util.concurrent.atomic.AtomicInteger()
        val hostile = Proxy.newProxyInstance(javaClass.classLoader, arrayOf(org.slf4j.Logger::class.java)) { _, m, _ ->
            calls.incrementAndGet()
            if (m.name.startsWith("is") && m.returnType == Boolean::class.javaPrimitiveType) true
            else throw IllegalStateException("logger down")
        } as org.slf4j.Logger
        assertTrue(WechatpayRefundLogging.install(hostile))
        assertEquals(EventLevel.TRACE, eventLevel())
        sandbox.createOrder("TL300", 1000)
        sandbox.injectFault(SandboxFault.SystemError, 1u)
        val r = refund("TL300", "RL300")
        assertEquals("RL300", r.outRefundNo)
        assertTrue(calls.get() > 5, "the listener was called: ${calls.get()}")
        assertNotNull(client.queryRefund("RL300", null))
    }
}
