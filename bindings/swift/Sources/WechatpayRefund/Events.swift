// The library's events and counters for Swift (hand-written, not generated): a closure or an
// `EventListener` registered in one call, readable `Event`s, an `os.Logger` forwarder on Apple
// platforms, and `Stats.toPrometheus()`.
//
// The Rust core (src/events.rs) emits structured events: `http.attempt` (DEBUG, every HTTP
// exchange), `http.retry`, `certificates.download`, `certificates.refresh`, `ratelimit.wait`,
// `ledger.transition` (INFO), `verify.failed`, `deadline.exceeded` (WARN), and the v2 client's
// `v2.http.attempt`, `v2.http.retry`, `v2.deadline.exceeded`. Their fields never hold a key, a
// signature, the `Authorization` header, a body, a card number or a name: they are safe to log.
import Foundation
#if canImport(os)
import os
#endif

/// Registration of the process's one listener of the library's events.
///
/// ```swift
/// WechatpayRefundEvents.register(level: .debug) { event in
///     print(event)   // http.attempt method=POST path=/v3/refund/domestic/refunds status=200 attempt=1 ...
/// }
/// defer { WechatpayRefundEvents.unregister() }
/// ```
///
/// The listener is process-wide (one for all clients; registering replaces the one before). It is
/// called on the thread that made the library call (or on a background certificate-refresh
/// thread) and must return quickly; the library's own calls made from inside it emit nothing.
/// With no listener, or none at a level, an event costs the core one atomic load.
public enum WechatpayRefundEvents {
    /// Sends the events at `level` and above (`.debug`: every HTTP attempt too) to `handler`,
    /// replacing any listener registered before. Returns false when another `tracing`
    /// subscriber already owns the process (a Rust host program's): events go there instead.
    @discardableResult
    public static func register(level: EventLevel = .info, _ handler: @escaping @Sendable (Event) -> Void) -> Bool {
        register(listener: ClosureEventListener(handler), level: level)
    }

    /// Sends the events at `level` and above to `listener` (the generated `EventListener`
    /// protocol: `func onEvent(event: Event)`), replacing any listener registered before.
    @discardableResult
    public static func register(listener: EventListener, level: EventLevel = .info) -> Bool {
        setEventListener(listener: listener, maxLevel: level)
    }

    /// Stops sending events; the listener is released.
    public static func unregister() {
        clearEventListener()
    }

    /// The most verbose level sent to the listener (nil: none). Setting it keeps the listener;
    /// nil silences it without unregistering.
    public static var level: EventLevel? {
        get { eventLevel() }
        set { setEventLevel(maxLevel: newValue) }
    }
}

/// An `EventListener` over a closure.
final class ClosureEventListener: EventListener, @unchecked Sendable {
    private let handler: @Sendable (Event) -> Void

    init(_ handler: @escaping @Sendable (Event) -> Void) {
        self.handler = handler
    }

    func onEvent(event: Event) {
        handler(event)
    }
}

extension EventValue: CustomStringConvertible {
    /// The value as text: a string as is, numbers and booleans as Swift prints them.
    public var description: String {
        switch self {
        case let .text(value): return value
        case let .integer(value): return String(value)
        case let .flag(value): return value ? "true" : "false"
        case let .real(value): return String(value)
        }
    }

    /// The integer of an `.integer` value (status, attempt, elapsed_ms...), else nil.
    public var intValue: Int64? {
        if case let .integer(value) = self { return value }
        return nil
    }

    /// The string of a `.text` value (path, method, request_id...), else nil.
    public var stringValue: String? {
        if case let .text(value) = self { return value }
        return nil
    }

    /// The boolean of a `.flag` value, else nil.
    public var boolValue: Bool? {
        if case let .flag(value) = self { return value }
        return nil
    }

    /// The number of a `.real` or `.integer` value, else nil.
    public var doubleValue: Double? {
        switch self {
        case let .real(value): return value
        case let .integer(value): return Double(value)
        default: return nil
        }
    }
}

extension Event: CustomStringConvertible {
    /// The first field named `key` (`event["status"]?.intValue`), or nil.
    public subscript(key: String) -> EventValue? {
        fields.first { $0.key == key }?.value
    }

    /// The fields by name (the first of a repeated name), without the `event` field (the name).
    public var values: [String: EventValue] {
        var d: [String: EventValue] = [:]
        for f in fields where f.key != "event" && d[f.key] == nil {
            d[f.key] = f.value
        }
        return d
    }

    /// `name key=value ...` in the order emitted (logfmt: a value with a space, `"` or `=`, or an
    /// empty one, in double quotes), e.g.
    /// `http.attempt method=POST path=/v3/refund/domestic/refunds status=200 attempt=1 ...`.
    public var description: String {
        var out = name
        for f in fields where f.key != "event" {
            out += " \(f.key)=\(Self.logfmt(f.value.description))"
        }
        return out
    }

    static func logfmt(_ s: String) -> String {
        guard s.isEmpty || s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else {
            return s
        }
        let escaped = s.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}

extension Stats {
    /// The Prometheus text exposition format (0.0.4) of these counters, for a `/metrics`
    /// endpoint: `client.stats().toPrometheus()`.
    public func toPrometheus() -> String {
        statsToPrometheus(stats: self)
    }
}

#if canImport(os)
/// Forwards the library's events to the unified logging system (`os.Logger`, Console.app,
/// `log stream --predicate 'subsystem == "com.wechatpayrefund"'`): DEBUG and TRACE as `.debug`,
/// INFO as `.info`, WARN as `.default`, ERROR as `.error`. The text is `Event.description`,
/// logged `.public`: the core never puts a secret into an event.
@available(macOS 11.0, iOS 14.0, tvOS 14.0, watchOS 7.0, *)
public final class OSLogEventListener: EventListener, @unchecked Sendable {
    /// The logger the events go to.
    public let logger: Logger

    public init(subsystem: String = "com.wechatpayrefund", category: String = "events") {
        logger = Logger(subsystem: subsystem, category: category)
    }

    public func onEvent(event: Event) {
        let text = event.description
        switch event.level {
        case .trace, .debug: logger.debug("\(text, privacy: .public)")
        case .info: logger.info("\(text, privacy: .public)")
        case .warn: logger.log(level: .default, "\(text, privacy: .public)")
        case .error: logger.error("\(text, privacy: .public)")
        }
    }
}

extension WechatpayRefundEvents {
    /// Registers an `OSLogEventListener` (subsystem `com.wechatpayrefund`, category `events`) as
    /// the process's listener at `level`.
    @available(macOS 11.0, iOS 14.0, tvOS 14.0, watchOS 7.0, *)
    @discardableResult
    public static func forwardToOSLog(
        level: EventLevel = .info, subsystem: String = "com.wechatpayrefund", category: String = "events"
    ) -> Bool {
        register(listener: OSLogEventListener(subsystem: subsystem, category: category), level: level)
    }
}
#endif
