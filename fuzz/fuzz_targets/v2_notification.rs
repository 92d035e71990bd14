//! Hostile v2 refund notifications → `v2::notify::parse_refund_notification_for`: never a
//! panic; failures are `Decode` (the outer XML), `Decryption` (`req_info` and everything after
//! a successful decryption) or `NotificationMismatch` (`mch_id` / `appid`).
//!
//! Input: `[flags] BODY`. flags & 1 = encrypted mode: `BODY = OUTER \0\0 PLAINTEXT`, and every
//! `@REQ@` in OUTER becomes the `req_info` of PLAINTEXT (AES-256-ECB under the test API key),
//! so the code after decryption is fuzzed too; flags & 2 = pure-Rust crypto backend.
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::v2::notify::{encrypt_req_info, parse_refund_notification_for};
use wechatpay_refund::v2::V2SignType;
use wechatpay_refund::{CryptoBackend, RefundError};

fn split(body: &[u8]) -> (&[u8], &[u8]) {
    match body.windows(2).position(|w| w == b"\0\0") {
        Some(i) => (&body[..i], &body[i + 2..]),
        None => (body, &[]),
    }
}

fn replace(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len() + with.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let backend = if flags & 2 != 0 {
        CryptoBackend::RustCrypto
    } else {
        CryptoBackend::AwsLc
    };
    let config = v2_config(V2SignType::Md5, backend);
    let body = if flags & 1 != 0 {
        let (outer, plain) = split(body);
        let req_info = encrypt_req_info(backend, V2_API_KEY, plain);
        replace(outer, b"@REQ@", req_info.as_bytes())
    } else {
        body.to_vec()
    };
    match parse_refund_notification_for(config, &body) {
        Ok(n) => {
            assert_eq!(n.mch_id, config.mch_id);
            assert_eq!(n.appid, config.appid);
            assert_eq!(
                n.notification_key,
                format!("v2:{}:{}", n.refund_id, n.refund_status.as_str())
            );
            assert!(n.refund_fee >= 0 && n.total_fee >= 0 && n.refund_fee <= n.total_fee);
            let _ = format!("{n:?}");
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    RefundError::Decode { .. }
                        | RefundError::Decryption { .. }
                        | RefundError::NotificationMismatch { .. }
                ),
                "{e:?}"
            );
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
});
