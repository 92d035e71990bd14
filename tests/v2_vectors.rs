//! Legacy v2 golden vectors (tests/vectors/v2.json, made with Python hashlib/hmac/cryptography)
//! checked against this crate with every compiled backend, and this crate's own v2 messages
//! checked back by the independent checker (tests/vectors/check_v2_vectors.py).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use wechatpay_refund::v2::notify::{decrypt_req_info, encrypt_req_info, parse_refund_notification};
use wechatpay_refund::v2::request::{build_refund, build_refund_query};
use wechatpay_refund::v2::sign::{sign, sign_string, verify};
use wechatpay_refund::v2::*;
use wechatpay_refund::CryptoBackend;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("v2.json")).unwrap()).unwrap()
}

fn params(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn python() -> String {
    std::env::var("WECHATPAY_REFUND_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_checker(args: &[&str]) {
    let out = std::process::Command::new(python())
        .arg(dir().join("check_v2_vectors.py"))
        .args(args)
        .output()
        .expect(
            "python3 is needed for the independent v2 vector check (set WECHATPAY_REFUND_PYTHON)",
        );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "independent v2 checker failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 failed"), "{text}");
}

#[test]
fn sign_cases_match_the_vectors() {
    let v = vectors();
    let cases = v["sign_cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for b in CryptoBackend::available() {
        for c in cases {
            let p = params(&c["params"]);
            let key = c["api_key"].as_str().unwrap();
            let t = V2SignType::from_wire(c["sign_type"].as_str().unwrap()).unwrap();
            assert_eq!(
                sign_string(&p, key),
                c["sign_string"].as_str().unwrap(),
                "{}",
                c["name"]
            );
            assert_eq!(
                sign(b, t, &p, key),
                c["sign"].as_str().unwrap(),
                "{} {b:?}",
                c["name"]
            );
            let mut signed = p.clone();
            signed.insert("sign".into(), c["sign"].as_str().unwrap().into());
            verify(b, t, &signed, key).unwrap();
            let other = if t == V2SignType::Md5 {
                V2SignType::HmacSha256
            } else {
                V2SignType::Md5
            };
            assert!(verify(b, other, &signed, key).is_err());
        }
    }
}

#[test]
fn notification_vector_decrypts_and_parses() {
    let v = vectors();
    let n = &v["notification"];
    let key = n["api_key"].as_str().unwrap();
    let e = &n["expected"];
    for b in CryptoBackend::available() {
        let plain = decrypt_req_info(b, key, n["req_info"].as_str().unwrap()).unwrap();
        assert_eq!(
            plain.as_slice(),
            n["plaintext"].as_str().unwrap().as_bytes()
        );
        // ECB is deterministic: our encryption gives the vector's bytes.
        assert_eq!(
            encrypt_req_info(b, key, &plain),
            n["req_info"].as_str().unwrap()
        );
        let note = parse_refund_notification(
            b,
            key,
            Some("10000100"),
            n["body"].as_str().unwrap().as_bytes(),
        )
        .unwrap();
        assert_eq!(note.out_refund_no, e["out_refund_no"].as_str().unwrap());
        assert_eq!(note.refund_status, V2RefundStatus::Success);
        assert_eq!(note.refund_fee, 100);
        assert_eq!(note.total_fee, 10000);
        assert_eq!(note.refund_recv_accout.as_deref(), Some("支付用户零钱"));
        assert_eq!(note.refund_request_source, Some(V2RefundRequestSource::Api));
        assert_eq!(
            note.refund_account,
            Some(V2RefundAccount::RefundSourceRechargeFunds)
        );
        assert_eq!(note.success_time.as_deref(), Some("2026-11-24 20:00:00"));
        // A wrong API key does not decrypt; another merchant is refused.
        let wrong = parse_refund_notification(
            b,
            "00000000000000000000000000000000",
            None,
            n["body"].as_str().unwrap().as_bytes(),
        );
        assert!(
            matches!(wrong, Err(wechatpay_refund::RefundError::Decryption { .. })),
            "{wrong:?}"
        );
        let other = parse_refund_notification(
            b,
            key,
            Some("1900000001"),
            n["body"].as_str().unwrap().as_bytes(),
        );
        assert!(matches!(
            other,
            Err(wechatpay_refund::RefundError::NotificationMismatch { .. })
        ));
    }
}

#[test]
fn the_independent_checker_accepts_the_vectors() {
    run_checker(&[]);
}

#[test]
fn our_requests_and_notifications_pass_the_independent_checker() {
    let key = "192006250b4c09247ec02edce69f6a2d";
    let mut signed = Vec::new();
    for (t, b) in [
        (V2SignType::Md5, CryptoBackend::default()),
        (V2SignType::HmacSha256, CryptoBackend::default()),
    ] {
        let config = V2Config::builder("wx8888888888888888", "1900000109", key)
            .sign_type(t)
            .crypto_backend(b)
            .sub_merchant("1900000110", Some("wx1234567890abcdef".into()))
            .build()
            .unwrap();
        let mut r =
            V2RefundRequest::by_out_trade_no("T20261124001", "R-2026_11|24*x@y", 600, 10000);
        r.refund_desc = Some("商品已售完 & <退款> ]]>".into());
        r.notify_url = Some("https://merchant.example.com/notify".into());
        r.refund_account = Some(V2RefundAccount::RefundSourceRechargeFunds);
        let req = build_refund(&config, &r, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS").unwrap();
        assert!(req.url.ends_with("/secapi/pay/refund"));
        signed.push(json!({"api_key": key, "sign_type": t.as_str(), "xml": String::from_utf8(req.body).unwrap()}));
        let q = build_refund_query(
            &config,
            &V2RefundQuery {
                out_refund_no: Some("R1".into()),
                out_trade_no: Some("T1".into()),
                offset: Some(20),
                ..Default::default()
            },
            "N1",
        )
        .unwrap();
        let body = String::from_utf8(q.body).unwrap();
        assert!(
            body.contains("<out_refund_no>R1</out_refund_no>") && !body.contains("out_trade_no"),
            "{body}"
        );
        signed.push(json!({"api_key": key, "sign_type": t.as_str(), "xml": body}));
    }
    let plain = "<root><out_refund_no><![CDATA[R9]]></out_refund_no><refund_status><![CDATA[REFUNDCLOSE]]></refund_status></root>";
    let note = format!(
        "<xml><return_code>SUCCESS</return_code><mch_id>1900000109</mch_id><req_info><![CDATA[{}]]></req_info></xml>",
        encrypt_req_info(CryptoBackend::default(), key, plain.as_bytes())
    );
    let out = json!({
        "signed": signed,
        "notifications": [{"api_key": key, "body": note, "out_refund_no": "R9", "refund_status": "REFUNDCLOSE"}],
    });
    let path = std::env::temp_dir().join(format!(
        "wechatpay-refund-v2-rust-output-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, out.to_string()).unwrap();
    run_checker(&["--rust-output", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(path);
}
