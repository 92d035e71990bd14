//! Shared fixtures and input decoding for the fuzz targets.
//!
//! Every target takes bytes in a simple, mutation-friendly layout (see FUZZING.md):
//!
//! ```text
//! [flags byte] [target-specific fixed bytes] HEAD "\n\n" BODY
//! HEAD = header lines "Name: value" separated by "\n" (lossy UTF-8)
//! ```
//!
//! so seeds can be written from the golden vectors by `fuzz/build_corpus.py`, and the fuzzer
//! can both mutate headers as text and the body as raw bytes.

use base64::Engine;
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use wechatpay_refund::crypto::{Certificate, CryptoBackend, RsaPrivateKey};
use wechatpay_refund::verify::{normalize_header_name, KeyRing};
use wechatpay_refund::{ApiV3Key, ClientConfig, RefundError};

/// The `now` of every vector file (unix seconds): the vectors' signatures are inside the window.
pub const NOW: i64 = 1_795_000_000;

/// The test keys (TEST KEYS ONLY, see tests/vectors/README.md), embedded at compile time.
pub const KEYS_JSON: &str = include_str!("../../tests/vectors/keys.json");

/// Everything the targets need, parsed once per process.
pub struct Fixture {
    /// The raw keys.json.
    pub keys: Value,
    /// One config per compiled crypto backend (index 0 = aws-lc-rs, 1 = pure Rust), trusting the
    /// WeChat Pay public key AND the platform certificate (migration mode).
    pub configs: Vec<Arc<ClientConfig>>,
    /// The same keys as a bare key ring, per backend.
    pub keyrings: Vec<KeyRing>,
    /// The private half of the WeChat Pay public key (signs "WeChat Pay" responses).
    pub wechatpay_private: RsaPrivateKey,
    /// The private key of the platform certificate.
    pub platform_private: RsaPrivateKey,
    /// The WeChat Pay public key id (`PUB_KEY_ID_…`).
    pub wechatpay_key_id: String,
    /// The platform certificate serial, as in keys.json (starts with a 0).
    pub platform_serial: String,
    /// The API v3 key.
    pub api_v3_key: ApiV3Key,
    /// The API v3 key text.
    pub api_v3_key_text: String,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("keys.json lacks {path:?}"))
}

/// The process-wide fixture.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let keys: Value = serde_json::from_str(KEYS_JSON).expect("keys.json");
        let backends = [CryptoBackend::AwsLc, CryptoBackend::RustCrypto];
        let configs = backends
            .iter()
            .map(|b| {
                Arc::new(
                    ClientConfig::builder(
                        s(&keys, &["mchid"]),
                        s(&keys, &["merchant", "serial_no"]),
                        s(&keys, &["merchant", "private_key_pkcs8_pem"]),
                        s(&keys, &["api_v3_key"]),
                    )
                    .wechatpay_public_key(
                        s(&keys, &["wechatpay_public_key", "id"]),
                        s(&keys, &["wechatpay_public_key", "public_key_pem"]),
                    )
                    .platform_certificate(s(&keys, &["platform", "certificate_pem"]))
                    // The test platform certificate is self-signed: its own trust anchor.
                    .options(wechatpay_refund::ClientOptions {
                        platform_trust_anchors_pem: vec![s(
                            &keys,
                            &["platform", "certificate_pem"],
                        )
                        .to_string()],
                        ..Default::default()
                    })
                    .crypto_backend(*b)
                    .build()
                    .expect("test config"),
                )
            })
            .collect();
        let keyrings = backends
            .iter()
            .map(|b| {
                let mut k = KeyRing::new();
                k.add_public_key(
                    s(&keys, &["wechatpay_public_key", "id"]),
                    s(&keys, &["wechatpay_public_key", "public_key_pem"]),
                    *b,
                )
                .expect("public key");
                k.add_certificate(s(&keys, &["platform", "certificate_pem"]), *b)
                    .expect("certificate");
                k
            })
            .collect();
        let wechatpay_private =
            RsaPrivateKey::from_pem(s(&keys, &["wechatpay_public_key", "private_key_pkcs8_pem"]))
                .expect("wechatpay private key");
        let platform_private =
            RsaPrivateKey::from_pem(s(&keys, &["platform", "private_key_pkcs8_pem"]))
                .expect("platform private key");
        let cert = Certificate::from_pem_with(
            CryptoBackend::AwsLc,
            s(&keys, &["platform", "certificate_pem"]),
        )
        .expect("certificate");
        assert!(s(&keys, &["platform", "serial_no"]).ends_with(&cert.serial_hex));
        let api_v3_key_text = s(&keys, &["api_v3_key"]).to_string();
        Fixture {
            configs,
            keyrings,
            wechatpay_private,
            platform_private,
            wechatpay_key_id: s(&keys, &["wechatpay_public_key", "id"]).to_string(),
            platform_serial: s(&keys, &["platform", "serial_no"]).to_string(),
            api_v3_key: ApiV3Key::new(&api_v3_key_text).expect("api v3 key"),
            api_v3_key_text,
            keys,
        }
    })
}

impl Fixture {
    /// The string of a keys.json entry (`["merchant", "public_key_pem"]`...).
    pub fn key(&self, path: &[&str]) -> &str {
        s(&self.keys, path)
    }
}

/// A decoded fuzz message: header pairs and raw body.
pub struct Message {
    /// `(name, value)` in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
}

/// Split `HEAD "\n\n" BODY`; header lines are `Name: value` (the first `:` splits, one space
/// after it is dropped; a line without `:` is a header with an empty value).
pub fn parse_message(data: &[u8]) -> Message {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let headers = head
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((k, v)) => (k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
            None => (line.to_string(), String::new()),
        })
        .collect();
    Message {
        headers,
        body: body.to_vec(),
    }
}

/// Whether any header normalises to `name` (lower-case, e.g. `wechatpay-timestamp`).
pub fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers
        .iter()
        .any(|(k, _)| normalize_header_name(k) == name)
}

/// The first value of a header, trimmed the way the verifier trims it.
pub fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| normalize_header_name(k) == name)
        .map(|(_, v)| v.trim())
}

/// Which key signs in "signed" modes.
#[derive(Clone, Copy, Debug)]
pub enum SigningKey {
    /// The WeChat Pay public key pair (`PUB_KEY_ID_…`).
    WechatpayPublicKey,
    /// The platform certificate key (certificate mode).
    Platform,
}

/// Make `headers` carry a VALID WeChat Pay signature over `body`:
/// every fuzzer `Wechatpay-Signature` header is dropped; `Wechatpay-Timestamp`,
/// `Wechatpay-Nonce` and `Wechatpay-Serial` are kept when the fuzzer gave them (so odd
/// timestamps and serials with valid signatures are explored) and added otherwise; the
/// signature is computed over exactly the (trimmed) timestamp and nonce the verifier will read.
///
/// `serial_style` picks how an added platform serial is spelled (as configured, lower case,
/// without its leading zero, with extra zeros).
pub fn sign_headers(
    headers: &mut Vec<(String, String)>,
    body: &[u8],
    key: SigningKey,
    serial_style: u8,
) {
    let f = fixture();
    headers.retain(|(k, _)| normalize_header_name(k) != "wechatpay-signature");
    if !has_header(headers, "wechatpay-timestamp") {
        headers.push(("Wechatpay-Timestamp".into(), (NOW - 7).to_string()));
    }
    if !has_header(headers, "wechatpay-nonce") {
        headers.push((
            "Wechatpay-Nonce".into(),
            "FUZZN0NCE0000000000000000000000".into(),
        ));
    }
    if !has_header(headers, "wechatpay-serial") {
        let serial = match key {
            SigningKey::WechatpayPublicKey => f.wechatpay_key_id.clone(),
            SigningKey::Platform => match serial_style % 4 {
                0 => f.platform_serial.clone(),
                1 => f.platform_serial.to_ascii_lowercase(),
                2 => f.platform_serial.trim_start_matches('0').to_string(),
                _ => format!("000{}", f.platform_serial),
            },
        };
        headers.push(("Wechatpay-Serial".into(), serial));
    }
    let ts = header_value(headers, "wechatpay-timestamp")
        .unwrap_or("")
        .to_string();
    let nonce = header_value(headers, "wechatpay-nonce")
        .unwrap_or("")
        .to_string();
    let message = wechatpay_refund::verify::response_message(&ts, &nonce, body);
    let private = match key {
        SigningKey::WechatpayPublicKey => &f.wechatpay_private,
        SigningKey::Platform => &f.platform_private,
    };
    let sig = private
        .sign_sha256(&message)
        .expect("signing with a test key");
    headers.push((
        "Wechatpay-Signature".into(),
        base64::engine::general_purpose::STANDARD.encode(sig),
    ));
}

/// Whether `e` is one of the variants a verifier may return for hostile input.
pub fn is_verification_error(e: &RefundError) -> bool {
    matches!(
        e,
        RefundError::Signature { .. }
            | RefundError::ProbeSignature { .. }
            | RefundError::TimestampOutOfWindow { .. }
            | RefundError::UnknownSerial { .. }
    )
}

/// Render an error both ways (Display and Debug must never panic either).
pub fn render(e: &RefundError) -> usize {
    let shown = e.to_string();
    let debugged = format!("{e:?}");
    shown.len() + debugged.len()
}

/// The v2 test API key of `tests/vectors/v2.json` (TEST ONLY).
pub const V2_API_KEY: &str = "192006250b4c09247ec02edce69f6a2d";
/// The v2 merchant id of the seed's examples.
pub const V2_MCH_ID: &str = "10000100";
/// The v2 app id of the seed's examples.
pub const V2_APPID: &str = "wx2421b1c4370ec43b";

/// A v2 configuration with the test key, per sign type and crypto backend, built once.
pub fn v2_config(
    sign_type: wechatpay_refund::v2::V2SignType,
    backend: CryptoBackend,
) -> &'static wechatpay_refund::v2::V2Config {
    use wechatpay_refund::v2::{V2Config, V2SignType};
    static C: OnceLock<Vec<V2Config>> = OnceLock::new();
    let all = C.get_or_init(|| {
        let mut out = Vec::new();
        for st in [V2SignType::Md5, V2SignType::HmacSha256] {
            for b in [CryptoBackend::AwsLc, CryptoBackend::RustCrypto] {
                out.push(
                    V2Config::builder(V2_APPID, V2_MCH_ID, V2_API_KEY)
                        .sign_type(st)
                        .crypto_backend(b)
                        .build()
                        .expect("the v2 test configuration"),
                );
            }
        }
        out
    });
    let i = usize::from(sign_type == V2SignType::HmacSha256) * 2
        + usize::from(backend == CryptoBackend::RustCrypto);
    &all[i]
}
