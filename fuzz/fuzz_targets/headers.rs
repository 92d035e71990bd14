//! Header handling: `SignatureHeaders::from_pairs` + `verify_signature` (and the sans-IO
//! `verify_wechatpay_signature`), and the request-side `parse_authorization`.
//!
//! Input: `[flags] REST`. flags & 3 selects the mode:
//! - 0: REST = HEAD "\n\n" BODY → from_pairs + verify_signature against the test key ring;
//!      bit 2 set: the body is correctly signed first (fuzzer's timestamp/nonce/serial kept);
//!      bit 4: pure-Rust backend;
//! - 1: REST (lossy UTF-8) → `parse_authorization`; when it parses, re-rendering the fields
//!      with `authorization_header` must parse back to the same fields;
//! - 2: REST = lines `mchid\nserial\nnonce\ntimestamp\nsignature bytes` → `authorization_header`
//!      → `parse_authorization` must give the same fields back (when no field holds a comma);
//! - 3: like 0 through the sans-IO `verify_wechatpay_signature` with the full config.
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::sign::{authorization_header, parse_authorization};
use wechatpay_refund::verify::{normalize_header_name, verify_signature, SignatureHeaders};
use wechatpay_refund::{HttpHeader, RefundError};

fn verify_mode(flags: u8, rest: &[u8], sansio: bool) {
    let f = fixture();
    let mut msg = parse_message(rest);
    let signed = flags & 4 != 0;
    let clean = signed
        && !msg
            .headers
            .iter()
            .any(|(k, _)| normalize_header_name(k).starts_with("wechatpay-"));
    if signed {
        let key = if flags & 8 != 0 {
            SigningKey::Platform
        } else {
            SigningKey::WechatpayPublicKey
        };
        sign_headers(&mut msg.headers, &msg.body, key, flags >> 5);
    }
    let backend_index = usize::from(flags & 0x10 != 0);
    let pairs = || msg.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let result = if sansio {
        wechatpay_refund::verify_wechatpay_signature(
            f.configs[backend_index].clone(),
            msg.headers
                .iter()
                .map(|(k, v)| HttpHeader::new(k.clone(), v.clone()))
                .collect(),
            msg.body.clone(),
            NOW,
        )
    } else {
        match SignatureHeaders::from_pairs(pairs()) {
            Ok(h) => {
                // Extracted values are trimmed, and every present one came from the input.
                for v in [
                    &h.timestamp,
                    &h.nonce,
                    &h.signature,
                    &h.serial,
                    &h.signature_type,
                ]
                .into_iter()
                .flatten()
                {
                    assert_eq!(v.trim(), v.as_str());
                    assert!(v.len() <= 2048);
                }
                assert_eq!(
                    h.any_present(),
                    [
                        "wechatpay-timestamp",
                        "wechatpay-nonce",
                        "wechatpay-signature",
                        "wechatpay-serial"
                    ]
                    .iter()
                    .any(|n| has_header(&msg.headers, n))
                );
                verify_signature(&f.keyrings[backend_index], &h, &msg.body, NOW)
            }
            Err(e) => {
                assert!(matches!(e, RefundError::Signature { .. }), "{e:?}");
                Err(e)
            }
        }
    };
    if let Err(e) = &result {
        render(e);
        assert!(is_verification_error(e), "unexpected error variant {e:?}");
        assert!(!clean, "a correctly signed message was refused: {e:?}");
    }
}

fn check_round_trip(f: &wechatpay_refund::sign::AuthorizationFields) {
    let fields = [&f.mchid, &f.serial_no, &f.nonce];
    if fields.iter().any(|s| s.contains(',')) {
        return; // commas separate fields: such values cannot be rendered unambiguously
    }
    let h = authorization_header(&f.mchid, &f.serial_no, f.timestamp, &f.nonce, &f.signature);
    let back = parse_authorization(&h).unwrap_or_else(|e| panic!("{h:?} does not parse back: {e}"));
    assert_eq!(&back, f, "authorization {h:?} did not round-trip");
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let flags = data[0];
    let rest = &data[1..];
    match flags & 3 {
        0 => verify_mode(flags, rest, false),
        3 => verify_mode(flags, rest, true),
        1 => {
            let text = String::from_utf8_lossy(rest);
            if let Ok(fields) = parse_authorization(&text) {
                check_round_trip(&fields);
            }
        }
        _ => {
            let text = String::from_utf8_lossy(rest);
            let mut lines = text.splitn(5, '\n');
            let mchid = lines.next().unwrap_or("").to_string();
            let serial = lines.next().unwrap_or("").to_string();
            let nonce = lines.next().unwrap_or("").to_string();
            let ts = lines
                .next()
                .and_then(|t| t.parse::<i64>().ok())
                .unwrap_or(NOW);
            let sig = lines.next().unwrap_or("").as_bytes().to_vec();
            let fields = wechatpay_refund::sign::AuthorizationFields {
                mchid,
                serial_no: serial,
                nonce,
                timestamp: ts,
                signature: sig,
            };
            check_round_trip(&fields);
        }
    }
});
