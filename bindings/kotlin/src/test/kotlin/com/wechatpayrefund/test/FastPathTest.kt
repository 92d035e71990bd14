package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.FastPath
import com.wechatpayrefund.GoodsDetailInput
import com.wechatpayrefund.HttpHeader
import com.wechatpayrefund.HttpRequest
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.HttpTransport
import com.wechatpayrefund.withTransport
import com.wechatpayrefund.invoke
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.buildApplyAbnormalRefundRequest
import com.wechatpayrefund.buildApplyAbnormalRefundRequestViaJna
import com.wechatpayrefund.buildCreateRefundRequest
import com.wechatpayrefund.buildCreateRefundRequestViaJna
import com.wechatpayrefund.buildQueryRefundRequest
import com.wechatpayrefund.buildQueryRefundRequestViaJna
import com.wechatpayrefund.parseNotificationAt
import com.wechatpayrefund.parseNotificationAtViaJna
import com.wechatpayrefund.parseRefundResponse
import com.wechatpayrefund.parseRefundResponseViaJna
import com.wechatpayrefund.verifyWechatpaySignature
import com.wechatpayrefund.verifyWechatpaySignatureViaJna
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * The JVM fast path (one JNI call, `FastPath`) against the generated JNA functions (`…ViaJna`):
 * the same inputs must give equal results, or exceptions of the same class with the same fields.
 * The rest of the suite calls the public functions, i.e. the fast path.
 */
@Timeout(120)
class FastPathTest {
    /** Both outcomes of one call: its value, or its exception. */
    private fun <T> outcome(f: () -> T): Result<T> = try {
        Result.success(f())
    } catch (e: Exception) {
        Result.failure(e)
    }

    private fun <T> assertSame(what: String, fast: Result<T>, jna: Result<T>, equal: (T, T) -> Unit = { a, b -> assertEquals(b, a, what) }) {
        val fe = fast.exceptionOrNull()
        val je = jna.exceptionOrNull()
        if (fe == null && je == null) {
            equal(fast.getOrThrow(), jna.getOrThrow())
            return
        }
        assertTrue(fe != null && je != null, "$what: fast path ${fe ?: fast.getOrNull()}, JNA path ${je ?: jna.getOrNull()}")
        assertEquals(je!!.javaClass, fe!!.javaClass, what)
        // The generated exceptions print every field: equal text is equal fields.
        assertEquals(je.toString(), fe.toString(), what)
        assertEquals(je.message, fe.message, what)
    }

    private fun assertSameRequest(what: String, a: HttpRequest, b: HttpRequest) {
        assertEquals(b.method, a.method, what)
        assertEquals(b.url, a.url, what)
        assertEquals(b.headers, a.headers, what)
        assertArrayEquals(b.body, a.body, what)
        assertEquals(b.timeoutMs, a.timeoutMs, what)
    }

    @Test
    fun `the fast path is live in this build`() {
        if (System.getProperty("wechatpay.refund.fastpath") == "false") {
            assertTrue(!FastPath.isEnabled)
            assertEquals("disabled by -Dwechatpay.refund.fastpath=false", FastPath.disabledReason)
        } else {
            assertTrue(FastPath.isEnabled, "FastPath is off: ${FastPath.disabledReason}")
            assertNull(FastPath.disabledReason)
        }
    }

    @Test
    fun `build calls - same requests, same validation errors`() {
        val config = Vectors.config()
        val requests = listOf(
            "vector" to CreateRefundRequest(
                outTradeNo = "1217752501201407033233368018", outRefundNo = "R20261123001",
                amount = RefundAmountInput(refund = 888, total = 888),
                reason = "商品已售完", notifyUrl = "https://merchant.example.com/wechatpay/refund-notify",
            ),
            "goods" to CreateRefundRequest(
                transactionId = "1217752501201407033233368018", outRefundNo = "R|*@-1",
                amount = RefundAmountInput(refund = 1, total = 10000),
                goodsDetail = listOf(GoodsDetailInput(merchantGoodsId = "1001", goodsName = "iPhone 6s 16G", unitPrice = 1, refundAmount = 1, refundQuantity = 1)),
            ),
            "no order id" to CreateRefundRequest(outRefundNo = "R1", amount = RefundAmountInput(refund = 1, total = 1)),
            "refund above total" to CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R1", amount = RefundAmountInput(refund = 2, total = 1)),
            "zero" to CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R1", amount = RefundAmountInput(refund = 0, total = 1)),
            "bad out_refund_no" to CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R 1\n", amount = RefundAmountInput(refund = 1, total = 1)),
        )
        var ok = 0
        var refused = 0
        for ((name, r) in requests) {
            for ((ts, nonce) in listOf(1795000055L to "7F3A9C2E1B8D4F6A0C5E9B3D7A1F2C4E", -1L to "n", 1795000055L to "", 1795000055L to "非ASCII")) {
                val what = "$name @ $ts/$nonce"
                val fast = outcome { buildCreateRefundRequest(config, r, ts, nonce) }
                assertSame(what, fast, outcome { buildCreateRefundRequestViaJna(config, r, ts, nonce) }) { a, b -> assertSameRequest(what, a, b) }
                if (fast.isSuccess) ok++ else refused++
            }
        }
        assertTrue(ok >= 2 && refused >= 10, "ok $ok, refused $refused")

        for (sub in listOf(null, "1900000109", "")) {
            for (no in listOf("R20261123001", "R|*@", "", "R/../x")) {
                val what = "query $no / $sub"
                assertSame(what, outcome { buildQueryRefundRequest(config, no, sub, 1795000055, "N1") },
                    outcome { buildQueryRefundRequestViaJna(config, no, sub, 1795000055, "N1") }) { a, b -> assertSameRequest(what, a, b) }
            }
        }
        // A service provider must name the sub-merchant: refused before anything is signed.
        val sp = Vectors.config(serviceProvider = true)
        assertSame("sp query", outcome { buildQueryRefundRequest(sp, "R1", null, 1795000055, "N1") },
            outcome { buildQueryRefundRequestViaJna(sp, "R1", null, 1795000055, "N1") })
        assertTrue(outcome { buildQueryRefundRequest(sp, "R1", null, 1795000055, "N1") }.exceptionOrNull() is RefundException.InvalidInput)
    }

    @Test
    fun `abnormal refund - same request apart from the random OAEP padding`() {
        val config = Vectors.config()
        val good = AbnormalRefundRequest(
            refundId = "50000000382019052709732678859", outRefundNo = "R20261123001", kind = AbnormalRefundKind.USER_BANK_CARD,
            bankType = "ICBC_DEBIT", bankAccount = "6222021234567890", realName = "张三",
        )
        val a = buildApplyAbnormalRefundRequest(config, good, 1795000055, "N1")
        val b = buildApplyAbnormalRefundRequestViaJna(config, good, 1795000055, "N1")
        assertEquals(b.url, a.url)
        assertEquals(b.method, a.method)
        assertEquals(b.headers.map { it.name }, a.headers.map { it.name })
        fun fields(r: HttpRequest) = Json.parse(r.body.toString(Charsets.UTF_8)).obj()
        assertEquals(fields(b).keys, fields(a).keys)
        assertEquals(fields(b).str("bank_type"), fields(a).str("bank_type"))
        // Bad input is refused the same way on both paths (a bank card refund needs the card).
        val bad = good.copy(bankAccount = null)
        assertSame("no card", outcome { buildApplyAbnormalRefundRequest(config, bad, 1795000055, "N1") },
            outcome { buildApplyAbnormalRefundRequestViaJna(config, bad, 1795000055, "N1") })
        assertTrue(outcome { buildApplyAbnormalRefundRequest(config, bad, 1795000055, "N1") }.isFailure)
    }

    @Test
    fun `verification vectors - same verdicts, same refunds`() {
        val v = Vectors.load("verification.json")
        val now = v.long("now")
        val config = Vectors.config()
        var compared = 0
        for (c in v.arr("cases")) {
            val name = c.str("name")
            val headers = Vectors.responseHeaders(c)
            val body = c.str("body").toByteArray(Charsets.UTF_8)
            for (t in listOf(now, now + 301, now - 301)) {
                assertSame("$name verify @$t", outcome { verifyWechatpaySignature(config, headers, body, t) },
                    outcome { verifyWechatpaySignatureViaJna(config, headers, body, t) })
                for (status in listOf<UShort>(200u, 404u, 500u)) {
                    val response = HttpResponse(status, headers, body)
                    assertSame("$name $status @$t", outcome { parseRefundResponse(config, response, t) },
                        outcome { parseRefundResponseViaJna(config, response, t) })
                    compared++
                }
            }
            // Lower-case names, a missing header, a tampered body.
            val variants = listOf(
                headers.map { HttpHeader(it.name.lowercase(), it.value) } to body,
                headers.drop(1) to body,
                headers to (c.str("body") + " ").toByteArray(Charsets.UTF_8),
            )
            for ((i, pair) in variants.withIndex()) {
                val response = HttpResponse(200u, pair.first, pair.second)
                assertSame("$name variant $i", outcome { parseRefundResponse(config, response, now) },
                    outcome { parseRefundResponseViaJna(config, response, now) })
                compared++
            }
        }
        assertTrue(compared > 30, "compared $compared")
    }

    @Test
    fun `notification vectors - same notifications, same refusals`() {
        val v = Vectors.load("notification.json")
        val now = v.long("now")
        val config = Vectors.config()
        val otherKey = Vectors.config(apiV3Key = "ZZZZzzzz0000111122223333abcdABCD")
        for (c in v.arr("cases")) {
            val name = c.str("name")
            @Suppress("UNCHECKED_CAST")
            val headers = c.obj("headers") as Map<String, String>
            val body = c.str("body").toByteArray(Charsets.UTF_8)
            val tampered = c.str("body").replaceFirst("refund", "refunD").toByteArray(Charsets.UTF_8)
            val cases = listOf(
                Triple(config, headers, body), Triple(config, headers.mapKeys { it.key.lowercase() }, body),
                Triple(config, headers, tampered), Triple(otherKey, headers, body),
                Triple(config, headers + ("Wechatpay-Signature" to "WECHATPAY/SIGNTEST/abc"), body),
                Triple(config, emptyMap(), body),
            )
            for ((i, k) in cases.withIndex()) {
                for (t in listOf(now, now + 301)) {
                    assertSame("$name case $i @$t", outcome { parseNotificationAt(k.first, k.second, k.third, t) },
                        outcome { parseNotificationAtViaJna(k.first, k.second, k.third, t) })
                }
            }
            assertEquals(c.str("plaintext"), parseNotificationAt(config, headers, body, now).rawJson, name)
        }
    }

    @Test
    fun `notifications for another merchant - same verdict on both paths, the expected one`() {
        // notification_mismatch.json: another mchid, service-provider mode without a sub_mchid or
        // for another sp_mchid, a sub-merchant's direct config, another event type, and matches.
        val v = Vectors.load("notification_mismatch.json")
        val now = v.long("now")
        for (c in v.arr("cases")) {
            val name = c.str("name")
            val cfg = c.obj("config")
            val config = Vectors.config(mchid = cfg.str("mchid"), serviceProvider = cfg["service_provider"] as Boolean)
            @Suppress("UNCHECKED_CAST")
            val headers = c.obj("headers") as Map<String, String>
            val body = c.str("body").toByteArray(Charsets.UTF_8)
            val fast = outcome { parseNotificationAt(config, headers, body, now) }
            assertSame(name, fast, outcome { parseNotificationAtViaJna(config, headers, body, now) })
            val field = c.obj("expect")["field"] as String?
            if (field != null) {
                val e = fast.exceptionOrNull()
                assertTrue(e is RefundException.NotificationMismatch && e.field == field, "$name: $e")
            } else {
                assertEquals(c.str("plaintext"), fast.getOrThrow().rawJson, name)
            }
            config.close()
        }
    }

    @Test
    fun `without reflective access the call counter is still held across a concurrent close`() {
        val r = CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R1", amount = RefundAmountInput(refund = 1, total = 1))
        val config = Vectors.config()
        val inside = java.util.concurrent.CountDownLatch(1)
        val closed = java.util.concurrent.CountDownLatch(1)
        val pool = Executors.newSingleThreadExecutor()
        try {
            val call = pool.submit(Callable {
                FastPath.holdingWithoutReflection(config) {
                    inside.countDown()
                    // close() runs meanwhile; the handle must stay valid until this call returns.
                    closed.await(30, TimeUnit.SECONDS)
                    buildQueryRefundRequestViaJna(config, "R1", null, 1795000055, "N")
                }
            })
            assertTrue(inside.await(30, TimeUnit.SECONDS))
            config.close()
            closed.countDown()
            assertEquals("GET", call.get(60, TimeUnit.SECONDS).method)
            val after = outcome { FastPath.holdingWithoutReflection(config) { buildCreateRefundRequestViaJna(config, r, 1795000055, "N") } }
            assertTrue(after.exceptionOrNull() is IllegalStateException, "${after.exceptionOrNull()}")
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `a closed config is refused with IllegalStateException, never used`() {
        val config = Vectors.config()
        val r = CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R1", amount = RefundAmountInput(refund = 1, total = 1))
        buildCreateRefundRequest(config, r, 1795000055, "N1")
        config.close()
        // Both paths refuse it (each holds the generated call counter). The generated `…ViaJna`
        // functions are not called directly here: UniFFI's lowering of an object *argument* does
        // not check whether the object was closed and would clone a freed handle (a JVM crash;
        // the concurrent test below crashes the same way without the counter held).
        for (call in listOf<() -> Any>(
            { buildCreateRefundRequest(config, r, 1795000055, "N1") },
            { buildQueryRefundRequest(config, "R1", null, 1795000055, "N1") },
            { parseRefundResponse(config, HttpResponse(200u, emptyList(), ByteArray(0)), 0) },
            { verifyWechatpaySignature(config, emptyList(), ByteArray(0), 0) },
            { parseNotificationAt(config, emptyMap(), ByteArray(0), 0) },
        )) {
            val e = outcome(call).exceptionOrNull()
            assertTrue(e is IllegalStateException && "destroyed" in e.message.orEmpty(), "$e")
        }
    }

    @Test
    fun `the client constructors refuse a closed configuration instead of using its freed handle`() {
        val config = Vectors.config()
        RefundClient(config).close()                 // fine while open
        config.close()
        for (make in listOf<() -> Any>(
            { RefundClient(config) },
            { RefundClient.withTransport(config, object : HttpTransport {
                override fun send(request: HttpRequest): HttpResponse = throw IllegalStateException("never sent")
            }) },
        )) {
            val e = outcome(make).exceptionOrNull()
            assertTrue(e is IllegalStateException && "destroyed" in e.message.orEmpty(), "$e")
        }
        // Constructing while another thread closes: each construction either completes (and
        // the client works) or is refused — never a freed handle.
        val pool = Executors.newFixedThreadPool(2)
        try {
            repeat(30) { round ->
                val cfg = Vectors.config()
                val made = pool.submit(Callable { outcome { RefundClient(cfg) } })
                pool.submit { cfg.close() }.get(30, TimeUnit.SECONDS)
                val out = made.get(30, TimeUnit.SECONDS)
                val e = out.exceptionOrNull()
                if (e == null) out.getOrThrow().close() else assertTrue(e is IllegalStateException, "round $round: $e")
            }
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `concurrent calls and a concurrent close never use a freed handle`() {
        val r = CreateRefundRequest(outTradeNo = "T1", outRefundNo = "R1", amount = RefundAmountInput(refund = 1, total = 1))
        val pool = Executors.newFixedThreadPool(4)
        try {
            repeat(20) { round ->
                val config = Vectors.config()
                val tasks = (0 until 4).map { i ->
                    Callable {
                        var done = 0
                        repeat(10) {
                            if (i == 3 && it == 5) config.close()
                            val out = outcome { buildQueryRefundRequest(config, "R$round-$i-$it", null, 1795000055, "N") }
                            val e = out.exceptionOrNull()
                            if (e == null) done++ else assertTrue(e is IllegalStateException, "round $round: $e")
                        }
                        done
                    }
                }
                val done = pool.invokeAll(tasks).sumOf { it.get(60, TimeUnit.SECONDS) }
                assertTrue(done in 5..40, "round $round: $done calls")
            }
        } finally {
            pool.shutdownNow()
        }
    }
}
