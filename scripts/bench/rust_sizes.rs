//! Rust side of the body-size measurement of scripts/bench-compare (see BENCHMARKS.md).
//!
//! scripts/bench-compare copies this file into a throwaway crate under target/bench-compare/
//! (path dependency on the repository's crate, the repository's Cargo.lock and release profile)
//! and builds it into the shared target directory. The driver writes the signed responses of
//! each size to a JSON file and runs:
//!
//!     rust-sizes INPUT.json SECONDS
//!
//! INPUT: {"keys": <tests/vectors/keys.json>, "now": i64, "cases": [{"size": n, "headers":
//! [[name, value], ...], "body": "<utf-8 text>"}]}. Prints one JSON object:
//! {"<size>.verify_parse": ops/s, "<size>.verify_only": ops/s, ...}. Each loop is bounded by
//! SECONDS and by a count. RUST_SIZES_ONLY=verify_parse|verify_only|json_value runs one loop
//! (for `perf record`).

use serde_json::Value;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wechatpay_refund::*;

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_string()
}

/// ops/s of `f` over ~`secs` after a short warm-up.
fn rate(secs: f64, mut f: impl FnMut()) -> f64 {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs_f64((secs * 0.2).min(0.2)) {
        f();
    }
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs);
    let mut n: u64 = 0;
    while n < 10_000_000 {
        f();
        n += 1;
        if n % 8 == 0 && start.elapsed() >= limit {
            break;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() == 3, "usage: rust-sizes INPUT.json SECONDS");
    let input: Value =
        serde_json::from_str(&std::fs::read_to_string(&args[1]).expect("read input"))
            .expect("json");
    let secs: f64 = args[2].parse().expect("seconds");
    let k = &input["keys"];
    let cfg = Arc::new(
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            s(&k["merchant"]["private_key_pkcs8_pem"]),
            s(&k["api_v3_key"]),
        )
        .wechatpay_public_key(
            s(&k["wechatpay_public_key"]["id"]),
            s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
        .build()
        .expect("config"),
    );
    let now = input["now"].as_i64().expect("now");
    let only = std::env::var("RUST_SIZES_ONLY").unwrap_or_default();
    let run = |name: &str| only.is_empty() || only == name;
    let mut out = serde_json::Map::new();
    for case in input["cases"].as_array().expect("cases") {
        let size = case["size"].as_u64().expect("size");
        let headers: Vec<HttpHeader> = case["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| HttpHeader::new(s(&h[0]), s(&h[1])))
            .collect();
        let response = HttpResponse {
            status: 200,
            headers: headers.clone(),
            body: s(&case["body"]).into_bytes(),
        };
        // Checked once: a benchmark of a failing call would be meaningless.
        parse_refund_response(cfg.clone(), response.clone(), now).expect("verify + parse");
        // The same call shapes as the bench (an owned response per call, as the FFI gives it).
        if run("verify_parse") {
            let r = rate(secs, || {
                black_box(parse_refund_response(cfg.clone(), response.clone(), now).unwrap());
            });
            out.insert(format!("{size}.verify_parse"), r.into());
        }
        if run("verify_only") {
            let r = rate(secs, || {
                verify_wechatpay_signature(
                    cfg.clone(),
                    headers.clone(),
                    response.body.clone(),
                    now,
                )
                .unwrap();
            });
            out.insert(format!("{size}.verify_only"), r.into());
        }
        if run("json_value") {
            let body = response.body.clone();
            let r = rate(secs, || {
                black_box(serde_json::from_slice::<Value>(black_box(&body)).unwrap());
            });
            out.insert(format!("{size}.json_value"), r.into());
        }
    }
    println!("{}", Value::Object(out));
}
