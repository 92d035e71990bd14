//! Verification of WeChat Pay's signatures on responses and callbacks
//! (docs/protocol.md "Response and callback verification").
//!
//! Both use the same scheme: `TIMESTAMP\nNONCE\nBODY\n` over the raw body bytes, an RSA key
//! chosen by `Wechatpay-Serial`, and a ±300 s window.

use crate::crypto::der::normalize_hex;
use crate::crypto::{Certificate, CryptoBackend, RsaPublicKey};
use crate::error::{RefundError, Result};
use crate::sign::SCHEME;
use base64::Engine;
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// Maximum allowed distance between a signed timestamp and the local clock, in seconds.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// The prefix of WeChat Pay's deliberate probe signatures.
pub const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Header names (lower case) used in verification.
pub mod header {
    /// `Wechatpay-Timestamp`
    pub const TIMESTAMP: &str = "wechatpay-timestamp";
    /// `Wechatpay-Nonce`
    pub const NONCE: &str = "wechatpay-nonce";
    /// `Wechatpay-Signature`
    pub const SIGNATURE: &str = "wechatpay-signature";
    /// `Wechatpay-Serial`
    pub const SERIAL: &str = "wechatpay-serial";
    /// `Wechatpay-Signature-Type`
    pub const SIGNATURE_TYPE: &str = "wechatpay-signature-type";
    /// `Request-ID`
    pub const REQUEST_ID: &str = "request-id";
}

/// Whether a key ring entry is a WeChat Pay public key or a platform certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Public-key mode: id `PUB_KEY_ID_…`.
    WechatpayPublicKey,
    /// Certificate mode: a platform certificate, named by its hex serial.
    PlatformCertificate,
}

#[derive(Debug, Clone)]
struct Entry {
    /// As configured (`PUB_KEY_ID_…`, or the certificate serial in uppercase hex).
    id: String,
    /// Lookup form: public key ids exact; certificate serials uppercase without leading zeros.
    lookup: String,
    kind: KeyKind,
    key: Arc<RsaPublicKey>,
    /// Certificate validity (unix seconds); `None` for public keys.
    validity: Option<(i64, i64)>,
    /// The certificate (DER); `None` for public keys.
    der: Option<Arc<[u8]>>,
    /// Configured by the merchant (kept until removed) or downloaded (replaced by the next
    /// successful download).
    downloaded: bool,
}

/// How far a platform certificate's `not_before` may lie in the future by the local clock and
/// still be used (a certificate WeChat Pay has just issued, a clock slightly behind). An expired
/// certificate gets no such grace.
pub const CLOCK_SKEW_TOLERANCE_SECS: i64 = 300;

/// A platform certificate held by a configuration: its serial and validity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct PlatformCertificate {
    /// Serial, uppercase hex (what `Wechatpay-Serial` names).
    pub serial_no: String,
    /// Valid from (unix seconds).
    pub not_before: i64,
    /// Valid until (unix seconds). An expired certificate never verifies anything.
    pub not_after: i64,
    /// The certificate itself (PEM, public): what `platform_certificates_pem` takes, e.g. to
    /// pin the certificates a download returned.
    pub pem: String,
}

/// The outcome of looking a serial up at a given time.
pub enum Lookup<'a> {
    /// A key that may verify now.
    Found(&'a RsaPublicKey),
    /// A platform certificate outside its validity.
    Expired {
        /// Valid from (unix seconds).
        not_before: i64,
        /// Valid until (unix seconds).
        not_after: i64,
    },
    /// No key under that serial.
    Unknown,
}

/// The WeChat Pay keys a client trusts: public keys and platform certificates, side by side
/// (during a migration both are live and callbacks arrive signed by either).
#[derive(Debug, Default, Clone)]
pub struct KeyRing {
    entries: Vec<Entry>,
    /// The WeChat Pay public key (lookup form) that last verified an answer or a notification:
    /// the key WeChat Pay signs with now, hence the one to encrypt with.
    in_use: Arc<std::sync::Mutex<Option<String>>>,
}

/// The lookup form of a `Wechatpay-Serial` value, or `None` when it names nothing this library
/// could hold: a WeChat Pay public key id exactly as issued (`PUB_KEY_ID_` and letters and
/// digits; no other case, no leading zeros), or a certificate serial in hex (compared
/// case-insensitively, leading zeros ignored).
pub fn normalize_serial(serial: &str) -> Option<String> {
    let s = serial.trim();
    if s.starts_with("PUB_KEY_ID_") {
        check_public_key_id(s).ok().map(str::to_string)
    } else if !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(normalize_hex(s))
    } else {
        None
    }
}

/// Whether a `Wechatpay-Serial` names a WeChat Pay public key (else a certificate serial).
pub fn is_public_key_id(serial: &str) -> bool {
    serial.trim().starts_with("PUB_KEY_ID_")
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a WeChat Pay public key (`PUB_KEY_ID_…` and its PEM); replaces one of the same id.
    pub fn add_public_key(&mut self, id: &str, pem: &str, backend: CryptoBackend) -> Result<()> {
        let id = check_public_key_id(id)?;
        let key = RsaPublicKey::from_pem_with(backend, pem)
            .map_err(|e| RefundError::config(format!("wechatpay_public_key_pem ({id}): {e}")))?;
        self.insert(Entry {
            lookup: id.to_string(),
            id: id.to_string(),
            kind: KeyKind::WechatpayPublicKey,
            key: Arc::new(key),
            validity: None,
            der: None,
            downloaded: false,
        });
        Ok(())
    }

    /// Add (or replace) a platform certificate (X.509 PEM) as configured: it stays until
    /// removed, is looked up by its serial and verifies only within its validity. Returns the
    /// serial. A bare key ring checks no chain: `ClientConfig` checks the certificates it is
    /// given against its trust anchors.
    pub fn add_certificate(&mut self, pem: &str, backend: CryptoBackend) -> Result<String> {
        let cert = Certificate::from_pem_with(backend, pem)
            .map_err(|e| RefundError::config(format!("platform certificate: {e}")))?;
        Ok(self.add_parsed_certificate(cert, false))
    }

    pub(crate) fn add_parsed_certificate(&mut self, cert: Certificate, downloaded: bool) -> String {
        let serial = cert.serial_hex.clone();
        self.insert(Entry {
            lookup: normalize_hex(&serial),
            id: serial.clone(),
            kind: KeyKind::PlatformCertificate,
            key: Arc::new(cert.public_key),
            validity: Some((cert.not_before, cert.not_after)),
            der: Some(cert.der.clone()),
            downloaded,
        });
        serial
    }

    /// A successful download: the downloaded certificates replace those of earlier downloads
    /// (a certificate WeChat Pay no longer lists stops being trusted at once, as in the official
    /// SDKs); certificates the merchant configured stay until removed.
    pub(crate) fn replace_downloaded(&mut self, certs: Vec<Certificate>) {
        self.entries.retain(|e| !e.downloaded);
        for cert in certs {
            let configured = self
                .entries
                .iter()
                .any(|e| e.lookup == normalize_hex(&cert.serial_hex));
            if !configured {
                self.add_parsed_certificate(cert, true);
            }
        }
    }

    /// Remove the key or certificate under `id`; whether one was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(lookup) = normalize_serial(id) else {
            return false;
        };
        let before = self.entries.len();
        self.entries.retain(|e| e.lookup != lookup);
        self.entries.len() != before
    }

    fn insert(&mut self, entry: Entry) {
        self.entries.retain(|e| e.lookup != entry.lookup);
        self.entries.push(entry);
    }

    /// The key for a `Wechatpay-Serial` value (hex serials compared case-insensitively,
    /// leading zeros ignored), whatever its validity.
    pub fn find(&self, serial: &str) -> Option<&RsaPublicKey> {
        let lookup = normalize_serial(serial)?;
        self.entries
            .iter()
            .find(|e| e.lookup == lookup)
            .map(|e| e.key.as_ref())
    }

    /// The key for a `Wechatpay-Serial` value at unix time `now`: an expired (or not yet
    /// valid) platform certificate never verifies anything.
    pub fn find_at(&self, serial: &str, now: i64) -> Lookup<'_> {
        let Some(lookup) = normalize_serial(serial) else {
            return Lookup::Unknown;
        };
        match self.entries.iter().find(|e| e.lookup == lookup) {
            None => Lookup::Unknown,
            Some(Entry {
                validity: Some((nb, na)),
                ..
            }) if now < *nb - CLOCK_SKEW_TOLERANCE_SECS || now > *na => Lookup::Expired {
                not_before: *nb,
                not_after: *na,
            },
            Some(e) => Lookup::Found(e.key.as_ref()),
        }
    }

    /// The key to encrypt sensitive fields with, and the id to send in `Wechatpay-Serial`.
    ///
    /// Public-key mode (and the migration): the WeChat Pay public key that last verified one of
    /// WeChat Pay's answers or notifications — the key WeChat Pay uses now, whatever the order
    /// the keys were given in; before any answer, the key given last (`wechatpay_public_keys`
    /// in order, `add_wechatpay_public_key` appends). Certificate mode: the platform
    /// certificate valid at `now` with the latest expiry.
    pub fn encryption_key_at(&self, now: i64) -> Option<(&str, &RsaPublicKey)> {
        let in_use = self
            .in_use
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let public = |e: &&Entry| e.kind == KeyKind::WechatpayPublicKey;
        in_use
            .and_then(|id| self.entries.iter().filter(public).find(|e| e.lookup == id))
            .or_else(|| self.entries.iter().rev().find(public))
            .or_else(|| {
                self.entries
                    .iter()
                    .filter(|e| matches!(e.validity, Some((nb, na)) if nb <= now && now <= na))
                    .max_by_key(|e| e.validity.map(|(_, na)| na))
            })
            .map(|e| (e.id.as_str(), e.key.as_ref()))
    }

    /// Remember that WeChat Pay signed with the public key `id` (see [`Self::encryption_key_at`]).
    fn note_in_use(&self, id: &str) {
        if let Some(lookup) = normalize_serial(id) {
            let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
            if in_use.as_deref() != Some(lookup.as_str()) {
                *in_use = Some(lookup);
            }
        }
    }

    /// The WeChat Pay public key id sent in `Wechatpay-Serial` on every request in public-key
    /// mode: the one [`Self::encryption_key_at`] encrypts with.
    pub fn public_key_id(&self) -> Option<&str> {
        self.encryption_key_at(i64::MIN)
            .filter(|(id, _)| is_public_key_id(id))
            .map(|(id, _)| id)
    }

    /// The ids held, with their kind.
    pub fn ids(&self) -> Vec<(String, KeyKind)> {
        self.entries
            .iter()
            .map(|e| (e.id.clone(), e.kind))
            .collect()
    }

    /// The platform certificates held, with their validity.
    pub fn certificates(&self) -> Vec<PlatformCertificate> {
        self.entries
            .iter()
            .filter_map(|e| {
                e.validity.map(|(nb, na)| PlatformCertificate {
                    serial_no: e.id.clone(),
                    not_before: nb,
                    not_after: na,
                    pem: e
                        .der
                        .as_deref()
                        .map(|der| crate::crypto::der::to_pem("CERTIFICATE", der))
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The latest `not_after` of the platform certificates held.
    pub fn newest_certificate_expiry(&self) -> Option<i64> {
        self.entries
            .iter()
            .filter_map(|e| e.validity.map(|(_, na)| na))
            .max()
    }

    /// Whether a platform certificate valid at `now` is held.
    pub fn has_valid_certificate(&self, now: i64) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.validity, Some((nb, na)) if nb <= now && now <= na))
    }

    /// Whether the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Check a `PUB_KEY_ID_…`: it travels in the `Wechatpay-Serial` header, so letters and digits
/// only (no header injection).
pub(crate) fn check_public_key_id(id: &str) -> Result<&str> {
    let id = id.trim();
    let rest = id.strip_prefix("PUB_KEY_ID_").unwrap_or_default();
    if rest.is_empty() || rest.len() > 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RefundError::config(format!(
            "wechatpay_public_key_id must look like PUB_KEY_ID_…, got {id:?}"
        )));
    }
    Ok(id)
}

/// A [`KeyRing`] shared by every client of a configuration and safe across threads: keys can
/// be added, replaced and removed at run time (rotations) while clients verify.
#[derive(Debug, Default)]
pub struct KeyStore {
    ring: RwLock<KeyRing>,
}

impl KeyStore {
    /// A store holding `ring`.
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring: RwLock::new(ring),
        }
    }

    /// The keys as they are now (a read lock: hold it briefly).
    pub fn ring(&self) -> RwLockReadGuard<'_, KeyRing> {
        // A panic while holding the lock cannot leave the ring half-updated (every update is
        // one push/retain), so a poisoned lock is still usable: never panic across FFI.
        self.ring.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the keys.
    pub fn update<T>(&self, f: impl FnOnce(&mut KeyRing) -> T) -> T {
        let mut g = self.ring.write().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }
}

/// Normalise a header name from any framework: `Wechatpay-Serial`, `wechatpay-serial`,
/// `HTTP_WECHATPAY_SERIAL` (WSGI/Django `META`) all become `wechatpay-serial`.
pub fn normalize_header_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("http_").unwrap_or(&lower).trim();
    lower.replace('_', "-")
}

/// Whether `name` (any case, `_` or `-`, optional WSGI `HTTP_` prefix) is the lower-case,
/// dash-separated `target`; the same rule as [`normalize_header_name`], without allocating.
pub fn header_name_is(name: &str, target: &str) -> bool {
    let n = name.trim();
    let n = match n.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("http_") => n[5..].trim(),
        _ => n,
    };
    n.len() == target.len()
        && n.bytes().zip(target.bytes()).all(|(a, b)| {
            (if a == b'_' {
                b'-'
            } else {
                a.to_ascii_lowercase()
            }) == b
        })
}

/// Look up a header by its normalised lower-case name. When the header appears more than once
/// with different values the result is an error (an ambiguous signature header is not trusted).
pub fn find_header<'a, I>(headers: I, name: &str) -> std::result::Result<Option<&'a str>, String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut found: Option<&'a str> = None;
    for (k, v) in headers {
        if header_name_is(k, name) {
            match found {
                Some(prev) if prev != v => {
                    return Err(format!(
                        "header {name} appears more than once with different values"
                    ))
                }
                _ => found = Some(v),
            }
        }
    }
    Ok(found)
}

/// The signature headers of a response or callback, extracted and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Wechatpay-Timestamp`, unparsed.
    pub timestamp: Option<String>,
    /// `Wechatpay-Nonce`
    pub nonce: Option<String>,
    /// `Wechatpay-Signature`
    pub signature: Option<String>,
    /// `Wechatpay-Serial`
    pub serial: Option<String>,
    /// `Wechatpay-Signature-Type`
    pub signature_type: Option<String>,
    /// `Request-ID`
    pub request_id: Option<String>,
}

/// Longest value accepted for any signature header (a signature of RSA-4096 is 684 chars).
const MAX_HEADER_VALUE: usize = 2048;

impl SignatureHeaders {
    /// Extract from `(name, value)` pairs of any case or framework style.
    pub fn from_pairs<'a, I>(headers: I) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a str)> + Clone,
    {
        // One pass, no allocation per header: each name is compared in place.
        const NAMES: [&str; 6] = [
            header::REQUEST_ID,
            header::TIMESTAMP,
            header::NONCE,
            header::SIGNATURE,
            header::SERIAL,
            header::SIGNATURE_TYPE,
        ];
        let mut found: [Option<&str>; 6] = [None; 6];
        let mut conflict: Option<&str> = None;
        for (k, v) in headers {
            if let Some(i) = NAMES.iter().position(|n| header_name_is(k, n)) {
                match found[i] {
                    Some(prev) if prev != v => conflict = conflict.or(Some(NAMES[i])),
                    _ => found[i] = Some(v),
                }
            }
        }
        // Quoted in every error, so a hostile or ambiguous one is dropped rather than copied.
        let request_id = found[0]
            .filter(|_| conflict != Some(header::REQUEST_ID))
            .filter(|v| v.len() <= MAX_HEADER_VALUE && !v.chars().any(char::is_control))
            .map(str::to_string);
        if let Some(name) = conflict.filter(|n| *n != header::REQUEST_ID) {
            return Err(RefundError::signature(
                format!("header {name} appears more than once with different values"),
                request_id,
            ));
        }
        let get = |i: usize| -> Result<Option<String>> {
            match found[i] {
                Some(v) if v.len() > MAX_HEADER_VALUE => Err(RefundError::signature(
                    format!("header {} is too long ({} bytes)", NAMES[i], v.len()),
                    request_id.clone(),
                )),
                v => Ok(v.map(|s| s.trim().to_string())),
            }
        };
        Ok(Self {
            timestamp: get(1)?,
            nonce: get(2)?,
            signature: get(3)?,
            serial: get(4)?,
            signature_type: get(5)?,
            request_id: request_id.clone(),
        })
    }

    /// Whether any signature header is present at all.
    pub fn any_present(&self) -> bool {
        self.timestamp.is_some()
            || self.nonce.is_some()
            || self.signature.is_some()
            || self.serial.is_some()
    }
}

/// The exact bytes WeChat Pay signs for a response or callback: `TIMESTAMP\nNONCE\nBODY\n`.
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(nonce.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(body);
    m.push(b'\n');
    m
}

/// Verify a response or callback signature.
///
/// Order of checks: required headers, signature type, probe signature, timestamp window,
/// key lookup by serial, then the RSA signature over the exact body bytes.
pub fn verify_signature(keys: &KeyRing, h: &SignatureHeaders, body: &[u8], now: i64) -> Result<()> {
    let rid = || h.request_id.clone();
    fn need<'a>(v: &'a Option<String>, name: &str, h: &SignatureHeaders) -> Result<&'a str> {
        match v {
            Some(s) if !s.is_empty() => Ok(s.as_str()),
            _ => Err(RefundError::signature(
                format!("missing header {name}"),
                h.request_id.clone(),
            )),
        }
    }
    let timestamp = need(&h.timestamp, "Wechatpay-Timestamp", h)?;
    let nonce = need(&h.nonce, "Wechatpay-Nonce", h)?;
    let signature = need(&h.signature, "Wechatpay-Signature", h)?;
    let serial = need(&h.serial, "Wechatpay-Serial", h)?;
    if let Some(t) = &h.signature_type {
        if t != SCHEME {
            return Err(RefundError::signature(
                format!("unsupported Wechatpay-Signature-Type {t:?} (expected {SCHEME})"),
                rid(),
            ));
        }
    }
    if signature.starts_with(PROBE_PREFIX) {
        return Err(RefundError::ProbeSignature { request_id: rid() });
    }
    let ts: i64 = timestamp.parse().map_err(|_| {
        RefundError::signature(
            format!("Wechatpay-Timestamp {timestamp:?} is not a unix timestamp"),
            rid(),
        )
    })?;
    // abs_diff: a hostile timestamp near i64::MIN must neither overflow nor wrap into the window.
    if now.abs_diff(ts) > TIMESTAMP_WINDOW_SECS as u64 {
        return Err(RefundError::TimestampOutOfWindow {
            timestamp: ts,
            now,
            request_id: rid(),
        });
    }
    let key = match keys.find_at(serial, now) {
        Lookup::Found(key) => key,
        Lookup::Unknown => {
            return Err(RefundError::UnknownSerial {
                serial: serial.to_string(),
                request_id: rid(),
            })
        }
        Lookup::Expired {
            not_before,
            not_after,
        } => {
            return Err(RefundError::Certificate {
                serial: serial.to_string(),
                reason: format!(
                    "not valid at {now} (valid from {not_before} to {not_after}); an expired platform certificate verifies nothing"
                ),
                request_id: rid(),
            })
        }
    };
    let sig = base64::engine::general_purpose::STANDARD
        .decode(signature.as_bytes())
        .map_err(|_| RefundError::signature("Wechatpay-Signature is not valid base64", rid()))?;
    if !key.verify_sha256(&response_message(timestamp, nonce, body), &sig) {
        return Err(RefundError::signature(
            format!("signature does not match the body and the key {serial}"),
            rid(),
        ));
    }
    if is_public_key_id(serial) {
        keys.note_in_use(serial);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_exact_ids_or_hex() {
        let id = "PUB_KEY_ID_0114232134912410000000000000";
        assert_eq!(normalize_serial(id).as_deref(), Some(id));
        assert_eq!(normalize_serial(" 00ab12 ").as_deref(), Some("AB12"));
        // A public key id in another case, behind zeros, or with a stray character names
        // nothing (it once selected the public key, or was taken for a certificate serial).
        for bad in [
            "pub_key_id_0114232134912410000000000000",
            "000PUB_KEY_ID_0114232134912410000000000000",
            "PUB_KEY_ID_\0",
            "PUB_KEY_ID_",
            "XYZ",
            "AB 12",
            "",
        ] {
            assert_eq!(normalize_serial(bad), None, "{bad:?}");
        }
        let mut ring = KeyRing::new();
        let pem = include_str!("../tests/vectors/keys.json");
        let keys: serde_json::Value = serde_json::from_str(pem).unwrap();
        ring.add_public_key(
            id,
            keys["wechatpay_public_key"]["public_key_pem"]
                .as_str()
                .unwrap(),
            CryptoBackend::default(),
        )
        .unwrap();
        assert!(ring.find(id).is_some());
        assert!(ring.find(&id.to_ascii_lowercase()).is_none());
        assert!(ring.find(&format!("000{id}")).is_none());
        assert!(matches!(ring.find_at("XYZ", 0), Lookup::Unknown));
    }

    #[test]
    fn header_names_from_any_framework() {
        assert_eq!(
            normalize_header_name("Wechatpay-Serial"),
            "wechatpay-serial"
        );
        assert_eq!(
            normalize_header_name("HTTP_WECHATPAY_SERIAL"),
            "wechatpay-serial"
        );
        assert_eq!(
            normalize_header_name("wechatpay_serial"),
            "wechatpay-serial"
        );
        assert_eq!(normalize_header_name("Request-ID"), "request-id");
    }

    #[test]
    fn header_names_compare_without_allocating_by_the_same_rule() {
        for n in [
            "Wechatpay-Serial",
            "HTTP_WECHATPAY_SERIAL",
            " wechatpay_serial ",
            "http_ Wechatpay-Serial",
        ] {
            assert!(header_name_is(n, header::SERIAL), "{n}");
            assert_eq!(normalize_header_name(n), header::SERIAL, "{n}");
        }
        for n in ["Wechatpay-Serials", "X-Wechatpay-Serial", "wechatpay", ""] {
            assert!(!header_name_is(n, header::SERIAL), "{n}");
        }
    }

    #[test]
    fn duplicated_headers_with_different_values_are_rejected() {
        let h = [("Wechatpay-Nonce", "a"), ("wechatpay-nonce", "b")];
        assert!(find_header(h.iter().copied(), header::NONCE).is_err());
        let h = [("Wechatpay-Nonce", "a"), ("wechatpay-nonce", "a")];
        assert_eq!(
            find_header(h.iter().copied(), header::NONCE).unwrap(),
            Some("a")
        );
    }

    #[test]
    fn missing_headers_are_named() {
        let h = SignatureHeaders::from_pairs([("Wechatpay-Nonce", "n")]).unwrap();
        let e = verify_signature(&KeyRing::new(), &h, b"", 0).unwrap_err();
        assert_eq!(
            e,
            RefundError::signature("missing header Wechatpay-Timestamp", None)
        );
    }

    #[test]
    fn message_layout() {
        assert_eq!(response_message("1", "n", b""), b"1\nn\n\n".to_vec());
    }
}
