//! The v2 configuration: ids, the v2 API key, the API client certificate, the sign type and
//! the HTTP options — below the client, the request builder, the answer parser and the
//! notification parser, which all read it.

use super::sign::V2SignType;
use crate::config::{ClientOptions, BACKUP_BASE_URL, PRODUCTION_BASE_URL};
use crate::crypto::CryptoBackend;
use crate::error::{RefundError, Result};
use crate::transport::ClientIdentity;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Everything a v2 client needs: ids, the v2 API key, the API client certificate (mutual TLS
/// on `/secapi/pay/refund`), the signature algorithm and the HTTP options.
///
/// The API key and the certificate's private key are redacted from `Debug` / `Display`.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
#[cfg_attr(feature = "ffi", uniffi::export(Debug, Display))]
pub struct V2Config {
    /// Official account / app id (`appid`).
    pub appid: String,
    /// Merchant id (`mch_id`).
    pub mch_id: String,
    api_key: Zeroizing<String>,
    /// Sub app id (service providers).
    pub sub_appid: Option<String>,
    /// Sub-merchant id (service providers).
    pub sub_mch_id: Option<String>,
    /// MD5 (default) or HMAC-SHA256.
    pub sign_type: V2SignType,
    /// `https://api.mch.weixin.qq.com` unless changed (plain `http://` only for loopback).
    pub base_url: String,
    /// Failover host for network errors and 5xx (`options.backup_base_url`; by default
    /// `https://api2.mch.weixin.qq.com` when `base_url` is production, none otherwise).
    pub backup_base_url: Option<String>,
    /// The `User-Agent` sent (`options.user_agent`, or this library's).
    pub user_agent: String,
    /// The merchant's API client certificate and key, for mutual TLS.
    pub identity: Option<Arc<ClientIdentity>>,
    /// Timeouts, retries, trust roots (the same options as the v3 client).
    pub options: ClientOptions,
    /// Crypto backend for HMAC-SHA256 and AES.
    pub backend: CryptoBackend,
}

impl fmt::Debug for V2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V2Config")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .field("api_key", &"<redacted>")
            .field("sub_appid", &self.sub_appid)
            .field("sub_mch_id", &self.sub_mch_id)
            .field("sign_type", &self.sign_type)
            .field("base_url", &self.base_url)
            .field("backup_base_url", &self.backup_base_url)
            .field("client_certificate", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for V2Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "V2Config(mch_id={}, appid={}, sign_type={}, base_url={}, client certificate: {})",
            self.mch_id,
            self.appid,
            self.sign_type.as_str(),
            self.base_url,
            if self.identity.is_some() { "yes" } else { "no" }
        )
    }
}

/// A PKCS#12 file and its password (`None`: the merchant id).
type Pkcs12Input = (Zeroizing<Vec<u8>>, Option<Zeroizing<String>>);

/// Builds a [`V2Config`]: `V2Config::builder(appid, mch_id, api_key).client_certificate_pem(..).build()`.
pub struct V2ConfigBuilder {
    appid: String,
    mch_id: String,
    api_key: Zeroizing<String>,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
    sign_type: V2SignType,
    base_url: Option<String>,
    cert_pem: Option<(String, Zeroizing<String>)>,
    pkcs12: Option<Pkcs12Input>,
    options: ClientOptions,
    backend: CryptoBackend,
}

impl V2Config {
    /// Start a configuration with the app id, merchant id and the 32-character v2 API key.
    pub fn builder(
        appid: impl Into<String>,
        mch_id: impl Into<String>,
        api_key: impl Into<String>,
    ) -> V2ConfigBuilder {
        V2ConfigBuilder {
            appid: appid.into(),
            mch_id: mch_id.into(),
            api_key: Zeroizing::new(api_key.into()),
            sub_appid: None,
            sub_mch_id: None,
            sign_type: V2SignType::Md5,
            base_url: None,
            cert_pem: None,
            pkcs12: None,
            options: ClientOptions::default(),
            backend: CryptoBackend::default(),
        }
    }

    pub(crate) fn api_key(&self) -> &str {
        &self.api_key
    }

    pub(crate) fn deadline(&self) -> Duration {
        Duration::from_millis(self.options.deadline_ms)
    }
}

impl V2ConfigBuilder {
    /// The API client certificate (`apiclient_cert.pem`, chain allowed) and its private key
    /// (`apiclient_key.pem`).
    pub fn client_certificate_pem(
        mut self,
        cert_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.cert_pem = Some((cert_pem.into(), Zeroizing::new(key_pem.into())));
        self
    }

    /// The API client certificate as `apiclient_cert.p12`; the password defaults to the
    /// merchant id.
    pub fn client_certificate_pkcs12(mut self, der: Vec<u8>, password: Option<String>) -> Self {
        self.pkcs12 = Some((Zeroizing::new(der), password.map(Zeroizing::new)));
        self
    }

    /// MD5 (default) or HMAC-SHA256.
    pub fn sign_type(mut self, t: V2SignType) -> Self {
        self.sign_type = t;
        self
    }

    /// Another base URL (a sandbox, a proxy).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Service-provider mode: the sub-merchant (and its app id, if any).
    pub fn sub_merchant(
        mut self,
        sub_mch_id: impl Into<String>,
        sub_appid: Option<String>,
    ) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self.sub_appid = sub_appid;
        self
    }

    /// Timeouts, retries and trust roots.
    pub fn options(mut self, o: ClientOptions) -> Self {
        self.options = o;
        self
    }

    /// The crypto backend.
    pub fn crypto_backend(mut self, b: CryptoBackend) -> Self {
        self.backend = b;
        self
    }

    /// Check everything and build. A bad id, API key, certificate, key or password fails here,
    /// naming the setting.
    pub fn build(self) -> Result<V2Config> {
        if !CryptoBackend::available().contains(&self.backend) {
            return Err(RefundError::config(format!(
                "crypto backend {:?} is not compiled into this build",
                self.backend
            )));
        }
        #[cfg(feature = "ureq-transport")]
        if let Some(p) = &self.options.proxy {
            crate::transport::check_proxy("options.proxy", p)?;
        }
        super::validate::appid("appid", &self.appid).map_err(as_config)?;
        crate::refund::validate::mchid("mch_id", &self.mch_id).map_err(as_config)?;
        if let Some(s) = &self.sub_appid {
            super::validate::appid("sub_appid", s).map_err(as_config)?;
        }
        if let Some(s) = &self.sub_mch_id {
            crate::refund::validate::mchid("sub_mch_id", s).map_err(as_config)?;
        }
        if self.api_key.len() != 32 || !self.api_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(RefundError::config(format!(
                "api_key: the v2 API key is 32 ASCII letters or digits (got {} characters); it is not the API v3 key",
                self.api_key.chars().count()
            )));
        }
        // Mutual TLS protects the refund call: plain http (no client certificate, no server
        // authentication) only for a loopback test server, as for v3.
        let base_url = crate::config::check_base_url(
            "base_url",
            self.base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL),
        )?;
        let o = &self.options;
        let backup_base_url = match &o.backup_base_url {
            Some(u) => Some(crate::config::check_base_url("backup_base_url", u)?),
            None if base_url == PRODUCTION_BASE_URL => Some(BACKUP_BASE_URL.to_owned()),
            None => None,
        };
        if o.max_attempts == 0 {
            return Err(RefundError::config("max_attempts must be at least 1"));
        }
        if o.connect_timeout_ms == 0 || o.read_timeout_ms == 0 || o.deadline_ms == 0 {
            return Err(RefundError::config(
                "timeouts and the deadline must be positive",
            ));
        }
        if o.replay_guard_capacity > 0 {
            return Err(RefundError::config(
                "replay_guard_capacity: a v2 notification has no signed nonce or timestamp to \
                 guard (WeChat Pay's own re-deliveries are byte-identical): deduplicate on \
                 V2RefundNotification::notification_key after handling, and act only after \
                 refund_query; set replay_guard_capacity to 0 for v2",
            ));
        }
        let user_agent = crate::config::check_user_agent(&o.user_agent)?
            .unwrap_or_else(|| super::USER_AGENT.to_owned());
        let identity = match (self.cert_pem, self.pkcs12) {
            (Some(_), Some(_)) => {
                return Err(RefundError::config(
                    "client certificate: give the PEM pair or the PKCS#12 file, not both",
                ))
            }
            (Some((cert, key)), None) => Some(Arc::new(ClientIdentity::from_pem(&cert, &key)?)),
            (None, Some((der, pw))) => {
                let pw = pw.unwrap_or_else(|| Zeroizing::new(self.mch_id.clone()));
                Some(Arc::new(ClientIdentity::from_pkcs12(&der, &pw)?))
            }
            (None, None) => None,
        };
        Ok(V2Config {
            appid: self.appid,
            mch_id: self.mch_id,
            api_key: self.api_key,
            sub_appid: self.sub_appid,
            sub_mch_id: self.sub_mch_id,
            sign_type: self.sign_type,
            base_url,
            backup_base_url,
            user_agent,
            identity,
            options: self.options,
            backend: self.backend,
        })
    }
}

fn as_config(e: RefundError) -> RefundError {
    match e {
        RefundError::InvalidInput { field, reason } => {
            RefundError::config(format!("{field}: {reason}"))
        }
        e => e,
    }
}

impl V2Config {
    /// A v2 configuration. `api_key` is the 32-character v2 API key (not the API v3 key).
    /// The client certificate is the PEM pair (`client_cert_pem` + `client_key_pem`) or the
    /// PKCS#12 file (`pkcs12`, password defaulting to `mch_id`); it is needed by `refund` only.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        appid: String,
        mch_id: String,
        api_key: String,
        client_cert_pem: Option<String>,
        client_key_pem: Option<String>,
        pkcs12: Option<Vec<u8>>,
        pkcs12_password: Option<String>,
        base_url: Option<String>,
        sign_type: Option<V2SignType>,
        sub_appid: Option<String>,
        sub_mch_id: Option<String>,
        options: Option<ClientOptions>,
    ) -> Result<Arc<Self>> {
        let mut b = V2Config::builder(appid, mch_id, api_key)
            .sign_type(sign_type.unwrap_or_default())
            .options(options.unwrap_or_default());
        match (client_cert_pem, client_key_pem) {
            (Some(c), Some(k)) => b = b.client_certificate_pem(c, k),
            (None, None) => {}
            _ => {
                return Err(RefundError::config(
                    "client certificate: give both client_cert_pem and client_key_pem",
                ))
            }
        }
        if let Some(p) = pkcs12 {
            b = b.client_certificate_pkcs12(p, pkcs12_password);
        }
        if let Some(u) = base_url {
            b = b.base_url(u);
        }
        if let Some(s) = sub_mch_id {
            b = b.sub_merchant(s, sub_appid);
        } else if sub_appid.is_some() {
            return Err(RefundError::config("sub_appid: needs sub_mch_id"));
        }
        Ok(Arc::new(b.build()?))
    }
}

#[cfg(feature = "ffi")]
#[uniffi::export]
impl V2Config {
    /// A v2 configuration. `api_key` is the 32-character v2 API key (not the API v3 key).
    /// The client certificate is the PEM pair (`client_cert_pem` + `client_key_pem`) or the
    /// PKCS#12 file (`pkcs12`, password defaulting to `mch_id`); it is needed by `refund` only.
    #[uniffi::constructor(
        name = "new",
        default(
            client_cert_pem = None,
            client_key_pem = None,
            pkcs12 = None,
            pkcs12_password = None,
            base_url = None,
            sign_type = None,
            sub_appid = None,
            sub_mch_id = None,
            options = None
        )
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn ffi_new(
        appid: String,
        mch_id: String,
        api_key: String,
        client_cert_pem: Option<String>,
        client_key_pem: Option<String>,
        pkcs12: Option<Vec<u8>>,
        pkcs12_password: Option<String>,
        base_url: Option<String>,
        sign_type: Option<V2SignType>,
        sub_appid: Option<String>,
        sub_mch_id: Option<String>,
        options: Option<ClientOptions>,
    ) -> Result<Arc<Self>> {
        Self::new(
            appid,
            mch_id,
            api_key,
            client_cert_pem,
            client_key_pem,
            pkcs12,
            pkcs12_password,
            base_url,
            sign_type,
            sub_appid,
            sub_mch_id,
            options,
        )
    }
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl V2Config {
    /// Whether an API client certificate is configured (needed by `refund`).
    pub fn has_client_certificate(&self) -> bool {
        self.identity.is_some()
    }
}
