//! Issue 25: the sandbox refuses what WeChat Pay refuses, through real sockets. Where this
//! library's client would refuse a request before sending it, the request is built, signed and
//! sent raw (as a peer SDK that validates nothing would), so the sandbox's own answer is what is
//! checked.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wechatpay_refund::crypto::{RsaPrivateKey, RsaPublicKey};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault, SandboxOptions, SandboxRefusal};
use wechatpay_refund::sign::{generate_nonce, sign_request};
use wechatpay_refund::*;

const BASE: &str = "/v3/refund/domestic/refunds";

/// An answer of the sandbox: status, JSON body, headers.
struct Answer {
    status: u16,
    body: Value,
    headers: Vec<HttpHeader>,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
    fn field(&self) -> &str {
        self.body["detail"]["field"].as_str().unwrap_or_default()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A request signed with the sandbox's merchant key, as any SDK would send it.
fn signed(
    sb: &Sandbox,
    method: &str,
    path: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> HttpRequest {
    let c = sb.credentials();
    let key = RsaPrivateKey::from_pem(&c.merchant_private_key_pem).unwrap();
    let auth = sign_request(
        &LocalSigner::new(key),
        &c.mchid,
        &c.merchant_serial_no,
        method,
        path,
        now(),
        &generate_nonce(),
        body,
    )
    .unwrap();
    let mut headers = vec![
        HttpHeader::new("Authorization", auth),
        HttpHeader::new("Accept", "application/json"),
        HttpHeader::new("Content-Type", "application/json"),
        HttpHeader::new("User-Agent", "peer-sdk/1.0"),
    ];
    headers.extend(extra.iter().map(|(k, v)| HttpHeader::new(*k, *v)));
    HttpRequest {
        method: method.into(),
        url: format!("{}{path}", sb.base_url()),
        headers,
        body: body.to_vec(),
        timeout_ms: None,
    }
}

fn send(t: &UreqTransport, req: HttpRequest) -> Answer {
    let resp = t.send(req).unwrap();
    Answer {
        status: resp.status,
        body: serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
        headers: resp.headers,
    }
}

fn raw(sb: &Sandbox, method: &str, path: &str, body: Option<&Value>) -> Answer {
    raw_with(sb, method, path, body, &[])
}

fn raw_with(
    sb: &Sandbox,
    method: &str,
    path: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Answer {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send(
        &UreqTransport::new(Default::default()),
        signed(sb, method, path, &body, extra),
    )
}

fn refund_body(order: &str, no: &str, refund: i64, total: i64) -> Value {
    json!({"out_trade_no": order, "out_refund_no": no,
           "amount": {"refund": refund, "total": total, "currency": "CNY"}})
}

fn apply(sb: &Sandbox, body: &Value) -> Answer {
    raw(sb, "POST", BASE, Some(body))
}

fn query(sb: &Sandbox, no: &str, sub_mchid: Option<&str>) -> Answer {
    let path = match sub_mchid {
        Some(s) => format!("{BASE}/{no}?sub_mchid={s}"),
        None => format!("{BASE}/{no}"),
    };
    raw(sb, "GET", &path, None)
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

// --- 1. Business refusals on demand ---------------------------------------------------------

#[test]
fn every_refusal_can_be_injected_over_the_control_api() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000001".into(), 10_000).unwrap();
    let cases = [
        ("NOT_ENOUGH", 403),
        ("USER_ACCOUNT_ABNORMAL", 403),
        ("NO_AUTH", 403),
        ("MCH_NOT_EXISTS", 404),
        ("RESOURCE_NOT_EXISTS", 404),
        ("PARAM_ERROR", 400),
        ("INVALID_REQUEST", 400),
        ("SIGN_ERROR", 401),
        ("FREQUENCY_LIMITED", 429),
        ("SYSTEM_ERROR", 500),
    ];
    for (i, (code, status)) in cases.into_iter().enumerate() {
        let (s, _) = control(
            &sb,
            "POST",
            "/sandbox/v1/faults",
            Some(json!({"fault": code, "count": 1})),
        );
        assert_eq!(s, 201, "{code}");
        let no = format!("R-{i}");
        let a = apply(&sb, &refund_body("T25000001", &no, 1, 10_000));
        assert_eq!((a.status, a.code()), (status, code));
        // Signed like every answer of WeChat Pay's.
        assert!(a.header("Wechatpay-Signature").is_some(), "{code}");
        // Refused without processing: nothing was refunded; the next request is served.
        assert_eq!(query(&sb, &no, None).status, 404, "{code}");
    }
    assert_eq!(sb.refunded_total("T25000001".into()), 0);
    // Unknown names are refused with the list of what exists.
    let (s, v) = control(
        &sb,
        "POST",
        "/sandbox/v1/faults",
        Some(json!({"fault": "NOTENOUGH"})),
    );
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("NOT_ENOUGH"), "{v}");
    // after_processing is for WeChat Pay's errors only.
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/faults",
        Some(json!({"fault": "DELAY", "after_processing": true})),
    );
    assert_eq!(s, 400);
}

#[test]
fn a_500_after_processing_hides_an_accepted_refund() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000002".into(), 1_000).unwrap();
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/faults",
        Some(json!({"fault": "SYSTEM_ERROR", "after_processing": true})),
    );
    assert_eq!(s, 201);
    let body = refund_body("T25000002", "R-500", 600, 1_000);
    let a = apply(&sb, &body);
    assert_eq!((a.status, a.code()), (500, "SYSTEM_ERROR"));
    // The refund exists all the same.
    let q = query(&sb, "R-500", None);
    assert_eq!(
        (q.status, q.body["amount"]["refund"].clone()),
        (200, json!(600))
    );
    // Retrying under the same number is safe: the same refund, once.
    let again = apply(&sb, &body);
    assert_eq!(again.status, 200);
    assert_eq!(again.body["refund_id"], q.body["refund_id"]);
    assert_eq!(sb.refunded_total("T25000002".into()), 600);
    // A merchant who retries under a NEW number refunds twice — or is stopped by the order's
    // refundable amount, as here.
    let other = apply(&sb, &refund_body("T25000002", "R-500-new", 600, 1_000));
    assert_eq!((other.status, other.code()), (400, "INVALID_REQUEST"));
}

#[test]
fn refusals_from_the_rust_api_reach_the_client_as_typed_errors() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000003".into(), 1_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    for refusal in [
        SandboxRefusal::NotEnough,
        SandboxRefusal::UserAccountAbnormal,
        SandboxRefusal::NoAuth,
        SandboxRefusal::MchNotExists,
    ] {
        sb.inject_fault(
            SandboxFault::Refusal {
                refusal,
                after_processing: false,
            },
            1,
        );
        match client.create_refund(CreateRefundRequest::by_out_trade_no(
            "T25000003",
            "R1",
            10,
            1_000,
        )) {
            Err(RefundError::Api {
                status,
                code,
                retryable: false,
                ..
            }) => assert_eq!((status, code.as_str()), (refusal.status(), refusal.code())),
            other => panic!("{refusal:?}: {other:?}"),
        }
    }
    // USER_ACCOUNT_ABNORMAL after processing: the refund exists, the answer is the error.
    sb.inject_fault(
        SandboxFault::Refusal {
            refusal: SandboxRefusal::UserAccountAbnormal,
            after_processing: true,
        },
        1,
    );
    assert!(client
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T25000003",
            "R2",
            10,
            1_000
        ))
        .is_err());
    assert_eq!(
        client
            .query_refund("R2".into(), None)
            .unwrap()
            .amount
            .refund,
        10
    );
    // A refusal answers only a correctly signed request: a bad signature is still a 401.
    sb.inject_fault(
        SandboxFault::Refusal {
            refusal: SandboxRefusal::NotEnough,
            after_processing: false,
        },
        1,
    );
    let mut req = signed(&sb, "GET", &format!("{BASE}/R2"), b"", &[]);
    req.url.push_str("?x=1");
    let a = send(&UreqTransport::new(Default::default()), req);
    assert_eq!((a.status, a.code()), (401, "SIGN_ERROR"));
}

// --- 2. Field rules ---------------------------------------------------------------------------

#[test]
fn each_field_rule_is_a_400_naming_the_field() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000004".into(), 10_000).unwrap();
    type Mutate = fn(&mut Value);
    let cases: Vec<(&str, Mutate, &str)> = vec![
        (
            "space in out_refund_no",
            |v| v["out_refund_no"] = json!("R 1"),
            "out_refund_no",
        ),
        (
            "# in out_refund_no",
            |v| v["out_refund_no"] = json!("R#1"),
            "out_refund_no",
        ),
        (
            "65-byte out_refund_no",
            |v| v["out_refund_no"] = json!("R".repeat(65)),
            "out_refund_no",
        ),
        (
            "81-byte reason",
            |v| v["reason"] = json!(format!("{}abc", "退".repeat(26))),
            "reason",
        ),
        ("emoji in reason", |v| v["reason"] = json!("退款😀"), "body"),
        (
            "http notify_url",
            |v| v["notify_url"] = json!("http://merchant.example.com/n"),
            "notify_url",
        ),
        (
            "notify_url with a query",
            |v| v["notify_url"] = json!("https://merchant.example.com/n?id=1"),
            "notify_url",
        ),
        (
            "ftp notify_url",
            |v| v["notify_url"] = json!("ftp://merchant.example.com/n"),
            "notify_url",
        ),
        (
            "funds_account BASIC",
            |v| v["funds_account"] = json!("BASIC"),
            "funds_account",
        ),
        (
            "funds_account lower case",
            |v| v["funds_account"] = json!("available"),
            "funds_account",
        ),
        (
            "from: unknown account",
            |v| v["amount"]["from"] = json!([{"account": "BASIC", "amount": 100}]),
            "amount.from[0].account",
        ),
        (
            "from: repeated account",
            |v| v["amount"]["from"] = json!([{"account": "AVAILABLE", "amount": 50}, {"account": "AVAILABLE", "amount": 50}]),
            "amount.from[1].account",
        ),
        (
            "from: sum differs",
            |v| v["amount"]["from"] = json!([{"account": "AVAILABLE", "amount": 40}, {"account": "UNAVAILABLE", "amount": 40}]),
            "amount.from",
        ),
        (
            "from: zero amount",
            |v| v["amount"]["from"] = json!([{"account": "AVAILABLE", "amount": 0}, {"account": "UNAVAILABLE", "amount": 100}]),
            "amount.from[0].amount",
        ),
        (
            "goods: refund over price × quantity",
            |v| v["goods_detail"] = json!([{"merchant_goods_id": "G1", "unit_price": 30, "refund_amount": 70, "refund_quantity": 2}]),
            "goods_detail[0].refund_amount",
        ),
        (
            "goods: more than the refund",
            |v| v["goods_detail"] = json!([{"merchant_goods_id": "G1", "unit_price": 80, "refund_amount": 80, "refund_quantity": 1}, {"merchant_goods_id": "G2", "unit_price": 80, "refund_amount": 80, "refund_quantity": 1}]),
            "goods_detail",
        ),
        (
            "goods: no merchant_goods_id",
            |v| {
                v["goods_detail"] =
                    json!([{"unit_price": 100, "refund_amount": 100, "refund_quantity": 1}])
            },
            "goods_detail[0].merchant_goods_id",
        ),
        (
            "goods: zero quantity",
            |v| v["goods_detail"] = json!([{"merchant_goods_id": "G1", "unit_price": 100, "refund_amount": 0, "refund_quantity": 0}]),
            "goods_detail[0].refund_quantity",
        ),
        (
            "currency USD",
            |v| v["amount"]["currency"] = json!("USD"),
            "amount.currency",
        ),
        (
            "refund over total",
            |v| v["amount"]["refund"] = json!(10_001),
            "amount.refund",
        ),
        (
            "sub_mchid letters",
            |v| v["sub_mchid"] = json!("sub"),
            "sub_mchid",
        ),
    ];
    for (i, (what, mutate, field)) in cases.into_iter().enumerate() {
        let no = format!("RF{i}");
        let mut body = refund_body("T25000004", &no, 100, 10_000);
        mutate(&mut body);
        let a = apply(&sb, &body);
        assert_eq!(
            (a.status, a.code(), a.field()),
            (400, "PARAM_ERROR", field),
            "{what}: {}",
            a.body
        );
        assert_eq!(a.body["detail"]["location"], json!("body"), "{what}");
        assert!(a.body["detail"]["issue"].is_string(), "{what}");
    }
    assert_eq!(sb.refund_count("T25000004".into()), 0);
    // What WeChat Pay accepts is accepted: an 80-byte reason, accounts summing to the
    // refund, consistent goods, a local http endpoint (loopback: the sandbox's delivery).
    let mut body = refund_body("T25000004", "R-ok", 100, 10_000);
    body["reason"] = json!(format!("{}ab", "退".repeat(26)));
    body["amount"]["from"] =
        json!([{"account": "AVAILABLE", "amount": 40}, {"account": "UNAVAILABLE", "amount": 60}]);
    body["goods_detail"] = json!([{"merchant_goods_id": "G1", "unit_price": 50, "refund_amount": 100, "refund_quantity": 2}]);
    body["notify_url"] = json!("http://127.0.0.1:9/notify");
    let a = apply(&sb, &body);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["amount"]["from"], body["amount"]["from"]);
    // The WeChat Pay's default funds account when none is named: unsettled funds.
    assert_eq!(a.body["funds_account"], json!("UNSETTLED"));
    let mut body = refund_body("T25000004", "R-ok2", 100, 10_000);
    body["funds_account"] = json!("AVAILABLE");
    assert_eq!(apply(&sb, &body).body["funds_account"], json!("AVAILABLE"));
}

#[test]
fn the_library_refuses_the_same_rules_before_sending() {
    // Item 12: what a peer SDK sends raw and the sandbox refuses (above), this client refuses
    // before sending; both name the same field.
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000005".into(), 10_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let mut req = CreateRefundRequest::by_out_trade_no("T25000005", "R1", 100, 10_000);
    req.reason = Some("退".repeat(27));
    assert!(
        matches!(client.create_refund(req).unwrap_err(), RefundError::InvalidInput { field, .. } if field == "reason")
    );
    let mut req = CreateRefundRequest::by_out_trade_no("T25000005", "R1", 100, 10_000);
    req.notify_url = Some("https://merchant.example.com/n?id=1".into());
    assert!(
        matches!(client.create_refund(req).unwrap_err(), RefundError::InvalidInput { field, .. } if field == "notify_url")
    );
    assert_eq!(sb.request_count(), 0);
    let mut body = refund_body("T25000005", "R1", 100, 10_000);
    body["reason"] = json!("退".repeat(27));
    assert_eq!(apply(&sb, &body).field(), "reason");
    let mut body = refund_body("T25000005", "R1", 100, 10_000);
    body["notify_url"] = json!("https://merchant.example.com/n?id=1");
    assert_eq!(apply(&sb, &body).field(), "notify_url");
}

// --- 3. CLOSED refunds ------------------------------------------------------------------------

#[test]
fn a_closed_refund_frees_its_amount_and_its_place_among_the_50() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000006".into(), 100).unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000006", "R1", 100, 100)).status,
        200
    );
    let a = apply(&sb, &refund_body("T25000006", "R2", 100, 100));
    assert_eq!((a.status, a.code()), (400, "INVALID_REQUEST"));
    sb.set_refund_status("R1".into(), RefundStatus::Closed)
        .unwrap();
    assert_eq!(sb.refunded_total("T25000006".into()), 0);
    assert_eq!(
        apply(&sb, &refund_body("T25000006", "R2", 100, 100)).status,
        200
    );
    // The closed refund's number still names the closed refund (once per out_refund_no).
    let again = apply(&sb, &refund_body("T25000006", "R1", 100, 100));
    assert_eq!(
        (again.status, again.body["status"].clone()),
        (200, json!("CLOSED"))
    );

    sb.create_order("T25000007".into(), 1_000).unwrap();
    for i in 0..50 {
        let a = apply(&sb, &refund_body("T25000007", &format!("C{i}"), 1, 1_000));
        assert_eq!(a.status, 200, "{i}");
    }
    let a = apply(&sb, &refund_body("T25000007", "C50", 1, 1_000));
    assert_eq!((a.status, a.code()), (400, "INVALID_REQUEST"));
    sb.set_refund_status("C7".into(), RefundStatus::Closed)
        .unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000007", "C50", 1, 1_000)).status,
        200
    );
}

// --- 4. Same out_refund_no, another request ----------------------------------------------------

#[test]
fn a_replay_with_another_request_is_refused() {
    let sb = Sandbox::start().unwrap();
    let tx = sb.create_order("T25000008".into(), 1_000).unwrap();
    sb.create_order("T25000009".into(), 2_000).unwrap();
    let first = apply(&sb, &refund_body("T25000008", "R1", 10, 1_000));
    assert_eq!(first.status, 200);
    let cases = [
        (refund_body("T25000008", "R1", 10, 999), "amount.total"),
        (refund_body("T25000008", "R1", 11, 1_000), "amount.refund"),
        (refund_body("T25000009", "R1", 10, 2_000), "out_trade_no"),
    ];
    for (body, field) in cases {
        let a = apply(&sb, &body);
        assert_eq!(
            (a.status, a.code(), a.field()),
            (400, "INVALID_REQUEST", field),
            "{body}"
        );
    }
    // The same request again, by out_trade_no or by transaction_id: the same refund.
    let same = apply(&sb, &refund_body("T25000008", "R1", 10, 1_000));
    assert_eq!(same.body["refund_id"], first.body["refund_id"]);
    let by_tx = json!({"transaction_id": tx, "out_refund_no": "R1",
                       "amount": {"refund": 10, "total": 1_000, "currency": "CNY"}});
    assert_eq!(
        apply(&sb, &by_tx).body["refund_id"],
        first.body["refund_id"]
    );
    assert_eq!(sb.refunded_total("T25000008".into()), 10);
    assert_eq!(sb.refund_count("T25000009".into()), 0);
    // The same number and order under another sub_mchid (or none): not that merchant's order.
    sb.create_sub_merchant_order("T25000025".into(), 1_000, "1900000109".into(), None)
        .unwrap();
    let mut body = refund_body("T25000025", "R2", 10, 1_000);
    body["sub_mchid"] = json!("1900000109");
    assert_eq!(apply(&sb, &body).status, 200);
    body["sub_mchid"] = json!("1900000110");
    assert_eq!(apply(&sb, &body).status, 404);
    body.as_object_mut().unwrap().remove("sub_mchid");
    assert_eq!(apply(&sb, &body).status, 404);
    assert_eq!(sb.refunded_total("T25000025".into()), 10);
}

// --- 5. Service-provider ownership ------------------------------------------------------------

#[test]
fn an_order_belongs_to_one_sub_merchant() {
    let sb = Sandbox::start().unwrap();
    let (s, v) = control(
        &sb,
        "POST",
        "/sandbox/v1/orders",
        Some(json!({"out_trade_no": "T25000010", "total": 1_000, "sub_mchid": "1900000109"})),
    );
    assert_eq!((s, v["sub_mchid"].clone()), (201, json!("1900000109")));
    let tx = v["transaction_id"].as_str().unwrap().to_string();
    let mut body = refund_body("T25000010", "R1", 10, 1_000);
    // The merchant itself, and another sub-merchant, do not see it.
    let a = apply(&sb, &body);
    assert_eq!((a.status, a.code()), (404, "RESOURCE_NOT_EXISTS"));
    body["sub_mchid"] = json!("1900000110");
    assert_eq!(apply(&sb, &body).status, 404);
    // By WeChat Pay's transaction_id it is found, and refused: not theirs.
    let by_tx = json!({"transaction_id": tx, "out_refund_no": "R1", "sub_mchid": "1900000110",
                       "amount": {"refund": 10, "total": 1_000, "currency": "CNY"}});
    let a = apply(&sb, &by_tx);
    assert_eq!((a.status, a.code()), (403, "NO_AUTH"));
    body["sub_mchid"] = json!("1900000109");
    assert_eq!(apply(&sb, &body).status, 200);
    assert_eq!(query(&sb, "R1", Some("1900000109")).status, 200);
    assert_eq!(query(&sb, "R1", Some("1900000110")).status, 404);
    assert_eq!(query(&sb, "R1", None).status, 404);

    // An order seeded without a sub_mchid belongs to whoever refunds it first.
    sb.create_order("T25000011".into(), 1_000).unwrap();
    let mut body = refund_body("T25000011", "R2", 10, 1_000);
    body["sub_mchid"] = json!("1900000111");
    assert_eq!(apply(&sb, &body).status, 200);
    body["sub_mchid"] = json!("1900000112");
    body["out_refund_no"] = json!("R3");
    assert_eq!(apply(&sb, &body).status, 404);
    body.as_object_mut().unwrap().remove("sub_mchid");
    assert_eq!(apply(&sb, &body).status, 404);
}

#[test]
fn out_refund_no_is_unique_per_merchant_not_globally() {
    let sb = Sandbox::start().unwrap();
    sb.create_sub_merchant_order("T25000012".into(), 1_000, "1900000109".into(), None)
        .unwrap();
    sb.create_sub_merchant_order("T25000013".into(), 2_000, "1900000110".into(), None)
        .unwrap();
    let mut a = refund_body("T25000012", "R1", 10, 1_000);
    a["sub_mchid"] = json!("1900000109");
    let mut b = refund_body("T25000013", "R1", 20, 2_000);
    b["sub_mchid"] = json!("1900000110");
    let (ra, rb) = (apply(&sb, &a), apply(&sb, &b));
    assert_eq!((ra.status, rb.status), (200, 200), "{}", rb.body);
    assert_ne!(ra.body["refund_id"], rb.body["refund_id"]);
    assert_eq!(
        query(&sb, "R1", Some("1900000109")).body["amount"]["refund"],
        json!(10)
    );
    assert_eq!(
        query(&sb, "R1", Some("1900000110")).body["amount"]["refund"],
        json!(20)
    );
    // The control API names the sub-merchant when the number is ambiguous.
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/refunds/R1/status",
        Some(json!({"status": "SUCCESS"})),
    );
    assert_eq!(s, 404);
    let (s, _) = control(
        &sb,
        "POST",
        "/sandbox/v1/refunds/R1/status?sub_mchid=1900000110",
        Some(json!({"status": "SUCCESS"})),
    );
    assert_eq!(s, 200);
    assert_eq!(
        query(&sb, "R1", Some("1900000110")).body["status"],
        json!("SUCCESS")
    );
    assert_eq!(
        query(&sb, "R1", Some("1900000109")).body["status"],
        json!("PROCESSING")
    );
    let (s, n) = control(
        &sb,
        "GET",
        "/sandbox/v1/refunds/R1/notification?sub_mchid=1900000110",
        None,
    );
    assert_eq!(s, 200, "{n}");
    sb.set_sub_merchant_refund_status("R1".into(), "1900000109".into(), RefundStatus::Closed)
        .unwrap();
    assert_eq!(
        query(&sb, "R1", Some("1900000109")).body["status"],
        json!("CLOSED")
    );
}

// --- 5, 6. Abnormal refunds ----------------------------------------------------------------------

fn abnormal_path(refund_id: &str) -> String {
    format!("{BASE}/{refund_id}/apply-abnormal-refund")
}

/// An ABNORMAL refund of `sub_mchid` (or the merchant's own); returns its refund_id.
fn abnormal_refund(sb: &Sandbox, order: &str, no: &str, sub_mchid: Option<&str>) -> String {
    sb.create_order(order.into(), 1_000).unwrap();
    let mut body = refund_body(order, no, 10, 1_000);
    if let Some(s) = sub_mchid {
        body["sub_mchid"] = json!(s);
    }
    let a = apply(sb, &body);
    assert_eq!(a.status, 200);
    sb.set_refund_status(no.into(), RefundStatus::Abnormal)
        .unwrap();
    a.body["refund_id"].as_str().unwrap().to_string()
}

fn encrypt(sb: &Sandbox, plain: &str) -> String {
    use base64::Engine;
    let pem = sb.credentials().wechatpay_public_key_pem.unwrap();
    let key = RsaPublicKey::from_pem(&pem).unwrap();
    base64::engine::general_purpose::STANDARD
        .encode(key.oaep_sha1_encrypt(plain.as_bytes()).unwrap())
}

#[test]
fn abnormal_refund_rules() {
    let sb = Sandbox::start().unwrap();
    let key_id = sb.credentials().wechatpay_public_key_id.unwrap();
    let serial = [("Wechatpay-Serial", key_id.as_str())];
    let id = abnormal_refund(&sb, "T25000014", "R1", None);
    let user = |bank_type: &str| {
        json!({"out_refund_no": "R1", "type": "USER_BANK_CARD", "bank_type": bank_type,
               "bank_account": encrypt(&sb, "6222021234567890"), "real_name": encrypt(&sb, "张三")})
    };
    // A credit card, or a bank outside WeChat Pay's list, is refused.
    for bank in ["ICBC_CREDIT", "HSBC_DEBIT", "工商银行"] {
        let a = raw_with(&sb, "POST", &abnormal_path(&id), Some(&user(bank)), &serial);
        assert_eq!(
            (a.status, a.code(), a.field()),
            (400, "PARAM_ERROR", "bank_type"),
            "{bank}"
        );
    }
    // Encrypted fields need Wechatpay-Serial naming the key.
    let a = raw(&sb, "POST", &abnormal_path(&id), Some(&user("ICBC_DEBIT")));
    assert_eq!((a.status, a.field()), (400, "Wechatpay-Serial"));
    assert_eq!(a.body["detail"]["location"], json!("header"));
    // A direct merchant's refund takes no sub_mchid.
    let mut with_sub = user("ICBC_DEBIT");
    with_sub["sub_mchid"] = json!("1900000109");
    let a = raw_with(&sb, "POST", &abnormal_path(&id), Some(&with_sub), &serial);
    assert_eq!((a.status, a.field()), (400, "sub_mchid"));
    let a = raw_with(
        &sb,
        "POST",
        &abnormal_path(&id),
        Some(&user("ICBC_DEBIT")),
        &serial,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    // {银行名称}{卡类型}{卡尾号}: the bank's name, not its code.
    assert_eq!(a.body["user_received_account"], json!("工商银行借记卡7890"));
    assert_eq!(a.body["channel"], json!("OTHER_BANKCARD"));
    assert_eq!(a.body["status"], json!("PROCESSING"));

    // MERCHANT_BANK_CARD encrypts nothing: no Wechatpay-Serial needed; the money goes to the
    // merchant's settlement bank account.
    let id = abnormal_refund(&sb, "T25000015", "R2", None);
    let a = raw(
        &sb,
        "POST",
        &abnormal_path(&id),
        Some(&json!({"out_refund_no": "R2", "type": "MERCHANT_BANK_CARD"})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["user_received_account"], json!("商户结算银行账户"));

    // Service-provider mode: sub_mchid is required ("服务商模式下必须传递此参数").
    let id = abnormal_refund(&sb, "T25000016", "R3", Some("1900000109"));
    let merchant = json!({"out_refund_no": "R3", "type": "MERCHANT_BANK_CARD"});
    let a = raw(&sb, "POST", &abnormal_path(&id), Some(&merchant));
    assert_eq!((a.status, a.field()), (400, "sub_mchid"));
    let mut other = merchant.clone();
    other["sub_mchid"] = json!("1900000110");
    assert_eq!(
        raw(&sb, "POST", &abnormal_path(&id), Some(&other)).status,
        404
    );
    let mut own = merchant;
    own["sub_mchid"] = json!("1900000109");
    assert_eq!(
        raw(&sb, "POST", &abnormal_path(&id), Some(&own)).status,
        200
    );
}

// --- 7. Notifications -----------------------------------------------------------------------------

fn headers_of(r: &tiny_http::Request) -> HashMap<String, String> {
    r.headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.to_string(),
            )
        })
        .collect()
}

#[test]
fn re_deliveries_are_re_signed_on_the_scaled_schedule_until_200_or_204() {
    // 100× faster: 150 ms, 150 ms, 300 ms, 1.8 s...
    let sb = Sandbox::start_with(SandboxOptions {
        notify_retry_speedup: Some(100),
        ..Default::default()
    })
    .unwrap();
    sb.create_order("T25000017".into(), 100).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let mut req = CreateRefundRequest::by_out_trade_no("T25000017", "R1", 1, 100);
    req.notify_url = Some(format!("http://{}/n", server.server_addr()));
    client.create_refund(req).unwrap();
    sb.set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    // 202 and 201 are 2xx but not what docs/protocol.md asks for: retried, like a 500.
    let answers = [202, 500, 201, 204];
    let mut seen = Vec::new();
    for status in answers {
        let mut r = server
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap();
        let at = Instant::now();
        let h = headers_of(&r);
        let mut body = Vec::new();
        std::io::Read::read_to_end(r.as_reader(), &mut body).unwrap();
        let note = client.parse_notification(h.clone(), body).unwrap();
        seen.push((
            at,
            h["wechatpay-nonce"].clone(),
            h["wechatpay-signature"].clone(),
            note.id,
        ));
        r.respond(tiny_http::Response::empty(status)).unwrap();
    }
    // Each attempt signed afresh: new nonce, new signature; the same notification id.
    for w in seen.windows(2) {
        assert_ne!(w[0].1, w[1].1);
        assert_ne!(w[0].2, w[1].2);
        assert_eq!(w[0].3, w[1].3);
    }
    // Spaced like WeChat Pay's 15 s, 15 s, 30 s, ÷100.
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps[0] >= Duration::from_millis(140), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(140), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(290), "{gaps:?}");
    // 204 ended it: no fifth attempt (the next would come 1.8 s later).
    let t = Instant::now();
    while sb.delivered_notification_count() < 1 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sb.delivered_notification_count(), 1);
    assert!(server
        .recv_timeout(Duration::from_millis(2500))
        .unwrap()
        .is_none());
}

#[test]
fn success_and_closed_are_final() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000018".into(), 100).unwrap();
    for no in ["R1", "R2"] {
        assert_eq!(
            apply(&sb, &refund_body("T25000018", no, 10, 100)).status,
            200
        );
    }
    sb.set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    sb.set_refund_status("R2".into(), RefundStatus::Closed)
        .unwrap();
    for (no, to) in [("R1", "CLOSED"), ("R1", "ABNORMAL"), ("R2", "SUCCESS")] {
        let (s, v) = control(
            &sb,
            "POST",
            &format!("/sandbox/v1/refunds/{no}/status"),
            Some(json!({"status": to})),
        );
        assert_eq!(s, 400, "{no} → {to}: {v}");
        assert!(v["message"].as_str().unwrap().contains("final"), "{v}");
    }
    assert!(sb
        .set_refund_status("R1".into(), RefundStatus::Processing)
        .is_err());
    assert_eq!(query(&sb, "R1", None).body["status"], json!("SUCCESS"));
    assert_eq!(query(&sb, "R2", None).body["status"], json!("CLOSED"));
    // The same final status again only re-sends the notification.
    sb.set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
}

// --- 8. Limits -------------------------------------------------------------------------------------

#[test]
fn the_one_year_window_follows_the_sandbox_clock() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T25000019".into(), 100).unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000019", "R1", 10, 100)).status,
        200
    );
    let (s, v) = control(
        &sb,
        "POST",
        "/sandbox/v1/clock",
        Some(json!({"advance_seconds": 366 * 86_400})),
    );
    assert_eq!(s, 200);
    assert!(v["now"].as_i64().unwrap() > now() + 365 * 86_400);
    let a = apply(&sb, &refund_body("T25000019", "R2", 10, 100));
    assert_eq!((a.status, a.code()), (400, "INVALID_REQUEST"));
    assert!(
        a.body["message"].as_str().unwrap().contains("一年"),
        "{}",
        a.body
    );
    // The same refund again is still answered (it exists); signatures keep the real clock.
    assert_eq!(
        apply(&sb, &refund_body("T25000019", "R1", 10, 100)).status,
        200
    );
    // Reset sets the clock back.
    sb.reset();
    assert!((sb.clock() - now()).abs() < 5);
}

#[test]
fn enforced_limits_space_refunds_of_one_order_and_cap_failures() {
    let sb = Sandbox::start_with(SandboxOptions {
        enforce_limits: true,
        ..Default::default()
    })
    .unwrap();
    sb.create_order("T25000020".into(), 1_000).unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000020", "R1", 10, 1_000)).status,
        200
    );
    let a = apply(&sb, &refund_body("T25000020", "R2", 10, 1_000));
    assert_eq!((a.status, a.code()), (429, "FREQUENCY_LIMITED"));
    // A replay of R1 is not a new refund: answered.
    assert_eq!(
        apply(&sb, &refund_body("T25000020", "R1", 10, 1_000)).status,
        200
    );
    sb.advance_clock(61);
    assert_eq!(
        apply(&sb, &refund_body("T25000020", "R2", 10, 1_000)).status,
        200
    );

    // Six failing requests in a second (the 429 above was one: let it age), then even a good
    // one is refused for a while.
    std::thread::sleep(Duration::from_millis(1100));
    for i in 0..6 {
        assert_eq!(query(&sb, &format!("NOPE{i}"), None).status, 404);
    }
    let a = query(&sb, "R1", None);
    assert_eq!((a.status, a.code()), (429, "FREQUENCY_LIMITED"));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(query(&sb, "R1", None).status, 200);
}

#[test]
fn enforced_limits_cap_requests_at_150_a_second() {
    let sb = Sandbox::start_with(SandboxOptions {
        enforce_limits: true,
        ..Default::default()
    })
    .unwrap();
    sb.create_order("T25000021".into(), 1_000).unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000021", "R1", 10, 1_000)).status,
        200
    );
    std::thread::sleep(Duration::from_millis(1100));
    // One signed query sent again and again (the sandbox keeps no nonces), from 4 threads:
    // 240 requests, as fast as they go.
    let req = signed(&sb, "GET", &format!("{BASE}/R1"), b"", &[]);
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let req = req.clone();
            std::thread::spawn(move || {
                let t = UreqTransport::new(Default::default());
                (0..60)
                    .map(|_| t.send(req.clone()).unwrap().status)
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited, 240, "{statuses:?}");
    if elapsed < Duration::from_millis(900) {
        // All within one second: exactly 150 served.
        assert_eq!(ok, 150, "{elapsed:?}");
    } else {
        // A slow machine: at most 150 in any second.
        let seconds = elapsed.as_secs_f64().ceil() as usize;
        assert!(ok <= 150 * seconds, "{ok} in {elapsed:?}");
    }
}

// --- 9. Reset --------------------------------------------------------------------------------------

#[test]
fn reset_clears_v2_state_and_pending_retries() {
    // Re-deliveries 10× faster: the first retry would come 1.5 s after the first attempt.
    let sb = Sandbox::start_with(SandboxOptions {
        notify_retry_speedup: Some(10),
        ..Default::default()
    })
    .unwrap();
    // A v2 refund with a notify_url, then a reset.
    let v2_server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let v2 = wechatpay_refund::v2::V2RefundClient::new(sb.v2_config().unwrap()).unwrap();
    sb.create_order("T25000022".into(), 1_000).unwrap();
    let mut req =
        wechatpay_refund::v2::V2RefundRequest::by_out_trade_no("T25000022", "R1", 10, 1_000);
    req.notify_url = Some(format!("http://{}/v2", v2_server.server_addr()));
    v2.refund(req).unwrap();
    // A v3 refund whose endpoint keeps failing: retried.
    let v3_server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    sb.create_order("T25000023".into(), 1_000).unwrap();
    let mut body = refund_body("T25000023", "R9", 10, 1_000);
    body["notify_url"] = json!(format!("http://{}/v3", v3_server.server_addr()));
    assert_eq!(apply(&sb, &body).status, 200);
    sb.set_refund_status("R9".into(), RefundStatus::Success)
        .unwrap();
    let r = v3_server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    r.respond(tiny_http::Response::empty(500)).unwrap();
    assert_eq!(control(&sb, "POST", "/sandbox/v1/reset", None).0, 200);
    // After the reset, a new v3 refund under the old v2 number notifies nobody in v2 form,
    // and the failing v3 notification is not retried any more.
    sb.create_order("T25000024".into(), 1_000).unwrap();
    assert_eq!(
        apply(&sb, &refund_body("T25000024", "R1", 10, 1_000)).status,
        200
    );
    sb.set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    assert!(v2_server
        .recv_timeout(Duration::from_millis(1500))
        .unwrap()
        .is_none());
    assert!(v3_server
        .recv_timeout(Duration::from_millis(600))
        .unwrap()
        .is_none());
}
