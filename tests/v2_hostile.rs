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
    for (name, body, decrypt) in [
        ("laughs inside req_info", outer(&enc(laughs)), false),
        ("xxe inside req_info", outer(&enc("<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x\"><root/>")), false),
        ("duplicate inside req_info", outer(&enc("<root><refund_status>SUCCESS</refund_status><refund_status>CHANGE</refund_status></root>")), false),
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
    // A final code is not retried; neither is a retry-later one.
    for code in ["NOTENOUGH", "FREQUENCY_LIMITED"] {
        let t = Arc::new(Sequence {
            answers: Mutex::new(vec![fail(code), signed_answer(GOOD)]),
            seen: Mutex::new(Vec::new()),
        });
        let e = V2RefundClient::with_transport(config.clone(), t.clone())
            .refund(V2RefundRequest::by_out_trade_no("T1", "R1", 1, 1))
            .unwrap_err();
        assert!(matches!(&e, RefundError::V2Api { err_code: Some(c), .. } if c == code));
        assert_eq!(t.seen.lock().unwrap().len(), 1);
    }
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
