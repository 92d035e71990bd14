//! The embedded sandbox: a real WeChat Pay refund server on 127.0.0.1 (feature `sandbox`).
//!
//! WeChat Pay APIv3 has no sandbox of its own. This one speaks the refund protocol from the
//! server's side, with this crate's own signing, verification and encryption code: it verifies
//! each request's `Authorization`, signs each response, keeps orders and refunds, moves refund
//! statuses, sends signed and encrypted notifications, and injects faults on demand.
//!
//! ```no_run
//! # fn main() -> Result<(), wechatpay_refund::RefundError> {
//! use wechatpay_refund::{sandbox::Sandbox, CreateRefundRequest, RefundClient};
//! let sandbox = Sandbox::start()?;
//! sandbox.create_order("T1001".into(), 10000)?; // a paid order of 100.00 CNY
//! let client = RefundClient::new(sandbox.client_config()?)?;
//! let r = client.create_refund(CreateRefundRequest::by_out_trade_no("T1001", "R1", 100, 10000))?;
//! # Ok(()) }
//! ```

pub mod control;
mod http;
mod rules;
mod server;
mod time;
mod tls;

use crate::config::{ApiV3Key, ClientConfig};
use crate::crypto::{self, RsaPrivateKey, RsaPublicKey};
use crate::error::{RefundError, Result};
use crate::refund::model::RefundStatus;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use zeroize::Zeroizing;

pub use server::v2::SandboxV2Credentials;
pub use server::SandboxRequest;

/// Which WeChat Pay keys the sandbox uses (see docs/protocol.md "Response and callback verification").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum SandboxKeyMode {
    /// Public-key mode: a `PUB_KEY_ID_…` key signs everything (merchants since late 2024).
    PublicKey,
    /// Certificate mode: a platform certificate signs everything; `GET /v3/certificates` works.
    Certificate,
    /// Migration: both are live. Responses are signed by the public key when the request names
    /// it in `Wechatpay-Serial`, else by the certificate; notifications alternate between them.
    Both,
}

/// How to start a sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[cfg_attr(feature = "ffi", uniffi(default = 0))]
    pub port: u16,
    /// Key mode (`None`: public-key mode).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub mode: Option<SandboxKeyMode>,
    /// Merchant id (default `1900000001`).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub mchid: Option<String>,
    /// Use this merchant private key (PEM) instead of a fresh one.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub merchant_private_key_pem: Option<String>,
    /// Use this WeChat Pay private key (PEM) instead of a fresh one.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub wechatpay_private_key_pem: Option<String>,
    /// Serve HTTPS with a freshly generated test CA (`credentials().tls_ca_pem`).
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub tls: bool,
    /// Address to listen on (`None`: 127.0.0.1, reachable from this machine only).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub host: Option<String>,
    /// Move every new refund to SUCCESS (and notify) after this many milliseconds, like the
    /// real service; `None`: refunds move only when told to.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub auto_succeed_after_ms: Option<u64>,
    /// Use this API v3 key (32 characters) instead of a random one.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub api_v3_key: Option<String>,
    /// Use this merchant certificate serial (hex) instead of a random one.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub merchant_serial_no: Option<String>,
    /// Use this WeChat Pay public key id (`PUB_KEY_ID_…`) instead of a random one.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub wechatpay_public_key_id: Option<String>,
    /// Use this platform certificate (PEM) and its private key instead of fresh ones.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub platform_certificate_pem: Option<String>,
    /// The private key of `platform_certificate_pem`.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub platform_private_key_pem: Option<String>,
    /// Enforce WeChat Pay's limits (docs/protocol.md "Limits"): refunds of one order
    /// at least one minute apart (by the sandbox clock), at most 150 requests a second and 6
    /// failing requests a second (429 `FREQUENCY_LIMITED` beyond). Off by default so that
    /// tests may refund one order several times in a row.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub enforce_limits: bool,
    /// How many times faster than WeChat Pay's schedule (15 s, 15 s, 30 s, 3 m, 10 m, … 6 h)
    /// notifications are re-delivered (`None`: 1000, i.e. 15 ms, 15 ms, 30 ms, … 21.6 s).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub notify_retry_speedup: Option<u32>,
}

/// The sandbox's TEST credentials, printable by design: point any SDK at `base_url` with them.
/// Serialised (field names as here) by the control API and the standalone binary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SandboxCredentials {
    /// Merchant id.
    pub mchid: String,
    /// Merchant API certificate serial.
    pub merchant_serial_no: String,
    /// Merchant private key (PKCS#8 PEM), generated for this sandbox only.
    pub merchant_private_key_pem: String,
    /// The merchant API certificate (`apiclient_cert.pem`, TEST) of that key and serial.
    pub merchant_certificate_pem: String,
    /// API v3 key (32 characters), random for this sandbox.
    pub api_v3_key: String,
    /// WeChat Pay public key id (public-key and migration modes; the current one after a
    /// rotation).
    pub wechatpay_public_key_id: Option<String>,
    /// WeChat Pay public key PEM (public-key and migration modes).
    pub wechatpay_public_key_pem: Option<String>,
    /// Platform certificate serial (certificate and migration modes; the current one after a
    /// rotation).
    pub platform_certificate_serial_no: Option<String>,
    /// Platform certificate PEM (certificate and migration modes).
    pub platform_certificate_pem: Option<String>,
    /// `http://127.0.0.1:PORT`, or `https://…` with TLS.
    pub base_url: String,
    /// The test CA certificate (PEM) to trust when the sandbox serves HTTPS.
    pub tls_ca_pem: Option<String>,
    /// What a client must trust downloaded platform certificates by
    /// (`ClientOptions::platform_trust_anchors_pem`): the sandbox's TEST platform CA (and a
    /// platform certificate given in `SandboxOptions`). Empty in public-key mode.
    pub platform_trust_anchors_pem: Vec<String>,
}

/// A signed, encrypted notification as the sandbox would POST it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SandboxNotification {
    /// Headers (`Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial`, `-Signature-Type`, `Request-ID`, `Content-Type`).
    pub headers: HashMap<String, String>,
    /// Body bytes, exactly as signed.
    pub body: Vec<u8>,
}

/// An error answer of WeChat Pay's (docs/protocol.md "Errors", WeChat Pay's error tables), with its
/// HTTP status, to inject with [`SandboxFault::Refusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum SandboxRefusal {
    /// 400 `PARAM_ERROR`.
    ParamError,
    /// 400 `INVALID_REQUEST`.
    InvalidRequest,
    /// 401 `SIGN_ERROR`.
    SignError,
    /// 403 `NO_AUTH`: no refund permission for this order.
    NoAuth,
    /// 403 `NOT_ENOUGH`: the merchant's balance cannot fund the refund.
    NotEnough,
    /// 403 `USER_ACCOUNT_ABNORMAL`: the payer's account is closed or frozen.
    UserAccountAbnormal,
    /// 404 `RESOURCE_NOT_EXISTS`.
    ResourceNotExists,
    /// 404 `MCH_NOT_EXISTS`.
    MchNotExists,
    /// 429 `FREQUENCY_LIMITED`.
    FrequencyLimited,
    /// 500 `SYSTEM_ERROR`: retry with the same `out_refund_no` and parameters.
    SystemError,
}

impl SandboxRefusal {
    /// Every refusal, in the order of the table above.
    pub const ALL: [SandboxRefusal; 10] = [
        Self::ParamError,
        Self::InvalidRequest,
        Self::SignError,
        Self::NoAuth,
        Self::NotEnough,
        Self::UserAccountAbnormal,
        Self::ResourceNotExists,
        Self::MchNotExists,
        Self::FrequencyLimited,
        Self::SystemError,
    ];

    /// WeChat Pay's `code`, e.g. `NOT_ENOUGH`.
    pub fn code(self) -> &'static str {
        match self {
            Self::ParamError => "PARAM_ERROR",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::SignError => "SIGN_ERROR",
            Self::NoAuth => "NO_AUTH",
            Self::NotEnough => "NOT_ENOUGH",
            Self::UserAccountAbnormal => "USER_ACCOUNT_ABNORMAL",
            Self::ResourceNotExists => "RESOURCE_NOT_EXISTS",
            Self::MchNotExists => "MCH_NOT_EXISTS",
            Self::FrequencyLimited => "FREQUENCY_LIMITED",
            Self::SystemError => "SYSTEM_ERROR",
        }
    }

    /// The HTTP status WeChat Pay answers it with.
    pub fn status(self) -> u16 {
        match self {
            Self::ParamError | Self::InvalidRequest => 400,
            Self::SignError => 401,
            Self::NoAuth | Self::NotEnough | Self::UserAccountAbnormal => 403,
            Self::ResourceNotExists | Self::MchNotExists => 404,
            Self::FrequencyLimited => 429,
            Self::SystemError => 500,
        }
    }

    /// The refusal named by `code` (`NOT_ENOUGH`...), if it is one.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::ParamError => "参数错误",
            Self::InvalidRequest => "请求参数符合参数格式，但不符合业务规则",
            Self::SignError => "签名错误",
            Self::NoAuth => "没有退款权限",
            Self::NotEnough => "基本账户余额不足，请充值后重新发起",
            Self::UserAccountAbnormal => "退款请求失败，用户账号注销或异常",
            Self::ResourceNotExists => "资源不存在",
            Self::MchNotExists => "商户号不存在",
            Self::FrequencyLimited => "请求频率超过限制，请降低频率后重试",
            Self::SystemError => "系统错误，请使用相同参数稍后重试",
        }
    }
}

/// A fault to inject into the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum SandboxFault {
    /// Answer 500 `SYSTEM_ERROR` without processing.
    SystemError,
    /// Answer 429 `FREQUENCY_LIMITED` without processing.
    FrequencyLimited,
    /// Process the request, then close the connection without answering.
    DropConnection,
    /// Process the request, then wait before answering.
    Delay {
        /// How long, in milliseconds.
        millis: u64,
    },
    /// Process and sign the response, then change its body.
    TamperedBody,
    /// Process, and sign the response with a timestamp 10 minutes old.
    StaleTimestamp,
    /// Process, and answer with a `WECHATPAY/SIGNTEST/` probe signature.
    ProbeSignature,
    /// Process, and sign the response naming a key serial the client does not know.
    UnknownSerial,
    /// Answer a request that passed the signature check with WeChat Pay's `refusal` (its
    /// status and code, signed like every answer). With `after_processing` the request is
    /// processed first (a refund is created) and the answer is still the error: the case of
    /// "a 500 may hide an accepted refund, retry with the same `out_refund_no`".
    Refusal {
        /// Which error.
        refusal: SandboxRefusal,
        /// Process the request before answering the error.
        after_processing: bool,
    },
}

pub(crate) struct Keys {
    pub mchid: String,
    pub merchant_serial: String,
    /// The merchant's API certificate (TEST), with `merchant_serial` as its serial.
    pub merchant_cert_pem: String,
    pub merchant_key_pem: Zeroizing<String>,
    pub merchant_public: RsaPublicKey,
    pub api_v3_key: String,
    /// The WeChat Pay keys, rotated at run time (`rotate_*` / `expire_*`).
    pub rotating: std::sync::RwLock<Rotating>,
    pub mode: SandboxKeyMode,
    /// Issues the platform certificates (certificate and migration modes).
    pub platform_ca: Option<server::PlatformCa>,
    /// What clients must trust platform certificates by: the CA, and any certificate given.
    pub platform_anchors: Vec<String>,
}

/// A WeChat Pay public key of the sandbox (public-key and migration modes).
pub(crate) struct WxKey {
    pub id: String,
    pub key: Arc<RsaPrivateKey>,
    pub public_pem: String,
}

/// A platform certificate of the sandbox (certificate and migration modes).
pub(crate) struct Platform {
    pub serial: String,
    pub cert_pem: String,
    pub key: Arc<RsaPrivateKey>,
    pub not_before: i64,
    pub not_after: i64,
}

/// The live keys: the last of each list signs; expired ones are removed.
#[derive(Default)]
pub(crate) struct Rotating {
    pub public_keys: Vec<WxKey>,
    pub platforms: Vec<Platform>,
}

impl Rotating {
    pub fn public_key(&self) -> Option<&WxKey> {
        self.public_keys.last()
    }
    pub fn platform(&self) -> Option<&Platform> {
        self.platforms.last()
    }
}

impl Keys {
    /// The live keys (a poisoned lock is recovered: no panic into the bindings).
    pub(crate) fn live(&self) -> std::sync::RwLockReadGuard<'_, Rotating> {
        self.rotating.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn live_mut(&self) -> std::sync::RwLockWriteGuard<'_, Rotating> {
        self.rotating.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn new_public_key_id() -> String {
    format!(
        "PUB_KEY_ID_0119{}",
        crypto::random_string(28, b"0123456789")
    )
}

fn new_platform(ca: &server::PlatformCa) -> Result<Platform> {
    let (key, pem) = RsaPrivateKey::generate_2048().map_err(RefundError::config)?;
    let (serial, cert_pem, not_before, not_after) = server::platform_certificate(&pem, ca)?;
    Ok(Platform {
        serial,
        cert_pem,
        key: Arc::new(key),
        not_before,
        not_after,
    })
}

/// A running sandbox. Stops on `stop()` or drop: no thread or port outlives it.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
pub struct Sandbox {
    shared: Arc<server::Shared>,
    http: Mutex<Option<http::HttpServer>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    tls_connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    tls_ca_pem: Option<String>,
    base_url: String,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sandbox({})", self.base_url)
    }
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    crypto::random_bytes(&mut b);
    crypto::der::hex_upper(&b)
}

fn key_from(pem: Option<&str>) -> Result<(RsaPrivateKey, Zeroizing<String>)> {
    match pem {
        Some(p) => Ok((
            RsaPrivateKey::from_pem(p)
                .map_err(|e| RefundError::config(format!("sandbox key: {e}")))?,
            Zeroizing::new(p.to_string()),
        )),
        None => RsaPrivateKey::generate_2048().map_err(RefundError::config),
    }
}

impl Sandbox {
    fn launch(options: SandboxOptions) -> Result<Arc<Self>> {
        let (merchant_key, merchant_key_pem) =
            key_from(options.merchant_private_key_pem.as_deref())?;
        let mode = options.mode.unwrap_or(SandboxKeyMode::PublicKey);
        let mut rotating = Rotating::default();
        if mode != SandboxKeyMode::Certificate {
            let (wx_key, _) = key_from(options.wechatpay_private_key_pem.as_deref())?;
            let id = match options.wechatpay_public_key_id.as_deref() {
                Some(id) => crate::verify::check_public_key_id(id)?.to_string(),
                None => new_public_key_id(),
            };
            rotating.public_keys.push(WxKey {
                id,
                public_pem: wx_key.public_key().map_err(RefundError::config)?.to_pem(),
                key: Arc::new(wx_key),
            });
        }
        let platform_ca = match mode {
            SandboxKeyMode::PublicKey => None,
            // A platform key given (e.g. `--seed`): it is the CA's key too, so the CA and
            // the credentials are the same on every run.
            _ => Some(server::PlatformCa::new(
                options.platform_private_key_pem.as_deref(),
            )?),
        };
        let mut platform_anchors: Vec<String> =
            platform_ca.iter().map(|ca| ca.cert_pem.clone()).collect();
        if let Some(ca) = &platform_ca {
            let platform = match (
                options.platform_certificate_pem.as_deref(),
                options.platform_private_key_pem.as_deref(),
            ) {
                (Some(cert), Some(key)) => {
                    let c =
                        crypto::Certificate::from_pem_with(crypto::CryptoBackend::default(), cert)
                            .map_err(|e| {
                                RefundError::config(format!("platform_certificate_pem: {e}"))
                            })?;
                    // A certificate of the caller's (e.g. the test vectors' self-signed one)
                    // is trusted as it is.
                    platform_anchors.push(cert.to_string());
                    Platform {
                        serial: c.serial_hex,
                        cert_pem: cert.to_string(),
                        key: Arc::new(RsaPrivateKey::from_pem(key).map_err(|e| {
                            RefundError::config(format!("platform_private_key_pem: {e}"))
                        })?),
                        not_before: c.not_before,
                        not_after: c.not_after,
                    }
                }
                (None, None) => new_platform(ca)?,
                _ => {
                    return Err(RefundError::config(
                        "give platform_certificate_pem and platform_private_key_pem together",
                    ))
                }
            };
            rotating.platforms.push(platform);
        }
        let mchid = options.mchid.unwrap_or_else(|| "1900000001".into());
        let merchant_serial = match options.merchant_serial_no.as_deref() {
            Some(s)
                if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                s.to_ascii_uppercase()
            }
            Some(s) => {
                return Err(RefundError::config(format!(
                    "merchant_serial_no must be hex, got {s:?}"
                )))
            }
            None => random_hex(20),
        };
        let merchant_cert_pem =
            server::merchant_certificate(&merchant_key_pem, &merchant_serial, &mchid)?;
        let keys = Keys {
            mchid,
            merchant_serial,
            merchant_cert_pem,
            merchant_public: merchant_key.public_key().map_err(RefundError::config)?,
            merchant_key_pem,
            api_v3_key: match options.api_v3_key {
                Some(k) => {
                    ApiV3Key::new(&k)?;
                    k
                }
                None => crypto::random_string(
                    32,
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                ),
            },
            rotating: std::sync::RwLock::new(rotating),
            platform_ca,
            platform_anchors,
            mode,
        };
        let host = options.host.clone().unwrap_or_else(|| "127.0.0.1".into());
        let listen_err = |e: &dyn std::fmt::Display| {
            RefundError::config(format!(
                "sandbox could not listen on {host}:{}: {e}",
                options.port
            ))
        };
        // The URL clients use: a wildcard address is reached through loopback here.
        let url_host = match host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_string(),
            h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
            h => h.to_string(),
        };
        let mut shared = server::Shared::new(keys);
        shared.auto_succeed_after = options.auto_succeed_after_ms.map(Duration::from_millis);
        shared.enforce_limits = options.enforce_limits;
        shared.notify_speedup = match options.notify_retry_speedup {
            None => 1000,
            Some(0) => {
                return Err(RefundError::config(
                    "notify_retry_speedup must be at least 1",
                ))
            }
            Some(n) => u64::from(n),
        };
        let shared = Arc::new(shared);
        let http_port = if options.tls { 0 } else { options.port };
        let handler_shared = shared.clone();
        // With TLS the plain server is internal (loopback); the TLS listener takes `host`.
        let http_host = if options.tls {
            "127.0.0.1"
        } else {
            host.as_str()
        };
        let http = http::HttpServer::bind(
            http_host,
            http_port,
            Arc::new(move |req| handler_shared.handle(req)),
        )
        .map_err(|e| listen_err(&e))?;
        let http_addr = http.addr();
        let tls_connections = Arc::new(Mutex::new(Vec::new()));
        let mut extra_threads = Vec::new();
        let (base_url, tls_ca_pem) = if options.tls {
            let pki = tls::test_pki()?;
            let listener = std::net::TcpListener::bind((host.as_str(), options.port))
                .map_err(|e| listen_err(&e))?;
            let port = listener.local_addr().map_err(|e| listen_err(&e))?.port();
            let (shared, conns) = (shared.clone(), tls_connections.clone());
            let server_config = pki.server.clone();
            extra_threads.push(
                std::thread::Builder::new()
                    .name("wechatpay-sandbox-tls-accept".into())
                    .spawn(move || tls::serve(listener, http_addr, server_config, shared, conns))
                    .map_err(|e| RefundError::config(format!("spawn TLS listener: {e}")))?,
            );
            (format!("https://{url_host}:{port}"), Some(pki.ca_pem))
        } else {
            (format!("http://{url_host}:{}", http_addr.port()), None)
        };
        let sandbox = Arc::new(Self {
            shared,
            http: Mutex::new(Some(http)),
            workers: Mutex::new(extra_threads),
            tls_connections,
            tls_ca_pem,
            base_url,
        });
        let _ = sandbox.shared.sandbox.set(Arc::downgrade(&sandbox));
        Ok(sandbox)
    }
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl Sandbox {
    /// Start a sandbox on a free port of 127.0.0.1 in public-key mode with fresh keys.
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn start() -> Result<Arc<Self>> {
        Self::launch(SandboxOptions::default())
    }

    /// Start a sandbox with options (port, key mode, supplied keys).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn start_with(options: SandboxOptions) -> Result<Arc<Self>> {
        Self::launch(options)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// A client configuration wired to this sandbox's keys and URL (quick retries).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        let k = &self.shared.keys;
        let mut b = ClientConfig::builder(
            k.mchid.clone(),
            k.merchant_serial.clone(),
            k.merchant_key_pem.as_str(),
            k.api_v3_key.clone(),
        )
        .base_url(self.base_url.clone())
        .options(crate::config::ClientOptions {
            initial_backoff_ms: 20,
            max_backoff_ms: 200,
            trust_roots_pem: self.tls_ca_pem.iter().cloned().collect(),
            platform_trust_anchors_pem: k.platform_anchors.clone(),
            ..Default::default()
        });
        let live = k.live();
        for w in &live.public_keys {
            b = b.wechatpay_public_key(w.id.clone(), w.public_pem.clone());
        }
        for p in &live.platforms {
            b = b.platform_certificate(p.cert_pem.clone());
        }
        drop(live);
        Ok(Arc::new(b.build()?))
    }

    /// Issue a new platform certificate (a new serial) and sign every response and
    /// notification with it from now on; `/v3/certificates` lists it beside the older ones
    /// until they are expired. Returns the new serial. Certificate and migration modes only.
    pub fn rotate_platform_certificate(&self) -> Result<String> {
        if self.shared.keys.mode == SandboxKeyMode::PublicKey {
            return Err(RefundError::invalid(
                "mode",
                "a public-key-mode sandbox has no platform certificate",
            ));
        }
        let ca = self.shared.keys.platform_ca.as_ref().ok_or_else(|| {
            RefundError::invalid(
                "mode",
                "a public-key-mode sandbox has no platform certificate",
            )
        })?;
        let p = new_platform(ca)?;
        let serial = p.serial.clone();
        self.shared.keys.live_mut().platforms.push(p);
        Ok(serial)
    }

    /// Expire a platform certificate: it is no longer listed by `/v3/certificates` nor used to
    /// sign. The newest one cannot be expired (rotate first).
    pub fn expire_platform_certificate(&self, serial_no: String) -> Result<()> {
        let mut live = self.shared.keys.live_mut();
        let want = crypto::der::normalize_hex(&serial_no);
        let Some(i) = live
            .platforms
            .iter()
            .position(|p| crypto::der::normalize_hex(&p.serial) == want)
        else {
            return Err(RefundError::invalid(
                "serial_no",
                "no such platform certificate",
            ));
        };
        if i + 1 == live.platforms.len() {
            return Err(RefundError::invalid(
                "serial_no",
                "the current platform certificate cannot be expired: rotate first",
            ));
        }
        live.platforms.remove(i);
        Ok(())
    }

    /// Issue a new WeChat Pay public key (a new `PUB_KEY_ID_…`) and sign with it from now on.
    /// Returns its id. Public-key and migration modes only.
    pub fn rotate_wechatpay_public_key(&self) -> Result<String> {
        if self.shared.keys.mode == SandboxKeyMode::Certificate {
            return Err(RefundError::invalid(
                "mode",
                "a certificate-mode sandbox has no WeChat Pay public key",
            ));
        }
        let (key, _) = RsaPrivateKey::generate_2048().map_err(RefundError::config)?;
        let w = WxKey {
            id: new_public_key_id(),
            public_pem: key.public_key().map_err(RefundError::config)?.to_pem(),
            key: Arc::new(key),
        };
        let id = w.id.clone();
        self.shared.keys.live_mut().public_keys.push(w);
        Ok(id)
    }

    /// Retire a WeChat Pay public key: no longer used to sign nor accepted in
    /// `Wechatpay-Serial`. The newest one cannot be retired (rotate first).
    pub fn expire_wechatpay_public_key(&self, id: String) -> Result<()> {
        let mut live = self.shared.keys.live_mut();
        let Some(i) = live.public_keys.iter().position(|w| w.id == id.trim()) else {
            return Err(RefundError::invalid("id", "no such WeChat Pay public key"));
        };
        if i + 1 == live.public_keys.len() {
            return Err(RefundError::invalid(
                "id",
                "the current WeChat Pay public key cannot be expired: rotate first",
            ));
        }
        live.public_keys.remove(i);
        Ok(())
    }

    /// Seed a paid order with a chosen `transaction_id` (or a generated one); returns it.
    pub fn create_order_with(
        &self,
        out_trade_no: String,
        total: i64,
        transaction_id: Option<String>,
    ) -> Result<String> {
        self.shared
            .create_order_with(&out_trade_no, total, transaction_id)
    }

    /// Seed a paid order of a sub-merchant (service-provider mode): refunding or querying it
    /// under another `sub_mchid`, or none, is refused as WeChat Pay does. (An order seeded
    /// without one belongs to whoever refunds it first.) Returns its `transaction_id`.
    pub fn create_sub_merchant_order(
        &self,
        out_trade_no: String,
        total: i64,
        sub_mchid: String,
        transaction_id: Option<String>,
    ) -> Result<String> {
        self.shared
            .create_order_owned(&out_trade_no, total, transaction_id, Some(sub_mchid))
    }

    /// Move the sandbox clock `seconds` ahead (negative: back), e.g. a year to see an order
    /// leave the refund window; returns the sandbox time (Unix seconds). It is business time
    /// only (order age, refund spacing, create and success times): signatures keep the real
    /// clock. Reset sets it back.
    pub fn advance_clock(&self, seconds: i64) -> i64 {
        self.shared.advance_clock(seconds)
    }

    /// The sandbox clock (Unix seconds): the real time plus every `advance_clock`.
    pub fn clock(&self) -> i64 {
        self.shared.clock()
    }

    /// Forget every order, refund (v3 and v2), logged request and fault, stop pending
    /// notification retries and set the clock back (as `POST /sandbox/v1/reset`).
    pub fn reset(&self) {
        self.clear_faults();
        self.shared.reset();
    }

    /// [`Self::set_refund_status`] of a sub-merchant's refund (`out_refund_no` is unique per
    /// merchant, so two sub-merchants may both have an `R1`).
    pub fn set_sub_merchant_refund_status(
        &self,
        out_refund_no: String,
        sub_mchid: String,
        status: RefundStatus,
    ) -> Result<()> {
        self.shared
            .set_refund_status_of(&out_refund_no, Some(&sub_mchid), status)
    }

    /// Records of every request received, in order.
    pub fn requests(&self) -> Vec<SandboxRequest> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .requests
            .clone()
    }

    /// The TEST credentials of this sandbox (printable), for pointing any SDK at it.
    pub fn credentials(&self) -> SandboxCredentials {
        let k = &self.shared.keys;
        SandboxCredentials {
            mchid: k.mchid.clone(),
            merchant_serial_no: k.merchant_serial.clone(),
            merchant_private_key_pem: k.merchant_key_pem.to_string(),
            merchant_certificate_pem: k.merchant_cert_pem.clone(),
            api_v3_key: k.api_v3_key.clone(),
            wechatpay_public_key_id: k.live().public_key().map(|w| w.id.clone()),
            wechatpay_public_key_pem: k.live().public_key().map(|w| w.public_pem.clone()),
            platform_certificate_serial_no: k.live().platform().map(|p| p.serial.clone()),
            platform_certificate_pem: k.live().platform().map(|p| p.cert_pem.clone()),
            base_url: self.base_url.clone(),
            tls_ca_pem: self.tls_ca_pem.clone(),
            platform_trust_anchors_pem: k.platform_anchors.clone(),
        }
    }

    /// Seed a paid order; returns its `transaction_id`.
    pub fn create_order(&self, out_trade_no: String, total: i64) -> Result<String> {
        self.shared.create_order(&out_trade_no, total)
    }

    /// Move a refund to `status` (SUCCESS, CLOSED, ABNORMAL, PROCESSING). When the refund has a
    /// `notify_url`, a signed, encrypted notification is POSTed to it (re-signed and retried
    /// until answered 200 or 204). SUCCESS and CLOSED are final: moving a refund out of them
    /// is refused (setting the same final status again re-sends the notification).
    pub fn set_refund_status(&self, out_refund_no: String, status: RefundStatus) -> Result<()> {
        self.shared.set_refund_status(&out_refund_no, status)
    }

    /// The signed notification for a refund's current status, without sending it.
    pub fn notification(&self, out_refund_no: String) -> Result<SandboxNotification> {
        self.shared.notification(&out_refund_no)
    }

    /// Make the next `count` requests fail with `fault`.
    pub fn inject_fault(&self, fault: SandboxFault, count: u32) {
        let mut f = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..count {
            f.push_back(fault.clone());
        }
    }
    /// Corrupt the next `count` bill files served (one byte flipped): their SHA1 no longer
    /// matches the `hash_value` of the trade-bill answer, which a client must refuse.
    pub fn corrupt_next_bills(&self, count: u32) {
        self.shared
            .corrupt_bills
            .fetch_add(count as usize, std::sync::atomic::Ordering::SeqCst);
    }

    /// From now on, fail each request with probability `per_mille`/1000 with one of `faults`
    /// (drawn uniformly). `per_mille` 0 or an empty list turns random faults off.
    pub fn inject_random_faults(&self, per_mille: u32, faults: Vec<SandboxFault>) {
        *self
            .shared
            .random_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner()) =
            (per_mille > 0 && !faults.is_empty()).then_some((per_mille.min(1000), faults));
    }

    /// Drop every fault not yet used and turn random faults off.
    pub fn clear_faults(&self) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self
            .shared
            .random_faults
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// How many refunds an order has (distinct `out_refund_no`).
    pub fn refund_count(&self, out_trade_no: String) -> u32 {
        self.shared.refund_count(&out_trade_no)
    }

    /// The sum of an order's refunds, in fen.
    pub fn refunded_total(&self, out_trade_no: String) -> i64 {
        self.shared.refunded_total(&out_trade_no)
    }

    /// How many faults were injected so far (queued and random).
    pub fn faults_injected(&self) -> u32 {
        self.shared.faults_injected.load(Ordering::SeqCst) as u32
    }

    /// How many HTTP requests the sandbox has received.
    pub fn request_count(&self) -> u32 {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .requests
            .len() as u32
    }

    /// How many notifications were delivered (answered 2xx) to notify URLs.
    pub fn delivered_notification_count(&self) -> u32 {
        self.shared.delivered.load(Ordering::SeqCst) as u32
    }

    /// The bank account and name received (decrypted) by apply-abnormal-refund, if any.
    pub fn abnormal_refund_recipient(&self, out_refund_no: String) -> Option<Vec<String>> {
        self.shared.abnormal_recipient(&out_refund_no)
    }

    /// A legacy v2 configuration wired to this sandbox (starting its v2 HTTPS listener on first
    /// use): app id, merchant id, the sandbox's v2 API key, the API client certificate it issued
    /// (PEM, over the merchant key) and its test CA as trust root; quick retries.
    pub fn v2_config(&self) -> Result<Arc<crate::v2::V2Config>> {
        let (base_url, ca_pem, cert_pem) = self.shared.v2_start()?;
        let k = &self.shared.keys;
        Ok(Arc::new(
            crate::v2::V2Config::builder(
                server::v2::APPID,
                k.mchid.clone(),
                self.shared.v2.api_key.clone(),
            )
            .client_certificate_pem(cert_pem, k.merchant_key_pem.as_str())
            .base_url(base_url)
            .options(crate::config::ClientOptions {
                initial_backoff_ms: 20,
                max_backoff_ms: 200,
                trust_roots_pem: vec![ca_pem],
                allow_http_notify_url: true,
                ..Default::default()
            })
            .build()?,
        ))
    }

    /// The v2 notification body (`<xml>` with the encrypted `req_info`) for a refund's current
    /// status, without sending it. v2 refunds with a `notify_url` also get it POSTed there when
    /// `set_refund_status` moves them.
    pub fn v2_notification(&self, out_refund_no: String) -> Result<Vec<u8>> {
        self.shared.v2_notification(&out_refund_no)
    }

    /// Answer the next `count` v2 requests (after their signature check) with `err_code`
    /// (`SYSTEMERROR`, `NOTENOUGH`, `TRADE_OVERDUE`...): the codes no sandbox rule reaches.
    /// At most 1000 are queued at once.
    pub fn v2_inject_error(&self, err_code: String, count: u32) {
        self.shared.v2_inject_error(&err_code, count)
    }

    /// The v2 TEST credentials (starting the v2 HTTPS listener on first use), for pointing
    /// any v2 SDK at this sandbox.
    pub fn v2_credentials(&self) -> Result<SandboxV2Credentials> {
        let (base_url, ca_pem, client_cert_pem) = self.shared.v2_start()?;
        let k = &self.shared.keys;
        Ok(SandboxV2Credentials {
            base_url,
            appid: server::v2::APPID.to_owned(),
            mch_id: k.mchid.clone(),
            api_key: self.shared.v2.api_key.clone(),
            client_cert_pem,
            client_key_pem: k.merchant_key_pem.to_string(),
            ca_pem,
        })
    }

    /// Stop serving, join every thread and free the port. Idempotent.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The HTTP server joins its accept thread and every connection thread.
        if let Some(mut http) = self.http.lock().unwrap_or_else(|e| e.into_inner()).take() {
            http.stop();
        }
        let workers: Vec<_> =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let _ = w.join();
        }
        let conns: Vec<_> = std::mem::take(
            &mut *self
                .tls_connections
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for c in conns {
            let _ = c.join();
        }
        self.shared.v2.stop();
        let senders: Vec<_> = std::mem::take(
            &mut *self
                .shared
                .senders
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        // The last reference may be dropped on one of these threads (an auto-succeed timer):
        // it is finishing anyway and must not join itself.
        let me = std::thread::current().id();
        for s in senders {
            if s.thread().id() != me {
                let _ = s.join();
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn stopping(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}
