//! Hostile v2 XML → `v2::xml::parse` and the v2 answer parsers (`parse_refund_response_for`,
//! `parse_refund_query_response_for`): never a panic, always a typed `RefundError`.
//!
//! Input: `[flags] BODY`. flags: 1 = signed (when BODY parses as XML, the harness re-writes its
//! fields with a valid `sign` over them, so the code behind the signature check is fuzzed too),
//! 2 = HMAC-SHA256 (else MD5), 4 = a refund query answer (else an apply-refund answer),
//! 8 = pure-Rust crypto backend, 16 = write the re-signed XML without CDATA.
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::v2::{response, sign, xml, V2RefundQuery, V2RefundRequest, V2SignType};
use wechatpay_refund::{CryptoBackend, HttpHeader, HttpResponse, RefundError};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let st = if flags & 2 != 0 {
        V2SignType::HmacSha256
    } else {
        V2SignType::Md5
    };
    let backend = if flags & 8 != 0 {
        CryptoBackend::RustCrypto
    } else {
        CryptoBackend::AwsLc
    };
    let config = v2_config(st, backend);

    // The parser alone: a parsed document writes back to the same fields.
    let parsed = xml::parse("fuzz", body);
    if let Ok(f) = &parsed {
        let pairs: Vec<(&str, &str)> = f
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let again = xml::parse("fuzz", &xml::write_root(&f.root, &pairs, flags & 16 == 0))
            .expect("what the writer writes, the parser reads");
        assert_eq!(again.fields, f.fields, "write → parse round trip");
    } else if let Err(e) = &parsed {
        assert!(matches!(e, RefundError::Decode { .. }), "{e:?}");
    }

    let body = match (&parsed, flags & 1 != 0) {
        (Ok(f), true) => {
            let mut fields = f.fields.clone();
            fields.remove("sign");
            let s = sign::sign(backend, st, &fields, V2_API_KEY);
            let mut pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            pairs.push(("sign", &s));
            xml::write(&pairs, flags & 16 == 0)
        }
        _ => body.to_vec(),
    };
    let resp = HttpResponse {
        status: 200,
        headers: vec![HttpHeader::new("Content-Type", "text/xml")],
        body,
    };
    let check = |e: &RefundError| {
        assert!(
            matches!(
                e,
                RefundError::Decode { .. }
                    | RefundError::Signature { .. }
                    | RefundError::V2Api { .. }
            ),
            "{e:?}"
        );
        let _ = (
            e.to_string(),
            format!("{e:?}"),
            e.is_retryable(),
            e.retry_after_ms(),
        );
        if let RefundError::V2Api {
            err_code,
            retryable,
            retry_after_ms,
            ..
        } = e
        {
            assert!(
                retry_after_ms.is_none() || *retryable,
                "a wait only for retryable codes"
            );
            assert!(err_code.as_deref() != Some(""), "no empty err_code");
        }
    };
    if flags & 4 == 0 {
        let request = V2RefundRequest::by_out_trade_no("1415757673", "1415701182", 1, 1);
        match response::parse_refund_response_for(config, &request, &resp) {
            Ok(r) => {
                assert_eq!(r.out_refund_no, request.out_refund_no);
                assert_eq!(r.refund_fee, request.refund_fee);
                assert!(r.total_fee.is_none_or(|t| t == request.total_fee));
                for c in &r.coupons {
                    assert!(c.coupon_refund_fee >= 0);
                }
            }
            Err(e) => check(&e),
        }
    } else {
        let query = V2RefundQuery {
            out_trade_no: Some("1415757673".into()),
            ..Default::default()
        };
        match response::parse_refund_query_response_for(config, &query, &resp) {
            Ok(q) => {
                assert_eq!(q.out_trade_no, "1415757673");
                assert_eq!(q.refunds.len() as i64, q.refund_count);
                for r in &q.refunds {
                    assert!(r.refund_fee >= 0);
                    assert!(q.total_fee.is_none_or(|t| r.refund_fee <= t));
                }
            }
            Err(e) => check(&e),
        }
    }
});
