//! `V2RefundClient`: the v2 pieces wired to a transport, with retries that
//! re-send identical bytes (same `out_refund_no`, same nonce, same `sign`).

use super::config::V2Config;
use super::model::*;
use super::{notify, request, response};
use crate::crypto;
use crate::error::{RefundError, Result};
use crate::events;
use crate::metrics::{Metrics, Stats};
use crate::ratelimit::RateLimiter;
use crate::transport::{HttpRequest, HttpResponse, HttpTransport};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A v2 refund client. Cheap to share: one per process, used from many threads.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct V2RefundClient {
    config: Arc<V2Config>,
    /// With the client certificate: `/secapi/pay/refund` only.
    cert_transport: Option<Arc<dyn HttpTransport>>,
    /// Without it: everything else.
    transport: Arc<dyn HttpTransport>,
    /// WeChat Pay's limits (`options.rate_limit`): 150 requests/s, 6 failing/s, and a minute's
    /// hold after `INVALID_REQ_TOO_MUCH`.
    limiter: Option<Arc<RateLimiter>>,
    metrics: Metrics,
}

/// The operations counted in [`V2RefundClient::stats`], in `Metrics` order.
const OPERATIONS: &[&str] = &["refund", "refund_query", "parse_refund_notification"];

impl fmt::Debug for V2RefundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2RefundClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for V2RefundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V2RefundClient({})", self.config)
    }
}

impl V2RefundClient {
    /// A client over these transports: `cert_transport` must present the merchant's client
    /// certificate (it carries `/secapi/pay/refund`); `transport` carries the rest.
    pub fn with_parts(
        config: Arc<V2Config>,
        transport: Arc<dyn HttpTransport>,
        cert_transport: Option<Arc<dyn HttpTransport>>,
    ) -> Self {
        let limiter = config
            .options
            .rate_limit
            .then(|| Arc::new(RateLimiter::default()));
        Self {
            config,
            cert_transport,
            transport,
            limiter,
            metrics: Metrics::new("wechatpay_refund_v2", OPERATIONS),
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

    /// Use this rate limiter (one shared by several clients of the same merchant, or one
    /// with an injected clock in tests).
    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<V2Config> {
        &self.config
    }

    /// Send `req` (built once) with retries, each time with the identical bytes: transport
    /// failures that may pass, 5xx/429, and the retryable `err_code`s, waiting at least their
    /// `retry_after_ms` (`FREQUENCY_LIMITED`, `ORDER_NOT_READY`; `INVALID_REQ_TOO_MUCH`'s
    /// minute is longer than most deadlines, so it is returned) and never past the deadline.
    /// Network errors and 5xx fail over to the backup host.
    fn execute<T>(
        &self,
        transport: &dyn HttpTransport,
        req: HttpRequest,
        parse: impl Fn(&HttpResponse) -> Result<T>,
    ) -> Result<T> {
        let o = &self.config.options;
        let now = Instant::now();
        let deadline = now
            .checked_add(self.config.deadline())
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        let primary = self.config.base_url.as_str();
        let mut on_backup = false;
        let mut attempt = 0u32;
        let mut last: Option<RefundError> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                events::deadline_exceeded(true, o.deadline_ms, attempt);
                return Err(crate::client::deadline_exceeded(
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
                    events::deadline_exceeded(true, o.deadline_ms, attempt - 1);
                    return Err(crate::client::deadline_exceeded(
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
            let sent = transport.send(this);
            self.metrics.attempt();
            events::http_attempt(
                true,
                &method,
                &url,
                &sent,
                attempt,
                sent_at.elapsed().as_millis() as u64,
                on_backup,
            );
            let err = match sent.and_then(|r| parse(&r)) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if let Some(l) = &self.limiter {
                if matches!(
                    err,
                    RefundError::Api { .. }
                        | RefundError::V2Api { .. }
                        | RefundError::Transport { .. }
                ) {
                    l.record_failure();
                }
                if let RefundError::V2Api {
                    err_code: Some(c),
                    retry_after_ms: Some(ms),
                    ..
                } = &err
                {
                    if c == "INVALID_REQ_TOO_MUCH" {
                        // Blocked for a minute: hold every request of this limiter, not only
                        // this call's retries (more requests would prolong the block).
                        l.hold_for(*ms);
                    }
                }
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
            let backoff =
                crate::client::retry_delay(&err, o.initial_backoff_ms, o.max_backoff_ms, attempt);
            if backoff >= deadline.saturating_duration_since(Instant::now()) {
                return Err(err);
            }
            self.metrics.retry();
            events::http_retry(true, &err, backoff.as_millis() as u64, attempt + 1);
            std::thread::sleep(backoff);
            if failover && self.config.backup_base_url.is_some() {
                on_backup = !on_backup;
            }
            last = Some(err);
        }
    }

    fn nonce() -> String {
        crypto::random_string(
            32,
            b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        )
    }
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl V2RefundClient {
    /// A client over the built-in HTTPS transport; `/secapi/pay/refund` presents the
    /// configured client certificate (mutual TLS), the other calls do not.
    #[cfg(feature = "ureq-transport")]
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn new(config: Arc<V2Config>) -> Result<Arc<Self>> {
        use crate::transport::{TransportOptions, UreqTransport};
        let o = &config.options;
        let opts = TransportOptions {
            connect_timeout: Duration::from_millis(o.connect_timeout_ms),
            read_timeout: Duration::from_millis(o.read_timeout_ms),
            max_response_bytes: o.max_response_bytes.min(super::xml::MAX_XML_BYTES as u64),
            proxy: o.proxy.clone(),
        };
        let plain = UreqTransport::with_roots(opts.clone(), &o.trust_roots_pem)?;
        let cert = match &config.identity {
            Some(id) => Some(Arc::new(UreqTransport::with_identity(
                opts,
                &o.trust_roots_pem,
                Some(id),
            )?) as Arc<dyn HttpTransport>),
            None => None,
        };
        Ok(Arc::new(Self::with_parts(config, Arc::new(plain), cert)))
    }

    /// A client whose bytes travel through `transport` (which must present the client
    /// certificate for `/secapi/pay/refund` itself: OkHttp with a KeyManager, URLSession with
    /// a client identity, `requests` with `cert=`).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn with_transport(config: Arc<V2Config>, transport: Arc<dyn HttpTransport>) -> Arc<Self> {
        Arc::new(Self::with_parts(config, transport.clone(), Some(transport)))
    }

    /// Apply for a refund (`/secapi/pay/refund`, mutual TLS: without a client certificate this
    /// is a `Config` error before anything is sent, unless `base_url` is plain `http://`, a
    /// local test server). Accepted is not refunded: follow
    /// it with `refund_query` or the notification. Safe to call again with the same request
    /// after any error: WeChat Pay refunds once per `out_refund_no`.
    pub fn refund(&self, request: V2RefundRequest) -> Result<V2Refund> {
        self.observed(0, Some(&request.out_refund_no), || {
            self.refund_now(&request)
        })
    }

    /// Query refunds (`/pay/refundquery`) by one of the four ids.
    pub fn refund_query(&self, query: V2RefundQuery) -> Result<V2RefundQueryResult> {
        self.observed(1, query.out_refund_no.as_deref(), || {
            let req = request::build_refund_query(&self.config, &query, &Self::nonce())?;
            self.execute(self.transport.as_ref(), req, |r| {
                response::parse_refund_query_response_for(&self.config, &query, r)
            })
        })
    }

    /// Decrypt and parse a refund notification from the raw body bytes POSTed to
    /// `notify_url`. Answer with `v2_notification_ack_success()` once handled.
    pub fn parse_refund_notification(&self, body: Vec<u8>) -> Result<V2RefundNotification> {
        self.observed(2, None, || {
            notify::parse_refund_notification_for(&self.config, &body)
        })
    }

    /// The counters of this client since it was created (`stats().to_prometheus()`, metric
    /// names `wechatpay_refund_v2_…`).
    pub fn stats(&self) -> Stats {
        self.metrics.snapshot()
    }
}

impl V2RefundClient {
    fn refund_now(&self, request: &V2RefundRequest) -> Result<V2Refund> {
        let req = request::build_refund(&self.config, request, &Self::nonce())?;
        // Plain http (a local test server) has no TLS to present a certificate in.
        let plain_http = self.config.base_url.starts_with("http://");
        let Some(t) = self
            .cert_transport
            .as_ref()
            .or(plain_http.then_some(&self.transport))
        else {
            return Err(RefundError::config(
                "the v2 refund call needs the merchant's API client certificate (mutual TLS): \
                 configure apiclient_cert.pem + apiclient_key.pem or apiclient_cert.p12",
            ));
        };
        self.execute(t.as_ref(), req, |r| {
            response::parse_refund_response_for(&self.config, request, r)
        })
    }
}
