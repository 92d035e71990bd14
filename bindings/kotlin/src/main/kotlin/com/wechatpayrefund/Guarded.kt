package com.wechatpayrefund

// The client constructors, guarded. UniFFI's generated Kotlin lowers an object passed as an
// argument by cloning its handle without checking whether the object was closed: a closed (or
// concurrently closing) `ClientConfig` or `V2Config` handed to a constructor would have its
// freed handle used — a JVM crash (docs/uniffi-closed-object-argument.md). The generated
// constructors are renamed `…ViaJna` (uniffi.toml); these keep the usual call syntax,
// `RefundClient(config)`, and hold the argument's call counter (the generated `callWithHandle`)
// for the whole call, so `close()` defers the free until the constructor has taken its own
// reference, and a closed argument is refused with `IllegalStateException` like a method call
// on a closed object.

/** A client using the built-in HTTPS transport; see [RefundClient.Companion.newViaJna]. */
public operator fun RefundClient.Companion.invoke(config: ClientConfig): RefundClient =
    config.holding { RefundClient.newViaJna(config) }

/** A client whose bytes travel through [transport]; see [RefundClient.Companion.withTransportViaJna]. */
public fun RefundClient.Companion.withTransport(config: ClientConfig, transport: HttpTransport): RefundClient =
    config.holding { RefundClient.withTransportViaJna(config, transport) }

/** A v2 client over the built-in HTTPS transport; see [V2RefundClient.Companion.newViaJna]. */
public operator fun V2RefundClient.Companion.invoke(config: V2Config): V2RefundClient =
    config.holding { V2RefundClient.newViaJna(config) }

/** A v2 client whose bytes travel through [transport]; see [V2RefundClient.Companion.withTransportViaJna]. */
public fun V2RefundClient.Companion.withTransport(config: V2Config, transport: HttpTransport): V2RefundClient =
    config.holding { V2RefundClient.withTransportViaJna(config, transport) }

/**
 * [block] with this configuration's call counter held through the generated `callWithHandle`
 * (the handle clone it costs is a strong reference of its own, released at once). Also the
 * JVM fast path's fallback when reflection on the generated fields is unavailable.
 */
internal inline fun <R> ClientConfig.holding(block: () -> R): R =
    callWithHandle { clone ->
        FfiConverterTypeClientConfig.lift(clone).destroy()
        try {
            block()
        } finally {
            java.lang.ref.Reference.reachabilityFence(this)
        }
    }

/** [block] with this v2 configuration's call counter held (the clone is released at once). */
internal inline fun <R> V2Config.holding(block: () -> R): R =
    callWithHandle { clone ->
        FfiConverterTypeV2Config.lift(clone).destroy()
        try {
            block()
        } finally {
            java.lang.ref.Reference.reachabilityFence(this)
        }
    }
