package com.wechatpayrefund.test

import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.BillType
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.LedgerEventSource
import com.wechatpayrefund.LedgerOptions
import com.wechatpayrefund.LedgerState
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundLedger
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.SandboxOptions
import com.wechatpayrefund.TradeBillRequest
import com.wechatpayrefund.junit5.SandboxExtension
import com.wechatpayrefund.invoke
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread

/**
 * The refund ledger (issue 19) from Kotlin: the Python contract as Kotlin, on SQLite
 * and on the PostgreSQL server scripts/test starts (WECHATPAY_REFUND_TEST_POSTGRES_URL).
 */
@Timeout(120)
@ExtendWith(SandboxExtension::class)
class LedgerTest(private val sandbox: Sandbox, private val client: RefundClient) {

    private fun refund(order: String, no: String, amount: Long, total: Long) =
        CreateRefundRequest(outTradeNo = order, outRefundNo = no, amount = RefundAmountInput(refund = amount, total = total))

    /** The contract's scenario; `open` opens the same book again (another process, another day). */
    private fun lifecycle(tag: String, open: () -> RefundLedger) {
        val (o1, o2, r1, r2) = listOf("T$tag-1", "T$tag-2", "R$tag-1", "R$tag-2")
        val ledger = open()
        sandbox.createOrder(o1, 10000)
        val req = refund(o1, r1, 100, 10000)
        val e = ledger.submit(req)
        assertEquals(r1, e.outRefundNo)
        assertEquals(RefundStatus.PROCESSING, e.status)
        assertEquals(LedgerState.OPEN, e.state)
        assertNotNull(e.refundId)
        assertEquals(e.refundId, ledger.submit(req).refundId)
        assertEquals(1, sandbox.refundCount(o1).toInt())
        val reused = assertThrows<RefundException.InvalidInput> { ledger.submit(refund(o1, r1, 200, 10000)) }
        assertEquals("amount.refund", reused.field)

        sandbox.setRefundStatus(r1, RefundStatus.SUCCESS)
        val n = sandbox.notification(r1)
        ledger.handleNotification(n.headers, n.body)
        ledger.handleNotification(n.headers, n.body)
        assertEquals(RefundStatus.SUCCESS, ledger.get(r1)!!.status)

        sandbox.createOrder(o2, 500)
        ledger.submit(refund(o2, r2, 500, 500))
        sandbox.setRefundStatus(r2, RefundStatus.ABNORMAL)
        val changed = ledger.poll(onlyDue = false)
        assertEquals(listOf(r2), changed.map { it.outRefundNo })
        assertEquals(RefundStatus.ABNORMAL, changed[0].status)
        assertEquals(listOf(r2), ledger.needsAction().map { it.outRefundNo })
        ledger.resolveAbnormal(AbnormalRefundRequest(refundId = ledger.get(r2)!!.refundId!!, outRefundNo = r2,
            kind = AbnormalRefundKind.MERCHANT_BANK_CARD))
        assertEquals(emptyList<Any>(), ledger.needsAction())
        sandbox.setRefundStatus(r2, RefundStatus.SUCCESS)
        ledger.poll(onlyDue = false)
        assertEquals(RefundStatus.SUCCESS, ledger.get(r2)!!.status)

        val evs = ledger.events(after = 0L)
        assertEquals(evs.map { it.seq }.sorted().distinct(), evs.map { it.seq })
        assertEquals(listOf(RefundStatus.PROCESSING, RefundStatus.SUCCESS), evs.filter { it.outRefundNo == r1 }.map { it.status })
        assertTrue(RefundStatus.ABNORMAL in evs.filter { it.outRefundNo == r2 }.map { it.status })
        assertEquals(emptyList<Any>(), ledger.events(after = evs.last().seq))

        ledger.closeDatabase()
        assertThrows<RefundException.Store> { ledger.get(r1) }
        ledger.close()
        val again = open()
        assertEquals(RefundStatus.SUCCESS, again.get(r1)!!.status)
        assertNull(again.get("R404"))
        assertEquals(emptyList<Any>(), again.resume())
        again.close()
    }

    @Test
    fun `the lifecycle on SQLite`() {
        val db = Files.createTempDirectory("ledger-kt").resolve("refunds.db").toString()
        lifecycle("KS") { RefundLedger.openSqlite(db, client) }
    }

    @Test
    fun `the lifecycle on PostgreSQL`() {
        val base = System.getenv("WECHATPAY_REFUND_TEST_POSTGRES_URL")
        if (base.isNullOrEmpty()) {
            // scripts/test-kotlin starts a server; run alone without one, say so and stop.
            assertFalse(System.getenv("CI").orEmpty().let { it.isNotEmpty() && it != "0" },
                "WECHATPAY_REFUND_TEST_POSTGRES_URL is not set in CI")
            println("skipped: no PostgreSQL server")
            return
        }
        val name = "kt_" + UUID.randomUUID().toString().replace("-", "").take(12)
        val psql = ProcessBuilder("psql", base, "-q", "-c", "CREATE DATABASE $name").inheritIO().start()
        assertEquals(0, psql.waitFor())
        val url = base.substringBeforeLast('/') + "/" + name
        lifecycle("KP") { RefundLedger.openPostgres(url, client) }
    }

    @Test
    fun `one notification from four threads at once is one transition`() {
        val db = Files.createTempDirectory("ledger-kt4").resolve("refunds.db").toString()
        val ledger = RefundLedger.openSqliteWith(db, client, LedgerOptions(synchronousFull = false))
        sandbox.createOrder("TK4", 1000)
        ledger.submit(refund("TK4", "RK4", 10, 1000))
        sandbox.setRefundStatus("RK4", RefundStatus.SUCCESS)
        val n = sandbox.notification("RK4")
        val start = CountDownLatch(1)
        val threads = (1..4).map { thread { start.await(); ledger.handleNotification(n.headers, n.body) } }
        start.countDown()
        threads.forEach { it.join() }
        assertEquals(
            listOf(RefundStatus.PROCESSING to LedgerEventSource.SUBMIT, RefundStatus.SUCCESS to LedgerEventSource.NOTIFICATION),
            ledger.events(after = 0L).map { it.status to it.source })
        ledger.close()
    }

    @Test
    fun `reconcile the day's bill against the ledger`() {
        // A sandbox of its own (the class's sees other tests' refunds): its clock moves a day on.
        Sandbox.startWith(SandboxOptions(port = 0u)).use { sb -> RefundClient(sb.clientConfig()).use { c -> reconcileDay(sb, c) } }
    }

    private fun reconcileDay(sb: Sandbox, c: RefundClient) {
        val db = Files.createTempDirectory("ledger-kt-rc").resolve("refunds.db").toString()
        val ledger = RefundLedger.openSqlite(db, c)
        val day = chinaDate(sb.clock())
        sb.createOrder("TRC", 10000)
        for ((no, fen) in listOf("RC1" to 100L, "RC2" to 200L)) {
            ledger.submit(refund("TRC", no, fen, 10000))
            sb.setRefundStatus(no, RefundStatus.SUCCESS)
        }
        // A refund made outside the ledger (the merchant platform, another system).
        c.createRefund(refund("TRC", "RC3", 300, 10000))
        sb.setRefundStatus("RC3", RefundStatus.SUCCESS)
        assertEquals(listOf("RC1", "RC2"), ledger.poll(onlyDue = false).map { it.outRefundNo }.sorted())
        assertEquals(day, chinaDate(sb.clock()), "midnight China time passed during the setup: run again")
        sb.advanceClock(86400) // the day's bill is ready the next day
        val bill = c.downloadBill(TradeBillRequest(billDate = day, billType = BillType.ALL))
        val report = ledger.reconcile(bill, day)
        assertEquals(listOf("RC1", "RC2"), report.matched.map { it.outRefundNo }.sorted())
        assertEquals(listOf("RC3" to 300L), report.missingInLedger.map { it.outRefundNo to it.refundFen })
        assertEquals(emptyList<Any>(), report.missingInBill)
        assertEquals(emptyList<Any>(), report.amountMismatches)
        assertEquals(emptyList<Any>(), report.statusMismatches)
        assertThrows<RefundException.InvalidInput> { ledger.reconcile(bill, "2026-13-01") }
        ledger.close()
    }
}
