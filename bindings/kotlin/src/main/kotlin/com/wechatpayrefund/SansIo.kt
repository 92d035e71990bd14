// The sans-IO entry points of the Kotlin binding: the same names, parameters, results and
// exceptions as the UniFFI exports of src/sansio.rs (generated here as `…ViaJna`, see
// uniffi.toml), through FastPath's single JNI call when it is loaded, else (FastPath.invoke
// decides) through the generated JNA call with the config's call counter held, which the
// generated lowering of an object argument does not do. Arguments and results are
// (de)serialised by the generated converters.
@file:JvmName("SansIo")

package com.wechatpayrefund

/** Build the signed apply-refund request at `timestamp` (unix seconds) with `nonce`. */
@Throws(RefundException::class)
public fun buildCreateRefundRequest(
    config: ClientConfig,
    request: CreateRefundRequest,
    timestamp: Long,
    nonce: String,
): HttpRequest {
    return FastPath.invoke(
        config, FastPath.OP_BUILD_CREATE_REFUND_REQUEST,
        FfiConverterTypeCreateRefundRequest.allocationSize(request) + 8UL + FfiConverterString.allocationSize(nonce),
        {
            FfiConverterTypeCreateRefundRequest.write(request, it)
            FfiConverterLong.write(timestamp, it)
            FfiConverterString.write(nonce, it)
        },
        FfiConverterTypeHttpRequest::read,
        { buildCreateRefundRequestViaJna(config, request, timestamp, nonce) },
    )
}

/** Build the signed query-refund request at `timestamp` with `nonce`. */
@Throws(RefundException::class)
public fun buildQueryRefundRequest(
    config: ClientConfig,
    outRefundNo: String,
    subMchid: String?,
    timestamp: Long,
    nonce: String,
): HttpRequest {
    return FastPath.invoke(
        config, FastPath.OP_BUILD_QUERY_REFUND_REQUEST,
        FfiConverterString.allocationSize(outRefundNo) + FfiConverterOptionalString.allocationSize(subMchid) +
            8UL + FfiConverterString.allocationSize(nonce),
        {
            FfiConverterString.write(outRefundNo, it)
            FfiConverterOptionalString.write(subMchid, it)
            FfiConverterLong.write(timestamp, it)
            FfiConverterString.write(nonce, it)
        },
        FfiConverterTypeHttpRequest::read,
        { buildQueryRefundRequestViaJna(config, outRefundNo, subMchid, timestamp, nonce) },
    )
}

/** Build the signed apply-abnormal-refund request (sensitive fields encrypted) at `timestamp`. */
@Throws(RefundException::class)
public fun buildApplyAbnormalRefundRequest(
    config: ClientConfig,
    request: AbnormalRefundRequest,
    timestamp: Long,
    nonce: String,
): HttpRequest {
    return FastPath.invoke(
        config, FastPath.OP_BUILD_APPLY_ABNORMAL_REFUND_REQUEST,
        FfiConverterTypeAbnormalRefundRequest.allocationSize(request) + 8UL + FfiConverterString.allocationSize(nonce),
        {
            FfiConverterTypeAbnormalRefundRequest.write(request, it)
            FfiConverterLong.write(timestamp, it)
            FfiConverterString.write(nonce, it)
        },
        FfiConverterTypeHttpRequest::read,
        { buildApplyAbnormalRefundRequestViaJna(config, request, timestamp, nonce) },
    )
}

/**
 * Verify a refund response (any status) as of `now` (unix seconds) and parse it; error
 * statuses become `RefundException.Api`.
 */
@Throws(RefundException::class)
public fun parseRefundResponse(config: ClientConfig, response: HttpResponse, now: Long): Refund {
    return FastPath.invoke(
        config, FastPath.OP_PARSE_REFUND_RESPONSE,
        FfiConverterTypeHttpResponse.allocationSize(response) + 8UL,
        {
            FfiConverterTypeHttpResponse.write(response, it)
            FfiConverterLong.write(now, it)
        },
        FfiConverterTypeRefund::read,
        { parseRefundResponseViaJna(config, response, now) },
    )
}

/** Verify a WeChat Pay signature (`Wechatpay-*` headers) over `body` as of `now`. */
@Throws(RefundException::class)
public fun verifyWechatpaySignature(config: ClientConfig, headers: List<HttpHeader>, body: ByteArray, now: Long) {
    return FastPath.invoke(
        config, FastPath.OP_VERIFY_WECHATPAY_SIGNATURE,
        FfiConverterSequenceTypeHttpHeader.allocationSize(headers) + FfiConverterByteArray.allocationSize(body) + 8UL,
        {
            FfiConverterSequenceTypeHttpHeader.write(headers, it)
            FfiConverterByteArray.write(body, it)
            FfiConverterLong.write(now, it)
        },
        { },
        { verifyWechatpaySignatureViaJna(config, headers, body, now) },
    )
}

/** Verify, decrypt and parse a refund notification as of `now` (unix seconds). */
@Throws(RefundException::class)
public fun parseNotificationAt(
    config: ClientConfig,
    headers: Map<String, String>,
    body: ByteArray,
    now: Long,
): RefundNotification {
    return FastPath.invoke(
        config, FastPath.OP_PARSE_NOTIFICATION_AT,
        FfiConverterMapStringString.allocationSize(headers) + FfiConverterByteArray.allocationSize(body) + 8UL,
        {
            FfiConverterMapStringString.write(headers, it)
            FfiConverterByteArray.write(body, it)
            FfiConverterLong.write(now, it)
        },
        FfiConverterTypeRefundNotification::read,
        { parseNotificationAtViaJna(config, headers, body, now) },
    )
}
