//! Hostile PKCS#12 files (`apiclient_cert.p12`) → `ClientIdentity::from_pkcs12` and
//! `V2Config::builder(..).client_certificate_pkcs12(..).build()`: never a panic; the builder
//! fails only with `Config`, and no password or key material appears in an error.
//!
//! Input: `[flags] REST`. flags & 1: REST = `PASSWORD \x1f DER` (else REST is the DER and the
//! password is the test merchant id, the default); flags & 2: the builder's password is left
//! to its default (`None`, i.e. the merchant id).
#![no_main]

use fuzz_support::*;
use libfuzzer_sys::fuzz_target;
use wechatpay_refund::transport::ClientIdentity;
use wechatpay_refund::v2::V2Config;
use wechatpay_refund::RefundError;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (password, der) = match (flags & 1 != 0, rest.iter().position(|b| *b == 0x1f)) {
        (true, Some(i)) => (
            String::from_utf8_lossy(&rest[..i]).into_owned(),
            &rest[i + 1..],
        ),
        _ => (V2_MCH_ID.to_owned(), rest),
    };
    let no_secret = |e: &RefundError| {
        let text = format!("{e} {e:?}");
        // A password that could not occur in an error text by chance (a fixed message may
        // contain a short or plain one: a harness false positive seen in the first run).
        let distinctive = password.len() >= 8
            && password
                .chars()
                .any(|c| !c.is_ascii_alphanumeric() && !" #:()._,-'\"".contains(c));
        if distinctive {
            assert!(!text.contains(&password), "the password leaked: {text}");
        }
        assert!(!text.contains("PRIVATE KEY"), "key material leaked: {text}");
    };
    match ClientIdentity::from_pkcs12(der, &password) {
        Ok(id) => {
            let _ = format!("{id:?}");
        }
        Err(e) => {
            assert!(matches!(e, RefundError::Config { .. }), "{e:?}");
            no_secret(&e);
        }
    }
    let pw = (flags & 2 == 0).then(|| password.clone());
    match V2Config::builder(V2_APPID, V2_MCH_ID, V2_API_KEY)
        .client_certificate_pkcs12(der.to_vec(), pw)
        .build()
    {
        Ok(c) => {
            assert!(c.has_client_certificate());
            let text = format!("{c} {c:?}");
            assert!(!text.contains(V2_API_KEY));
        }
        Err(e) => {
            assert!(matches!(e, RefundError::Config { .. }), "{e:?}");
            no_secret(&e);
        }
    }
});
