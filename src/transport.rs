//! Plain HTTP values and the transport seam.
//!
//! Request building and response parsing only ever see [`HttpRequest`] / [`HttpResponse`];
//! an [`HttpTransport`] carries the bytes. The default is [`UreqTransport`] (ureq 3, rustls on
//! the aws-lc-rs provider); Kotlin/Swift/Python can plug in OkHttp, URLSession or `requests`.

use crate::error::Result;
#[cfg(feature = "ureq-transport")]
use crate::error::{RefundError, TransportErrorKind};

/// One HTTP header. A list of these keeps order and duplicates, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpHeader {
    /// Header name, as sent or received (compare case-insensitively).
    pub name: String,
    /// Header value.
    pub value: String,
}

impl HttpHeader {
    /// A header.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// An HTTP request ready to send: the body is the exact bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Absolute URL (`https://api.mch.weixin.qq.com/v3/...`).
    pub url: String,
    /// Headers, including `Authorization`.
    pub headers: Vec<HttpHeader>,
    /// Body bytes (empty for GET). Send exactly these: they are what was signed.
    pub body: Vec<u8>,
    /// The time left before the caller's deadline, in milliseconds: a transport should give
    /// up on this exchange after that long (the built-in one clips its timeouts to it).
    /// `None`: no deadline beyond the transport's own timeouts.
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub timeout_ms: Option<u64>,
}

impl HttpRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

/// An HTTP response as received: body bytes untouched (they are what WeChat Pay signed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, in the order received.
    pub headers: Vec<HttpHeader>,
    /// Raw body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

fn find<'a>(headers: &'a [HttpHeader], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The merchant's API client certificate and its private key, presented for mutual TLS on the
/// v2 refund call (`apiclient_cert.pem` + `apiclient_key.pem`, or `apiclient_cert.p12`).
/// The key is zeroized on drop and never printed.
pub struct ClientIdentity {
    /// The certificate chain, leaf first (DER).
    pub(crate) chain: Vec<Vec<u8>>,
    /// The private key (PKCS#8 DER).
    #[cfg_attr(not(feature = "ureq-transport"), allow(dead_code))]
    pub(crate) key_pkcs8: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientIdentity({} certificate(s), key redacted)",
            self.chain.len()
        )
    }
}

impl ClientIdentity {
    /// From PEM: one or more `CERTIFICATE` blocks (leaf first) and the private key (PKCS#8 or
    /// PKCS#1). The key must belong to the first certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        use crate::crypto::der;
        let bad = |m: String| crate::error::RefundError::config(format!("client certificate: {m}"));
        let mut chain = Vec::new();
        let mut rest = cert_pem;
        while let Some(start) = rest.find("-----BEGIN ") {
            let end = rest[start..]
                .find("-----END ")
                .and_then(|e| rest[start + e..].find("\n").map(|n| start + e + n))
                .unwrap_or(rest.len());
            let block = der::parse_pem(&rest[start..end]).map_err(bad)?;
            if block.label != "CERTIFICATE" {
                return Err(bad(format!(
                    "expected BEGIN CERTIFICATE in the certificate PEM, found BEGIN {}",
                    block.label
                )));
            }
            chain.push(block.der.to_vec());
            rest = &rest[end..];
        }
        if chain.is_empty() {
            return Err(bad(
                "no BEGIN CERTIFICATE block in the certificate PEM".into()
            ));
        }
        let key = crate::crypto::RsaPrivateKey::from_pem(key_pem)
            .map_err(|e| bad(format!("private key: {e}")))?;
        let block = der::parse_pem(key_pem).map_err(bad)?;
        let key_pkcs8 = if block.label == "RSA PRIVATE KEY" {
            der::pkcs1_to_pkcs8(&block.der)
        } else {
            block.der
        };
        Self::checked(chain, key_pkcs8, &key)
    }

    fn checked(
        chain: Vec<Vec<u8>>,
        key_pkcs8: zeroize::Zeroizing<Vec<u8>>,
        key: &crate::crypto::RsaPrivateKey,
    ) -> Result<Self> {
        let bad = |m: String| crate::error::RefundError::config(format!("client certificate: {m}"));
        let parts = crate::crypto::der::certificate_parts(&chain[0]).map_err(bad)?;
        let public = key.public_key().map_err(bad)?;
        if parts.spki != public.spki_der() {
            return Err(bad(
                "the private key does not belong to the certificate (apiclient_key.pem must match apiclient_cert.pem)".into(),
            ));
        }
        Ok(Self { chain, key_pkcs8 })
    }

    /// From `apiclient_cert.p12` and its password (the merchant id unless changed).
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        let bad = |m: String| {
            crate::error::RefundError::config(format!("client certificate (PKCS#12): {m}"))
        };
        let (mut chain, key_pkcs8) = crate::crypto::pkcs12::parse(der, password).map_err(bad)?;
        let key = crate::crypto::RsaPrivateKey::from_pkcs8_der_with(
            crate::crypto::CryptoBackend::default(),
            &key_pkcs8,
        )
        .map_err(|e| bad(format!("private key: {e}")))?;
        // The key's own certificate goes first (bags come in any order).
        let spki = key.public_key().map_err(bad)?.spki_der().to_vec();
        if let Some(i) = chain.iter().position(|c| {
            crate::crypto::der::certificate_parts(c).is_ok_and(|p| p.spki == spki.as_slice())
        }) {
            let leaf = chain.remove(i);
            chain.insert(0, leaf);
        }
        Self::checked(chain, key_pkcs8, &key)
    }
}

/// Carries one request to the server and brings back the response.
///
/// Return every HTTP status as a response (4xx/5xx included); raise
/// `RefundError::Transport` only when no complete response arrived. Implementations must be
/// safe to call from several threads at once.
#[cfg_attr(feature = "ffi", uniffi::export(with_foreign))]
pub trait HttpTransport: Send + Sync {
    /// Send `request` and return the response with its body bytes untouched.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// Timeouts, limits and the proxy of the built-in transport.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: std::time::Duration,
    /// Timeout for the whole response once connected.
    pub read_timeout: std::time::Duration,
    /// Largest response body accepted.
    pub max_response_bytes: u64,
    /// A forward proxy (`http://`, `https://`, `socks5://`, with `user:password@` if it
    /// needs them); `None`: the standard environment variables (`HTTPS_PROXY`, `ALL_PROXY`,
    /// `HTTP_PROXY`, `NO_PROXY`, as curl reads them), else a direct connection.
    pub proxy: Option<String>,
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            connect_timeout: std::time::Duration::from_secs(5),
            read_timeout: std::time::Duration::from_secs(10),
            max_response_bytes: 1024 * 1024,
            proxy: None,
        }
    }
}

impl std::fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy.as_deref().map(redact_proxy))
            .finish()
    }
}

/// A proxy URL with its credentials replaced by `<redacted>` (for Debug, Display and errors).
pub fn redact_proxy(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_string(),
    };
    match scheme {
        Some(s) => format!("{s}://{authority}{tail}"),
        None => format!("{authority}{tail}"),
    }
}

/// Check a proxy setting (`http://`, `https://`, `socks5://` …) without connecting: a
/// `Config` error naming `field`, credentials redacted.
#[cfg(feature = "ureq-transport")]
pub(crate) fn check_proxy(field: &str, url: &str) -> Result<()> {
    let shown = redact_proxy(url);
    if !url.contains("://") {
        return Err(RefundError::config(format!(
            "{field} must be a URL such as http://proxy.example.com:3128, got {shown:?}"
        )));
    }
    ureq::Proxy::new(url)
        .map(drop)
        .map_err(|_| RefundError::config(format!("{field} is not a usable proxy URL: {shown:?}")))
}

/// The default blocking transport: ureq 3 with a connection pool (keep-alive), rustls on the
/// aws-lc-rs provider (the same library as the message crypto) and webpki roots.
#[cfg(feature = "ureq-transport")]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: u64,
}

#[cfg(feature = "ureq-transport")]
impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransport").finish_non_exhaustive()
    }
}

#[cfg(feature = "ureq-transport")]
impl UreqTransport {
    /// A transport with these options and the public web PKI roots.
    pub fn new(options: TransportOptions) -> Self {
        Self::with_roots(options, &[]).expect("no roots to parse")
    }

    /// A transport trusting exactly the given PEM CA certificates instead of the web PKI
    /// (a private CA, a test CA). An empty list means the web PKI roots.
    pub fn with_roots(options: TransportOptions, roots_pem: &[String]) -> Result<Self> {
        Self::with_identity(options, roots_pem, None)
    }

    /// [`Self::with_roots`], presenting `identity` (the merchant's API client certificate)
    /// when the server asks for one: mutual TLS for the v2 refund call.
    pub fn with_identity(
        options: TransportOptions,
        roots_pem: &[String],
        identity: Option<&ClientIdentity>,
    ) -> Result<Self> {
        use std::sync::Arc;
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = if roots_pem.is_empty() {
            RootCerts::WebPki
        } else {
            let mut certs: Vec<Certificate<'static>> = Vec::new();
            for (i, pem) in roots_pem.iter().enumerate() {
                let block = crate::crypto::der::parse_pem(pem)
                    .map_err(|e| RefundError::config(format!("trust root {i}: {e}")))?;
                if block.label != "CERTIFICATE" {
                    return Err(RefundError::config(format!(
                        "trust root {i}: expected BEGIN CERTIFICATE"
                    )));
                }
                certs.push(Certificate::from_der(&block.der).to_owned());
            }
            RootCerts::Specific(Arc::new(certs))
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(roots)
            .client_cert(
                identity
                    .map(|id| {
                        let chain: Vec<Certificate<'static>> = id
                            .chain
                            .iter()
                            .map(|d| Certificate::from_der(d).to_owned())
                            .collect();
                        // ureq does not re-export its key-kind enum: hand it the key as PEM.
                        let pem = zeroize::Zeroizing::new(crate::crypto::der::to_pem(
                            "PRIVATE KEY",
                            &id.key_pkcs8,
                        ));
                        ureq::tls::PrivateKey::from_pem(pem.as_bytes())
                            .map(|key| ureq::tls::ClientCert::new_with_certs(&chain, key))
                    })
                    .transpose()
                    .map_err(|e| RefundError::config(format!("client certificate: {e}")))?,
            )
            .build();
        let proxy = match &options.proxy {
            Some(url) => {
                check_proxy("proxy", url)?;
                ureq::Proxy::new(url).ok()
            }
            None => ureq::Proxy::try_from_env(),
        };
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .timeout_recv_body(Some(options.read_timeout))
            .max_idle_connections_per_host(16)
            .user_agent(ureq::config::AutoHeaderValue::None)
            .build();
        Ok(Self {
            agent: config.new_agent(),
            max_response_bytes: options.max_response_bytes,
        })
    }
}

#[cfg(feature = "ureq-transport")]
fn classify(e: &ureq::Error) -> TransportErrorKind {
    use ureq::Error as E;
    match e {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound | E::ConnectionFailed => TransportErrorKind::Connect,
        // rustls reports certificate and handshake failures as io errors wrapping its own.
        E::Io(io)
            if io
                .get_ref()
                .is_some_and(|e| e.downcast_ref::<rustls::Error>().is_some()) =>
        {
            TransportErrorKind::Tls
        }
        E::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                TransportErrorKind::Timeout
            }
            std::io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
            _ => TransportErrorKind::Io,
        },
        E::Rustls(_) | E::Tls(_) => TransportErrorKind::Tls,
        E::BodyExceedsLimit(_) => TransportErrorKind::ResponseTooLarge,
        E::BadUri(_) | E::InvalidProxyUrl => TransportErrorKind::InvalidUrl,
        E::Protocol(_) | E::Http(_) => TransportErrorKind::Protocol,
        _ => TransportErrorKind::Other,
    }
}

#[cfg(feature = "ureq-transport")]
impl UreqTransport {
    /// The ureq request of `request` (the caller's deadline applied).
    fn prepare(&self, request: HttpRequest) -> Result<ureq::http::Request<Vec<u8>>> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for h in &request.headers {
            builder = builder.header(h.name.as_str(), h.value.as_str());
        }
        let req = builder
            .body(request.body)
            .map_err(|e| RefundError::transport(TransportErrorKind::InvalidUrl, e.to_string()))?;
        // The caller's deadline caps this exchange as a whole (connect, send, receive).
        Ok(match request.timeout_ms {
            Some(ms) => self
                .agent
                .configure_request(req)
                .timeout_global(Some(std::time::Duration::from_millis(ms.max(1))))
                .build(),
            None => req,
        })
    }

    /// Send `request` and hand the answer's status, headers and body *stream* to `handle`
    /// (no size cap; `body_timeout` bounds the body's arrival). For bodies too large to hold
    /// in memory: the bill file. Not part of [`HttpTransport`] (a foreign transport returns
    /// whole bodies).
    pub fn send_streaming<T>(
        &self,
        request: HttpRequest,
        body_timeout: std::time::Duration,
        handle: impl FnOnce(u16, &[HttpHeader], &mut dyn std::io::Read) -> Result<T>,
    ) -> Result<T> {
        let req = self.prepare(request)?;
        let req = self
            .agent
            .configure_request(req)
            .timeout_recv_body(Some(body_timeout))
            .build();
        let fail = |e: ureq::Error| RefundError::transport(classify(&e), e.to_string());
        let mut resp = self.agent.run(req).map_err(fail)?;
        let status = resp.status().as_u16();
        let headers: Vec<HttpHeader> = resp
            .headers()
            .iter()
            .map(|(k, v)| HttpHeader::new(k.as_str(), String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
        handle(status, &headers, &mut body)
    }
}

#[cfg(feature = "ureq-transport")]
impl HttpTransport for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let req = self.prepare(request)?;
        let fail = |e: ureq::Error| RefundError::transport(classify(&e), e.to_string());
        let mut resp = self.agent.run(req).map_err(fail)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| HttpHeader::new(k.as_str(), String::from_utf8_lossy(v.as_bytes())))
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(fail)?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}
