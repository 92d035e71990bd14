//! Key and configuration parsing with hostile PEM text, DER and settings: `RsaPrivateKey`,
//! `RsaPublicKey`, `Certificate` (both crypto backends) and `ClientConfig::builder(..).build()`.
//! Never a panic; `String` errors from the key layer, `RefundError::Config` from the builder.
//!
//! Input: `[mode] REST`, mode % 8:
//! - 0: REST is PEM text (lossy UTF-8) given to every parser;
//! - 1..=5: REST is DER, wrapped as PEM with label PRIVATE KEY, RSA PRIVATE KEY, PUBLIC KEY,
//!   RSA PUBLIC KEY or CERTIFICATE (mode bit 3: with a legacy `Proc-Type: 4,ENCRYPTED` header);
//! - 6, 7: REST is `\x1f`-separated builder settings: mchid, merchant serial, merchant private
//!   key PEM, API v3 key, WeChat Pay public key id, its PEM, platform certificate PEM, base URL,
//!   backup base URL, user agent. Missing fields take the valid test value; an empty PEM field
//!   leaves that key out. Mode bits 4-7 tweak options (max_attempts 0, zero timeouts, http
//!   notify URLs, pure-Rust backend).
#![no_main]

use base64::Engine;
use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::crypto::{Certificate, CryptoBackend, RsaPrivateKey, RsaPublicKey};
use wechatpay_refund::{ClientConfig, ClientOptions, RefundError};

const LABELS: [&str; 5] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "CERTIFICATE",
];

fn wrap(label: &str, der: &[u8], encrypted: bool) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    if encrypted {
        out.push_str(
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n",
        );
    }
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn all_parsers(pem: &str) {
    for backend in CryptoBackend::available() {
        if let Ok(k) = RsaPrivateKey::from_pem_with(backend, pem) {
            assert!(k.bits() >= 2048);
            let _ = format!("{k:?}");
            // A key that parses must be usable, and consistent with its public half.
            let public = k
                .public_key()
                .expect("public half of an accepted private key");
            let sig = k
                .sign_sha256(b"fuzz")
                .expect("signing with an accepted key");
            assert!(
                public.verify_sha256(b"fuzz", &sig),
                "accepted key signs unverifiably"
            );
        }
        if let Ok(k) = RsaPublicKey::from_pem_with(backend, pem) {
            assert!(k.bits() >= 2048);
            let again = RsaPublicKey::from_pem_with(backend, &k.to_pem()).expect("to_pem parses");
            assert_eq!(again.spki_der(), k.spki_der());
        }
        if let Ok(c) = Certificate::from_pem_with(backend, pem) {
            assert!(c.public_key.bits() >= 2048);
            assert!(c
                .serial_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
            assert!(c.serial_hex == "0" || !c.serial_hex.starts_with('0'));
        }
    }
}

fn builder_mode(mode: u8, rest: &[u8]) {
    let f = fixture();
    let text = String::from_utf8_lossy(rest);
    let given: Vec<&str> = text.split('\x1f').collect();
    let field = |i: usize, default: &str| -> String {
        if rest.is_empty() {
            return default.to_string();
        }
        given
            .get(i)
            .map(|s| s.to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let mchid = field(0, f.key(&["mchid"]));
    let serial = field(1, f.key(&["merchant", "serial_no"]));
    let mut private_pem = field(2, f.key(&["merchant", "private_key_pkcs8_pem"]));
    if private_pem.is_empty() {
        private_pem = f.key(&["merchant", "private_key_pkcs8_pem"]).to_string();
    }
    let api_v3_key = field(3, &f.api_v3_key_text);
    let pub_id = field(4, &f.wechatpay_key_id);
    let pub_pem = field(5, f.key(&["wechatpay_public_key", "public_key_pem"]));
    let cert_pem = field(6, f.key(&["platform", "certificate_pem"]));
    let base_url = given.get(7).map(|s| s.to_string());
    let backup = given.get(8).map(|s| s.to_string());
    let user_agent = given.get(9).map(|s| s.to_string());
    let options = ClientOptions {
        backup_base_url: backup.clone(),
        user_agent: user_agent.clone(),
        max_attempts: if mode & 0x10 != 0 { 0 } else { 3 },
        connect_timeout_ms: if mode & 0x20 != 0 { 0 } else { 5000 },
        allow_http_notify_url: mode & 0x40 != 0,
        // The test platform certificate is self-signed: its own trust anchor (a mutated
        // certificate then fails the chain check with `Config`, like any bad one).
        platform_trust_anchors_pem: vec![f.key(&["platform", "certificate_pem"]).to_string()],
        ..ClientOptions::default()
    };
    let mut b = ClientConfig::builder(
        mchid.clone(),
        serial.clone(),
        private_pem.clone(),
        api_v3_key.clone(),
    )
    .options(options)
    .crypto_backend(if mode & 0x80 != 0 {
        CryptoBackend::RustCrypto
    } else {
        CryptoBackend::AwsLc
    });
    if !pub_pem.is_empty() {
        b = b.wechatpay_public_key(pub_id.clone(), pub_pem);
    }
    if !cert_pem.is_empty() {
        b = b.platform_certificate(cert_pem);
    }
    if let Some(u) = &base_url {
        b = b.base_url(u.clone());
    }
    let _ = format!("{b:?}");
    match b.build() {
        Ok(config) => {
            let shown = format!("{config:?} {config}");
            // Secrets never appear in Debug / Display (unless the fuzzer copied the secret into a
            // field that is printed on purpose).
            let public: String = [
                &mchid,
                &serial,
                &pub_id,
                base_url.as_deref().unwrap_or(""),
                backup.as_deref().unwrap_or(""),
                user_agent.as_deref().unwrap_or(""),
            ]
            .concat();
            if !public.contains(&api_v3_key) && !shown.is_empty() {
                assert!(!shown.contains(&api_v3_key), "API v3 key printed: {shown}");
            }
            if !public.contains("PRIVATE KEY") {
                assert!(
                    !shown.contains("PRIVATE KEY"),
                    "private key printed: {shown}"
                );
            }
            assert_eq!(api_v3_key.len(), 32);
            // What an accepted configuration puts on the wire must be a well-formed request:
            // no whitespace or control characters in the URL, none but SP/HTAB in header values
            // (a CR/LF there is header injection).
            let config = std::sync::Arc::new(config);
            let http = wechatpay_refund::build_query_refund_request(
                config,
                "R1".into(),
                None,
                NOW,
                "N0NCE".into(),
            )
            .expect("a valid query with a valid configuration");
            assert!(
                !http
                    .url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()),
                "accepted configuration yields URL {:?}",
                http.url
            );
            for h in &http.headers {
                assert!(
                    !h.value.chars().any(|c| c.is_control() && c != '\t'),
                    "accepted configuration yields header {}: {:?}",
                    h.name,
                    h.value
                );
            }
        }
        Err(RefundError::Config { reason }) => {
            assert!(!reason.is_empty());
        }
        Err(e) => panic!("builder returned a non-Config error: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let mode = data[0];
    let rest = &data[1..];
    match mode % 8 {
        0 => all_parsers(&String::from_utf8_lossy(rest)),
        m @ 1..=5 => all_parsers(&wrap(LABELS[usize::from(m - 1)], rest, mode & 8 != 0)),
        _ => builder_mode(mode, rest),
    }
});
