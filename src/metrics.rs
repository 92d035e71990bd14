//! A client's counters: calls by operation and outcome, HTTP attempts, retries, certificate
//! downloads, verification failures and a latency histogram of the calls; read as a [`Stats`]
//! snapshot (`client.stats()`) and rendered in the Prometheus text format
//! ([`Stats::to_prometheus`]) for a service's metrics endpoint.
//!
//! Relaxed atomics only: counting costs a few uncontended increments per call, no lock.

use crate::error::RefundError;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The upper bounds of the latency buckets, in milliseconds (Prometheus' default buckets).
pub const LATENCY_BUCKETS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/// The outcomes a call is counted under.
pub const OUTCOMES: [&str; 5] = [
    "ok",
    "api_error",
    "transport_error",
    "verification_error",
    "other_error",
];

/// The outcome of a call, one of [`OUTCOMES`].
fn outcome_index<T>(result: &Result<T, RefundError>) -> usize {
    match result {
        Ok(_) => 0,
        Err(RefundError::Api { .. } | RefundError::V2Api { .. }) => 1,
        Err(RefundError::Transport { .. }) => 2,
        Err(e) if crate::events::verify_failure(e).is_some() => 3,
        Err(_) => 4,
    }
}

/// The live counters of one client (shared with its background refreshes).
pub(crate) struct Metrics {
    namespace: &'static str,
    operations: &'static [&'static str],
    calls: Vec<[AtomicU64; 5]>,
    attempts: AtomicU64,
    retries: AtomicU64,
    certificate_downloads: AtomicU64,
    certificate_download_failures: AtomicU64,
    verification_failures: AtomicU64,
    buckets: [AtomicU64; LATENCY_BUCKETS_MS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    /// Counters named `{namespace}_…` for these operations.
    pub(crate) fn new(namespace: &'static str, operations: &'static [&'static str]) -> Self {
        Self {
            namespace,
            operations,
            calls: operations.iter().map(|_| Default::default()).collect(),
            attempts: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            certificate_downloads: AtomicU64::new(0),
            certificate_download_failures: AtomicU64::new(0),
            verification_failures: AtomicU64::new(0),
            buckets: Default::default(),
            latency_count: AtomicU64::new(0),
            latency_sum_us: AtomicU64::new(0),
        }
    }

    /// Run one public call inside its span (`operation`, `out_refund_no`) and count it:
    /// what every public call of both clients goes through.
    pub(crate) fn observe<T>(
        &self,
        op: usize,
        out_refund_no: Option<&str>,
        call: impl FnOnce() -> Result<T, RefundError>,
    ) -> Result<T, RefundError> {
        let span = crate::events::call_span(
            self.operations.get(op).copied().unwrap_or(""),
            out_refund_no,
        );
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let result = call();
        self.call(op, started.elapsed(), &result);
        result
    }

    /// One call of operation number `op` that took `elapsed`.
    pub(crate) fn call<T>(&self, op: usize, elapsed: Duration, result: &Result<T, RefundError>) {
        if let Some(c) = self.calls.get(op) {
            c[outcome_index(result)].fetch_add(1, Relaxed);
        }
        let ms = elapsed.as_millis() as u64;
        // Only the first bucket that holds it; the snapshot accumulates.
        if let Some(i) = LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us
            .fetch_add(elapsed.as_micros() as u64, Relaxed);
    }

    pub(crate) fn attempt(&self) {
        self.attempts.fetch_add(1, Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    pub(crate) fn certificate_download(&self, ok: bool) {
        self.certificate_downloads.fetch_add(1, Relaxed);
        if !ok {
            self.certificate_download_failures.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn verification_failure(&self) {
        self.verification_failures.fetch_add(1, Relaxed);
    }

    /// The counters now (each read on its own: a snapshot taken during calls may be off by
    /// the calls in flight).
    pub(crate) fn snapshot(&self) -> Stats {
        let mut calls = Vec::new();
        for (op, counts) in self.operations.iter().zip(&self.calls) {
            for (outcome, n) in OUTCOMES.iter().zip(counts) {
                let count = n.load(Relaxed);
                if count > 0 {
                    calls.push(CallCount {
                        operation: op.to_string(),
                        outcome: outcome.to_string(),
                        count,
                    });
                }
            }
        }
        let mut cumulative = 0;
        let latency_buckets = LATENCY_BUCKETS_MS
            .iter()
            .zip(&self.buckets)
            .map(|(le, n)| {
                cumulative += n.load(Relaxed);
                LatencyBucket {
                    le_ms: *le,
                    count: cumulative,
                }
            })
            .collect();
        Stats {
            namespace: self.namespace.to_string(),
            calls,
            attempts: self.attempts.load(Relaxed),
            retries: self.retries.load(Relaxed),
            certificate_downloads: self.certificate_downloads.load(Relaxed),
            certificate_download_failures: self.certificate_download_failures.load(Relaxed),
            verification_failures: self.verification_failures.load(Relaxed),
            latency_buckets,
            latency_count: self.latency_count.load(Relaxed).max(cumulative),
            latency_sum_ms: self.latency_sum_us.load(Relaxed) as f64 / 1000.0,
        }
    }
}

/// How many calls of one operation ended with one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct CallCount {
    /// `create_refund`, `query_refund`, `apply_abnormal_refund`, `parse_notification`,
    /// `refresh_platform_certificates` (v2: `refund`, `query_refund`, `parse_notification`...).
    pub operation: String,
    /// `ok`, `api_error`, `transport_error`, `verification_error` or `other_error`.
    pub outcome: String,
    /// The number of calls.
    pub count: u64,
}

/// One bucket of the call latency histogram: the calls that took at most `le_ms`
/// (cumulative, as in Prometheus).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct LatencyBucket {
    /// The bucket's upper bound, in milliseconds.
    pub le_ms: u64,
    /// The calls that took at most that long.
    pub count: u64,
}

/// A snapshot of a client's counters since it was created (`client.stats()`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Stats {
    /// The prefix of the metric names: `wechatpay_refund` (v3 client), `wechatpay_refund_v2`.
    pub namespace: String,
    /// Calls by operation and outcome (only the pairs that happened).
    pub calls: Vec<CallCount>,
    /// HTTP attempts of the calls (each retry is one more; certificate downloads not included).
    pub attempts: u64,
    /// Retries (attempts after a call's first).
    pub retries: u64,
    /// Platform certificate downloads made.
    pub certificate_downloads: u64,
    /// The downloads among them that failed.
    pub certificate_download_failures: u64,
    /// Responses and notifications that failed verification (signature, timestamp window,
    /// unknown serial, probe).
    pub verification_failures: u64,
    /// The call latency histogram (cumulative buckets; `latency_count` is the `+Inf` one).
    pub latency_buckets: Vec<LatencyBucket>,
    /// The number of calls timed.
    pub latency_count: u64,
    /// Their total time, in milliseconds.
    pub latency_sum_ms: f64,
}

impl Stats {
    /// The Prometheus text exposition format (version 0.0.4): one `# HELP` and `# TYPE` per
    /// metric family, counters ending in `_total`, the latency as a histogram in seconds.
    pub fn to_prometheus(&self) -> String {
        let ns = &self.namespace;
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = write!(
                out,
                "# HELP {ns}_{name}_total {help}\n# TYPE {ns}_{name}_total counter\n{ns}_{name}_total {value}\n"
            );
        };
        let _ = write!(
            out,
            "# HELP {ns}_calls_total Calls by operation and outcome.\n# TYPE {ns}_calls_total counter\n"
        );
        for c in &self.calls {
            let _ = writeln!(
                out,
                "{ns}_calls_total{{operation=\"{}\",outcome=\"{}\"}} {}",
                label(&c.operation),
                label(&c.outcome),
                c.count
            );
        }
        counter(
            &mut out,
            "http_attempts",
            "HTTP attempts of the calls.",
            self.attempts,
        );
        counter(
            &mut out,
            "retries",
            "Retries of the same request.",
            self.retries,
        );
        counter(
            &mut out,
            "certificate_downloads",
            "Platform certificate downloads.",
            self.certificate_downloads,
        );
        counter(
            &mut out,
            "certificate_download_failures",
            "Platform certificate downloads that failed.",
            self.certificate_download_failures,
        );
        counter(
            &mut out,
            "verification_failures",
            "Responses and notifications that failed verification.",
            self.verification_failures,
        );
        let h = format!("{ns}_call_duration_seconds");
        let _ = write!(
            out,
            "# HELP {h} Call latency, retries included.\n# TYPE {h} histogram\n"
        );
        for b in &self.latency_buckets {
            let _ = writeln!(
                out,
                "{h}_bucket{{le=\"{}\"}} {}",
                b.le_ms as f64 / 1000.0,
                b.count
            );
        }
        let _ = writeln!(out, "{h}_bucket{{le=\"+Inf\"}} {}", self.latency_count);
        let _ = writeln!(out, "{h}_sum {}", self.latency_sum_ms / 1000.0);
        let _ = writeln!(out, "{h}_count {}", self.latency_count);
        out
    }
}

/// A label value escaped as the text format requires (backslash, double quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `stats.to_prometheus()` for the bindings (a record has no methods there; Python, Kotlin and
/// Swift add `to_prometheus()` / `toPrometheus()` over this).
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn stats_to_prometheus(stats: Stats) -> String {
    stats.to_prometheus()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_help_type_totals_and_a_histogram() {
        let m = Metrics::new("wechatpay_refund", &["create_refund", "query_refund"]);
        m.call::<()>(0, Duration::from_millis(3), &Ok(()));
        m.call::<()>(
            0,
            Duration::from_millis(300),
            &Err(RefundError::transport(
                crate::TransportErrorKind::Timeout,
                "t",
            )),
        );
        m.call::<()>(1, Duration::from_secs(20), &Ok(()));
        m.attempt();
        m.attempt();
        m.retry();
        let s = m.snapshot();
        assert_eq!(s.latency_count, 3);
        assert_eq!(s.latency_buckets[0], LatencyBucket { le_ms: 5, count: 1 });
        assert_eq!(s.latency_buckets[10].count, 2);
        let text = s.to_prometheus();
        for line in [
            "# TYPE wechatpay_refund_calls_total counter",
            "wechatpay_refund_calls_total{operation=\"create_refund\",outcome=\"ok\"} 1",
            "wechatpay_refund_calls_total{operation=\"create_refund\",outcome=\"transport_error\"} 1",
            "wechatpay_refund_calls_total{operation=\"query_refund\",outcome=\"ok\"} 1",
            "# HELP wechatpay_refund_http_attempts_total HTTP attempts of the calls.",
            "wechatpay_refund_http_attempts_total 2",
            "wechatpay_refund_retries_total 1",
            "# TYPE wechatpay_refund_call_duration_seconds histogram",
            "wechatpay_refund_call_duration_seconds_bucket{le=\"0.005\"} 1",
            "wechatpay_refund_call_duration_seconds_bucket{le=\"0.25\"} 1",
            "wechatpay_refund_call_duration_seconds_bucket{le=\"0.5\"} 2",
            "wechatpay_refund_call_duration_seconds_bucket{le=\"10\"} 2",
            "wechatpay_refund_call_duration_seconds_bucket{le=\"+Inf\"} 3",
            "wechatpay_refund_call_duration_seconds_sum 20.303",
            "wechatpay_refund_call_duration_seconds_count 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        // One HELP and one TYPE per family, every sample after its family's TYPE.
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        let helps = text.lines().filter(|l| l.starts_with("# HELP")).count();
        assert_eq!((types, helps), (7, 7));
    }
}
