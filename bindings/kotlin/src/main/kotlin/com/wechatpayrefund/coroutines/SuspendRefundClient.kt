package com.wechatpayrefund.coroutines

import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.PlatformCertificate
import com.wechatpayrefund.Refund
import com.wechatpayrefund.RefundClient
import com.wechatpayrefund.RefundNotification
import com.wechatpayrefund.V2Refund
import com.wechatpayrefund.V2RefundClient
import com.wechatpayrefund.V2RefundNotification
import com.wechatpayrefund.V2RefundQuery
import com.wechatpayrefund.V2RefundQueryResult
import com.wechatpayrefund.V2RefundRequest
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * The suspending face of a [RefundClient]: the same calls, as `suspend` functions that run the
 * blocking call on [dispatcher] (default [Dispatchers.IO]), never on the caller's thread.
 *
 * ```kotlin
 * val api = RefundClient(config).suspending()
 * val refund = api.createRefund(request)          // suspends; the HTTP exchange runs on Dispatchers.IO
 * ```
 *
 * **Cancellation.** Cancelling the awaiting coroutine (or a `withTimeout`) resumes it at once with
 * a `CancellationException`, but never cuts the call short: the blocking call keeps its thread and
 * runs to completion, with its retries — each a re-send of the *same* signed bytes, as the blocking
 * client does — and its result is dropped. So a cancelled apply may still have been received by
 * WeChat Pay: find out with [queryRefund], or apply again with the same `outRefundNo` (WeChat Pay
 * refunds once per `outRefundNo`). Nothing is ever interrupted half-sent and re-sent with other
 * bytes. The client's own deadline and timeouts (`ClientOptions`) bound how long that call runs.
 *
 * One [RefundClient] is thread-safe and meant to be shared; this wrapper holds no other state.
 * Closing the underlying client is still the owner's job (`client.close()` or `use`).
 */
public class SuspendRefundClient(
    /** The blocking client every call goes through. */
    public val client: RefundClient,
    /** Where the blocking calls run. */
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) {
    /** [RefundClient.createRefund] (`POST /v3/refund/domestic/refunds`), suspending. */
    public suspend fun createRefund(request: CreateRefundRequest): Refund =
        runBlockingCall(dispatcher) { client.createRefund(request) }

    /** [RefundClient.queryRefund] (`GET /v3/refund/domestic/refunds/{out_refund_no}`), suspending. */
    public suspend fun queryRefund(outRefundNo: String, subMchid: String? = null): Refund =
        runBlockingCall(dispatcher) { client.queryRefund(outRefundNo, subMchid) }

    /** [RefundClient.applyAbnormalRefund] (`POST .../{refund_id}/apply-abnormal-refund`), suspending. */
    public suspend fun applyAbnormalRefund(request: AbnormalRefundRequest): Refund =
        runBlockingCall(dispatcher) { client.applyAbnormalRefund(request) }

    /**
     * [RefundClient.parseNotification], suspending: verification and decryption are CPU work
     * (tens of microseconds) with no I/O, run on [dispatcher] like the rest.
     */
    public suspend fun parseNotification(headers: Map<String, String>, body: ByteArray): RefundNotification =
        runBlockingCall(dispatcher) { client.parseNotification(headers, body) }

    /** [RefundClient.refreshPlatformCertificates] (`GET /v3/certificates`), suspending. */
    public suspend fun refreshPlatformCertificates(): List<PlatformCertificate> =
        runBlockingCall(dispatcher) { client.refreshPlatformCertificates() }

    override fun toString(): String = "SuspendRefundClient($client)"
}

/**
 * The suspending face of a legacy v2 [V2RefundClient], with the same rules as
 * [SuspendRefundClient]: calls run on [dispatcher], a cancelled await resumes at once while the
 * call runs to its end on its thread (a v2 refund is also refunded once per `outRefundNo`).
 */
public class SuspendV2RefundClient(
    /** The blocking v2 client every call goes through. */
    public val client: V2RefundClient,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) {
    /** [V2RefundClient.refund] (`POST /secapi/pay/refund`, mutual TLS), suspending. */
    public suspend fun refund(request: V2RefundRequest): V2Refund = runBlockingCall(dispatcher) { client.refund(request) }

    /** [V2RefundClient.refundQuery] (`POST /pay/refundquery`), suspending. */
    public suspend fun refundQuery(query: V2RefundQuery): V2RefundQueryResult =
        runBlockingCall(dispatcher) { client.refundQuery(query) }

    /** [V2RefundClient.parseRefundNotification], suspending (CPU only). */
    public suspend fun parseRefundNotification(body: ByteArray): V2RefundNotification =
        runBlockingCall(dispatcher) { client.parseRefundNotification(body) }

    override fun toString(): String = "SuspendV2RefundClient($client)"
}

/** This client's suspending face, its calls running on [dispatcher] (default [Dispatchers.IO]). */
public fun RefundClient.suspending(dispatcher: CoroutineDispatcher = Dispatchers.IO): SuspendRefundClient =
    SuspendRefundClient(this, dispatcher)

/** This v2 client's suspending face, its calls running on [dispatcher] (default [Dispatchers.IO]). */
public fun V2RefundClient.suspending(dispatcher: CoroutineDispatcher = Dispatchers.IO): SuspendV2RefundClient =
    SuspendV2RefundClient(this, dispatcher)

/**
 * Runs [call] on [dispatcher] and suspends until it returns or throws. If the awaiting coroutine is
 * cancelled first, it resumes with `CancellationException` at once while [call] keeps running to
 * its end on its thread (never interrupted); its outcome is then dropped.
 */
internal suspend fun <T> runBlockingCall(dispatcher: CoroutineDispatcher, call: () -> T): T =
    suspendCancellableCoroutine { cont ->
        dispatcher.asExecutor().execute {
            // A resume after cancellation is ignored by the continuation: the late outcome is dropped.
            cont.resumeWith(runCatching(call))
        }
    }
