package com.wechatpayrefund.test

import com.wechatpayrefund.BillType
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.RefundStatus
import com.wechatpayrefund.Sandbox
import com.wechatpayrefund.TradeBillRequest
import com.wechatpayrefund.junit5.SandboxExtension
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.extension.ExtendWith
import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import java.time.Instant
import java.time.ZoneOffset
import java.util.zip.GZIPInputStream

/** A day (`YYYY-MM-DD`) in China time (UTC+8), as WeChat Pay dates its bills. */
internal fun chinaDate(unixSeconds: Long): String =
    Instant.ofEpochSecond(unixSeconds).atOffset(ZoneOffset.ofHours(8)).toLocalDate().toString()

/**
 * The daily trade bill (issue 20) from Kotlin: download and parse (plain and GZIP), a file saved
 * and its SHA1 checked, a corrupted file refused, WeChat Pay's "no bill" answers. Each test has a
 * sandbox of its own (method parameters): its clock is moved a day on, to the day a bill is ready.
 */
@Timeout(120)
@ExtendWith(SandboxExtension::class)
class BillTest {

    /** Two refunds (2999 fen, then SUCCESS; 29 fen, PROCESSING) of one order on the day returned; the clock then a day on. */
    private fun yesterday(sandbox: Sandbox, client: RefundClient): Pair<String, List<String>> {
        val day = chinaDate(sandbox.clock())
        sandbox.createOrder("TB1", 10000)
        val nos = listOf("RB1", "RB2")
        for ((no, fen) in nos.zip(listOf(2999L, 29L))) {
            client.createRefund(CreateRefundRequest(outTradeNo = "TB1", outRefundNo = no, amount = RefundAmountInput(refund = fen, total = 10000)))
        }
        sandbox.setRefundStatus(nos[0], RefundStatus.SUCCESS)
        assumeTrue(chinaDate(sandbox.clock()) == day, "midnight China time passed during the setup")
        sandbox.advanceClock(86400)
        return day to nos
    }

    private fun sha1(bytes: ByteArray) = MessageDigest.getInstance("SHA-1").digest(bytes).joinToString("") { "%02x".format(it) }

    @Test
    fun `the day's refunds are in its bill, exact to the fen, plain and GZIP`(sandbox: Sandbox, client: RefundClient) {
        val (day, nos) = yesterday(sandbox, client)
        for (gzip in listOf(false, true)) {
            val bill = client.downloadBill(TradeBillRequest(billDate = day, billType = BillType.ALL, gzip = gzip))
            val refunds = bill.rows.filter { it.tradeState == "REFUND" }.associateBy { it.outRefundNo }
            assertEquals(nos.toSet(), refunds.keys, "gzip=$gzip")
            assertEquals(2999L, refunds.getValue("RB1").refundFen)
            assertEquals(RefundStatus.SUCCESS, refunds.getValue("RB1").refundStatus)
            assertEquals(29L, refunds.getValue("RB2").refundFen)
            assertEquals(RefundStatus.PROCESSING, refunds.getValue("RB2").refundStatus)
            assertTrue(refunds.values.all { it.outTradeNo == "TB1" })
            assertEquals(3028L, bill.summary!!.refundTotalFen)
            assertEquals(3L, bill.summary!!.totalCount)
            assertTrue("交易时间" in bill.columns, "${bill.columns}")
        }
        // The refund-only bill has the refunds alone.
        val refundsOnly = client.downloadBill(TradeBillRequest(billDate = day, billType = BillType.REFUND))
        assertEquals(nos.toSet(), refundsOnly.rows.map { it.outRefundNo }.toSet())
    }

    @Test
    fun `a bill saved to a file is the bytes downloaded, with the SHA1 WeChat Pay gave`(sandbox: Sandbox, client: RefundClient) {
        val (day, _) = yesterday(sandbox, client)
        val dir = Files.createTempDirectory("bill-kt")
        // In two steps: the trade-bill answer (where, and the hash), then the file.
        val info = client.tradeBill(TradeBillRequest(billDate = day, billType = BillType.ALL))
        assertEquals("SHA1", info.hashType)
        val plain = dir.resolve("bill.csv").toString()
        val f = client.downloadBillFile(info, plain)
        val bytes = File(plain).readBytes()
        assertEquals(plain, f.path)
        assertFalse(f.gzip)
        assertEquals(bytes.size.toULong(), f.bytes)
        assertEquals(info.hashValue.lowercase(), sha1(bytes))
        assertEquals(sha1(bytes), f.sha1)
        assertTrue(String(bytes, Charsets.UTF_8).removePrefix("\uFEFF").startsWith("交易时间,"))

        // In one: GZIP, saved compressed as downloaded.
        val gz = dir.resolve("bill.csv.gz").toString()
        val g = client.downloadBillTo(TradeBillRequest(billDate = day, billType = BillType.REFUND, gzip = true), gz)
        val data = File(gz).readBytes()
        assertTrue(g.gzip)
        assertArrayEquals(byteArrayOf(0x1f, 0x8b.toByte()), data.copyOf(2))
        assertEquals(data.size.toULong(), g.bytes)
        assertEquals(sha1(data), g.sha1)
        val text = GZIPInputStream(data.inputStream()).readBytes().toString(Charsets.UTF_8)
        assertTrue(text.startsWith("交易时间,"), text.take(40))
        assertEquals(setOf("bill.csv", "bill.csv.gz"), dir.toFile().list()!!.toSet())
    }

    @Test
    fun `a corrupted bill is a Signature error, nothing saved and nothing parsed`(sandbox: Sandbox, client: RefundClient) {
        val (day, _) = yesterday(sandbox, client)
        val dir = Files.createTempDirectory("bill-kt-bad")
        val path = dir.resolve("bill.csv").toString()
        sandbox.corruptNextBills(1u)
        val e = assertThrows<RefundException.Signature> {
            client.downloadBillTo(TradeBillRequest(billDate = day, billType = BillType.ALL), path)
        }
        assertTrue("bill digest mismatch" in e.reason, e.reason)
        assertEquals(emptyList<String>(), dir.toFile().list()!!.toList())

        sandbox.corruptNextBills(1u)
        val p = assertThrows<RefundException.Signature> { client.downloadBill(TradeBillRequest(billDate = day, billType = BillType.ALL, gzip = true)) }
        assertTrue("nothing was parsed" in p.reason, p.reason)
        // The next one is served intact.
        assertEquals(2, client.downloadBill(TradeBillRequest(billDate = day, billType = BillType.REFUND)).rows.size)
    }

    @Test
    fun `no bill yet, and no bill at all, are Api errors with their codes`(sandbox: Sandbox, client: RefundClient) {
        val today = assertThrows<RefundException.Api> {
            client.tradeBill(TradeBillRequest(billDate = chinaDate(sandbox.clock()), billType = BillType.ALL))
        }
        assertEquals("STATEMENT_CREATING", today.code)
        val none = assertThrows<RefundException.Api> {
            client.tradeBill(TradeBillRequest(billDate = chinaDate(sandbox.clock() - 2 * 86400), billType = BillType.ALL))
        }
        assertEquals("NO_STATEMENT_EXIST", none.code)
        assertFalse(none.retryable)
        val empty = Files.createTempDirectory("bill-kt-none")
        assertThrows<RefundException.Api> {
            client.downloadBillTo(TradeBillRequest(billDate = chinaDate(sandbox.clock() - 2 * 86400), billType = BillType.ALL),
                empty.resolve("bill.csv").toString())
        }
        assertEquals(emptyList<String>(), empty.toFile().list()!!.toList())
        assertThrows<RefundException.InvalidInput> { client.tradeBill(TradeBillRequest(billDate = "2026-02-30", billType = BillType.ALL)) }
    }
}
