//! Every error path a user can hit, each expecting its specific typed error.
#![allow(clippy::result_large_err)]

mod common;

use common::{keys, s, signed};

use serde_json::Value;
use std::sync::Arc;
use wechatpay_refund::crypto::RsaPrivateKey;
use wechatpay_refund::refund::response::parse_refund_response;
use wechatpay_refund::*;

fn builder(_k: &Value) -> ClientConfigBuilder {
    common::builder()
}

fn config_error(b: ClientConfigBuilder) -> String {
    match b.build() {
        Err(RefundError::Config { reason }) => reason,
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn configuration_errors_name_the_setting() {
    let k = keys();
    builder(&k).build().unwrap();
    let with_key = |pem: String| {
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            pem,
            s(&k["api_v3_key"]),
        )
        .wechatpay_public_key(
            s(&k["wechatpay_public_key"]["id"]),
            s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
    };
    let pkcs8 = s(&k["merchant"]["private_key_pkcs8_pem"]);
    let truncated = pkcs8[..pkcs8.len() / 2].to_string();
    let cases: Vec<(ClientConfigBuilder, &str)> = vec![
        (ClientConfig::builder("1900000001", s(&k["merchant"]["serial_no"]), pkcs8.clone(), "short")
            .wechatpay_public_key(s(&k["wechatpay_public_key"]["id"]), s(&k["wechatpay_public_key"]["public_key_pem"])), "api_v3_key must be exactly 32 bytes"),
        (ClientConfig::builder("1900000001", s(&k["merchant"]["serial_no"]), pkcs8.clone(), "0123456789abcdef0123456789abcdef0")
            .wechatpay_public_key(s(&k["wechatpay_public_key"]["id"]), s(&k["wechatpay_public_key"]["public_key_pem"])), "got 33 bytes"),
        (with_key("garbage".into()), "merchant_private_key_pem: no PEM block"),
        (with_key(truncated), "merchant_private_key_pem"),
        (with_key(s(&k["wechatpay_public_key"]["public_key_pem"])), "found BEGIN PUBLIC KEY"),
        (with_key(s(&k["rsa1024"]["private_key_pkcs8_pem"])), "merchant_private_key_pem"),
        (with_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n".into()), "encrypted with a passphrase"),
        (ClientConfig::builder("19x", s(&k["merchant"]["serial_no"]), pkcs8.clone(), s(&k["api_v3_key"])), "mchid must be 1 to 32 digits"),
        (ClientConfig::builder("1900000001", "not-hex", pkcs8.clone(), s(&k["api_v3_key"])), "merchant_serial_no"),
        (ClientConfig::builder("1900000001", s(&k["merchant"]["serial_no"]), pkcs8.clone(), s(&k["api_v3_key"])), "no WeChat Pay key"),
        (builder(&k).wechatpay_public_key("1234", s(&k["wechatpay_public_key"]["public_key_pem"])), "PUB_KEY_ID_"),
        (builder(&k).wechatpay_public_key("PUB_KEY_ID_1", s(&k["platform"]["certificate_pem"])), "found a certificate"),
        (builder(&k).platform_certificate(s(&k["wechatpay_public_key"]["public_key_pem"])), "platform certificate: expected a certificate"),
        (builder(&k).base_url("http://api.example.com"), "plain http is refused"),
        (builder(&k).base_url("https://api.example.com/v3"), "without a path"),
        (builder(&k).base_url("ftp://x"), "must use https"),
        (builder(&k).options(ClientOptions { max_attempts: 0, ..Default::default() }), "max_attempts"),
    ];
    for (i, (b, needle)) in cases.into_iter().enumerate() {
        let reason = config_error(b);
        assert!(
            reason.contains(needle),
            "case {i}: {reason:?} should contain {needle:?}"
        );
    }
    // The 1024-bit key is rejected for its size, with either backend.
    for backend in CryptoBackend::available() {
        let e = RsaPrivateKey::from_pem_with(backend, &s(&k["rsa1024"]["private_key_pkcs8_pem"]))
            .unwrap_err();
        assert!(
            e.contains("2048") || e.contains("rejected"),
            "{backend:?}: {e}"
        );
    }
    // http on loopback is the sandbox case and is accepted.
    builder(&k)
        .base_url("http://127.0.0.1:8080/")
        .build()
        .unwrap();
}

#[test]
fn secrets_never_print() {
    let k = keys();
    let cfg = builder(&k).build().unwrap();
    let api_v3_key = s(&k["api_v3_key"]);
    for text in [format!("{cfg:?}"), format!("{cfg}")] {
        assert!(
            !text.contains("PRIVATE KEY") && !text.contains(&api_v3_key) && !text.contains("MII"),
            "{text}"
        );
        assert!(text.contains("1900000001"));
    }
    let req = AbnormalRefundRequest::to_user_bank_card(
        "1",
        "R1",
        "ICBC_DEBIT",
        "6222021234567890",
        "张三",
    );
    let text = format!("{req:?}");
    assert!(
        !text.contains("6222021234567890") && !text.contains("张三"),
        "{text}"
    );

    // Clients, and every error a wrong key or bank input produces, print no secret either.
    let cfg = std::sync::Arc::new(cfg);
    let client = RefundClient::with_transport(cfg.clone(), std::sync::Arc::new(NoNetwork));
    let pem = s(&k["merchant"]["private_key_pkcs8_pem"]);
    let secret_lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut texts = vec![format!("{client:?}"), format!("{client}")];
    assert!(texts.iter().all(|t| !t.contains("PRIVATE KEY")));
    let broken = pem.replace(secret_lines[3], "!!!!");
    for bad in [
        broken,
        pem[..pem.len() / 2].to_string(),
        pem.replace("PRIVATE KEY", "PUBLIC KEY"),
    ] {
        let e = ClientConfig::builder("1900000001", "AB", bad, "0123456789abcdef0123456789abcdef")
            .build()
            .unwrap_err();
        texts.push(format!("{e:?} {e}"));
    }
    let e = ClientConfig::builder(
        "1900000001",
        "AB",
        pem.clone(),
        "0123456789abcdef0123456789abcde",
    )
    .build()
    .unwrap_err();
    texts.push(format!("{e:?} {e}"));
    let mut bad_card = req.clone();
    bad_card.bank_account = Some("6222-0212-3456-7890".into());
    let e = build_apply_abnormal_refund_request(cfg.clone(), bad_card, 1_795_000_000, "N".into())
        .unwrap_err();
    texts.push(format!("{e:?} {e}"));
    for text in &texts {
        // (Error texts may name a PEM label such as "PRIVATE KEY"; never its contents.)
        assert!(!text.contains("0123456789abcdef0123456789abcde"), "{text}");
        assert!(
            !text.contains(&api_v3_key) && !text.contains("6222") && !text.contains("张三"),
            "{text}"
        );
        assert!(secret_lines.iter().all(|l| !text.contains(l)), "{text}");
    }
}

struct NoNetwork;
impl HttpTransport for NoNetwork {
    fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
        Err(RefundError::transport(
            TransportErrorKind::Other,
            "no network in this test",
        ))
    }
}

#[test]
fn response_error_paths() {
    let cfg = Arc::new(builder(&keys()).build().unwrap());
    let now = 1_795_000_000;
    let rid = Some("RID-1".to_string());
    // Verified but not JSON / wrong types / missing fields / negative amounts: Decode.
    for body in [&b"not json"[..], b"{\"refund_id\":1}", b"{}", b"\xff\xfe",
        br#"{"refund_id":"1","out_refund_no":"R","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":-1,"refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#,
        br#"{"refund_id":"1","out_refund_no":"R","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":99999999999999999999,"refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#] {
        match parse_refund_response(&cfg, &signed(200, body, now), now) {
            Err(RefundError::Decode { request_id, .. }) => assert_eq!(request_id, rid),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
    // Unknown enum values and unknown fields are kept, not fatal.
    let ok = br#"{"refund_id":"1","out_refund_no":"R","transaction_id":"T","out_trade_no":"O","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","status":"NEW_STATUS","channel":"SPACE","funds_account":"MOON","amount":{"total":2,"refund":1,"from":[{"account":"FUTURE","amount":1}],"payer_total":2,"payer_refund":1,"settlement_refund":1,"settlement_total":2,"discount_refund":0,"currency":"CNY"},"future_field":{"x":1}}"#;
    let r = parse_refund_response(&cfg, &signed(200, ok, now), now).unwrap();
    assert_eq!(
        (r.status, r.channel, r.funds_account),
        (
            RefundStatus::Unknown("NEW_STATUS".into()),
            RefundChannel::Unknown("SPACE".into()),
            FundsAccount::Unknown("MOON".into())
        )
    );
    assert_eq!(
        r.amount.funds_from[0].account,
        FromAccount::Unknown("FUTURE".into())
    );
    assert!(r.raw_json.contains("NEW_STATUS"));
    // A 2xx without signature headers is forged.
    let mut forged = signed(200, ok, now);
    forged.headers.retain(|h| h.name == "Request-ID");
    assert!(matches!(
        parse_refund_response(&cfg, &forged, now),
        Err(RefundError::Signature { .. })
    ));
    // A signed error response becomes Api with every field.
    let err = r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"out_refund_no","value":"x","issue":"too long","location":"body"}}"#.as_bytes();
    match parse_refund_response(&cfg, &signed(400, err, now), now) {
        Err(RefundError::Api {
            status: 400,
            code,
            error_message,
            detail_field,
            detail_issue,
            detail_location,
            request_id,
            retryable: false,
            retry_after_ms: None,
        }) => {
            assert_eq!(
                (code.as_str(), error_message.as_str()),
                ("PARAM_ERROR", "参数错误")
            );
            assert_eq!(
                (
                    detail_field.as_deref(),
                    detail_issue.as_deref(),
                    detail_location.as_deref()
                ),
                (Some("out_refund_no"), Some("too long"), Some("body"))
            );
            assert_eq!(request_id, rid);
        }
        other => panic!("{other:?}"),
    }
    // A signed error response with a bad signature is a signature error, not an API error.
    let mut bad = signed(500, b"{\"code\":\"SYSTEM_ERROR\",\"message\":\"x\"}", now);
    bad.body[2] ^= 1;
    assert!(matches!(
        parse_refund_response(&cfg, &bad, now),
        Err(RefundError::Signature { .. })
    ));
    // An unsigned 502 from a proxy: Api, retryable, with the text.
    let proxy = HttpResponse {
        status: 502,
        headers: vec![],
        body: b"<html>Bad Gateway</html>".to_vec(),
    };
    match parse_refund_response(&cfg, &proxy, now) {
        Err(e @ RefundError::Api { status: 502, .. }) => {
            assert!(e.is_retryable() && e.to_string().contains("Bad Gateway"))
        }
        other => panic!("{other:?}"),
    }
    // 429 is retryable; stale signatures are rejected.
    assert!(parse_refund_response(
        &cfg,
        &signed(
            429,
            b"{\"code\":\"FREQUENCY_LIMITED\",\"message\":\"slow\"}",
            now
        ),
        now
    )
    .unwrap_err()
    .is_retryable());
    // When to retry: a 429's Retry-After (delta-seconds, capped at an hour), else one second;
    // nothing for other statuses.
    let limited = b"{\"code\":\"FREQUENCY_LIMITED\",\"message\":\"slow\"}";
    let e = parse_refund_response(&cfg, &signed(429, limited, now), now).unwrap_err();
    assert_eq!(e.retry_after_ms(), Some(1000), "{e:?}");
    for (value, want) in [
        ("7", Some(7000)),
        (" 0 ", Some(0)),
        ("99999999999", Some(3_600_000)),
        ("Wed, 21 Oct 2015 07:28:00 GMT", Some(1000)),
    ] {
        let mut r = signed(429, limited, now);
        r.headers.push(HttpHeader::new("retry-after", value));
        let e = parse_refund_response(&cfg, &r, now).unwrap_err();
        assert!(
            matches!(e, RefundError::Api { status: 429, retry_after_ms, .. } if retry_after_ms == want),
            "{value:?}: {e:?}"
        );
    }
    let mut r = signed(500, b"{\"code\":\"SYSTEM_ERROR\",\"message\":\"x\"}", now);
    r.headers.push(HttpHeader::new("Retry-After", "5"));
    assert_eq!(
        parse_refund_response(&cfg, &r, now)
            .unwrap_err()
            .retry_after_ms(),
        None
    );
    assert!(matches!(
        parse_refund_response(&cfg, &signed(200, ok, now - 301), now),
        Err(RefundError::TimestampOutOfWindow { .. })
    ));
    // Duplicated, conflicting signature headers and oversized bodies.
    let mut dup = signed(200, ok, now);
    dup.headers
        .push(HttpHeader::new("Wechatpay-Nonce", "OTHER"));
    assert!(
        matches!(parse_refund_response(&cfg, &dup, now), Err(RefundError::Signature { reason, .. }) if reason.contains("more than once"))
    );
    let mut huge = signed(200, ok, now);
    huge.body = vec![b' '; 2 * 1024 * 1024];
    assert!(matches!(
        parse_refund_response(&cfg, &huge, now),
        Err(RefundError::Decode { .. })
    ));
    let mut nonnum = signed(200, ok, now);
    nonnum.headers[0].value = "soon".into();
    assert!(
        matches!(parse_refund_response(&cfg, &nonnum, now), Err(RefundError::Signature { reason, .. }) if reason.contains("not a unix timestamp"))
    );
}

#[cfg(feature = "ureq-transport")]
#[test]
fn transport_errors_are_typed_and_retried_within_bounds() {
    // Nothing listens on this port: Connect errors, retried max_attempts times, then reported.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = builder(&keys())
        .base_url(format!("http://127.0.0.1:{port}"))
        .options(ClientOptions {
            max_attempts: 2,
            initial_backoff_ms: 1,
            max_backoff_ms: 2,
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = RefundClient::new(Arc::new(cfg)).unwrap();
    match client.query_refund("R1".into(), None) {
        Err(RefundError::Transport {
            kind: TransportErrorKind::Connect,
            retryable: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failing_signer_is_a_typed_error() {
    struct Broken;
    impl Signer for Broken {
        fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>> {
            Err(RefundError::Signer {
                reason: "KMS unavailable".into(),
            })
        }
    }
    let k = keys();
    let cfg = ClientConfig::builder_with_signer(
        s(&k["mchid"]),
        s(&k["merchant"]["serial_no"]),
        Arc::new(Broken),
        s(&k["api_v3_key"]),
    )
    .wechatpay_public_key(
        s(&k["wechatpay_public_key"]["id"]),
        s(&k["wechatpay_public_key"]["public_key_pem"]),
    )
    .build()
    .unwrap();
    let e =
        build_query_refund_request(Arc::new(cfg), "R1".into(), None, 1, "N".into()).unwrap_err();
    assert_eq!(
        e,
        RefundError::Signer {
            reason: "KMS unavailable".into()
        }
    );
}
