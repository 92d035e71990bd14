//! `retry_after_ms` drives the v3 client's own backoff (issue 21 item 4): at least the wait
//! WeChat Pay asks for, never past the call's deadline; through the sandbox's real sockets
//! and through a transport that answers with a `Retry-After` header.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::*;

#[test]
fn a_429_from_the_sandbox_is_retried_after_its_second_within_the_deadline() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-RA".into(), 1000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    sb.inject_fault(SandboxFault::FrequencyLimited, 1);
    let started = Instant::now();
    let r = client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-RA", "R-RA1", 1, 1000,
        ))
        .unwrap();
    assert_eq!(r.out_refund_no, "R-RA1");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );

    // A deadline shorter than the wait: the 429 comes back at once, with the wait.
    let config = common::sandbox_builder(&sb)
        .options(ClientOptions {
            deadline_ms: 800,
            initial_backoff_ms: 20,
            max_backoff_ms: 200,
            trust_roots_pem: sb.credentials().tls_ca_pem.into_iter().collect(),
            ..Default::default()
        })
        .build()
        .unwrap();
    let short = RefundClient::new(Arc::new(config)).unwrap();
    sb.inject_fault(SandboxFault::FrequencyLimited, 1);
    let (before, started) = (sb.request_count(), Instant::now());
    let e = short
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-RA", "R-RA2", 1, 1000,
        ))
        .unwrap_err();
    assert!(
        matches!(
            e,
            RefundError::Api {
                status: 429,
                retryable: true,
                retry_after_ms: Some(1000),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(sb.request_count() - before, 1);
    assert!(started.elapsed() < Duration::from_millis(800));
}

/// A 429 with `Retry-After: 2`, then the signed answer.
struct Limited {
    answers: Mutex<Vec<HttpResponse>>,
    sent: Mutex<Vec<Instant>>,
}

impl HttpTransport for Limited {
    fn send(&self, _r: HttpRequest) -> Result<HttpResponse> {
        self.sent.lock().unwrap().push(Instant::now());
        Ok(self.answers.lock().unwrap().remove(0))
    }
}

#[test]
fn a_retry_after_header_sets_the_wait() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ok = br#"{"refund_id":"50000000382019052709732678859","out_refund_no":"R1","transaction_id":"4200000000000000000000000000","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"x","create_time":"2026-11-24T10:00:00+08:00","status":"PROCESSING","funds_account":"AVAILABLE","amount":{"total":100,"refund":1,"payer_total":100,"payer_refund":1,"settlement_refund":1,"settlement_total":100,"discount_refund":0,"currency":"CNY"}}"#;
    let mut limited = HttpResponse {
        status: 429,
        headers: vec![HttpHeader::new("Retry-After", "2")],
        body: br#"{"code":"FREQUENCY_LIMITED","message":"slow down"}"#.to_vec(),
    };
    limited
        .headers
        .push(HttpHeader::new("Request-ID", "RID-429"));
    let t = Arc::new(Limited {
        answers: Mutex::new(vec![limited, common::signed(200, ok, now)]),
        sent: Mutex::new(Vec::new()),
    });
    let client = RefundClient::with_transport(common::config(), t.clone());
    let r = client.query_refund("R1".into(), None).unwrap();
    assert_eq!(r.out_refund_no, "R1");
    let sent = t.sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1] - sent[0] >= Duration::from_millis(2000),
        "{:?}",
        sent[1] - sent[0]
    );
}
