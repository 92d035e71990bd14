package com.wechatpayrefund.bench

/**
 * A small strict JSON reader for the vector files (the benchmark must not time or depend on a
 * JSON library that one contender also uses). Objects are `Map<String, Any?>`, arrays `List<Any?>`,
 * integers `Long`.
 */
internal object Json {
    fun parse(text: String): Any? = Reader(text).run { val v = value(); ws(); require(i == s.length) { "trailing data at $i" }; v }

    private class Reader(val s: String) {
        var i = 0
        fun ws() { while (i < s.length && s[i] in " \t\r\n") i++ }
        fun value(): Any? {
            ws()
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> lit("true", true)
                'f' -> lit("false", false)
                'n' -> lit("null", null)
                else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at $i")
            }
        }
        fun lit(w: String, v: Any?): Any? { require(s.startsWith(w, i)); i += w.length; return v }
        fun obj(): Map<String, Any?> {
            val m = LinkedHashMap<String, Any?>(); i++; ws()
            if (s[i] == '}') { i++; return m }
            while (true) {
                ws(); val k = str(); ws(); require(s[i++] == ':'); m[k] = value(); ws()
                when (s[i++]) { ',' -> continue; '}' -> return m; else -> error("bad object at ${i - 1}") }
            }
        }
        fun arr(): List<Any?> {
            val l = ArrayList<Any?>(); i++; ws()
            if (s[i] == ']') { i++; return l }
            while (true) {
                l.add(value()); ws()
                when (s[i++]) { ',' -> continue; ']' -> return l; else -> error("bad array at ${i - 1}") }
            }
        }
        fun str(): String {
            val b = StringBuilder(); require(s[i++] == '"')
            while (true) {
                val c = s[i++]
                when (c) {
                    '"' -> return b.toString()
                    '\\' -> when (val e = s[i++]) {
                        '"', '\\', '/' -> b.append(e)
                        'b' -> b.append('\b'); 'f' -> b.append('\u000C'); 'n' -> b.append('\n'); 'r' -> b.append('\r'); 't' -> b.append('\t')
                        'u' -> { b.append(s.substring(i, i + 4).toInt(16).toChar()); i += 4 }
                        else -> error("bad escape at $i")
                    }
                    else -> b.append(c)
                }
            }
        }
        fun num(): Any {
            val st = i; if (s[i] == '-') i++
            while (i < s.length && (s[i].isDigit() || s[i] in ".eE+-")) i++
            val t = s.substring(st, i); return t.toLongOrNull() ?: t.toDouble()
        }
    }
}

@Suppress("UNCHECKED_CAST")
internal fun Any?.obj(): Map<String, Any?> = this as? Map<String, Any?> ?: error("not an object")
internal fun Map<String, Any?>.obj(k: String): Map<String, Any?> = this[k].obj()
internal fun Map<String, Any?>.str(k: String): String = this[k] as? String ?: error("$k is not a string")
@Suppress("UNCHECKED_CAST")
internal fun Map<String, Any?>.arr(k: String): List<Map<String, Any?>> = (this[k] as List<Any?>).map { it.obj() }
