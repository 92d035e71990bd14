//! Exactly-once under faults: many refunds from 8 threads against the sandbox with ~20 %
//! injected faults of every kind, then reconciliation.
//!
//! CI runs a bounded version (SOAK_REFUNDS, default 240). The full soak:
//! `SOAK_REFUNDS=2000 cargo test --release --features sandbox --test soak -- --nocapture`
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::*;

const THREADS: usize = 8;
const ORDERS: usize = 40;

#[test]
fn every_intended_refund_exists_exactly_once_after_faults() {
    let total_refunds: usize = std::env::var("SOAK_REFUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let sandbox = Sandbox::start().unwrap();
    let order_total: i64 = 10_000_000;
    for o in 0..ORDERS {
        sandbox
            .create_order(format!("SOAK{o:06}"), order_total)
            .unwrap();
    }
    let c = sandbox.credentials();
    let config = Arc::new(
        ClientConfig::builder(
            c.mchid,
            c.merchant_serial_no,
            c.merchant_private_key_pem,
            c.api_v3_key,
        )
        .wechatpay_public_key(
            c.wechatpay_public_key_id.unwrap(),
            c.wechatpay_public_key_pem.unwrap(),
        )
        .base_url(c.base_url)
        .options(ClientOptions {
            read_timeout_ms: 300,
            max_attempts: 4,
            initial_backoff_ms: 5,
            max_backoff_ms: 40,
            deadline_ms: 5_000,
            ..Default::default()
        })
        .build()
        .unwrap(),
    );
    let client = RefundClient::new(config).unwrap();
    sandbox.inject_random_faults(
        200,
        vec![
            SandboxFault::SystemError,
            SandboxFault::FrequencyLimited,
            SandboxFault::DropConnection,
            SandboxFault::Delay { millis: 450 },
            SandboxFault::TamperedBody,
            SandboxFault::StaleTimestamp,
            SandboxFault::ProbeSignature,
            SandboxFault::UnknownSerial,
        ],
    );

    // What every call returned: the refund, or a typed error (kind → count).
    let outcomes: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let intended: Arc<Mutex<HashMap<String, (String, i64)>>> = Arc::default();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, outcomes, intended) = (client.clone(), outcomes.clone(), intended.clone());
            std::thread::spawn(move || {
                for i in (t..total_refunds).step_by(THREADS) {
                    let order = format!("SOAK{:06}", i % ORDERS);
                    let no = format!("SOAK-R{i:06}");
                    let amount = 1 + (i as i64 * 7919) % 997;
                    intended
                        .lock()
                        .unwrap()
                        .insert(no.clone(), (order.clone(), amount));
                    let req = CreateRefundRequest::by_out_trade_no(
                        order,
                        no.clone(),
                        amount,
                        order_total,
                    );
                    // The caller's safe-retry story: on any error whose outcome is unknown or
                    // that is retryable, send the same request (same out_refund_no) again.
                    let mut done = false;
                    for _ in 0..25 {
                        let outcome = client.create_refund(req.clone());
                        let key = match &outcome {
                            Ok(_) => "ok".to_string(),
                            Err(e) => short(e),
                        };
                        *outcomes.lock().unwrap().entry(key).or_default() += 1;
                        match outcome {
                            Ok(r) => {
                                assert_eq!(
                                    (r.out_refund_no.as_str(), r.amount.refund),
                                    (no.as_str(), amount)
                                );
                                done = true;
                                break;
                            }
                            Err(e) => assert!(
                                e.is_retryable() || e.is_outcome_unknown(),
                                "an error that is neither retryable nor of unknown outcome: {e:?}"
                            ),
                        }
                    }
                    assert!(done, "{no} never succeeded in 25 calls");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
    sandbox.clear_faults();

    // Reconcile: each intended refund exists exactly once with its amount; nothing else exists.
    let intended = intended.lock().unwrap();
    assert_eq!(intended.len(), total_refunds);
    let mut per_order: HashMap<String, (u32, i64)> = HashMap::new();
    for (no, (order, amount)) in intended.iter() {
        let r = client.query_refund(no.clone(), None).unwrap();
        assert_eq!((&r.out_trade_no, r.amount.refund), (order, *amount), "{no}");
        let e = per_order.entry(order.clone()).or_default();
        e.0 += 1;
        e.1 += amount;
    }
    for o in 0..ORDERS {
        let order = format!("SOAK{o:06}");
        let (count, sum) = per_order.get(&order).copied().unwrap_or_default();
        assert_eq!(
            sandbox.refund_count(order.clone()),
            count,
            "{order}: refunds at the sandbox"
        );
        assert_eq!(
            sandbox.refunded_total(order.clone()),
            sum,
            "{order}: amount at the sandbox"
        );
    }
    let outcomes = outcomes.lock().unwrap();
    let faulted: usize = outcomes
        .iter()
        .filter(|(k, _)| k.as_str() != "ok")
        .map(|(_, v)| v)
        .sum();
    println!(
        "soak: {total_refunds} refunds reconciled, {} requests at the sandbox, {} faults injected, {faulted} calls ended in a typed error, outcomes {outcomes:?}",
        sandbox.request_count(),
        sandbox.faults_injected()
    );
    // With 20 % faults, some calls must have failed: otherwise the test proved nothing.
    assert!(faulted > 0 || total_refunds < 20);
}

fn short(e: &RefundError) -> String {
    match e {
        RefundError::Api { status, code, .. } => format!("Api {status} {code}"),
        RefundError::Transport { kind, .. } => format!("Transport {kind:?}"),
        RefundError::Signature { .. } => "Signature".into(),
        RefundError::ProbeSignature { .. } => "ProbeSignature".into(),
        RefundError::TimestampOutOfWindow { .. } => "TimestampOutOfWindow".into(),
        RefundError::UnknownSerial { .. } => "UnknownSerial".into(),
        RefundError::Decode { .. } => "Decode".into(),
        other => format!("{other:?}"),
    }
}
