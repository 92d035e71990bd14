//! Platform certificates in certificate mode: download `GET /v3/certificates`, verify the
//! download, and keep the configuration's store current through rotations.
//!
//! Sans-IO: [`build_download_request`] and [`parse_download`] (decrypt each
//! `encrypt_certificate` with the API v3 key, parse the X.509, check serial and validity, and
//! verify the response's signature with a certificate of the download itself or one already
//! trusted). A download that fails any check changes nothing.
//!
//! The policy ([`Refresher`], driven by the client) is what keeps a flood of forged
//! notifications from becoming a flood of downloads:
//! - single-flight: one download at a time per configuration; callers that meet a new serial
//!   while it runs wait for it instead of failing;
//! - at most one download per 5 s per configuration;
//! - a serial that a download of the last 60 s did not contain is refused without another one;
//! - a background refresh after a normal call when the last download is older than 12 h or the
//!   newest certificate expires within 24 h.

use crate::config::ClientConfig;
use crate::crypto::Certificate;
use crate::error::{RefundError, Result};
use crate::notify::{decrypt_resource, EncryptedResource};
use crate::transport::{HttpRequest, HttpResponse};
use crate::verify::{normalize_serial, verify_signature, KeyRing, SignatureHeaders};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The download path.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

/// At most one download per this interval per configuration.
pub const MIN_DOWNLOAD_INTERVAL: Duration = Duration::from_secs(5);
/// A serial missing from a download this recent is refused without another download.
pub const NEGATIVE_CACHE: Duration = Duration::from_secs(60);
/// Refresh in the background when the last download is older than this (seconds)...
pub const REFRESH_AFTER_SECS: i64 = 12 * 3600;
/// ...or when the newest certificate expires within this (seconds).
pub const REFRESH_BEFORE_EXPIRY_SECS: i64 = 24 * 3600;

/// A verified, decrypted platform certificate from a download.
#[derive(Debug)]
pub struct DownloadedCertificate {
    /// Its PEM.
    pub pem: String,
    /// Parsed (serial, key, validity).
    pub certificate: Certificate,
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<ListedCertificate>,
}

#[derive(Deserialize)]
struct ListedCertificate {
    serial_no: String,
    encrypt_certificate: EncryptedResource,
}

/// The signed `GET /v3/certificates` request.
pub fn build_download_request(
    config: &ClientConfig,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    crate::refund::request::build_signed_get(
        config,
        CERTIFICATES_PATH.to_string(),
        timestamp,
        nonce,
    )
}

/// Verify and decrypt a `/v3/certificates` response as of `now` (unix seconds).
///
/// Each entry is decrypted with the API v3 key (AEAD_AES_256_GCM, `associated_data` as given),
/// parsed, and must carry the serial it is listed under and be valid now; the response must be
/// signed by one of the downloaded certificates or by a key `trusted` already holds.
pub fn parse_download(
    config: &ClientConfig,
    trusted: &KeyRing,
    response: &HttpResponse,
    now: i64,
) -> Result<Vec<DownloadedCertificate>> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    let headers = SignatureHeaders::from_pairs(pairs)?;
    let rid = headers.request_id.clone();
    let bad = |serial: &str, reason: String| RefundError::Certificate {
        serial: serial.to_string(),
        reason,
        request_id: rid.clone(),
    };
    if !(200..300).contains(&response.status) {
        // An error answer: the same rules as any call (verified when signed, then typed).
        crate::refund::response::verify_response(
            trusted,
            response,
            now,
            config.options.max_response_bytes,
        )?;
        return Err(bad("", format!("HTTP {}", response.status)));
    }
    if response.body.len() as u64 > config.options.max_response_bytes {
        return Err(bad("", "response too large".into()));
    }
    let listing: Listing = serde_json::from_slice(&response.body)
        .map_err(|e| RefundError::decode("certificate download", e.to_string(), rid.clone()))?;
    if listing.data.is_empty() {
        return Err(bad("", "the download lists no certificate".into()));
    }
    let mut out = Vec::with_capacity(listing.data.len());
    let mut ring = trusted.clone();
    for entry in listing.data {
        let serial = entry.serial_no.trim().to_string();
        let pem = decrypt_resource(
            &config.api_v3_key,
            config.backend,
            &entry.encrypt_certificate,
        )
        .map_err(|e| bad(&serial, format!("cannot decrypt: {e}")))?;
        let certificate = Certificate::from_pem_with(config.backend, &pem)
            .map_err(|e| bad(&serial, format!("not a certificate: {e}")))?;
        if normalize_serial(&certificate.serial_hex) != normalize_serial(&serial) {
            return Err(bad(
                &serial,
                format!(
                    "listed as {serial} but the certificate's serial is {}",
                    certificate.serial_hex
                ),
            ));
        }
        if now < certificate.not_before || now > certificate.not_after {
            return Err(bad(
                &serial,
                format!(
                    "not valid now ({now}; valid from {} to {})",
                    certificate.not_before, certificate.not_after
                ),
            ));
        }
        let copy = Certificate::from_pem_with(config.backend, &pem)
            .map_err(|e| bad(&serial, format!("not a certificate: {e}")))?;
        ring.add_parsed_certificate(copy);
        out.push(DownloadedCertificate {
            pem: pem.to_string(),
            certificate,
        });
    }
    // The download must be signed by a certificate it contains or one already trusted.
    verify_signature(&ring, &headers, &response.body, now)?;
    Ok(out)
}

/// Why a download is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing to verify or encrypt with yet.
    FirstUse,
    /// A response or notification named this serial.
    Serial(String),
    /// The certificates are getting old (background).
    Freshness,
    /// Asked for explicitly.
    Explicit,
}

#[derive(Debug, Default)]
struct State {
    in_flight: bool,
    last_attempt: Option<Instant>,
    /// When the last successful download finished, the serials it held, and its unix time.
    last_success: Option<(Instant, HashSet<String>, i64)>,
    last_error: Option<String>,
    downloads: u64,
}

/// The download policy of one configuration (shared by all its clients).
#[derive(Debug, Default)]
pub struct Refresher {
    state: Mutex<State>,
    done: Condvar,
}

/// What the policy decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Download now (the caller must call [`Refresher::finish`]).
    Download,
    /// Another caller's download satisfied the need.
    Satisfied,
    /// Refused: the reason (rate limit, a recent download without that serial).
    Refused(String),
}

impl Refresher {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of downloads started so far (for tests and monitoring).
    pub fn downloads(&self) -> u64 {
        self.lock().downloads
    }

    /// Decide whether this caller downloads. Waits while another download is in flight
    /// (single-flight), then re-checks the need against the store.
    pub(crate) fn begin(&self, need: &Need, is_satisfied: impl Fn() -> bool) -> Decision {
        let mut st = self.lock();
        let mut waited = false;
        while st.in_flight {
            waited = true;
            st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if is_satisfied() {
            return Decision::Satisfied;
        }
        if let (Need::Serial(serial), Some((at, serials, _))) = (need, &st.last_success) {
            if at.elapsed() < NEGATIVE_CACHE && !serials.contains(&normalize_serial(serial)) {
                return Decision::Refused(format!(
                    "a certificate download {} s ago did not contain it",
                    at.elapsed().as_secs()
                ));
            }
        }
        if let Some(at) = st.last_attempt {
            if at.elapsed() < MIN_DOWNLOAD_INTERVAL {
                let why = st.last_error.clone().map_or_else(
                    || "the last download was less than 5 s ago".to_string(),
                    |e| format!("the last download, less than 5 s ago, failed: {e}"),
                );
                return Decision::Refused(if waited && *need == Need::FirstUse {
                    st.last_error.clone().unwrap_or(why)
                } else {
                    why
                });
            }
        }
        st.in_flight = true;
        st.last_attempt = Some(Instant::now());
        st.downloads += 1;
        Decision::Download
    }

    /// Record the end of a download started by [`Self::begin`] and wake the waiters.
    pub(crate) fn finish(&self, outcome: std::result::Result<(HashSet<String>, i64), String>) {
        let mut st = self.lock();
        st.in_flight = false;
        match outcome {
            Ok((serials, now)) => {
                st.last_success = Some((Instant::now(), serials, now));
                st.last_error = None;
            }
            Err(e) => st.last_error = Some(e),
        }
        drop(st);
        self.done.notify_all();
    }

    /// Whether a background refresh is due at unix time `now` given the newest expiry.
    pub(crate) fn refresh_due(&self, now: i64, newest_expiry: Option<i64>) -> bool {
        let st = self.lock();
        if st.in_flight
            || st
                .last_attempt
                .is_some_and(|a| a.elapsed() < MIN_DOWNLOAD_INTERVAL)
        {
            return false;
        }
        let stale = match &st.last_success {
            Some((_, _, at)) => now - at > REFRESH_AFTER_SECS,
            None => false,
        };
        stale || newest_expiry.is_some_and(|na| na - now < REFRESH_BEFORE_EXPIRY_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_need_is_satisfied_without_a_download() {
        let r = Refresher::default();
        assert_eq!(r.begin(&Need::FirstUse, || true), Decision::Satisfied);
        assert_eq!(r.downloads(), 0);
    }

    #[test]
    fn downloads_are_rate_limited_and_unknown_serials_negatively_cached() {
        let r = Refresher::default();
        assert_eq!(r.begin(&Need::FirstUse, || false), Decision::Download);
        r.finish(Ok((["AB".to_string()].into_iter().collect(), 0)));
        // A serial the download did not contain: refused, no second download.
        assert!(matches!(
            r.begin(&Need::Serial("CD".into()), || false),
            Decision::Refused(_)
        ));
        // Any other need within 5 s: refused too.
        assert!(matches!(
            r.begin(&Need::Explicit, || false),
            Decision::Refused(_)
        ));
        assert_eq!(r.downloads(), 1);
    }

    #[test]
    fn background_refresh_is_due_when_old_or_expiring() {
        let r = Refresher::default();
        // Never downloaded: only an expiring certificate makes it due.
        assert!(!r.refresh_due(1_000_000, Some(1_000_000 + 30 * 3600)));
        assert!(r.refresh_due(1_000_000, Some(1_000_000 + 23 * 3600)));
        assert_eq!(r.begin(&Need::FirstUse, || false), Decision::Download);
        r.finish(Ok((HashSet::new(), 1_000_000)));
        // Within 5 s of a download: never due.
        assert!(!r.refresh_due(1_000_000 + 13 * 3600, None));
    }

    #[test]
    fn staleness_counts_from_the_last_download() {
        let r = Refresher::default();
        r.finish(Ok((HashSet::new(), 1_000_000)));
        assert!(!r.refresh_due(1_000_000 + 11 * 3600, Some(i64::MAX)));
        assert!(r.refresh_due(1_000_000 + 13 * 3600, Some(i64::MAX)));
    }

    #[test]
    fn waiters_share_one_download() {
        let r = std::sync::Arc::new(Refresher::default());
        let known = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        assert_eq!(
            r.begin(&Need::Serial("AB".into()), || false),
            Decision::Download
        );
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (r, known) = (r.clone(), known.clone());
                std::thread::spawn(move || {
                    r.begin(&Need::Serial("AB".into()), || {
                        known.load(std::sync::atomic::Ordering::SeqCst)
                    })
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        known.store(true, std::sync::atomic::Ordering::SeqCst);
        r.finish(Ok((["AB".to_string()].into_iter().collect(), 0)));
        for t in threads {
            assert_eq!(t.join().unwrap(), Decision::Satisfied);
        }
        assert_eq!(r.downloads(), 1);
    }
}
