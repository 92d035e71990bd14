package com.wechatpayrefund

import org.slf4j.Logger
import org.slf4j.LoggerFactory
import org.slf4j.event.Level

// The library's events (src/events.rs) as SLF4J 2 log records, and the Prometheus text of a
// client's counters. Hand-written over the generated `EventListener`, `setEventListener`,
// `setEventLevel`, `eventLevel`, `clearEventListener` and `statsToPrometheus`.

/**
 * Sends the library's events to SLF4J 2: logger `com.wechatpayrefund`, one record per event,
 * each field as a key-value pair (SLF4J 2's fluent API), integers as `Long`, booleans as
 * `Boolean`, text as `String`.
 *
 * ```kotlin
 * WechatpayRefundLogging.install()          // once, at start-up
 * ```
 *
 * The records: `http.attempt` (DEBUG; `method`, `path`, `status` or `error`, `attempt`,
 * `elapsed_ms`, `request_id`, `host`, then the call's `operation` and `out_refund_no`),
 * `http.retry` (INFO; `reason`, `delay_ms`, `next_attempt`, `request_id`),
 * `certificates.download` and `certificates.refresh`, `ratelimit.wait` and `ledger.transition`
 * (INFO), `verify.failed` and `deadline.exceeded` (WARN); the v2 client's `v2.http.attempt`,
 * `v2.http.retry`, `v2.deadline.exceeded`. The message is the event's name followed by its
 * fields as `key=value` (for a plain-text pattern such as logback's default, which does not print
 * key-value pairs); structured appenders (logback's JSON encoders, Log4j 2's JSON layout, `%kvp`)
 * get the key-value pairs themselves. With slf4j-simple, which prints the key-value pairs before
 * every message, the message is the event's name alone (`fieldsInMessage`, see [install]).
 * No event ever carries a key, the `Authorization` header or any signature, a body, a card
 * number or a name.
 *
 * Dependencies: `org.slf4j:slf4j-api` 2.x comes with this library; the binding (slf4j-simple,
 * logback-classic, log4j-slf4j2-impl...) is the application's choice. Without one, SLF4J
 * prints one warning and drops every record.
 *
 * Cost: the Rust core is told the most verbose level the logger is enabled for
 * ([syncLevel]); events below it are never built, so with the logger at INFO an HTTP attempt
 * costs the core one atomic load and the JVM nothing. The listener re-checks the logger's level
 * with each event it receives, so a logger made quieter is followed at once; after making it
 * *more* verbose (e.g. DEBUG at run time), call [syncLevel] (or [install] again) so the core
 * starts sending those events.
 *
 * The listener is process-wide (one for all clients), like the logger.
 */
public object WechatpayRefundLogging {
    /** The logger's name: `com.wechatpayrefund`. */
    public const val LOGGER_NAME: String = "com.wechatpayrefund"

    @Volatile
    private var current: Slf4jEventListener? = null

    /** The level last sent to the core (what [eventLevel] returns), kept to spare a call per event. */
    @Volatile
    private var sent: EventLevel? = null

    /**
     * Send the library's events to [logger] (by default `com.wechatpayrefund`), replacing any
     * listener registered before, at the most verbose level [logger] is enabled for.
     * [fieldsInMessage]: append the fields to the message as `key=value` (default: yes, unless
     * [logger] is slf4j-simple's, which prints the key-value pairs itself).
     * Returns false when a Rust program in the same process made its own `tracing` subscriber
     * the global one: the events go there instead.
     */
    @JvmStatic
    @JvmOverloads
    public fun install(
        logger: Logger = LoggerFactory.getLogger(LOGGER_NAME),
        fieldsInMessage: Boolean = Slf4jEventListener.fieldsInMessageFor(logger),
    ): Boolean = synchronized(this) {
        val listener = Slf4jEventListener(logger, fieldsInMessage)
        val wanted = listener.wantedLevel()
        val installed = setEventListener(listener, wanted ?: EventLevel.ERROR)
        if (wanted == null) setEventLevel(null)
        sent = wanted
        current = listener
        installed
    }

    /** Stop sending events (the listener is dropped; an event then costs the core one atomic load). */
    @JvmStatic
    public fun uninstall(): Unit = synchronized(this) {
        current = null
        sent = null
        clearEventListener()
    }

    /** Whether [install] registered the listener and [uninstall] has not removed it since. */
    @JvmStatic
    public val isInstalled: Boolean get() = current != null

    /**
     * Tell the Rust core the most verbose level the installed listener's logger is enabled for
     * now (after the logging configuration changed); returns that level, null when the logger
     * is off or nothing is installed.
     */
    @JvmStatic
    public fun syncLevel(): EventLevel? = synchronized(this) {
        val listener = current ?: return null
        val wanted = listener.wantedLevel()
        setEventLevel(wanted)
        sent = wanted
        wanted
    }

    /** The level the core sends events at (null: none): the generated [eventLevel]. */
    @JvmStatic
    public fun level(): EventLevel? = eventLevel()

    /** From the listener, on an event: follow the logger's level when it changed. */
    internal fun sync(listener: Slf4jEventListener) {
        val wanted = listener.wantedLevel()
        if (wanted != sent && current === listener) synchronized(this) {
            if (current === listener) {
                setEventLevel(wanted)
                sent = wanted
            }
        }
    }
}

/**
 * The [EventListener] that writes each [Event] to an SLF4J [Logger] at the event's level
 * (TRACE, DEBUG, INFO, WARN, ERROR), its fields as key-value pairs (see [WechatpayRefundLogging]).
 * Never throws: a failing logger must not fail a refund.
 */
public class Slf4jEventListener @JvmOverloads constructor(
    /** Where the records go (by default the logger `com.wechatpayrefund`). */
    public val logger: Logger = LoggerFactory.getLogger(WechatpayRefundLogging.LOGGER_NAME),
    /** Whether the message is the name followed by the fields as `key=value`, or the name alone. */
    public val fieldsInMessage: Boolean = fieldsInMessageFor(logger),
) : EventListener {

    override fun onEvent(event: Event) {
        try {
            WechatpayRefundLogging.sync(this)
            val level = slf4jLevel(event.level)
            if (!logger.isEnabledForLevel(level)) return
            val builder = logger.atLevel(level)
            val text = StringBuilder(event.name)
            for (field in event.fields) {
                val value: Any = when (val v = field.value) {
                    is EventValue.Text -> v.value
                    is EventValue.Integer -> v.value
                    is EventValue.Flag -> v.value
                    is EventValue.Real -> v.value
                }
                builder.addKeyValue(field.key, value)
                if (fieldsInMessage && field.key != "event") text.append(' ').append(field.key).append('=').append(plain(value))
            }
            builder.setMessage(text.toString()).log()
        } catch (_: Throwable) {
            // Never into Rust: an event must not take a refund down with it.
        }
    }

    /** The most verbose level [logger] is enabled for, as an [EventLevel] (null: none). */
    public fun wantedLevel(): EventLevel? = when {
        logger.isTraceEnabled -> EventLevel.TRACE
        logger.isDebugEnabled -> EventLevel.DEBUG
        logger.isInfoEnabled -> EventLevel.INFO
        logger.isWarnEnabled -> EventLevel.WARN
        logger.isErrorEnabled -> EventLevel.ERROR
        else -> null
    }

    public companion object {
        /** False for slf4j-simple's loggers (they print the key-value pairs before the message), else true. */
        @JvmStatic
        public fun fieldsInMessageFor(logger: Logger): Boolean = logger.javaClass.name != "org.slf4j.simple.SimpleLogger"

        private fun slf4jLevel(level: EventLevel): Level = when (level) {
            EventLevel.TRACE -> Level.TRACE
            EventLevel.DEBUG -> Level.DEBUG
            EventLevel.INFO -> Level.INFO
            EventLevel.WARN -> Level.WARN
            EventLevel.ERROR -> Level.ERROR
        }

        /** A value for the message text: quoted when it holds a space, a quote or an `=`. */
        private fun plain(value: Any): String {
            val s = value.toString()
            if (s.isNotEmpty() && s.none { it.isWhitespace() || it == '"' || it == '=' }) return s
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"'
        }
    }
}

/**
 * These counters in the Prometheus text exposition format (version 0.0.4), for a service's
 * metrics endpoint: `wechatpay_refund_calls_total{operation,outcome}`, `…_http_attempts_total`,
 * `…_retries_total`, `…_certificate_downloads_total`, `…_verification_failures_total` and the
 * histogram `…_call_duration_seconds` (the v2 client's under `wechatpay_refund_v2_`).
 */
public fun Stats.toPrometheus(): String = statsToPrometheus(this)
