//! Criterion benchmarks of the operations a merchant pays for, with every compiled crypto
//! backend: build + sign an apply-refund request; verify + parse a refund response; verify +
//! decrypt + parse a notification; encrypt the two abnormal-refund fields; build a client
//! configuration from PEM keys. Inputs are the golden vectors (tests/vectors), so the numbers
//! are for real WeChat Pay-sized messages.
//!
//! `cargo bench --features rustcrypto --bench refund`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::sync::Arc;
use wechatpay_refund::*;

mod support;
use support::{config_from, load, refund_response, s};

fn benches(c: &mut Criterion) {
    let k = load("keys.json");
    let (response, now) = refund_response();
    let notification = load("notification.json");
    let n = &notification["cases"][0];
    let n_headers: std::collections::HashMap<String, String> = n["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), s(v)))
        .collect();
    let n_body = s(&n["body"]).into_bytes();
    let n_now = notification["now"].as_i64().unwrap();
    let mut request = CreateRefundRequest::by_out_trade_no(
        "1217752501201407033233368018",
        "R20261123001",
        888,
        888,
    );
    request.reason = Some("商品已售完".into());
    request.notify_url = Some("https://merchant.example.com/wechatpay/refund-notify".into());
    let abnormal = AbnormalRefundRequest::to_user_bank_card(
        "50000000382019052709732678859",
        "R20261123001",
        "ICBC_DEBIT",
        "6222021234567890",
        "张三",
    );

    for backend in CryptoBackend::available() {
        let name = format!("{backend:?}");
        let cfg = Arc::new(config_from(&k, backend));
        let mut g = c.benchmark_group("refund");
        g.bench_with_input(
            BenchmarkId::new("build_sign_create_refund", &name),
            &cfg,
            |b, cfg| {
                b.iter(|| {
                    build_create_refund_request(
                        cfg.clone(),
                        black_box(request.clone()),
                        1_795_000_000,
                        "NONCE0123456789".into(),
                    )
                    .unwrap()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("verify_parse_refund_response", &name),
            &cfg,
            |b, cfg| {
                b.iter(|| {
                    // The borrowing core function: the timed loop must not copy the response.
                    wechatpay_refund::refund::response::parse_refund_response(
                        cfg,
                        black_box(&response),
                        now,
                    )
                    .unwrap()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("verify_decrypt_parse_notification", &name),
            &cfg,
            |b, cfg| {
                b.iter(|| {
                    parse_notification_at(
                        cfg.clone(),
                        black_box(n_headers.clone()),
                        n_body.clone(),
                        n_now,
                    )
                    .unwrap()
                })
            },
        );
        let wx_public = wechatpay_refund::crypto::RsaPublicKey::from_pem_with(
            backend,
            &s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
        .unwrap();
        g.bench_function(BenchmarkId::new("oaep_encrypt_two_fields", &name), |b| {
            b.iter(|| {
                (
                    wx_public
                        .oaep_sha1_encrypt(black_box(b"6222021234567890"))
                        .unwrap(),
                    wx_public
                        .oaep_sha1_encrypt(black_box("张三".as_bytes()))
                        .unwrap(),
                )
            })
        });
        g.bench_with_input(
            BenchmarkId::new("build_sign_abnormal_refund", &name),
            &cfg,
            |b, cfg| {
                b.iter(|| {
                    build_apply_abnormal_refund_request(
                        cfg.clone(),
                        black_box(abnormal.clone()),
                        1_795_000_000,
                        "N".into(),
                    )
                    .unwrap()
                })
            },
        );
        g.bench_function(BenchmarkId::new("client_config_from_pem", &name), |b| {
            b.iter(|| config_from(&k, backend))
        });
        g.finish();
    }
}

criterion_group! {
    name = refund;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(refund);
