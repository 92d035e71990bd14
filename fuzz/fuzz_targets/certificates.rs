//! Platform certificates, configured and downloaded, from hostile bytes: X.509 parsing (PEM and
//! DER), the chain check against the trust anchors, and `/v3/certificates` downloads whose
//! entries decrypt to the fuzzer's bytes or whose whole listing is the fuzzer's. Never a panic
//! (a non-ASCII certificate time once panicked); configured certificates fail only with
//! `Config`; a download is a typed error or certificates that chain to the anchor, are valid
//! now and carry the serial they are listed under.
//!
//! Input: `[mode] REST`, mode % 4:
//! - 0: REST is PEM text (lossy UTF-8), configured;
//! - 1: REST is DER wrapped as CERTIFICATE, configured;
//! - 2: REST (as mode 1's PEM when mode bit 2 is set, else as text) is the decrypted content of
//!   the one entry of a correctly encrypted and signed listing, listed under the test serial;
//! - 3: REST is the whole listing body, correctly signed.
#![no_main]

use base64::Engine;
use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::certificates::parse_download;
use wechatpay_refund::crypto::{Certificate, CryptoBackend};
use wechatpay_refund::notify::encrypt_resource;
use wechatpay_refund::{ClientConfig, ClientOptions, HttpHeader, HttpResponse, RefundError};

fn certificate_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = "-----BEGIN CERTIFICATE-----\n".to_string();
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out + "-----END CERTIFICATE-----\n"
}

fn options() -> ClientOptions {
    ClientOptions {
        platform_trust_anchors_pem: vec![fixture().key(&["platform", "certificate_pem"]).into()],
        ..Default::default()
    }
}

fn configured(pem: &str) {
    let f = fixture();
    for backend in CryptoBackend::available() {
        if let Ok(c) = Certificate::from_pem_with(backend, pem) {
            assert!(!c.serial_hex.is_empty());
            assert!(c
                .serial_hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        }
        let built = ClientConfig::builder(
            f.key(&["mchid"]),
            f.key(&["merchant", "serial_no"]),
            f.key(&["merchant", "private_key_pkcs8_pem"]),
            f.key(&["api_v3_key"]),
        )
        .platform_certificate(pem)
        .options(options())
        .crypto_backend(backend)
        .build();
        match built {
            Ok(config) => assert_eq!(config.platform_certificates().len(), 1),
            Err(RefundError::Config { .. }) => {}
            Err(e) => panic!("a configured certificate gave {e:?}"),
        }
    }
}

fn downloaded(body: Vec<u8>) {
    let f = fixture();
    let mut headers = Vec::new();
    sign_headers(&mut headers, &body, SigningKey::Platform, 0);
    let response = HttpResponse {
        status: 200,
        headers: headers
            .into_iter()
            .map(|(k, v)| HttpHeader::new(k, v))
            .collect(),
        body,
    };
    let config = ClientConfig::builder(
        f.key(&["mchid"]),
        f.key(&["merchant", "serial_no"]),
        f.key(&["merchant", "private_key_pkcs8_pem"]),
        f.key(&["api_v3_key"]),
    )
    .options(options())
    .download_platform_certificates(true)
    .build()
    .expect("test config");
    match parse_download(&config, &wechatpay_refund::KeyRing::new(), &response, NOW) {
        Ok(d) => {
            assert!(!d.certificates.is_empty());
            for c in &d.certificates {
                let cert = &c.certificate;
                assert!(cert.not_before - 300 <= NOW && NOW <= cert.not_after);
                // Only the anchor itself (the test certificate) can chain here.
                assert_eq!(cert.serial_hex, f.platform_serial.trim_start_matches('0'));
            }
        }
        Err(e) => {
            assert!(
                is_verification_error(&e)
                    || matches!(
                        e,
                        RefundError::Certificate { .. }
                            | RefundError::Decode { .. }
                            | RefundError::Decryption { .. }
                    ),
                "a download gave {e:?}"
            );
            let _ = render(&e);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => configured(&String::from_utf8_lossy(rest)),
        1 => configured(&certificate_pem(rest)),
        2 => {
            let f = fixture();
            let content = if mode & 4 != 0 {
                certificate_pem(rest)
            } else {
                String::from_utf8_lossy(rest).into_owned()
            };
            let r = encrypt_resource(
                &f.api_v3_key,
                CryptoBackend::AwsLc,
                content.as_bytes(),
                "0123456789ab",
                Some("certificate"),
                "certificate",
            )
            .expect("encrypt");
            let listing = serde_json::json!({"data": [{
                "serial_no": f.platform_serial,
                "effective_time": "2025-01-01T08:00:00+08:00",
                "expire_time": "2035-01-01T08:00:00+08:00",
                "encrypt_certificate": serde_json::to_value(&r).expect("resource"),
            }]});
            downloaded(serde_json::to_vec(&listing).expect("listing"));
        }
        _ => downloaded(rest.to_vec()),
    }
});
