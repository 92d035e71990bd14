//! Helpers shared by the integration tests: the TEST keys of tests/vectors/keys.json, a
//! configuration built from them, and responses / notifications signed with the test WeChat
//! Pay key.
#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use wechatpay_refund::crypto::RsaPrivateKey;
use wechatpay_refund::*;

pub fn keys() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keys.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

/// A builder with the test merchant key, API v3 key and WeChat Pay public key.
pub fn builder() -> ClientConfigBuilder {
    let k = keys();
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
}

pub fn config() -> Arc<ClientConfig> {
    Arc::new(builder().options(trusting_test_platform()).build().unwrap())
}

/// Options that trust the test platform certificate (self-signed: its own anchor) for
/// downloads, instead of WeChat Pay's Tenpay.com Root CA.
pub fn trusting_test_platform() -> ClientOptions {
    ClientOptions {
        platform_trust_anchors_pem: vec![s(&keys()["platform"]["certificate_pem"])],
        ..Default::default()
    }
}

pub fn wechatpay_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pem(&s(&keys()["wechatpay_public_key"]["private_key_pkcs8_pem"])).unwrap()
}

pub fn wechatpay_key_id() -> String {
    s(&keys()["wechatpay_public_key"]["id"])
}

/// `Wechatpay-*` headers signing `body` at `ts` with the test WeChat Pay key.
pub fn signature_headers(body: &[u8], ts: i64) -> Vec<(String, String)> {
    let msg = wechatpay_refund::verify::response_message(&ts.to_string(), "NONCE1", body);
    let sig = base64::engine::general_purpose::STANDARD
        .encode(wechatpay_key().sign_sha256(&msg).unwrap());
    vec![
        ("Wechatpay-Timestamp".into(), ts.to_string()),
        ("Wechatpay-Nonce".into(), "NONCE1".into()),
        ("Wechatpay-Signature".into(), sig),
        ("Wechatpay-Serial".into(), wechatpay_key_id()),
        (
            "Wechatpay-Signature-Type".into(),
            "WECHATPAY2-SHA256-RSA2048".into(),
        ),
        ("Request-ID".into(), "RID-1".into()),
    ]
}

/// A response signed by the test WeChat Pay key at `ts`.
pub fn signed(status: u16, body: &[u8], ts: i64) -> HttpResponse {
    HttpResponse {
        status,
        headers: signature_headers(body, ts)
            .into_iter()
            .map(|(k, v)| HttpHeader::new(k, v))
            .collect(),
        body: body.to_vec(),
    }
}

/// A notification body (envelope around `resource`) and its signed headers.
pub fn signed_notification(envelope: &Value, ts: i64) -> (HashMap<String, String>, Vec<u8>) {
    let body = envelope.to_string().into_bytes();
    (signature_headers(&body, ts).into_iter().collect(), body)
}

/// A builder with a sandbox's merchant credentials and base URL, and NO WeChat Pay key.
#[cfg(feature = "sandbox")]
pub fn sandbox_merchant(sb: &wechatpay_refund::sandbox::Sandbox) -> ClientConfigBuilder {
    let c = sb.credentials();
    ClientConfig::builder(
        c.mchid,
        c.merchant_serial_no,
        c.merchant_private_key_pem,
        c.api_v3_key,
    )
    .base_url(c.base_url)
    .options(ClientOptions {
        platform_trust_anchors_pem: c.platform_trust_anchors_pem,
        ..Default::default()
    })
}

/// [`sandbox_merchant`] trusting the sandbox's WeChat Pay public key.
#[cfg(feature = "sandbox")]
pub fn sandbox_builder(sb: &wechatpay_refund::sandbox::Sandbox) -> ClientConfigBuilder {
    let c = sb.credentials();
    sandbox_merchant(sb).wechatpay_public_key(
        c.wechatpay_public_key_id.unwrap(),
        c.wechatpay_public_key_pem.unwrap(),
    )
}

/// A fresh directory under the system's temporary one, unique per process, call and `name`.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wechatpay-test-{}-{}-{name}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
