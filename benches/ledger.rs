//! Refunds per second through the refund ledger vs the bare client, against the loopback
//! sandbox, 1 and 4 threads, on SQLite (synchronous FULL and NORMAL) and PostgreSQL; and the
//! median overhead of `submit` over `create_refund`. Run by `scripts/bench-compare` (which starts
//! a throwaway PostgreSQL server) or by hand:
//!
//!   cargo bench --features sandbox,ledger --bench ledger -- [--seconds S] [--postgres URL]
//!
//! Every loop is bounded by a count and a time; the sandbox listens on 127.0.0.1 only. Each
//! refund is a new `out_refund_no` of 1 fen on one large order, so every call is a real apply.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wechatpay_refund::ledger::{LedgerOptions, RefundLedger};
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::{CreateRefundRequest, RefundClient};

const ORDER_TOTAL: i64 = 1_000_000_000;
/// WeChat Pay (and the sandbox) allow 50 partial refunds per order: 40 refunds per order here.
const PER_ORDER: u64 = 40;
const ORDERS_PER_CELL: u64 = 500;
const MAX_CALLS: u64 = PER_ORDER * ORDERS_PER_CELL;

struct Run {
    per_sec: f64,
    median_us: f64,
}

/// `threads` threads calling `call(n)` with fresh numbers for `seconds` (at most MAX_CALLS).
fn measure(threads: usize, seconds: f64, call: Arc<dyn Fn(u64) + Send + Sync>) -> Run {
    let next = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (next, call) = (next.clone(), call.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                while Instant::now() < stop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= MAX_CALLS {
                        break;
                    }
                    let t = Instant::now();
                    call(n);
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<f64> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("bench thread"))
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    Run {
        per_sec: lat.len() as f64 / elapsed,
        median_us: lat.get(lat.len() / 2).copied().unwrap_or(f64::NAN),
    }
}

fn main() {
    let mut seconds = 3.0;
    let mut postgres = std::env::var("WECHATPAY_REFUND_TEST_POSTGRES_URL").ok();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
            "--postgres" => postgres = args.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    let sb = Sandbox::start().expect("sandbox");
    sb.create_order("T-BENCH".into(), ORDER_TOTAL)
        .expect("order");
    let client = RefundClient::new(sb.client_config().expect("config")).expect("client");
    let dir = std::env::temp_dir().join(format!("wechatpay-ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let req = |prefix: &str, n: u64| {
        CreateRefundRequest::by_out_trade_no(
            format!("T-{prefix}-{}", n / PER_ORDER),
            format!("{prefix}-{n}"),
            1,
            ORDER_TOTAL,
        )
    };
    let orders = |prefix: &str| {
        for k in 0..ORDERS_PER_CELL {
            sb.create_order(format!("T-{prefix}-{k}"), ORDER_TOTAL)
                .expect("order");
        }
    };

    let mut stores: Vec<(String, Arc<RefundLedger>)> = Vec::new();
    for (name, full) in [("SQLite FULL", true), ("SQLite NORMAL", false)] {
        let path = dir.join(format!("{}.db", if full { "full" } else { "normal" }));
        let options = LedgerOptions {
            synchronous_full: full,
            ..Default::default()
        };
        let ledger =
            RefundLedger::open_sqlite_with(&path.to_string_lossy(), client.clone(), options)
                .expect("sqlite ledger");
        stores.push((name.into(), ledger));
    }
    match &postgres {
        Some(url) => stores.push((
            "PostgreSQL".into(),
            RefundLedger::open_postgres(url, client.clone()).expect("postgres ledger"),
        )),
        None => eprintln!(
            "no PostgreSQL (--postgres URL or WECHATPAY_REFUND_TEST_POSTGRES_URL): skipped"
        ),
    }

    println!("ledger bench: {seconds} s per cell, loopback sandbox, 1-fen refunds (refunds/s, median latency)");
    println!("{:<21} {:>22} {:>22}", "", "1 thread", "4 threads");
    let mut bare_median = [f64::NAN; 2];
    let mut rows = Vec::new();
    for (i, threads) in [1usize, 4].into_iter().enumerate() {
        let c = client.clone();
        let prefix = format!("B{threads}");
        orders(&prefix);
        let run = measure(
            threads,
            seconds,
            Arc::new(move |n| {
                c.create_refund(req(&prefix, n))
                    .expect("bare create_refund");
            }),
        );
        bare_median[i] = run.median_us;
        rows.push(("bare client".to_string(), i, run));
    }
    for (name, ledger) in &stores {
        for (i, threads) in [1usize, 4].into_iter().enumerate() {
            let l = ledger.clone();
            let prefix = format!("{}{threads}", name.replace(' ', ""));
            orders(&prefix);
            let run = measure(
                threads,
                seconds,
                Arc::new(move |n| {
                    l.submit(req(&prefix, n)).expect("ledger submit");
                }),
            );
            rows.push((format!("ledger {name}"), i, run));
        }
    }
    let mut names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    names.dedup();
    for name in names {
        let cell = |i: usize| {
            rows.iter()
                .find(|r| r.0 == name && r.1 == i)
                .map(|(_, _, r)| format!("{:>8.0}/s {:>8.0} µs", r.per_sec, r.median_us))
                .unwrap_or_default()
        };
        println!("{name:<21} {:>22} {:>22}", cell(0), cell(1));
    }
    for (name, _) in &stores {
        if let Some((_, _, r)) = rows
            .iter()
            .find(|r| r.0 == format!("ledger {name}") && r.1 == 0)
        {
            println!(
                "submit overhead over the bare client, 1 thread, median: {name}: {:.2} ms",
                (r.median_us - bare_median[0]) / 1000.0
            );
        }
    }
    for (_, l) in &stores {
        l.close();
    }
    sb.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
