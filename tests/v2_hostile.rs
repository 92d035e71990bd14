//! Hostile v2 input: answers and notifications that must fail with one specific typed error
//! (never a panic, never an expanded entity, never a believed field), and hostile requests to
//! the sandbox.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::v2::notify::encrypt_req_info;
use wechatpay_refund::v2::sign::sign;
use wechatpay_refund::v2::*;
use wechatpay_refund::{
    CryptoBackend, HttpHeader, HttpRequest, HttpResponse, HttpTransport, RefundError,
    TransportOptions, UreqTransport,
};

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

/// A transport that answers every request with a fixed body (the seam a custom transport uses).
struct Canned(Mutex<Vec<u8>>);

impl HttpTransport for Canned {
    fn send(&self, _r: HttpRequest) -> wechatpay_refund::Result<HttpResponse> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![HttpHeader::new("Content-Type", "text/xml")],
            body: self.0.lock().unwrap().clone(),
        })
    }
}

fn client(body: Vec<u8>) -> Arc<V2RefundClient> {
    let config = V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
        .options(wechatpay_refund::ClientOptions {
            max_attempts: 1,
            ..Default::default()
        })
        .build()
        .unwrap();
    V2RefundClient::with_transport(Arc::new(config), Arc::new(Canned(Mutex::new(body))))
}

fn refund_err(body: &[u8]) -> RefundError {
    client(body.to_vec())
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap_err()
}

/// A correctly signed answer with these fields (plus return_code / result_code SUCCESS).
fn signed_answer(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut all: Vec<(String, String)> = vec![
        ("return_code".into(), "SUCCESS".into()),
        ("result_code".into(), "SUCCESS".into()),
        ("appid".into(), "wx2421b1c4370ec43b".into()),
        ("mch_id".into(), "10000100".into()),
    ];
    all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let map = all.iter().cloned().collect();
    let s = sign(CryptoBackend::default(), V2SignType::Md5, &map, KEY);
    all.push(("sign".into(), s));
    let f: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    xml::write(&f, true)
}

const GOOD: &[(&str, &str)] = &[
    ("transaction_id", "4008450740201411110005820873"),
    ("out_trade_no", "T1"),
    ("out_refund_no", "R1"),
    ("refund_id", "2008450740201411110000174436"),
    ("refund_fee", "1"),
    ("coupon_refund_count", "2"),
    ("coupon_type_0", "CASH"),
    ("coupon_refund_id_0", "C0"),
    ("coupon_refund_fee_0", "1"),
    ("coupon_type_1", "SOMETHING_NEW"),
    ("coupon_refund_id_1", "C1"),
    ("coupon_refund_fee_1", "0"),
];

#[test]
fn a_good_answer_parses_with_indexed_coupons() {
    let r = client(signed_answer(GOOD))
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    assert_eq!(r.coupons.len(), 2);
    assert_eq!(r.coupons[0].coupon_type, Some(V2CouponType::Cash));
    assert_eq!(
        r.coupons[1].coupon_type,
        Some(V2CouponType::Unknown("SOMETHING_NEW".into()))
    );
    assert_eq!(r.coupons[1].coupon_refund_id, "C1");
}

fn is_decode(e: &RefundError) -> bool {
    matches!(e, RefundError::Decode { .. })
}

#[test]
fn hostile_answers_are_typed_errors() {
    let laughs = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]><xml><return_code>&lol3;</return_code></xml>".to_vec();
    let external = b"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><return_code>SUCCESS</return_code><refund_id>&xxe;</refund_id></xml>".to_vec();
    let undeclared =
        b"<xml><return_code>SUCCESS</return_code><refund_id>&xxe;</refund_id></xml>".to_vec();
    let mut duplicate = signed_answer(GOOD);
    let dup_at = duplicate.len() - "</xml>".len();
    duplicate.splice(
        dup_at..dup_at,
        b"<refund_fee>999</refund_fee>".iter().copied(),
    );
    let mut huge = b"<xml><return_code>SUCCESS</return_code><x>".to_vec();
    huge.resize(10 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"</x></xml>");
    for (name, body) in [
        ("billion laughs", laughs),
        ("external entity", external),
        ("undeclared entity", undeclared),
        ("duplicate tag", duplicate),
        ("10 MB body", huge),
        ("not XML", b"{\"code\":\"SUCCESS\"}".to_vec()),
        (
            "nested",
            b"<xml><return_code><a>SUCCESS</a></return_code></xml>".to_vec(),
        ),
        ("truncated", signed_answer(GOOD)[..100].to_vec()),
        ("no return_code", b"<xml><a>1</a></xml>".to_vec()),
    ] {
        let e = refund_err(&body);
        assert!(is_decode(&e), "{name}: {e:?}");
        assert!(
            !e.to_string().contains("root:"),
            "{name}: no file content in errors"
        );
    }
}

#[test]
fn unsigned_or_tampered_success_answers_are_signature_errors() {
    let unsigned = xml::write(
        &[
            ("return_code", "SUCCESS"),
            ("result_code", "SUCCESS"),
            ("refund_fee", "1"),
        ],
        true,
    );
    assert!(matches!(
        refund_err(&unsigned),
        RefundError::Signature { .. }
    ));
    let tampered = String::from_utf8(signed_answer(GOOD))
        .unwrap()
        .replace("<refund_fee><![CDATA[1]]>", "<refund_fee><![CDATA[100]]>");
    let e = refund_err(tampered.as_bytes());
    assert!(matches!(e, RefundError::Signature { .. }), "{e:?}");
    assert!(e.is_outcome_unknown());
    // A failure answer is believed only after its sign checks out.
    let forged_fail = xml::write(
        &[
            ("return_code", "SUCCESS"),
            ("result_code", "FAIL"),
            ("err_code", "NOTENOUGH"),
            ("sign", "00"),
        ],
        true,
    );
    assert!(matches!(
        refund_err(&forged_fail),
        RefundError::Signature { .. }
    ));
    // Required fields missing, numbers that are not numbers, absurd counts: Decode.
    let missing: Vec<_> = GOOD
        .iter()
        .filter(|(k, _)| *k != "refund_id")
        .copied()
        .collect();
    assert!(is_decode(&refund_err(&signed_answer(&missing))));
    let mut bad_fee: Vec<_> = GOOD.to_vec();
    bad_fee[4] = ("refund_fee", "1.5");
    assert!(is_decode(&refund_err(&signed_answer(&bad_fee))));
    let mut many: Vec<_> = GOOD.to_vec();
    many[5] = ("coupon_refund_count", "100000000");
    assert!(is_decode(&refund_err(&signed_answer(&many))));
    // Another merchant's (validly signed) answer.
    let other = signed_answer(GOOD);
    let other = String::from_utf8(other)
        .unwrap()
        .replace("10000100", "10000101");
    assert!(matches!(
        refund_err(other.as_bytes()),
        RefundError::Signature { .. } | RefundError::Decode { .. }
    ));
}

#[test]
fn hostile_notifications_are_typed_errors() {
    let c = client(Vec::new());
    let enc = |plain: &str| encrypt_req_info(CryptoBackend::default(), KEY, plain.as_bytes());
    let outer = |req_info: &str| {
        xml::write(
            &[
                ("return_code", "SUCCESS"),
                ("mch_id", "10000100"),
                ("req_info", req_info),
            ],
            true,
        )
    };
    let laughs = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><root><out_refund_no>&b;</out_refund_no></root>";
    // Whatever fails after a successful decryption is a Decryption error (issue 21 item 6): a
    // wrong key passing the padding check by chance gives garbage just like these.
    for (name, body, decrypt) in [
        ("laughs inside req_info", outer(&enc(laughs)), true),
        ("xxe inside req_info", outer(&enc("<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x\"><root/>")), true),
        ("duplicate inside req_info", outer(&enc("<root><refund_status>SUCCESS</refund_status><refund_status>CHANGE</refund_status></root>")), true),
        ("garbage plaintext", outer(&enc("\u{1}\u{2}not xml at all")), true),
        ("missing fields", outer(&enc("<root><refund_id>1</refund_id></root>")), true),
        ("signed amount", outer(&enc("<root><transaction_id>t</transaction_id><out_trade_no>o</out_trade_no><refund_id>r</refund_id><out_refund_no>n</out_refund_no><total_fee>+5</total_fee><refund_fee>1</refund_fee><refund_status>SUCCESS</refund_status></root>")), true),
        ("refund above total", outer(&enc("<root><transaction_id>t</transaction_id><out_trade_no>o</out_trade_no><refund_id>r</refund_id><out_refund_no>n</out_refund_no><total_fee>5</total_fee><refund_fee>6</refund_fee><refund_status>SUCCESS</refund_status></root>")), true),
        ("req_info not base64", outer("%%%"), true),
        ("req_info not whole blocks", outer("AAAA"), true),
        ("req_info under another key", outer(&encrypt_req_info(CryptoBackend::default(), "00000000000000000000000000000000", b"<root/>")), true),
        ("outer DTD", b"<!DOCTYPE xml><xml/>".to_vec(), false),
    ] {
        let e = c.parse_refund_notification(body).unwrap_err();
        if decrypt {
            assert!(matches!(e, RefundError::Decryption { .. }), "{name}: {e:?}");
        } else {
            assert!(is_decode(&e), "{name}: {e:?}");
        }
    }
}

#[test]
fn the_sandbox_refuses_hostile_requests() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_config().unwrap();
    let raw = UreqTransport::with_identity(
        TransportOptions::default(),
        &c.options.trust_roots_pem,
        c.identity.as_deref(),
    )
    .unwrap();
    let send = |body: Vec<u8>| {
        raw.send(HttpRequest {
            method: "POST".into(),
            url: format!("{}/secapi/pay/refund", c.base_url),
            headers: vec![],
            body,
            timeout_ms: None,
        })
    };
    // 10 MB: answered 413 from the Content-Length alone and the connection closed, so the
    // sender may see the 413 or a broken pipe; never a parse of the body.
    match send(vec![b'<'; 10 * 1024 * 1024]) {
        Ok(resp) => assert_eq!(resp.status, 413),
        Err(RefundError::Transport { .. }) => {}
        Err(e) => panic!("{e:?}"),
    }
    let resp =
        send(b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml><appid>&lol;</appid></xml>".to_vec())
            .unwrap();
    let e = wechatpay_refund::v2::response::parse_refund_response(&c, &resp).unwrap_err();
    assert!(
        matches!(&e, RefundError::V2Api { err_code: Some(code), .. } if code == "XML_FORMAT_ERROR"),
        "{e:?}"
    );
    // The sandbox keeps serving.
    sandbox.create_order("T-HOSTILE".into(), 10).unwrap();
    V2RefundClient::new(c)
        .unwrap()
        .refund(V2RefundRequest::by_out_trade_no(
            "T-HOSTILE",
            "R-HOSTILE",
            1,
            10,
        ))
        .unwrap();
}

/// Answers from a list, recording every request body.
struct Sequence {
    answers: Mutex<Vec<Vec<u8>>>,
    seen: Mutex<Vec<Vec<u8>>>,
}

impl HttpTransport for Sequence {
    fn send(&self, r: HttpRequest) -> wechatpay_refund::Result<HttpResponse> {
        self.seen.lock().unwrap().push(r.body);
        let mut a = self.answers.lock().unwrap();
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: a.remove(0),
        })
    }
}

#[test]
fn retries_send_identical_bytes_and_stop_on_final_codes() {
    let fail = |code: &str| {
        let mut all: Vec<(String, String)> = vec![
            ("return_code".into(), "SUCCESS".into()),
            ("result_code".into(), "FAIL".into()),
            ("err_code".into(), code.into()),
            ("mch_id".into(), "10000100".into()),
        ];
        let map = all.iter().cloned().collect();
        all.push((
            "sign".into(),
            sign(CryptoBackend::default(), V2SignType::Md5, &map, KEY),
        ));
        let f: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        xml::write(&f, true)
    };
    let config = Arc::new(
        V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
            .options(wechatpay_refund::ClientOptions {
                initial_backoff_ms: 1,
                max_backoff_ms: 2,
                ..Default::default()
            })
            .build()
            .unwrap(),
    );
    let t = Arc::new(Sequence {
        answers: Mutex::new(vec![
            fail("SYSTEMERROR"),
            fail("BIZERR_NEED_RETRY"),
            signed_answer(GOOD),
        ]),
        seen: Mutex::new(Vec::new()),
    });
    let c = V2RefundClient::with_transport(config.clone(), t.clone());
    c.refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|b| b == &seen[0]),
        "retries must re-send identical bytes"
    );
    // A final code is not retried; a retry-later one whose wait outlasts the deadline
    // (INVALID_REQ_TOO_MUCH: a minute) is returned with that wait.
    for (code, wait) in [("NOTENOUGH", None), ("INVALID_REQ_TOO_MUCH", Some(60_000))] {
        let t = Arc::new(Sequence {
            answers: Mutex::new(vec![fail(code), signed_answer(GOOD)]),
            seen: Mutex::new(Vec::new()),
        });
        let started = std::time::Instant::now();
        let e = V2RefundClient::with_transport(config.clone(), t.clone())
            .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
            .unwrap_err();
        assert!(matches!(&e, RefundError::V2Api { err_code: Some(c), .. } if c == code));
        assert_eq!(e.retry_after_ms(), wait, "{code}");
        assert_eq!(t.seen.lock().unwrap().len(), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    // FREQUENCY_LIMITED asks for a second: retried after at least that, within the deadline.
    let t = Arc::new(Sequence {
        answers: Mutex::new(vec![fail("FREQUENCY_LIMITED"), signed_answer(GOOD)]),
        seen: Mutex::new(Vec::new()),
    });
    let started = std::time::Instant::now();
    V2RefundClient::with_transport(config.clone(), t.clone())
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(1000));
    assert_eq!(t.seen.lock().unwrap().len(), 2);
    // ...but not past a shorter deadline.
    let short = Arc::new(
        V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
            .options(wechatpay_refund::ClientOptions {
                deadline_ms: 500,
                ..Default::default()
            })
            .build()
            .unwrap(),
    );
    let t = Arc::new(Sequence {
        answers: Mutex::new(vec![fail("FREQUENCY_LIMITED"), signed_answer(GOOD)]),
        seen: Mutex::new(Vec::new()),
    });
    let e = V2RefundClient::with_transport(short, t.clone())
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap_err();
    assert_eq!(e.retry_after_ms(), Some(1000));
    assert_eq!(t.seen.lock().unwrap().len(), 1);
}

#[test]
fn signed_answers_are_checked_against_the_request() {
    let with = |k: &str, v: &str| -> Vec<u8> {
        let fields: Vec<(&str, &str)> = GOOD
            .iter()
            .map(|(a, b)| if *a == k { (*a, v) } else { (*a, *b) })
            .collect();
        signed_answer(&fields)
    };
    let extra = |k: &'static str, v: &'static str| -> Vec<u8> {
        let mut fields = GOOD.to_vec();
        fields.push((k, v));
        signed_answer(&fields)
    };
    for (name, body, needle) in [
        (
            "another out_refund_no",
            with("out_refund_no", "R2"),
            "out_refund_no",
        ),
        ("another refund_fee", with("refund_fee", "2"), "refund_fee"),
        ("another order", with("out_trade_no", "T2"), "out_trade_no"),
        ("another total", extra("total_fee", "7"), "total_fee"),
        ("plus sign", with("refund_fee", "+1"), "plain digits"),
        ("minus sign", with("refund_fee", "-1"), "plain digits"),
        ("blank", with("refund_fee", " 1"), "plain digits"),
        (
            "signed coupon",
            with("coupon_refund_fee_1", "-0"),
            "plain digits",
        ),
    ] {
        match refund_err(&body) {
            RefundError::Decode { reason, .. } => {
                assert!(reason.contains(needle), "{name}: {reason}")
            }
            e => panic!("{name}: {e:?}"),
        }
    }
    // A refund above the order's total is no answer WeChat Pay gives.
    let over = signed_answer(&[
        ("transaction_id", "4008450740201411110005820873"),
        ("out_trade_no", "T1"),
        ("total_fee", "4"),
        ("refund_count", "1"),
        ("out_refund_no_0", "R1"),
        ("refund_id_0", "2008450740201411110000174436"),
        ("refund_fee_0", "5"),
        ("refund_status_0", "SUCCESS"),
    ]);
    let e = client(over)
        .refund_query(V2RefundQuery {
            out_refund_no: Some("R1".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Decode { reason, .. } if reason.contains("exceeds")),
        "{e:?}"
    );
    // A query answer about another refund than the one asked for.
    let q = signed_answer(&[
        ("transaction_id", "4008450740201411110005820873"),
        ("out_trade_no", "T1"),
        ("refund_count", "1"),
        ("out_refund_no_0", "R9"),
        ("refund_id_0", "2008450740201411110000174436"),
        ("refund_fee_0", "1"),
        ("refund_status_0", "SUCCESS"),
    ]);
    let e = client(q)
        .refund_query(V2RefundQuery {
            out_refund_no: Some("R1".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Decode { reason, .. } if reason.contains("out_refund_no")),
        "{e:?}"
    );
}

#[test]
fn a_business_failure_without_err_code_has_no_code() {
    let mut all: Vec<(String, String)> = vec![
        ("return_code".into(), "SUCCESS".into()),
        ("result_code".into(), "FAIL".into()),
        ("err_code_des".into(), "something".into()),
        ("mch_id".into(), "10000100".into()),
    ];
    let map = all.iter().cloned().collect();
    all.push((
        "sign".into(),
        sign(CryptoBackend::default(), V2SignType::Md5, &map, KEY),
    ));
    let f: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match refund_err(&xml::write(&f, true)) {
        RefundError::V2Api {
            return_code,
            err_code: None,
            err_code_des: Some(d),
            retryable: false,
            retry_after_ms: None,
            ..
        } => assert_eq!((return_code.as_str(), d.as_str()), ("SUCCESS", "something")),
        e => panic!("{e:?}"),
    }
}

#[test]
fn v2_configuration_refuses_what_it_cannot_honour() {
    let b = || V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY);
    // Mutual TLS cannot be dropped silently: plain http only for loopback (v3's rule).
    for url in [
        "http://api.mch.weixin.qq.com",
        "http://10.0.0.1:8080",
        "ftp://127.0.0.1",
        "https://api.mch.weixin.qq.com/pay",
    ] {
        let e = b().base_url(url).build().unwrap_err();
        assert!(
            matches!(&e, RefundError::Config { reason } if reason.contains("base_url")),
            "{url}: {e:?}"
        );
    }
    for url in [
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
        "https://example.com",
    ] {
        b().base_url(url).build().unwrap();
    }
    let with = |o: wechatpay_refund::ClientOptions| b().options(o).build();
    let e = with(wechatpay_refund::ClientOptions {
        backup_base_url: Some("http://api2.mch.weixin.qq.com".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("backup_base_url")),
        "{e:?}"
    );
    let e = with(wechatpay_refund::ClientOptions {
        user_agent: Some("a\r\nb".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("user_agent")),
        "{e:?}"
    );
    let e = with(wechatpay_refund::ClientOptions {
        replay_guard_capacity: 10,
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("replay_guard_capacity")),
        "{e:?}"
    );
    let e = with(wechatpay_refund::ClientOptions {
        max_attempts: 0,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(e, RefundError::Config { .. }));
    // Production gets the official backup host, as in v3.
    let c = b().build().unwrap();
    assert_eq!(
        c.backup_base_url.as_deref(),
        Some("https://api2.mch.weixin.qq.com")
    );
    assert!(c.user_agent.starts_with("wechatpay-refund/"));
}

/// What a transport saw of one request: URL, User-Agent, body.
type Seen = (String, Option<String>, Vec<u8>);

/// Answers by URL: a 502 from the primary host, the good answer from the backup.
struct ByHost {
    primary: String,
    seen: Mutex<Vec<Seen>>,
}

impl HttpTransport for ByHost {
    fn send(&self, r: HttpRequest) -> wechatpay_refund::Result<HttpResponse> {
        let ua = r
            .headers
            .iter()
            .find(|h| h.name == "User-Agent")
            .map(|h| h.value.clone());
        let primary = r.url.starts_with(&self.primary);
        self.seen.lock().unwrap().push((r.url, ua, r.body));
        Ok(if primary {
            HttpResponse {
                status: 502,
                headers: vec![],
                body: b"Bad Gateway".to_vec(),
            }
        } else {
            HttpResponse {
                status: 200,
                headers: vec![],
                body: signed_answer(GOOD),
            }
        })
    }
}

#[test]
fn v2_fails_over_to_the_backup_host_with_identical_bytes_and_its_user_agent() {
    let config = V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
        .base_url("https://primary.example")
        .options(wechatpay_refund::ClientOptions {
            backup_base_url: Some("https://backup.example".into()),
            user_agent: Some("merchant-app/1.0".into()),
            initial_backoff_ms: 1,
            max_backoff_ms: 2,
            ..Default::default()
        })
        .build()
        .unwrap();
    let t = Arc::new(ByHost {
        primary: "https://primary.example".into(),
        seen: Mutex::new(Vec::new()),
    });
    V2RefundClient::with_transport(Arc::new(config), t.clone())
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    let seen = t.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "https://primary.example/secapi/pay/refund");
    assert_eq!(seen[1].0, "https://backup.example/secapi/pay/refund");
    assert!(seen
        .iter()
        .all(|s| s.1.as_deref() == Some("merchant-app/1.0")));
    assert_eq!(seen[0].2, seen[1].2, "the backup gets identical bytes");
}

#[test]
fn v2_rate_limit_holds_requests_after_invalid_req_too_much() {
    use wechatpay_refund::ratelimit::{MonotonicClock, RateLimiter};
    #[derive(Clone, Default)]
    struct Fake(Arc<std::sync::atomic::AtomicU64>);
    impl MonotonicClock for Fake {
        fn now_ms(&self) -> u64 {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn sleep_ms(&self, ms: u64) {
            self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let mut all: Vec<(String, String)> = vec![
        ("return_code".into(), "SUCCESS".into()),
        ("result_code".into(), "FAIL".into()),
        ("err_code".into(), "INVALID_REQ_TOO_MUCH".into()),
        ("mch_id".into(), "10000100".into()),
    ];
    let map = all.iter().cloned().collect();
    all.push((
        "sign".into(),
        sign(CryptoBackend::default(), V2SignType::Md5, &map, KEY),
    ));
    let f: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let blocked = xml::write(&f, true);
    let config = Arc::new(
        V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
            .options(wechatpay_refund::ClientOptions {
                rate_limit: true,
                ..Default::default()
            })
            .build()
            .unwrap(),
    );
    let clock = Fake::default();
    let limiter = Arc::new(RateLimiter::new(150, 6, Box::new(clock.clone())));
    let t = Arc::new(Sequence {
        answers: Mutex::new(vec![blocked, signed_answer(GOOD)]),
        seen: Mutex::new(Vec::new()),
    });
    let c = V2RefundClient::with_parts(config, t.clone(), Some(t.clone()))
        .with_rate_limiter(limiter.clone());
    let e = c
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap_err();
    assert_eq!(e.retry_after_ms(), Some(60_000));
    // The next call within the deadline (30 s) may not send: the minute's hold outlasts it.
    let e = c
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            RefundError::Transport {
                kind: wechatpay_refund::TransportErrorKind::DeadlineExceeded,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(t.seen.lock().unwrap().len(), 1, "nothing sent while held");
    // After the minute (the fake clock moves), requests flow again.
    clock.sleep_ms(60_000);
    c.refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    assert_eq!(t.seen.lock().unwrap().len(), 2);
}

#[test]
fn a_plain_http_test_server_needs_no_client_certificate() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr());
    let answer = signed_answer(GOOD);
    let handle = std::thread::spawn(move || {
        let mut r = server.recv().unwrap();
        let mut body = Vec::new();
        std::io::Read::read_to_end(r.as_reader(), &mut body).unwrap();
        let ct = r
            .headers()
            .iter()
            .find(|h| h.field.equiv("Content-Type"))
            .map(|h| h.value.to_string());
        let url = r.url().to_string();
        r.respond(tiny_http::Response::from_data(answer)).unwrap();
        (url, ct, body)
    });
    let config = V2Config::builder("wx2421b1c4370ec43b", "10000100", KEY)
        .base_url(base)
        .build()
        .unwrap();
    let r = V2RefundClient::new(Arc::new(config))
        .unwrap()
        .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
        .unwrap();
    assert_eq!(r.refund_id, "2008450740201411110000174436");
    let (url, ct, body) = handle.join().unwrap();
    assert_eq!(url, "/secapi/pay/refund");
    assert_eq!(ct.as_deref(), Some("text/xml; charset=utf-8"));
    let f = xml::parse("request", &body).unwrap();
    wechatpay_refund::v2::sign::verify(CryptoBackend::default(), V2SignType::Md5, &f.fields, KEY)
        .unwrap();
}
