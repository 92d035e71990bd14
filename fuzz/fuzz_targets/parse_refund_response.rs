//! Hostile responses → `parse_refund_response`: never a panic, always a typed `RefundError`.
//!
//! Input: `[flags][status u16 BE] HEAD "\n\n" BODY` (see FUZZING.md).
//! - flags bit 0 clear: headers and body are used as given (forgeries, truncations, vector replays);
//! - flags bit 0 set: the body is correctly signed (fuzzer's timestamp/nonce/serial kept when
//!   given), so the status handling and the JSON decoder behind the signature check are reached;
//! - bit 1: sign with the platform certificate key instead of the WeChat Pay public key;
//!   bits 2-3: spelling of the platform serial; bit 4: pure-Rust crypto backend.
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::refund::response::{decode_refund, parse_refund_response};
use wechatpay_refund::{HttpHeader, HttpResponse, RefundError};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let status = u16::from_be_bytes([data[1], data[2]]);
    let mut msg = parse_message(&data[3..]);
    let signed = flags & 1 != 0;
    // "clean": the fuzzer supplied none of the signature headers, so a signed message MUST verify.
    let clean = signed
        && !msg.headers.iter().any(|(k, _)| {
            let n = wechatpay_refund::verify::normalize_header_name(k);
            n.starts_with("wechatpay-")
        });
    if signed {
        let key = if flags & 2 != 0 {
            SigningKey::Platform
        } else {
            SigningKey::WechatpayPublicKey
        };
        sign_headers(&mut msg.headers, &msg.body, key, flags >> 2);
    }
    let f = fixture();
    let config = &f.configs[usize::from(flags & 0x10 != 0)];
    let response = HttpResponse {
        status,
        headers: msg
            .headers
            .iter()
            .map(|(k, v)| HttpHeader::new(k.clone(), v.clone()))
            .collect(),
        body: msg.body.clone(),
    };
    let request_id = response.header("Request-ID").map(str::to_string);
    match parse_refund_response(config, &response, NOW) {
        Ok(refund) => {
            assert!(
                (200..300).contains(&status),
                "a {status} response parsed as a refund"
            );
            assert_eq!(
                refund.raw_json.as_bytes(),
                &msg.body[..],
                "raw_json is not the body"
            );
            let again = decode_refund(&msg.body, request_id).expect("decoded twice");
            assert_eq!(again, refund);
        }
        Err(e) => {
            render(&e);
            let ok_variant = is_verification_error(&e)
                || matches!(e, RefundError::Api { .. } | RefundError::Decode { .. });
            assert!(ok_variant, "unexpected error variant {e:?}");
            if clean {
                // The signature is valid: only the status or the body may be refused.
                assert!(
                    matches!(e, RefundError::Api { .. } | RefundError::Decode { .. }),
                    "a correctly signed response was refused: {e:?}"
                );
            }
            if let RefundError::Api { status: s, .. } = e {
                assert_eq!(s, status);
                assert!(!(200..300).contains(&status));
            }
        }
    }
});
