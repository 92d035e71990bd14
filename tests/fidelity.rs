//! Fidelity fixes of the core review (issue 10): required amounts, unknown enum values kept,
//! signed error answers, the deadline, service-provider mode, escaped error text.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::*;

const NOW: i64 = 1_795_000_000;

fn full_refund_body() -> serde_json::Value {
    serde_json::json!({
        "refund_id": "50000000382019052709732678859", "out_refund_no": "R1",
        "transaction_id": "4200002654202611184718563921", "out_trade_no": "T1",
        "channel": "ORIGINAL", "user_received_account": "招商银行信用卡0403",
        "create_time": "2026-11-18T19:06:28+08:00", "status": "PROCESSING",
        "funds_account": "AVAILABLE",
        "amount": {"total": 10000, "refund": 100, "payer_total": 9000, "payer_refund": 90,
                   "settlement_refund": 100, "settlement_total": 10000, "discount_refund": 10,
                   "currency": "CNY"}
    })
}

fn parse(body: &serde_json::Value) -> Result<Refund> {
    let body = body.to_string().into_bytes();
    parse_refund_response(common::config(), common::signed(200, &body, NOW), NOW)
}

#[test]
fn required_fields_are_required() {
    parse(&full_refund_body()).unwrap();
    for path in [
        "/amount/payer_total",
        "/amount/payer_refund",
        "/amount/settlement_refund",
        "/amount/settlement_total",
        "/amount/discount_refund",
        "/amount/currency",
        "/amount/total",
        "/channel",
        "/funds_account",
        "/transaction_id",
        "/create_time",
    ] {
        let mut b = full_refund_body();
        let (parent, field) = path.rsplit_once('/').unwrap();
        let obj = if parent.is_empty() {
            &mut b
        } else {
            b.pointer_mut(parent).unwrap()
        };
        obj.as_object_mut().unwrap().remove(field);
        match parse(&b) {
            Err(RefundError::Decode { reason, .. }) => {
                assert!(reason.contains(&format!("`{field}`")), "{path}: {reason}")
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    // Optional ones stay optional.
    let mut b = full_refund_body();
    b["amount"]["refund_fee"] = 3.into();
    assert_eq!(parse(&b).unwrap().amount.refund_fee, Some(3));
}

#[test]
fn unknown_values_keep_their_raw_string() {
    let mut b = full_refund_body();
    b["status"] = "REFUNDING_TO_MARS".into();
    b["promotion_detail"] = serde_json::json!([{"type": "COUPON", "amount": 1}, {"type": "DISCOUNT", "amount": 1}, {"type": "VOUCHER", "amount": 1}]);
    let r = parse(&b).unwrap();
    assert_eq!(r.status, RefundStatus::Unknown("REFUNDING_TO_MARS".into()));
    assert_eq!(r.status.as_str(), "REFUNDING_TO_MARS");
    assert!(!r.status.is_known());
    let types: Vec<_> = r
        .promotion_detail
        .iter()
        .map(|p| p.promotion_type.clone().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            PromotionType::Coupon,
            PromotionType::Discount,
            PromotionType::Unknown("VOUCHER".into())
        ]
    );
    assert_eq!(RefundStatus::from_wire("SUCCESS"), RefundStatus::Success);
    assert_eq!(
        NotificationEventType::RefundSuccess.to_string(),
        "REFUND.SUCCESS"
    );
}

/// Below the transport seam: answers every request with one fixed response.
struct Fixed(HttpResponse);

impl HttpTransport for Fixed {
    fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
        Ok(self.0.clone())
    }
}

struct Skewed(i64);

impl Clock for Skewed {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

#[test]
fn a_signed_error_answer_is_the_business_error_whatever_the_clock_or_serial() {
    let body = br#"{"code":"NOT_ENOUGH","message":"\u4f59\u989d\u4e0d\u8db3"}"#;
    let client = |resp: HttpResponse, now: i64| {
        RefundClient::with_parts(
            common::config(),
            Arc::new(Fixed(resp)),
            Arc::new(Skewed(now)),
        )
    };
    let expect_api = |e: RefundError| match e {
        RefundError::Api { status, code, .. } => {
            assert_eq!((status, code.as_str()), (403, "NOT_ENOUGH"))
        }
        other => panic!("{other:?}"),
    };
    // A clock 20 minutes off.
    let e = client(common::signed(403, body, NOW), NOW + 1200)
        .query_refund("R1".into(), None)
        .unwrap_err();
    expect_api(e);
    // A serial this client does not hold yet.
    let mut resp = common::signed(403, body, NOW);
    for h in &mut resp.headers {
        if h.name == "Wechatpay-Serial" {
            h.value = "PUB_KEY_ID_0119999999999999999999999999".into();
        }
    }
    expect_api(
        client(resp, NOW)
            .query_refund("R1".into(), None)
            .unwrap_err(),
    );
    // But a signature that does not match: the code cannot be believed.
    let mut resp = common::signed(403, body, NOW);
    resp.body = br#"{"code":"PARAM_ERROR","message":"x"}"#.to_vec();
    let e = client(resp, NOW)
        .query_refund("R1".into(), None)
        .unwrap_err();
    assert!(matches!(e, RefundError::Signature { .. }), "{e:?}");
}

#[test]
fn error_text_cannot_forge_log_lines() {
    let resp = HttpResponse {
        status: 502,
        headers: vec![],
        body: b"bad gateway\n2026-11-24 INFO refund R1 succeeded\r\x1b[2J".to_vec(),
    };
    let o = ClientOptions {
        max_attempts: 1,
        ..Default::default()
    };
    let config = Arc::new(common::builder().options(o).build().unwrap());
    let client = RefundClient::with_transport(config, Arc::new(Fixed(resp)));
    let e = client.query_refund("R1".into(), None).unwrap_err();
    let text = e.to_string();
    assert!(
        !text.contains('\n') && !text.contains('\r') && !text.contains('\x1b'),
        "{text}"
    );
    assert!(text.contains("bad gateway\\n2026"), "{text}");
    let json = br#"{"code":"X\nY","message":"a\nb","detail":{"field":"f\r","issue":"i\n"}}"#;
    let resp = common::signed(400, json, NOW);
    let client = RefundClient::with_parts(
        common::config(),
        Arc::new(Fixed(resp)),
        Arc::new(Skewed(NOW)),
    );
    let text = client
        .query_refund("R1".into(), None)
        .unwrap_err()
        .to_string();
    assert!(!text.contains('\n') && !text.contains('\r'), "{text}");
}

#[test]
fn the_deadline_bounds_the_whole_call() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let o = ClientOptions {
        deadline_ms: 400,
        read_timeout_ms: 10_000,
        max_attempts: 5,
        ..Default::default()
    };
    let config = Arc::new(common::sandbox_builder(&sb).options(o).build().unwrap());
    let client = RefundClient::new(config).unwrap();
    // The sandbox holds the answer for 3 s; the read timeout alone would wait 10 s.
    sb.inject_fault(SandboxFault::Delay { millis: 3000 }, 1);
    let e = client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T20261124001",
            "R-deadline",
            1,
            10_000,
        ))
        .unwrap_err();
    match &e {
        RefundError::Transport {
            kind, retryable, ..
        } => {
            assert_eq!(*kind, TransportErrorKind::DeadlineExceeded);
            assert!(*retryable);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_outcome_unknown());
    // One attempt only: the deadline left no time for another.
    assert_eq!(sb.request_count(), 1);
}

#[test]
fn service_provider_mode_requires_sub_mchid_before_sending() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let config = Arc::new(
        common::sandbox_builder(&sb)
            .service_provider(true)
            .build()
            .unwrap(),
    );
    let client = RefundClient::new(config).unwrap();
    let mut req = CreateRefundRequest::by_out_trade_no("T20261124001", "R-sp", 1, 10_000);
    let e = client.create_refund(req.clone()).unwrap_err();
    assert!(
        matches!(&e, RefundError::InvalidInput { field, .. } if field == "sub_mchid"),
        "{e:?}"
    );
    let e = client.query_refund("R-sp".into(), None).unwrap_err();
    assert!(matches!(&e, RefundError::InvalidInput { field, .. } if field == "sub_mchid"));
    let e = client
        .apply_abnormal_refund(AbnormalRefundRequest::to_merchant_bank_card("1", "R-sp"))
        .unwrap_err();
    assert!(matches!(&e, RefundError::InvalidInput { field, .. } if field == "sub_mchid"));
    assert_eq!(sb.request_count(), 0);
    req.sub_mchid = Some("1900000109".into());
    client.create_refund(req).unwrap();
    client
        .query_refund("R-sp".into(), Some("1900000109".into()))
        .unwrap();
    // The notification carries sp_mchid + sub_mchid and is checked against the configuration.
    sb.set_refund_status("R-sp".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-sp".into()).unwrap();
    let note = client.parse_notification(n.headers, n.body).unwrap();
    assert_eq!(note.sp_mchid, Some(sb.credentials().mchid));
    assert_eq!(note.sub_mchid.as_deref(), Some("1900000109"));
}
