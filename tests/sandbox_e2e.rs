//! End-to-end tests: the real client against the real sandbox, through real loopback sockets.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err, clippy::type_complexity)]

use std::collections::HashMap;
use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxFault, SandboxKeyMode, SandboxOptions};
use wechatpay_refund::*;

fn refund_req(order: &str, no: &str, amount: i64, total: i64) -> CreateRefundRequest {
    CreateRefundRequest::by_out_trade_no(order, no, amount, total)
}

fn client_of(sandbox: &Sandbox) -> Arc<RefundClient> {
    RefundClient::new(sandbox.client_config().unwrap()).unwrap()
}

fn client_with(sandbox: &Sandbox, options: ClientOptions) -> Arc<RefundClient> {
    let c = sandbox.credentials();
    let mut b = ClientConfig::builder(
        c.mchid,
        c.merchant_serial_no,
        c.merchant_private_key_pem,
        c.api_v3_key,
    )
    .base_url(c.base_url)
    .options(ClientOptions {
        platform_trust_anchors_pem: c.platform_trust_anchors_pem.clone(),
        ..options
    });
    if let (Some(id), Some(pem)) = (c.wechatpay_public_key_id, c.wechatpay_public_key_pem) {
        b = b.wechatpay_public_key(id, pem);
    }
    if let Some(pem) = c.platform_certificate_pem {
        b = b.platform_certificate(pem);
    }
    RefundClient::new(Arc::new(b.build().unwrap())).unwrap()
}

fn fast() -> ClientOptions {
    ClientOptions {
        initial_backoff_ms: 10,
        max_backoff_ms: 50,
        read_timeout_ms: 500,
        max_attempts: 4,
        ..Default::default()
    }
}

/// A merchant callback endpoint on loopback; returns its URL and a receiver of parsed results.
fn callback_server(
    client: Arc<RefundClient>,
) -> (
    String,
    std::sync::mpsc::Receiver<Result<RefundNotification>>,
    Arc<tiny_http::Server>,
) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/notify", server.server_addr());
    let (tx, rx) = std::sync::mpsc::channel();
    let s = server.clone();
    std::thread::spawn(move || {
        for mut req in s.incoming_requests() {
            let headers: HashMap<String, String> = req
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect();
            let mut body = Vec::new();
            std::io::Read::read_to_end(req.as_reader(), &mut body).unwrap();
            let parsed = client.parse_notification(headers, body);
            let ack = if parsed.is_ok() {
                notification_ack_success()
            } else {
                notification_ack_failure("bad".into())
            };
            let _ = req
                .respond(tiny_http::Response::from_string(ack.body).with_status_code(ack.status));
            if tx.send(parsed).is_err() {
                break;
            }
        }
    });
    (url, rx, server)
}

/// The sandbox's delivered-notification count once it reaches `n` (or after 5 s). It counts a
/// notification when it has read the endpoint's answer, which may come after the endpoint
/// itself saw the notification.
fn delivered_at_least(sandbox: &Sandbox, n: u32) -> u32 {
    let t = std::time::Instant::now();
    while sandbox.delivered_notification_count() < n && t.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    sandbox.delivered_notification_count()
}

#[test]
fn full_lifecycle_with_a_notification_received_over_http() {
    let sandbox = Sandbox::start().unwrap();
    let tx_id = sandbox.create_order("T1001000".into(), 10_000).unwrap();
    let client = client_of(&sandbox);
    let (url, rx, server) = callback_server(client.clone());

    let mut req = refund_req("T1001000", "R1|a*b@c", 100, 10_000);
    req.notify_url = Some(url);
    req.reason = Some("商品已售完".into());
    let r = client.create_refund(req.clone()).unwrap();
    assert_eq!(
        (r.status, r.amount.refund, r.amount.total),
        (RefundStatus::Processing, 100, 10_000)
    );
    assert_eq!(r.transaction_id, tx_id);
    assert_eq!(r.out_refund_no, "R1|a*b@c");

    let q = client.query_refund("R1|a*b@c".into(), None).unwrap();
    assert_eq!(q.refund_id, r.refund_id);

    sandbox
        .set_refund_status("R1|a*b@c".into(), RefundStatus::Abnormal)
        .unwrap();
    let n = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(
        (n.event_type, n.refund_status),
        (
            NotificationEventType::RefundAbnormal,
            RefundStatus::Abnormal
        )
    );
    assert_eq!(
        client.query_refund("R1|a*b@c".into(), None).unwrap().status,
        RefundStatus::Abnormal
    );

    let a = client
        .apply_abnormal_refund(AbnormalRefundRequest::to_user_bank_card(
            r.refund_id.clone(),
            "R1|a*b@c",
            "ICBC_DEBIT",
            "6222021234567890",
            "张三",
        ))
        .unwrap();
    assert_eq!(
        (a.status, a.channel),
        (RefundStatus::Processing, RefundChannel::OtherBankcard)
    );
    // The sandbox decrypted exactly what the caller passed in plain text.
    assert_eq!(
        sandbox
            .abnormal_refund_recipient("R1|a*b@c".into())
            .unwrap(),
        vec![
            "ICBC_DEBIT".to_string(),
            "6222021234567890".into(),
            "张三".into()
        ]
    );

    sandbox
        .set_refund_status("R1|a*b@c".into(), RefundStatus::Success)
        .unwrap();
    let n = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(
        (n.event_type, n.refund_status),
        (NotificationEventType::RefundSuccess, RefundStatus::Success)
    );
    assert_eq!(n.mchid.as_deref(), Some("1900000001"));
    assert!(n.success_time.is_some());
    assert_eq!(n.amount.refund, 100);
    let q = client.query_refund("R1|a*b@c".into(), None).unwrap();
    assert_eq!(q.status, RefundStatus::Success);
    assert!(q.success_time.is_some());

    // Same out_refund_no again: the same refund, never a second one.
    let again = client.create_refund(req).unwrap();
    assert_eq!(again.refund_id, r.refund_id);
    assert_eq!(sandbox.refund_count("T1001000".into()), 1);
    // Both notifications (ABNORMAL, SUCCESS) reached the endpoint.
    assert!(delivered_at_least(&sandbox, 2) >= 2);
    server.unblock();
}

#[test]
fn business_rules_are_enforced_by_the_server() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T2002000".into(), 1_000).unwrap();
    let client = client_of(&sandbox);
    client
        .create_refund(refund_req("T2002000", "R1", 600, 1_000))
        .unwrap();
    let api = |e: RefundError| match e {
        RefundError::Api {
            status,
            code,
            detail_field,
            retryable,
            request_id,
            ..
        } => {
            assert!(request_id.is_some());
            (status, code, detail_field, retryable)
        }
        other => panic!("expected an API error, got {other:?}"),
    };
    // Same out_refund_no, different amount.
    let e = api(client
        .create_refund(refund_req("T2002000", "R1", 500, 1_000))
        .unwrap_err());
    assert_eq!(
        e,
        (
            400,
            "INVALID_REQUEST".into(),
            Some("amount.refund".into()),
            false
        )
    );
    // More than the order's remaining amount.
    let e = api(client
        .create_refund(refund_req("T2002000", "R2", 401, 1_000))
        .unwrap_err());
    assert_eq!(e.0, 400);
    // Wrong total.
    let e = api(client
        .create_refund(refund_req("T2002000", "R3", 1, 999))
        .unwrap_err());
    assert_eq!(e.2.as_deref(), Some("amount.total"));
    // Unknown order and unknown refund.
    assert_eq!(
        api(client
            .create_refund(refund_req("T9999999", "R4", 1, 1))
            .unwrap_err())
        .1,
        "RESOURCE_NOT_EXISTS"
    );
    assert_eq!(
        api(client.query_refund("R404".into(), None).unwrap_err()).0,
        404
    );
    // Abnormal refund of a refund that is not ABNORMAL.
    let r = client.query_refund("R1".into(), None).unwrap();
    let e = api(client
        .apply_abnormal_refund(AbnormalRefundRequest::to_merchant_bank_card(
            r.refund_id,
            "R1",
        ))
        .unwrap_err());
    assert_eq!(e.1, "INVALID_REQUEST");
    // Bad input never reaches the network.
    let before = sandbox.request_count();
    assert!(matches!(
        client.create_refund(refund_req("T2002000", "R 5", 1, 1_000)),
        Err(RefundError::InvalidInput { field, .. }) if field == "out_refund_no"
    ));
    assert_eq!(sandbox.request_count(), before);
    assert_eq!(sandbox.refunded_total("T2002000".into()), 600);
}

#[test]
fn at_most_50_refunds_per_order() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T3003000".into(), 100).unwrap();
    let client = client_of(&sandbox);
    for i in 0..50 {
        client
            .create_refund(refund_req("T3003000", &format!("R{i}"), 1, 100))
            .unwrap();
    }
    assert!(matches!(
        client.create_refund(refund_req("T3003000", "R50", 1, 100)),
        Err(RefundError::Api { status: 400, .. })
    ));
    assert_eq!(sandbox.refund_count("T3003000".into()), 50);
}

#[test]
fn a_wrong_merchant_key_is_a_sign_error() {
    let sandbox = Sandbox::start().unwrap();
    let other = Sandbox::start().unwrap();
    sandbox.create_order("T4004000".into(), 100).unwrap();
    let c = sandbox.credentials();
    let o = other.credentials();
    let cfg = ClientConfig::builder(
        c.mchid,
        c.merchant_serial_no,
        o.merchant_private_key_pem,
        c.api_v3_key,
    )
    .wechatpay_public_key(
        c.wechatpay_public_key_id.unwrap(),
        c.wechatpay_public_key_pem.unwrap(),
    )
    .base_url(c.base_url)
    .build()
    .unwrap();
    let client = RefundClient::new(Arc::new(cfg)).unwrap();
    match client.create_refund(refund_req("T4004000", "R1", 1, 100)) {
        Err(RefundError::Api {
            status: 401,
            code,
            retryable: false,
            ..
        }) => assert_eq!(code, "SIGN_ERROR"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sandbox.refund_count("T4004000".into()), 0);
}

#[test]
fn service_provider_mode() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T5005000".into(), 500).unwrap();
    let client = client_of(&sandbox);
    let mut req = refund_req("T5005000", "R1", 50, 500);
    req.sub_mchid = Some("1900000109".into());
    client.create_refund(req).unwrap();
    assert_eq!(
        client
            .query_refund("R1".into(), Some("1900000109".into()))
            .unwrap()
            .amount
            .refund,
        50
    );
    assert!(matches!(
        client.query_refund("R1".into(), Some("1900000110".into())),
        Err(RefundError::Api { status: 404, .. })
    ));
    sandbox
        .set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    let n = sandbox.notification("R1".into()).unwrap();
    let note = client.parse_notification(n.headers, n.body).unwrap();
    assert_eq!(note.mchid, None);
    assert_eq!(note.sp_mchid.as_deref(), Some("1900000001"));
    assert_eq!(note.sub_mchid.as_deref(), Some("1900000109"));
}

#[test]
fn certificate_and_migration_modes() {
    for mode in [SandboxKeyMode::Certificate, SandboxKeyMode::Both] {
        let sandbox = Sandbox::start_with(SandboxOptions {
            mode: Some(mode),
            ..Default::default()
        })
        .unwrap();
        sandbox.create_order("T6006000".into(), 500).unwrap();
        let client = client_of(&sandbox);
        let r = client
            .create_refund(refund_req("T6006000", "R1", 50, 500))
            .unwrap();
        assert_eq!(r.status, RefundStatus::Processing);
        // The abnormal refund's fields are encrypted with a key the server can decrypt.
        sandbox
            .set_refund_status("R1".into(), RefundStatus::Abnormal)
            .unwrap();
        client
            .apply_abnormal_refund(AbnormalRefundRequest::to_user_bank_card(
                r.refund_id,
                "R1",
                "CMB_DEBIT",
                "6214830000000000",
                "李四",
            ))
            .unwrap();
        assert_eq!(
            sandbox.abnormal_refund_recipient("R1".into()).unwrap()[1],
            "6214830000000000"
        );
        // Notifications: in migration mode they alternate between the two keys; both verify.
        sandbox
            .set_refund_status("R1".into(), RefundStatus::Success)
            .unwrap();
        let mut serials = std::collections::HashSet::new();
        for _ in 0..2 {
            let n = sandbox.notification("R1".into()).unwrap();
            serials.insert(n.headers["Wechatpay-Serial"].clone());
            client.parse_notification(n.headers, n.body).unwrap();
        }
        let creds = sandbox.credentials();
        if mode == SandboxKeyMode::Both {
            assert_eq!(serials.len(), 2, "{serials:?}");
            // A client that only knows the public key rejects certificate-signed ones, naming the serial.
            let pk_only = ClientConfig::builder(
                creds.mchid.clone(),
                creds.merchant_serial_no.clone(),
                creds.merchant_private_key_pem.clone(),
                creds.api_v3_key.clone(),
            )
            .wechatpay_public_key(
                creds.wechatpay_public_key_id.clone().unwrap(),
                creds.wechatpay_public_key_pem.clone().unwrap(),
            )
            .base_url(creds.base_url.clone())
            .build()
            .unwrap();
            let c2 = RefundClient::new(Arc::new(pk_only)).unwrap();
            let results: Vec<_> = (0..2)
                .map(|_| {
                    let n = sandbox.notification("R1".into()).unwrap();
                    c2.parse_notification(n.headers, n.body)
                })
                .collect();
            assert!(results.iter().any(|r| r.is_ok()));
            assert!(results.iter().any(|r| matches!(r, Err(RefundError::UnknownSerial { serial, .. }) if Some(serial) == creds.platform_certificate_serial_no.as_ref())));
        } else {
            assert_eq!(
                serials.into_iter().collect::<Vec<_>>(),
                vec![creds.platform_certificate_serial_no.unwrap()]
            );
        }
    }
}

#[test]
fn certificates_endpoint_serves_the_encrypted_platform_certificate() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        mode: Some(SandboxKeyMode::Certificate),
        ..Default::default()
    })
    .unwrap();
    let cfg = sandbox.client_config().unwrap();
    // Sign a GET /v3/certificates with the sans-IO pieces and send it over the built-in transport.
    let c = sandbox.credentials();
    let signer = LocalSigner::new(
        wechatpay_refund::crypto::RsaPrivateKey::from_pem(&c.merchant_private_key_pem).unwrap(),
    );
    let ts = SystemClock.now_unix();
    let auth = wechatpay_refund::sign::sign_request(
        &signer,
        &c.mchid,
        &c.merchant_serial_no,
        "GET",
        "/v3/certificates",
        ts,
        "N0NCE",
        b"",
    )
    .unwrap();
    let t = UreqTransport::new(Default::default());
    let resp = t
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{}/v3/certificates", c.base_url),
            headers: vec![
                HttpHeader::new("Authorization", auth),
                HttpHeader::new("Accept", "application/json"),
                HttpHeader::new("User-Agent", "test"),
            ],
            body: vec![],
            timeout_ms: None,
        })
        .unwrap();
    assert_eq!(resp.status, 200);
    verify_wechatpay_signature(cfg, resp.headers.clone(), resp.body.clone(), ts).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    let e = &v["data"][0]["encrypt_certificate"];
    let pem = decrypt_resource(
        c.api_v3_key,
        e["algorithm"].as_str().unwrap().into(),
        e["ciphertext"].as_str().unwrap().into(),
        e["nonce"].as_str().unwrap().into(),
        e["associated_data"].as_str().map(str::to_string),
    )
    .unwrap();
    assert_eq!(pem, c.platform_certificate_pem.unwrap());
}

#[test]
fn retryable_faults_are_retried_with_the_same_bytes_and_refund_once() {
    let faults = [
        SandboxFault::SystemError,
        SandboxFault::FrequencyLimited,
        SandboxFault::DropConnection,
        SandboxFault::Delay { millis: 900 },
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let sandbox = Sandbox::start().unwrap();
        let order = format!("T700700{i}");
        sandbox.create_order(order.clone(), 1_000).unwrap();
        let client = client_with(&sandbox, fast());
        sandbox.inject_fault(fault.clone(), 2);
        let r = client
            .create_refund(refund_req(&order, "R1", 10, 1_000))
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(r.amount.refund, 10);
        assert_eq!(sandbox.refund_count(order.clone()), 1, "{fault:?}");
        assert_eq!(sandbox.refunded_total(order), 10);
        // Three attempts reached the server, all with the identical request.
        let reqs = sandbox.requests();
        assert_eq!(reqs.len(), 3, "{fault:?}: {reqs:?}");
        assert!(reqs.iter().all(|r| r.url == "/v3/refund/domestic/refunds"));
    }
}

#[test]
fn retries_stop_at_max_attempts_and_report_retryable() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T8008000".into(), 1_000).unwrap();
    let client = client_with(
        &sandbox,
        ClientOptions {
            max_attempts: 2,
            ..fast()
        },
    );
    sandbox.inject_fault(SandboxFault::SystemError, 5);
    match client.create_refund(refund_req("T8008000", "R1", 10, 1_000)) {
        Err(e @ RefundError::Api { status: 500, .. }) => {
            assert!(e.is_retryable());
            assert!(e.to_string().contains("SYSTEM_ERROR"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sandbox.request_count(), 2);
    // Retrying later with the same out_refund_no is safe.
    sandbox.clear_faults();
    client
        .create_refund(refund_req("T8008000", "R1", 10, 1_000))
        .unwrap();
    assert_eq!(sandbox.refund_count("T8008000".into()), 1);
}

#[test]
fn untrustworthy_responses_surface_as_typed_errors() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T9009000".into(), 1_000).unwrap();
    let client = client_with(&sandbox, fast());
    let cases: Vec<(SandboxFault, fn(&RefundError) -> bool)> = vec![
        (SandboxFault::TamperedBody, |e| {
            matches!(e, RefundError::Signature { .. })
        }),
        (SandboxFault::StaleTimestamp, |e| {
            matches!(e, RefundError::TimestampOutOfWindow { .. })
        }),
        (SandboxFault::ProbeSignature, |e| {
            matches!(e, RefundError::ProbeSignature { .. })
        }),
        (
            SandboxFault::UnknownSerial,
            |e| matches!(e, RefundError::UnknownSerial { serial, .. } if serial.starts_with("PUB_KEY_ID_0119999")),
        ),
    ];
    for (i, (fault, expected)) in cases.into_iter().enumerate() {
        sandbox.inject_fault(fault.clone(), 1);
        let no = format!("R{i}");
        let e = client
            .create_refund(refund_req("T9009000", &no, 10, 1_000))
            .unwrap_err();
        assert!(expected(&e), "{fault:?}: {e:?}");
        assert!(e.request_id().is_some(), "{e:?}");
        // Not retried automatically; the refund was made once and a query finds it.
        assert_eq!(client.query_refund(no, None).unwrap().amount.refund, 10);
    }
    assert_eq!(sandbox.refund_count("T9009000".into()), 4);
}

#[test]
fn notifications_are_retried_until_acknowledged() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T1010100".into(), 100).unwrap();
    let client = client_of(&sandbox);
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/n", server.server_addr());
    let mut req = refund_req("T1010100", "R1", 1, 100);
    req.notify_url = Some(url);
    client.create_refund(req).unwrap();
    sandbox
        .set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    // Refuse twice (the merchant's database is down), then accept: WeChat Pay retries.
    let mut ids = vec![];
    for attempt in 0..3 {
        let mut r = server
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap()
            .unwrap();
        let headers: HashMap<String, String> = r
            .headers()
            .iter()
            .map(|h| (h.field.to_string(), h.value.to_string()))
            .collect();
        let mut body = vec![];
        std::io::Read::read_to_end(r.as_reader(), &mut body).unwrap();
        ids.push(client.parse_notification(headers, body).unwrap().id);
        let ack = if attempt < 2 {
            notification_ack_failure("db down".into())
        } else {
            notification_ack_success()
        };
        r.respond(tiny_http::Response::from_string(ack.body).with_status_code(ack.status))
            .unwrap();
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "a retried notification keeps its id: {ids:?}"
    );
    assert_eq!(delivered_at_least(&sandbox, 1), 1);
}

#[test]
fn stop_frees_the_port_and_joins_threads() {
    let sandbox = Sandbox::start().unwrap();
    let url = sandbox.base_url();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    sandbox.stop();
    sandbox.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let again = Sandbox::start_with(SandboxOptions {
        port,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(again.base_url(), url);
}

#[test]
fn the_sandbox_accepts_what_wechat_pay_accepts() {
    // Sets (or, with None, removes) one header of every request.
    struct Set(UreqTransport, &'static str, Option<&'static str>);
    impl HttpTransport for Set {
        fn send(&self, mut r: HttpRequest) -> Result<HttpResponse> {
            r.headers.retain(|h| !h.name.eq_ignore_ascii_case(self.1));
            if let Some(v) = self.2 {
                r.headers.push(HttpHeader::new(self.1, v));
            }
            self.0.send(r)
        }
    }
    let sandbox = Sandbox::start().unwrap();
    let query = |header, value| {
        RefundClient::with_transport(
            sandbox.client_config().unwrap(),
            Arc::new(Set(UreqTransport::new(Default::default()), header, value)),
        )
        .query_refund("R1".into(), None)
    };
    // What the official SDKs send (wechatpay-go: */*), or nothing: answered (404: no such refund).
    for accept in [
        Some("*/*"),
        Some("application/json"),
        Some("application/*;q=0.8"),
        None,
    ] {
        match query("Accept", accept) {
            Err(RefundError::Api { status: 404, .. }) => {}
            other => panic!("Accept {accept:?}: {other:?}"),
        }
    }
    // Refused: no User-Agent, an Accept that excludes JSON.
    for (header, value) in [("User-Agent", None), ("Accept", Some("text/html"))] {
        match query(header, value) {
            Err(RefundError::Api {
                status: 400,
                detail_field,
                ..
            }) => assert_eq!(detail_field.as_deref(), Some(header)),
            other => panic!("{header}: {other:?}"),
        }
    }
}

#[test]
fn lifecycle_over_tls_and_a_wrong_certificate_fails_clearly() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        tls: true,
        ..Default::default()
    })
    .unwrap();
    assert!(sandbox.base_url().starts_with("https://127.0.0.1:"));
    sandbox.create_order("T1111000".into(), 1_000).unwrap();
    let client = client_of(&sandbox);
    let r = client
        .create_refund(refund_req("T1111000", "R1", 10, 1_000))
        .unwrap();
    sandbox
        .set_refund_status("R1".into(), RefundStatus::Abnormal)
        .unwrap();
    client
        .apply_abnormal_refund(AbnormalRefundRequest::to_merchant_bank_card(
            r.refund_id,
            "R1",
        ))
        .unwrap();
    sandbox
        .set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    assert_eq!(
        client.query_refund("R1".into(), None).unwrap().status,
        RefundStatus::Success
    );

    // Trusting another CA (or the web PKI) must fail the handshake with a TLS error, not retry.
    let other = Sandbox::start_with(SandboxOptions {
        tls: true,
        ..Default::default()
    })
    .unwrap();
    let wrong_ca = other.credentials().tls_ca_pem.unwrap();
    for roots in [vec![wrong_ca], vec![]] {
        let client = client_with(
            &sandbox,
            ClientOptions {
                trust_roots_pem: roots,
                ..fast()
            },
        );
        let before = sandbox.request_count();
        match client.query_refund("R1".into(), None) {
            Err(RefundError::Transport {
                kind: TransportErrorKind::Tls,
                retryable: false,
                reason,
            }) => {
                assert!(reason.to_lowercase().contains("certificate"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            sandbox.request_count(),
            before,
            "nothing reached the server"
        );
    }
}

#[test]
fn re_delivered_notifications_are_accepted_marked_seen_and_records_checked() {
    let sandbox = Sandbox::start().unwrap();
    sandbox.create_order("T1212000".into(), 1_000).unwrap();
    let client = client_with(
        &sandbox,
        ClientOptions {
            replay_guard_capacity: 1000,
            ..fast()
        },
    );
    client
        .create_refund(refund_req("T1212000", "R1", 10, 1_000))
        .unwrap();
    sandbox
        .set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    let n = sandbox.notification("R1".into()).unwrap();
    let note = client
        .parse_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    assert!(!note.seen_before, "the first delivery");
    // The merchant's store failed and it answered 500: the very same bytes come again. Never
    // refused (the refund would never be recorded): returned, marked as seen.
    let again = client
        .parse_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    assert!(again.seen_before);
    assert_eq!(again.out_refund_no, "R1");
    // A freshly signed re-delivery of the same notification (same id, new nonce): seen too.
    let retry = sandbox.notification("R1".into()).unwrap();
    let again = client
        .parse_notification(retry.headers, retry.body)
        .unwrap();
    assert_eq!(
        (
            again.out_refund_no.as_str(),
            again.refund_status,
            again.id == note.id,
            again.seen_before
        ),
        ("R1", RefundStatus::Success, true, true)
    );
    // Without a guard nothing is remembered: every delivery comes back unmarked.
    let plain = client_with(&sandbox, fast());
    for _ in 0..2 {
        assert!(
            !plain
                .parse_notification(n.headers.clone(), n.body.clone())
                .unwrap()
                .seen_before
        );
    }

    // The merchant's record: matches, and each differing field is named.
    let mut expected = ExpectedRefund {
        mchid: "1900000001".into(),
        out_refund_no: "R1".into(),
        refund: 10,
        total: 1_000,
        sub_mchid: None,
    };
    check_notification(&note, &expected).unwrap();
    expected.refund = 11;
    assert!(
        matches!(check_notification(&note, &expected), Err(RefundError::NotificationMismatch { field, .. }) if field == "amount.refund")
    );
    expected.refund = 10;
    expected.mchid = "1900000002".into();
    assert!(
        matches!(check_notification(&note, &expected), Err(RefundError::NotificationMismatch { field, .. }) if field == "mchid")
    );
}

#[test]
fn the_rate_limiter_holds_requests_after_six_failures() {
    use std::sync::atomic::{AtomicU64, Ordering};
    #[derive(Clone, Default)]
    struct FakeClock(Arc<AtomicU64>);
    impl wechatpay_refund::ratelimit::MonotonicClock for FakeClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
        fn sleep_ms(&self, ms: u64) {
            self.0.fetch_add(ms, Ordering::SeqCst);
        }
    }
    let sandbox = Sandbox::start().unwrap();
    let clock = FakeClock::default();
    let limiter = Arc::new(RateLimiter::new(150, 6, Box::new(clock.clone())));
    let config = sandbox.client_config().unwrap();
    let client = RefundClient::with_parts(
        config,
        Arc::new(UreqTransport::new(Default::default())),
        Arc::new(SystemClock),
    )
    .with_rate_limiter(limiter);
    // Every query of an unknown refund fails (404): six of them spend the budget.
    for _ in 0..6 {
        assert!(client.query_refund("R404".into(), None).is_err());
    }
    assert_eq!(clock.0.load(Ordering::SeqCst), 0);
    assert!(client.query_refund("R404".into(), None).is_err());
    assert!(
        clock.0.load(Ordering::SeqCst) >= 1000,
        "the seventh failing request waited for the window"
    );
}
