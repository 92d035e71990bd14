//! The v2 `sign` (docs/protocol.md "Legacy v2 refund", Signature): every parameter with a non-empty
//! value except `sign`, sorted by key in ASCII order, `k=v` joined with `&`, then
//! `&key=<API key>`; MD5 or HMAC-SHA256 (keyed with the API key), uppercase hex.

use crate::crypto::legacy::{hmac_sha256, md5};
use crate::crypto::{der::hex_upper, CryptoBackend};
use crate::error::{RefundError, Result};
use std::collections::BTreeMap;

/// The v2 signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum V2SignType {
    /// MD5, the default when no `sign_type` is sent.
    #[default]
    Md5,
    /// HMAC-SHA256 with the API key; the request then carries `sign_type=HMAC-SHA256`.
    HmacSha256,
}

impl V2SignType {
    /// The `sign_type` wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::HmacSha256 => "HMAC-SHA256",
        }
    }

    /// The algorithm named by a `sign_type` value (`None`: not one of the two).
    pub fn from_wire(v: &str) -> Option<Self> {
        match v {
            "MD5" => Some(Self::Md5),
            "HMAC-SHA256" => Some(Self::HmacSha256),
            _ => None,
        }
    }
}

/// The string that is hashed: `a=1&b=2&key=<API key>`. It contains the API key: never log it.
pub fn sign_string(params: &BTreeMap<String, String>, api_key: &str) -> String {
    let mut s = String::new();
    for (k, v) in params {
        if k == "sign" || v.is_empty() {
            continue;
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('&');
    }
    s.push_str("key=");
    s.push_str(api_key);
    s
}

/// The uppercase-hex `sign` of `params` (the `sign` entry itself, if any, is ignored).
pub fn sign(
    backend: CryptoBackend,
    sign_type: V2SignType,
    params: &BTreeMap<String, String>,
    api_key: &str,
) -> String {
    let s = zeroize::Zeroizing::new(sign_string(params, api_key));
    match sign_type {
        V2SignType::Md5 => hex_upper(&md5(s.as_bytes())),
        V2SignType::HmacSha256 => {
            hex_upper(&hmac_sha256(backend, api_key.as_bytes(), s.as_bytes()))
        }
    }
}

/// Check the `sign` of a received message. Missing or different is a `Signature` error: the
/// content must not be believed.
pub fn verify(
    backend: CryptoBackend,
    sign_type: V2SignType,
    params: &BTreeMap<String, String>,
    api_key: &str,
) -> Result<()> {
    let got = params
        .get("sign")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| RefundError::signature("the v2 answer carries no sign", None))?;
    let want = sign(backend, sign_type, params, api_key);
    // Case-insensitive hex, compared without an early exit.
    let same = got.len() == want.len()
        && got
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_uppercase() ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(RefundError::signature(
            format!(
                "the v2 answer's sign does not match ({}, API key): wrong API key or tampered answer",
                sign_type.as_str()
            ),
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sign_string_rules() {
        let p = params(&[
            ("b", "2"),
            ("a", "1"),
            ("empty", ""),
            ("sign", "X"),
            ("C", "3"),
        ]);
        assert_eq!(sign_string(&p, "K"), "C=3&a=1&b=2&key=K");
    }

    #[test]
    fn verify_accepts_own_and_refuses_others() {
        for b in CryptoBackend::available() {
            for t in [V2SignType::Md5, V2SignType::HmacSha256] {
                let mut p = params(&[("return_code", "SUCCESS"), ("x", "1")]);
                let s = sign(b, t, &p, "k");
                assert_eq!(s.len(), if t == V2SignType::Md5 { 32 } else { 64 });
                p.insert("sign".into(), s.to_ascii_lowercase());
                verify(b, t, &p, "k").unwrap();
                assert!(verify(b, t, &p, "other").is_err());
                p.insert("x".into(), "2".into());
                assert!(verify(b, t, &p, "k").is_err());
                p.remove("sign");
                assert!(verify(b, t, &p, "k").is_err());
            }
        }
    }
}
