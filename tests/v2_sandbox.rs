//! Legacy v2 end to end through the sandbox over real sockets: mutual TLS, signatures, the
//! shared order book, queries, notifications, and every error code of WeChat Pay's table.
#![cfg(feature = "sandbox")]

use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::v2::request::build_refund;
use wechatpay_refund::v2::*;
use wechatpay_refund::{
    ClientOptions, CreateRefundRequest, HttpTransport, RefundClient, RefundError, RefundStatus,
    TransportOptions, UreqTransport,
};

fn v2_code(e: &RefundError) -> Option<&str> {
    match e {
        RefundError::V2Api { err_code, .. } => err_code.as_deref(),
        _ => None,
    }
}

fn client(sandbox: &Sandbox) -> Arc<V2RefundClient> {
    V2RefundClient::new(sandbox.v2_config().unwrap()).unwrap()
}

#[test]
fn contract_flow_refund_query_notification() {
    let sandbox = Sandbox::start().unwrap();
    let v2 = client(&sandbox);
    sandbox.create_order("T20261124001".into(), 10000).unwrap();
    let r = v2
        .refund(V2RefundRequest::by_out_trade_no(
            "T20261124001",
            "R2V1",
            100,
            10000,
        ))
        .unwrap();
    assert_eq!(r.refund_fee, 100);
    assert!(!r.refund_id.is_empty());
    assert_eq!(r.out_refund_no, "R2V1");
    // Idempotent: the same request again is the same refund.
    let again = v2
        .refund(V2RefundRequest::by_out_trade_no(
            "T20261124001",
            "R2V1",
            100,
            10000,
        ))
        .unwrap();
    assert_eq!(again.refund_id, r.refund_id);
    let q = v2
        .refund_query(V2RefundQuery {
            out_refund_no: Some("R2V1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.refunds.len(), 1);
    assert_eq!(q.refunds[0].refund_status, V2RefundStatus::Processing);
    assert_eq!(q.refunds[0].refund_id, r.refund_id);
    sandbox
        .set_refund_status("R2V1".into(), RefundStatus::Success)
        .unwrap();
    let note = v2
        .parse_refund_notification(sandbox.v2_notification("R2V1".into()).unwrap())
        .unwrap();
    assert_eq!(note.refund_status, V2RefundStatus::Success);
    assert_eq!(note.out_refund_no, "R2V1");
    assert_eq!(note.refund_fee, 100);
    assert!(note.success_time.is_some());
    let q = v2
        .refund_query(V2RefundQuery {
            refund_id: Some(r.refund_id.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.refunds[0].refund_status, V2RefundStatus::Success);
    assert!(q.refunds[0].refund_success_time.is_some());
    // Closed and abnormal map onto v2's REFUNDCLOSE and CHANGE (SUCCESS is final: another
    // refund is closed).
    v2.refund(V2RefundRequest::by_out_trade_no(
        "T20261124001",
        "R2V2",
        100,
        10000,
    ))
    .unwrap();
    sandbox
        .set_refund_status("R2V2".into(), RefundStatus::Closed)
        .unwrap();
    let note = v2
        .parse_refund_notification(sandbox.v2_notification("R2V2".into()).unwrap())
        .unwrap();
    assert_eq!(note.refund_status, V2RefundStatus::Refundclose);
    sandbox.stop();
}

#[test]
fn v2_and_v3_refunds_share_the_order_book() {
    let sandbox = Sandbox::start().unwrap();
    let v2 = client(&sandbox);
    let v3 = RefundClient::new(sandbox.client_config().unwrap()).unwrap();
    let tx = sandbox.create_order("T-MIXED-1".into(), 1000).unwrap();
    v2.refund(V2RefundRequest::by_transaction_id(&tx, "R-V2-A", 600, 1000))
        .unwrap();
    let e = v3
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T-MIXED-1",
            "R-V3-A",
            500,
            1000,
        ))
        .unwrap_err();
    assert!(matches!(e, RefundError::Api { status: 400, .. }), "{e:?}");
    v3.create_refund(CreateRefundRequest::by_out_trade_no(
        "T-MIXED-1",
        "R-V3-B",
        400,
        1000,
    ))
    .unwrap();
    assert_eq!(sandbox.refunded_total("T-MIXED-1".into()), 1000);
    // Fully refunded: TRADE_STATE_ERROR.
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no(
            "T-MIXED-1",
            "R-V2-B",
            1,
            1000,
        ))
        .unwrap_err();
    assert_eq!(v2_code(&e), Some("TRADE_STATE_ERROR"), "{e:?}");
    // The order-level query lists both generations' refunds.
    let q = v2
        .refund_query(V2RefundQuery {
            out_trade_no: Some("T-MIXED-1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.refund_count, 2);
    assert_eq!(q.transaction_id, tx);
    let nos: Vec<_> = q.refunds.iter().map(|r| r.out_refund_no.as_str()).collect();
    assert_eq!(nos, ["R-V2-A", "R-V3-B"]);
    // set_refund_status moves v2 refunds too.
    sandbox
        .set_refund_status("R-V2-A".into(), RefundStatus::Abnormal)
        .unwrap();
    let q = v2
        .refund_query(V2RefundQuery {
            out_refund_no: Some("R-V2-A".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.refunds[0].refund_status, V2RefundStatus::Change);
}

#[test]
fn hmac_sha256_and_paging() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_config().unwrap();
    let k = sandbox.credentials();
    let cfg = V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
        .sign_type(V2SignType::HmacSha256)
        .client_certificate_pem(
            client_cert_pem(&sandbox),
            k.merchant_private_key_pem.clone(),
        )
        .base_url(c.base_url.clone())
        .options(c.options.clone())
        .build()
        .unwrap();
    let v2 = V2RefundClient::new(Arc::new(cfg)).unwrap();
    sandbox.create_order("T-PAGED".into(), 100).unwrap();
    for i in 0..25 {
        v2.refund(V2RefundRequest::by_out_trade_no(
            "T-PAGED",
            format!("R-P-{i:02}"),
            1,
            100,
        ))
        .unwrap();
    }
    let q = v2
        .refund_query(V2RefundQuery {
            out_trade_no: Some("T-PAGED".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((q.refund_count, q.total_refund_count), (20, Some(25)));
    let q = v2
        .refund_query(V2RefundQuery {
            out_trade_no: Some("T-PAGED".into()),
            offset: Some(20),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(q.refund_count, 5);
    assert_eq!(q.refunds[4].out_refund_no, "R-P-24");
}

fn api_key_of(sandbox: &Sandbox) -> String {
    sandbox.v2_credentials().unwrap().api_key
}

fn client_cert_pem(sandbox: &Sandbox) -> String {
    sandbox.v2_credentials().unwrap().client_cert_pem
}

#[test]
fn wrong_api_key_is_refused_by_the_server_and_cannot_read_notifications() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_config().unwrap();
    let k = sandbox.credentials();
    let wrong = V2Config::builder(
        c.appid.clone(),
        c.mch_id.clone(),
        "0123456789abcdef0123456789abcdef",
    )
    .client_certificate_pem(
        client_cert_pem(&sandbox),
        k.merchant_private_key_pem.clone(),
    )
    .base_url(c.base_url.clone())
    .options(c.options.clone())
    .build()
    .unwrap();
    let v2 = V2RefundClient::new(Arc::new(wrong)).unwrap();
    sandbox.create_order("T-WRONGKEY".into(), 100).unwrap();
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no(
            "T-WRONGKEY",
            "R-WK",
            1,
            100,
        ))
        .unwrap_err();
    match &e {
        RefundError::V2Api {
            return_code,
            return_msg,
            retryable: false,
            ..
        } => {
            assert_eq!(return_code, "FAIL");
            assert_eq!(return_msg.as_deref(), Some("签名错误"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "WeChat Pay v2 error: return_code FAIL: 签名错误"
    );
    assert_eq!(sandbox.refund_count("T-WRONGKEY".into()), 0);
    // A notification for the right key does not decrypt with the wrong one.
    client(&sandbox)
        .refund(V2RefundRequest::by_out_trade_no(
            "T-WRONGKEY",
            "R-WK2",
            1,
            100,
        ))
        .unwrap();
    sandbox
        .set_refund_status("R-WK2".into(), RefundStatus::Success)
        .unwrap();
    let e = v2
        .parse_refund_notification(sandbox.v2_notification("R-WK2".into()).unwrap())
        .unwrap_err();
    assert!(matches!(e, RefundError::Decryption { .. }), "{e:?}");
}

#[test]
fn missing_or_wrong_client_certificate_is_a_typed_error() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_config().unwrap();
    sandbox.create_order("T-CERT".into(), 100).unwrap();
    // No certificate configured: refused before sending, naming the fix.
    let no_cert = V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
        .base_url(c.base_url.clone())
        .options(c.options.clone())
        .build()
        .unwrap();
    let v2 = V2RefundClient::new(Arc::new(no_cert)).unwrap();
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no("T-CERT", "R-C1", 1, 100))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("client certificate")),
        "{e:?}"
    );
    // The query needs no certificate.
    let q = v2
        .refund_query(V2RefundQuery {
            out_trade_no: Some("T-CERT".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(v2_code(&q), Some("REFUNDNOTEXIST"), "{q:?}");
    // A request sent without a certificate anyway (a transport of one's own): no answer at
    // all, as WeChat Pay does (WeChat Pay's documentation: "failed to respond"), never a signed CERT_ERROR.
    let plain =
        UreqTransport::with_roots(TransportOptions::default(), &c.options.trust_roots_pem).unwrap();
    let v2 = V2RefundClient::with_transport(
        Arc::new(
            V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
                .base_url(c.base_url.clone())
                .options(c.options.clone())
                .build()
                .unwrap(),
        ),
        Arc::new(plain),
    );
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no("T-CERT", "R-C2", 1, 100))
        .unwrap_err();
    assert!(matches!(&e, RefundError::Transport { .. }), "{e:?}");
    assert_eq!(v2_code(&e), None);
    assert!(sandbox
        .requests()
        .iter()
        .any(|r| r.url == "/secapi/pay/refund" && r.status == 0));
    // A certificate the sandbox's CA did not issue: the TLS handshake fails.
    let stranger = Sandbox::start().unwrap().v2_credentials().unwrap();
    let other = stranger.client_key_pem.clone();
    let cfg = V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
        .client_certificate_pem(stranger.client_cert_pem.clone(), other.as_str())
        .base_url(c.base_url.clone())
        .options(c.options.clone())
        .build()
        .unwrap();
    let e = V2RefundClient::new(Arc::new(cfg))
        .unwrap()
        .refund(V2RefundRequest::by_out_trade_no("T-CERT", "R-C3", 1, 100))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Transport { kind, .. } if matches!(kind, wechatpay_refund::TransportErrorKind::Tls | wechatpay_refund::TransportErrorKind::Io)),
        "{e:?}"
    );
    assert_eq!(sandbox.refund_count("T-CERT".into()), 0);
    // A key that does not belong to the certificate fails at configuration.
    let e = V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
        .client_certificate_pem(client_cert_pem(&sandbox), other.as_str())
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("does not belong")),
        "{e:?}"
    );
}

#[test]
fn every_error_code_of_the_v2_table() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_config().unwrap();
    let v2 = client(&sandbox);
    let tx = sandbox.create_order("T-CODES".into(), 1000).unwrap();
    let req = |no: &str, fee: i64, total: i64| {
        V2RefundRequest::by_out_trade_no("T-CODES", no, fee, total)
    };

    // Reached by the sandbox's own rules.
    let e = v2
        .refund(V2RefundRequest::by_out_trade_no("T-NONE", "R-E1", 1, 1000))
        .unwrap_err();
    assert_eq!(v2_code(&e), Some("ORDERNOTEXIST"));
    let e = v2
        .refund(V2RefundRequest::by_transaction_id(
            "4200000000000000000000000000",
            "R-E2",
            1,
            1000,
        ))
        .unwrap_err();
    assert_eq!(v2_code(&e), Some("INVALID_TRANSACTIONID"));
    let e = v2.refund(req("R-E3", 1, 999)).unwrap_err();
    assert_eq!(v2_code(&e), Some("INVALID_REQUEST"));
    v2.refund(req("R-E4", 10, 1000)).unwrap();
    let e = v2.refund(req("R-E4", 11, 1000)).unwrap_err();
    assert_eq!(v2_code(&e), Some("REFUND_FEE_MISMATCH"));
    assert!(!e.is_retryable());
    // Raw requests for what this client never sends.
    let raw = UreqTransport::with_identity(
        TransportOptions::default(),
        &c.options.trust_roots_pem,
        c.identity.as_deref(),
    )
    .unwrap();
    let post = |path: &str, method: &str, body: Vec<u8>| {
        let resp = raw
            .send(wechatpay_refund::HttpRequest {
                method: method.into(),
                url: format!("{}{path}", c.base_url),
                headers: vec![],
                body,
                timeout_ms: None,
            })
            .unwrap();
        wechatpay_refund::v2::response::parse_refund_response(&c, &resp).unwrap_err()
    };
    let good = build_refund(&c, &req("R-E5", 1, 1000), "N5").unwrap();
    assert_eq!(
        v2_code(&post("/secapi/pay/refund", "GET", good.body.clone())),
        Some("REQUIRE_POST_METHOD")
    );
    assert_eq!(
        v2_code(&post(
            "/secapi/pay/refund",
            "POST",
            b"<xml><a>1</a><a>2</a></xml>".to_vec()
        )),
        Some("XML_FORMAT_ERROR")
    );
    assert_eq!(
        v2_code(&post("/secapi/pay/refund", "POST", b"<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><appid>&x;</appid></xml>".to_vec())),
        Some("XML_FORMAT_ERROR")
    );
    let other_app = V2Config::builder("wx0000000000000000", c.mch_id.clone(), api_key_of(&sandbox))
        .build()
        .unwrap();
    let b = build_refund(&other_app, &req("R-E6", 1, 1000), "N6")
        .unwrap()
        .body;
    assert_eq!(
        v2_code(&post("/secapi/pay/refund", "POST", b)),
        Some("APPID_NOT_EXIST")
    );
    let other_mch = V2Config::builder(c.appid.clone(), "1900009999", api_key_of(&sandbox))
        .build()
        .unwrap();
    let b = build_refund(&other_mch, &req("R-E7", 1, 1000), "N7")
        .unwrap()
        .body;
    let resp = raw
        .send(wechatpay_refund::HttpRequest {
            method: "POST".into(),
            url: format!("{}/secapi/pay/refund", c.base_url),
            headers: vec![],
            body: b,
            timeout_ms: None,
        })
        .unwrap();
    assert!(String::from_utf8_lossy(&resp.body).contains("MCHID_NOT_EXIST"));
    // Missing parameter: PARAM_ERROR.
    let mut p =
        wechatpay_refund::v2::request::refund_params(&c, &req("R-E8", 1, 1000), "N8").unwrap();
    p.remove("refund_fee");
    let b = wechatpay_refund::v2::request::signed_request(&c, "/secapi/pay/refund", p).body;
    assert_eq!(
        v2_code(&post("/secapi/pay/refund", "POST", b)),
        Some("PARAM_ERROR")
    );
    // refund_fee > total_fee: the blog's unsigned `return_code=FAIL` "invalid refund_fee".
    let mut p =
        wechatpay_refund::v2::request::refund_params(&c, &req("R-E9", 1, 1000), "N9").unwrap();
    p.insert("refund_fee".into(), "2000".into());
    let b = wechatpay_refund::v2::request::signed_request(&c, "/secapi/pay/refund", p).body;
    let e = post("/secapi/pay/refund", "POST", b);
    assert!(
        matches!(&e, RefundError::V2Api { return_code, return_msg: Some(m), err_code: None, .. } if return_code == "FAIL" && m == "invalid refund_fee"),
        "{e:?}"
    );

    // The codes no rule reaches, injected; each with WeChat Pay's retry guidance.
    let retry = [
        "SYSTEMERROR",
        "BIZERR_NEED_RETRY",
        "ORDER_NOT_READY",
        "FREQUENCY_LIMITED",
        "INVALID_REQ_TOO_MUCH",
    ];
    let fin = [
        "TRADE_OVERDUE",
        "ERROR",
        "USER_ACCOUNT_ABNORMAL",
        "NOTENOUGH",
        "PARAM_ERROR",
        "APPID_NOT_EXIST",
        "MCHID_NOT_EXIST",
        "SIGNERROR",
        "XML_FORMAT_ERROR",
        "NOAUTH",
        "CERT_ERROR",
        "REFUND_FEE_MISMATCH",
        "INVALID_REQUEST",
        "ORDERNOTEXIST",
        "INVALID_TRANSACTIONID",
        "REQUIRE_POST_METHOD",
        "TRADE_STATE_ERROR",
    ];
    let strict = V2RefundClient::new(Arc::new(
        V2Config::builder(c.appid.clone(), c.mch_id.clone(), api_key_of(&sandbox))
            .client_certificate_pem(
                client_cert_pem(&sandbox),
                sandbox.credentials().merchant_private_key_pem,
            )
            .base_url(c.base_url.clone())
            .options(ClientOptions {
                max_attempts: 1,
                ..c.options.clone()
            })
            .build()
            .unwrap(),
    ))
    .unwrap();
    for code in retry.iter().chain(fin.iter()) {
        sandbox.v2_inject_error(code.to_string(), 1);
        let e = strict.refund(req("R-INJ", 1, 1000)).unwrap_err();
        assert_eq!(v2_code(&e), Some(*code));
        assert_eq!(e.is_retryable(), retry.contains(code), "{code}");
        assert!(
            e.to_string()
                .starts_with(&format!("WeChat Pay v2 error: {code}: ")),
            "{e}"
        );
    }
    assert_eq!(sandbox.refund_count("T-CODES".into()), 1);
    // The client retries SYSTEMERROR / BIZERR_NEED_RETRY itself with identical bytes.
    sandbox.v2_inject_error("SYSTEMERROR".into(), 1);
    sandbox.v2_inject_error("BIZERR_NEED_RETRY".into(), 1);
    let before = sandbox.request_count();
    let r = v2.refund(req("R-RETRIED", 5, 1000)).unwrap();
    assert_eq!(r.refund_fee, 5);
    assert_eq!(sandbox.request_count() - before, 3);
    // Injected transport faults: a dropped connection is retried, once refunded.
    sandbox.inject_fault(SandboxFault::DropConnection, 1);
    let r2 = v2.refund(req("R-DROPPED", 5, 1000)).unwrap();
    assert_eq!(r2.out_refund_no, "R-DROPPED");
    let _ = tx;
    assert_eq!(sandbox.refunded_total("T-CODES".into()), 20);
}

#[test]
fn notifications_are_posted_and_retried_until_acknowledged() {
    let sandbox = Sandbox::start().unwrap();
    let v2 = client(&sandbox);
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2-notify", server.server_addr());
    sandbox.create_order("T-NOTIFY".into(), 500).unwrap();
    let mut req = V2RefundRequest::by_out_trade_no("T-NOTIFY", "R-NOTIFY", 50, 500);
    req.notify_url = Some(url);
    v2.refund(req).unwrap();
    sandbox
        .set_refund_status("R-NOTIFY".into(), RefundStatus::Success)
        .unwrap();
    let mut bodies = Vec::new();
    // First answer FAIL (WeChat Pay retries), then the proper acknowledgement.
    for answer in [
        v2_notification_ack_failure("busy".into()),
        v2_notification_ack_success(),
    ] {
        let mut r = server
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap()
            .expect("a notification");
        let mut body = Vec::new();
        std::io::Read::read_to_end(r.as_reader(), &mut body).unwrap();
        let note = v2.parse_refund_notification(body.clone()).unwrap();
        assert_eq!(note.out_refund_no, "R-NOTIFY");
        assert_eq!(note.refund_status, V2RefundStatus::Success);
        assert_eq!(note.refund_fee, 50);
        bodies.push(body);
        r.respond(tiny_http::Response::from_data(answer)).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sandbox.delivered_notification_count() < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(sandbox.delivered_notification_count(), 1);
    assert_eq!(
        bodies[0], bodies[1],
        "a retry carries the same notification"
    );
    sandbox.stop();
}
