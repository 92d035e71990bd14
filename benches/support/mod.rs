//! What the benches share: the golden vectors (tests/vectors) as inputs, so the numbers are for
//! real WeChat Pay-sized messages.

use serde_json::Value;
use wechatpay_refund::*;

/// A vector file of tests/vectors.
pub fn load(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).expect("vector file")).expect("vector json")
}

pub fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

/// A configuration from the test keys (`keys.json`), public-key mode.
pub fn config_from(k: &Value, backend: CryptoBackend) -> ClientConfig {
    ClientConfig::builder(
        s(&k["mchid"]),
        s(&k["merchant"]["serial_no"]),
        s(&k["merchant"]["private_key_pkcs8_pem"]),
        s(&k["api_v3_key"]),
    )
    .wechatpay_public_key(
        s(&k["wechatpay_public_key"]["id"]),
        s(&k["wechatpay_public_key"]["public_key_pem"]),
    )
    .crypto_backend(backend)
    .build()
    .expect("config")
}

/// The signed refund answer of `verification.json`'s `ok_public_key` case, and its `now`.
pub fn refund_response() -> (HttpResponse, i64) {
    let verification = load("verification.json");
    let ok = verification["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == "ok_public_key")
        .expect("the ok_public_key case")
        .clone();
    let response = HttpResponse {
        status: 200,
        headers: vec![
            HttpHeader::new("Wechatpay-Timestamp", ok["timestamp"].to_string()),
            HttpHeader::new("Wechatpay-Nonce", s(&ok["nonce"])),
            HttpHeader::new("Wechatpay-Signature", s(&ok["signature"])),
            HttpHeader::new("Wechatpay-Serial", s(&ok["serial"])),
            HttpHeader::new("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
            HttpHeader::new("Request-ID", s(&ok["request_id"])),
        ],
        body: s(&ok["body"]).into_bytes(),
    };
    (response, verification["now"].as_i64().expect("now"))
}
