//! Refund notifications (docs/protocol.md "Callbacks"): verify the signature over the raw body,
//! decrypt the AEAD_AES_256_GCM resource with the API v3 key, parse, and acknowledge.

use crate::crypto::ApiV3Key;
use crate::crypto::{self, CryptoBackend};
use crate::error::{RefundError, Result};
use crate::refund::model::{
    NotificationAmount, NotificationEventType, RefundNotification, RefundStatus,
};
use crate::verify::{verify_signature, KeyRing, SignatureHeaders};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Largest notification body accepted (real ones are about 1 KiB).
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// The only algorithm WeChat Pay uses for notification resources.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// The encrypted `resource` of a notification envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// Base64 ciphertext with the 16-byte tag appended.
    pub ciphertext: String,
    /// 12-character nonce, used as its bytes.
    pub nonce: String,
    /// Associated data; may be empty or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_data: Option<String>,
    /// `refund` for refund notifications.
    #[serde(default)]
    pub original_type: String,
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    create_time: String,
    event_type: NotificationEventType,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    resource_type: String,
    resource: EncryptedResource,
}

#[derive(Deserialize)]
struct Plain {
    #[serde(default)]
    mchid: Option<String>,
    #[serde(default)]
    sp_mchid: Option<String>,
    #[serde(default)]
    sub_mchid: Option<String>,
    #[serde(default)]
    out_trade_no: String,
    #[serde(default)]
    transaction_id: String,
    out_refund_no: String,
    refund_id: String,
    refund_status: RefundStatus,
    #[serde(default)]
    success_time: Option<String>,
    #[serde(default)]
    user_received_account: String,
    amount: NotificationAmount,
}

/// Decrypt an encrypted resource with the API v3 key; returns the plaintext JSON text.
pub fn decrypt_resource(
    api_v3_key: &ApiV3Key,
    backend: CryptoBackend,
    resource: &EncryptedResource,
) -> Result<zeroize::Zeroizing<String>> {
    if resource.algorithm != ALGORITHM {
        return Err(RefundError::Decryption {
            reason: format!(
                "unsupported algorithm {:?} (expected {ALGORITHM})",
                resource.algorithm
            ),
        });
    }
    let nonce: [u8; 12] =
        resource
            .nonce
            .as_bytes()
            .try_into()
            .map_err(|_| RefundError::Decryption {
                reason: format!("nonce must be 12 bytes, got {}", resource.nonce.len()),
            })?;
    let ct = base64::engine::general_purpose::STANDARD
        .decode(resource.ciphertext.as_bytes())
        .map_err(|_| RefundError::Decryption {
            reason: "ciphertext is not valid base64".into(),
        })?;
    if ct.len() < 16 {
        return Err(RefundError::Decryption {
            reason: format!(
                "ciphertext of {} bytes is shorter than the 16-byte tag",
                ct.len()
            ),
        });
    }
    let aad = resource.associated_data.as_deref().unwrap_or("");
    let plain = crypto::aes_256_gcm_decrypt(backend, api_v3_key.bytes(), &nonce, aad.as_bytes(), &ct)
        .ok_or_else(|| RefundError::Decryption {
            reason: "authentication tag mismatch: wrong API v3 key, tampered ciphertext or wrong associated data".into(),
        })?;
    let text = String::from_utf8(plain.to_vec()).map_err(|_| RefundError::Decryption {
        reason: "decrypted resource is not UTF-8".into(),
    })?;
    Ok(zeroize::Zeroizing::new(text))
}

/// Encrypt a resource the way WeChat Pay does (used by the sandbox and by callers' tests).
pub fn encrypt_resource(
    api_v3_key: &ApiV3Key,
    backend: CryptoBackend,
    plaintext: &[u8],
    nonce: &str,
    associated_data: Option<&str>,
    original_type: &str,
) -> Result<EncryptedResource> {
    let n: [u8; 12] = nonce
        .as_bytes()
        .try_into()
        .map_err(|_| RefundError::invalid("nonce", "must be 12 bytes"))?;
    let ct = crypto::aes_256_gcm_encrypt(
        backend,
        api_v3_key.bytes(),
        &n,
        associated_data.unwrap_or("").as_bytes(),
        plaintext,
    )
    .map_err(RefundError::config)?;
    Ok(EncryptedResource {
        algorithm: ALGORITHM.into(),
        ciphertext: base64::engine::general_purpose::STANDARD.encode(ct),
        nonce: nonce.into(),
        associated_data: associated_data.map(str::to_string),
        original_type: original_type.into(),
    })
}

/// Verify, decrypt and parse a refund notification from its raw headers (any case or
/// framework style) and raw body bytes.
pub fn parse_notification<'a, I>(
    keys: &KeyRing,
    api_v3_key: &ApiV3Key,
    backend: CryptoBackend,
    headers: I,
    body: &[u8],
    now: i64,
) -> Result<RefundNotification>
where
    I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
{
    let h = SignatureHeaders::from_pairs(headers)?;
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(RefundError::decode(
            "notification",
            format!(
                "body of {} bytes exceeds {MAX_NOTIFICATION_BYTES} bytes",
                body.len()
            ),
            h.request_id,
        ));
    }
    verify_signature(keys, &h, body, now)?;
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        RefundError::decode("notification envelope", e.to_string(), h.request_id.clone())
    })?;
    if env.resource_type != "encrypt-resource" && !env.resource_type.is_empty() {
        return Err(RefundError::decode(
            "notification envelope",
            format!("unexpected resource_type {:?}", env.resource_type),
            h.request_id,
        ));
    }
    let plaintext = decrypt_resource(api_v3_key, backend, &env.resource)?;
    let p: Plain = serde_json::from_str(&plaintext).map_err(|e| {
        RefundError::decode("notification resource", e.to_string(), h.request_id.clone())
    })?;
    if p.mchid.is_none() && p.sp_mchid.is_none() {
        return Err(RefundError::decode(
            "notification resource",
            "neither mchid nor sp_mchid is present",
            h.request_id,
        ));
    }
    Ok(RefundNotification {
        id: env.id,
        create_time: env.create_time,
        event_type: env.event_type,
        summary: env.summary,
        mchid: p.mchid,
        sp_mchid: p.sp_mchid,
        sub_mchid: p.sub_mchid,
        out_trade_no: p.out_trade_no,
        transaction_id: p.transaction_id,
        out_refund_no: p.out_refund_no,
        refund_id: p.refund_id,
        refund_status: p.refund_status,
        success_time: p.success_time,
        user_received_account: p.user_received_account,
        amount: p.amount,
        raw_json: plaintext.to_string(),
        seen_before: false,
    })
}

/// Remembers the verified notifications a client has already returned, by notification `id`
/// (the id repeats when WeChat Pay delivers a notification again) and by `Wechatpay-Nonce` (a
/// byte-identical replay), so that a repeat comes back marked
/// [`RefundNotification::seen_before`] instead of being refused: a merchant whose store failed
/// answers 500, WeChat Pay delivers again, and that delivery must still be handled. Memory is
/// bounded by `capacity` (the oldest entries are forgotten first); the memory is per process.
#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    seen: std::sync::Mutex<Seen>,
}

/// Keys (`id:…` and `nonce:…`) in arrival order and as a set.
#[derive(Debug, Default)]
struct Seen {
    order: std::collections::VecDeque<String>,
    set: std::collections::HashSet<String>,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` notifications.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: std::sync::Mutex::new(Default::default()),
        }
    }

    /// Record a verified notification (its envelope `id` and its nonce); `true` when either
    /// was recorded before — a re-delivery or a replay, to acknowledge without doing the work
    /// twice.
    pub fn admit(&self, id: &str, nonce: &str) -> bool {
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let Seen { order, set } = &mut *guard;
        let keys = [format!("id:{id}"), format!("nonce:{nonce}")];
        let seen = keys.iter().any(|k| set.contains(k));
        for key in keys {
            if set.contains(&key) {
                continue;
            }
            while order.len() >= 2 * self.capacity {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
            order.push_back(key.clone());
            set.insert(key);
        }
        seen
    }

    /// How many notifications are remembered.
    pub fn len(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order
            .len()
            .div_ceil(2)
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The merchant's own record of a refund, to check a notification against.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ExpectedRefund {
    /// The merchant id the refund belongs to (`sp_mchid` in service-provider mode).
    pub mchid: String,
    /// The merchant refund number.
    pub out_refund_no: String,
    /// The refund amount, in fen.
    pub refund: i64,
    /// The order total, in fen.
    pub total: i64,
    /// The sub-merchant (service-provider mode).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub sub_mchid: Option<String>,
}

/// Check a verified notification against the merchant's own record: merchant ids,
/// `out_refund_no` and amounts must match, or `RefundError::NotificationMismatch` names the field.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn check_notification(
    notification: &RefundNotification,
    expected: &ExpectedRefund,
) -> Result<()> {
    let mismatch = |field: &str, e: String, a: String| RefundError::NotificationMismatch {
        field: field.into(),
        expected: e,
        actual: a,
    };
    let mchid = notification
        .mchid
        .as_ref()
        .or(notification.sp_mchid.as_ref());
    if mchid != Some(&expected.mchid) {
        return Err(mismatch(
            "mchid",
            expected.mchid.clone(),
            mchid.cloned().unwrap_or_default(),
        ));
    }
    if notification.sub_mchid != expected.sub_mchid {
        return Err(mismatch(
            "sub_mchid",
            expected.sub_mchid.clone().unwrap_or_default(),
            notification.sub_mchid.clone().unwrap_or_default(),
        ));
    }
    if notification.out_refund_no != expected.out_refund_no {
        return Err(mismatch(
            "out_refund_no",
            expected.out_refund_no.clone(),
            notification.out_refund_no.clone(),
        ));
    }
    if notification.amount.refund != expected.refund {
        return Err(mismatch(
            "amount.refund",
            expected.refund.to_string(),
            notification.amount.refund.to_string(),
        ));
    }
    if notification.amount.total != expected.total {
        return Err(mismatch(
            "amount.total",
            expected.total.to_string(),
            notification.amount.total.to_string(),
        ));
    }
    Ok(())
}

/// What to answer WeChat Pay's notification request with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct NotificationAck {
    /// HTTP status: 204 for success; 500 for failure (WeChat Pay then retries).
    pub status: u16,
    /// `Content-Type` of the body (empty when there is no body).
    pub content_type: String,
    /// Response body (empty for success).
    pub body: String,
}

/// Acknowledge a notification as handled: HTTP 204, no body. Answer within 5 seconds.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn notification_ack_success() -> NotificationAck {
    NotificationAck {
        status: 204,
        content_type: String::new(),
        body: String::new(),
    }
}

/// Refuse a notification so WeChat Pay retries it later: HTTP 500 with
/// `{"code":"FAIL","message":…}`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn notification_ack_failure(reason: String) -> NotificationAck {
    NotificationAck {
        status: 500,
        content_type: "application/json".into(),
        body: serde_json::json!({"code": "FAIL", "message": reason}).to_string(),
    }
}

/// The notification belongs to this configuration's merchant: `mchid` for a direct merchant;
/// in service-provider mode `sp_mchid` = the configured `mchid` and a `sub_mchid` is present.
pub fn check_merchant(
    note: &RefundNotification,
    mchid: &str,
    service_provider: bool,
) -> Result<()> {
    let mismatch = |field: &str, expected: &str, actual: Option<&String>| {
        Err(RefundError::NotificationMismatch {
            field: field.into(),
            expected: expected.into(),
            actual: actual.cloned().unwrap_or_default(),
        })
    };
    // A refund callback URL may receive other events (a payment's `TRANSACTION.SUCCESS` when
    // one URL serves both): those are not refund notifications.
    if !note.event_type.as_str().starts_with("REFUND.") {
        return mismatch(
            "event_type",
            "REFUND.*",
            Some(&note.event_type.as_str().to_owned()),
        );
    }
    if service_provider {
        if note.sp_mchid.as_deref() != Some(mchid) {
            return mismatch("sp_mchid", mchid, note.sp_mchid.as_ref());
        }
        if note.sub_mchid.as_deref().is_none_or(str::is_empty) {
            return mismatch("sub_mchid", "a sub-merchant id", None);
        }
    } else {
        let own = note.mchid.as_ref().or(note.sp_mchid.as_ref());
        if own.map(String::as_str) != Some(mchid) {
            return mismatch("mchid", mchid, own);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_not_compiled_in_is_an_error_not_a_panic() {
        let key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
        for backend in [CryptoBackend::AwsLc, CryptoBackend::RustCrypto] {
            let r = encrypt_resource(&key, backend, b"x", "abcdefghijkl", None, "refund");
            assert_eq!(
                r.is_ok(),
                CryptoBackend::available().contains(&backend),
                "{backend:?}"
            );
        }
    }

    #[test]
    fn replay_guard_marks_repeats_and_stays_bounded() {
        let g = ReplayGuard::new(3);
        assert!(!g.admit("id-A", "A"));
        assert!(g.admit("id-A", "A"), "a byte-identical repeat");
        assert!(g.admit("id-A", "A2"), "a re-delivery: same id, fresh nonce");
        assert!(g.admit("id-Z", "A"), "a replayed nonce");
        assert!(!g.admit("id-B", "B"));
        assert!(!g.admit("id-C", "C"));
        assert!(!g.admit("id-D", "D"));
        assert_eq!(g.len(), 3, "bounded");
        assert!(!g.admit("id-B0", "B0"));
        assert!(!g.admit("id-A", "A"), "the oldest entries were forgotten");
    }

    #[test]
    fn acks() {
        assert_eq!(notification_ack_success().status, 204);
        let f = notification_ack_failure("数据库不可用".into());
        assert_eq!(f.status, 500);
        assert_eq!(f.body, r#"{"code":"FAIL","message":"数据库不可用"}"#);
    }

    #[test]
    fn resource_round_trip_and_tamper_detection() {
        let key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
        for backend in CryptoBackend::available() {
            let r = encrypt_resource(
                &key,
                backend,
                b"{\"a\":1}",
                "abcdefghijkl",
                Some("refund"),
                "refund",
            )
            .unwrap();
            assert_eq!(&*decrypt_resource(&key, backend, &r).unwrap(), "{\"a\":1}");
            let mut wrong_aad = r.clone();
            wrong_aad.associated_data = Some("x".into());
            assert!(matches!(
                decrypt_resource(&key, backend, &wrong_aad),
                Err(RefundError::Decryption { .. })
            ));
            let mut short = r.clone();
            short.ciphertext = "AAAA".into();
            assert!(decrypt_resource(&key, backend, &short)
                .unwrap_err()
                .to_string()
                .contains("shorter"));
            let mut algo = r.clone();
            algo.algorithm = "AEAD_CHACHA20".into();
            assert!(decrypt_resource(&key, backend, &algo)
                .unwrap_err()
                .to_string()
                .contains("unsupported"));
        }
    }
}
