//! Hostile refund notifications → `parse_notification`: never a panic, always a typed error.
//!
//! Input: `[flags] HEAD "\n\n" BODY` (see FUZZING.md).
//! - flags bit 0 clear: headers and body are used as given;
//! - flags bit 0 set: BODY is `ENVELOPE "\0\0" PLAINTEXT`. Every `@CT@` in the envelope is
//!   replaced by the base64 AEAD_AES_256_GCM encryption of PLAINTEXT under the test API v3 key,
//!   with the envelope's own `resource.nonce` (when it is 12 bytes) and
//!   `resource.associated_data`, and the result is correctly signed: the envelope decoder, the
//!   decryption and the plaintext decoder are all reached;
//! - bit 1: sign with the platform key; bits 2-3: serial spelling; bit 4: pure-Rust backend;
//!   bit 5: go through the sans-IO `parse_notification_at` (HashMap headers).
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use wechatpay_refund::notify::{encrypt_resource, parse_notification};
use wechatpay_refund::{CryptoBackend, RefundError};

fn split_plaintext(body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    match body.windows(2).position(|w| w == b"\0\0") {
        Some(i) => (body[..i].to_vec(), body[i + 2..].to_vec()),
        None => (body.to_vec(), Vec::new()),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let flags = data[0];
    let f = fixture();
    let backend_index = usize::from(flags & 0x10 != 0);
    let backend = [CryptoBackend::AwsLc, CryptoBackend::RustCrypto][backend_index];
    let mut msg = parse_message(&data[1..]);
    let signed = flags & 1 != 0;
    let clean = signed
        && !msg.headers.iter().any(|(k, _)| {
            wechatpay_refund::verify::normalize_header_name(k).starts_with("wechatpay-")
        });
    let mut plaintext = None;
    if signed {
        let (envelope, plain) = split_plaintext(&msg.body);
        let template = String::from_utf8_lossy(&envelope).into_owned();
        // Read nonce / associated data the way the library will (after the placeholder is filled).
        let probe: Option<serde_json::Value> =
            serde_json::from_str(&template.replace("@CT@", "")).ok();
        let resource = probe.as_ref().map(|v| &v["resource"]);
        let nonce = resource
            .and_then(|r| r["nonce"].as_str())
            .filter(|n| n.len() == 12)
            .unwrap_or("000000000000")
            .to_string();
        let aad = resource
            .and_then(|r| r["associated_data"].as_str())
            .map(str::to_string);
        let enc = encrypt_resource(
            &f.api_v3_key,
            backend,
            &plain,
            &nonce,
            aad.as_deref(),
            "refund",
        )
        .expect("12-byte nonce");
        msg.body = template.replace("@CT@", &enc.ciphertext).into_bytes();
        plaintext = Some(plain);
        let key = if flags & 2 != 0 {
            SigningKey::Platform
        } else {
            SigningKey::WechatpayPublicKey
        };
        sign_headers(&mut msg.headers, &msg.body, key, flags >> 2);
    }
    let result = if flags & 0x20 != 0 {
        // HashMap: duplicates collapse to the last value, as a framework's dict would.
        let map: HashMap<String, String> = msg.headers.iter().cloned().collect();
        wechatpay_refund::parse_notification_at(
            f.configs[backend_index].clone(),
            map,
            msg.body.clone(),
            NOW,
        )
    } else {
        parse_notification(
            &f.keyrings[backend_index],
            &f.api_v3_key,
            backend,
            msg.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &msg.body,
            NOW,
        )
    };
    match result {
        Ok(n) => {
            assert!(n.mchid.is_some() || n.sp_mchid.is_some());
            if let Some(p) = &plaintext {
                assert_eq!(
                    n.raw_json.as_bytes(),
                    &p[..],
                    "raw_json is not the plaintext"
                );
            }
        }
        Err(e) => {
            render(&e);
            let ok_variant = is_verification_error(&e)
                || matches!(
                    e,
                    RefundError::Decode { .. } | RefundError::Decryption { .. }
                );
            assert!(ok_variant, "unexpected error variant {e:?}");
            if clean {
                assert!(
                    !is_verification_error(&e),
                    "a correctly signed notification was refused: {e:?}"
                );
            }
        }
    }
});
