//! `ClientConfig`: merchant credentials, the WeChat Pay key ring, endpoints and policies.
//!
//! Keys are parsed once, when the configuration is built, so a wrong key is reported at
//! once with a `Config` error naming the setting. Secrets are zeroized on drop and never
//! appear in `Debug` / `Display`.

use crate::crypto::der::normalize_hex;
use crate::crypto::{CryptoBackend, RsaPrivateKey};
use crate::error::{RefundError, Result};
use crate::refund::validate::{is_loopback_host, split_url};
use crate::sign::{LocalSigner, Signer};
use crate::trust::Refresher;
use crate::verify::{KeyRing, KeyStore, PlatformCertificate};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Production API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// Backup API host (a different access point), used for failover.
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";

pub use crate::crypto::ApiV3Key;

/// Tunable behaviour of a client. Every field has a sensible default.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ClientOptions {
    /// Backup base URL for failover on network errors and 5xx. `None`: the official backup
    /// host when `base_url` is production, no failover otherwise.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub backup_base_url: Option<String>,
    /// `User-Agent` sent with every request (`None`: `wechatpay-refund/<version>`).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub user_agent: Option<String>,
    /// TCP + TLS connect timeout, milliseconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 5000))]
    pub connect_timeout_ms: u64,
    /// Response timeout per attempt, milliseconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 10000))]
    pub read_timeout_ms: u64,
    /// Attempts per call, the first included (1 disables retries).
    #[cfg_attr(feature = "ffi", uniffi(default = 3))]
    pub max_attempts: u32,
    /// Overall deadline of a call across all attempts, milliseconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 30000))]
    pub deadline_ms: u64,
    /// First retry delay, milliseconds (doubles each retry, with jitter).
    #[cfg_attr(feature = "ffi", uniffi(default = 200))]
    pub initial_backoff_ms: u64,
    /// Largest retry delay, milliseconds.
    #[cfg_attr(feature = "ffi", uniffi(default = 3000))]
    pub max_backoff_ms: u64,
    /// Largest response body accepted, bytes.
    #[cfg_attr(feature = "ffi", uniffi(default = 1048576))]
    pub max_response_bytes: u64,
    /// Allow `http://` notify URLs (only for a private line to WeChat Pay).
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub allow_http_notify_url: bool,
    /// PEM CA certificates to trust instead of the web PKI (a private or test CA).
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub trust_roots_pem: Vec<String>,
    /// Hold requests to WeChat Pay's limits: 150 requests/s and 6 failing requests/s.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub rate_limit: bool,
    /// Remember this many notifications (by id and nonce) so that one delivered again comes
    /// back with `seen_before = true` (0 disables it; the memory is per process).
    #[cfg_attr(feature = "ffi", uniffi(default = 0))]
    pub replay_guard_capacity: u32,
    /// PEM certificates of the authorities downloaded platform certificates must be issued
    /// by; empty: WeChat Pay's own, the Tenpay.com Root CA. The sandbox's credentials carry
    /// its test CA here.
    #[cfg_attr(feature = "ffi", uniffi(default))]
    pub platform_trust_anchors_pem: Vec<String>,
    /// A forward proxy to reach WeChat Pay through (a corporate network): `http://host:port`,
    /// `https://…` or `socks5://…`, with `user:password@` when it needs them (redacted in
    /// Debug and errors). `None`: the standard environment variables (`HTTPS_PROXY`,
    /// `ALL_PROXY`, `HTTP_PROXY`, `NO_PROXY`), as curl reads them. v3, v2 and the
    /// certificate downloads all go through it.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub proxy: Option<String>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("backup_base_url", &self.backup_base_url)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("read_timeout_ms", &self.read_timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("deadline_ms", &self.deadline_ms)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("allow_http_notify_url", &self.allow_http_notify_url)
            .field("trust_roots_pem", &self.trust_roots_pem.len())
            .field("rate_limit", &self.rate_limit)
            .field("replay_guard_capacity", &self.replay_guard_capacity)
            .field(
                "platform_trust_anchors_pem",
                &self.platform_trust_anchors_pem.len(),
            )
            .field(
                "proxy",
                &self.proxy.as_deref().map(crate::transport::redact_proxy),
            )
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            backup_base_url: None,
            user_agent: None,
            connect_timeout_ms: 5000,
            read_timeout_ms: 10000,
            max_attempts: 3,
            deadline_ms: 30000,
            initial_backoff_ms: 200,
            max_backoff_ms: 3000,
            max_response_bytes: 1024 * 1024,
            allow_http_notify_url: false,
            trust_roots_pem: Vec::new(),
            rate_limit: false,
            replay_guard_capacity: 0,
            platform_trust_anchors_pem: Vec::new(),
            proxy: None,
        }
    }
}

/// A complete, validated client configuration.
///
/// Built from the merchant's credentials (`mchid`, the merchant API certificate serial, the
/// merchant private key or a [`Signer`], the API v3 key) and the WeChat Pay keys to verify
/// with: a WeChat Pay public key (`PUB_KEY_ID_…`), platform certificates, or both.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct ClientConfig {
    pub(crate) mchid: String,
    pub(crate) merchant_serial_no: String,
    pub(crate) signer: Arc<dyn Signer>,
    /// `None` only for a signer-backed configuration made without one (a device whose
    /// requests are signed on a server): decrypting then fails with a `Config` error.
    pub(crate) api_v3_key: Option<ApiV3Key>,
    pub(crate) keys: KeyStore,
    /// Certificate mode with automatic download of `/v3/certificates` (issue 11).
    pub(crate) download_certificates: bool,
    pub(crate) refresher: Refresher,
    /// What downloaded platform certificates must be issued by.
    pub(crate) trust_anchors: crate::trust::TrustAnchors,
    /// Service-provider mode: `mchid` is the `sp_mchid`; every call names a `sub_mchid`.
    pub(crate) service_provider: bool,
    pub(crate) base_url: String,
    pub(crate) backup_base_url: Option<String>,
    pub(crate) user_agent: String,
    pub(crate) options: ClientOptions,
    pub(crate) backend: CryptoBackend,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("mchid", &self.mchid)
            .field("merchant_serial_no", &self.merchant_serial_no)
            .field("merchant_private_key", &"<redacted>")
            .field("api_v3_key", &"<redacted>")
            .field("wechatpay_keys", &self.wechatpay_key_ids())
            .field(
                "download_platform_certificates",
                &self.download_certificates,
            )
            .field("service_provider", &self.service_provider)
            .field("base_url", &self.base_url)
            .field("backup_base_url", &self.backup_base_url)
            .field("crypto_backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientConfig(mchid={}, merchant_serial_no={}, wechatpay_keys={}, base_url={})",
            self.mchid,
            self.merchant_serial_no,
            self.wechatpay_key_ids().join("|"),
            self.base_url
        )
    }
}

enum SignerSource {
    Pem(Zeroizing<String>),
    Signer(Arc<dyn Signer>),
}

/// Builds a [`ClientConfig`] (Rust API; the bindings use the `ClientConfig` constructors).
pub struct ClientConfigBuilder {
    mchid: String,
    merchant_serial_no: String,
    signer: SignerSource,
    merchant_certificate: Option<String>,
    api_v3_key: Option<Zeroizing<String>>,
    public_keys: Vec<(String, String)>,
    certificates: Vec<String>,
    download_certificates: bool,
    service_provider: bool,
    base_url: Option<String>,
    options: ClientOptions,
    backend: CryptoBackend,
}

impl fmt::Debug for ClientConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("mchid", &self.mchid)
            .finish_non_exhaustive()
    }
}

impl ClientConfigBuilder {
    /// The merchant API certificate (`apiclient_cert.pem`): the merchant serial is read from
    /// it (give `merchant_serial_no` as `""`, or it must match), and the private key must be
    /// its pair — the commonest configuration mistakes then fail at build time instead of as
    /// `401 SIGN_ERROR` at the first call.
    pub fn merchant_certificate(mut self, pem: impl Into<String>) -> Self {
        self.merchant_certificate = Some(pem.into());
        self
    }

    /// Trust a WeChat Pay public key (`PUB_KEY_ID_…`, PEM `BEGIN PUBLIC KEY`). Requests then
    /// carry `Wechatpay-Serial: <id>` and sensitive fields are encrypted with this key.
    pub fn wechatpay_public_key(mut self, id: impl Into<String>, pem: impl Into<String>) -> Self {
        self.public_keys.push((id.into(), pem.into()));
        self
    }

    /// Trust a platform certificate (X.509 PEM), looked up by its serial; it verifies only
    /// within its validity.
    pub fn platform_certificate(mut self, pem: impl Into<String>) -> Self {
        self.certificates.push(pem.into());
        self
    }

    /// Certificate mode without configured certificates: download `/v3/certificates` on first
    /// need, again when a response or notification names an unknown serial (single-flight,
    /// rate-limited), and in the background when the newest is old or about to expire.
    pub fn download_platform_certificates(mut self, on: bool) -> Self {
        self.download_certificates = on;
        self
    }

    /// Service-provider mode: `mchid` is the service provider's `sp_mchid`, every call must
    /// name the `sub_mchid` it acts for (checked before sending), and notifications must carry
    /// `sp_mchid` = `mchid` and a `sub_mchid`.
    pub fn service_provider(mut self, on: bool) -> Self {
        self.service_provider = on;
        self
    }

    /// API base URL, `scheme://host[:port]` (default: production). Plain `http://` is
    /// accepted only for loopback hosts (a local sandbox).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Timeouts, retries, limits.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Which crypto backend parses the keys and does the cryptography.
    pub fn crypto_backend(mut self, backend: CryptoBackend) -> Self {
        self.backend = backend;
        self
    }

    /// Validate everything and parse the keys.
    pub fn build(self) -> Result<ClientConfig> {
        crate::refund::validate::mchid("mchid", &self.mchid).map_err(|_| {
            RefundError::config(format!(
                "mchid must be 1 to 32 digits, got {:?}",
                self.mchid
            ))
        })?;
        let merchant_certificate = match &self.merchant_certificate {
            Some(pem) => Some(
                crate::crypto::Certificate::from_pem_with(self.backend, pem).map_err(|e| {
                    RefundError::config(format!(
                        "merchant_certificate_pem (apiclient_cert.pem): {e}"
                    ))
                })?,
            ),
            None => None,
        };
        let given = self.merchant_serial_no.trim();
        let serial = match &merchant_certificate {
            Some(c) if given.is_empty() => c.serial_hex.clone(),
            Some(c) if normalize_hex(given) != normalize_hex(&c.serial_hex) => {
                return Err(RefundError::config(format!(
                    "merchant_serial_no {given} is not the serial of merchant_certificate_pem ({}); \
                     give \"\" to read it from the certificate",
                    c.serial_hex
                )))
            }
            _ => given.to_string(),
        };
        if serial.is_empty() || serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(RefundError::config(format!(
                "merchant_serial_no must be the hex serial of the merchant API certificate \
                 (openssl x509 -noout -serial -in apiclient_cert.pem), got {:?}",
                self.merchant_serial_no
            )));
        }
        let api_v3_key = match &self.api_v3_key {
            Some(k) => Some(ApiV3Key::new(k)?),
            None if self.download_certificates => {
                return Err(RefundError::config(
                    "download_platform_certificates needs the api_v3_key (the download is \
                     encrypted with it)",
                ))
            }
            None => None,
        };
        let signer: Arc<dyn Signer> = match self.signer {
            SignerSource::Pem(pem) => {
                let key = RsaPrivateKey::from_pem_with(self.backend, &pem)
                    .map_err(|e| RefundError::config(format!("merchant_private_key_pem: {e}")))?;
                if let Some(c) = &merchant_certificate {
                    let own = key.public_key().map_err(RefundError::config)?;
                    if own.to_pem() != c.public_key.to_pem() {
                        return Err(RefundError::config(
                            "merchant_private_key_pem (apiclient_key.pem) is not the key of \
                             merchant_certificate_pem (apiclient_cert.pem): WeChat Pay would \
                             refuse every request with 401 SIGN_ERROR",
                        ));
                    }
                }
                Arc::new(LocalSigner::new(key))
            }
            SignerSource::Signer(s) => s,
        };
        let mut keys = KeyRing::new();
        for (id, pem) in &self.public_keys {
            keys.add_public_key(id, pem, self.backend)?;
        }
        // Configured platform certificates must chain to the trust anchors too: a certificate
        // pasted from the wrong place fails here, not at the first answer.
        let trust_anchors = crate::trust::TrustAnchors::from_pems(
            &self.options.platform_trust_anchors_pem,
            self.backend,
        )?;
        for pem in &self.certificates {
            keys.add_parsed_certificate(trust_anchors.checked(self.backend, pem)?, false);
        }
        if keys.is_empty() && !self.download_certificates {
            return Err(RefundError::config(
                "no WeChat Pay key to verify responses with: give a WeChat Pay public key \
                 (public-key mode: wechatpay_public_key_id + wechatpay_public_key_pem, or \
                 wechatpay_public_keys), platform certificates, or turn on \
                 download_platform_certificates (certificate mode)",
            ));
        }
        let base_url = check_base_url(
            "base_url",
            self.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL),
        )?;
        let backup_base_url = match &self.options.backup_base_url {
            Some(u) => Some(check_base_url("backup_base_url", u)?),
            None if base_url == PRODUCTION_BASE_URL => Some(BACKUP_BASE_URL.to_string()),
            None => None,
        };
        let o = &self.options;
        #[cfg(feature = "ureq-transport")]
        if let Some(p) = &o.proxy {
            crate::transport::check_proxy("options.proxy", p)?;
        }
        if o.max_attempts == 0 {
            return Err(RefundError::config("max_attempts must be at least 1"));
        }
        if o.connect_timeout_ms == 0 || o.read_timeout_ms == 0 || o.deadline_ms == 0 {
            return Err(RefundError::config(
                "timeouts and the deadline must be positive",
            ));
        }
        let user_agent = check_user_agent(&o.user_agent)?.unwrap_or_else(default_user_agent);
        Ok(ClientConfig {
            mchid: self.mchid,
            merchant_serial_no: serial.to_ascii_uppercase(),
            signer,
            api_v3_key,
            keys: KeyStore::new(keys),
            download_certificates: self.download_certificates,
            refresher: Refresher::default(),
            trust_anchors,
            service_provider: self.service_provider,
            base_url,
            backup_base_url,
            user_agent,
            options: self.options,
            backend: self.backend,
        })
    }
}

/// A configured `User-Agent`: a non-empty single line without control characters.
pub(crate) fn check_user_agent(ua: &Option<String>) -> Result<Option<String>> {
    match ua {
        Some(ua) if ua.trim().is_empty() || ua.chars().any(|c| c.is_control() && c != '\t') => {
            Err(RefundError::config(
                "user_agent must be a non-empty single line without control characters",
            ))
        }
        other => Ok(other.clone()),
    }
}

fn default_user_agent() -> String {
    format!(
        "wechatpay-refund/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// `scheme://host[:port]`, https, or http on loopback only; no path.
pub(crate) fn check_base_url(field: &str, url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RefundError::config(format!(
            "{field} must not contain blanks or control characters, got {url:?}"
        )));
    }
    let (scheme, host, path) = split_url(url).ok_or_else(|| {
        RefundError::config(format!(
            "{field} must look like https://host[:port], got {url:?}"
        ))
    })?;
    if !path.is_empty() {
        return Err(RefundError::config(format!(
            "{field} must be scheme://host[:port] without a path (signatures cover the path), got {url:?}"
        )));
    }
    match scheme {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(RefundError::config(format!(
                "{field}: plain http is refused except for loopback hosts (a local sandbox), got {url:?}"
            )))
        }
        _ => return Err(RefundError::config(format!("{field} must use https, got {url:?}"))),
    }
    Ok(url.to_string())
}

impl ClientConfig {
    /// Start a configuration from the merchant private key PEM (PKCS#8 or PKCS#1).
    pub fn builder(
        mchid: impl Into<String>,
        merchant_serial_no: impl Into<String>,
        merchant_private_key_pem: impl Into<String>,
        api_v3_key: impl Into<String>,
    ) -> ClientConfigBuilder {
        Self::builder_from(
            mchid.into(),
            merchant_serial_no.into(),
            SignerSource::Pem(Zeroizing::new(merchant_private_key_pem.into())),
            Some(Zeroizing::new(api_v3_key.into())),
        )
    }

    /// Start a configuration whose requests are signed by `signer` (HSM, KMS, Keystore):
    /// the private key never enters the library.
    pub fn builder_with_signer(
        mchid: impl Into<String>,
        merchant_serial_no: impl Into<String>,
        signer: Arc<dyn Signer>,
        api_v3_key: impl Into<String>,
    ) -> ClientConfigBuilder {
        Self::builder_from(
            mchid.into(),
            merchant_serial_no.into(),
            SignerSource::Signer(signer),
            Some(Zeroizing::new(api_v3_key.into())),
        )
    }

    /// [`Self::builder_with_signer`] without an API v3 key: a device whose requests are signed
    /// on a server holds none. Requests, responses and abnormal-refund encryption work;
    /// notifications and certificate downloads, which need the key, fail with a `Config` error
    /// saying so.
    pub fn builder_with_signer_only(
        mchid: impl Into<String>,
        merchant_serial_no: impl Into<String>,
        signer: Arc<dyn Signer>,
    ) -> ClientConfigBuilder {
        Self::builder_from(
            mchid.into(),
            merchant_serial_no.into(),
            SignerSource::Signer(signer),
            None,
        )
    }

    /// The API v3 key, or the `Config` error of a configuration made without one.
    pub(crate) fn api_v3_key(&self) -> Result<&ApiV3Key> {
        self.api_v3_key.as_ref().ok_or_else(|| {
            RefundError::config(
                "no API v3 key was given (ClientConfig.with_signer without api_v3_key): \
                 notifications and certificate downloads are decrypted with it; handle them \
                 on the server that holds the key",
            )
        })
    }

    fn builder_from(
        mchid: String,
        serial: String,
        signer: SignerSource,
        api_v3_key: Option<Zeroizing<String>>,
    ) -> ClientConfigBuilder {
        ClientConfigBuilder {
            mchid,
            merchant_serial_no: serial,
            signer,
            merchant_certificate: None,
            api_v3_key,
            public_keys: Vec::new(),
            certificates: Vec::new(),
            download_certificates: false,
            service_provider: false,
            base_url: None,
            options: ClientOptions::default(),
            backend: CryptoBackend::default(),
        }
    }

    /// The merchant id (the `sp_mchid` in service-provider mode).
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The API base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The crypto backend in use.
    pub fn crypto_backend(&self) -> CryptoBackend {
        self.backend
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The WeChat Pay keys, shared by every client of this configuration.
    pub fn key_store(&self) -> &KeyStore {
        &self.keys
    }

    /// Whether platform certificates are downloaded automatically.
    pub fn downloads_platform_certificates(&self) -> bool {
        self.download_certificates
    }

    /// Whether this is a service provider's configuration.
    pub fn is_service_provider(&self) -> bool {
        self.service_provider
    }

    pub(crate) fn deadline(&self) -> Duration {
        Duration::from_millis(self.options.deadline_ms)
    }
}

/// A WeChat Pay public key: its id (`PUB_KEY_ID_…`) and PEM (`BEGIN PUBLIC KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct WechatpayPublicKey {
    /// `PUB_KEY_ID_…`, as shown in the merchant platform.
    pub id: String,
    /// The public key, PEM `BEGIN PUBLIC KEY`.
    pub pem: String,
}

/// What the language constructors take besides the merchant key: the WeChat Pay key material
/// and the policies. The one path every constructor goes through ([`ClientConfig::assemble`]).
struct Parts {
    wechatpay_public_key_id: Option<String>,
    wechatpay_public_key_pem: Option<String>,
    wechatpay_public_keys: Vec<WechatpayPublicKey>,
    platform_certificates_pem: Vec<String>,
    download_platform_certificates: bool,
    service_provider: bool,
    base_url: Option<String>,
    options: Option<ClientOptions>,
    merchant_certificate_pem: Option<String>,
}

impl ClientConfig {
    fn assemble(mut b: ClientConfigBuilder, p: Parts) -> Result<Arc<Self>> {
        if let Some(pem) = p.merchant_certificate_pem {
            b = b.merchant_certificate(pem);
        }
        match (p.wechatpay_public_key_id, p.wechatpay_public_key_pem) {
            (Some(id), Some(pem)) => b = b.wechatpay_public_key(id, pem),
            (None, None) => {}
            _ => {
                return Err(RefundError::config(
                    "give wechatpay_public_key_id and wechatpay_public_key_pem together",
                ))
            }
        }
        for k in p.wechatpay_public_keys {
            b = b.wechatpay_public_key(k.id, k.pem);
        }
        for pem in p.platform_certificates_pem {
            b = b.platform_certificate(pem);
        }
        if let Some(u) = p.base_url {
            b = b.base_url(u);
        }
        if let Some(o) = p.options {
            b = b.options(o);
        }
        b = b
            .download_platform_certificates(p.download_platform_certificates)
            .service_provider(p.service_provider);
        Ok(Arc::new(b.build()?))
    }
}

ffi_export! {
impl ClientConfig {
    /// A configuration from the merchant's credentials and the WeChat Pay key(s).
    ///
    /// - `mchid`: merchant id (the `sp_mchid` with `service_provider`); `merchant_serial_no`:
    ///   serial of the merchant API certificate;
    /// - `merchant_private_key_pem`: `apiclient_key.pem` (PKCS#8 or PKCS#1);
    /// - `api_v3_key`: the 32-byte API v3 key;
    /// - `wechatpay_public_key_id` + `wechatpay_public_key_pem`, and/or `wechatpay_public_keys`:
    ///   public-key mode (several keys during a rotation; the last one is used to encrypt);
    /// - `platform_certificates_pem`: certificate mode (both modes may be given together);
    /// - `download_platform_certificates`: certificate mode without configured certificates:
    ///   they are downloaded on first need and refreshed on an unknown serial;
    /// - `service_provider`: every call must name a `sub_mchid`;
    /// - `base_url`: `None` for production; `http://127.0.0.1:port` for a local sandbox;
    /// - `options`: timeouts, retries and limits (`None`: the defaults);
    /// - `merchant_certificate_pem`: `apiclient_cert.pem`; the serial is read from it (give
    ///   `merchant_serial_no` as `""`, or it must match) and the private key must be its pair.
    ///
    /// Raises `RefundError.Config` naming the setting that is wrong.
    #[ffi(constructor(default(
        wechatpay_public_key_id = None,
        wechatpay_public_key_pem = None,
        wechatpay_public_keys = [],
        platform_certificates_pem = [],
        download_platform_certificates = false,
        service_provider = false,
        base_url = None,
        options = None,
        merchant_certificate_pem = None
    )))]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mchid: String,
        merchant_serial_no: String,
        merchant_private_key_pem: String,
        api_v3_key: String,
        wechatpay_public_key_id: Option<String>,
        wechatpay_public_key_pem: Option<String>,
        wechatpay_public_keys: Vec<WechatpayPublicKey>,
        platform_certificates_pem: Vec<String>,
        download_platform_certificates: bool,
        service_provider: bool,
        base_url: Option<String>,
        options: Option<ClientOptions>,
        merchant_certificate_pem: Option<String>,
    ) -> Result<Arc<Self>> {
        Self::assemble(
            Self::builder_from(
                mchid,
                merchant_serial_no,
                SignerSource::Pem(Zeroizing::new(merchant_private_key_pem)),
                Some(Zeroizing::new(api_v3_key)),
            ),
            Parts {
                wechatpay_public_key_id,
                wechatpay_public_key_pem,
                wechatpay_public_keys,
                platform_certificates_pem,
                download_platform_certificates,
                service_provider,
                base_url,
                options,
                merchant_certificate_pem,
            },
        )
    }

    /// Like the main constructor, but requests are signed by `signer` (Android Keystore, a
    /// KMS, an HSM): the merchant private key never enters the library. `api_v3_key` may be
    /// left out where requests are signed on a server (a device): notifications and
    /// certificate downloads, which need it, then fail with a `Config` error saying so.
    #[ffi(constructor(default(
        api_v3_key = None,
        wechatpay_public_key_id = None,
        wechatpay_public_key_pem = None,
        wechatpay_public_keys = [],
        platform_certificates_pem = [],
        download_platform_certificates = false,
        service_provider = false,
        base_url = None,
        options = None,
        merchant_certificate_pem = None
    )))]
    #[allow(clippy::too_many_arguments)]
    pub fn with_signer(
        mchid: String,
        merchant_serial_no: String,
        signer: Arc<dyn Signer>,
        api_v3_key: Option<String>,
        wechatpay_public_key_id: Option<String>,
        wechatpay_public_key_pem: Option<String>,
        wechatpay_public_keys: Vec<WechatpayPublicKey>,
        platform_certificates_pem: Vec<String>,
        download_platform_certificates: bool,
        service_provider: bool,
        base_url: Option<String>,
        options: Option<ClientOptions>,
        merchant_certificate_pem: Option<String>,
    ) -> Result<Arc<Self>> {
        Self::assemble(
            Self::builder_from(
                mchid,
                merchant_serial_no,
                SignerSource::Signer(signer),
                api_v3_key.map(Zeroizing::new),
            ),
            Parts {
                wechatpay_public_key_id,
                wechatpay_public_key_pem,
                wechatpay_public_keys,
                platform_certificates_pem,
                download_platform_certificates,
                service_provider,
                base_url,
                options,
                merchant_certificate_pem,
            },
        )
    }
}
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl ClientConfig {
    /// The ids of the WeChat Pay keys this configuration trusts (public key ids and
    /// certificate serials).
    pub fn wechatpay_key_ids(&self) -> Vec<String> {
        self.keys
            .ring()
            .ids()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The platform certificates held now (configured or downloaded), with their validity.
    pub fn platform_certificates(&self) -> Vec<PlatformCertificate> {
        self.keys.ring().certificates()
    }

    /// Add or replace a platform certificate at run time (every client of this configuration
    /// uses it at once). Returns its serial.
    pub fn add_platform_certificate(&self, pem: String) -> Result<String> {
        let cert = self.trust_anchors.checked(self.backend, &pem)?;
        Ok(self.keys.update(|r| r.add_parsed_certificate(cert, false)))
    }

    /// Add or replace a WeChat Pay public key at run time (a public-key rotation, or the
    /// certificate → public key migration). The newest one encrypts and is named in
    /// `Wechatpay-Serial`.
    pub fn add_wechatpay_public_key(&self, id: String, pem: String) -> Result<()> {
        self.keys
            .update(|r| r.add_public_key(&id, &pem, self.backend))
    }

    /// Stop trusting a WeChat Pay public key or platform certificate (by id or serial), e.g.
    /// at the end of a rotation. Refuses to remove the last key of a configuration that does
    /// not download certificates.
    pub fn remove_wechatpay_key(&self, id: String) -> Result<()> {
        self.keys.update(|r| {
            let mut next = r.clone();
            if !next.remove(&id) {
                return Err(RefundError::config(format!(
                    "no WeChat Pay key {id:?} in this configuration"
                )));
            }
            if next.is_empty() && !self.download_certificates {
                return Err(RefundError::config(format!(
                    "removing {id:?} would leave no WeChat Pay key to verify with"
                )));
            }
            *r = next;
            Ok(())
        })
    }
}
