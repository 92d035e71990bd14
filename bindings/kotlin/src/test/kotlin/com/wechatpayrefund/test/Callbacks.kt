package com.wechatpayrefund.test

import com.wechatpayrefund.HttpHeader
import com.wechatpayrefund.HttpRequest
import com.wechatpayrefund.HttpResponse
import com.wechatpayrefund.HttpTransport
import com.wechatpayrefund.RefundException
import com.wechatpayrefund.Signer
import com.wechatpayrefund.TransportErrorKind
import java.io.IOException
import java.net.ConnectException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpConnectTimeoutException
import java.net.http.HttpTimeoutException
import java.security.KeyFactory
import java.security.PrivateKey
import java.security.Signature
import java.security.spec.PKCS8EncodedKeySpec
import java.time.Duration
import java.util.Base64
import java.util.concurrent.atomic.AtomicInteger
import java.net.http.HttpRequest as JdkRequest
import java.net.http.HttpResponse as JdkResponse

/**
 * An [HttpTransport] on the JDK's own `java.net.http.HttpClient`: what a service that already
 * has an HTTP stack (OkHttp, Ktor, a corporate proxy setup) plugs into `RefundClient.withTransport`.
 *
 * Every HTTP status is returned as a response; only a failed exchange raises
 * `RefundException.Transport`, with a kind the client's retry policy understands.
 */
class JdkHttpTransport(
    private val timeout: Duration = Duration.ofSeconds(10),
) : HttpTransport {
    /** Requests carried so far. */
    val calls = AtomicInteger()

    private val http: HttpClient = HttpClient.newBuilder()
        // HTTP/1.1: no h2c upgrade attempt towards plain-http servers such as the sandbox.
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .build()

    override fun send(request: HttpRequest): HttpResponse {
        calls.incrementAndGet()
        val builder = try {
            JdkRequest.newBuilder(URI.create(request.url)).timeout(timeout)
        } catch (e: IllegalArgumentException) {
            throw RefundException.Transport(TransportErrorKind.INVALID_URL, e.toString(), false)
        }
        for (h in request.headers) builder.header(h.name, h.value)
        // Send exactly the signed bytes.
        builder.method(request.method, JdkRequest.BodyPublishers.ofByteArray(request.body))
        val resp = try {
            http.send(builder.build(), JdkResponse.BodyHandlers.ofByteArray())
        } catch (e: HttpConnectTimeoutException) {
            throw RefundException.Transport(TransportErrorKind.TIMEOUT, e.toString(), true)
        } catch (e: HttpTimeoutException) {
            throw RefundException.Transport(TransportErrorKind.TIMEOUT, e.toString(), true)
        } catch (e: ConnectException) {
            throw RefundException.Transport(TransportErrorKind.CONNECT, e.toString(), true)
        } catch (e: IOException) {
            throw RefundException.Transport(TransportErrorKind.IO, e.toString(), true)
        }
        val headers = resp.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
        return HttpResponse(resp.statusCode().toUShort(), headers, resp.body())
    }
}

/**
 * A [Signer] on the JDK's JCA (`SHA256withRSA` = RSASSA-PKCS1-v1_5 with SHA-256): the shape of a
 * signer backed by Android Keystore, a KMS or an HSM, where the key never enters the library.
 */
class JcaSigner(private val key: PrivateKey) : Signer {
    /** Signatures made so far. */
    val calls = AtomicInteger()

    override fun sign(message: ByteArray): ByteArray {
        calls.incrementAndGet()
        return Signature.getInstance("SHA256withRSA").run {
            initSign(key)
            update(message)
            sign()
        }
    }

    companion object {
        /** From a PKCS#8 PEM (`BEGIN PRIVATE KEY`). */
        fun fromPkcs8Pem(pem: String): JcaSigner = JcaSigner(pkcs8PrivateKey(pem))
    }
}

/** An RSA private key from a PKCS#8 PEM. */
fun pkcs8PrivateKey(pem: String): PrivateKey {
    val b64 = pem.lineSequence().filterNot { it.startsWith("-----") }.joinToString("").trim()
    return KeyFactory.getInstance("RSA").generatePrivate(PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)))
}
