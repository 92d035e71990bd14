//! The v2 refund notification (docs/protocol.md "Legacy v2 refund"): an unsigned `<xml>` whose
//! `req_info` is base64 of AES-256-ECB (PKCS#7) under the lowercase hex MD5 of the API key.
//!
//! **A v2 notification is a hint, not proof.** Only a holder of the API key can produce a
//! `req_info`, but AES-ECB gives no integrity (blocks can be cut and spliced) and nothing in it
//! is fresh (no signed timestamp or nonce): a captured notification can be replayed at any
//! time, and the outer `appid` / `mch_id` / `sub_*` are not covered at all. Act on one only
//! after confirming the refund with `refund_query` (the signed answer is the truth), and
//! deduplicate on [`V2RefundNotification::notification_key`] once handled.

use super::config::V2Config;
use super::model::*;
use super::response::{at_most_total, fen, opt, opt_fen, req};
use super::xml;
use crate::crypto::legacy::{aes_256_ecb_pkcs7_decrypt, aes_256_ecb_pkcs7_encrypt, md5};
use crate::crypto::CryptoBackend;
use crate::error::{RefundError, Result};
use base64::Engine;
use zeroize::Zeroizing;

/// The AES-256 key: the 32 ASCII bytes of the lowercase hex MD5 of the API key.
fn req_info_key(api_key: &str) -> Zeroizing<[u8; 32]> {
    let hex = crate::crypto::der::hex_upper(&md5(api_key.as_bytes())).to_ascii_lowercase();
    let mut k = Zeroizing::new([0u8; 32]);
    k.copy_from_slice(hex.as_bytes());
    k
}

/// Encrypt a `<root>` plaintext into a `req_info` value (what WeChat Pay does; the sandbox and
/// tests use it).
pub fn encrypt_req_info(backend: CryptoBackend, api_key: &str, plaintext: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(aes_256_ecb_pkcs7_encrypt(
        backend,
        &req_info_key(api_key),
        plaintext,
    ))
}

/// Decrypt a `req_info` value into its `<root>` plaintext.
pub fn decrypt_req_info(
    backend: CryptoBackend,
    api_key: &str,
    req_info: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let ct = base64::engine::general_purpose::STANDARD
        .decode(req_info.trim())
        .map_err(|_| RefundError::Decryption {
            reason: "req_info is not base64".into(),
        })?;
    aes_256_ecb_pkcs7_decrypt(backend, &req_info_key(api_key), &ct).ok_or_else(|| {
        RefundError::Decryption {
            reason: "req_info does not decrypt with this API key (wrong v2 API key, or tampered)"
                .into(),
        }
    })
}

/// Everything after a successful decryption is the decryption's result: a wrong key that
/// happens to pass the padding check (1 in 256), or spliced blocks, give garbage, which is a
/// `Decryption` failure, never a `Decode` one.
fn after_decryption(e: RefundError) -> RefundError {
    match e {
        RefundError::Decode { reason, .. } => RefundError::Decryption {
            reason: format!(
                "req_info decrypted to something that is not a refund notification ({reason}): \
                 wrong v2 API key, or tampered"
            ),
        },
        e => e,
    }
}

/// Decrypt and parse a v2 refund notification for this configuration: its `mch_id` and
/// `appid` must be the notification's (see the module documentation: still a hint).
pub fn parse_refund_notification_for(
    config: &V2Config,
    body: &[u8],
) -> Result<V2RefundNotification> {
    let n =
        parse_refund_notification(config.backend, config.api_key(), Some(&config.mch_id), body)?;
    if n.appid != config.appid {
        return Err(RefundError::NotificationMismatch {
            field: "appid".into(),
            expected: config.appid.clone(),
            actual: n.appid,
        });
    }
    Ok(n)
}

/// Decrypt and parse a v2 refund notification body (the raw bytes POSTed to `notify_url`).
/// `expected_mch_id`, when given, must be the notification's `mch_id`.
pub fn parse_refund_notification(
    backend: CryptoBackend,
    api_key: &str,
    expected_mch_id: Option<&str>,
    body: &[u8],
) -> Result<V2RefundNotification> {
    let what = "v2 refund notification";
    let outer = xml::parse(what, body)?;
    match outer.get("return_code") {
        Some("SUCCESS") => {}
        other => {
            return Err(RefundError::decode(
                what,
                format!("return_code is {other:?}, not SUCCESS"),
                None,
            ))
        }
    }
    let mch_id = req(&outer, what, "mch_id")?.to_owned();
    if let Some(m) = expected_mch_id {
        if m != mch_id {
            return Err(RefundError::NotificationMismatch {
                field: "mch_id".into(),
                expected: m.into(),
                actual: mch_id,
            });
        }
    }
    let plain = decrypt_req_info(backend, api_key, req(&outer, what, "req_info")?)?;
    let mut n = decode_req_info(&plain).map_err(after_decryption)?;
    n.appid = opt(&outer, "appid").unwrap_or_default();
    n.mch_id = mch_id;
    n.sub_appid = opt(&outer, "sub_appid");
    n.sub_mch_id = opt(&outer, "sub_mch_id");
    Ok(n)
}

/// The decrypted `<root>`; the outer fields are left empty.
fn decode_req_info(plain: &[u8]) -> Result<V2RefundNotification> {
    let what = "v2 refund notification req_info";
    let f = xml::parse(what, plain)?;
    let refund_id = req(&f, what, "refund_id")?.to_owned();
    let refund_status = V2RefundStatus::from_wire(req(&f, what, "refund_status")?);
    let n = V2RefundNotification {
        notification_key: notification_key(&refund_id, refund_status.as_str()),
        appid: String::new(),
        mch_id: String::new(),
        sub_appid: None,
        sub_mch_id: None,
        transaction_id: req(&f, what, "transaction_id")?.to_owned(),
        out_trade_no: req(&f, what, "out_trade_no")?.to_owned(),
        refund_id,
        out_refund_no: req(&f, what, "out_refund_no")?.to_owned(),
        total_fee: fen(&f, what, "total_fee")?,
        settlement_total_fee: opt_fen(&f, what, "settlement_total_fee")?,
        refund_fee: fen(&f, what, "refund_fee")?,
        settlement_refund_fee: opt_fen(&f, what, "settlement_refund_fee")?,
        refund_status,
        success_time: opt(&f, "success_time"),
        refund_recv_accout: opt(&f, "refund_recv_accout"),
        refund_account: opt(&f, "refund_account").map(|s| V2RefundAccount::from_wire(&s)),
        refund_request_source: opt(&f, "refund_request_source")
            .map(|s| V2RefundRequestSource::from_wire(&s)),
    };
    at_most_total(what, n.refund_fee, Some(n.total_fee))?;
    Ok(n)
}

/// The key of a notification: the same for every re-delivery of one refund's status change,
/// different for another refund or another status. Only encrypted fields go in (the outer
/// ones are not protected).
fn notification_key(refund_id: &str, refund_status: &str) -> String {
    format!("v2:{refund_id}:{refund_status}")
}

/// The answer that tells WeChat Pay the notification was handled (HTTP 200 with this body).
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn v2_notification_ack_success() -> Vec<u8> {
    xml::write(&[("return_code", "SUCCESS"), ("return_msg", "OK")], true)
}

/// An answer that makes WeChat Pay send the notification again later.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn v2_notification_ack_failure(reason: String) -> Vec<u8> {
    xml::write(&[("return_code", "FAIL"), ("return_msg", &reason)], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_bytes() {
        assert_eq!(
            v2_notification_ack_success(),
            b"<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
        );
    }
}
