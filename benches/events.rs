//! What the library's events (src/events.rs) cost: sign, verify and loopback apply+query with
//! the events compiled out, with no subscriber (off), and with a subscriber that formats every
//! event and span (on). One process measures one mode and prints one JSON line;
//! `scripts/bench-compare` builds this bench twice (normally, and with `tracing/max_level_off`,
//! i.e. the library as it was before it had events) and interleaves the three modes over rounds.
//!
//!   cargo bench --features sandbox --bench events -- [--seconds S] [--subscriber]
//!   cargo bench --features sandbox,tracing/max_level_off --bench events -- [--seconds S]
//!
//! `--only sign|verify|loopback --count N` runs exactly N of one operation (for an instruction
//! count under `valgrind --tool=callgrind`, which a loaded machine does not disturb).
//!
//! Every loop is bounded by a count and a time; the sandbox listens on 127.0.0.1 only.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wechatpay_refund::sandbox::{Sandbox, SandboxOptions};
use wechatpay_refund::*;

mod support;
use support::{config_from, load, refund_response};

const MAX_OPS: u64 = 2_000_000;
const MAX_PAIRS: u64 = 20_000;

/// A subscriber as a service would have one: every event and span of every level formatted
/// into a line (as a text or JSON formatter does), the line then dropped.
#[derive(Default)]
struct Formatting {
    next_span: AtomicU64,
}

/// Events the subscriber formatted, and the bytes of their lines.
static EVENTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Formatting {
    fn emit(&self, line: Line) {
        BYTES.fetch_add(black_box(line.0).len() as u64, Ordering::Relaxed);
    }
}

impl Subscriber for Formatting {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut line = Line(attrs.metadata().name().to_string());
        attrs.record(&mut line);
        self.emit(line);
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = Line(String::new());
        values.record(&mut line);
        self.emit(line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!(
            "{} {}",
            event.metadata().level(),
            event.metadata().target()
        ));
        event.record(&mut line);
        self.emit(line);
        EVENTS.fetch_add(1, Ordering::Relaxed);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// How long each operation runs: `seconds` (at most `max` calls), or exactly `count` calls.
struct Plan {
    seconds: f64,
    count: Option<u64>,
    only: Option<String>,
}

impl Plan {
    fn runs(&self, op: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == op)
    }

    /// Calls per second of `op` (0 when `name` is not the one operation asked for).
    fn rate(&self, name: &str, max: u64, mut op: impl FnMut(u64)) -> f64 {
        if !self.runs(name) {
            return 0.0;
        }
        let start = Instant::now();
        let stop = start + Duration::from_secs_f64(self.seconds);
        let max = self.count.unwrap_or(max);
        let mut n = 0;
        while n < max && (self.count.is_some() || n % 16 != 0 || Instant::now() < stop) {
            op(n);
            n += 1;
        }
        n as f64 / start.elapsed().as_secs_f64()
    }
}

fn main() {
    let mut plan = Plan {
        seconds: 2.0,
        count: None,
        only: None,
    };
    let mut subscriber = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => {
                plan.seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(plan.seconds)
            }
            "--count" => plan.count = args.next().and_then(|v| v.parse().ok()),
            "--only" => plan.only = args.next(),
            "--subscriber" => subscriber = true,
            _ => {} // cargo bench passes --bench
        }
    }
    let compiled_out =
        tracing::level_filters::STATIC_MAX_LEVEL == tracing::level_filters::LevelFilter::OFF;
    let mode = match (compiled_out, subscriber) {
        (true, false) => "out",
        (false, false) => "off",
        (false, true) => "on",
        (true, true) => {
            eprintln!("--subscriber with the events compiled out measures nothing");
            std::process::exit(2);
        }
    };
    if subscriber {
        tracing::subscriber::set_global_default(Formatting::default())
            .expect("the only subscriber");
    }

    let config = config_from(&load("keys.json"), CryptoBackend::default());
    let config = Arc::new(config);
    let request = CreateRefundRequest::by_out_trade_no("T-BENCH", "R-BENCH", 888, 888);
    let sign = plan.rate("sign", MAX_OPS, |_| {
        black_box(
            build_create_refund_request(
                config.clone(),
                black_box(request.clone()),
                1_795_000_000,
                "NONCE0123456789".into(),
            )
            .expect("signed"),
        );
    });

    let (response, now) = refund_response();
    let verify = plan.rate("verify", MAX_OPS, |_| {
        black_box(
            refund::response::parse_refund_response(&config, black_box(&response), now)
                .expect("verified"),
        );
    });

    let mut loopback = 0.0;
    if plan.runs("loopback") {
        // The test vectors' keys: no key generation, so instruction counts repeat.
        let k = load("keys.json");
        let pem = |path: &str| k.pointer(path).and_then(|v| v.as_str()).map(str::to_string);
        let sb = Sandbox::start_with(SandboxOptions {
            merchant_private_key_pem: pem("/merchant/private_key_pkcs8_pem"),
            merchant_serial_no: pem("/merchant/serial_no"),
            wechatpay_private_key_pem: pem("/wechatpay_public_key/private_key_pkcs8_pem"),
            wechatpay_public_key_id: pem("/wechatpay_public_key/id"),
            platform_certificate_pem: pem("/platform/certificate_pem"),
            platform_private_key_pem: pem("/platform/private_key_pkcs8_pem"),
            api_v3_key: pem("/api_v3_key"),
            ..Default::default()
        })
        .expect("sandbox");
        let client =
            RefundClient::new(sb.client_config().expect("sandbox config")).expect("client");
        // 50 refunds at most per order (as WeChat Pay): 40 per order here.
        for k in 0..plan.count.unwrap_or(MAX_PAIRS).div_ceil(40) {
            sb.create_order(format!("T-EV-{k}"), 1_000_000)
                .expect("order");
        }
        loopback = plan.rate("loopback", MAX_PAIRS, |n| {
            let r = client
                .create_refund(CreateRefundRequest::by_out_trade_no(
                    format!("T-EV-{}", n / 40),
                    format!("R-EV-{n}"),
                    1,
                    1_000_000,
                ))
                .expect("apply");
            black_box(client.query_refund(r.out_refund_no, None).expect("query"));
        });
        sb.stop();
    }

    let events = EVENTS.load(Ordering::Relaxed);
    if subscriber && events == 0 && plan.runs("loopback") && plan.count != Some(0) {
        eprintln!("the subscriber saw no event: the 'on' figures would measure nothing");
        std::process::exit(1);
    }
    println!(
        "{}",
        serde_json::json!({
            "mode": mode, "sign": sign, "verify": verify, "loopback": loopback,
            "events": events, "bytes": BYTES.load(Ordering::Relaxed),
        })
    );
}
