//! Structured events: what the clients did, as `tracing` events with target
//! `wechatpay_refund`, and the spans around each public call.
//!
//! Every event carries its name in the field `event` (`http.attempt`, `http.retry`,
//! `deadline.exceeded`, `certificates.download`, `certificates.refresh`, `verify.failed`,
//! `ratelimit.wait`, `ledger.transition`, and the v2 client's `v2.http.attempt`, `v2.http.retry`,
//! `v2.deadline.exceeded`), so that a bridge to another logging system can forward it.
//! Levels: attempts DEBUG; retries, certificate downloads and refreshes, rate-limit waits and
//! ledger transitions INFO; verification failures and an exceeded deadline WARN.
//!
//! What never goes into an event (tests/events.rs checks it over the hostile suite): keys of
//! any kind, the `Authorization` header or any signature, request or notification bodies, card
//! numbers, names. Only the fields below are emitted; error texts are reduced to a code or a
//! kind (a server's message could echo what it was sent).
//!
//! With no subscriber, or one not interested in the level, an event costs the level check
//! `tracing` makes at each call site (a relaxed atomic load): the helpers below are `#[inline]`
//! and take only borrowed values that the caller holds anyway.
//!
//! For the bindings (feature `ffi`), [`set_event_listener`] installs a small subscriber that
//! hands each event to a foreign [`EventListener`] (Python's `logging`, SLF4J, a Swift closure).

use crate::error::RefundError;
use crate::transport::HttpResponse;

/// The `tracing` target of every event and span of this crate.
pub const TARGET: &str = "wechatpay_refund";

/// The span around one public call (`operation`, and `out_refund_no` when the call has one).
#[inline]
pub(crate) fn call_span(operation: &'static str, out_refund_no: Option<&str>) -> tracing::Span {
    tracing::info_span!(target: "wechatpay_refund", "call", operation, out_refund_no)
}

/// Where a request went: `primary` or `backup` host.
#[inline]
pub(crate) fn host_name(on_backup: bool) -> &'static str {
    if on_backup {
        "backup"
    } else {
        "primary"
    }
}

/// The path and query of an absolute URL (what was sent after the host).
#[inline]
pub(crate) fn path_of(url: &str) -> &str {
    let rest = url.find("://").map(|i| &url[i + 3..]).unwrap_or(url);
    rest.find('/').map(|i| &rest[i..]).unwrap_or("/")
}

/// A response's `Request-ID` (WeChat Pay's id of the exchange; `v2` has none).
#[inline]
pub(crate) fn request_id_of(resp: &HttpResponse) -> Option<&str> {
    resp.header("Request-ID")
}

/// The short, secret-free name of an error for `reason` fields: the API code with its status,
/// or the transport error's kind; never the error's text.
pub(crate) fn error_reason(err: &RefundError) -> String {
    match err {
        RefundError::Api { status, code, .. } => {
            if code.is_empty() {
                format!("http {status}")
            } else {
                format!("http {status} {code}")
            }
        }
        RefundError::V2Api {
            err_code,
            return_code,
            ..
        } => match err_code {
            Some(c) => c.clone(),
            None => return_code.clone(),
        },
        RefundError::Transport { kind, .. } => transport_kind(*kind).to_string(),
        other => error_kind(other).to_string(),
    }
}

/// The variant of an error as a snake_case word.
pub(crate) fn error_kind(err: &RefundError) -> &'static str {
    match err {
        RefundError::InvalidInput { .. } => "invalid_input",
        RefundError::Config { .. } => "config",
        RefundError::Signature { .. } => "signature",
        RefundError::ProbeSignature { .. } => "probe",
        RefundError::TimestampOutOfWindow { .. } => "window",
        RefundError::UnknownSerial { .. } => "unknown_serial",
        RefundError::Api { .. } => "api",
        RefundError::Transport { .. } => "transport",
        RefundError::Decode { .. } => "decode",
        RefundError::Decryption { .. } => "decryption",
        RefundError::NotificationMismatch { .. } => "notification_mismatch",
        RefundError::Certificate { .. } => "certificate",
        RefundError::V2Api { .. } => "v2_api",
        _ => "other",
    }
}

/// What a verification failure was (`signature`, `window`, `unknown_serial`, `probe`), or
/// `None` when the error is not one.
pub(crate) fn verify_failure(err: &RefundError) -> Option<&'static str> {
    match err {
        RefundError::Signature { .. }
        | RefundError::ProbeSignature { .. }
        | RefundError::TimestampOutOfWindow { .. }
        | RefundError::UnknownSerial { .. } => Some(error_kind(err)),
        _ => None,
    }
}

/// A transport error kind as a snake_case word (`timeout`, `connect`, ...).
pub(crate) fn transport_kind(kind: crate::error::TransportErrorKind) -> &'static str {
    use crate::error::TransportErrorKind as K;
    match kind {
        K::Connect => "connect",
        K::Timeout => "timeout",
        K::Tls => "tls",
        K::Io => "io",
        K::ResponseTooLarge => "response_too_large",
        K::Protocol => "protocol",
        K::DeadlineExceeded => "deadline_exceeded",
        K::InvalidUrl => "invalid_url",
        K::Other => "other",
    }
}

/// One HTTP exchange of the v3 client (`v2` false) or of the v2 client (`v2.http.attempt`):
/// `status` when a response came back, otherwise `error` (the transport error's kind).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn http_attempt(
    v2: bool,
    method: &str,
    url: &str,
    result: &crate::error::Result<HttpResponse>,
    attempt: u32,
    elapsed_ms: u64,
    on_backup: bool,
) {
    if !tracing::enabled!(target: "wechatpay_refund", tracing::Level::DEBUG) {
        return;
    }
    let event = if v2 {
        "v2.http.attempt"
    } else {
        "http.attempt"
    };
    let path = path_of(url);
    let host = host_name(on_backup);
    match result {
        Ok(resp) => tracing::debug!(
            target: "wechatpay_refund",
            event,
            method,
            path,
            status = resp.status as u64,
            attempt,
            elapsed_ms,
            request_id = request_id_of(resp),
            host,
        ),
        Err(e) => {
            let error = match e {
                RefundError::Transport { kind, .. } => transport_kind(*kind),
                other => error_kind(other),
            };
            tracing::debug!(
                target: "wechatpay_refund",
                event,
                method,
                path,
                error,
                attempt,
                elapsed_ms,
                host,
            )
        }
    }
}

/// The client will send the same request again after `delay_ms` (`v2.http.retry` for v2).
#[inline]
pub(crate) fn http_retry(v2: bool, err: &RefundError, delay_ms: u64, next_attempt: u32) {
    if !tracing::enabled!(target: "wechatpay_refund", tracing::Level::INFO) {
        return;
    }
    let event = if v2 { "v2.http.retry" } else { "http.retry" };
    let reason = error_reason(err);
    tracing::info!(
        target: "wechatpay_refund",
        event,
        reason = reason.as_str(),
        delay_ms,
        next_attempt,
        request_id = err.request_id(),
    );
}

/// The call's deadline passed after `attempts` attempts (`v2.deadline.exceeded` for v2).
#[inline]
pub(crate) fn deadline_exceeded(v2: bool, deadline_ms: u64, attempts: u32) {
    let event = if v2 {
        "v2.deadline.exceeded"
    } else {
        "deadline.exceeded"
    };
    tracing::warn!(target: "wechatpay_refund", event, deadline_ms, attempts);
}

/// One download of the platform certificates: the exchange (`status` or `error`), the serials
/// it brought (comma-separated), `outcome` (`ok` / `failed`) and why it was made (`reason`:
/// `first_use`, `unknown_serial`, `freshness`, `explicit`).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn certificates_download(
    path: &str,
    status: Option<u16>,
    request_id: Option<&str>,
    elapsed_ms: u64,
    serials: &[String],
    outcome: &str,
    error: Option<&str>,
    reason: &str,
) {
    if !tracing::enabled!(target: "wechatpay_refund", tracing::Level::INFO) {
        return;
    }
    let serials = serials.join(",");
    tracing::info!(
        target: "wechatpay_refund",
        event = "certificates.download",
        method = "GET",
        path,
        status = status.map(u64::from),
        request_id,
        elapsed_ms,
        serials = serials.as_str(),
        outcome,
        error,
        reason,
    );
}

/// The download policy's decision for a need (`outcome`: `downloaded`, `failed`, `refused`,
/// `satisfied`), the need (`reason`) and the serial asked for, if any.
#[inline]
pub(crate) fn certificates_refresh(reason: &str, serial: Option<&str>, outcome: &str) {
    tracing::info!(
        target: "wechatpay_refund",
        event = "certificates.refresh",
        reason,
        serial,
        outcome,
    );
}

/// A response or notification failed verification: `what` (`signature`, `window`,
/// `unknown_serial`, `probe`), the `Wechatpay-Serial` it named, and where (`response` or
/// `notification`).
#[inline]
pub(crate) fn verify_failed(
    what: &str,
    serial: Option<&str>,
    source: &str,
    request_id: Option<&str>,
) {
    tracing::warn!(
        target: "wechatpay_refund",
        event = "verify.failed",
        what,
        serial,
        source,
        request_id,
    );
}

/// The rate limiter held a request back for `waited_ms`.
#[inline]
pub(crate) fn ratelimit_wait(waited_ms: u64) {
    tracing::info!(target: "wechatpay_refund", event = "ratelimit.wait", waited_ms);
}

/// A refund of the ledger changed state (`from` is `None` for a new entry); `source` says what
/// moved it (`submit`, `response`, `query`, `notification`...). For src/ledger.
#[inline]
#[allow(dead_code)]
pub(crate) fn ledger_transition(out_refund_no: &str, from: Option<&str>, to: &str, source: &str) {
    tracing::info!(
        target: "wechatpay_refund",
        event = "ledger.transition",
        out_refund_no,
        from,
        to,
        source,
    );
}

#[cfg(feature = "ffi")]
pub use bridge::*;

/// The subscriber behind [`set_event_listener`]: events of this crate, as [`Event`] records,
/// handed to a foreign listener.
#[cfg(feature = "ffi")]
mod bridge {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
    use std::sync::{Arc, Mutex, OnceLock, RwLock};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Metadata, Subscriber};

    /// The severity of an [`Event`] (and the most verbose level a listener wants).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
    pub enum EventLevel {
        /// Failures the library could not recover from.
        Error,
        /// Verification failures, an exceeded deadline.
        Warn,
        /// Retries, certificate downloads and refreshes, rate-limit waits, ledger changes.
        Info,
        /// Every HTTP attempt.
        Debug,
        /// More detail than DEBUG (none emitted today).
        Trace,
    }

    impl EventLevel {
        fn of(l: &tracing::Level) -> Self {
            match *l {
                tracing::Level::ERROR => Self::Error,
                tracing::Level::WARN => Self::Warn,
                tracing::Level::INFO => Self::Info,
                tracing::Level::DEBUG => Self::Debug,
                _ => Self::Trace,
            }
        }
        fn filter(level: Option<Self>) -> tracing::level_filters::LevelFilter {
            use tracing::level_filters::LevelFilter as F;
            match level {
                None => F::OFF,
                Some(Self::Error) => F::ERROR,
                Some(Self::Warn) => F::WARN,
                Some(Self::Info) => F::INFO,
                Some(Self::Debug) => F::DEBUG,
                Some(Self::Trace) => F::TRACE,
            }
        }
        fn code(level: Option<Self>) -> u8 {
            level.map_or(0, |l| 5 - l as u8)
        }
        fn from_code(code: u8) -> Option<Self> {
            [
                Self::Error,
                Self::Warn,
                Self::Info,
                Self::Debug,
                Self::Trace,
            ]
            .into_iter()
            .find(|l| Self::code(Some(*l)) == code)
        }
    }

    /// A field's value: text, integer, boolean or floating-point number (variant names that
    /// clash with no Kotlin or Swift type).
    #[derive(Debug, Clone, PartialEq, uniffi::Enum)]
    pub enum EventValue {
        /// A string.
        Text {
            /// The text.
            value: String,
        },
        /// An integer (status, attempt, milliseconds).
        Integer {
            /// The integer.
            value: i64,
        },
        /// A boolean.
        Flag {
            /// The boolean.
            value: bool,
        },
        /// A floating-point number.
        Real {
            /// The number.
            value: f64,
        },
    }

    /// One field of an [`Event`].
    #[derive(Debug, Clone, PartialEq, uniffi::Record)]
    pub struct EventField {
        /// The field's name (`method`, `path`, `status`, `attempt`, `elapsed_ms`...).
        pub key: String,
        /// Its value.
        pub value: EventValue,
    }

    /// One event of the library: its name (`http.attempt`, `http.retry`, `certificates.download`,
    /// `verify.failed`...; the same as the `event` field), level, and fields in the order emitted,
    /// followed by the enclosing call's `operation` and `out_refund_no` when there is one.
    #[derive(Debug, Clone, PartialEq, uniffi::Record)]
    pub struct Event {
        /// The event's name.
        pub name: String,
        /// Its level.
        pub level: EventLevel,
        /// Its fields (never a key, a signature, a body, a card number or a name).
        pub fields: Vec<EventField>,
    }

    /// Receives the library's events (Python's logging bridge, SLF4J, a Swift closure).
    /// Called on the thread that made the call (or on a background certificate-refresh
    /// thread); must not block for long. Events the listener's own work causes are dropped.
    #[uniffi::export(with_foreign)]
    pub trait EventListener: Send + Sync {
        /// Handle one event.
        fn on_event(&self, event: Event);
    }

    static LISTENER: RwLock<Option<Arc<dyn EventListener>>> = RwLock::new(None);
    /// `EventLevel::code` of the most verbose level wanted (0: off).
    static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);
    static INSTALLED: OnceLock<bool> = OnceLock::new();

    /// Send the library's events at `max_level` and above to `listener` (replacing any
    /// listener set before). Returns false when another `tracing` subscriber is already the
    /// process's global one (a Rust program's own): events go to that one instead.
    #[uniffi::export]
    pub fn set_event_listener(listener: Arc<dyn EventListener>, max_level: EventLevel) -> bool {
        *LISTENER.write().unwrap_or_else(|p| p.into_inner()) = Some(listener);
        let installed = *INSTALLED.get_or_init(|| {
            tracing::dispatcher::set_global_default(tracing::Dispatch::new(Bridge::default()))
                .is_ok()
        });
        set_event_level(Some(max_level));
        installed
    }

    /// Change the most verbose level sent to the listener (`None`: none at all; then an
    /// event costs one atomic load).
    #[uniffi::export]
    pub fn set_event_level(max_level: Option<EventLevel>) {
        let code = EventLevel::code(max_level);
        if MAX_LEVEL.swap(code, Ordering::SeqCst) != code {
            tracing::callsite::rebuild_interest_cache();
        }
    }

    /// The level set by [`set_event_level`] / [`set_event_listener`] (`None`: off).
    #[uniffi::export]
    pub fn event_level() -> Option<EventLevel> {
        EventLevel::from_code(MAX_LEVEL.load(Ordering::Relaxed))
    }

    /// Stop sending events (the listener is dropped).
    #[uniffi::export]
    pub fn clear_event_listener() {
        set_event_level(None);
        *LISTENER.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    thread_local! {
        /// The spans entered on this thread, innermost last.
        static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
        /// Inside the listener: its own calls into the library emit nothing.
        static BUSY: Cell<bool> = const { Cell::new(false) };
    }

    #[derive(Default)]
    struct Bridge {
        next: AtomicU64,
        spans: Mutex<HashMap<u64, (usize, Vec<EventField>)>>,
    }

    #[derive(Default)]
    struct Fields(Vec<EventField>);

    impl Fields {
        fn push(&mut self, field: &Field, value: EventValue) {
            self.0.push(EventField {
                key: field.name().to_string(),
                value,
            });
        }
    }

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.push(
                field,
                EventValue::Text {
                    value: value.to_string(),
                },
            );
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.push(field, EventValue::Integer { value });
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.push(
                field,
                EventValue::Integer {
                    value: value.min(i64::MAX as u64) as i64,
                },
            );
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.push(field, EventValue::Flag { value });
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.push(field, EventValue::Real { value });
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.push(
                field,
                EventValue::Text {
                    value: format!("{value:?}"),
                },
            );
        }
    }

    fn ours(meta: &Metadata<'_>) -> bool {
        meta.target() == super::TARGET || meta.target().starts_with("wechatpay_refund::")
    }

    impl Subscriber for Bridge {
        fn register_callsite(
            &self,
            meta: &'static Metadata<'static>,
        ) -> tracing::subscriber::Interest {
            if ours(meta) {
                tracing::subscriber::Interest::sometimes()
            } else {
                tracing::subscriber::Interest::never()
            }
        }

        fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
            Some(EventLevel::filter(EventLevel::from_code(
                MAX_LEVEL.load(Ordering::Relaxed),
            )))
        }

        fn enabled(&self, meta: &Metadata<'_>) -> bool {
            ours(meta)
                && EventLevel::filter(EventLevel::from_code(MAX_LEVEL.load(Ordering::Relaxed)))
                    >= *meta.level()
                && !BUSY.with(Cell::get)
        }

        fn new_span(&self, attrs: &Attributes<'_>) -> Id {
            let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.spans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, (1, fields.0));
            Id::from_u64(id)
        }

        fn record(&self, span: &Id, values: &Record<'_>) {
            let mut fields = Fields::default();
            values.record(&mut fields);
            if let Some((_, f)) = self
                .spans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&span.into_u64())
            {
                f.extend(fields.0);
            }
        }

        fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

        fn event(&self, event: &tracing::Event<'_>) {
            let listener = LISTENER.read().unwrap_or_else(|p| p.into_inner()).clone();
            let Some(listener) = listener else { return };
            let mut fields = Fields::default();
            event.record(&mut fields);
            let mut fields = fields.0;
            let name = fields
                .iter()
                .find_map(|f| match (&*f.key, &f.value) {
                    ("event", EventValue::Text { value }) => Some(value.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| event.metadata().name().to_string());
            if let Some(top) = STACK.with(|s| s.borrow().last().copied()) {
                if let Some((_, span)) = self
                    .spans
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&top)
                {
                    for f in span {
                        if !fields.iter().any(|g| g.key == f.key) {
                            fields.push(f.clone());
                        }
                    }
                }
            }
            let record = super::bridge::Event {
                name,
                level: EventLevel::of(event.metadata().level()),
                fields,
            };
            BUSY.with(|b| b.set(true));
            // A listener that fails must not take the caller's refund down with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                listener.on_event(record)
            }));
            BUSY.with(|b| b.set(false));
        }

        fn enter(&self, span: &Id) {
            STACK.with(|s| s.borrow_mut().push(span.into_u64()));
        }

        fn exit(&self, span: &Id) {
            STACK.with(|s| {
                let mut s = s.borrow_mut();
                if let Some(i) = s.iter().rposition(|x| *x == span.into_u64()) {
                    s.remove(i);
                }
            });
        }

        fn clone_span(&self, id: &Id) -> Id {
            if let Some((refs, _)) = self
                .spans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_mut(&id.into_u64())
            {
                *refs += 1;
            }
            id.clone()
        }

        fn try_close(&self, id: Id) -> bool {
            let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
            let key = id.into_u64();
            match spans.get_mut(&key) {
                Some((refs, _)) if *refs > 1 => {
                    *refs -= 1;
                    false
                }
                Some(_) => {
                    spans.remove(&key);
                    true
                }
                None => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_what_follows_the_host() {
        assert_eq!(
            path_of("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/R1?sub_mchid=2"),
            "/v3/refund/domestic/refunds/R1?sub_mchid=2"
        );
        assert_eq!(
            path_of("http://127.0.0.1:5000/v3/certificates"),
            "/v3/certificates"
        );
        assert_eq!(path_of("http://127.0.0.1:5000"), "/");
    }
}
