// JMH: the Kotlin binding against wechatpay-java, on the inputs of benches/refund.rs (the golden
// vectors). scripts/bench-jvm runs it; BENCHMARKS.md ("JVM") has the method and the results.
//
// Each operation has one benchmark class with a `binding` and a `wechatpayJava` method doing the
// same work on the same input, in the same JVM. Diagnostic classes split the binding's time.
@file:Suppress("unused")

package com.wechatpayrefund.bench

import com.google.gson.JsonObject
import com.wechat.pay.java.core.auth.WechatPay2Credential
import com.wechat.pay.java.core.auth.WechatPay2Validator
import com.wechat.pay.java.core.cipher.RSAPrivacyEncryptor
import com.wechat.pay.java.core.cipher.RSASigner
import com.wechat.pay.java.core.cipher.RSAVerifier
import com.wechat.pay.java.core.http.HttpHeaders
import com.wechat.pay.java.core.notification.NotificationParser
import com.wechat.pay.java.core.notification.RSAPublicKeyNotificationConfig
import com.wechat.pay.java.core.notification.RequestParam
import com.wechat.pay.java.core.util.GsonUtil
import com.wechat.pay.java.core.util.PemUtil
import com.wechat.pay.java.service.refund.model.AmountReq
import com.wechat.pay.java.service.refund.model.CreateRequest
import com.wechat.pay.java.service.refund.model.Refund as SdkRefund
import com.wechat.pay.java.service.refund.model.RefundNotification as SdkRefundNotification
import com.wechatpayrefund.AbnormalRefundKind
import com.wechatpayrefund.AbnormalRefundRequest
import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.CreateRefundRequest
import com.wechatpayrefund.HttpHeader
import com.wechatpayrefund.HttpRequest
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.NotificationAck
import com.wechatpayrefund.Refund
import com.wechatpayrefund.RefundAmountInput
import com.wechatpayrefund.RefundNotification
import com.wechatpayrefund.FastPath
import com.wechatpayrefund.buildApplyAbnormalRefundRequest
import com.wechatpayrefund.buildApplyAbnormalRefundRequestViaJna
import com.wechatpayrefund.buildCreateRefundRequest
import com.wechatpayrefund.buildCreateRefundRequestViaJna
import com.wechatpayrefund.notificationAckSuccess
import com.wechatpayrefund.parseNotificationAt
import com.wechatpayrefund.parseNotificationAtViaJna
import com.wechatpayrefund.parseRefundResponse
import com.wechatpayrefund.parseRefundResponseViaJna
import com.wechatpayrefund.verifyWechatpaySignature
import com.wechatpayrefund.verifyWechatpaySignatureViaJna
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.Setup
import org.openjdk.jmh.annotations.State
import com.sun.jna.Native
import com.sun.jna.Pointer
import com.sun.jna.Structure
import java.io.File
import java.net.URI
import java.security.PrivateKey
import java.security.Signature
import java.time.Instant
import java.util.Base64
import java.util.concurrent.TimeUnit

/** Inputs and configured contenders, built once per benchmark run (not timed). */
@State(Scope.Benchmark)
open class Inputs {
    // ---- the vectors
    lateinit var mchid: String
    lateinit var merchantSerial: String
    lateinit var wxKeyId: String

    // ---- the binding
    lateinit var config: ClientConfig
    lateinit var createRequest: CreateRefundRequest
    lateinit var abnormalRequest: AbnormalRefundRequest
    lateinit var response: HttpResponse
    lateinit var responseHeaders: List<HttpHeader>
    lateinit var responseBodyBytes: ByteArray
    lateinit var notificationHeaders: Map<String, String>
    lateinit var notificationBodyBytes: ByteArray
    var now: Long = 0

    // ---- wechatpay-java
    lateinit var credential: WechatPay2Credential
    lateinit var validator: WechatPay2Validator
    lateinit var sdkResponseHeaders: HttpHeaders
    lateinit var responseBody: String
    lateinit var parser: NotificationParser
    lateinit var notificationParam: RequestParam
    lateinit var encryptor: RSAPrivacyEncryptor
    lateinit var sdkCreateRequest: CreateRequest
    val createUri: URI = URI("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds")
    val abnormalUri: URI = URI("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund")

    @Setup
    fun setup() {
        val dir = File(System.getProperty("wechatpay.vectors") ?: error("-Dwechatpay.vectors=DIR (tests/vectors) is required"))
        val keys = Json.parse(File(dir, "keys.json").readText()).obj()
        val merchant = keys.obj("merchant")
        val wx = keys.obj("wechatpay_public_key")
        mchid = keys.str("mchid")
        merchantSerial = merchant.str("serial_no")
        wxKeyId = wx.str("id")
        val apiV3Key = keys.str("api_v3_key")
        val merchantPem = merchant.str("private_key_pkcs8_pem")
        val wxPublicPem = wx.str("public_key_pem")
        val wxPrivate = jcaPrivateKey(wx.str("private_key_pkcs8_pem"))

        config = ClientConfig(
            mchid = mchid, merchantSerialNo = merchantSerial, merchantPrivateKeyPem = merchantPem, apiV3Key = apiV3Key,
            wechatpayPublicKeyId = wxKeyId, wechatpayPublicKeyPem = wxPublicPem,
        )
        // benches/refund.rs: the apply-refund request and the abnormal-refund request.
        createRequest = CreateRefundRequest(
            outTradeNo = "1217752501201407033233368018", outRefundNo = "R20261123001",
            amount = RefundAmountInput(refund = 888, total = 888),
            reason = "商品已售完", notifyUrl = "https://merchant.example.com/wechatpay/refund-notify",
        )
        abnormalRequest = AbnormalRefundRequest(
            refundId = "50000000382019052709732678859", outRefundNo = "R20261123001", kind = AbnormalRefundKind.USER_BANK_CARD,
            bankType = "ICBC_DEBIT", bankAccount = "6222021234567890", realName = "张三",
        )
        sdkCreateRequest = CreateRequest().apply {
            outTradeNo = "1217752501201407033233368018"
            outRefundNo = "R20261123001"
            reason = "商品已售完"
            notifyUrl = "https://merchant.example.com/wechatpay/refund-notify"
            amount = AmountReq().apply { refund = 888L; total = 888L; currency = "CNY" }
        }

        // The response of verification.json "ok_public_key" and the notification of notification.json
        // case 0, with the same bodies, re-signed here with the vector WeChat Pay key at the current
        // time: wechatpay-java checks the 5-minute window against the clock and cannot be given "now".
        now = Instant.now().epochSecond
        val verification = Json.parse(File(dir, "verification.json").readText()).obj()
        val ok = verification.arr("cases").first { it.str("name") == "ok_public_key" }
        responseBody = ok.str("body")
        responseBodyBytes = responseBody.toByteArray()
        val rNonce = ok.str("nonce")
        val rSig = sign(wxPrivate, "$now\n$rNonce\n$responseBody\n")
        val headerPairs = listOf(
            "Wechatpay-Timestamp" to now.toString(), "Wechatpay-Nonce" to rNonce, "Wechatpay-Signature" to rSig,
            "Wechatpay-Serial" to wxKeyId, "Wechatpay-Signature-Type" to "WECHATPAY2-SHA256-RSA2048",
            "Request-ID" to ok.str("request_id"),
        )
        responseHeaders = headerPairs.map { HttpHeader(it.first, it.second) }
        response = HttpResponse(200u, responseHeaders, responseBodyBytes)
        sdkResponseHeaders = HttpHeaders().apply { headerPairs.forEach { addHeader(it.first, it.second) } }

        val notification = Json.parse(File(dir, "notification.json").readText()).obj()
        val n = notification.arr("cases")[0]
        val nBody = n.str("body")
        notificationBodyBytes = nBody.toByteArray()
        val nh = n.obj("headers")
        val nNonce = nh.str("Wechatpay-Nonce")
        val nSig = sign(wxPrivate, "$now\n$nNonce\n$nBody\n")
        notificationHeaders = linkedMapOf(
            "Wechatpay-Timestamp" to now.toString(), "Wechatpay-Nonce" to nNonce, "Wechatpay-Signature" to nSig,
            "Wechatpay-Serial" to wxKeyId, "Wechatpay-Signature-Type" to "WECHATPAY2-SHA256-RSA2048",
            "Request-ID" to nh.str("Request-ID"),
        )
        notificationParam = RequestParam.Builder()
            .serialNumber(wxKeyId).nonce(nNonce).signature(nSig).timestamp(now.toString())
            .signType("WECHATPAY2-SHA256-RSA2048").body(nBody).build()

        val wxPublic = PemUtil.loadPublicKeyFromString(wxPublicPem)
        credential = WechatPay2Credential(mchid, RSASigner(merchantSerial, PemUtil.loadPrivateKeyFromString(merchantPem)))
        validator = WechatPay2Validator(RSAVerifier(wxPublic, wxKeyId))
        parser = NotificationParser(
            RSAPublicKeyNotificationConfig.Builder().publicKey(wxPublic).publicKeyId(wxKeyId).apiV3Key(apiV3Key).build(),
        )
        encryptor = RSAPrivacyEncryptor(wxPublic, wxKeyId)

        // The binding is measured as users get it: the JVM fast path (one JNI call) must be live.
        check(FastPath.isEnabled) { "the binding's JVM fast path is off: ${FastPath.disabledReason}" }
        // Both sides must succeed on these inputs before anything is timed.
        check(parseRefundResponse(config, response, now).outRefundNo == GsonUtil.getGson().fromJson(responseBody, SdkRefund::class.java).outRefundNo)
        check(validator.validate<Any>(sdkResponseHeaders, responseBody)) { "wechatpay-java refused the response" }
        check(parseNotificationAt(config, notificationHeaders, notificationBodyBytes, now).outRefundNo ==
            parser.parse(notificationParam, SdkRefundNotification::class.java).outRefundNo)
    }

    private fun sign(key: PrivateKey, message: String): String = Signature.getInstance("SHA256withRSA").run {
        initSign(key)
        update(message.toByteArray())
        Base64.getEncoder().encodeToString(sign())
    }

    private fun jcaPrivateKey(pem: String): PrivateKey = PemUtil.loadPrivateKeyFromString(
        pem.lineSequence().filterNot { it.startsWith("-----") }.joinToString(""),
    )
}

/** Serialise the apply-refund request and sign it (the Authorization header). */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
open class SignCreateRefund {
    @Benchmark
    fun binding(s: Inputs): HttpRequest = buildCreateRefundRequest(s.config, s.createRequest, 1_795_000_000, "NONCE0123456789")

    /** Diagnostic: the same call through the generated JNA function (the fallback path). */
    @Benchmark
    fun bindingViaJna(s: Inputs): HttpRequest = buildCreateRefundRequestViaJna(s.config, s.createRequest, 1_795_000_000, "NONCE0123456789")

    /** What RefundService.create does before the network: Gson, then WechatPay2Credential. */
    @Benchmark
    fun wechatpayJava(s: Inputs): String {
        val body = GsonUtil.getGson().toJson(s.sdkCreateRequest)
        return s.credential.getAuthorization(s.createUri, "POST", body)
    }
}

/** Verify a refund response's signature (and time window) and parse it into the typed model. */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
open class VerifyParseResponse {
    @Benchmark
    fun binding(s: Inputs): Refund = parseRefundResponse(s.config, s.response, s.now)

    /** Diagnostic: the same call through the generated JNA function (the fallback path). */
    @Benchmark
    fun bindingViaJna(s: Inputs): Refund = parseRefundResponseViaJna(s.config, s.response, s.now)

    /** What its HTTP client does with a 200: WechatPay2Validator.validate, then Gson into Refund. */
    @Benchmark
    fun wechatpayJava(s: Inputs): SdkRefund {
        check(s.validator.validate<Any>(s.sdkResponseHeaders, s.responseBody))
        return GsonUtil.getGson().fromJson(s.responseBody, SdkRefund::class.java)
    }
}

/** Verify, decrypt (AES-256-GCM) and parse a refund notification. */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
open class VerifyDecryptParseNotification {
    @Benchmark
    fun binding(s: Inputs): RefundNotification = parseNotificationAt(s.config, s.notificationHeaders, s.notificationBodyBytes, s.now)

    /** Diagnostic: the same call through the generated JNA function (the fallback path). */
    @Benchmark
    fun bindingViaJna(s: Inputs): RefundNotification =
        parseNotificationAtViaJna(s.config, s.notificationHeaders, s.notificationBodyBytes, s.now)

    @Benchmark
    fun wechatpayJava(s: Inputs): SdkRefundNotification = s.parser.parse(s.notificationParam, SdkRefundNotification::class.java)
}

/**
 * An apply-abnormal-refund request: encrypt the two sensitive fields (bank account, real name;
 * RSA-OAEP-SHA1 with the WeChat Pay public key), serialise, sign. The binding does the three in one
 * exported call (the encryption alone is not exported); wechatpay-java has no model for this
 * endpoint, so its side is PrivacyEncryptor x 2 + Gson of the same fields + WechatPay2Credential.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
open class EncryptAbnormalRefund {
    @Benchmark
    fun binding(s: Inputs): HttpRequest = buildApplyAbnormalRefundRequest(s.config, s.abnormalRequest, 1_795_000_000, "N")

    /** Diagnostic: the same call through the generated JNA function (the fallback path). */
    @Benchmark
    fun bindingViaJna(s: Inputs): HttpRequest = buildApplyAbnormalRefundRequestViaJna(s.config, s.abnormalRequest, 1_795_000_000, "N")

    @Benchmark
    fun wechatpayJava(s: Inputs): String {
        val body = JsonObject().apply {
            addProperty("out_refund_no", "R20261123001")
            addProperty("type", "USER_BANK_CARD")
            addProperty("bank_type", "ICBC_DEBIT")
            addProperty("bank_account", s.encryptor.encrypt("6222021234567890"))
            addProperty("real_name", s.encryptor.encrypt("张三"))
        }
        return s.credential.getAuthorization(s.abnormalUri, "POST", GsonUtil.getGson().toJson(body))
    }

    /** Reference: wechatpay-java's two encryptions alone. */
    @Benchmark
    fun wechatpayJavaEncryptOnly(s: Inputs): Any = s.encryptor.encrypt("6222021234567890") to s.encryptor.encrypt("张三")
}

/**
 * Where the binding's time goes (diagnostics, no wechatpay-java counterpart): one FFI call that
 * does almost nothing, and verification without building the typed result.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
open class BindingBreakdown {
    /** One generated JNA call + a 3-field record lifted from a RustBuffer. */
    @Benchmark
    fun ffiCallSmallRecord(): NotificationAck = notificationAckSuccess()

    /** Verify + window check over the same response, nothing returned: the crypto and lowering only. */
    @Benchmark
    fun verifyOnly(s: Inputs) = verifyWechatpaySignature(s.config, s.responseHeaders, s.responseBodyBytes, s.now)

    /** The same through the generated JNA function. */
    @Benchmark
    fun verifyOnlyViaJna(s: Inputs) = verifyWechatpaySignatureViaJna(s.config, s.responseHeaders, s.responseBodyBytes, s.now)

    /**
     * JNA alone, no Rust: a structure shaped like UniFFI's per-call `RustCallStatus` (a byte and a
     * nested RustBuffer) allocated, written and read, as every generated call does once for its
     * status (plus once per RustBuffer returned).
     */
    @Benchmark
    fun jnaCallStatusStructure(): Any = StatusLike().also { it.write(); it.read() }

    /** JNA alone, no Structure: a direct-mapped call into libc (`getpid`), the crossing itself. */
    @Benchmark
    fun jnaDirectCallNoStructure(): Int = LibC.getpid()
}

/** JNA direct mapping of libc, as UniFFI maps the Rust library (Native.register). */
object LibC {
    init {
        Native.register(LibC::class.java, "c")
    }

    @JvmStatic external fun getpid(): Int
}

/** The layout of UniFFI's RustBuffer (capacity, len, data). */
@Structure.FieldOrder("capacity", "len", "data")
open class BufferLike : Structure() {
    @JvmField var capacity: Long = 0
    @JvmField var len: Long = 0
    @JvmField var data: Pointer? = null

    class ByValue : BufferLike(), Structure.ByValue
}

/** The layout of UniFFI's RustCallStatus (code, error_buf). */
@Structure.FieldOrder("code", "error_buf")
open class StatusLike : Structure() {
    @JvmField var code: Byte = 0
    @JvmField var error_buf: BufferLike.ByValue = BufferLike.ByValue()
}
