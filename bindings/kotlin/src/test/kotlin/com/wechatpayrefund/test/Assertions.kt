package com.wechatpayrefund.test

import org.opentest4j.AssertionFailedError

/**
 * `assertThrows<T> { ... }` returning the typed exception. (JUnit's own Kotlin helper lives in
 * a Kotlin-compiled part of junit-jupiter-api that Debian's build does not ship.)
 */
inline fun <reified T : Throwable> assertThrows(message: String? = null, block: () -> Any?): T {
    val prefix = message?.let { "$it: " } ?: ""
    try {
        block()
    } catch (t: Throwable) {
        if (t is T) return t
        throw AssertionFailedError("${prefix}expected ${T::class.java.name}, got $t", t)
    }
    throw AssertionFailedError("${prefix}expected ${T::class.java.name}, nothing was thrown")
}
