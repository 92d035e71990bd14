//! `RefundClient`: the sans-IO pieces wired to a transport, with retries, failover and a
//! deadline.
//!
//! Retries re-send the identical bytes (same `out_refund_no`, same signature): WeChat Pay
//! refunds once per `out_refund_no`, so a retry can never refund twice. Retried: network
//! errors, timeouts, 5xx / `SYSTEM_ERROR` and 429. Never retried: 4xx business errors and
//! verification failures. Network errors and 5xx fail over to the backup host.

use crate::certificates;
use crate::config::ClientConfig;
use crate::crypto;
use crate::error::TransportErrorKind;
use crate::error::{RefundError, Result};
use crate::events;
use crate::metrics::{Metrics, Stats};
use crate::notify::ReplayGuard;
use crate::ratelimit::RateLimiter;
use crate::refund::model::{
    AbnormalRefundRequest, CreateRefundRequest, Refund, RefundNotification,
};
use crate::refund::{request, response};
use crate::sign::generate_nonce;
use crate::transport::{HttpRequest, HttpResponse, HttpTransport};
use crate::trust::{Decision, Need};
use crate::verify::{is_public_key_id, normalize_serial};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a bill file's body may take to arrive (hundreds of MB on a slow link).
#[cfg(feature = "ureq-transport")]
const BILL_BODY_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The source of "now" (unix seconds) for signing and for the ±300 s verification window.
pub trait Clock: Send + Sync {
    /// Current unix time in seconds.
    fn now_unix(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A client for the refund API. Cheap to share: one per process, used from many threads.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct RefundClient {
    pub(crate) config: Arc<ClientConfig>,
    transport: Arc<dyn HttpTransport>,
    pub(crate) clock: Arc<dyn Clock>,
    limiter: Option<Arc<RateLimiter>>,
    replay_guard: Option<ReplayGuard>,
    metrics: Arc<Metrics>,
    /// The built-in transport again, for the bodies it streams (bill files); `None` for a
    /// foreign transport, which returns whole bodies.
    #[cfg(feature = "ureq-transport")]
    streaming: Option<Arc<crate::transport::UreqTransport>>,
}

/// The operations counted in [`RefundClient::stats`], in `Metrics` order.
const OPERATIONS: &[&str] = &[
    "create_refund",
    "query_refund",
    "apply_abnormal_refund",
    "parse_notification",
    "refresh_platform_certificates",
];
const CREATE_REFUND: usize = 0;
const QUERY_REFUND: usize = 1;
const APPLY_ABNORMAL_REFUND: usize = 2;
const PARSE_NOTIFICATION: usize = 3;
const REFRESH_PLATFORM_CERTIFICATES: usize = 4;

impl fmt::Debug for RefundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefundClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for RefundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefundClient({})", self.config)
    }
}

impl RefundClient {
    /// A client with every part supplied (tests inject a clock; services their own transport).
    pub fn with_parts(
        config: Arc<ClientConfig>,
        transport: Arc<dyn HttpTransport>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let o = &config.options;
        let limiter = o.rate_limit.then(|| Arc::new(RateLimiter::default()));
        let replay_guard = (o.replay_guard_capacity > 0)
            .then(|| ReplayGuard::new(o.replay_guard_capacity as usize));
        Self {
            config,
            transport,
            clock,
            limiter,
            replay_guard,
            metrics: Arc::new(Metrics::new("wechatpay_refund", OPERATIONS)),
            #[cfg(feature = "ureq-transport")]
            streaming: None,
        }
    }

    /// Run one public call inside its span and count it (operation number `op`).
    fn observed<T>(
        &self,
        op: usize,
        out_refund_no: Option<&str>,
        call: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.metrics.observe(op, out_refund_no, call)
    }

    /// Count and report a verification failure of a response or notification.
    fn verify_failed(&self, err: &RefundError, source: &str, serial: Option<&str>) {
        if let Some(what) = events::verify_failure(err) {
            self.metrics.verification_failure();
            let serial = match err {
                RefundError::UnknownSerial { serial, .. } => Some(serial.as_str()),
                _ => serial,
            };
            events::verify_failed(what, serial, source, err.request_id());
        }
    }

    /// Use this rate limiter (for example one shared by several clients of the same merchant,
    /// or one with an injected clock in tests).
    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Send a prepared request with retries and failover, verifying each response.
    ///
    /// The deadline (`deadline_ms`) bounds the whole call: each attempt's timeouts are clipped
    /// to the time left (`HttpRequest::timeout_ms`), the rate limiter's wait is checked
    /// against it, and no backoff sleeps past it; running out is `Transport{DeadlineExceeded}`.
    pub(crate) fn execute<T>(
        &self,
        req: HttpRequest,
        parse: impl Fn(&HttpResponse, i64) -> Result<T>,
    ) -> Result<T> {
        let o = &self.config.options;
        let now = Instant::now();
        // A huge deadline_ms means "no deadline", never an overflow panic.
        let deadline = now
            .checked_add(self.config.deadline())
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        let primary = self.config.base_url.as_str();
        let mut on_backup = false;
        let mut attempt: u32 = 0;
        let mut last: Option<RefundError> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                events::deadline_exceeded(false, o.deadline_ms, attempt);
                return Err(deadline_exceeded(
                    self.config.options.deadline_ms,
                    attempt,
                    last,
                ));
            }
            attempt += 1;
            let mut this = req.clone();
            if on_backup {
                if let Some(backup) = &self.config.backup_base_url {
                    this.url = format!("{backup}{}", &req.url[primary.len()..]);
                }
            }
            if let Some(l) = &self.limiter {
                if !l.acquire_within(left.as_millis() as u64) {
                    events::deadline_exceeded(false, o.deadline_ms, attempt - 1);
                    return Err(deadline_exceeded(
                        self.config.options.deadline_ms,
                        attempt - 1,
                        last,
                    ));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            this.timeout_ms = Some((left.as_millis() as u64).max(1));
            let (method, url) = (this.method.clone(), this.url.clone());
            let sent_at = Instant::now();
            let sent = self.transport.send(this);
            self.metrics.attempt();
            events::http_attempt(
                false,
                &method,
                &url,
                &sent,
                attempt,
                sent_at.elapsed().as_millis() as u64,
                on_backup,
            );
            let outcome = sent.and_then(|resp| {
                self.verified(&resp, &parse).inspect_err(|e| {
                    self.verify_failed(e, "response", resp.header("Wechatpay-Serial"))
                })
            });
            if let (Some(l), Err(RefundError::Api { .. } | RefundError::Transport { .. })) =
                (&self.limiter, &outcome)
            {
                l.record_failure();
            }
            let err = match outcome {
                Ok(v) => {
                    self.maybe_refresh_in_background();
                    return Ok(v);
                }
                Err(e) => e,
            };
            // A transport timeout at the deadline is the deadline's doing.
            if matches!(
                err,
                RefundError::Transport {
                    kind: TransportErrorKind::Timeout,
                    ..
                }
            ) && Instant::now() + Duration::from_millis(5) >= deadline
            {
                events::deadline_exceeded(false, o.deadline_ms, attempt);
                return Err(deadline_exceeded(
                    self.config.options.deadline_ms,
                    attempt,
                    Some(err),
                ));
            }
            let failover = match &err {
                RefundError::Transport {
                    retryable: true, ..
                } => true,
                RefundError::Api { status, .. } if *status >= 500 => true,
                _ => false,
            };
            if !err.is_retryable() || attempt >= o.max_attempts {
                return Err(err);
            }
            let backoff = retry_delay(&err, o.initial_backoff_ms, o.max_backoff_ms, attempt);
            if backoff >= deadline.saturating_duration_since(Instant::now()) {
                return Err(err);
            }
            self.metrics.retry();
            events::http_retry(false, &err, backoff.as_millis() as u64, attempt + 1);
            std::thread::sleep(backoff);
            if failover && self.config.backup_base_url.is_some() {
                on_backup = !on_backup;
            }
            last = Some(err);
        }
    }

    /// Parse a response; when it names a platform certificate serial this configuration does
    /// not hold and certificates are downloaded automatically, refresh them (single-flight,
    /// rate-limited) and verify the SAME response again: an accepted refund is never reported
    /// as an error just because WeChat Pay rotated its certificate.
    fn verified<T>(
        &self,
        resp: &HttpResponse,
        parse: &impl Fn(&HttpResponse, i64) -> Result<T>,
    ) -> Result<T> {
        self.reverified(Need::Serial, |now| parse(resp, now))
    }

    /// `parse` as of now; on an unknown platform certificate serial (automatic download on),
    /// the download policy for `need(serial)` and, when it brings the serial, `parse` again
    /// over the same bytes.
    fn reverified<T>(
        &self,
        need: fn(String) -> Need,
        parse: impl Fn(i64) -> Result<T>,
    ) -> Result<T> {
        match parse(self.clock.now_unix()) {
            Err(RefundError::UnknownSerial { serial, request_id })
                if self.config.download_certificates
                    && !is_public_key_id(&serial)
                    && normalize_serial(&serial).is_some() =>
            {
                match self.refresh_certificates(need(serial.clone())) {
                    Ok(()) => parse(self.clock.now_unix()),
                    Err(_) => Err(RefundError::UnknownSerial { serial, request_id }),
                }
            }
            other => other,
        }
    }

    /// Download the platform certificates on first need (nothing to verify with yet).
    pub(crate) fn ensure_certificates(&self) -> Result<()> {
        self.ensure_certificates_for(Need::FirstUse)
    }

    /// [`Self::ensure_certificates`] for `need` (`FirstUse` for our own calls,
    /// `NotifiedFirstUse` for a notification, which never waits for a download in flight).
    fn ensure_certificates_for(&self, need: Need) -> Result<()> {
        if !self.config.download_certificates {
            return Ok(());
        }
        let now = self.clock.now_unix();
        let have = {
            let ring = self.config.keys.ring();
            ring.public_key_id().is_some() || ring.has_valid_certificate(now)
        };
        if have {
            return Ok(());
        }
        self.refresh_certificates(need)
    }

    /// Run the download policy for `need`; `Ok` when the store now satisfies it.
    fn refresh_certificates(&self, need: Need) -> Result<()> {
        let config = &self.config;
        let satisfied = || {
            let ring = config.keys.ring();
            match &need {
                Need::Serial(s) | Need::NotifiedSerial(s) => ring.find(s).is_some(),
                Need::FirstUse | Need::NotifiedFirstUse => {
                    ring.has_valid_certificate(self.clock.now_unix())
                }
                Need::Freshness | Need::Explicit => false,
            }
        };
        let unavailable = |reason: String| RefundError::Certificate {
            serial: need.serial().unwrap_or_default().to_string(),
            reason,
            request_id: None,
        };
        let max_wait = Duration::from_millis(config.options.deadline_ms);
        match config.refresher.begin(&need, satisfied, max_wait) {
            Decision::Satisfied => Ok(()),
            Decision::Refused(why) => {
                events::certificates_refresh(need.reason(), need.serial(), "refused");
                Err(unavailable(format!("no certificate download: {why}")))
            }
            Decision::Download(started) => {
                // Finished on every exit: dropped unfinished (a panic), it records a failure.
                let ticket = config.refresher.ticket(started);
                let outcome = self.download_certificates(need.reason());
                events::certificates_refresh(
                    need.reason(),
                    need.serial(),
                    if outcome.is_ok() {
                        "downloaded"
                    } else {
                        "failed"
                    },
                );
                let record = match &outcome {
                    Ok((serials, _)) => Ok((serials.clone(), self.clock.now_unix())),
                    Err(e) => Err(e.to_string()),
                };
                ticket.finish(record);
                if let Ok((_, dropped)) = &outcome {
                    config.refresher.record_dropped(dropped.clone());
                }
                outcome?;
                if satisfied() || matches!(need, Need::Freshness | Need::Explicit) {
                    Ok(())
                } else {
                    Err(unavailable(
                        "not in the downloaded platform certificates".into(),
                    ))
                }
            }
        }
    }

    /// One verified download; its certificates replace those of the previous download (the
    /// configured ones stay). The serials it held, and the listed ones it left out.
    #[allow(clippy::type_complexity)]
    fn download_certificates(
        &self,
        reason: &str,
    ) -> Result<(HashSet<String>, Vec<(String, String)>)> {
        let (ts, nonce) = self.now_and_nonce();
        let mut req = certificates::build_download_request(&self.config, ts, &nonce)?;
        req.timeout_ms = Some(self.config.options.deadline_ms);
        let path = events::path_of(&req.url).to_string();
        let started = Instant::now();
        let sent = self.transport.send(req);
        let parsed = sent.as_ref().map_err(Clone::clone).and_then(|resp| {
            let now = self.clock.now_unix();
            certificates::parse_download(&self.config, &self.config.keys.ring(), resp, now)
                .inspect_err(|e| {
                    self.verify_failed(e, "certificates", resp.header("Wechatpay-Serial"))
                })
        });
        let serials: Vec<String> = match &parsed {
            Ok(d) => d
                .certificates
                .iter()
                .filter_map(|d| normalize_serial(&d.certificate.serial_hex))
                .collect(),
            Err(_) => Vec::new(),
        };
        self.metrics.certificate_download(parsed.is_ok());
        let error = parsed.as_ref().err().map(events::error_reason);
        events::certificates_download(
            &path,
            sent.as_ref().ok().map(|r| r.status),
            sent.as_ref().ok().and_then(events::request_id_of),
            started.elapsed().as_millis() as u64,
            &serials,
            if parsed.is_ok() { "ok" } else { "failed" },
            error.as_deref(),
            reason,
        );
        let download = parsed?;
        let serials = serials.into_iter().collect();
        self.config.keys.update(|ring| {
            ring.replace_downloaded(
                download
                    .certificates
                    .into_iter()
                    .map(|d| d.certificate)
                    .collect(),
            )
        });
        Ok((serials, download.dropped))
    }

    /// After a successful call: refresh in the background when the last download is older
    /// than 12 h or the newest certificate expires within 24 h.
    fn maybe_refresh_in_background(&self) {
        if !self.config.download_certificates {
            return;
        }
        let now = self.clock.now_unix();
        let (newest, public_key_only) = {
            let ring = self.config.keys.ring();
            // Migration done: a public key is in use and every certificate held has expired;
            // there is nothing to keep fresh (an unknown serial still downloads on demand).
            let public_key_only =
                ring.public_key_id().is_some() && !ring.has_valid_certificate(now);
            (ring.newest_certificate_expiry(), public_key_only)
        };
        if public_key_only || !self.config.refresher.refresh_due(now, newest) {
            return;
        }
        let client = Self {
            config: self.config.clone(),
            transport: self.transport.clone(),
            clock: self.clock.clone(),
            limiter: self.limiter.clone(),
            replay_guard: None,
            metrics: self.metrics.clone(),
            #[cfg(feature = "ureq-transport")]
            streaming: self.streaming.clone(),
        };
        let _ = std::thread::Builder::new()
            .name("wechatpay-certificates".into())
            .spawn(move || {
                let _ = client.refresh_certificates(Need::Freshness);
            });
    }

    /// GET a file whose answer WeChat Pay does not sign (the bill file): its body goes to
    /// `sink` as it arrives (the built-in transport streams it; a foreign transport hands it
    /// over whole). A non-2xx answer is the usual typed error and writes nothing. One attempt:
    /// the caller decides about trying again (a new download URL is needed after 30 s anyway).
    pub(crate) fn fetch_into(
        &self,
        mut req: HttpRequest,
        sink: &mut dyn std::io::Write,
    ) -> Result<()> {
        // The body of a large bill takes longer than one API call's deadline.
        req.timeout_ms = None;
        let write_err = |e: std::io::Error| {
            RefundError::transport(
                TransportErrorKind::Other,
                format!("cannot write the downloaded file: {e}"),
            )
        };
        #[cfg(feature = "ureq-transport")]
        if let Some(t) = &self.streaming {
            return t.send_streaming(req, BILL_BODY_TIMEOUT, |status, headers, body| {
                if !(200..300).contains(&status) {
                    return Err(self.file_error(status, headers, body));
                }
                let mut buf = vec![0u8; 64 * 1024];
                // Bounded: every turn reads at least one byte or ends.
                loop {
                    let n = match body.read(&mut buf) {
                        Ok(0) => return Ok(()),
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let kind = match e.kind() {
                                std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
                                _ => TransportErrorKind::Io,
                            };
                            return Err(RefundError::transport(
                                kind,
                                format!("the download broke off: {e}"),
                            ));
                        }
                    };
                    sink.write_all(&buf[..n]).map_err(write_err)?;
                }
            });
        }
        let resp = self.transport.send(req)?;
        if !(200..300).contains(&resp.status) {
            return Err(self.file_error(resp.status, &resp.headers, &mut resp.body.as_slice()));
        }
        sink.write_all(&resp.body).map_err(write_err)
    }

    /// The typed error of a non-2xx file answer (its first 64 KiB read).
    fn file_error(
        &self,
        status: u16,
        headers: &[crate::transport::HttpHeader],
        body: &mut dyn std::io::Read,
    ) -> RefundError {
        let mut text = Vec::new();
        let _ = body.take(64 * 1024).read_to_end(&mut text);
        let pairs = headers.iter().map(|h| (h.name.as_str(), h.value.as_str()));
        match response::verify_response_parts(
            &self.config.keys.ring(),
            status,
            pairs,
            &text,
            self.clock.now_unix(),
            u64::MAX,
        ) {
            Err(e) => e,
            Ok(_) => RefundError::transport(
                TransportErrorKind::Protocol,
                format!("HTTP {status} for the file"),
            ),
        }
    }

    pub(crate) fn now_and_nonce(&self) -> (i64, String) {
        (self.clock.now_unix(), generate_nonce())
    }
}

/// The error of a call whose deadline (`deadline_ms`) passed after `attempts` attempts (v3 and
/// v2 clients alike), naming the last error when there was one.
pub(crate) fn deadline_exceeded(
    deadline_ms: u64,
    attempts: u32,
    last: Option<RefundError>,
) -> RefundError {
    let mut reason = format!("the deadline of {deadline_ms} ms passed after {attempts} attempt(s)");
    if let Some(e) = last {
        reason.push_str(&format!("; last error: {e}"));
    }
    RefundError::transport(TransportErrorKind::DeadlineExceeded, reason)
}

/// The wait before retry number `attempt`: the exponential backoff, or the error's
/// `retry_after_ms` when that is longer (WeChat Pay's `Retry-After`, or what the code implies).
/// Callers give up instead of sleeping past their deadline.
pub(crate) fn retry_delay(
    err: &RefundError,
    initial_ms: u64,
    max_ms: u64,
    attempt: u32,
) -> Duration {
    let backoff = backoff_delay(initial_ms, max_ms, attempt);
    match err.retry_after_ms() {
        Some(ms) => backoff.max(Duration::from_millis(ms)),
        None => backoff,
    }
}

/// Exponential backoff with "equal jitter": half fixed, half random.
pub(crate) fn backoff_delay(initial_ms: u64, max_ms: u64, attempt: u32) -> Duration {
    let exp = initial_ms
        .saturating_mul(1u64 << (attempt - 1).min(20))
        .min(max_ms.max(1));
    let mut r = [0u8; 8];
    crypto::random_bytes(&mut r);
    let half = exp / 2;
    let jitter = if half == 0 {
        0
    } else {
        u64::from_le_bytes(r) % (half + 1)
    };
    Duration::from_millis(half + jitter)
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl RefundClient {
    /// A client using the built-in HTTPS transport (ureq, keep-alive, the configured
    /// timeouts and trust roots).
    #[cfg(feature = "ureq-transport")]
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn new(config: Arc<ClientConfig>) -> Result<Arc<Self>> {
        let o = config.options.clone();
        let transport = crate::transport::UreqTransport::with_roots(
            crate::transport::TransportOptions {
                connect_timeout: Duration::from_millis(o.connect_timeout_ms),
                read_timeout: Duration::from_millis(o.read_timeout_ms),
                max_response_bytes: o.max_response_bytes,
                proxy: o.proxy.clone(),
            },
            &o.trust_roots_pem,
        )?;
        let transport = Arc::new(transport);
        let mut client = Self::with_parts(config, transport.clone(), Arc::new(SystemClock));
        client.streaming = Some(transport);
        Ok(Arc::new(client))
    }

    /// A client whose bytes travel through `transport` (OkHttp, URLSession, `requests`...).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn with_transport(
        config: Arc<ClientConfig>,
        transport: Arc<dyn HttpTransport>,
    ) -> Arc<Self> {
        Arc::new(Self::with_parts(config, transport, Arc::new(SystemClock)))
    }

    /// Apply for a refund. The answer is normally `PROCESSING`: accepted, not yet refunded;
    /// follow it with `query_refund` or the notification.
    ///
    /// Safe to call again with the same request after any error: WeChat Pay refunds once per
    /// `out_refund_no`.
    pub fn create_refund(&self, request: CreateRefundRequest) -> Result<Refund> {
        self.observed(CREATE_REFUND, Some(&request.out_refund_no), || {
            self.ensure_certificates()?;
            let (ts, nonce) = self.now_and_nonce();
            let req = request::build_create_refund(&self.config, &request, ts, &nonce)?;
            self.execute(req, |resp, now| {
                response::parse_refund_response(&self.config, resp, now)
            })
        })
    }

    /// The counters of this client since it was created: calls by operation and outcome,
    /// attempts, retries, certificate downloads, verification failures, call latency
    /// (`stats().to_prometheus()` for a metrics endpoint).
    pub fn stats(&self) -> Stats {
        self.metrics.snapshot()
    }

    /// Resolve an `ABNORMAL` refund: to the user's bank card or the merchant's account.
    /// `bank_account` and `real_name` are encrypted by the library before sending.
    ///
    /// The plain-text card number and name of `request` are wiped from memory once encrypted
    /// (this copy; a copy the caller keeps, or a string of another language, is not).
    pub fn apply_abnormal_refund(&self, mut request: AbnormalRefundRequest) -> Result<Refund> {
        use zeroize::Zeroize;
        let out_refund_no = request.out_refund_no.clone();
        self.observed(APPLY_ABNORMAL_REFUND, Some(&out_refund_no), || {
            let built = self.ensure_certificates().and_then(|()| {
                let (ts, nonce) = self.now_and_nonce();
                request::build_apply_abnormal_refund(&self.config, &request, ts, &nonce)
            });
            request.bank_account.zeroize();
            request.real_name.zeroize();
            let req = built?;
            self.execute(req, |resp, now| {
                response::parse_refund_response(&self.config, resp, now)
            })
        })
    }

    /// Download the platform certificates now (certificate mode with
    /// `download_platform_certificates`), subject to the same single-flight and 5 s limit as
    /// the automatic refreshes; returns the certificates held afterwards.
    pub fn refresh_platform_certificates(&self) -> Result<Vec<crate::verify::PlatformCertificate>> {
        if !self.config.download_certificates {
            return Err(RefundError::config(
                "this configuration does not download platform certificates \
                 (download_platform_certificates is off)",
            ));
        }
        self.observed(REFRESH_PLATFORM_CERTIFICATES, None, || {
            self.refresh_certificates(Need::Explicit)?;
            Ok(self.config.platform_certificates())
        })
    }

    /// Verify, decrypt and parse a refund notification from the raw request headers (any case,
    /// including WSGI `HTTP_…` names) and the raw body bytes. Answer with
    /// `notification_ack_success()` once handled, `notification_ack_failure()` otherwise.
    pub fn parse_notification(
        &self,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    ) -> Result<RefundNotification> {
        self.observed(PARSE_NOTIFICATION, None, || {
            self.ensure_certificates_for(Need::NotifiedFirstUse)?;
            let pairs = headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            // The very function the sans-IO `parse_notification_at` calls (merchant check included).
            let parse = |now: i64| {
                crate::sansio::parse_notification_parts(&self.config, pairs.clone(), &body, now)
            };
            // A new platform certificate: refresh (single-flight, rate-limited, never waiting:
            // anyone can POST a forged notification) and verify the same bytes again.
            let mut note = self
                .reverified(Need::NotifiedSerial, parse)
                .inspect_err(|e| {
                    let serial = headers
                        .iter()
                        .find(|(k, _)| {
                            let k = k.strip_prefix("HTTP_").unwrap_or(k).replace('_', "-");
                            k.eq_ignore_ascii_case("Wechatpay-Serial")
                        })
                        .map(|(_, v)| v.as_str());
                    self.verify_failed(e, "notification", serial)
                })?;
            if let Some(guard) = &self.replay_guard {
                // Only verified notifications reach the guard: unverified ones cannot fill it.
                let h = crate::verify::SignatureHeaders::from_pairs(pairs)?;
                note.seen_before = guard.admit(&note.id, h.nonce.as_deref().unwrap_or_default());
            }
            Ok(note)
        })
    }
}

ffi_export! {
impl RefundClient {
    /// Query a refund by `out_refund_no` (`sub_mchid` in service-provider mode).
    #[ffi(method(default(sub_mchid = None)))]
    pub fn query_refund(&self, out_refund_no: String, sub_mchid: Option<String>) -> Result<Refund> {
        self.observed(QUERY_REFUND, Some(&out_refund_no), || {
            self.ensure_certificates()?;
            let (ts, nonce) = self.now_and_nonce();
            let req = request::build_query_refund(
                &self.config,
                &out_refund_no,
                sub_mchid.as_deref(),
                ts,
                &nonce,
            )?;
            self.execute(req, |resp, now| {
                response::parse_refund_response(&self.config, resp, now)
            })
        })
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for _ in 0..50 {
            let d1 = backoff_delay(200, 3000, 1).as_millis();
            assert!((100..=200).contains(&d1), "{d1}");
            let d3 = backoff_delay(200, 3000, 3).as_millis();
            assert!((400..=800).contains(&d3), "{d3}");
            let d10 = backoff_delay(200, 3000, 10).as_millis();
            assert!((1500..=3000).contains(&d10), "{d10}");
        }
    }

    #[test]
    fn retry_after_lengthens_the_backoff_never_shortens_it() {
        let api = |retry_after_ms| RefundError::Api {
            status: 429,
            code: "FREQUENCY_LIMITED".into(),
            error_message: String::new(),
            detail_field: None,
            detail_issue: None,
            detail_location: None,
            request_id: None,
            retryable: true,
            retry_after_ms,
        };
        for _ in 0..20 {
            let d = retry_delay(&api(Some(2500)), 200, 3000, 1).as_millis();
            assert_eq!(d, 2500);
            let d = retry_delay(&api(Some(10)), 200, 3000, 1).as_millis();
            assert!((100..=200).contains(&d), "{d}");
            let d = retry_delay(&api(None), 200, 3000, 1).as_millis();
            assert!((100..=200).contains(&d), "{d}");
        }
    }
}
