//! Issue 22: structured events and the metrics snapshot, through the sandbox's real sockets.
//! A subscriber records every event and span field of the `wechatpay_refund` target; the
//! hostile suite (retries, tampered and probe responses, unknown serials, an abnormal refund
//! with a card number and a name, notifications genuine and forged, v2 calls) runs under it,
//! and no key, signature, card number, name or notification plaintext may appear in what it
//! recorded.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault, SandboxKeyMode, SandboxOptions};
use wechatpay_refund::*;

/// One recorded event: the thread it happened on, its level, its fields (values as text) and
/// the fields of the span it happened in.
#[derive(Debug, Clone)]
struct Seen {
    thread: std::thread::ThreadId,
    level: tracing::Level,
    fields: Vec<(String, String)>,
    span: Vec<(String, String)>,
}

impl Seen {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .chain(&self.span)
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn event(&self) -> &str {
        self.get("event").unwrap_or_default()
    }
}

#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, Vec<(String, String)>>>,
    events: Mutex<Vec<Seen>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Text<'a>(&'a mut Vec<(String, String)>);

impl Visit for Text<'_> {
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.push((f.name().into(), v.into()));
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.push((f.name().into(), format!("{v:?}")));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut f = Vec::new();
        attrs.record(&mut Text(&mut f));
        self.spans.lock().unwrap().insert(id, f);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut f = Vec::new();
        values.record(&mut Text(&mut f));
        if let Some(s) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            s.extend(f);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Text(&mut fields));
        let span = CURRENT
            .with(|c| c.borrow().last().copied())
            .and_then(|id| self.spans.lock().unwrap().get(&id).cloned())
            .unwrap_or_default();
        self.events.lock().unwrap().push(Seen {
            thread: std::thread::current().id(),
            level: *event.metadata().level(),
            fields,
            span,
        });
    }
    fn enter(&self, span: &Id) {
        CURRENT.with(|c| c.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, _: &Id) {
        CURRENT.with(|c| {
            c.borrow_mut().pop();
        });
    }
}

/// The process-wide recorder (a global subscriber: the sandbox's and the background refresh
/// threads are recorded too).
fn recorder() -> &'static Recorder {
    static R: OnceLock<&'static Recorder> = OnceLock::new();
    R.get_or_init(|| {
        let r: &'static Recorder = Box::leak(Box::default());
        struct Shared(&'static Recorder);
        impl Subscriber for Shared {
            fn enabled(&self, m: &Metadata<'_>) -> bool {
                self.0.enabled(m)
            }
            fn new_span(&self, a: &Attributes<'_>) -> Id {
                self.0.new_span(a)
            }
            fn record(&self, s: &Id, v: &Record<'_>) {
                self.0.record(s, v)
            }
            fn record_follows_from(&self, s: &Id, f: &Id) {
                self.0.record_follows_from(s, f)
            }
            fn event(&self, e: &tracing::Event<'_>) {
                self.0.event(e)
            }
            fn enter(&self, s: &Id) {
                self.0.enter(s)
            }
            fn exit(&self, s: &Id) {
                self.0.exit(s)
            }
        }
        tracing::subscriber::set_global_default(Shared(r)).unwrap();
        r
    })
}

/// The events recorded on this thread so far.
fn mine() -> Vec<Seen> {
    let me = std::thread::current().id();
    recorder()
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.thread == me)
        .cloned()
        .collect()
}

#[test]
fn each_attempt_and_retry_is_an_event_with_its_request_id() {
    recorder();
    let sb = Sandbox::start().unwrap();
    sb.create_order("TO1".into(), 10_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    sb.inject_fault(SandboxFault::SystemError, 1);
    client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "TO1", "RO1", 100, 10_000,
        ))
        .unwrap();
    let seen = mine();
    let attempts: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.event() == "http.attempt")
        .collect();
    assert_eq!(attempts.len(), 2, "{seen:#?}");
    for (a, (status, n)) in attempts.iter().zip([("500", "1"), ("200", "2")]) {
        assert_eq!(a.level, tracing::Level::DEBUG);
        assert_eq!(a.get("method"), Some("POST"));
        assert_eq!(a.get("path"), Some("/v3/refund/domestic/refunds"));
        assert_eq!((a.get("status"), a.get("attempt")), (Some(status), Some(n)));
        assert_eq!(a.get("host"), Some("primary"));
        assert!(a.get("elapsed_ms").is_some());
        assert!(!a.get("request_id").unwrap_or_default().is_empty(), "{a:?}");
        // The call's span: operation and out_refund_no.
        assert_eq!(a.get("operation"), Some("create_refund"));
        assert_eq!(a.get("out_refund_no"), Some("RO1"));
    }
    let retry = seen.iter().find(|e| e.event() == "http.retry").unwrap();
    assert_eq!(retry.level, tracing::Level::INFO);
    assert_eq!(retry.get("reason"), Some("http 500 SYSTEM_ERROR"));
    assert_eq!(retry.get("next_attempt"), Some("2"));
    assert!(retry.get("delay_ms").is_some());

    // The snapshot counts the same.
    let stats = client.stats();
    assert_eq!((stats.attempts, stats.retries), (2, 1));
    assert_eq!(
        stats.calls,
        vec![CallCount {
            operation: "create_refund".into(),
            outcome: "ok".into(),
            count: 1
        }]
    );
    assert_eq!(stats.latency_count, 1);
    let text = stats.to_prometheus();
    assert!(text
        .contains("wechatpay_refund_calls_total{operation=\"create_refund\",outcome=\"ok\"} 1\n"));
    assert!(text.contains("wechatpay_refund_http_attempts_total 2\n"));
    assert!(text.contains("wechatpay_refund_call_duration_seconds_count 1\n"));
}

#[test]
fn a_query_sends_its_path_and_query_and_a_timeout_is_an_error_kind() {
    recorder();
    let sb = Sandbox::start().unwrap();
    sb.create_order("TQ1".into(), 10_000).unwrap();
    let config = common::sandbox_builder(&sb)
        .options(ClientOptions {
            read_timeout_ms: 150,
            initial_backoff_ms: 10,
            max_backoff_ms: 20,
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = RefundClient::new(Arc::new(config)).unwrap();
    client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "TQ1", "RQ1", 1, 10_000,
        ))
        .unwrap();
    sb.inject_fault(SandboxFault::Delay { millis: 600 }, 1);
    client.query_refund("RQ1".into(), None).unwrap();
    let seen = mine();
    let q: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.event() == "http.attempt" && e.get("operation") == Some("query_refund"))
        .collect();
    assert_eq!(q.len(), 2, "{seen:#?}");
    assert_eq!(q[0].get("path"), Some("/v3/refund/domestic/refunds/RQ1"));
    assert_eq!(q[0].get("method"), Some("GET"));
    assert_eq!(
        (q[0].get("status"), q[0].get("error")),
        (None, Some("timeout"))
    );
    assert_eq!(q[1].get("status"), Some("200"));
    let retry = seen
        .iter()
        .find(|e| e.event() == "http.retry" && e.get("operation") == Some("query_refund"))
        .unwrap();
    assert_eq!(retry.get("reason"), Some("timeout"));
    let s = client.stats();
    assert_eq!((s.attempts, s.retries), (3, 1));
}

#[test]
fn verification_failures_are_warnings_naming_what_failed_and_the_serial() {
    recorder();
    let sb = Sandbox::start().unwrap();
    sb.create_order("TV1".into(), 10_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let mut expected = Vec::new();
    for (i, (fault, what)) in [
        (SandboxFault::TamperedBody, "signature"),
        (SandboxFault::StaleTimestamp, "window"),
        (SandboxFault::ProbeSignature, "probe"),
        (SandboxFault::UnknownSerial, "unknown_serial"),
    ]
    .into_iter()
    .enumerate()
    {
        sb.inject_fault(fault, 1);
        let e = client
            .create_refund(CreateRefundRequest::by_out_trade_no(
                "TV1",
                format!("RV{i}"),
                1,
                10_000,
            ))
            .unwrap_err();
        assert!(e.to_string().len() > 1);
        expected.push(what);
    }
    let seen = mine();
    let failed: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.event() == "verify.failed")
        .collect();
    assert_eq!(
        failed
            .iter()
            .map(|e| e.get("what").unwrap())
            .collect::<Vec<_>>(),
        expected,
        "{seen:#?}"
    );
    for f in &failed {
        assert_eq!(f.level, tracing::Level::WARN);
        assert_eq!(f.get("source"), Some("response"));
        assert!(!f.get("serial").unwrap_or_default().is_empty(), "{f:?}");
    }
    let s = client.stats();
    assert_eq!(s.verification_failures, 4);
    assert!(s
        .calls
        .iter()
        .any(|c| c.outcome == "verification_error" && c.count == 4));
}

#[test]
fn a_certificate_download_is_its_own_event_not_an_attempt() {
    recorder();
    let sb = Sandbox::start_with(SandboxOptions {
        mode: Some(SandboxKeyMode::Certificate),
        ..Default::default()
    })
    .unwrap();
    sb.create_order("TC1".into(), 10_000).unwrap();
    let config = common::sandbox_merchant(&sb)
        .download_platform_certificates(true)
        .build()
        .unwrap();
    let client = RefundClient::new(Arc::new(config)).unwrap();
    client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "TC1", "RC1", 1, 10_000,
        ))
        .unwrap();
    let seen = mine();
    let download = seen
        .iter()
        .find(|e| e.event() == "certificates.download")
        .unwrap();
    assert_eq!(download.level, tracing::Level::INFO);
    assert_eq!(download.get("path"), Some("/v3/certificates"));
    assert_eq!(download.get("status"), Some("200"));
    assert_eq!(download.get("outcome"), Some("ok"));
    assert_eq!(download.get("reason"), Some("first_use"));
    let serial = sb.credentials().platform_certificate_serial_no.unwrap();
    assert!(
        download
            .get("serials")
            .unwrap()
            .eq_ignore_ascii_case(&serial),
        "{download:?} {serial}"
    );
    let refresh = seen
        .iter()
        .find(|e| e.event() == "certificates.refresh")
        .unwrap();
    assert_eq!(
        (refresh.get("reason"), refresh.get("outcome")),
        (Some("first_use"), Some("downloaded"))
    );
    let attempts: Vec<&Seen> = seen
        .iter()
        .filter(|e| e.event() == "http.attempt")
        .collect();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].get("path"), Some("/v3/refund/domestic/refunds"));
    let s = client.stats();
    assert_eq!((s.certificate_downloads, s.attempts), (1, 1));
}

/// Forwards every request to the real transport, keeping the `Authorization` headers sent
/// and the `Wechatpay-Signature`s received (the strings no event may hold).
struct Spy {
    inner: UreqTransport,
    secrets: Mutex<Vec<String>>,
}

impl HttpTransport for Spy {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let mut s = self.secrets.lock().unwrap();
        if let Some(a) = request.header("Authorization") {
            s.push(a.to_string());
            if let Some(sig) = a.split("signature=\"").nth(1) {
                s.push(sig.trim_end_matches('"').to_string());
            }
        }
        if !request.body.is_empty() {
            s.push(String::from_utf8_lossy(&request.body).into_owned());
        }
        drop(s);
        let resp = self.inner.send(request)?;
        if let Some(sig) = resp.header("Wechatpay-Signature") {
            self.secrets.lock().unwrap().push(sig.to_string());
        }
        Ok(resp)
    }
}

#[test]
fn no_event_or_span_holds_a_key_a_signature_a_card_a_name_or_a_notification() {
    recorder();
    let sb = Sandbox::start().unwrap();
    let spy = Arc::new(Spy {
        inner: UreqTransport::new(TransportOptions::default()),
        secrets: Mutex::new(Vec::new()),
    });
    let client = RefundClient::with_transport(sb.client_config().unwrap(), spy.clone());
    sb.create_order("TH1".into(), 100_000).unwrap();

    // The hostile suite: every fault, each followed by a retry or an error.
    let faults = [
        SandboxFault::SystemError,
        SandboxFault::FrequencyLimited,
        SandboxFault::DropConnection,
        SandboxFault::TamperedBody,
        SandboxFault::StaleTimestamp,
        SandboxFault::ProbeSignature,
        SandboxFault::UnknownSerial,
    ];
    for (i, f) in faults.into_iter().enumerate() {
        sb.inject_fault(f, 1);
        let _ = client.create_refund(CreateRefundRequest::by_out_trade_no(
            "TH1",
            format!("RH{i}"),
            1,
            100_000,
        ));
        let _ = client.query_refund(format!("RH{i}"), None);
    }

    // An abnormal refund, with a card number and a real name.
    let r = client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "TH1", "RH-ab", 1, 100_000,
        ))
        .unwrap();
    sb.set_refund_status("RH-ab".into(), RefundStatus::Abnormal)
        .unwrap();
    sb.inject_fault(SandboxFault::SystemError, 1);
    client
        .apply_abnormal_refund(AbnormalRefundRequest::to_user_bank_card(
            r.refund_id.clone(),
            "RH-ab",
            "ICBC_DEBIT",
            "6222021234567890",
            "张三丰",
        ))
        .unwrap();

    // Notifications: genuine, and forged (tampered body, re-signed headers missing).
    sb.set_refund_status("RH-ab".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("RH-ab".into()).unwrap();
    let note = client
        .parse_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    let mut forged = n.body.clone();
    let last = forged.len() - 3;
    forged[last] ^= 1;
    let _ = client.parse_notification(n.headers.clone(), forged);
    let mut probe = n.headers.clone();
    probe.insert(
        "Wechatpay-Signature".into(),
        "WECHATPAY/SIGNTEST/abcdef".into(),
    );
    let _ = client.parse_notification(probe, n.body.clone());

    // The v2 client too.
    let v2 = wechatpay_refund::v2::V2RefundClient::new(sb.v2_config().unwrap()).unwrap();
    sb.v2_inject_error("SYSTEMERROR".into(), 1);
    let _ = v2.refund(wechatpay_refund::v2::V2RefundRequest::by_out_trade_no(
        "TH1", "RH-v2", 1, 100_000,
    ));

    // The strings no event may hold.
    let c = sb.credentials();
    let mut secrets = spy.secrets.lock().unwrap().clone();
    secrets.push(c.api_v3_key.clone());
    let v2c = sb.v2_credentials().unwrap();
    for pem in [&c.merchant_private_key_pem, &v2c.client_key_pem] {
        secrets.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                .map(String::from),
        );
    }
    secrets.push(v2c.api_key.clone());
    secrets.extend(["6222021234567890".into(), "张三丰".into()]);
    for (k, v) in &n.headers {
        if k.eq_ignore_ascii_case("Wechatpay-Signature") {
            secrets.push(v.clone());
        }
    }
    secrets.push(String::from_utf8_lossy(&n.body).into_owned());
    // The notification's plaintext: its decrypted fields beyond the ids.
    secrets.push(note.user_received_account.clone());
    let ciphertext = serde_json::from_slice::<serde_json::Value>(&n.body).unwrap()["resource"]
        ["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(ciphertext);
    secrets.retain(|s| s.len() >= 6);

    let all = recorder().events.lock().unwrap().clone();
    let names: std::collections::BTreeSet<&str> = all.iter().map(|e| e.event()).collect();
    for expected in [
        "http.attempt",
        "http.retry",
        "verify.failed",
        "v2.http.attempt",
        "v2.http.retry",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    let spans = recorder().spans.lock().unwrap().clone();
    let texts = all
        .iter()
        .flat_map(|e| e.fields.iter().chain(&e.span))
        .chain(spans.values().flatten());
    let mut checked = 0;
    for (k, v) in texts {
        checked += 1;
        for s in &secrets {
            assert!(!v.contains(s.as_str()), "{k}={v} holds a secret ({s})");
        }
        assert!(!v.contains("张三"), "{k}={v}");
    }
    assert!(checked > 50, "{checked}");
    assert!(secrets.len() > 20, "{}", secrets.len());
}

/// The ledger's status changes are `ledger.transition` events (out_refund_no, from, to,
/// source), one per change; the card and the name of the abnormal refund's resolution appear
/// in none of the events of the lifecycle.
#[cfg(feature = "ledger")]
#[test]
fn each_ledger_change_is_one_transition_event_and_the_card_never_appears() {
    use wechatpay_refund::ledger::RefundLedger;
    recorder();
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("wechatpay-events-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("refunds.db").to_string_lossy().into_owned();
    let ledger = RefundLedger::open_sqlite(&db, client).unwrap();
    sb.create_order("TL1".into(), 1_000).unwrap();
    let request = CreateRefundRequest::by_out_trade_no("TL1", "RL1", 500, 1_000);
    let e = ledger.submit(request.clone()).unwrap();
    ledger.submit(request).unwrap(); // again: no change, no event
    sb.set_refund_status("RL1".into(), RefundStatus::Abnormal)
        .unwrap();
    ledger.poll(false).unwrap();
    ledger
        .resolve_abnormal(AbnormalRefundRequest::to_user_bank_card(
            e.refund_id.unwrap(),
            "RL1",
            "ICBC_DEBIT",
            "6222029876543210",
            "李四光",
        ))
        .unwrap();
    sb.set_refund_status("RL1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("RL1".into()).unwrap();
    ledger
        .handle_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    ledger.handle_notification(n.headers, n.body).unwrap(); // re-delivered: no event
    let seen = mine();
    let transitions: Vec<_> = seen
        .iter()
        .filter(|s| s.event() == "ledger.transition")
        .map(|s| {
            (
                s.get("out_refund_no").unwrap_or_default().to_string(),
                s.get("from").map(str::to_string),
                s.get("to").unwrap_or_default().to_string(),
                s.get("source").unwrap_or_default().to_string(),
            )
        })
        .collect();
    let t = |from: Option<&str>, to: &str, source: &str| {
        (
            "RL1".to_string(),
            from.map(str::to_string),
            to.to_string(),
            source.to_string(),
        )
    };
    assert_eq!(
        transitions,
        [
            t(None, "PROCESSING", "submit"),
            t(Some("PROCESSING"), "ABNORMAL", "poll"),
            t(Some("ABNORMAL"), "PROCESSING", "resolve"),
            t(Some("PROCESSING"), "SUCCESS", "notification"),
        ]
    );
    for s in &seen {
        for (k, v) in s.fields.iter().chain(&s.span) {
            for secret in ["6222029876543210", "李四光"] {
                assert!(!v.contains(secret), "{k}={v} holds a secret");
            }
        }
    }
    ledger.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_rate_limit_wait_and_an_exceeded_deadline_are_events() {
    recorder();
    let sb = Sandbox::start().unwrap();
    // The client-side limiter lets 6 failing requests a second through: the 7th waits.
    let config = common::sandbox_builder(&sb)
        .options(ClientOptions {
            rate_limit: true,
            max_attempts: 1,
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = RefundClient::new(Arc::new(config)).unwrap();
    sb.inject_fault(SandboxFault::SystemError, 8);
    for i in 0..8 {
        assert!(client.query_refund(format!("RL{i}"), None).is_err());
    }
    let seen = mine();
    let wait = seen
        .iter()
        .find(|e| e.event() == "ratelimit.wait")
        .unwrap_or_else(|| panic!("no ratelimit.wait in {seen:#?}"));
    assert_eq!(wait.level, tracing::Level::INFO);
    let waited: u64 = wait.get("waited_ms").unwrap().parse().unwrap();
    assert!(waited > 0, "{wait:?}");

    // A deadline shorter than the answer: WARN, with the attempts made.
    let config = common::sandbox_builder(&sb)
        .options(ClientOptions {
            deadline_ms: 300,
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = RefundClient::new(Arc::new(config)).unwrap();
    sb.inject_fault(SandboxFault::Delay { millis: 1_500 }, 3);
    let err = client.query_refund("RD1".into(), None).unwrap_err();
    let seen = mine();
    let exceeded = seen
        .iter()
        .find(|e| e.event() == "deadline.exceeded")
        .unwrap_or_else(|| panic!("no deadline.exceeded for {err:?} in {seen:#?}"));
    assert_eq!(exceeded.level, tracing::Level::WARN);
    assert_eq!(exceeded.get("deadline_ms"), Some("300"));
    assert!(exceeded.get("attempts").is_some());
    assert_eq!(exceeded.get("operation"), Some("query_refund"));
}
