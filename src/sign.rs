//! Request signing: the `Authorization` header of docs/protocol.md "Request signing".
//!
//! String to sign: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` over the exact bytes sent.

use crate::crypto::{self, RsaPrivateKey};
use crate::error::{RefundError, Result};
use base64::Engine;
use std::fmt;

/// The authentication scheme WeChat Pay APIv3 uses for requests and responses.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Produces RSASSA-PKCS1-v1_5 SHA-256 signatures with the merchant API private key.
///
/// The seam that lets the private key live elsewhere: an HSM, a KMS, Android Keystore. The
/// library hands over the exact bytes to sign and expects the raw signature (256 bytes for
/// RSA-2048), not base64.
#[cfg_attr(feature = "ffi", uniffi::export(with_foreign))]
pub trait Signer: Send + Sync {
    /// Sign `message` with RSASSA-PKCS1-v1_5 and SHA-256; return the raw signature bytes.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>>;
}

/// A [`Signer`] holding the merchant private key in memory (zeroized on drop).
pub struct LocalSigner {
    key: RsaPrivateKey,
}

impl LocalSigner {
    /// Wrap a parsed private key.
    pub fn new(key: RsaPrivateKey) -> Self {
        Self { key }
    }
}

impl fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalSigner({:?})", self.key)
    }
}

impl Signer for LocalSigner {
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>> {
        self.key
            .sign_sha256(&message)
            .map_err(|reason| RefundError::Signer { reason })
    }
}

/// The alphabet of generated nonces (what the official SDKs use).
const NONCE_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A fresh 32-character nonce from the CSPRNG.
pub fn generate_nonce() -> String {
    crypto::random_string(32, NONCE_ALPHABET)
}

/// Check a caller-supplied nonce: 1–32 ASCII letters or digits (it is quoted in a header).
pub fn validate_nonce(nonce: &str) -> Result<()> {
    if nonce.is_empty() || nonce.len() > 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RefundError::invalid(
            "nonce",
            "must be 1 to 32 ASCII letters or digits",
        ));
    }
    Ok(())
}

/// The exact bytes signed for a request: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(
    method: &str,
    url: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(method.len() + url.len() + nonce.len() + body.len() + 32);
    m.extend_from_slice(method.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(url.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(timestamp.to_string().as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// The `Authorization` header value.
pub fn authorization_header(
    mchid: &str,
    serial_no: &str,
    timestamp: i64,
    nonce: &str,
    signature: &[u8],
) -> String {
    let sig = base64::engine::general_purpose::STANDARD.encode(signature);
    format!(
        "{SCHEME} mchid=\"{mchid}\",nonce_str=\"{nonce}\",signature=\"{sig}\",timestamp=\"{timestamp}\",serial_no=\"{serial_no}\""
    )
}

/// Sign a request and return its `Authorization` header.
///
/// `url` is the path plus `?query` exactly as sent (no scheme or host).
#[allow(clippy::too_many_arguments)] // the fields of the Authorization header, one each
pub fn sign_request(
    signer: &dyn Signer,
    mchid: &str,
    serial_no: &str,
    method: &str,
    url: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<String> {
    let message = request_message(method, url, timestamp, nonce, body);
    let signature = signer.sign(message)?;
    if signature.is_empty() {
        return Err(RefundError::Signer {
            reason: "the signer returned an empty signature".into(),
        });
    }
    Ok(authorization_header(
        mchid, serial_no, timestamp, nonce, &signature,
    ))
}

/// The fields of a parsed `Authorization` header (used by the sandbox to check requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationFields {
    /// `mchid`
    pub mchid: String,
    /// `serial_no` (merchant certificate serial)
    pub serial_no: String,
    /// `nonce_str`
    pub nonce: String,
    /// `timestamp`
    pub timestamp: i64,
    /// `signature`, base64-decoded.
    pub signature: Vec<u8>,
}

/// Parse an `Authorization` header of the WECHATPAY2-SHA256-RSA2048 scheme (fields in any order).
pub fn parse_authorization(header: &str) -> std::result::Result<AuthorizationFields, String> {
    let rest = header
        .strip_prefix(SCHEME)
        .ok_or_else(|| format!("authorization scheme must be {SCHEME}"))?;
    let rest = rest.trim_start();
    let (mut mchid, mut serial, mut nonce, mut ts, mut sig) = (None, None, None, None, None);
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| format!("malformed authorization field {part:?}"))?;
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| format!("authorization field {k} must be quoted"))?;
        let slot = match k {
            "mchid" => &mut mchid,
            "serial_no" => &mut serial,
            "nonce_str" => &mut nonce,
            "timestamp" => &mut ts,
            "signature" => &mut sig,
            _ => continue,
        };
        if slot.replace(v.to_string()).is_some() {
            return Err(format!("authorization field {k} is repeated"));
        }
    }
    let need = |v: Option<String>, k: &str| v.ok_or_else(|| format!("authorization lacks {k}"));
    let timestamp = need(ts, "timestamp")?
        .parse::<i64>()
        .map_err(|_| "authorization timestamp is not a number".to_string())?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(need(sig, "signature")?)
        .map_err(|_| "authorization signature is not base64".to_string())?;
    Ok(AuthorizationFields {
        mchid: need(mchid, "mchid")?,
        serial_no: need(serial, "serial_no")?,
        nonce: need(nonce, "nonce_str")?,
        timestamp,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_layout_ends_every_line_with_newline() {
        assert_eq!(
            request_message("GET", "/v3/x?a=1", 1700000000, "N", b""),
            b"GET\n/v3/x?a=1\n1700000000\nN\n\n".to_vec()
        );
        assert_eq!(
            request_message("POST", "/p", 1, "N", b"{}"),
            b"POST\n/p\n1\nN\n{}\n".to_vec()
        );
    }

    #[test]
    fn nonces_are_32_uppercase_alphanumerics_and_differ() {
        let a = generate_nonce();
        let b = generate_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| NONCE_ALPHABET.contains(&c)));
        assert_ne!(a, b);
        validate_nonce(&a).unwrap();
        assert!(validate_nonce("").is_err());
        assert!(validate_nonce("a\"b").is_err());
        assert!(validate_nonce(&"A".repeat(33)).is_err());
    }

    #[test]
    fn authorization_round_trips_through_the_parser() {
        let h = authorization_header("1900000001", "ABC", 123, "NONCE", &[1, 2, 3]);
        assert_eq!(
            h,
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900000001\",nonce_str=\"NONCE\",signature=\"AQID\",timestamp=\"123\",serial_no=\"ABC\""
        );
        let f = parse_authorization(&h).unwrap();
        assert_eq!(f.mchid, "1900000001");
        assert_eq!(f.serial_no, "ABC");
        assert_eq!(f.timestamp, 123);
        assert_eq!(f.signature, vec![1, 2, 3]);
        assert!(parse_authorization("Bearer x").is_err());
        assert!(parse_authorization(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",mchid=\"2\",nonce_str=\"n\",signature=\"AQID\",timestamp=\"1\",serial_no=\"s\""
        )
        .unwrap_err()
        .contains("repeated"));
    }
}
