package com.wechatpayrefund.test

import com.wechatpayrefund.ClientConfig
import com.wechatpayrefund.HttpHeader
import java.io.File

/**
 * A small, strict JSON reader for the golden vector files (the JVM has no JSON parser built in,
 * and the tests stay dependency-free). Objects become `Map<String, Any?>` (insertion order kept),
 * arrays `List<Any?>`, integers `Long`, other numbers `Double`.
 */
object Json {
    fun parse(text: String): Any? {
        val r = Reader(text)
        val v = r.value()
        r.ws()
        require(r.i == text.length) { "trailing characters at offset ${r.i}" }
        return v
    }

    private class Reader(val s: String) {
        var i = 0

        fun ws() {
            while (i < s.length && s[i] in " \t\r\n") i++
        }

        fun value(): Any? {
            ws()
            require(i < s.length) { "unexpected end of JSON" }
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> lit("true", true)
                'f' -> lit("false", false)
                'n' -> lit("null", null)
                else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at offset $i")
            }
        }

        fun lit(word: String, v: Any?): Any? {
            require(s.startsWith(word, i)) { "bad literal at offset $i" }
            i += word.length
            return v
        }

        fun obj(): Map<String, Any?> {
            val m = LinkedHashMap<String, Any?>()
            i++ // {
            ws()
            if (s[i] == '}') { i++; return m }
            while (true) {
                ws()
                require(s[i] == '"') { "object key expected at offset $i" }
                val k = str()
                ws()
                require(s[i] == ':') { "':' expected at offset $i" }
                i++
                m[k] = value()
                ws()
                when (s[i++]) {
                    ',' -> continue
                    '}' -> return m
                    else -> error("',' or '}' expected at offset ${i - 1}")
                }
            }
        }

        fun arr(): List<Any?> {
            val l = ArrayList<Any?>()
            i++ // [
            ws()
            if (s[i] == ']') { i++; return l }
            while (true) {
                l.add(value())
                ws()
                when (s[i++]) {
                    ',' -> continue
                    ']' -> return l
                    else -> error("',' or ']' expected at offset ${i - 1}")
                }
            }
        }

        fun str(): String {
            val b = StringBuilder()
            i++ // opening quote
            while (true) {
                val c = s[i++]
                when {
                    c == '"' -> return b.toString()
                    c == '\\' -> {
                        when (val e = s[i++]) {
                            '"', '\\', '/' -> b.append(e)
                            'b' -> b.append('\b')
                            'f' -> b.append('\u000C')
                            'n' -> b.append('\n')
                            'r' -> b.append('\r')
                            't' -> b.append('\t')
                            // \uXXXX; a surrogate pair arrives as two escapes, appended as two chars
                            'u' -> { b.append(s.substring(i, i + 4).toInt(16).toChar()); i += 4 }
                            else -> error("bad escape \\$e at offset ${i - 1}")
                        }
                    }
                    c < ' ' -> error("control character in string at offset ${i - 1}")
                    else -> b.append(c)
                }
            }
        }

        fun num(): Any {
            val start = i
            if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            val t = s.substring(start, i)
            return t.toLongOrNull() ?: t.toDouble()
        }
    }
}

/** Typed access to parsed JSON, failing loudly on a wrong shape. */
@Suppress("UNCHECKED_CAST")
fun Any?.obj(): Map<String, Any?> = this as? Map<String, Any?> ?: error("not a JSON object: $this")

@Suppress("UNCHECKED_CAST")
fun Any?.arr(): List<Any?> = this as? List<Any?> ?: error("not a JSON array: $this")

fun Map<String, Any?>.str(key: String): String = this[key] as? String ?: error("$key is not a string")
fun Map<String, Any?>.strOrNull(key: String): String? = this[key] as String?
fun Map<String, Any?>.long(key: String): Long = this[key] as? Long ?: error("$key is not an integer")
fun Map<String, Any?>.obj(key: String): Map<String, Any?> = this[key].obj()
fun Map<String, Any?>.arr(key: String): List<Map<String, Any?>> = this[key].arr().map { it.obj() }

/** The shared golden vectors in tests/vectors/ (see tests/vectors/README.md). */
object Vectors {
    /** `-Dwechatpay.vectors=DIR` (set by scripts/test-kotlin), else found above the working directory. */
    val dir: File by lazy {
        System.getProperty("wechatpay.vectors")?.let { return@lazy File(it) }
        var d: File? = File(System.getProperty("user.dir")).absoluteFile
        while (d != null) {
            val v = File(d, "tests/vectors")
            if (File(v, "signing.json").isFile) return@lazy v
            d = d.parentFile
        }
        error("tests/vectors not found: run from the repository or set -Dwechatpay.vectors")
    }

    fun load(name: String): Map<String, Any?> = Json.parse(File(dir, name).readText(Charsets.UTF_8)).obj()

    val keys by lazy { load("keys.json") }

    /** The vector merchant, trusting both the WeChat Pay public key and the platform certificate. */
    fun config(apiV3Key: String = keys.str("api_v3_key"), serviceProvider: Boolean = false, mchid: String = keys.str("mchid")): ClientConfig {
        val wx = keys.obj("wechatpay_public_key")
        return ClientConfig(
            mchid = mchid,
            merchantSerialNo = keys.obj("merchant").str("serial_no"),
            merchantPrivateKeyPem = keys.obj("merchant").str("private_key_pkcs8_pem"),
            apiV3Key = apiV3Key,
            wechatpayPublicKeyId = wx.str("id"),
            wechatpayPublicKeyPem = wx.str("public_key_pem"),
            platformCertificatesPem = listOf(keys.obj("platform").str("certificate_pem")),
            // The test platform certificate is self-signed: its own trust anchor.
            options = com.wechatpayrefund.ClientOptions(platformTrustAnchorsPem = listOf(keys.obj("platform").str("certificate_pem"))),
            serviceProvider = serviceProvider,
        )
    }

    /** The `Wechatpay-*` and `Request-ID` headers of a verification.json case, as received. */
    fun responseHeaders(c: Map<String, Any?>): List<HttpHeader> = listOf(
        HttpHeader("Wechatpay-Timestamp", c.long("timestamp").toString()),
        HttpHeader("Wechatpay-Nonce", c.str("nonce")),
        HttpHeader("Wechatpay-Signature", c.str("signature")),
        HttpHeader("Wechatpay-Serial", c.str("serial")),
        HttpHeader("Wechatpay-Signature-Type", c.str("signature_type")),
        HttpHeader("Request-ID", c.str("request_id")),
    )

    /** The `cases` of a vector file by name. */
    fun cases(file: Map<String, Any?>): Map<String, Map<String, Any?>> =
        file.arr("cases").associateBy { it.str("name") }
}
