//! Golden vectors (tests/vectors/*.json, made by an independent Python implementation) checked
//! against this crate with every compiled crypto backend, and this crate's own outputs checked
//! back by the independent checker (tests/vectors/check_vectors.py, Python `cryptography`).

use base64::Engine;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use wechatpay_refund::crypto::{
    aes_256_gcm_decrypt, aes_256_gcm_encrypt, RsaPrivateKey, RsaPublicKey,
};
use wechatpay_refund::refund::request::{
    build_apply_abnormal_refund, build_create_refund, build_query_refund, create_refund_body,
};
use wechatpay_refund::refund::response::parse_refund_response;
use wechatpay_refund::verify::{verify_signature, SignatureHeaders};
use wechatpay_refund::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn config(backend: CryptoBackend, key_field: &str) -> Arc<ClientConfig> {
    let k = load("keys.json");
    Arc::new(
        ClientConfig::builder(
            s(&k["mchid"]),
            s(&k["merchant"]["serial_no"]),
            s(&k["merchant"][key_field]),
            s(&k["api_v3_key"]),
        )
        .wechatpay_public_key(
            s(&k["wechatpay_public_key"]["id"]),
            s(&k["wechatpay_public_key"]["public_key_pem"]),
        )
        .platform_certificate(s(&k["platform"]["certificate_pem"]))
        // The test platform certificate is self-signed: its own trust anchor.
        .options(ClientOptions {
            platform_trust_anchors_pem: vec![s(&k["platform"]["certificate_pem"]).into()],
            ..Default::default()
        })
        .crypto_backend(backend)
        .build()
        .unwrap(),
    )
}

fn case<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[test]
fn signing_vectors_with_every_backend_and_key_format() {
    let v = load("signing.json");
    for backend in CryptoBackend::available() {
        for key_field in ["private_key_pkcs8_pem", "private_key_pkcs1_pem"] {
            let cfg = config(backend, key_field);
            let ts = |c: &Value| c["timestamp"].as_i64().unwrap();
            let n = |c: &Value| s(&c["nonce"]).to_string();

            // a. and b.: typed requests serialise to the vector body and sign to the vector header.
            let c = case(&v, "create_refund");
            let mut req = CreateRefundRequest::by_out_trade_no(
                "1217752501201407033233368018",
                "R20261123001",
                888,
                888,
            );
            req.reason = Some("商品已售完".into());
            req.notify_url = Some("https://merchant.example.com/wechatpay/refund-notify".into());
            let http = build_create_refund(&cfg, &req, ts(c), &n(c)).unwrap();
            assert_eq!(String::from_utf8(http.body.clone()).unwrap(), s(&c["body"]));
            assert_eq!(
                http.header("Authorization").unwrap(),
                s(&c["authorization"]),
                "{backend:?} {key_field}"
            );
            assert_eq!(http.url, format!("{}{}", PRODUCTION_BASE_URL, s(&c["url"])));

            let c = case(&v, "create_refund_full");
            let req = CreateRefundRequest {
                out_refund_no: "R-2026_11|23*x@y".into(),
                amount: RefundAmountInput {
                    refund: 600,
                    total: 1000,
                    currency: "CNY".into(),
                    funds_from: vec![
                        FundsFrom {
                            account: FromAccount::Available,
                            amount: 400,
                        },
                        FundsFrom {
                            account: FromAccount::Unavailable,
                            amount: 200,
                        },
                    ],
                },
                transaction_id: Some("1217752501201407033233368018".into()),
                out_trade_no: None,
                sub_mchid: Some("1900000109".into()),
                reason: Some("部分退款".into()),
                notify_url: Some("https://merchant.example.com/notify".into()),
                funds_account: Some(RequestFundsAccount::Available),
                goods_detail: vec![GoodsDetailInput {
                    merchant_goods_id: "SKU-1".into(),
                    unit_price: 600,
                    refund_amount: 600,
                    refund_quantity: 1,
                    wechatpay_goods_id: Some("1001".into()),
                    goods_name: Some("iPhone 16 测试".into()),
                }],
            };
            assert_eq!(
                String::from_utf8(create_refund_body(&req)).unwrap(),
                s(&c["body"])
            );
            let http = build_create_refund(&cfg, &req, ts(c), &n(c)).unwrap();
            assert_eq!(
                http.header("Authorization").unwrap(),
                s(&c["authorization"])
            );

            let c = case(&v, "query_refund_encoded");
            let http = build_query_refund(&cfg, "R-2026_11|23*x@y", None, ts(c), &n(c)).unwrap();
            assert_eq!(http.method, "GET");
            assert!(http.body.is_empty());
            assert_eq!(http.url, format!("{}{}", PRODUCTION_BASE_URL, s(&c["url"])));
            assert_eq!(
                http.header("Authorization").unwrap(),
                s(&c["authorization"])
            );

            let c = case(&v, "query_refund_sub_mchid");
            let http =
                build_query_refund(&cfg, "R20261123001", Some("1900000109"), ts(c), &n(c)).unwrap();
            assert_eq!(
                http.header("Authorization").unwrap(),
                s(&c["authorization"])
            );

            let c = case(&v, "apply_abnormal_refund");
            let req = AbnormalRefundRequest::to_merchant_bank_card(
                "50000000382019052709732678859",
                "R20261123001",
            );
            let http = build_apply_abnormal_refund(&cfg, &req, ts(c), &n(c)).unwrap();
            assert_eq!(String::from_utf8(http.body.clone()).unwrap(), s(&c["body"]));
            assert_eq!(
                http.header("Authorization").unwrap(),
                s(&c["authorization"])
            );
            assert_eq!(
                http.header("Wechatpay-Serial").unwrap(),
                "PUB_KEY_ID_0119000000012026112300000000000001"
            );

            // Every case, through the bare signing function.
            for c in v["cases"].as_array().unwrap() {
                let h = wechatpay_refund::sign::sign_request(
                    cfg_signer(&cfg).as_ref(),
                    s(&v["mchid"]),
                    s(&v["serial_no"]),
                    s(&c["method"]),
                    s(&c["url"]),
                    ts(c),
                    &n(c),
                    s(&c["body"]).as_bytes(),
                )
                .unwrap();
                assert_eq!(h, s(&c["authorization"]), "case {}", c["name"]);
                let msg = wechatpay_refund::sign::request_message(
                    s(&c["method"]),
                    s(&c["url"]),
                    ts(c),
                    &n(c),
                    s(&c["body"]).as_bytes(),
                );
                assert_eq!(String::from_utf8(msg).unwrap(), s(&c["message"]));
            }
        }
    }
}

fn cfg_signer(_cfg: &ClientConfig) -> Arc<dyn Signer> {
    let k = load("keys.json");
    Arc::new(LocalSigner::new(
        RsaPrivateKey::from_pem(s(&k["merchant"]["private_key_pkcs8_pem"])).unwrap(),
    ))
}

#[test]
fn verification_vectors_with_every_backend() {
    let v = load("verification.json");
    let now = v["now"].as_i64().unwrap();
    for backend in CryptoBackend::available() {
        let cfg = config(backend, "private_key_pkcs8_pem");
        for c in v["cases"].as_array().unwrap() {
            let headers = [
                ("Wechatpay-Timestamp", c["timestamp"].to_string()),
                ("Wechatpay-Nonce", s(&c["nonce"]).to_string()),
                ("Wechatpay-Signature", s(&c["signature"]).to_string()),
                ("Wechatpay-Serial", s(&c["serial"]).to_string()),
                (
                    "Wechatpay-Signature-Type",
                    s(&c["signature_type"]).to_string(),
                ),
                ("Request-ID", s(&c["request_id"]).to_string()),
            ];
            let h = SignatureHeaders::from_pairs(headers.iter().map(|(k, v)| (*k, v.as_str())))
                .unwrap();
            let got = verify_signature(&cfg_keys(&cfg), &h, s(&c["body"]).as_bytes(), now);
            let rid = Some(s(&c["request_id"]).to_string());
            match s(&c["expect"]) {
                "ok" => got.unwrap(),
                "signature" | "signature_type" => {
                    assert!(
                        matches!(got, Err(RefundError::Signature { ref request_id, .. }) if *request_id == rid),
                        "{}: {got:?}",
                        c["name"]
                    )
                }
                "probe" => assert_eq!(got, Err(RefundError::ProbeSignature { request_id: rid })),
                "timestamp" => assert!(
                    matches!(got, Err(RefundError::TimestampOutOfWindow { .. })),
                    "{got:?}"
                ),
                "unknown_serial" => assert_eq!(
                    got,
                    Err(RefundError::UnknownSerial {
                        serial: s(&c["serial"]).to_string(),
                        request_id: rid
                    })
                ),
                other => panic!("unknown expectation {other}"),
            }

            // The same case as an HTTP response: only verified bodies are parsed.
            if s(&c["body"]).is_empty() {
                continue;
            }
            let resp = HttpResponse {
                status: 200,
                headers: headers
                    .iter()
                    .map(|(k, v)| HttpHeader::new(*k, v.clone()))
                    .collect(),
                body: s(&c["body"]).as_bytes().to_vec(),
            };
            let parsed = parse_refund_response(&cfg, &resp, now);
            if s(&c["expect"]) == "ok" {
                let r = parsed.unwrap();
                assert_eq!(r.status, RefundStatus::Processing);
                assert_eq!(r.amount.refund, 100);
                assert_eq!(r.amount.total, 10000);
                assert_eq!(r.channel, RefundChannel::Original);
                assert_eq!(r.funds_account, FundsAccount::Available);
                assert_eq!(r.promotion_detail.len(), 2);
                assert_eq!(
                    r.promotion_detail[0].promotion_type,
                    Some(PromotionType::Cash)
                );
                assert_eq!(
                    r.promotion_detail[0].goods_detail[0].goods_id.as_deref(),
                    Some("1001")
                );
                // "COUPON": WeChat Pay's own example in the apply-refund page (issue 10).
                assert_eq!(
                    r.promotion_detail[1].promotion_type,
                    Some(PromotionType::Coupon)
                );
                assert_eq!(r.promotion_detail[1].coupon_id.as_deref(), Some("109520"));
                assert_eq!(r.raw_json, s(&c["body"]));
            } else {
                assert!(parsed.is_err());
            }
        }
    }
}

fn cfg_keys(cfg: &ClientConfig) -> KeyRing {
    // Rebuild the same ring the config holds, through the public KeyRing API.
    let k = load("keys.json");
    let mut ring = KeyRing::new();
    ring.add_public_key(
        s(&k["wechatpay_public_key"]["id"]),
        s(&k["wechatpay_public_key"]["public_key_pem"]),
        cfg.crypto_backend(),
    )
    .unwrap();
    ring.add_certificate(s(&k["platform"]["certificate_pem"]), cfg.crypto_backend())
        .unwrap();
    ring
}

#[test]
fn notification_vectors_with_every_backend() {
    let v = load("notification.json");
    let now = v["now"].as_i64().unwrap();
    for backend in CryptoBackend::available() {
        let cfg = config(backend, "private_key_pkcs8_pem");
        let client =
            RefundClient::with_parts(cfg.clone(), Arc::new(NoNetwork), Arc::new(FixedClock(now)));
        for c in v["cases"].as_array().unwrap() {
            let mut headers: std::collections::HashMap<String, String> = c["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), s(v).to_string()))
                .collect();
            let n = client
                .parse_notification(headers.clone(), s(&c["body"]).as_bytes().to_vec())
                .unwrap();
            let e = &c["expected"];
            assert_eq!(n.id, s(&e["id"]));
            assert_eq!(n.create_time, s(&e["create_time"]));
            assert_eq!(n.event_type.as_str(), s(&e["event_type"]));
            assert_eq!(n.summary, s(&e["summary"]));
            assert_eq!(n.out_refund_no, s(&e["out_refund_no"]));
            assert_eq!(n.refund_id, s(&e["refund_id"]));
            assert_eq!(n.refund_status.as_str(), s(&e["refund_status"]));
            assert_eq!(n.mchid.as_deref(), e["mchid"].as_str());
            assert_eq!(n.sp_mchid.as_deref(), e["sp_mchid"].as_str());
            assert_eq!(n.sub_mchid.as_deref(), e["sub_mchid"].as_str());
            assert_eq!(n.success_time.as_deref(), e["success_time"].as_str());
            assert_eq!(n.amount.refund, e["amount"]["refund"].as_i64().unwrap());
            assert_eq!(
                n.amount.payer_refund,
                e["amount"]["payer_refund"].as_i64().unwrap()
            );
            assert_eq!(n.raw_json, s(&c["plaintext"]));

            // Header names as Django's META has them.
            let meta: std::collections::HashMap<String, String> = headers
                .iter()
                .map(|(k, v)| {
                    (
                        format!("HTTP_{}", k.to_uppercase().replace('-', "_")),
                        v.clone(),
                    )
                })
                .collect();
            assert_eq!(
                client
                    .parse_notification(meta, s(&c["body"]).as_bytes().to_vec())
                    .unwrap(),
                n
            );

            // One changed byte of the body breaks the signature.
            let tampered = s(&c["body"]).replacen("refund", "refunD", 1);
            assert!(matches!(
                client.parse_notification(headers.clone(), tampered.into_bytes()),
                Err(RefundError::Signature { .. })
            ));
            // Outside the window it is rejected even though the signature is good.
            let late = RefundClient::with_parts(
                cfg.clone(),
                Arc::new(NoNetwork),
                Arc::new(FixedClock(now + 301)),
            );
            assert!(matches!(
                late.parse_notification(headers.clone(), s(&c["body"]).as_bytes().to_vec()),
                Err(RefundError::TimestampOutOfWindow { .. })
            ));
            // A probe signature is its own error.
            headers.insert(
                "Wechatpay-Signature".into(),
                "WECHATPAY/SIGNTEST/abc".into(),
            );
            assert!(matches!(
                client.parse_notification(headers, s(&c["body"]).as_bytes().to_vec()),
                Err(RefundError::ProbeSignature { .. })
            ));
        }
    }
}

struct FixedClock(i64);
impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

struct NoNetwork;
impl HttpTransport for NoNetwork {
    fn send(&self, _: HttpRequest) -> wechatpay_refund::Result<HttpResponse> {
        panic!("this test must not reach the network")
    }
}

#[test]
fn oaep_and_gcm_vectors_with_every_backend() {
    let k = load("keys.json");
    let oaep = load("oaep.json");
    let gcm = load("gcm.json");
    for backend in CryptoBackend::available() {
        for c in oaep["cases"].as_array().unwrap() {
            let pem = s(&k[s(&c["key"])]["private_key_pkcs8_pem"]);
            let key = RsaPrivateKey::from_pem_with(backend, pem).unwrap();
            let ct = base64::engine::general_purpose::STANDARD
                .decode(s(&c["ciphertext"]))
                .unwrap();
            assert_eq!(
                &key.oaep_sha1_decrypt(&ct).unwrap()[..],
                s(&c["plaintext"]).as_bytes()
            );
        }
        for c in gcm["cases"].as_array().unwrap() {
            let key: [u8; 32] = s(&c["key"]).as_bytes().try_into().unwrap();
            let nonce: [u8; 12] = s(&c["nonce"]).as_bytes().try_into().unwrap();
            let ct = base64::engine::general_purpose::STANDARD
                .decode(s(&c["ciphertext"]))
                .unwrap();
            let aad = s(&c["associated_data"]).as_bytes();
            let pt = aes_256_gcm_decrypt(backend, &key, &nonce, aad, &ct).unwrap();
            assert_eq!(&pt[..], s(&c["plaintext"]).as_bytes());
            assert_eq!(
                aes_256_gcm_encrypt(backend, &key, &nonce, aad, s(&c["plaintext"]).as_bytes())
                    .unwrap(),
                ct
            );
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert!(aes_256_gcm_decrypt(backend, &key, &nonce, aad, &bad).is_none());
        }
    }
}

fn python() -> String {
    std::env::var("WECHATPAY_REFUND_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_checker(args: &[&str]) -> String {
    let out = std::process::Command::new(python())
        .arg(dir().join("check_vectors.py"))
        .args(args)
        .output()
        .expect("python3 is needed for the independent vector check (set WECHATPAY_REFUND_PYTHON)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "independent checker failed:\n{text}");
    assert!(text.contains(" 0 failed"), "{text}");
    text
}

#[test]
fn vector_files_pass_the_independent_checker() {
    run_checker(&[]);
}

#[test]
fn this_crates_outputs_pass_the_independent_checker() {
    let k = load("keys.json");
    let wx_pub = s(&k["wechatpay_public_key"]["public_key_pem"]);
    let wx_priv = s(&k["wechatpay_public_key"]["private_key_pkcs8_pem"]);
    let merchant_pub = s(&k["merchant"]["public_key_pem"]);
    let mut signatures = vec![];
    let mut authorizations = vec![];
    let mut oaep = vec![];
    let mut gcm = vec![];
    for backend in CryptoBackend::available() {
        let key = RsaPrivateKey::from_pem_with(backend, s(&k["merchant"]["private_key_pkcs1_pem"]))
            .unwrap();
        let msg = format!(
            "POST\n/v3/refund/domestic/refunds\n1795000000\n{}\n{{}}\n",
            wechatpay_refund::sign::generate_nonce()
        );
        signatures.push(json!({"public_key_pem": merchant_pub, "message": msg, "signature": b64(&key.sign_sha256(msg.as_bytes()).unwrap())}));

        let cfg = config(backend, "private_key_pkcs8_pem");
        let mut req =
            CreateRefundRequest::by_out_trade_no("T20261123999", "R-rust|check*1@x", 1, 10);
        req.reason = Some("独立校验".into());
        let http = build_create_refund(
            &cfg,
            &req,
            1795000123,
            &wechatpay_refund::sign::generate_nonce(),
        )
        .unwrap();
        authorizations.push(json!({
            "public_key_pem": merchant_pub, "method": http.method, "url": http.url.trim_start_matches(PRODUCTION_BASE_URL),
            "body": String::from_utf8(http.body.clone()).unwrap(), "authorization": http.header("Authorization").unwrap(),
            "mchid": s(&k["mchid"]), "serial_no": s(&k["merchant"]["serial_no"]),
        }));
        let http =
            build_query_refund(&cfg, "R|*@1", Some("1900000109"), 1795000123, "ABC123").unwrap();
        authorizations.push(json!({
            "public_key_pem": merchant_pub, "method": "GET", "url": http.url.trim_start_matches(PRODUCTION_BASE_URL),
            "body": "", "authorization": http.header("Authorization").unwrap(),
            "mchid": s(&k["mchid"]), "serial_no": s(&k["merchant"]["serial_no"]),
        }));

        let public = RsaPublicKey::from_pem_with(backend, wx_pub).unwrap();
        for plain in ["6222021234567890", "张三"] {
            let ct = public.oaep_sha1_encrypt(plain.as_bytes()).unwrap();
            oaep.push(
                json!({"private_key_pem": wx_priv, "plaintext": plain, "ciphertext": b64(&ct)}),
            );
        }
        // The abnormal-refund body's encrypted fields, as built for the wire.
        let req = AbnormalRefundRequest::to_user_bank_card(
            "50000000382019052709732678859",
            "R1",
            "ICBC_DEBIT",
            "6222021234567890",
            "张三",
        );
        let http = build_apply_abnormal_refund(&cfg, &req, 1795000123, "N1").unwrap();
        let body: Value = serde_json::from_slice(&http.body).unwrap();
        oaep.push(json!({"private_key_pem": wx_priv, "plaintext": "6222021234567890", "ciphertext": body["bank_account"]}));
        oaep.push(json!({"private_key_pem": wx_priv, "plaintext": "张三", "ciphertext": body["real_name"]}));

        let key = *b"0123456789abcdef0123456789abcdef";
        let ct = aes_256_gcm_encrypt(
            backend,
            &key,
            b"abcdefghijkl",
            b"refund",
            "退款成功".as_bytes(),
        )
        .unwrap();
        gcm.push(json!({"key": "0123456789abcdef0123456789abcdef", "nonce": "abcdefghijkl", "associated_data": "refund", "plaintext": "退款成功", "ciphertext": b64(&ct)}));
    }
    let out = json!({"signatures": signatures, "authorizations": authorizations, "oaep": oaep, "gcm": gcm});
    let path = std::env::temp_dir().join(format!(
        "wechatpay-refund-rust-output-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, serde_json::to_vec_pretty(&out).unwrap()).unwrap();
    run_checker(&["--rust-output", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(path);
}

/// notification_mismatch.json: correctly signed notifications that the configured merchant must
/// refuse (another mchid, service-provider mode without or with another merchant, another event
/// type) or accept — through the sans-IO export and the client, which share one function.
#[test]
fn notification_mismatch_vectors_through_the_export_and_the_client() {
    let v = load("notification_mismatch.json");
    let k = load("keys.json");
    let now = v["now"].as_i64().unwrap();
    for c in v["cases"].as_array().unwrap() {
        let name = s(&c["name"]);
        let cfg = Arc::new(
            ClientConfig::builder(
                s(&c["config"]["mchid"]),
                s(&k["merchant"]["serial_no"]),
                s(&k["merchant"]["private_key_pkcs8_pem"]),
                s(&k["api_v3_key"]),
            )
            .wechatpay_public_key(
                s(&k["wechatpay_public_key"]["id"]),
                s(&k["wechatpay_public_key"]["public_key_pem"]),
            )
            .service_provider(c["config"]["service_provider"].as_bool().unwrap())
            .build()
            .unwrap(),
        );
        let headers: std::collections::HashMap<String, String> = c["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), s(v).to_string()))
            .collect();
        let body = s(&c["body"]).as_bytes().to_vec();
        let client =
            RefundClient::with_parts(cfg.clone(), Arc::new(NoNetwork), Arc::new(FixedClock(now)));
        let outcomes = [
            parse_notification_at(cfg.clone(), headers.clone(), body.clone(), now),
            client.parse_notification(headers, body),
        ];
        for out in outcomes {
            match (&c["expect"]["field"], out) {
                (Value::String(field), Err(RefundError::NotificationMismatch { field: f, .. })) => {
                    assert_eq!(&f, field, "{name}")
                }
                (Value::Null, Ok(n)) => assert_eq!(n.raw_json, s(&c["plaintext"]), "{name}"),
                (want, got) => panic!("{name}: expected {want}, got {got:?}"),
            }
        }
    }
}
