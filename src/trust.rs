//! Which WeChat Pay platform certificates to believe, and when to download them: the trust
//! anchors a certificate must chain to, and the download policy ([`Refresher`]). Below the
//! configuration that holds both; the download itself (`certificates`) sits above it.
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

use crate::crypto::Certificate;
use crate::error::{RefundError, Result};
use crate::verify::normalize_serial;
use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// At most one download per this interval per configuration.
pub const MIN_DOWNLOAD_INTERVAL: Duration = Duration::from_secs(5);
/// A serial missing from a download this recent is refused without another download.
pub const NEGATIVE_CACHE: Duration = Duration::from_secs(60);
/// Refresh in the background when the last download is older than this (seconds)...
pub const REFRESH_AFTER_SECS: i64 = 12 * 3600;
/// ...or when the newest certificate expires within this (seconds).
pub const REFRESH_BEFORE_EXPIRY_SECS: i64 = 24 * 3600;

/// The certificate authority WeChat Pay issues its platform certificates from, "Tenpay.com Root
/// CA" (C=CN, O=Tenpay.com, OU=Tenpay.com CA Center; itself issued by iTrusChina; valid from
/// 2017-08-09 to 2032-08-09), as WeChat Pay publishes it in its platform certificate trust chain
/// (`CertTrustChain.p7b`). The default trust anchor of downloaded platform certificates.
pub const TENPAY_ROOT_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIEcDCCA1igAwIBAgIUG9QiDlDbwEsGrTl1SYRsAcPo69IwDQYJKoZIhvcNAQEL
BQAwcDELMAkGA1UEBhMCQ04xEzARBgNVBAoMCmlUcnVzQ2hpbmExHDAaBgNVBAsM
E0NoaW5hIFRydXN0IE5ldHdvcmsxLjAsBgNVBAMMJWlUcnVzQ2hpbmEgQ2xhc3Mg
MiBFbnRlcnByaXNlIENBIC0gRzMwHhcNMTcwODA5MDkxNTU1WhcNMzIwODA5MDkx
NTU1WjBeMQswCQYDVQQGEwJDTjETMBEGA1UEChMKVGVucGF5LmNvbTEdMBsGA1UE
CxMUVGVucGF5LmNvbSBDQSBDZW50ZXIxGzAZBgNVBAMTElRlbnBheS5jb20gUm9v
dCBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALvnPD6k39BdPYAH
+6lnWPjuHH+2pcmZUf2E8cNFQFNr+ECRZylYV2iKyItCQt3I2/7VIDZl6aR9TE7n
sZrtSmOXCw635QOrq2yF9LTSDotAhf3ER0+216w3age/VzGcNVQpTf6gRCHCuQIk
8pe/oh06JagGvX0wERa+I6NfuG58ZHQY9d6RqLXKQl0Up95v73HDsG487z8k6jcn
qpGngmHQxdWiWRJugqxNRUD+awv2/DUsqGOffPX4jzJ6rLSJSlQXvuniDYxmaiaD
cK0bUbB5aM+1zMwogoHSYxWj/6B+vgcnHQCUrwGdiQR5+F+yRWzy5bO09IzaFgeO
PNPLPOsCAwEAAaOCARIwggEOMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/
BAQDAgEGMCAGA1UdEQQZMBekFTATMREwDwYDVQQDDAhzd2JlLTI2NjAdBgNVHQ4E
FgQUTFo4GLdm9oHX52HcWnzuL4tui2gwHwYDVR0jBBgwFoAUK1vVxWgI69vN5LA5
MqJf/8dPmEUwRgYDVR0gBD8wPTA7BgoqgRyG7xcBAQECMC0wKwYIKwYBBQUHAgEW
H2h0dHBzOi8vd3d3Lml0cnVzLmNvbS5jbi9jdG5jcHMwPgYDVR0fBDcwNTAzoDGg
L4YtaHR0cDovL3RvcGNhLml0cnVzLmNvbS5jbi9jcmwvaXRydXNjMmNhZzMuY3Js
MA0GCSqGSIb3DQEBCwUAA4IBAQBwZhL/eiOQmMyo1D0IR9mu1DPWl5J3XXhjc4R6
mFgsN/FCeVP9M4U9y2FJH6i5Ha5YCecKGw5pwhA0rjZr/6okWwo22GF+nzI/gQiz
6ugAKs5VjFbeiEb04Ncz4HT8FP1idK3tyCjqCUTkLNt0U3tR7wy26hgOqlT2wCZ9
X4MfT8dUMdt9nCZx4ujN5yZOzaLOCHmzoGDGxgKg91bbu0TG2Yzd2ylhrxxRtFH9
aZ/J1x5UoF7uwhTM8P92DuAldWC1/bX1kciOtQvQEZeAy+9y/1BtFxoBnmDxnqkX
+lirIUYTLDaL7HaLrOLECUlaxZCU/Nkwm3tmqQxtCh+XQBdd
-----END CERTIFICATE-----
";

/// `sha256WithRSAEncryption` (1.2.840.113549.1.1.11), the signature of WeChat Pay's certificates.
const SHA256_WITH_RSA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
];

/// The certificate authorities a downloaded platform certificate must be issued by: by
/// default [`TENPAY_ROOT_CA_PEM`]; `ClientOptions::platform_trust_anchors_pem` replaces it (the
/// sandbox issues its platform certificates from a test CA of its own and hands it out). With
/// the chain checked, trust no longer rests on the API v3 key alone, which every notification
/// handler holds.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

#[derive(Debug, Clone)]
struct Anchor {
    subject: Vec<u8>,
    key: std::sync::Arc<crate::crypto::RsaPublicKey>,
}

impl TrustAnchors {
    /// The anchors from PEM certificates (none: WeChat Pay's published CA).
    pub fn from_pems(pems: &[String], backend: crate::crypto::CryptoBackend) -> Result<Self> {
        let builtin = [TENPAY_ROOT_CA_PEM.to_string()];
        let pems = if pems.is_empty() { &builtin[..] } else { pems };
        let anchors = pems
            .iter()
            .map(|pem| {
                let c = Certificate::from_pem_with(backend, pem)
                    .map_err(|e| RefundError::config(format!("platform_trust_anchors_pem: {e}")))?;
                Ok(Anchor {
                    subject: c.signed.subject.clone(),
                    key: std::sync::Arc::new(c.public_key),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { anchors })
    }

    /// A configured platform certificate (PEM), parsed and checked against the anchors: a
    /// `Config` error naming the certificate otherwise.
    pub(crate) fn checked(
        &self,
        backend: crate::crypto::CryptoBackend,
        pem: &str,
    ) -> Result<Certificate> {
        let cert = Certificate::from_pem_with(backend, pem)
            .map_err(|e| RefundError::config(format!("platform certificate: {e}")))?;
        self.check(&cert).map_err(|e| {
            RefundError::config(format!("platform certificate {}: {e}", cert.serial_hex))
        })?;
        Ok(cert)
    }

    /// Whether `cert` was issued (SHA256-RSA signed) by one of the anchors, or is one of them.
    pub fn check(&self, cert: &Certificate) -> std::result::Result<(), String> {
        let s = &cert.signed;
        if s.signature_algorithm.get(2..2 + SHA256_WITH_RSA_OID.len()) != Some(SHA256_WITH_RSA_OID)
        {
            return Err("not signed with sha256WithRSAEncryption".into());
        }
        let issued = self
            .anchors
            .iter()
            .any(|a| a.subject == s.issuer && a.key.verify_sha256(&s.tbs, &s.signature));
        if issued {
            Ok(())
        } else {
            Err(
                "not issued by a trusted WeChat Pay certificate authority (the Tenpay.com Root \
                 CA, or ClientOptions.platform_trust_anchors_pem)"
                    .into(),
            )
        }
    }
}

/// Why a download is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing to verify or encrypt with yet.
    FirstUse,
    /// A notification arrived before any certificate was held: never wait (like
    /// [`Need::NotifiedSerial`]); WeChat Pay delivers the notification again.
    NotifiedFirstUse,
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
    /// Why a download is wanted, as events name it.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Need::FirstUse | Need::NotifiedFirstUse => "first_use",
            Need::Serial(_) | Need::NotifiedSerial(_) => "unknown_serial",
            Need::Freshness => "freshness",
            Need::Explicit => "explicit",
        }
    }

    pub(crate) fn serial(&self) -> Option<&str> {
        match self {
            Need::Serial(s) | Need::NotifiedSerial(s) => Some(s),
            _ => None,
        }
    }
}

/// The background refresh's back-off after a download that brought nothing new.
const QUIET_MIN: Duration = Duration::from_secs(3600);
const QUIET_MAX: Duration = Duration::from_secs(12 * 3600);

/// A download in progress (see [`Refresher::ticket`]).
pub(crate) struct Ticket<'a> {
    refresher: &'a Refresher,
    started: Instant,
    finished: bool,
}

impl Ticket<'_> {
    /// Record the download's outcome (its serials and the unix time, or why it failed).
    pub(crate) fn finish(mut self, outcome: std::result::Result<(HashSet<String>, i64), String>) {
        self.finished = true;
        self.refresher.finish(self.started, outcome);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.refresher.finish(
                self.started,
                Err("the certificate download ended without an outcome (it panicked)".into()),
            );
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
    /// The serials of the last successful download, what it left out, and the quiet period
    /// after downloads that brought nothing new (no background refresh before `quiet_until`).
    last_serials: Option<HashSet<String>>,
    last_dropped: Vec<(String, String)>,
    quiet_for: Duration,
    quiet_until: Option<Instant>,
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

    /// Decide whether this caller downloads. While another download is in flight, a
    /// notification's need or a background refresh is refused at once (anyone can POST a
    /// notification naming a random serial: it must never hold a handler thread), and any
    /// other need waits for it — at most `max_wait` (the call's deadline) — then re-checks the
    /// store (single-flight); a response's new serial also waits, within `max_wait`, for the
    /// 5 s window rather than fail.
    pub(crate) fn begin(
        &self,
        need: &Need,
        is_satisfied: impl Fn() -> bool,
        max_wait: Duration,
    ) -> Decision {
        let deadline = Instant::now() + max_wait;
        let mut st = self.lock();
        if let Some(serial) = need.serial().and_then(normalize_serial) {
            st.prune();
            st.met.entry(serial).or_insert_with(Instant::now);
        }
        loop {
            if st.in_flight {
                if matches!(
                    need,
                    Need::NotifiedSerial(_) | Need::NotifiedFirstUse | Need::Freshness
                ) {
                    return Decision::Refused("a certificate download is in flight".into());
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Decision::Refused(
                        "a certificate download in flight did not finish within the deadline"
                            .into(),
                    );
                }
                st = self
                    .done
                    .wait_timeout(st, left)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
                continue;
            }
            if is_satisfied() {
                return Decision::Satisfied;
            }
            if let Some(serial) = need.serial().and_then(normalize_serial) {
                if let Some(at) = st.absent.get(&serial) {
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
            let left = deadline.saturating_duration_since(Instant::now());
            match (wait, need) {
                (None, _) => break,
                (Some(w), Need::Serial(_)) if !left.is_zero() => {
                    st = self
                        .done
                        .wait_timeout(st, w.min(left))
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

    /// The ticket of a download [`Self::begin`] granted at `started`: its
    /// [`Ticket::finish`] records the outcome, and dropping it unfinished (the download
    /// panicked, or returned early in an unforeseen way) records a failure — the refresher is
    /// never left "in flight" with every later caller blocked.
    pub(crate) fn ticket(&self, started: Instant) -> Ticket<'_> {
        Ticket {
            refresher: self,
            started,
            finished: false,
        }
    }

    /// Remember what the last successful download left out.
    pub(crate) fn record_dropped(&self, dropped: Vec<(String, String)>) {
        self.lock().last_dropped = dropped;
    }

    /// The listed certificates the last successful download left out, and why.
    pub fn last_dropped(&self) -> Vec<(String, String)> {
        self.lock().last_dropped.clone()
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
                // Nothing new since the last download: back off the background refresh (1 h,
                // doubling to 12 h), so an expiring certificate with no successor listed yet
                // does not turn every call into a download.
                if st.last_serials.as_ref() == Some(&serials) {
                    st.quiet_for = (st.quiet_for * 2).clamp(QUIET_MIN, QUIET_MAX);
                    st.quiet_until = Some(Instant::now() + st.quiet_for);
                } else {
                    st.quiet_for = Duration::ZERO;
                    st.quiet_until = None;
                }
                st.last_serials = Some(serials.clone());
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
            || st.quiet_until.is_some_and(|q| Instant::now() < q)
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

    const W: Duration = Duration::from_secs(30);

    #[test]
    fn single_need_is_satisfied_without_a_download() {
        let r = Refresher::default();
        assert_eq!(r.begin(&Need::FirstUse, || true, W), Decision::Satisfied);
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
        let t = started(r.begin(&Need::NotifiedSerial("CD".into()), || false, W));
        r.finish(t, Ok((["AB".to_string()].into_iter().collect(), 0)));
        // A serial met before a download that did not contain it: refused, no new download.
        assert!(matches!(
            r.begin(&Need::NotifiedSerial("CD".into()), || false, W),
            Decision::Refused(_)
        ));
        assert!(matches!(
            r.begin(&Need::Serial("0CD".into()), || false, W),
            Decision::Refused(_)
        ));
        // A new serial from a notification within 5 s: refused (never waits).
        assert!(matches!(
            r.begin(&Need::NotifiedSerial("EF".into()), || false, W),
            Decision::Refused(_)
        ));
        // Any other need within 5 s: refused too.
        assert!(matches!(
            r.begin(&Need::Explicit, || false, W),
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
        let t = started(r.begin(&Need::FirstUse, || false, W));
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
        let t = started(r.begin(&Need::Serial("AB".into()), || false, W));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (r, known) = (r.clone(), known.clone());
                std::thread::spawn(move || {
                    r.begin(
                        &Need::Serial("AB".into()),
                        || known.load(std::sync::atomic::Ordering::SeqCst),
                        W,
                    )
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

    #[test]
    fn a_notification_never_waits_for_a_download_in_flight() {
        let r = std::sync::Arc::new(Refresher::default());
        let t = started(r.begin(&Need::FirstUse, || false, W));
        let at = Instant::now();
        assert!(matches!(
            r.begin(&Need::NotifiedSerial("AB".into()), || false, W),
            Decision::Refused(why) if why.contains("in flight")
        ));
        assert!(matches!(
            r.begin(&Need::Freshness, || false, W),
            Decision::Refused(_)
        ));
        // A response's need waits, but no longer than its deadline.
        assert!(matches!(
            r.begin(&Need::Serial("AB".into()), || false, Duration::from_millis(100)),
            Decision::Refused(why) if why.contains("deadline")
        ));
        assert!(
            at.elapsed() < Duration::from_secs(5),
            "nothing waited for the download"
        );
        r.ticket(t).finish(Ok((HashSet::new(), 0)));
    }

    #[test]
    fn a_download_that_panics_or_fails_does_not_wedge_the_refresher() {
        let r = Refresher::default();
        let t = started(r.begin(&Need::FirstUse, || false, W));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ticket = r.ticket(t);
            panic!("a transport that panics");
        }));
        assert!(panicked.is_err());
        // No longer in flight: a response's need is refused by the 5 s window (not blocked),
        // and the failure is what it says.
        let at = Instant::now();
        assert!(matches!(
            r.begin(&Need::Explicit, || false, W),
            Decision::Refused(why) if why.contains("panicked")
        ));
        assert!(at.elapsed() < Duration::from_secs(1));
        assert!(!r.lock().in_flight);
    }

    #[test]
    fn downloads_that_bring_nothing_new_back_off_the_background_refresh() {
        let r = Refresher::default();
        let expiring = Some(1_000_000 + 3600);
        let serials: HashSet<String> = ["AB".to_string()].into_iter().collect();
        r.finish(Instant::now(), Ok((serials.clone(), 1_000_000)));
        assert!(r.refresh_due(1_000_000, expiring), "expiring: due");
        r.finish(Instant::now(), Ok((serials.clone(), 1_000_000)));
        assert!(
            !r.refresh_due(1_000_000, expiring),
            "nothing new: quiet for an hour"
        );
        assert_eq!(r.lock().quiet_for, QUIET_MIN);
        r.finish(Instant::now(), Ok((serials, 1_000_000)));
        assert_eq!(r.lock().quiet_for, QUIET_MIN * 2, "growing");
        let newer: HashSet<String> = ["AB".to_string(), "CD".to_string()].into_iter().collect();
        r.finish(Instant::now(), Ok((newer, 1_000_000)));
        assert!(
            r.refresh_due(1_000_000, expiring),
            "something new: no back-off"
        );
    }
}
