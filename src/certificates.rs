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
//! - a serial that a download made after it was met did not contain is refused for 60 s
//!   without another download;
//! - a response's new serial waits (at most 5 s) for the rate limit's window; a notification's
//!   never waits: anyone can POST one;
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
    /// A response to our own request named this serial: worth waiting (at most 5 s) for the
    /// rate limit's window.
    Serial(String),
    /// A notification named this serial: anyone can POST one, so never wait, never flood.
    NotifiedSerial(String),
    /// The certificates are getting old (background).
    Freshness,
    /// Asked for explicitly.
    Explicit,
}

impl Need {
    pub(crate) fn serial(&self) -> Option<&str> {
        match self {
            Need::Serial(s) | Need::NotifiedSerial(s) => Some(s),
            _ => None,
        }
    }
}

/// Bound on the serials remembered (a flood of forged serials must not grow memory).
const MAX_REMEMBERED: usize = 4096;

#[derive(Debug, Default)]
struct State {
    in_flight: bool,
    last_attempt: Option<Instant>,
    /// When the last successful download finished and its unix time.
    last_success: Option<(Instant, i64)>,
    last_error: Option<String>,
    downloads: u64,
    /// Serials met, and when first: a download that starts after a serial was met checks it.
    met: std::collections::HashMap<String, Instant>,
    /// Serials that a download made after they were met did not contain, and when.
    absent: std::collections::HashMap<String, Instant>,
}

impl State {
    fn prune(&mut self) {
        for map in [&mut self.met, &mut self.absent] {
            if map.len() > MAX_REMEMBERED / 2 {
                map.retain(|_, at| at.elapsed() < NEGATIVE_CACHE);
            }
            if map.len() > MAX_REMEMBERED {
                map.clear();
            }
        }
    }
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
    /// Download now (the caller must call [`Refresher::finish`] with the start instant).
    Download(Instant),
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
    /// (single-flight), then re-checks the need against the store; a response's new serial
    /// also waits for the 5 s window rather than fail.
    pub(crate) fn begin(&self, need: &Need, is_satisfied: impl Fn() -> bool) -> Decision {
        let mut st = self.lock();
        if let Some(serial) = need.serial() {
            st.prune();
            st.met
                .entry(normalize_serial(serial))
                .or_insert_with(Instant::now);
        }
        loop {
            while st.in_flight {
                st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if is_satisfied() {
                return Decision::Satisfied;
            }
            if let Some(serial) = need.serial() {
                if let Some(at) = st.absent.get(&normalize_serial(serial)) {
                    if at.elapsed() < NEGATIVE_CACHE {
                        return Decision::Refused(format!(
                            "a certificate download {} s ago did not contain it",
                            at.elapsed().as_secs()
                        ));
                    }
                }
            }
            let wait = st
                .last_attempt
                .map(|at| MIN_DOWNLOAD_INTERVAL.saturating_sub(at.elapsed()))
                .filter(|w| !w.is_zero());
            match (wait, need) {
                (None, _) => break,
                (Some(w), Need::Serial(_)) => {
                    st = self
                        .done
                        .wait_timeout(st, w)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                (Some(_), _) => {
                    return Decision::Refused(st.last_error.clone().map_or_else(
                        || "the last download was less than 5 s ago".to_string(),
                        |e| format!("the last download, less than 5 s ago, failed: {e}"),
                    ))
                }
            }
        }
        let started = Instant::now();
        st.in_flight = true;
        st.last_attempt = Some(started);
        st.downloads += 1;
        Decision::Download(started)
    }

    /// Record the end of a download started at `started` by [`Self::begin`] and wake the
    /// waiters. Every serial met before it started and not in it is remembered as absent.
    pub(crate) fn finish(
        &self,
        started: Instant,
        outcome: std::result::Result<(HashSet<String>, i64), String>,
    ) {
        let mut st = self.lock();
        st.in_flight = false;
        match outcome {
            Ok((serials, now)) => {
                st.last_success = Some((Instant::now(), now));
                st.last_error = None;
                let checked: Vec<String> = st
                    .met
                    .iter()
                    .filter(|(s, at)| **at <= started && !serials.contains(*s))
                    .map(|(s, _)| s.clone())
                    .collect();
                let finished = Instant::now();
                for s in checked {
                    st.met.remove(&s);
                    st.absent.insert(s, finished);
                }
                for s in &serials {
                    st.met.remove(s);
                    st.absent.remove(s);
                }
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
            Some((_, at)) => now - at > REFRESH_AFTER_SECS,
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

    fn started(d: Decision) -> Instant {
        match d {
            Decision::Download(at) => at,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn downloads_are_rate_limited_and_absent_serials_remembered() {
        let r = Refresher::default();
        let t = started(r.begin(&Need::NotifiedSerial("CD".into()), || false));
        r.finish(t, Ok((["AB".to_string()].into_iter().collect(), 0)));
        // A serial met before a download that did not contain it: refused, no new download.
        assert!(matches!(
            r.begin(&Need::NotifiedSerial("CD".into()), || false),
            Decision::Refused(_)
        ));
        assert!(matches!(
            r.begin(&Need::Serial("0CD".into()), || false),
            Decision::Refused(_)
        ));
        // A new serial from a notification within 5 s: refused (never waits).
        assert!(matches!(
            r.begin(&Need::NotifiedSerial("EF".into()), || false),
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
        let t = started(r.begin(&Need::FirstUse, || false));
        r.finish(t, Ok((HashSet::new(), 1_000_000)));
        // Within 5 s of a download: never due.
        assert!(!r.refresh_due(1_000_000 + 13 * 3600, None));
    }

    #[test]
    fn staleness_counts_from_the_last_download() {
        let r = Refresher::default();
        r.finish(Instant::now(), Ok((HashSet::new(), 1_000_000)));
        assert!(!r.refresh_due(1_000_000 + 11 * 3600, Some(i64::MAX)));
        assert!(r.refresh_due(1_000_000 + 13 * 3600, Some(i64::MAX)));
    }

    #[test]
    fn waiters_share_one_download() {
        let r = std::sync::Arc::new(Refresher::default());
        let known = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let t = started(r.begin(&Need::Serial("AB".into()), || false));
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
        r.finish(t, Ok((["AB".to_string()].into_iter().collect(), 0)));
        for t in threads {
            assert_eq!(t.join().unwrap(), Decision::Satisfied);
        }
        assert_eq!(r.downloads(), 1);
    }
}
