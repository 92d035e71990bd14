package com.wechatpayrefund

import com.sun.jna.JNIEnv
import com.sun.jna.Library
import com.sun.jna.Native as Jna
import com.sun.jna.NativeLibrary
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
 * [disabledReason] says why (a library built without the `jvm` feature, a class loader from which
 * the library cannot find this class, `-Dwechatpay.refund.fastpath=false`). Nothing changes in how
 * you call the functions either way.
 */
public object FastPath {
    /** Whether the sans-IO calls take the single-JNI-call path (else the generated JNA calls). */
    public val isEnabled: Boolean get() = native.problem == null && access.value != null

    /** Why [isEnabled] is false; `null` when it is true. */
    public val disabledReason: String? get() = native.problem ?: access.problem

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

    /** What loading found: [value], or why not ([problem]). */
    private class Loaded<T>(val value: T?, val problem: String?)

    /** Reflection on the generated `ClientConfig` (independent of the JNI entry). */
    private val access: Loaded<Access> by lazy { findAccess() }

    /** The JNI entry, registered in the copy of the library JNA loaded. */
    private val native: Loaded<Unit> by lazy { loadNative() }

    /** Bound by the library (`RegisterNatives`, see [Registrar]) to `src/jvm.rs`. */
    @JvmStatic private external fun call(op: Int, handle: Long, args: ByteArray): ByteArray

    /**
     * Run [op] on [config] with the arguments [writeArgs] writes (at most [capacity] bytes) and
     * the result [readResult] reads — or, where the fast path is off, [viaJna] (the generated
     * function on the same arguments) with [config]'s call counter held (see [holding]).
     */
    internal fun <T> invoke(
        config: ClientConfig,
        op: Int,
        capacity: ULong,
        writeArgs: (ByteBuffer) -> Unit,
        readResult: (ByteBuffer) -> T,
        viaJna: () -> T,
    ): T {
        val access = access.value
        if (access == null || native.problem != null) return holding(config, viaJna)
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
     * Run [block] (a generated `…ViaJna` call taking [config]) with [config]'s call counter raised,
     * as the generated methods do for their receiver: UniFFI's lowering of an object *argument*
     * clones its handle unchecked, so a `close()` before or during the call would otherwise
     * free the handle under it (a JVM crash). Refuses a closed config with
     * `IllegalStateException`, like the generated methods.
     */
    private fun <R> holding(config: ClientConfig, block: () -> R): R {
        val access = access.value ?: return holdingWithoutReflection(config, block)
        return withHandle(access, config) { block() }
    }

    /**
     * [holding] where the reflective access to the call counter is unavailable (a shrinker
     * renamed the generated fields, `-Dwechatpay.refund.fastpath.reflection=false`): the
     * generated `callWithHandle` itself raises the counter for the whole [block] (one more
     * handle-clone crossing, whose clone is released at once), so a concurrent `close()` still
     * defers the free until the call returns.
     */
    internal fun <R> holdingWithoutReflection(config: ClientConfig, block: () -> R): R =
        config.holding(block)

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
            // `obj` must stay reachable until the native call has returned: its cleaner frees
            // the handle once it is unreachable, and the JIT may end its life at the last use.
            java.lang.ref.Reference.reachabilityFence(obj)
            if (counter.decrementAndGet() == 0L) {
                (access.cleanable.get(obj) as UniffiCleaner.Cleanable?)?.clean()
            }
        }
    }

    private fun findAccess(): Loaded<Access> = try {
        if (System.getProperty("wechatpay.refund.fastpath.reflection", "true").equals("false", ignoreCase = true)) {
            throw IllegalStateException("disabled by -Dwechatpay.refund.fastpath.reflection=false")
        }
        val cls = ClientConfig::class.java
        fun field(name: String, type: Class<*>): Field {
            val f = cls.getDeclaredField(name)
            require(f.type == type) { "ClientConfig.$name is a ${f.type.name}, not a ${type.name}" }
            f.isAccessible = true
            return f
        }
        val found = Access(
            field("handle", java.lang.Long.TYPE),
            field("callCounter", AtomicLong::class.java),
            field("cleanable", UniffiCleaner.Cleanable::class.java),
        )
        Loaded(found, null)
    } catch (e: Exception) {
        Loaded(null, "the generated ClientConfig has no usable call counter (${e.javaClass.name}: ${e.message})")
    }

    private fun loadNative(): Loaded<Unit> {
        if (System.getProperty("wechatpay.refund.fastpath", "true").equals("false", ignoreCase = true)) {
            return Loaded(null, "disabled by -Dwechatpay.refund.fastpath=false")
        }
        return try {
            when (val code = Registrar.wechatpay_refund_jvm_register(JNIEnv.CURRENT)) {
                0 -> Loaded(Unit, null)
                1 -> Loaded(null, "the library could not find com.wechatpayrefund.FastPath from this class loader")
                2 -> Loaded(null, "RegisterNatives refused FastPath.call")
                else -> Loaded(null, "the library's JVM registration failed ($code)")
            }
        } catch (e: Exception) {
            Loaded(null, "${e.javaClass.name}: ${e.message}")
        } catch (e: LinkageError) {
            // A library built without the `jvm` feature has no registration function.
            Loaded(null, "${e.javaClass.name}: ${e.message}")
        }
    }

    /**
     * The library's JVM registration function, direct-mapped (JNA) on the very `NativeLibrary`
     * the generated code loaded — the copy whose object handles the calls use (JNA deletes a
     * library it extracted from the jar once loaded, so `System.load` could not reach it).
     */
    private object Registrar {
        init {
            UniffiLib.ensureInitialized()
            val name = System.getProperty("uniffi.component.wechatpay_refund.libraryOverride") ?: "wechatpay_refund"
            // The options the generated code's `Native.register(UniffiLib::class.java, name)` uses:
            // JNA returns its cached instance instead of loading a second copy.
            val lib = NativeLibrary.getInstance(name, mapOf(Library.OPTION_CLASSLOADER to UniffiLib::class.java.classLoader))
            Jna.register(Registrar::class.java, lib)
        }

        @JvmStatic external fun wechatpay_refund_jvm_register(env: JNIEnv): Int
    }
}
