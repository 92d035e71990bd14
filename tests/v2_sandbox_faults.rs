//! The v2 sandbox's faults and refusals through real sockets (issue 21 item 2, issue 25 item
//! 10): faults answered in the request's sign type, a real tampered answer, v3-only faults
//! left for v3, business refusals injected over the HTTP control API, the request checks
//! WeChat Pay makes; and what the v2 client makes of them (retry_after_ms, notifications).
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::v2::request::{refund_params, signed_request, REFUND_PATH};
use wechatpay_refund::v2::*;
use wechatpay_refund::{
    ClientOptions, CreateRefundRequest, HttpHeader, HttpRequest, HttpTransport, RefundClient,
    RefundError, TransportOptions, UreqTransport,
};

fn code(e: &RefundError) -> Option<&str> {
    match e {
        RefundError::V2Api { err_code, .. } => err_code.as_deref(),
        _ => None,
    }
}

/// A v2 client of the sandbox signing with `sign_type`.
fn client_with(sb: &Sandbox, sign_type: V2SignType, max_attempts: u32) -> Arc<V2RefundClient> {
    let c = sb.v2_credentials().unwrap();
    let config = V2Config::builder(c.appid, c.mch_id, c.api_key)
        .client_certificate_pem(c.client_cert_pem, c.client_key_pem)
        .base_url(c.base_url)
        .sign_type(sign_type)
        .options(ClientOptions {
            max_attempts,
            initial_backoff_ms: 10,
            max_backoff_ms: 50,
            trust_roots_pem: vec![c.ca_pem],
            ..Default::default()
        })
        .build()
        .unwrap();
    V2RefundClient::new(Arc::new(config)).unwrap()
}

fn control(sb: &Sandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let resp = UreqTransport::new(Default::default())
        .send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", sb.base_url()),
            headers: vec![HttpHeader::new("Content-Type", "application/json")],
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            timeout_ms: None,
        })
        .unwrap();
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

#[test]
fn faults_are_answered_in_the_sign_type_of_the_request_and_retried() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-HMAC".into(), 1000).unwrap();
    for st in [V2SignType::HmacSha256, V2SignType::Md5] {
        // Reported as what it is, not as a false Signature error.
        let once = client_with(&sb, st, 1);
        sb.inject_fault(SandboxFault::SystemError, 1);
        let e = once
            .refund(V2RefundRequest::by_out_trade_no("T-HMAC", "R-H0", 1, 1000))
            .unwrap_err();
        assert_eq!(code(&e), Some("SYSTEMERROR"), "{st:?}: {e:?}");
        assert!(e.is_retryable() && e.retry_after_ms().is_none());
        sb.inject_fault(SandboxFault::FrequencyLimited, 1);
        let e = once
            .refund(V2RefundRequest::by_out_trade_no("T-HMAC", "R-H0", 1, 1000))
            .unwrap_err();
        assert_eq!(code(&e), Some("FREQUENCY_LIMITED"), "{st:?}: {e:?}");
        assert_eq!(e.retry_after_ms(), Some(1000));
    }
    // And retried by the client: SYSTEMERROR at once, FREQUENCY_LIMITED after its second.
    let hmac = client_with(&sb, V2SignType::HmacSha256, 3);
    let (faults, requests) = (sb.faults_injected(), sb.request_count());
    sb.inject_fault(SandboxFault::SystemError, 1);
    let r = hmac
        .refund(V2RefundRequest::by_out_trade_no("T-HMAC", "R-H1", 1, 1000))
        .unwrap();
    assert_eq!(r.out_refund_no, "R-H1");
    assert_eq!(sb.faults_injected() - faults, 1);
    assert_eq!(sb.request_count() - requests, 2);
    sb.inject_fault(SandboxFault::FrequencyLimited, 1);
    let started = Instant::now();
    hmac.refund(V2RefundRequest::by_out_trade_no("T-HMAC", "R-H2", 1, 1000))
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(sb.refund_count("T-HMAC".into()), 2);
}

#[test]
fn a_tampered_answer_is_a_signature_error_and_the_refund_exists() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-TAMPER".into(), 1000).unwrap();
    for st in [V2SignType::Md5, V2SignType::HmacSha256] {
        let no = format!("R-T-{}", st.as_str());
        let c = client_with(&sb, st, 3);
        sb.inject_fault(SandboxFault::TamperedBody, 1);
        let before = sb.faults_injected();
        let e = c
            .refund(V2RefundRequest::by_out_trade_no("T-TAMPER", &no, 7, 1000))
            .unwrap_err();
        assert!(matches!(e, RefundError::Signature { .. }), "{e:?}");
        assert!(e.is_outcome_unknown());
        assert_eq!(sb.faults_injected() - before, 1);
        // Processed before the answer was changed: the same request again is the same refund.
        let r = c
            .refund(V2RefundRequest::by_out_trade_no("T-TAMPER", &no, 7, 1000))
            .unwrap();
        assert_eq!(r.refund_fee, 7);
    }
    assert_eq!(sb.refunded_total("T-TAMPER".into()), 14);
}

#[test]
fn v3_only_faults_are_left_for_v3_and_not_counted_by_v2() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-V3F".into(), 1000).unwrap();
    let v2 = client_with(&sb, V2SignType::Md5, 1);
    for f in [
        SandboxFault::StaleTimestamp,
        SandboxFault::UnknownSerial,
        SandboxFault::ProbeSignature,
    ] {
        sb.inject_fault(f, 1);
    }
    sb.inject_fault(SandboxFault::SystemError, 1);
    // v2 skips the three and takes the SYSTEMERROR behind them.
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no("T-V3F", "R-V2", 1, 1000))
        .unwrap_err();
    assert_eq!(code(&e), Some("SYSTEMERROR"));
    assert_eq!(sb.faults_injected(), 1);
    v2.refund(V2RefundRequest::by_out_trade_no("T-V3F", "R-V2", 1, 1000))
        .unwrap();
    assert_eq!(sb.faults_injected(), 1, "nothing v2 can use is counted");
    // The first v3 request gets the stale timestamp.
    let v3 = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let e = v3
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-V3F", "R-V3", 1, 1000,
        ))
        .unwrap_err();
    assert!(
        matches!(e, RefundError::TimestampOutOfWindow { .. }),
        "{e:?}"
    );
    assert_eq!(sb.faults_injected(), 2);
}

#[test]
fn v2_refusals_are_injectable_over_the_control_api_in_the_request_sign_type() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-CTRL".into(), 1000).unwrap();
    let hmac = client_with(&sb, V2SignType::HmacSha256, 3);
    let req = || V2RefundRequest::by_out_trade_no("T-CTRL", "R-CTRL", 1, 1000);
    for (err_code, retryable, wait) in [
        ("NOTENOUGH", false, None),
        ("TRADE_OVERDUE", false, None),
        ("USER_ACCOUNT_ABNORMAL", false, None),
        ("NOAUTH", false, None),
        ("SIGNERROR", false, None),
        ("INVALID_REQ_TOO_MUCH", true, Some(60_000)),
    ] {
        let (s, v) = control(
            &sb,
            "POST",
            "/sandbox/v1/v2/errors",
            Some(json!({"err_code": err_code})),
        );
        assert_eq!((s, v["injected"].clone()), (201, json!(1)), "{v}");
        let before = sb.request_count();
        let e = hmac.refund(req()).unwrap_err();
        assert_eq!(code(&e), Some(err_code), "{e:?}");
        assert_eq!(e.is_retryable(), retryable, "{err_code}");
        assert_eq!(e.retry_after_ms(), wait, "{err_code}");
        // Not retried: final, or a wait longer than the deadline.
        assert_eq!(sb.request_count() - before, 1, "{err_code}");
    }
    // Retried with identical bytes until the queue is empty.
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/v2/errors",
        Some(json!({"err_code": "BIZERR_NEED_RETRY", "count": 2})),
    );
    assert_eq!(s, 201);
    let before = sb.request_count();
    hmac.refund(req()).unwrap();
    assert_eq!(sb.request_count() - before, 3);
    // Unknown codes and counts are refused; DELETE empties the queue.
    let (s, v) = control(
        &sb,
        "POST",
        "/sandbox/v1/v2/errors",
        Some(json!({"err_code": "NOT_ENOUGH"})),
    );
    assert_eq!(s, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("NOTENOUGH"));
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/v2/errors",
        Some(json!({"err_code": "NOTENOUGH", "count": 0})),
    );
    assert_eq!(s, 400);
    control(
        &sb,
        "POST",
        "/sandbox/v1/v2/errors",
        Some(json!({"err_code": "NOTENOUGH", "count": 5})),
    );
    let (s, _) = control(&sb, "DELETE", "/sandbox/v1/v2/errors", None);
    assert_eq!(s, 200);
    hmac.refund(req()).unwrap();
}

#[test]
fn the_sandbox_checks_refund_desc_and_refund_account() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-CHK".into(), 1000).unwrap();
    let c = sb.v2_config().unwrap();
    let raw = UreqTransport::with_identity(
        TransportOptions::default(),
        &c.options.trust_roots_pem,
        c.identity.as_deref(),
    )
    .unwrap();
    let send = |field: &str, value: &str| {
        let req = V2RefundRequest::by_out_trade_no("T-CHK", "R-CHK", 1, 1000);
        let mut p = refund_params(&c, &req, "N1").unwrap();
        p.insert(field.into(), value.into());
        let resp = raw.send(signed_request(&c, REFUND_PATH, p)).unwrap();
        wechatpay_refund::v2::response::parse_refund_response(&c, &resp)
    };
    // 27 three-byte characters: 81 bytes.
    let e = send("refund_desc", &"退".repeat(27)).unwrap_err();
    assert_eq!(code(&e), Some("PARAM_ERROR"), "{e:?}");
    let e = send("refund_account", "REFUND_SOURCE_OTHER").unwrap_err();
    assert_eq!(code(&e), Some("PARAM_ERROR"), "{e:?}");
    assert_eq!(sb.refund_count("T-CHK".into()), 0);
    // The limits themselves pass: 80 bytes, both accounts.
    send("refund_desc", &format!("{}ab", "退".repeat(26))).unwrap();
    assert_eq!(sb.refund_count("T-CHK".into()), 1);
    let req = V2RefundRequest::by_out_trade_no("T-CHK", "R-CHK2", 1, 1000);
    let mut p = refund_params(&c, &req, "N2").unwrap();
    p.insert(
        "refund_account".into(),
        "REFUND_SOURCE_RECHARGE_FUNDS".into(),
    );
    let resp = raw.send(signed_request(&c, REFUND_PATH, p)).unwrap();
    wechatpay_refund::v2::response::parse_refund_response(&c, &resp).unwrap();
}

#[test]
fn notifications_carry_a_stable_key_and_the_outer_ids_are_checked() {
    use wechatpay_refund::v2::notify::encrypt_req_info;
    use wechatpay_refund::{CryptoBackend, RefundStatus};
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-KEY".into(), 1000).unwrap();
    let v2 = client_with(&sb, V2SignType::Md5, 1);
    let r = v2
        .refund(V2RefundRequest::by_out_trade_no("T-KEY", "R-KEY", 3, 1000))
        .unwrap();
    sb.set_refund_status("R-KEY".into(), RefundStatus::Success)
        .unwrap();
    let first = v2
        .parse_refund_notification(sb.v2_notification("R-KEY".into()).unwrap())
        .unwrap();
    let again = v2
        .parse_refund_notification(sb.v2_notification("R-KEY".into()).unwrap())
        .unwrap();
    assert_eq!(
        first.notification_key,
        format!("v2:{}:SUCCESS", r.refund_id)
    );
    assert_eq!(first.notification_key, again.notification_key);
    assert_eq!(
        (first.sub_mch_id.clone(), first.sub_appid.clone()),
        (None, None)
    );

    // The outer appid must be this merchant's, like mch_id; sub ids are exposed.
    let c = sb.v2_credentials().unwrap();
    let plain = format!(
        "<root><transaction_id>{}</transaction_id><out_trade_no>T-KEY</out_trade_no><refund_id>{}</refund_id><out_refund_no>R-KEY</out_refund_no><total_fee>1000</total_fee><refund_fee>3</refund_fee><refund_status>SUCCESS</refund_status></root>",
        r.transaction_id, r.refund_id
    );
    let req_info = encrypt_req_info(CryptoBackend::default(), &c.api_key, plain.as_bytes());
    let outer = |appid: &str, sub: &[(&str, &str)]| {
        let mut f = vec![
            ("return_code", "SUCCESS"),
            ("appid", appid),
            ("mch_id", c.mch_id.as_str()),
            ("nonce_str", "abc"),
            ("req_info", req_info.as_str()),
        ];
        f.extend_from_slice(sub);
        xml::write(&f, true)
    };
    let e = v2
        .parse_refund_notification(outer("wx0000000000000000", &[]))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::NotificationMismatch { field, .. } if field == "appid"),
        "{e:?}"
    );
    let n = v2
        .parse_refund_notification(outer(
            &c.appid,
            &[
                ("sub_mch_id", "1900000109"),
                ("sub_appid", "wx1111111111111111"),
            ],
        ))
        .unwrap();
    assert_eq!(n.sub_mch_id.as_deref(), Some("1900000109"));
    assert_eq!(n.sub_appid.as_deref(), Some("wx1111111111111111"));
    assert_eq!(n.notification_key, first.notification_key);
}
