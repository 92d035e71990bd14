//! The hostile-input table: malformed keys, API v3 keys, headers, bodies, notification
//! envelopes, probe signatures, unknown serials and request inputs breaking every rule — each
//! row expecting one specific typed error (and never a panic).
#![allow(clippy::result_large_err)]

mod common;

use base64::Engine;
use common::*;
use serde_json::json;
use std::collections::HashMap;
use wechatpay_refund::crypto::{RsaPrivateKey, RsaPublicKey};
use wechatpay_refund::notify::encrypt_resource;
use wechatpay_refund::refund::response::parse_refund_response;
use wechatpay_refund::*;

const NOW: i64 = 1_795_000_000;

/// An EC P-256 key (TEST KEY, generated for this table): not RSA, must be refused.
const EC_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfavgDXBRbj+pUZnn
O8dbH+W9p5A+WIMC/PNlFy2t7n6hRANCAASwssBcQ7TRZsb8fRPQQFqIu6TZIPzW
UFSL/vQrsAvroaNSOOCRebzrPXT2K4HbCosCOdt4muLO1hn5DahMhkVB
-----END PRIVATE KEY-----
";

#[derive(Debug)]
enum Expect {
    Config(&'static str),
    Invalid(&'static str),
    Signature(&'static str),
    Probe,
    Timestamp,
    UnknownSerial,
    Decode,
    Decryption(&'static str),
    Ok,
}

type Case = (&'static str, Box<dyn Fn() -> Result<()>>, Expect);

fn check(name: &str, got: Result<()>, want: &Expect) {
    let ok = match (&got, want) {
        (Err(RefundError::Config { reason }), Expect::Config(n)) => reason.contains(n),
        (Err(RefundError::InvalidInput { field, .. }), Expect::Invalid(f)) => field == f,
        (Err(RefundError::Signature { reason, .. }), Expect::Signature(n)) => reason.contains(n),
        (Err(RefundError::ProbeSignature { .. }), Expect::Probe) => true,
        (Err(RefundError::TimestampOutOfWindow { .. }), Expect::Timestamp) => true,
        (Err(RefundError::UnknownSerial { .. }), Expect::UnknownSerial) => true,
        (Err(RefundError::Decode { .. }), Expect::Decode) => true,
        (Err(RefundError::Decryption { reason }), Expect::Decryption(n)) => reason.contains(n),
        (Ok(()), Expect::Ok) => true,
        _ => false,
    };
    assert!(ok, "{name}: expected {want:?}, got {got:?}");
}

fn key_case(pem: String) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let k = keys();
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            pem.clone(),
            s(&k["api_v3_key"]),
        )
        .wechatpay_public_key(
            wechatpay_key_id(),
            s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
        .build()
        .map(drop)
    })
}

fn wx_key_case(id: &'static str, pem: String) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let k = keys();
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            s(&k["merchant"]["private_key_pkcs8_pem"]),
            s(&k["api_v3_key"]),
        )
        .wechatpay_public_key(id, pem.clone())
        .build()
        .map(drop)
    })
}

fn v3_key_case(v3: String) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let k = keys();
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            s(&k["merchant"]["private_key_pkcs8_pem"]),
            v3.clone(),
        )
        .wechatpay_public_key(
            wechatpay_key_id(),
            s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
        .build()
        .map(drop)
    })
}

const GOOD_BODY: &[u8] = br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"PROCESSING","amount":{"total":10,"refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#;

/// A signed response with `edit` applied to its headers.
fn header_case(edit: fn(&mut Vec<HttpHeader>)) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let mut r = signed(200, GOOD_BODY, NOW);
        edit(&mut r.headers);
        parse_refund_response(&config(), &r, NOW).map(drop)
    })
}

fn set(headers: &mut [HttpHeader], name: &str, value: &str) {
    headers
        .iter_mut()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .unwrap()
        .value = value.into();
}

fn drop_header(headers: &mut Vec<HttpHeader>, name: &str) {
    headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
}

fn body_case(body: Vec<u8>) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || parse_refund_response(&config(), &signed(200, &body, NOW), NOW).map(drop))
}

fn plaintext() -> serde_json::Value {
    json!({"mchid":"1900000001","out_trade_no":"T100001","transaction_id":"4200","out_refund_no":"R1","refund_id":"5030",
           "refund_status":"SUCCESS","user_received_account":"支付用户零钱","amount":{"total":10,"refund":1,"payer_total":10,"payer_refund":1}})
}

/// A signed notification whose resource is the real encryption of `plain`, then edited.
fn notification_case(
    plain: Vec<u8>,
    edit: fn(&mut serde_json::Value),
) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let key = ApiV3Key::new(&s(&keys()["api_v3_key"])).unwrap();
        let resource = encrypt_resource(
            &key,
            CryptoBackend::default(),
            &plain,
            "abcdefghijkl",
            Some("refund"),
            "refund",
        )
        .unwrap();
        let mut env = json!({"id":"N1","create_time":"2026-11-23T10:00:00+08:00","resource_type":"encrypt-resource",
                             "event_type":"REFUND.SUCCESS","summary":"退款成功","resource": resource});
        edit(&mut env);
        let (headers, body) = signed_notification(&env, NOW);
        parse_notification_at(config(), headers, body, NOW).map(drop)
    })
}

fn raw_notification_case(
    headers_edit: fn(&mut HashMap<String, String>),
    ts: i64,
) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let key = ApiV3Key::new(&s(&keys()["api_v3_key"])).unwrap();
        let resource = encrypt_resource(
            &key,
            CryptoBackend::default(),
            plaintext().to_string().as_bytes(),
            "abcdefghijkl",
            None,
            "refund",
        )
        .unwrap();
        let env = json!({"id":"N1","create_time":"x","resource_type":"encrypt-resource","event_type":"REFUND.SUCCESS","summary":"","resource": resource});
        let (mut headers, body) = signed_notification(&env, ts);
        headers_edit(&mut headers);
        parse_notification_at(config(), headers, body, NOW).map(drop)
    })
}

fn create_case(edit: fn(&mut CreateRefundRequest)) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let mut r = CreateRefundRequest::by_out_trade_no("T100001", "R1", 100, 1000);
        edit(&mut r);
        build_create_refund_request(config(), r, NOW, "NONCE".into()).map(drop)
    })
}

fn abnormal_case(edit: fn(&mut AbnormalRefundRequest)) -> Box<dyn Fn() -> Result<()>> {
    Box::new(move || {
        let mut r = AbnormalRefundRequest::to_user_bank_card(
            "50300000000000000000000000001",
            "R1",
            "ICBC_DEBIT",
            "6222021234567890",
            "张三",
        );
        edit(&mut r);
        build_apply_abnormal_refund_request(config(), r, NOW, "NONCE".into()).map(drop)
    })
}

#[test]
fn hostile_inputs_get_specific_typed_errors() {
    let k = keys();
    let pkcs8 = s(&k["merchant"]["private_key_pkcs8_pem"]);
    let pkcs1 = s(&k["merchant"]["private_key_pkcs1_pem"]);
    let wx_pub = s(&k["wechatpay_public_key"]["public_key_pem"]);
    let random_der =
        base64::engine::general_purpose::STANDARD.encode([0x30u8, 0x03, 0x02, 0x01, 0x05]);
    let cases: Vec<Case> = vec![
        // Keys and PEMs.
        ("pkcs8 truncated", key_case(pkcs8[..pkcs8.len() / 2].into()), Expect::Config("merchant_private_key_pem")),
        ("pkcs1 truncated", key_case(pkcs1[..pkcs1.len() - 40].into()), Expect::Config("merchant_private_key_pem")),
        ("garbage", key_case("not a key at all".into()), Expect::Config("no PEM block")),
        ("empty", key_case(String::new()), Expect::Config("no PEM block")),
        ("public key as private", key_case(wx_pub.clone()), Expect::Config("found BEGIN PUBLIC KEY")),
        ("certificate as private", key_case(s(&k["platform"]["certificate_pem"])), Expect::Config("found BEGIN CERTIFICATE")),
        ("encrypted pkcs8", key_case("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n".into()), Expect::Config("passphrase")),
        ("legacy encrypted pkcs1", key_case(format!("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,78EA86A76F417A41346674ED88713806\n\n{}\n-----END RSA PRIVATE KEY-----\n", "QUJD")), Expect::Config("passphrase")),
        ("1024-bit key", key_case(s(&k["rsa1024"]["private_key_pkcs8_pem"])), Expect::Config("merchant_private_key_pem")),
        ("EC key", key_case(EC_TEST_KEY.into()), Expect::Config("not an RSA key")),
        ("bad base64", key_case("-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n".into()), Expect::Config("not valid base64")),
        ("random DER", key_case(format!("-----BEGIN PRIVATE KEY-----\n{random_der}\n-----END PRIVATE KEY-----\n")), Expect::Config("merchant_private_key_pem")),
        ("mismatched END", key_case(pkcs8.replace("END PRIVATE KEY", "END RSA PRIVATE KEY")), Expect::Config("no matching END")),
        ("wechatpay key garbage", wx_key_case("PUB_KEY_ID_01", "garbage".into()), Expect::Config("wechatpay_public_key_pem")),
        ("wechatpay key is a private key", wx_key_case("PUB_KEY_ID_01", pkcs8.clone()), Expect::Config("expected a public key")),
        ("wechatpay key 1024-bit", wx_key_case("PUB_KEY_ID_01", s(&k["rsa1024"]["public_key_pem"])), Expect::Config("wechatpay_public_key_pem")),
        ("wechatpay key id without prefix", wx_key_case("0114232134912410000000000000", wx_pub.clone()), Expect::Config("PUB_KEY_ID_")),
        ("certificate of random DER", Box::new(move || builder().platform_certificate(format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", base64::engine::general_purpose::STANDARD.encode([0x30u8, 0x00]))).build().map(drop)), Expect::Config("platform certificate")),
        // API v3 keys.
        ("v3 key empty", v3_key_case(String::new()), Expect::Config("got 0 bytes")),
        ("v3 key 31 bytes", v3_key_case("a".repeat(31)), Expect::Config("got 31 bytes")),
        ("v3 key 33 bytes", v3_key_case("a".repeat(33)), Expect::Config("got 33 bytes")),
        ("v3 key 32 chars of 3 bytes", v3_key_case("密".repeat(32)), Expect::Config("got 96 bytes")),
        // Response headers.
        ("missing timestamp", header_case(|h| drop_header(h, "Wechatpay-Timestamp")), Expect::Signature("missing header Wechatpay-Timestamp")),
        ("missing nonce", header_case(|h| drop_header(h, "Wechatpay-Nonce")), Expect::Signature("missing header Wechatpay-Nonce")),
        ("missing signature", header_case(|h| drop_header(h, "Wechatpay-Signature")), Expect::Signature("missing header Wechatpay-Signature")),
        ("missing serial", header_case(|h| drop_header(h, "Wechatpay-Serial")), Expect::Signature("missing header Wechatpay-Serial")),
        ("no signature headers at all", header_case(|h| h.retain(|x| x.name == "Request-ID")), Expect::Signature("missing header")),
        ("duplicated nonce", header_case(|h| h.push(HttpHeader::new("wechatpay-nonce", "OTHER"))), Expect::Signature("more than once")),
        ("non-numeric timestamp", header_case(|h| set(h, "Wechatpay-Timestamp", "tomorrow")), Expect::Signature("not a unix timestamp")),
        ("overflowing timestamp", header_case(|h| set(h, "Wechatpay-Timestamp", "99999999999999999999999")), Expect::Signature("not a unix timestamp")),
        ("huge signature header", header_case(|h| set(h, "Wechatpay-Signature", &"A".repeat(5000))), Expect::Signature("too long")),
        ("signature not base64", header_case(|h| set(h, "Wechatpay-Signature", "!!!not-base64!!!")), Expect::Signature("not valid base64")),
        ("empty signature", header_case(|h| set(h, "Wechatpay-Signature", "")), Expect::Signature("missing header Wechatpay-Signature")),
        ("wrong signature type", header_case(|h| set(h, "Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")), Expect::Signature("Signature-Type")),
        ("stale timestamp", header_case(|h| set(h, "Wechatpay-Timestamp", &(NOW - 301).to_string())), Expect::Timestamp),
        ("negative timestamp", header_case(|h| set(h, "Wechatpay-Timestamp", "-5")), Expect::Timestamp),
        ("probe signature", header_case(|h| set(h, "Wechatpay-Signature", "WECHATPAY/SIGNTEST/AAAA")), Expect::Probe),
        ("unknown serial", header_case(|h| set(h, "Wechatpay-Serial", "PUB_KEY_ID_0000")), Expect::UnknownSerial),
        ("unknown certificate serial", header_case(|h| set(h, "Wechatpay-Serial", "5157F09EFDC096DE15EBE81A47057A72")), Expect::UnknownSerial),
        ("changed nonce", header_case(|h| set(h, "Wechatpay-Nonce", "NONCE2")), Expect::Signature("does not match")),
        // Bodies (correctly signed, so the decoder is reached).
        ("not JSON", body_case(b"<xml>refund</xml>".to_vec()), Expect::Decode),
        ("JSON array", body_case(b"[1,2,3]".to_vec()), Expect::Decode),
        ("empty body", body_case(Vec::new()), Expect::Decode),
        ("amount as string", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":"10","refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("negative amount", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":10,"refund":-1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("overflowing amount", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":10,"refund":9223372036854775808,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("fractional amount", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":10,"refund":1.5,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("missing refund_id", body_case(br#"{"out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":"SUCCESS","amount":{"total":10,"refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("status of wrong type", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","channel":"ORIGINAL","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"AVAILABLE","status":7,"amount":{"total":10,"refund":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"}}"#.to_vec()), Expect::Decode),
        ("invalid UTF-8", body_case(b"{\"refund_id\":\"\xff\xfe\"}".to_vec()), Expect::Decode),
        ("10 MB body", body_case(vec![b' '; 10 * 1024 * 1024]), Expect::Decode),
        ("unknown fields and enum values", body_case(br#"{"refund_id":"1","out_refund_no":"R1","transaction_id":"4200000001","out_trade_no":"T1","user_received_account":"A","create_time":"2026-11-18T19:06:28+08:00","funds_account":"MOON","status":"WEIRD","channel":"X","amount":{"total":10,"refund":1,"new":1,"payer_total":10,"payer_refund":1,"settlement_refund":1,"settlement_total":10,"discount_refund":0,"currency":"CNY"},"extra":{}}"#.to_vec()), Expect::Ok),
        // Notification envelopes.
        ("wrong algorithm", notification_case(plaintext().to_string().into_bytes(), |e| e["resource"]["algorithm"] = json!("AEAD_CHACHA20_POLY1305")), Expect::Decryption("unsupported algorithm")),
        ("ciphertext not base64", notification_case(plaintext().to_string().into_bytes(), |e| e["resource"]["ciphertext"] = json!("%%%")), Expect::Decryption("not valid base64")),
        ("short ciphertext", notification_case(plaintext().to_string().into_bytes(), |e| e["resource"]["ciphertext"] = json!("AAAA")), Expect::Decryption("shorter than the 16-byte tag")),
        ("wrong tag", notification_case(plaintext().to_string().into_bytes(), |e| {
            let ct = e["resource"]["ciphertext"].as_str().unwrap().to_string();
            let mut raw = base64::engine::general_purpose::STANDARD.decode(ct).unwrap();
            *raw.last_mut().unwrap() ^= 1;
            e["resource"]["ciphertext"] = json!(base64::engine::general_purpose::STANDARD.encode(raw));
        }), Expect::Decryption("authentication tag mismatch")),
        ("wrong associated data", notification_case(plaintext().to_string().into_bytes(), |e| e["resource"]["associated_data"] = json!("certificate")), Expect::Decryption("authentication tag mismatch")),
        ("absent associated data", notification_case(plaintext().to_string().into_bytes(), |e| { e["resource"].as_object_mut().unwrap().remove("associated_data"); }), Expect::Decryption("authentication tag mismatch")),
        ("nonce of 11 bytes", notification_case(plaintext().to_string().into_bytes(), |e| e["resource"]["nonce"] = json!("abcdefghijk")), Expect::Decryption("nonce must be 12 bytes")),
        ("envelope without resource", notification_case(plaintext().to_string().into_bytes(), |e| { e.as_object_mut().unwrap().remove("resource"); }), Expect::Decode),
        ("resource_type other", notification_case(plaintext().to_string().into_bytes(), |e| e["resource_type"] = json!("plain")), Expect::Decode),
        ("plaintext not JSON", notification_case(b"hello".to_vec(), |_| ()), Expect::Decode),
        ("plaintext without mchid", notification_case({ let mut p = plaintext(); p.as_object_mut().unwrap().remove("mchid"); p.to_string().into_bytes() }, |_| ()), Expect::Decode),
        ("plaintext invalid UTF-8", notification_case(b"{\"mchid\":\"\xff\"}".to_vec(), |_| ()), Expect::Decryption("not UTF-8")),
        ("valid notification", notification_case(plaintext().to_string().into_bytes(), |_| ()), Expect::Ok),
        ("notification probe", raw_notification_case(|h| { h.insert("Wechatpay-Signature".into(), "WECHATPAY/SIGNTEST/x".into()); }, NOW), Expect::Probe),
        ("notification unknown serial", raw_notification_case(|h| { h.insert("Wechatpay-Serial".into(), "ABCDEF".into()); }, NOW), Expect::UnknownSerial),
        ("notification stale", raw_notification_case(|_| (), NOW - 3600), Expect::Timestamp),
        ("notification headers WSGI-style", raw_notification_case(|h| { *h = h.drain().map(|(k, v)| (format!("HTTP_{}", k.to_uppercase().replace('-', "_")), v)).collect(); }, NOW), Expect::Ok),
        ("notification without headers", raw_notification_case(|h| h.clear(), NOW), Expect::Signature("missing header")),
        ("notification 100 KB body", Box::new(|| {
            let (headers, body) = signed_notification(&json!({"pad": "x".repeat(100_000)}), NOW);
            parse_notification_at(config(), headers, body, NOW).map(drop)
        }), Expect::Decode),
        // Request inputs breaking each rule (nothing is signed or sent).
        ("out_refund_no empty", create_case(|r| r.out_refund_no.clear()), Expect::Invalid("out_refund_no")),
        ("out_refund_no 65 bytes", create_case(|r| r.out_refund_no = "R".repeat(65)), Expect::Invalid("out_refund_no")),
        ("out_refund_no with slash", create_case(|r| r.out_refund_no = "R/../1".into()), Expect::Invalid("out_refund_no")),
        ("out_refund_no with CJK", create_case(|r| r.out_refund_no = "退款1".into()), Expect::Invalid("out_refund_no")),
        ("out_trade_no empty", create_case(|r| r.out_trade_no = Some(String::new())), Expect::Invalid("out_trade_no")),
        ("out_trade_no 33 bytes", create_case(|r| r.out_trade_no = Some("T".repeat(33))), Expect::Invalid("out_trade_no")),
        ("out_trade_no with @", create_case(|r| r.out_trade_no = Some("T1234@5".into())), Expect::Invalid("out_trade_no")),
        ("both order ids", create_case(|r| r.transaction_id = Some("4200".into())), Expect::Invalid("transaction_id")),
        ("no order id", create_case(|r| r.out_trade_no = None), Expect::Invalid("out_trade_no")),
        ("reason 81 bytes", create_case(|r| r.reason = Some("a".repeat(81))), Expect::Invalid("reason")),
        ("reason with emoji", create_case(|r| r.reason = Some("退款🙂".into())), Expect::Invalid("reason")),
        ("notify_url http", create_case(|r| r.notify_url = Some("http://merchant.example.com/n".into())), Expect::Invalid("notify_url")),
        ("notify_url with query", create_case(|r| r.notify_url = Some("https://merchant.example.com/n?id=1".into())), Expect::Invalid("notify_url")),
        ("notify_url 257 bytes", create_case(|r| r.notify_url = Some(format!("https://m.example.com/{}", "a".repeat(235)))), Expect::Invalid("notify_url")),
        ("refund 0", create_case(|r| r.amount.refund = 0), Expect::Invalid("amount.refund")),
        ("refund negative", create_case(|r| r.amount.refund = -100), Expect::Invalid("amount.refund")),
        ("refund above total", create_case(|r| r.amount.refund = 1001), Expect::Invalid("amount.refund")),
        ("total 0", create_case(|r| r.amount.total = 0), Expect::Invalid("amount.total")),
        ("currency USD", create_case(|r| r.amount.currency = "USD".into()), Expect::Invalid("amount.currency")),
        ("from not summing", create_case(|r| r.amount.funds_from = vec![FundsFrom { account: FromAccount::Available, amount: 1 }]), Expect::Invalid("amount.from")),
        ("from repeated", create_case(|r| r.amount.funds_from = vec![FundsFrom { account: FromAccount::Available, amount: 50 }, FundsFrom { account: FromAccount::Available, amount: 50 }]), Expect::Invalid("amount.from[1].account")),
        ("from unknown account", create_case(|r| r.amount.funds_from = vec![FundsFrom { account: FromAccount::Unknown("BASIC".into()), amount: 100 }]), Expect::Invalid("amount.from[0].account")),
        ("funds_account unknown", create_case(|r| r.funds_account = Some(RequestFundsAccount::Unknown("OPERATION".into()))), Expect::Invalid("funds_account")),
        ("sub_mchid letters", create_case(|r| r.sub_mchid = Some("sub".into())), Expect::Invalid("sub_mchid")),
        ("goods quantity 0", create_case(|r| r.goods_detail = vec![GoodsDetailInput { merchant_goods_id: "SKU".into(), unit_price: 1, refund_amount: 1, refund_quantity: 0, wechatpay_goods_id: None, goods_name: None }]), Expect::Invalid("goods_detail[0].refund_quantity")),
        ("abnormal without bank_type", abnormal_case(|r| r.bank_type = None), Expect::Invalid("bank_type")),
        ("abnormal credit card", abnormal_case(|r| r.bank_type = Some("CMB_CREDIT".into())), Expect::Invalid("bank_type")),
        ("abnormal account with letters", abnormal_case(|r| r.bank_account = Some("6222abc".into())), Expect::Invalid("bank_account")),
        ("abnormal merchant card with account", abnormal_case(|r| { r.kind = AbnormalRefundKind::MerchantBankCard; r.bank_type = None; r.real_name = None; }), Expect::Invalid("bank_account")),
        ("abnormal refund_id path traversal", abnormal_case(|r| r.refund_id = "../../v3/pay".into()), Expect::Invalid("refund_id")),
        ("query sub_mchid letters", Box::new(|| build_query_refund_request(config(), "R1".into(), Some("x".into()), NOW, "N".into()).map(drop)), Expect::Invalid("sub_mchid")),
        ("injected nonce", Box::new(|| build_query_refund_request(config(), "R1".into(), None, NOW, "N\",x=\"1".into()).map(drop)), Expect::Invalid("nonce")),
        ("timestamp 0", Box::new(|| build_query_refund_request(config(), "R1".into(), None, 0, "N".into()).map(drop)), Expect::Invalid("timestamp")),
    ];
    let n = cases.len();
    for (name, f, want) in &cases {
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| panic!("{name}: panicked"));
        check(name, got, want);
    }
    assert!(
        n >= 60,
        "the table must hold at least 60 inputs, it holds {n}"
    );
    println!("hostile inputs: {n} rows, each with its expected typed error");
}

#[test]
fn key_parsers_reject_hostile_pems_with_either_backend() {
    let k = keys();
    for backend in CryptoBackend::available() {
        for pem in [
            "",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
            EC_TEST_KEY,
        ] {
            assert!(RsaPublicKey::from_pem_with(backend, pem).is_err());
            assert!(RsaPrivateKey::from_pem_with(backend, pem).is_err());
        }
        assert!(RsaPublicKey::from_pem_with(backend, &s(&k["rsa1024"]["public_key_pem"])).is_err());
    }
}
