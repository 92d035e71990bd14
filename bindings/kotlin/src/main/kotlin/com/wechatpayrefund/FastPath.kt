package com.wechatpayrefund

import com.sun.jna.Library
import com.sun.jna.NativeLibrary
import com.sun.jna.Pointer
import java.lang.reflect.Field
import java.nio.ByteBuffer
import java.util.concurrent.atomic.AtomicLong

/**
 * The JVM fast path of the sans-IO calls ([buildCreateRefundRequest], [buildQueryRefundRequest],
 * [buildApplyAbnormalRefundRequest], [parseRefundResponse], [verifyWechatpaySignature],
 * [parseNotificationAt]).
 *
 * UniFFI's generated calls go through JNA, which allocates several `Structure`s and native
 * `Memory` blocks per call (a call status, the argument and result buffers, a clone of the
 * object handle): 4 crossings and 20–100 µs per call, more than the Rust work of a verification
 * (BENCHMARKS.md, "JVM"). The same library also exports one JNI entry point (`src/jvm.rs`); these
 * functions serialise their arguments with the **generated** converters, make **one** JNI call
 * into the very Rust function UniFFI exports, and lift the result (or the [RefundException]) with
 * the generated converters again: the same values, the same exceptions, one crossing.
 *
 * The generated JNA functions stay available as `…ViaJna` (e.g. [parseRefundResponseViaJna]) and
 * are used automatically whenever the fast path cannot load — [isEnabled] is then `false` and
 * [disabledReason] says why (a library without the JNI entry, a class loader that cannot
 * `System.load` the library JNA loaded, `-Dwechatpay.refund.fastpath=false`). Nothing changes in
 * how you call the functions either way.
 */
public object FastPath {
    /** Whether the sans-IO calls take the single-JNI-call path (else the generated JNA calls). */
    public val isEnabled: Boolean get() = state.access != null

    /** Why [isEnabled] is false; `null` when it is true. */
    public val disabledReason: String? get() = state.reason

    internal const val OP_BUILD_CREATE_REFUND_REQUEST = 1
    internal const val OP_BUILD_QUERY_REFUND_REQUEST = 2
    internal const val OP_BUILD_APPLY_ABNORMAL_REFUND_REQUEST = 3
    internal const val OP_PARSE_REFUND_RESPONSE = 4
    internal const val OP_VERIFY_WECHATPAY_SIGNATURE = 5
    internal const val OP_PARSE_NOTIFICATION_AT = 6

    private const val TAG_OK: Byte = 0
    private const val TAG_ERR: Byte = 1

    /** The fields of a generated object that the generated `callWithHandle` protocol uses. */
    private class Access(val handle: Field, val callCounter: Field, val cleanable: Field)

    private class State(val access: Access?, val reason: String?)

    private val state: State by lazy { load() }

    @JvmStatic private external fun call(op: Int, handle: Long, args: ByteArray): ByteArray

    @JvmStatic private external fun probe(): Long

    /**
     * Run [op] on [config] with the arguments [writeArgs] writes (at most [capacity] bytes) and
     * the result [readResult] reads. Callers check [isEnabled] first.
     */
    internal fun <T> invoke(
        config: ClientConfig,
        op: Int,
        capacity: ULong,
        writeArgs: (ByteBuffer) -> Unit,
        readResult: (ByteBuffer) -> T,
    ): T {
        val access = state.access ?: throw IllegalStateException("the JVM fast path is off: ${state.reason}")
        val buf = ByteBuffer.allocate(capacity.toInt()) // big-endian, as UniFFI's format is
        writeArgs(buf)
        val args = buf.array().copyOf(buf.position())
        val out = withHandle(access, config) { handle -> call(op, handle, args) }
        val res = ByteBuffer.wrap(out)
        when (res.get()) {
            TAG_OK -> {
                val value = readResult(res)
                if (res.hasRemaining()) throw InternalException("junk remaining in buffer after lifting, something is very wrong!!")
                return value
            }
            TAG_ERR -> throw FfiConverterTypeRefundError.read(res)
            else -> throw InternalException(String(out, 1, out.size - 1, Charsets.UTF_8))
        }
    }

    /**
     * The generated `callWithHandle` protocol without its handle-clone crossing: the call
     * counter is raised for the whole call (so a concurrent `close()` defers the free until the
     * call returns, exactly as for a generated call) and Rust adds its own reference to the
     * object for the call's duration (`src/jvm.rs`, `config_of`).
     */
    private inline fun <R> withHandle(access: Access, obj: ClientConfig, block: (Long) -> R): R {
        val counter = access.callCounter.get(obj) as AtomicLong
        do {
            val c = counter.get()
            if (c == 0L) throw IllegalStateException("${obj.javaClass.simpleName} object has already been destroyed")
            if (c == Long.MAX_VALUE) throw IllegalStateException("${obj.javaClass.simpleName} call counter would overflow")
        } while (!counter.compareAndSet(c, c + 1L))
        try {
            val handle = access.handle.getLong(obj)
            if (handle == 0L) throw InternalException("uniffiCloneHandle() called on NoHandle object")
            return block(handle)
        } finally {
            if (counter.decrementAndGet() == 0L) {
                (access.cleanable.get(obj) as UniffiCleaner.Cleanable?)?.clean()
            }
        }
    }

    private fun load(): State {
        if (System.getProperty("wechatpay.refund.fastpath", "true").equals("false", ignoreCase = true)) {
            return State(null, "disabled by -Dwechatpay.refund.fastpath=false")
        }
        return try {
            // The generated code loads (or has loaded) the library through JNA first; the JNI
            // entry must live in that very copy, where the object handles live.
            UniffiLib.ensureInitialized()
            val name = System.getProperty("uniffi.component.wechatpay_refund.libraryOverride") ?: "wechatpay_refund"
            val lib = NativeLibrary.getInstance(name, mapOf(Library.OPTION_CLASSLOADER to UniffiLib::class.java.classLoader))
            val file = lib.file
            if (file != null && file.isFile) System.load(file.absolutePath) else System.loadLibrary(name)
            val viaJna = Pointer.nativeValue(lib.getFunction("Java_com_wechatpayrefund_FastPath_probe"))
            val viaJni = probe()
            if (viaJna != viaJni) {
                return State(null, "System.load reached another copy of the library than JNA (${lib.file})")
            }
            val cls = ClientConfig::class.java
            fun field(name: String, type: Class<*>): Field {
                val f = cls.getDeclaredField(name)
                require(f.type == type) { "ClientConfig.$name is a ${f.type.name}, not a ${type.name}" }
                f.isAccessible = true
                return f
            }
            State(
                Access(
                    field("handle", java.lang.Long.TYPE),
                    field("callCounter", AtomicLong::class.java),
                    field("cleanable", UniffiCleaner.Cleanable::class.java),
                ),
                null,
            )
        } catch (e: Exception) {
            State(null, "${e.javaClass.name}: ${e.message}")
        } catch (e: LinkageError) {
            State(null, "${e.javaClass.name}: ${e.message}")
        }
    }
}
