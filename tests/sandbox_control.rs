//! The sandbox's control API over HTTP (issue 13): what any SDK's test suite drives, through
//! real sockets.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use serde_json::{json, Value};
use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxKeyMode, SandboxOptions};
use wechatpay_refund::*;

fn call(sb: &Sandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let t = UreqTransport::new(Default::default());
    let resp = t
        .send(HttpRequest {
            method: method.into(),
            url: format!("{}{path}", sb.base_url()),
            headers: vec![HttpHeader::new("Content-Type", "application/json")],
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            timeout_ms: None,
        })
        .unwrap();
    let v = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    (resp.status, v)
}

#[test]
fn an_sdk_can_run_the_whole_lifecycle_over_http() {
    let sb = Sandbox::start().unwrap();
    let (s, creds) = call(&sb, "GET", "/sandbox/v1/credentials", None);
    assert_eq!(s, 200);
    assert_eq!(creds["mchid"], json!(sb.credentials().mchid));
    assert!(creds["merchant_private_key_pem"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    let (s, order) = call(
        &sb,
        "POST",
        "/sandbox/v1/orders",
        Some(
            json!({"out_trade_no": "T20261124001", "total": 10000, "transaction_id": "4200000000000001"}),
        ),
    );
    assert_eq!(
        (s, order["transaction_id"].clone()),
        (201, json!("4200000000000001"))
    );
    // A client of this library stands in for "any SDK" here; the peers run in tests/peers.
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    client
        .create_refund(CreateRefundRequest::by_transaction_id(
            "4200000000000001",
            "R|*@1",
            100,
            10000,
        ))
        .unwrap();
    let (s, v) = call(
        &sb,
        "POST",
        "/sandbox/v1/refunds/R%7C%2A%401/status",
        Some(json!({"status": "SUCCESS"})),
    );
    assert_eq!((s, v["status"].clone()), (200, json!("SUCCESS")));
    let (s, n) = call(
        &sb,
        "GET",
        "/sandbox/v1/refunds/R%7C%2A%401/notification",
        None,
    );
    assert_eq!(s, 200);
    let headers = n["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let note = client
        .parse_notification(headers, n["body"].as_str().unwrap().as_bytes().to_vec())
        .unwrap();
    assert_eq!(note.out_refund_no, "R|*@1");
    assert_eq!(note.refund_status, RefundStatus::Success);
    // Faults, the request log, reset.
    let (s, _) = call(
        &sb,
        "POST",
        "/sandbox/v1/faults",
        Some(json!({"fault": "SYSTEM_ERROR", "count": 1})),
    );
    assert_eq!(s, 201);
    let o = ClientOptions {
        max_attempts: 1,
        ..Default::default()
    };
    let one_shot = RefundClient::new(Arc::new(
        common::sandbox_builder(&sb).options(o).build().unwrap(),
    ))
    .unwrap();
    let e = one_shot.query_refund("R|*@1".into(), None).unwrap_err();
    assert!(matches!(e, RefundError::Api { status: 500, .. }), "{e:?}");
    let (_, log) = call(&sb, "GET", "/sandbox/v1/requests", None);
    let log = log["requests"].as_array().unwrap().clone();
    assert!(log
        .iter()
        .all(|r| !r["url"].as_str().unwrap().starts_with("/sandbox/")));
    assert_eq!(log.last().unwrap()["status"], json!(500));
    assert_eq!(call(&sb, "DELETE", "/sandbox/v1/faults", None).0, 200);
    assert_eq!(call(&sb, "POST", "/sandbox/v1/reset", None).0, 200);
    assert!(sb.requests().is_empty());
    let e = client.query_refund("R|*@1".into(), None).unwrap_err();
    assert!(matches!(e, RefundError::Api { status: 404, .. }), "{e:?}");
}

#[test]
fn rotations_over_http() {
    let sb = Sandbox::start_with(SandboxOptions {
        mode: Some(SandboxKeyMode::Certificate),
        ..Default::default()
    })
    .unwrap();
    let old = sb.credentials().platform_certificate_serial_no.unwrap();
    let (s, v) = call(
        &sb,
        "POST",
        "/sandbox/v1/platform-certificates/rotate",
        None,
    );
    assert_eq!(s, 201);
    let new = v["serial_no"].as_str().unwrap().to_string();
    assert_eq!(
        sb.credentials().platform_certificate_serial_no,
        Some(new.clone())
    );
    let path = format!("/sandbox/v1/platform-certificates/{old}/expire");
    assert_eq!(call(&sb, "POST", &path, None).0, 200);
    let path = format!("/sandbox/v1/platform-certificates/{new}/expire");
    assert_eq!(call(&sb, "POST", &path, None).0, 400); // the current one: rotate first
                                                       // Public keys do not exist in certificate mode.
    assert_eq!(
        call(&sb, "POST", "/sandbox/v1/public-keys/rotate", None).0,
        400
    );
}

#[test]
fn bad_control_input_is_a_400_and_the_paths_never_mix() {
    let sb = Sandbox::start().unwrap();
    for (method, path, body, want) in [
        ("POST", "/sandbox/v1/orders", Some(json!([1])), 400),
        (
            "POST",
            "/sandbox/v1/orders",
            Some(json!({"out_trade_no": "T1"})),
            400,
        ),
        (
            "POST",
            "/sandbox/v1/orders",
            Some(json!({"out_trade_no": "T 1", "total": 1})),
            400,
        ),
        (
            "POST",
            "/sandbox/v1/orders",
            Some(json!({"out_trade_no": "T12345", "total": 0})),
            400,
        ),
        (
            "POST",
            "/sandbox/v1/refunds/R404/status",
            Some(json!({"status": "SUCCESS"})),
            404,
        ),
        (
            "POST",
            "/sandbox/v1/refunds/R404/status",
            Some(json!({"status": "PROCESSING"})),
            400,
        ),
        ("GET", "/sandbox/v1/refunds/R404/notification", None, 404),
        (
            "POST",
            "/sandbox/v1/faults",
            Some(json!({"fault": "METEOR"})),
            400,
        ),
        (
            "POST",
            "/sandbox/v1/faults",
            Some(json!({"fault": "DELAY", "count": 0})),
            400,
        ),
        ("GET", "/sandbox/v1/nothing-here", None, 404),
        (
            "POST",
            "/sandbox/v1/public-keys/PUB_KEY_ID_0000/expire",
            None,
            400,
        ),
    ] {
        let (s, v) = call(&sb, method, path, body.clone());
        assert_eq!(s, want, "{method} {path} {body:?}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    // Unsigned calls to WeChat Pay's paths are refused as WeChat Pay refuses them.
    let (s, v) = call(&sb, "POST", "/v3/refund/domestic/refunds", Some(json!({})));
    assert_eq!(s, 400, "{v}"); // no User-Agent in this raw call; with one it would be 401
                               // A control path under the WeChat Pay prefix does not exist.
    let (s, _) = call(&sb, "GET", "/v3/sandbox/v1/credentials", None);
    assert_ne!(s, 200);
}
