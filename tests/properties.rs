//! Property tests (proptest): hostile input never panics and always yields a typed
//! `RefundError` (a `String` for the key layer), and the round trips hold.
//!
//! Case counts are bounded (RSA signing is the expensive step; the pure-Rust backend alone gets
//! fewer RSA cases) and no property depends on the wall clock: `now` is the vectors' fixed time.
//! Keys come from tests/vectors/keys.json (TEST KEYS ONLY); no RSA key is generated here.
#![allow(clippy::result_large_err)]

use base64::Engine;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use wechatpay_refund::crypto::{Certificate, CryptoBackend, RsaPrivateKey, RsaPublicKey};
use wechatpay_refund::notify::{decrypt_resource, encrypt_resource, EncryptedResource};
use wechatpay_refund::refund::request::{
    build_create_refund, build_query_refund, create_refund_body, encode_path_segment, REFUNDS_PATH,
};
use wechatpay_refund::refund::response::{decode_refund, parse_refund_response};
use wechatpay_refund::refund::validate;
use wechatpay_refund::sign::{
    authorization_header, parse_authorization, request_message, AuthorizationFields,
};
use wechatpay_refund::verify::{
    normalize_header_name, response_message, verify_signature, SignatureHeaders,
};
use wechatpay_refund::*;

/// The vectors' `now` (unix seconds).
const NOW: i64 = 1_795_000_000;

const KEYS_JSON: &str = include_str!("vectors/keys.json");

struct Fx {
    keys: Value,
    config: Arc<ClientConfig>,
    keyring: KeyRing,
    merchant_public: RsaPublicKey,
    wechatpay_private: RsaPrivateKey,
    platform_private: RsaPrivateKey,
    other_private: RsaPrivateKey,
    api_v3_key: ApiV3Key,
}

fn k<'a>(keys: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(keys, |v, p| &v[*p]).as_str().unwrap()
}

fn fx() -> &'static Fx {
    static FX: OnceLock<Fx> = OnceLock::new();
    FX.get_or_init(|| {
        let keys: Value = serde_json::from_str(KEYS_JSON).unwrap();
        let config = ClientConfig::builder(
            k(&keys, &["mchid"]),
            k(&keys, &["merchant", "serial_no"]),
            k(&keys, &["merchant", "private_key_pkcs8_pem"]),
            k(&keys, &["api_v3_key"]),
        )
        .wechatpay_public_key(
            k(&keys, &["wechatpay_public_key", "id"]),
            k(&keys, &["wechatpay_public_key", "public_key_pem"]),
        )
        .platform_certificate(k(&keys, &["platform", "certificate_pem"]))
        // The test platform certificate is self-signed: its own trust anchor.
        .options(ClientOptions {
            platform_trust_anchors_pem: vec![k(&keys, &["platform", "certificate_pem"]).into()],
            ..Default::default()
        })
        .build()
        .unwrap();
        let mut keyring = KeyRing::new();
        keyring
            .add_public_key(
                k(&keys, &["wechatpay_public_key", "id"]),
                k(&keys, &["wechatpay_public_key", "public_key_pem"]),
                CryptoBackend::default(),
            )
            .unwrap();
        keyring
            .add_certificate(
                k(&keys, &["platform", "certificate_pem"]),
                CryptoBackend::default(),
            )
            .unwrap();
        let private = |path: &[&str]| RsaPrivateKey::from_pem(k(&keys, path)).unwrap();
        Fx {
            merchant_public: RsaPublicKey::from_pem(k(&keys, &["merchant", "public_key_pem"]))
                .unwrap(),
            wechatpay_private: private(&["wechatpay_public_key", "private_key_pkcs8_pem"]),
            platform_private: private(&["platform", "private_key_pkcs8_pem"]),
            other_private: private(&["other", "private_key_pkcs8_pem"]),
            api_v3_key: ApiV3Key::new(k(&keys, &["api_v3_key"])).unwrap(),
            config: Arc::new(config),
            keyring,
            keys,
        }
    })
}

impl Fx {
    fn key(&self, path: &[&str]) -> &str {
        k(&self.keys, path)
    }
}

/// Case count for properties that sign with RSA: the pure-Rust backend is slow in debug builds.
fn rsa_cases(n: u32) -> u32 {
    if CryptoBackend::available().contains(&CryptoBackend::AwsLc) {
        n
    } else {
        (n / 2).max(4)
    }
}

fn cfg(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Who {
    WechatpayKey,
    Platform(u8),
    Other,
}

/// Headers of a response or callback signed by `who` over `TS\nNONCE\nBODY\n`.
fn signed_headers(who: Who, ts: &str, nonce: &str, body: &[u8]) -> Vec<(String, String)> {
    let f = fx();
    let (key, serial) = match who {
        Who::WechatpayKey => (
            &f.wechatpay_private,
            f.key(&["wechatpay_public_key", "id"]).to_string(),
        ),
        Who::Other => (
            &f.other_private,
            f.key(&["wechatpay_public_key", "id"]).to_string(),
        ),
        Who::Platform(style) => {
            let s = f.key(&["platform", "serial_no"]);
            let spelled = match style % 4 {
                0 => s.to_string(),
                1 => s.to_ascii_lowercase(),
                2 => s.trim_start_matches('0').to_string(),
                _ => format!("00{s}"),
            };
            (&f.platform_private, spelled)
        }
    };
    let sig = key.sign_sha256(&response_message(ts, nonce, body)).unwrap();
    vec![
        ("Wechatpay-Timestamp".into(), ts.into()),
        ("Wechatpay-Nonce".into(), nonce.into()),
        ("Wechatpay-Signature".into(), b64(&sig)),
        ("Wechatpay-Serial".into(), serial),
        (
            "Wechatpay-Signature-Type".into(),
            "WECHATPAY2-SHA256-RSA2048".into(),
        ),
        ("Request-ID".into(), "REQ-PROPTEST".into()),
    ]
}

fn response(status: u16, headers: &[(String, String)], body: &[u8]) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| HttpHeader::new(k.clone(), v.clone()))
            .collect(),
        body: body.to_vec(),
    }
}

fn is_verification_error(e: &RefundError) -> bool {
    matches!(
        e,
        RefundError::Signature { .. }
            | RefundError::ProbeSignature { .. }
            | RefundError::TimestampOutOfWindow { .. }
            | RefundError::UnknownSerial { .. }
    )
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(|v| v.into_iter().collect())
}

fn out_refund_no() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9A-Za-z_|*@-]{1,64}",
        1 => any_text(70),
        1 => "[0-9A-Za-z_|*@ #/%-]{0,66}",
    ]
}

fn order_ids() -> impl Strategy<Value = (Option<String>, Option<String>)> {
    prop_oneof![
        4 => "[0-9A-Za-z_|*-]{6,32}".prop_map(|o| (None, Some(o))),
        3 => "[0-9A-Za-z]{1,64}".prop_map(|t| (Some(t), None)),
        1 => ("[0-9A-Za-z]{1,64}", "[0-9A-Za-z_|*-]{6,32}").prop_map(|(t, o)| (Some(t), Some(o))),
        1 => Just((None, None)),
        1 => (proptest::option::of(any_text(70)), proptest::option::of(any_text(40))),
    ]
}

fn reason() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        3 => "[a-z 退款商品已售完部分]{0,26}",
        1 => any_text(90),
        1 => "[😀a\u{0}]{0,5}",
    ])
}

fn notify_url() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        3 => "https://[a-z]{1,12}\\.example\\.com(/[a-z0-9_-]{0,12}){0,3}",
        1 => "http://(127\\.0\\.0\\.1|localhost|\\[::1\\]|10\\.0\\.0\\.1)(:[0-9]{2,5})?/n",
        1 => "https://[a-z]{1,8}\\.example/[a-z]{0,250}",
        1 => "https://a\\.example/n[?#]x=1",
        1 => any_text(40),
    ])
}

fn funds_from() -> impl Strategy<Value = FundsFrom> {
    (
        prop::sample::select(vec![
            FromAccount::Available,
            FromAccount::Unavailable,
            FromAccount::Unknown("BASIC".into()),
        ]),
        prop_oneof![4 => 1i64..600, 1 => any::<i64>()],
    )
        .prop_map(|(account, amount)| FundsFrom { account, amount })
}

fn goods() -> impl Strategy<Value = GoodsDetailInput> {
    (
        prop_oneof![3 => "[A-Za-z0-9-]{1,32}", 1 => any_text(34)],
        prop_oneof![3 => 0i64..1000, 1 => any::<i64>()],
        prop_oneof![3 => 0i64..1000, 1 => any::<i64>()],
        prop_oneof![3 => 1i64..5, 1 => any::<i64>()],
        proptest::option::of(prop_oneof!["[0-9]{1,32}", any_text(34)]),
        proptest::option::of(prop_oneof!["[a-z 商品]{0,20}", any_text(20)]),
    )
        .prop_map(
            |(merchant_goods_id, unit_price, refund_amount, refund_quantity, w, n)| {
                GoodsDetailInput {
                    merchant_goods_id,
                    unit_price,
                    refund_amount,
                    refund_quantity,
                    wechatpay_goods_id: w,
                    goods_name: n,
                }
            },
        )
}

prop_compose! {
    fn create_request()(
        out_refund_no in out_refund_no(),
        (transaction_id, out_trade_no) in order_ids(),
        sub_mchid in proptest::option::of(prop_oneof![3 => "[0-9]{1,32}", 1 => any_text(34)]),
        reason in reason(),
        notify_url in notify_url(),
        funds_account in proptest::option::of(prop::sample::select(vec![
            RequestFundsAccount::Available,
            RequestFundsAccount::Unsettled,
            RequestFundsAccount::Unknown("OPERATION".into()),
        ])),
        total in prop_oneof![4 => 1i64..2000, 1 => any::<i64>()],
        refund in prop_oneof![4 => 1i64..2000, 1 => any::<i64>()],
        currency in prop_oneof![6 => Just("CNY".to_string()), 1 => "[A-Za-z]{0,4}"],
        from in prop_oneof![3 => Just(vec![]), 1 => proptest::collection::vec(funds_from(), 1..3)],
        goods_detail in prop_oneof![3 => Just(vec![]), 1 => proptest::collection::vec(goods(), 1..3)],
    ) -> CreateRefundRequest {
        CreateRefundRequest {
            out_refund_no,
            amount: RefundAmountInput { refund, total, currency, funds_from: from },
            transaction_id,
            out_trade_no,
            sub_mchid,
            reason,
            notify_url,
            funds_account,
            goods_detail,
        }
    }
}

/// A refund-shaped JSON body where any field may be missing, mistyped or hostile.
fn refund_json() -> impl Strategy<Value = Value> {
    fn leaf() -> BoxedStrategy<Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any_text(12).prop_map(Value::from),
            Just(json!([])),
            Just(json!({})),
        ]
        .boxed()
    }
    fn or_junk<S: Strategy<Value = Value> + 'static>(s: S) -> BoxedStrategy<Option<Value>> {
        prop_oneof![6 => s.prop_map(Some), 1 => leaf().prop_map(Some), 1 => Just(None)].boxed()
    }
    let status = prop::sample::select(vec![
        "PROCESSING",
        "SUCCESS",
        "CLOSED",
        "ABNORMAL",
        "SOMETHING_NEW",
        "",
    ])
    .prop_map(Value::from);
    let money = prop_oneof![4 => 0i64..100_000, 1 => any::<i64>()].prop_map(Value::from);
    let amount = (
        or_junk(money.clone()),
        or_junk(money.clone()),
        or_junk(money.clone()),
        or_junk(money),
    )
        .prop_map(|(t, r, pt, pr)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("total", t),
                ("refund", r),
                ("payer_total", pt),
                ("payer_refund", pr),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            m.insert("currency".into(), "CNY".into());
            Value::Object(m)
        });
    let promotion = (
        or_junk(prop_oneof![
            any_text(8).prop_map(Value::from),
            any::<i64>().prop_map(Value::from)
        ]),
        or_junk(prop::sample::select(vec!["SINGLE", "GLOBAL", "X"]).prop_map(Value::from)),
        or_junk(prop::sample::select(vec!["CASH", "NOCASH", "COUPON"]).prop_map(Value::from)),
        or_junk(json_goods()),
    )
        .prop_map(|(id, scope, ty, goods)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("coupon_id", id),
                ("scope", scope),
                ("type", ty),
                ("goods_detail", goods),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        });
    fn json_goods() -> BoxedStrategy<Value> {
        proptest::collection::vec(
            (any::<i64>(), any_text(6), any::<bool>()).prop_map(|(n, s, as_number)| {
                json!({
                    "goods_id": if as_number { Value::from(n) } else { Value::from(s) },
                    "unit_price": n,
                })
            }),
            0..2,
        )
        .prop_map(Value::Array)
        .boxed()
    }
    (
        or_junk("[0-9]{1,30}".prop_map(Value::from)),
        or_junk("[A-Za-z0-9_|*@-]{1,64}".prop_map(Value::from)),
        or_junk(status),
        or_junk(amount),
        or_junk(
            prop::sample::select(vec!["ORIGINAL", "BALANCE", "OTHER_BANKCARD", "NEW"])
                .prop_map(Value::from),
        ),
        or_junk(
            prop::sample::select(vec!["AVAILABLE", "UNSETTLED", "ECNY_BASIC", "NEW"])
                .prop_map(Value::from),
        ),
        or_junk(proptest::collection::vec(promotion, 0..2).prop_map(Value::Array)),
    )
        .prop_map(|(id, no, status, amount, channel, funds, promos)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("refund_id", id),
                ("out_refund_no", no),
                ("status", status),
                ("amount", amount),
                ("channel", channel),
                ("funds_account", funds),
                ("promotion_detail", promos),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => refund_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => any_text(60).prop_map(String::into_bytes),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "Wechatpay-Timestamp",
            "wechatpay-nonce",
            "WECHATPAY-SIGNATURE",
            "Wechatpay-Serial",
            "Wechatpay-Signature-Type",
            "Request-ID",
            "HTTP_WECHATPAY_TIMESTAMP",
            "HTTP_WECHATPAY_SERIAL",
            "wechatpay_signature",
            " Wechatpay-Nonce ",
            "Content-Type",
        ])
        .prop_map(str::to_string),
        1 => any_text(24),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any_text(40),
        1 => (-(1i64 << 62)..(1i64 << 62)).prop_map(|t| t.to_string()),
        1 => (NOW - 400..NOW + 400).prop_map(|t| t.to_string()),
        1 => Just("PUB_KEY_ID_0119000000012026112300000000000001".to_string()),
        1 => Just("0B1DBE082372FD4884921FBB8B977042CE5E9E85".to_string()),
        1 => "WECHATPAY/SIGNTEST/[A-Za-z0-9+/=]{0,20}",
        1 => "[A-Za-z0-9+/]{0,400}={0,2}",
        1 => Just("WECHATPAY2-SHA256-RSA2048".to_string()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((header_name(), header_value()), 0..10)
}

// ---------------------------------------------------------------------------------------------
// Request building

proptest! {
    #![proptest_config(cfg(rsa_cases(64)))]

    /// Any apply-refund request either fails validation with `InvalidInput` naming a field, or
    /// builds a request whose Authorization verifies against the merchant public key over exactly
    /// (method, path, timestamp, nonce, body) and whose body parses back to the same values.
    #[test]
    fn create_refund_validates_or_signs_exactly_what_is_sent(
        req in create_request(),
        ts in prop_oneof![8 => 1i64..4_000_000_000, 1 => any::<i64>()],
        nonce in prop_oneof![8 => "[0-9A-Za-z]{1,32}", 1 => any_text(34)],
    ) {
        let f = fx();
        let valid = validate::create_refund(&req, false);
        match build_create_refund(&f.config, &req, ts, &nonce) {
            Err(RefundError::InvalidInput { field, reason }) => {
                prop_assert!(!reason.is_empty());
                match valid {
                    Err(RefundError::InvalidInput { field: expected, .. }) => prop_assert_eq!(field, expected),
                    Ok(()) => prop_assert!(field == "nonce" || field == "timestamp", "{}", field),
                    Err(e) => prop_assert!(false, "validate gave {:?}", e),
                }
            }
            Err(e) => prop_assert!(false, "unexpected error {:?}", e),
            Ok(http) => {
                prop_assert!(valid.is_ok());
                prop_assert!(ts > 0);
                prop_assert_eq!(&http.method, "POST");
                prop_assert_eq!(&http.url, &format!("{PRODUCTION_BASE_URL}{REFUNDS_PATH}"));
                prop_assert_eq!(&http.body, &create_refund_body(&req));
                prop_assert_eq!(http.header("Accept"), Some("application/json"));
                prop_assert_eq!(http.header("Content-Type"), Some("application/json"));
                prop_assert!(http.header("User-Agent").is_some_and(|ua| !ua.is_empty()));
                prop_assert_eq!(
                    http.header("Wechatpay-Serial"),
                    Some(f.key(&["wechatpay_public_key", "id"]))
                );
                let auth = parse_authorization(http.header("Authorization").unwrap())
                    .map_err(TestCaseError::fail)?;
                prop_assert_eq!(&auth.mchid, f.key(&["mchid"]));
                prop_assert_eq!(&auth.serial_no, f.key(&["merchant", "serial_no"]));
                prop_assert_eq!(auth.timestamp, ts);
                prop_assert_eq!(&auth.nonce, &nonce);
                let signed = request_message("POST", REFUNDS_PATH, ts, &nonce, &http.body);
                prop_assert!(f.merchant_public.verify_sha256(&signed, &auth.signature));
                let mut tampered = http.body.clone();
                tampered.push(b' ');
                prop_assert!(!f.merchant_public.verify_sha256(
                    &request_message("POST", REFUNDS_PATH, ts, &nonce, &tampered),
                    &auth.signature
                ));

                // The body parses back to the same values.
                let v: Value = serde_json::from_slice(&http.body).unwrap();
                prop_assert_eq!(v["out_refund_no"].as_str(), Some(req.out_refund_no.as_str()));
                prop_assert_eq!(v["transaction_id"].as_str(), req.transaction_id.as_deref());
                prop_assert_eq!(v["out_trade_no"].as_str(), req.out_trade_no.as_deref());
                prop_assert_eq!(v["sub_mchid"].as_str(), req.sub_mchid.as_deref());
                prop_assert_eq!(v["reason"].as_str(), req.reason.as_deref());
                prop_assert_eq!(v["notify_url"].as_str(), req.notify_url.as_deref());
                prop_assert_eq!(
                    v["funds_account"].as_str(),
                    req.funds_account.as_ref().map(|a| a.as_str())
                );
                prop_assert_eq!(v["amount"]["refund"].as_i64(), Some(req.amount.refund));
                prop_assert_eq!(v["amount"]["total"].as_i64(), Some(req.amount.total));
                prop_assert_eq!(v["amount"]["currency"].as_str(), Some("CNY"));
                let from: Vec<FundsFrom> = match v["amount"].get("from") {
                    Some(x) => serde_json::from_value(x.clone()).unwrap(),
                    None => vec![],
                };
                prop_assert_eq!(&from, &req.amount.funds_from);
                let goods = v.get("goods_detail").and_then(Value::as_array).cloned().unwrap_or_default();
                prop_assert_eq!(goods.len(), req.goods_detail.len());
                for (g, want) in goods.iter().zip(&req.goods_detail) {
                    prop_assert_eq!(g["merchant_goods_id"].as_str(), Some(want.merchant_goods_id.as_str()));
                    prop_assert_eq!(g["wechatpay_goods_id"].as_str(), want.wechatpay_goods_id.as_deref());
                    prop_assert_eq!(g["goods_name"].as_str(), want.goods_name.as_deref());
                    prop_assert_eq!(g["unit_price"].as_i64(), Some(want.unit_price));
                    prop_assert_eq!(g["refund_amount"].as_i64(), Some(want.refund_amount));
                    prop_assert_eq!(g["refund_quantity"].as_i64(), Some(want.refund_quantity));
                }
                // Nothing else travels.
                let known = [
                    "sub_mchid", "transaction_id", "out_trade_no", "out_refund_no", "reason",
                    "notify_url", "funds_account", "amount", "goods_detail",
                ];
                prop_assert!(v.as_object().unwrap().keys().all(|k| known.contains(&k.as_str())));
            }
        }
    }
}

proptest! {
    #![proptest_config(cfg(rsa_cases(16)))]

    /// A query signs the percent-encoded path exactly as it is sent.
    #[test]
    fn query_signs_the_encoded_path_as_sent(
        no in "[0-9A-Za-z_|*@-]{1,64}",
        sub in proptest::option::of("[0-9]{1,32}"),
        nonce in "[0-9A-Z]{32}",
    ) {
        let f = fx();
        let http = build_query_refund(&f.config, &no, sub.as_deref(), NOW, &nonce).unwrap();
        let mut path = format!("{REFUNDS_PATH}/{}", encode_path_segment(&no));
        if let Some(s) = &sub {
            path.push_str(&format!("?sub_mchid={s}"));
        }
        prop_assert_eq!(&http.url, &format!("{PRODUCTION_BASE_URL}{path}"));
        prop_assert_eq!(&http.method, "GET");
        prop_assert!(http.body.is_empty());
        let auth = parse_authorization(http.header("Authorization").unwrap()).unwrap();
        prop_assert!(f
            .merchant_public
            .verify_sha256(&request_message("GET", &path, NOW, &nonce, b""), &auth.signature));
    }
}

/// Decode `%XX` escapes (the inverse of `encode_path_segment`).
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

proptest! {
    #![proptest_config(cfg(512))]

    /// `encode_path_segment` emits only unreserved characters and `%XX` (upper-case hex), and
    /// percent-decoding gives the input back; unreserved input is left alone.
    #[test]
    fn encode_path_segment_round_trips(s in prop_oneof![any_text(40), "[0-9A-Za-z_|*@./~%-]{0,40}"]) {
        let e = encode_path_segment(&s);
        let b = e.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                prop_assert!(i + 3 <= b.len() && b[i + 1..i + 3].iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)), "{}", e);
                i += 3;
            } else {
                prop_assert!(b[i].is_ascii_alphanumeric() || b"-._~".contains(&b[i]), "{}", e);
                i += 1;
            }
        }
        prop_assert_eq!(percent_decode(&e).unwrap(), s.as_bytes().to_vec());
        if s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c)) {
            prop_assert_eq!(&e, &s);
        }
        // Never a path separator, query or fragment: the segment cannot escape its place.
        prop_assert!(!e.contains(['/', '?', '#']));
    }
}

// ---------------------------------------------------------------------------------------------
// Responses

proptest! {
    #![proptest_config(cfg(rsa_cases(48)))]

    /// Correctly signed responses with arbitrary bodies never panic: a 2xx either parses (and
    /// keeps the body as `raw_json`) or gives `Decode`; any other status gives `Api` with that
    /// status. Any change to the body afterwards is a `Signature` error.
    #[test]
    fn signed_responses_parse_or_give_decode(
        body in body_bytes(),
        status in prop_oneof![6 => Just(200u16), 1 => 201u16..300, 2 => 300u16..600, 1 => any::<u16>()],
        who in prop_oneof![Just(Who::WechatpayKey), any::<u8>().prop_map(Who::Platform)],
        skew in -300i64..=300,
        nonce in "[0-9A-Za-z]{1,32}",
        flip in any::<Index>(),
    ) {
        let f = fx();
        let headers = signed_headers(who, &(NOW + skew).to_string(), &nonce, &body);
        let result = parse_refund_response(&f.config, &response(status, &headers, &body), NOW);
        match &result {
            Ok(r) => {
                prop_assert!((200..300).contains(&status));
                prop_assert_eq!(r.raw_json.as_bytes(), &body[..]);
                prop_assert!(r.amount.total >= 0 && r.amount.refund >= 0);
            }
            Err(RefundError::Decode { request_id, .. }) => {
                prop_assert!((200..300).contains(&status));
                prop_assert_eq!(request_id.as_deref(), Some("REQ-PROPTEST"));
            }
            Err(RefundError::Api { status: s, request_id, retryable, .. }) => {
                prop_assert_eq!(*s, status);
                prop_assert!(!(200..300).contains(&status));
                prop_assert_eq!(request_id.as_deref(), Some("REQ-PROPTEST"));
                prop_assert_eq!(*retryable, status == 429 || status >= 500);
            }
            Err(e) => prop_assert!(false, "unexpected {:?}", e),
        }
        if let Err(e) = &result {
            prop_assert!(!e.to_string().is_empty());
        }
        // The same bytes through the sans-IO entry point give the same answer.
        let again = wechatpay_refund::parse_refund_response(
            f.config.clone(),
            response(status, &headers, &body),
            NOW,
        );
        prop_assert_eq!(&again, &result);
        // Tampering with the verified bytes is always caught.
        let mut tampered = body.clone();
        if tampered.is_empty() {
            tampered.push(b'{');
        } else {
            let i = flip.index(tampered.len());
            tampered[i] ^= 0x01;
        }
        let e = parse_refund_response(&f.config, &response(200, &headers, &tampered), NOW)
            .unwrap_err();
        prop_assert!(matches!(e, RefundError::Signature { .. }), "{:?}", e);
    }

    /// The verifier accepts exactly what was signed by a trusted key within the window.
    #[test]
    fn verify_signature_accepts_exactly_the_signed_message(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        nonce in "[!-~]{1,40}",
        skew in -600i64..=600,
        who in prop_oneof![
            3 => Just(Who::WechatpayKey),
            3 => any::<u8>().prop_map(Who::Platform),
            1 => Just(Who::Other),
        ],
    ) {
        let f = fx();
        let ts = (NOW + skew).to_string();
        let pairs = signed_headers(who, &ts, &nonce, &body);
        let h = SignatureHeaders::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .unwrap();
        let r = verify_signature(&f.keyring, &h, &body, NOW);
        match (who, skew.abs() <= 300) {
            (_, false) => prop_assert!(
                matches!(r, Err(RefundError::TimestampOutOfWindow { timestamp, now, .. }) if timestamp == NOW + skew && now == NOW),
                "{:?}", r
            ),
            (Who::Other, true) => {
                prop_assert!(matches!(r, Err(RefundError::Signature { .. })), "{:?}", r)
            }
            (_, true) => prop_assert!(r.is_ok(), "{:?}", r),
        }
    }
}

proptest! {
    #![proptest_config(cfg(256))]

    /// Arbitrary header lists, statuses and bodies never panic the response parser; the error
    /// is always one of the typed verification / API / decode errors.
    #[test]
    fn arbitrary_responses_never_panic(
        headers in headers(),
        status in any::<u16>(),
        body in body_bytes(),
    ) {
        let f = fx();
        match parse_refund_response(&f.config, &response(status, &headers, &body), NOW) {
            Ok(r) => prop_assert_eq!(r.raw_json.as_bytes(), &body[..]),
            Err(e) => {
                prop_assert!(
                    is_verification_error(&e)
                        || matches!(e, RefundError::Api { .. } | RefundError::Decode { .. }),
                    "{:?}", e
                );
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// `decode_refund` never panics and never lets a negative amount through.
    #[test]
    fn decode_refund_never_panics(body in body_bytes()) {
        match decode_refund(&body, None) {
            Ok(r) => {
                prop_assert!(r.amount.total >= 0 && r.amount.refund >= 0);
                prop_assert!(r.amount.payer_total >= 0 && r.amount.payer_refund >= 0);
                prop_assert_eq!(r.raw_json.as_bytes(), &body[..]);
            }
            Err(e) => prop_assert!(matches!(e, RefundError::Decode { .. }), "{:?}", e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers

proptest! {
    #![proptest_config(cfg(512))]

    /// Header names are case-insensitive: any ASCII case of a name normalises the same.
    #[test]
    fn normalize_header_name_is_case_insensitive(name in any_text(30)) {
        let n = normalize_header_name(&name);
        prop_assert_eq!(&normalize_header_name(&name.to_ascii_uppercase()), &n);
        prop_assert_eq!(&normalize_header_name(&name.to_ascii_lowercase()), &n);
        prop_assert!(!n.bytes().any(|b| b.is_ascii_uppercase() || b == b'_'));
    }

    /// For real header names (HTTP tokens, possibly padded with blanks), normalising is
    /// idempotent and the WSGI/CGI spelling (`HTTP_` + upper case + `_`) normalises the same.
    #[test]
    fn normalize_header_name_is_idempotent_on_tokens(
        token in "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,30}",
        pad_left in "[ \t]{0,2}",
        pad_right in "[ \t]{0,2}",
    ) {
        let name = format!("{pad_left}{token}{pad_right}");
        let n = normalize_header_name(&name);
        prop_assert_eq!(&normalize_header_name(&n), &n);
        if !token.to_ascii_lowercase().starts_with("http_") {
            let wsgi = format!("HTTP_{}", token.to_ascii_uppercase().replace('-', "_"));
            prop_assert_eq!(normalize_header_name(&wsgi), n);
        }
    }

    /// `from_pairs` never panics; duplicates with different values are a `Signature` error;
    /// extracted values are trimmed.
    #[test]
    fn signature_headers_from_pairs_never_panics(headers in headers()) {
        let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        match SignatureHeaders::from_pairs(pairs()) {
            Ok(h) => {
                for v in [&h.timestamp, &h.nonce, &h.signature, &h.serial, &h.signature_type]
                    .into_iter()
                    .flatten()
                {
                    prop_assert_eq!(v.trim(), v.as_str());
                }
                let r = verify_signature(&fx().keyring, &h, b"{}", NOW);
                if let Err(e) = r {
                    prop_assert!(is_verification_error(&e), "{:?}", e);
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Err(e) => prop_assert!(matches!(e, RefundError::Signature { .. }), "{:?}", e),
        }
    }

    /// `authorization_header` → `parse_authorization` round-trips any comma-free field values;
    /// arbitrary text never panics the parser.
    #[test]
    fn authorization_round_trips(
        mchid in "[^,]{0,20}",
        serial_no in "[^,]{0,40}",
        nonce in "[^,]{0,32}",
        timestamp in any::<i64>(),
        signature in proptest::collection::vec(any::<u8>(), 0..300),
        junk in any_text(80),
    ) {
        let h = authorization_header(&mchid, &serial_no, timestamp, &nonce, &signature);
        let back = parse_authorization(&h).map_err(TestCaseError::fail)?;
        prop_assert_eq!(back, AuthorizationFields { mchid, serial_no, nonce, timestamp, signature });
        let _ = parse_authorization(&junk);
        let _ = parse_authorization(&format!("WECHATPAY2-SHA256-RSA2048 {junk}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Notifications

proptest! {
    #![proptest_config(cfg(64))]

    /// AEAD_AES_256_GCM resources round-trip for any plaintext, associated data and 12-byte
    /// nonce, with every backend (and across backends); any single-bit flip of the ciphertext or
    /// tag, or different associated data, is a `Decryption` error; other nonce sizes are refused.
    #[test]
    fn resource_round_trip_and_bit_flips(
        plaintext in prop_oneof![
            3 => any_text(120).prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 0..120),
        ],
        aad in proptest::option::of(any_text(20)),
        nonce in prop_oneof![
            6 => "[ -~]{12}",
            1 => "[éa]{6,11}".prop_filter("12 bytes", |s| s.len() == 12),
            1 => any_text(14),
        ],
        flip in any::<Index>(),
        bit in 0u8..8,
    ) {
        let f = fx();
        for backend in CryptoBackend::available() {
            let enc = encrypt_resource(&f.api_v3_key, backend, &plaintext, &nonce, aad.as_deref(), "refund");
            let r = match enc {
                Ok(r) => {
                    prop_assert_eq!(nonce.len(), 12);
                    r
                }
                Err(RefundError::InvalidInput { field, .. }) => {
                    prop_assert_ne!(nonce.len(), 12);
                    prop_assert_eq!(field, "nonce");
                    continue;
                }
                Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
            };
            prop_assert_eq!(b64d(&r.ciphertext).len(), plaintext.len() + 16);
            for other in CryptoBackend::available() {
                match (decrypt_resource(&f.api_v3_key, other, &r), std::str::from_utf8(&plaintext)) {
                    (Ok(text), Ok(want)) => prop_assert_eq!(text.as_str(), want),
                    (Err(RefundError::Decryption { reason }), Err(_)) => {
                        prop_assert!(reason.contains("UTF-8"), "{}", reason)
                    }
                    (got, _) => prop_assert!(false, "{:?}", got),
                }
            }
            let mut ct = b64d(&r.ciphertext);
            let i = flip.index(ct.len());
            ct[i] ^= 1 << bit;
            let flipped = EncryptedResource { ciphertext: b64(&ct), ..r.clone() };
            let got = decrypt_resource(&f.api_v3_key, backend, &flipped);
            prop_assert!(matches!(got, Err(RefundError::Decryption { .. })), "{:?}", got);
            let other_aad = EncryptedResource {
                associated_data: Some(format!("{}x", aad.as_deref().unwrap_or(""))),
                ..r.clone()
            };
            let got = decrypt_resource(&f.api_v3_key, backend, &other_aad);
            prop_assert!(matches!(got, Err(RefundError::Decryption { .. })), "{:?}", got);
        }
    }

    /// Decrypting arbitrary resources never panics: it is `Ok` or `Decryption`.
    #[test]
    fn decrypt_arbitrary_resources_never_panics(
        algorithm in prop_oneof![3 => Just("AEAD_AES_256_GCM".to_string()), 1 => any_text(20)],
        ciphertext in prop_oneof![
            "[A-Za-z0-9+/]{0,80}={0,2}",
            any_text(40),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| b64(&b)),
        ],
        nonce in prop_oneof!["[ -~]{12}", any_text(14)],
        associated_data in proptest::option::of(any_text(10)),
    ) {
        let r = EncryptedResource { algorithm, ciphertext, nonce, associated_data, original_type: String::new() };
        for backend in CryptoBackend::available() {
            if let Err(e) = decrypt_resource(&fx().api_v3_key, backend, &r) {
                prop_assert!(matches!(e, RefundError::Decryption { .. }), "{:?}", e);
            }
        }
    }
}

fn notification_case(i: usize) -> (HashMap<String, String>, Vec<u8>) {
    let v: Value = serde_json::from_str(include_str!("vectors/notification.json")).unwrap();
    let c = &v["cases"][i];
    let headers = c["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (headers, c["body"].as_str().unwrap().as_bytes().to_vec())
}

proptest! {
    #![proptest_config(cfg(256))]

    /// Arbitrary header maps (with the vector body, or arbitrary bodies) never panic
    /// `parse_notification`; the result is a typed error (or the vector's notification).
    #[test]
    fn arbitrary_header_maps_never_panic_parse_notification(
        extra in headers(),
        keep_vector_headers in any::<bool>(),
        which in 0usize..3,
        body in prop_oneof![3 => Just(None), 1 => body_bytes().prop_map(Some)],
    ) {
        let (mut map, vector_body) = notification_case(which);
        if !keep_vector_headers {
            map.clear();
        }
        map.extend(extra);
        let body = body.unwrap_or(vector_body);
        match wechatpay_refund::parse_notification_at(fx().config.clone(), map, body, NOW) {
            Ok(n) => prop_assert!(n.mchid.is_some() || n.sp_mchid.is_some()),
            Err(e) => {
                prop_assert!(
                    is_verification_error(&e)
                        || matches!(e, RefundError::Decode { .. } | RefundError::Decryption { .. }),
                    "{:?}", e
                );
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(cfg(rsa_cases(32)))]

    /// Correctly signed notifications whose envelope and plaintext are arbitrary: verification
    /// passes, so the result is a parsed notification (whose `raw_json` is the plaintext) or a
    /// `Decode` / `Decryption` error (or, for an event that is not `REFUND.*`,
    /// `NotificationMismatch`), never a panic.
    #[test]
    fn signed_notifications_decode_or_give_typed_errors(
        plaintext in prop_oneof![
            2 => refund_json().prop_map(|mut v| {
                v["mchid"] = json!("1900000001");
                v["refund_status"] = v.get("status").cloned().unwrap_or(Value::Null);
                serde_json::to_string(&v).unwrap()
            }),
            1 => any_text(60),
        ],
        event_type in prop::sample::select(vec!["REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED", "REFUND.NEW", ""]),
        resource_type in prop::sample::select(vec!["encrypt-resource", "", "plain"]),
        aad in proptest::option::of(prop_oneof![Just("refund".to_string()), any_text(8)]),
        nonce in "[0-9A-Za-z]{12}",
        drop_field in proptest::option::of(0usize..4),
    ) {
        let f = fx();
        let r = encrypt_resource(&f.api_v3_key, CryptoBackend::default(), plaintext.as_bytes(), &nonce, aad.as_deref(), "refund").unwrap();
        let mut env = json!({
            "id": "EV-1",
            "create_time": "2026-11-18T19:06:32+08:00",
            "resource_type": resource_type,
            "event_type": event_type,
            "summary": "退款成功",
            "resource": serde_json::to_value(&r).unwrap(),
        });
        if let Some(i) = drop_field {
            env.as_object_mut().unwrap().remove(["id", "create_time", "event_type", "resource"][i]);
        }
        let body = serde_json::to_vec(&env).unwrap();
        let headers: HashMap<String, String> =
            signed_headers(Who::WechatpayKey, &(NOW - 3).to_string(), &nonce, &body).into_iter().collect();
        match wechatpay_refund::parse_notification_at(f.config.clone(), headers, body, NOW) {
            Ok(n) => {
                prop_assert_eq!(n.raw_json, plaintext);
                prop_assert!(n.mchid.is_some() || n.sp_mchid.is_some());
            }
            Err(RefundError::Decode { .. }) | Err(RefundError::Decryption { .. }) => {}
            // Not a refund event (empty, or the field left out): not a refund notification.
            Err(RefundError::NotificationMismatch { field, .. }) if field == "event_type" => {
                prop_assert!(!event_type.starts_with("REFUND.") || drop_field == Some(2));
            }
            Err(e) => prop_assert!(false, "a correctly signed notification gave {:?}", e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys and configuration

fn pem(label: &str, der: &[u8]) -> String {
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64(der).as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out + &format!("-----END {label}-----\n")
}

fn pem_der(text: &str) -> Vec<u8> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    b64d(&body)
}

fn every_parser(text: &str) {
    for backend in CryptoBackend::available() {
        if let Ok(key) = RsaPrivateKey::from_pem_with(backend, text) {
            let sig = key.sign_sha256(b"m").unwrap();
            assert!(key.public_key().unwrap().verify_sha256(b"m", &sig));
        }
        if let Ok(key) = RsaPublicKey::from_pem_with(backend, text) {
            assert!(key.bits() >= 2048);
        }
        if let Ok(cert) = Certificate::from_pem_with(backend, text) {
            assert!(cert.public_key.bits() >= 2048);
        }
    }
}

proptest! {
    #![proptest_config(cfg(128))]

    /// Key parsers never panic on arbitrary text or on arbitrary DER under any PEM label.
    #[test]
    fn key_parsers_never_panic(
        text in any_text(200),
        der in proptest::collection::vec(any::<u8>(), 0..300),
        label in prop::sample::select(vec!["PRIVATE KEY", "RSA PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", "EC PRIVATE KEY", ""]),
    ) {
        every_parser(&text);
        every_parser(&pem(label, &der));
        every_parser(&format!("-----BEGIN {label}-----\n{text}\n-----END {label}-----\n"));
    }
}

proptest! {
    #![proptest_config(cfg(rsa_cases(16)))]

    /// A valid key with one byte changed either still parses into a usable, consistent key or is
    /// refused with a `String` error: never a panic.
    #[test]
    fn mutated_keys_are_refused_or_consistent(
        which in prop::sample::select(vec![
            ("PRIVATE KEY", &["merchant", "private_key_pkcs8_pem"][..]),
            ("RSA PRIVATE KEY", &["merchant", "private_key_pkcs1_pem"][..]),
            ("PUBLIC KEY", &["wechatpay_public_key", "public_key_pem"][..]),
            ("CERTIFICATE", &["platform", "certificate_pem"][..]),
        ]),
        at in any::<Index>(),
        xor in 1u8..=255,
        truncate in any::<bool>(),
    ) {
        let (label, path) = which;
        let mut der = pem_der(fx().key(path));
        let i = at.index(der.len());
        if truncate {
            der.truncate(i);
        } else {
            der[i] ^= xor;
        }
        every_parser(&pem(label, &der));
    }
}

proptest! {
    #![proptest_config(cfg(rsa_cases(24)))]

    /// `ClientConfig::builder(..).build()` with fuzzed settings is `Ok` exactly when every
    /// setting is valid, and otherwise a `Config` error naming the setting; never a panic.
    #[test]
    fn builder_gives_config_errors_naming_the_setting(
        mchid in prop_oneof![3 => Just("1900000001".to_string()), 1 => "[0-9]{0,33}", 1 => any_text(8)],
        api_v3_key in prop_oneof![3 => Just("0HArAXmgJ8PW7tPh1JU7PU95Pci4kwuy".to_string()), 2 => any_text(33)],
        serial in prop_oneof![3 => "[0-9A-Fa-f]{1,64}", 1 => any_text(10)],
        base_url in proptest::option::of(prop_oneof![
            "https://[a-z]{1,10}\\.example(:[0-9]{1,5})?/?",
            "http://(127\\.0\\.0\\.1|localhost|\\[::1\\]|example\\.com)(:[0-9]{1,5})?",
            any_text(20),
        ]),
    ) {
        let f = fx();
        let mut b = ClientConfig::builder(
            mchid.clone(),
            serial.clone(),
            f.key(&["merchant", "private_key_pkcs8_pem"]),
            api_v3_key.clone(),
        )
        .wechatpay_public_key(
            f.key(&["wechatpay_public_key", "id"]),
            f.key(&["wechatpay_public_key", "public_key_pem"]),
        );
        if let Some(u) = &base_url {
            b = b.base_url(u.clone());
        }
        let mchid_ok = !mchid.is_empty() && mchid.len() <= 32 && mchid.bytes().all(|c| c.is_ascii_digit());
        let trimmed = serial.trim();
        let serial_ok = !trimmed.is_empty() && trimmed.len() <= 64 && trimmed.bytes().all(|c| c.is_ascii_hexdigit());
        match b.build() {
            Ok(config) => {
                prop_assert!(mchid_ok && serial_ok && api_v3_key.len() == 32);
                let shown = format!("{config:?} {config}");
                prop_assert!(!shown.contains("PRIVATE KEY"));
                if !base_url.as_deref().unwrap_or("").contains(&api_v3_key) {
                    prop_assert!(!shown.contains(&api_v3_key), "{}", shown);
                }
            }
            Err(RefundError::Config { reason }) => {
                if !mchid_ok {
                    prop_assert!(reason.contains("mchid"), "{}", reason);
                } else if !serial_ok {
                    prop_assert!(reason.contains("merchant_serial_no"), "{}", reason);
                } else if api_v3_key.len() != 32 {
                    prop_assert!(reason.contains("api_v3_key"), "{}", reason);
                } else {
                    prop_assert!(reason.contains("base_url"), "{}", reason);
                }
            }
            Err(e) => prop_assert!(false, "{:?}", e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the fuzzers / properties.

/// Signed headers with a hostile (but validly signed) timestamp.
fn verify_with_timestamp(ts: &str) -> std::result::Result<(), RefundError> {
    let f = fx();
    let pairs = signed_headers(Who::WechatpayKey, ts, "N", b"{}");
    let h =
        SignatureHeaders::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).unwrap();
    verify_signature(&f.keyring, &h, b"{}", NOW)
}

/// `verify_signature` computes `(now - ts).abs()` in i64: a `Wechatpay-Timestamp` far in the
/// past (≤ i64::MIN + now) overflows. Debug builds (and `cargo fuzz`) panic with "attempt to
/// subtract with overflow"; the `TimestampOutOfWindow` Display has the same expression.
#[test]
fn far_past_timestamp_is_a_typed_error_not_a_panic() {
    for ts in [
        "-9223372036854775808",
        "-9223372035059775808",
        "-9223372036000000000",
    ] {
        let r =
            std::panic::catch_unwind(|| verify_with_timestamp(ts).map_err(|e| (e.to_string(), e)));
        match r {
            Ok(Err((_, RefundError::TimestampOutOfWindow { .. }))) => {}
            other => panic!("timestamp {ts}: expected TimestampOutOfWindow, got {other:?}"),
        }
    }
}

/// The window check runs before the signature check, so the overflow above needs no valid
/// signature: a forged callback carrying `Wechatpay-Timestamp: -9223372036854775808` and junk in
/// the other headers panics `parse_notification` in builds with overflow checks.
/// (Reproducer of the `headers` fuzz target, flags 0x00: hex 00 + these header lines.)
#[test]
fn forged_far_past_timestamp_is_refused_without_a_panic() {
    let headers: HashMap<String, String> = [
        ("Wechatpay-Timestamp", "-9223372036854775808"),
        ("Wechatpay-Nonce", "n"),
        ("Wechatpay-Signature", "x"),
        ("Wechatpay-Serial", "s"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let r = std::panic::catch_unwind(|| {
        wechatpay_refund::parse_notification_at(fx().config.clone(), headers, b"{}".to_vec(), NOW)
    });
    assert!(
        matches!(r, Ok(Err(RefundError::TimestampOutOfWindow { .. }))),
        "{r:?}"
    );
}

/// In release builds (no overflow checks) the same subtraction wraps: for
/// `ts = i64::MIN + now`, `now - ts` wraps to i64::MIN, whose `abs()` is i64::MIN (negative),
/// so the ±300 s window check PASSES for a timestamp 292 billion years in the past.
#[test]
fn timestamp_wrapping_to_i64_min_is_outside_the_window() {
    let ts = (i64::MIN + NOW).to_string();
    let r = std::panic::catch_unwind(|| verify_with_timestamp(&ts));
    assert!(
        matches!(r, Ok(Err(RefundError::TimestampOutOfWindow { .. }))),
        "{r:?}"
    );
}

/// `normalize_header_name` trims before stripping the `HTTP_` prefix, so whitespace right after
/// the prefix survives one pass but not a second one (not idempotent).
#[test]
fn normalize_header_name_is_idempotent_after_the_wsgi_prefix() {
    let n = normalize_header_name("HTTP_ WECHATPAY_SERIAL");
    assert_eq!(normalize_header_name(&n), n);
    assert_eq!(n, "wechatpay-serial");
}

/// Timestamps that are large but do not overflow are plain window errors.
#[test]
fn extreme_but_representable_timestamps_are_window_errors() {
    for ts in [
        i64::MAX.to_string(),
        (-(1i64 << 62)).to_string(),
        "0".into(),
        "-1".into(),
    ] {
        let e = verify_with_timestamp(&ts).unwrap_err();
        assert!(
            matches!(e, RefundError::TimestampOutOfWindow { .. }),
            "{ts}: {e:?}"
        );
        assert!(!e.to_string().is_empty());
    }
    // Not a number at all (overflowing i64 text included) is a signature error.
    for ts in [
        "9223372036854775808",
        "-9223372036854775809",
        "1e9",
        "+-1",
        "",
    ] {
        assert!(verify_with_timestamp(ts).is_err(), "{ts}");
    }
}

/// The configuration an (otherwise valid) builder produces, or its error.
fn config_with(
    pub_key_id: &str,
    base_url: Option<&str>,
    user_agent: Option<&str>,
) -> std::result::Result<Arc<ClientConfig>, RefundError> {
    let f = fx();
    let mut b = ClientConfig::builder(
        f.key(&["mchid"]),
        f.key(&["merchant", "serial_no"]),
        f.key(&["merchant", "private_key_pkcs8_pem"]),
        f.key(&["api_v3_key"]),
    )
    .wechatpay_public_key(
        pub_key_id,
        f.key(&["wechatpay_public_key", "public_key_pem"]),
    )
    .options(ClientOptions {
        user_agent: user_agent.map(str::to_string),
        ..ClientOptions::default()
    });
    if let Some(u) = base_url {
        b = b.base_url(u);
    }
    b.build().map(Arc::new)
}

/// Whether a configuration would put anything but a well-formed URL and header values on the
/// wire (CR/LF in a header value is header injection).
fn wire_is_well_formed(config: Arc<ClientConfig>) -> bool {
    let http = build_query_refund_request(config, "R1".into(), None, NOW, "N0NCE".into()).unwrap();
    !http
        .url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        && http
            .headers
            .iter()
            .all(|h| !h.value.chars().any(|c| c.is_control() && c != '\t'))
}

/// Found by the `key_parsing` fuzz target (builder mode): a WeChat Pay public key id is only
/// checked for its `PUB_KEY_ID_` prefix, so control characters (NUL, CR, LF) are accepted and
/// then sent verbatim in the `Wechatpay-Serial` request header.
#[test]
fn public_key_id_with_control_characters_is_a_config_error() {
    for id in [
        "PUB_KEY_ID_1\r\nX-Injected: yes",
        "PUB_KEY_ID_\0",
        "PUB_KEY_ID_1 2",
    ] {
        match config_with(id, None, None) {
            Err(RefundError::Config { reason }) => {
                assert!(reason.contains("wechatpay_public_key_id"))
            }
            Ok(config) => panic!(
                "{id:?} accepted (wire well-formed: {})",
                wire_is_well_formed(config)
            ),
            Err(e) => panic!("{id:?}: {e:?}"),
        }
    }
}

/// `check_base_url` only looks at scheme, host and path: blanks or control characters inside
/// the authority are accepted and end up in every request URL.
#[test]
fn base_url_with_blanks_is_a_config_error() {
    for url in [
        "https://api.mch.weixin.qq.com x",
        "https://a\tb.example",
        "https://a\0.example",
    ] {
        assert!(
            matches!(
                config_with("PUB_KEY_ID_1", Some(url), None),
                Err(RefundError::Config { .. })
            ),
            "{url:?} accepted"
        );
    }
}

/// `user_agent` refuses CR and LF but accepts other control characters (NUL, DEL, ESC).
#[test]
fn user_agent_with_control_characters_is_a_config_error() {
    for ua in ["agent\0", "agent\u{7f}", "agent\u{1b}[31m"] {
        assert!(
            matches!(
                config_with("PUB_KEY_ID_1", None, Some(ua)),
                Err(RefundError::Config { .. })
            ),
            "{ua:?} accepted"
        );
    }
}

/// What the gaps above must keep accepting.
#[test]
fn ordinary_settings_stay_accepted_and_well_formed() {
    for (id, url, ua) in [
        ("PUB_KEY_ID_0119000000012026112300000000000001", None, None),
        (
            "PUB_KEY_ID_1",
            Some("http://127.0.0.1:8080"),
            Some("shop/1.0 (linux)"),
        ),
        (
            "PUB_KEY_ID_1",
            Some("https://api.mch.weixin.qq.com/"),
            Some("a\tb"),
        ),
    ] {
        let config = config_with(id, url, ua).unwrap();
        assert!(wire_is_well_formed(config));
    }
}
