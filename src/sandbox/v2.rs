//! The sandbox speaks legacy v2 (docs/protocol.md "Legacy v2 refund"): `POST /secapi/pay/refund`
//! (client certificate required) and `POST /pay/refundquery` over HTTPS on a listener of its
//! own, on the same order book as v3 (a v2 and a v3 refund of one order add up), with the
//! WeChat Pay's business rules and error codes, and encrypted notifications POSTed to `notify_url`.
//!
//! This is a child module of `server` (declared there) so that it can read the order book.

use super::{RefundRec, Reply, Shared};
use crate::crypto::{self, CryptoBackend};
use crate::error::{RefundError, Result};
use crate::refund::model::RefundStatus;
use crate::sandbox::{stopping, SandboxFault};
use crate::v2::notify::encrypt_req_info;
use crate::v2::sign::{sign, verify, V2SignType};
use crate::v2::xml;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The sandbox's v2 app id.
pub(crate) const APPID: &str = "wx8888888888888888";
/// Largest request body the v2 listener reads.
const MAX_BODY: usize = 1024 * 1024;

/// The sandbox's v2 TEST credentials, printable by design: point any v2 SDK at `base_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SandboxV2Credentials {
    /// `https://127.0.0.1:PORT` (HTTPS always: the refund call needs the client certificate).
    pub base_url: String,
    /// App id.
    pub appid: String,
    /// Merchant id.
    pub mch_id: String,
    /// The v2 API key (32 characters), random for this sandbox.
    pub api_key: String,
    /// The API client certificate the sandbox issued (PEM), over the merchant key.
    pub client_cert_pem: String,
    /// Its private key (PKCS#8 PEM): the sandbox's merchant private key.
    pub client_key_pem: String,
    /// The test CA (PEM) that issued the server and client certificates: trust it.
    pub ca_pem: String,
}

/// The running HTTPS listener and the credentials a client needs.
pub(crate) struct V2Server {
    pub base_url: String,
    pub ca_pem: String,
    pub client_cert_pem: String,
    client_cert_der: Vec<u8>,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

#[derive(Clone)]
struct V2Meta {
    notify_url: Option<String>,
    refund_account: String,
}

/// v2 state beside the shared order book.
pub(crate) struct V2Shared {
    pub api_key: String,
    server: Mutex<Option<V2Server>>,
    meta: Mutex<HashMap<String, V2Meta>>,
    errors: Mutex<VecDeque<String>>,
}

impl V2Shared {
    pub fn new() -> Self {
        Self {
            api_key: crypto::random_string(
                32,
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            ),
            server: Mutex::new(None),
            meta: Mutex::new(HashMap::new()),
            errors: Mutex::new(VecDeque::new()),
        }
    }

    fn meta(&self) -> std::sync::MutexGuard<'_, HashMap<String, V2Meta>> {
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget the v2 refunds' notify URLs and accounts and the queued v2 errors (the control
    /// API's reset; the listener and its credentials stay).
    pub fn reset(&self) {
        self.meta().clear();
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Join the listener and its connections (the stop flag is already set).
    pub fn stop(&self) {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut s) = server {
            if let Some(a) = s.accept.take() {
                let _ = a.join();
            }
            let conns: Vec<_> =
                std::mem::take(&mut *s.connections.lock().unwrap_or_else(|p| p.into_inner()));
            for c in conns {
                let _ = c.join();
            }
        }
    }
}

fn cfg_err(e: impl std::fmt::Display) -> RefundError {
    RefundError::config(format!("sandbox v2 TLS: {e}"))
}

/// The client-certificate rule of WeChat Pay's v2 host: a certificate is optional at the TLS
/// layer (the query needs none), but one that is offered must chain to the issuing CA, or the
/// handshake fails. A refund call that arrives without one gets no answer at all: the
/// connection is closed (WeChat Pay's documentation: "NoHttpResponseException ... failed to respond").
fn client_cert_verifier(
    ca_der: rustls::pki_types::CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der).map_err(cfg_err)?;
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(cfg_err)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8).
fn beijing_time(unix: i64) -> String {
    let t = unix + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn v2_status(s: &RefundStatus) -> &'static str {
    match s {
        RefundStatus::Success => "SUCCESS",
        RefundStatus::Closed => "REFUNDCLOSE",
        RefundStatus::Abnormal => "CHANGE",
        _ => "PROCESSING",
    }
}

/// A v2 answer being built: `return_code=SUCCESS`, then signed with the API key.
struct Answer(Vec<(String, String)>);

impl Answer {
    fn ok() -> Self {
        Self(vec![
            ("return_code".into(), "SUCCESS".into()),
            ("return_msg".into(), "OK".into()),
        ])
    }
    fn put(mut self, k: &str, v: impl ToString) -> Self {
        self.0.push((k.into(), v.to_string()));
        self
    }
}

impl Shared {
    fn v2_fail_return(msg: &str) -> Reply {
        Reply {
            status: 200,
            body: xml::write(&[("return_code", "FAIL"), ("return_msg", msg)], true),
        }
    }

    /// Sign (with the sign type of the request) and serialise an answer.
    fn v2_signed(&self, a: Answer, sign_type: V2SignType) -> Reply {
        let mut a = a;
        a.0.push(("appid".into(), APPID.into()));
        a.0.push(("mch_id".into(), self.keys.mchid.clone()));
        a.0.push((
            "nonce_str".into(),
            crypto::random_string(
                16,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            ),
        ));
        let map: BTreeMap<String, String> = a.0.iter().cloned().collect();
        let s = sign(CryptoBackend::AwsLc, sign_type, &map, &self.v2.api_key);
        a.0.push(("sign".into(), s));
        let fields: Vec<(&str, &str)> = a.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Reply {
            status: 200,
            body: xml::write(&fields, true),
        }
    }

    fn v2_business_error(&self, code: &str, des: &str, sign_type: V2SignType) -> Reply {
        self.v2_signed(
            Answer::ok()
                .put("result_code", "FAIL")
                .put("err_code", code)
                .put("err_code_des", des),
            sign_type,
        )
    }

    /// Queue `err_code` as the answer to the next `count` v2 requests (after their signature
    /// check): the codes the sandbox cannot reach by its own rules.
    pub fn v2_inject_error(&self, err_code: &str, count: u32) {
        let mut e = self.v2.errors.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..count.min(1000) {
            e.push_back(err_code.to_owned());
        }
    }

    /// Drop every queued v2 error.
    pub fn v2_clear_errors(&self) {
        self.v2
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The next queued or random fault that means something for a v2 request, counted in
    /// `faults_injected`. Faults of v3's signature scheme (`STALE_TIMESTAMP`,
    /// `UNKNOWN_SERIAL`, `PROBE_SIGNATURE`: v2 has no timestamp, serial or probe) are left in
    /// the queue for the next v3 request and never counted here.
    fn v2_next_fault(&self) -> Option<SandboxFault> {
        let picked = {
            let mut q = self.faults.lock().unwrap_or_else(|p| p.into_inner());
            match q.iter().position(v2_meaningful) {
                Some(i) => q.remove(i),
                None => None,
            }
        };
        let fault = picked.or_else(|| {
            let random = self.random_faults.lock().unwrap_or_else(|p| p.into_inner());
            let (per_mille, faults) = random.as_ref()?;
            let usable: Vec<&SandboxFault> = faults.iter().filter(|f| v2_meaningful(f)).collect();
            let mut r = [0u8; 4];
            crypto::random_bytes(&mut r);
            let draw = u32::from_le_bytes(r);
            (draw % 1000 < *per_mille && !usable.is_empty())
                .then(|| usable[(draw / 1000) as usize % usable.len()].clone())
        });
        if fault.is_some() {
            self.faults_injected
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        fault
    }

    /// Start the v2 HTTPS listener once; its credentials.
    pub fn v2_start(self: &Arc<Self>) -> Result<(String, String, String)> {
        let mut guard = self.v2.server.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = guard.as_ref() {
            return Ok((
                s.base_url.clone(),
                s.ca_pem.clone(),
                s.client_cert_pem.clone(),
            ));
        }
        if stopping(&self.stopping) {
            return Err(RefundError::config("the sandbox is stopped"));
        }
        let ca_key = rcgen::KeyPair::generate().map_err(cfg_err)?;
        let mut ca_params = rcgen::CertificateParams::default();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "wechatpay-refund sandbox v2 TEST CA",
        );
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cfg_err)?;
        let server_key = rcgen::KeyPair::generate().map_err(cfg_err)?;
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
                .map_err(cfg_err)?;
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "wechatpay-refund sandbox v2 (TEST)",
        );
        let server_cert = params.signed_by(&server_key, &ca).map_err(cfg_err)?;
        // The merchant's API client certificate certifies the merchant API key, as WeChat
        // Pay's apiclient_cert does.
        let client_key = rcgen::KeyPair::from_pem_and_sign_algo(
            &self.keys.merchant_key_pem,
            &rcgen::PKCS_RSA_SHA256,
        )
        .map_err(cfg_err)?;
        let mut cparams = rcgen::CertificateParams::default();
        cparams
            .distinguished_name
            .push(rcgen::DnType::CommonName, self.keys.mchid.clone());
        cparams.distinguished_name.push(
            rcgen::DnType::OrganizationalUnitName,
            "wechatpay-refund sandbox (TEST)",
        );
        cparams.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = cparams.signed_by(&client_key, &ca).map_err(cfg_err)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(cfg_err)?
            .with_client_cert_verifier(client_cert_verifier(ca.der().clone(), provider)?)
            .with_single_cert(
                vec![server_cert.der().clone(), ca.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            )
            .map_err(cfg_err)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(cfg_err)?;
        let port = listener.local_addr().map_err(cfg_err)?.port();
        listener.set_nonblocking(true).map_err(cfg_err)?;
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (me, conns, config) = (self.clone(), connections.clone(), Arc::new(config));
        let client_cert_der = client_cert.der().to_vec();
        let expected = client_cert_der.clone();
        let accept = std::thread::Builder::new()
            .name("wechatpay-sandbox-v2-accept".into())
            .spawn(move || {
                while !stopping(&me.stopping) {
                    match listener.accept() {
                        Ok((tcp, _)) => {
                            let (me2, config, expected) =
                                (me.clone(), config.clone(), expected.clone());
                            if let Ok(h) = std::thread::Builder::new()
                                .name("wechatpay-sandbox-v2-conn".into())
                                .spawn(move || {
                                    let _ = me2.v2_connection(tcp, config, &expected);
                                })
                            {
                                let mut c = conns.lock().unwrap_or_else(|p| p.into_inner());
                                c.retain(|h| !h.is_finished());
                                c.push(h);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
            .map_err(cfg_err)?;
        let server = V2Server {
            base_url: format!("https://127.0.0.1:{port}"),
            ca_pem: ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_cert_der,
            accept: Some(accept),
            connections,
        };
        let out = (
            server.base_url.clone(),
            server.ca_pem.clone(),
            server.client_cert_pem.clone(),
        );
        let _ = &server.client_cert_der;
        *guard = Some(server);
        Ok(out)
    }

    /// One HTTPS connection: HTTP/1.1 keep-alive, bodies by Content-Length.
    fn v2_connection(
        self: &Arc<Self>,
        tcp: TcpStream,
        config: Arc<rustls::ServerConfig>,
        expected_cert: &[u8],
    ) -> std::io::Result<()> {
        tcp.set_nonblocking(false)?;
        tcp.set_read_timeout(Some(Duration::from_millis(50)))?;
        let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        let mut idle = Instant::now();
        loop {
            if stopping(&self.stopping) || idle.elapsed() > Duration::from_secs(30) {
                return Ok(());
            }
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut slots);
            if let Ok(httparse::Status::Complete(head)) = req.parse(&buf) {
                let method = req.method.unwrap_or("GET").to_owned();
                let path = req.path.unwrap_or("/").to_owned();
                let len = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("Content-Length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .unwrap_or(0);
                if len > MAX_BODY {
                    let body = xml::write(
                        &[("return_code", "FAIL"), ("return_msg", "请求体过大")],
                        true,
                    );
                    write_response(&mut tls, 413, &body, true)?;
                    return Ok(());
                }
                if buf.len() >= head + len {
                    let body: Vec<u8> = buf[head..head + len].to_vec();
                    buf.drain(..head + len);
                    let has_cert = tls
                        .conn
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.as_ref() == expected_cert);
                    let index = self.record(&method, &path);
                    let is_refund = path.split('?').next() == Some(crate::v2::request::REFUND_PATH);
                    if is_refund && has_cert.is_none() {
                        // No client certificate on the mutual-TLS call: WeChat Pay does not
                        // answer (a peer SDK sees the connection closed), nothing is processed.
                        self.answered(index, 0);
                        return Ok(());
                    }
                    let st = request_sign_type(&body);
                    let fault = self.v2_next_fault();
                    let reply = match &fault {
                        Some(SandboxFault::SystemError) => {
                            self.v2_business_error("SYSTEMERROR", v2_error_des("SYSTEMERROR"), st)
                        }
                        Some(SandboxFault::FrequencyLimited) => self.v2_business_error(
                            "FREQUENCY_LIMITED",
                            v2_error_des("FREQUENCY_LIMITED"),
                            st,
                        ),
                        Some(SandboxFault::TamperedBody) => {
                            tampered(self.v2_route(&method, &path, &body, has_cert))
                        }
                        _ => self.v2_route(&method, &path, &body, has_cert),
                    };
                    match &fault {
                        Some(SandboxFault::DropConnection) => return Ok(()),
                        Some(SandboxFault::Delay { millis }) => {
                            std::thread::sleep(Duration::from_millis((*millis).min(30_000)))
                        }
                        _ => {}
                    }
                    self.answered(index, reply.status);
                    write_response(&mut tls, reply.status, &reply.body, false)?;
                    idle = Instant::now();
                    continue;
                }
            } else if buf.len() > 64 * 1024 && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(());
            }
            match tls.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    idle = Instant::now();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn v2_route(&self, method: &str, path: &str, body: &[u8], has_cert: Option<bool>) -> Reply {
        let path = path.split('?').next().unwrap_or(path);
        let is_refund = path == crate::v2::request::REFUND_PATH;
        if !is_refund && path != crate::v2::request::REFUND_QUERY_PATH {
            return Reply {
                status: 404,
                body: b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[no such API]]></return_msg></xml>".to_vec(),
            };
        }
        if method != "POST" {
            return self.v2_business_error(
                "REQUIRE_POST_METHOD",
                "请使用post方法",
                V2SignType::Md5,
            );
        }
        let Ok(f) = xml::parse("v2 request", body) else {
            return self.v2_business_error("XML_FORMAT_ERROR", "XML格式错误", V2SignType::Md5);
        };
        let p = f.fields;
        let sign_type = match p.get("sign_type").map(String::as_str) {
            None | Some("") => V2SignType::Md5,
            Some(t) => match V2SignType::from_wire(t) {
                Some(t) => t,
                None => return Self::v2_fail_return("sign_type 参数错误"),
            },
        };
        match p.get("appid") {
            Some(a) if a == APPID => {}
            _ => return self.v2_business_error("APPID_NOT_EXIST", "APPID不存在", sign_type),
        }
        match p.get("mch_id") {
            Some(m) if *m == self.keys.mchid => {}
            _ => return self.v2_business_error("MCHID_NOT_EXIST", "MCHID不存在", sign_type),
        }
        if verify(CryptoBackend::AwsLc, sign_type, &p, &self.v2.api_key).is_err() {
            return Self::v2_fail_return("签名错误");
        }
        if is_refund && has_cert == Some(false) {
            // Another certificate of the sandbox CA (the TLS layer refuses any other).
            return self.v2_business_error(
                "CERT_ERROR",
                "证书校验错误: 商户API证书不正确",
                sign_type,
            );
        }
        if let Some(code) = self
            .v2
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            return self.v2_business_error(&code, v2_error_des(&code), sign_type);
        }
        let nonce_ok = p
            .get("nonce_str")
            .is_some_and(|n| !n.is_empty() && n.len() <= 32);
        if !nonce_ok {
            return self.v2_business_error("PARAM_ERROR", "nonce_str 参数错误", sign_type);
        }
        if is_refund {
            self.v2_refund(&p, sign_type)
        } else {
            self.v2_query(&p, sign_type)
        }
    }

    fn v2_refund(&self, p: &BTreeMap<String, String>, st: V2SignType) -> Reply {
        let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
        let Some(out_refund_no) = get("out_refund_no") else {
            return self.v2_business_error("PARAM_ERROR", "缺少参数 out_refund_no", st);
        };
        if crate::refund::validate::out_refund_no("out_refund_no", &out_refund_no).is_err() {
            return self.v2_business_error("PARAM_ERROR", "out_refund_no 格式错误", st);
        }
        let fee = |k: &str| {
            get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v > 0)
        };
        let (Some(total), Some(refund)) = (fee("total_fee"), fee("refund_fee")) else {
            return self.v2_business_error("PARAM_ERROR", "total_fee 或 refund_fee 参数错误", st);
        };
        if refund > total {
            // The blog's example: an unsigned communication failure.
            return Self::v2_fail_return("invalid refund_fee");
        }
        if get("refund_desc").is_some_and(|d| d.len() > 80) {
            return self.v2_business_error("PARAM_ERROR", "refund_desc 超过80字节", st);
        }
        if get("refund_account").is_some_and(|a| {
            a != "REFUND_SOURCE_UNSETTLED_FUNDS" && a != "REFUND_SOURCE_RECHARGE_FUNDS"
        }) {
            return self.v2_business_error(
                "PARAM_ERROR",
                "refund_account 只能是 REFUND_SOURCE_UNSETTLED_FUNDS 或 REFUND_SOURCE_RECHARGE_FUNDS",
                st,
            );
        }
        if get("refund_fee_type").is_some_and(|c| c != "CNY") {
            return self.v2_business_error(
                "PARAM_ERROR",
                "refund_fee_type 须与支付币种一致(CNY)",
                st,
            );
        }
        let mut state = self.state();
        let out_trade_no = match (get("transaction_id"), get("out_trade_no")) {
            (Some(t), _) => match state.by_transaction.get(&t) {
                Some(o) => o.clone(),
                None => {
                    return self.v2_business_error(
                        "INVALID_TRANSACTIONID",
                        "无效transaction_id",
                        st,
                    )
                }
            },
            (None, Some(o)) => o,
            (None, None) => {
                return self.v2_business_error(
                    "PARAM_ERROR",
                    "transaction_id和out_trade_no必须二选一",
                    st,
                )
            }
        };
        let Some((order_tx, order_total, order_refunds)) = state
            .orders
            .get(&out_trade_no)
            .map(|o| (o.transaction_id.clone(), o.total, o.refunds.clone()))
        else {
            return self.v2_business_error("ORDERNOTEXIST", "订单号不存在", st);
        };
        let answer = |r: &RefundRec, account: &str| {
            let _ = account;
            Answer::ok()
                .put("result_code", "SUCCESS")
                .put("transaction_id", &r.transaction_id)
                .put("out_trade_no", &r.out_trade_no)
                .put("out_refund_no", &r.out_refund_no)
                .put("refund_id", &r.refund_id)
                .put("refund_fee", r.refund)
                .put("settlement_refund_fee", r.refund)
                .put("total_fee", r.total)
                .put("settlement_total_fee", r.total)
                .put("fee_type", "CNY")
                .put("cash_fee", r.total)
                .put("cash_fee_type", "CNY")
                .put("cash_refund_fee", r.refund)
                .put("coupon_refund_fee", 0)
                .put("coupon_refund_count", 0)
        };
        if let Some(existing) = state.refunds.get(&out_refund_no) {
            // Same out_refund_no: the same refund, once; other amounts are a mismatch.
            if existing.refund != refund
                || existing.total != total
                || existing.out_trade_no != out_trade_no
            {
                return self.v2_business_error(
                    "REFUND_FEE_MISMATCH",
                    "订单金额或退款金额与之前请求不一致，请核实后再试",
                    st,
                );
            }
            let a = answer(existing, "");
            drop(state);
            return self.v2_signed(a, st);
        }
        if total != order_total {
            return self.v2_business_error("INVALID_REQUEST", "total_fee 与订单金额不一致", st);
        }
        if order_refunds.len() >= 50 {
            return self.v2_business_error("ERROR", "部分退款次数超过50次", st);
        }
        let refunded: i64 = order_refunds
            .iter()
            .filter_map(|r| state.refunds.get(r))
            .map(|r| r.refund)
            .sum();
        if refunded >= order_total {
            return self.v2_business_error("TRADE_STATE_ERROR", "订单状态错误", st);
        }
        if refunded + refund > order_total {
            return self.v2_business_error("INVALID_REQUEST", "申请退款金额超过订单可退金额", st);
        }
        state.seq += 1;
        let account =
            get("refund_account").unwrap_or_else(|| "REFUND_SOURCE_UNSETTLED_FUNDS".into());
        let rec = RefundRec {
            refund_id: format!("5030{:015}{:010}", now(), state.seq),
            out_refund_no: out_refund_no.clone(),
            out_trade_no: out_trade_no.clone(),
            transaction_id: order_tx,
            sub_mchid: get("sub_mch_id"),
            refund,
            total,
            from: serde_json::json!([]),
            status: RefundStatus::Processing,
            channel: "ORIGINAL",
            user_received_account: "支付用户零钱".into(),
            funds_account: if account == "REFUND_SOURCE_RECHARGE_FUNDS" {
                "AVAILABLE".into()
            } else {
                "UNSETTLED".into()
            },
            create_time: now(),
            success_time: None,
            // v2 refunds are notified in v2 form (see `v2_status_changed`).
            notify_url: None,
            recipient: None,
        };
        let a = answer(&rec, &account);
        if let Some(o) = state.orders.get_mut(&out_trade_no) {
            o.refunds.push(out_refund_no.clone());
        }
        state.refunds.insert(out_refund_no.clone(), rec);
        drop(state);
        self.v2.meta().insert(
            out_refund_no,
            V2Meta {
                notify_url: get("notify_url"),
                refund_account: account,
            },
        );
        self.v2_signed(a, st)
    }

    fn v2_query(&self, p: &BTreeMap<String, String>, st: V2SignType) -> Reply {
        let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
        let state = self.state();
        // One refund, or every refund of an order; the most specific id wins.
        let (order, only): (Option<String>, Option<String>) = if let Some(id) = get("refund_id") {
            match state.refunds.values().find(|r| r.refund_id == id) {
                Some(r) => (Some(r.out_trade_no.clone()), Some(r.out_refund_no.clone())),
                None => (None, None),
            }
        } else if let Some(no) = get("out_refund_no") {
            match state.refunds.get(&no) {
                Some(r) => (Some(r.out_trade_no.clone()), Some(no)),
                None => (None, None),
            }
        } else if let Some(t) = get("transaction_id") {
            (state.by_transaction.get(&t).cloned(), None)
        } else if let Some(o) = get("out_trade_no") {
            (state.orders.contains_key(&o).then_some(o), None)
        } else {
            return self.v2_business_error("PARAM_ERROR", "缺少查询单号", st);
        };
        let Some(order_no) = order else {
            return self.v2_business_error("REFUNDNOTEXIST", "退款订单查询失败", st);
        };
        let o = &state.orders[&order_no];
        let mut list: Vec<&RefundRec> = o
            .refunds
            .iter()
            .filter(|r| only.as_ref().is_none_or(|x| x == *r))
            .filter_map(|r| state.refunds.get(r))
            .collect();
        if list.is_empty() {
            return self.v2_business_error("REFUNDNOTEXIST", "退款订单查询失败", st);
        }
        let total_count = list.len();
        let offset = get("offset")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        if offset >= total_count && offset > 0 {
            return self.v2_business_error("PARAM_ERROR", "offset 超出范围", st);
        }
        list = list.into_iter().skip(offset).take(20).collect();
        let meta = self.v2.meta().clone();
        let mut a = Answer::ok()
            .put("result_code", "SUCCESS")
            .put("transaction_id", &o.transaction_id)
            .put("out_trade_no", &order_no)
            .put("total_fee", o.total)
            .put("settlement_total_fee", o.total)
            .put("fee_type", "CNY")
            .put("cash_fee", o.total)
            .put("refund_count", list.len());
        if total_count > 20 {
            a = a.put("total_refund_count", total_count);
        }
        for (n, r) in list.iter().enumerate() {
            let account = meta
                .get(&r.out_refund_no)
                .map(|m| m.refund_account.clone())
                .unwrap_or_else(|| "REFUND_SOURCE_UNSETTLED_FUNDS".into());
            a = a
                .put(&format!("out_refund_no_{n}"), &r.out_refund_no)
                .put(&format!("refund_id_{n}"), &r.refund_id)
                .put(&format!("refund_channel_{n}"), r.channel)
                .put(&format!("refund_fee_{n}"), r.refund)
                .put(&format!("settlement_refund_fee_{n}"), r.refund)
                .put(&format!("refund_status_{n}"), v2_status(&r.status))
                .put(&format!("refund_account_{n}"), account)
                .put(&format!("refund_recv_accout_{n}"), &r.user_received_account)
                .put(&format!("coupon_refund_count_{n}"), 0);
            if let Some(t) = r.success_time {
                a = a.put(&format!("refund_success_time_{n}"), beijing_time(t));
            }
        }
        drop(state);
        self.v2_signed(a, st)
    }

    /// The v2 notification body for a refund's current (final or abnormal) status.
    pub fn v2_notification(&self, out_refund_no: &str) -> Result<Vec<u8>> {
        let r = self
            .state()
            .refunds
            .get(out_refund_no)
            .cloned()
            .ok_or_else(|| {
                RefundError::invalid("out_refund_no", "no such refund in the sandbox")
            })?;
        if r.status == RefundStatus::Processing {
            return Err(RefundError::invalid(
                "out_refund_no",
                "a PROCESSING refund has no notification",
            ));
        }
        let account = self
            .v2
            .meta()
            .get(out_refund_no)
            .map(|m| m.refund_account.clone())
            .unwrap_or_else(|| "REFUND_SOURCE_UNSETTLED_FUNDS".into());
        let mut fields: Vec<(&str, String)> = vec![
            ("out_refund_no", r.out_refund_no.clone()),
            ("out_trade_no", r.out_trade_no.clone()),
            ("refund_account", account),
            ("refund_fee", r.refund.to_string()),
            ("refund_id", r.refund_id.clone()),
            ("refund_recv_accout", r.user_received_account.clone()),
            ("refund_request_source", "API".into()),
            ("refund_status", v2_status(&r.status).into()),
            ("settlement_refund_fee", r.refund.to_string()),
            ("settlement_total_fee", r.total.to_string()),
            ("total_fee", r.total.to_string()),
            ("transaction_id", r.transaction_id.clone()),
        ];
        if let Some(t) = r.success_time {
            fields.push(("success_time", beijing_time(t)));
        }
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let plain = xml::write_root("root", &f, true);
        let req_info = encrypt_req_info(CryptoBackend::AwsLc, &self.v2.api_key, &plain);
        let nonce = crypto::random_string(32, b"abcdefghijklmnopqrstuvwxyz0123456789");
        Ok(xml::write(
            &[
                ("return_code", "SUCCESS"),
                ("appid", APPID),
                ("mch_id", &self.keys.mchid),
                ("nonce_str", &nonce),
                ("req_info", &req_info),
            ],
            true,
        ))
    }

    /// POST a v2 notification until the merchant answers `<xml>` with `return_code` SUCCESS
    /// (anything else is retried, docs/protocol.md), on WeChat Pay's schedule compressed 1000×.
    fn v2_deliver(&self, url: &str, body: &[u8]) {
        const SCHEDULE_MS: [u64; 15] = [
            15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 2000, 2000, 2000, 2000, 2000, 2000,
        ];
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent();
        for wait in std::iter::once(0).chain(SCHEDULE_MS) {
            let until = Instant::now() + Duration::from_millis(wait);
            while Instant::now() < until {
                if stopping(&self.stopping) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if stopping(&self.stopping) {
                return;
            }
            let sent = agent
                .post(url)
                .header("Content-Type", "text/xml; charset=utf-8")
                .send(body);
            let acknowledged = sent.ok().and_then(|mut resp| {
                let answer = resp
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .ok()?;
                let f = xml::parse("notification answer", &answer).ok()?;
                Some(f.get("return_code") == Some("SUCCESS"))
            });
            if acknowledged == Some(true) {
                self.delivered
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                return;
            }
        }
    }

    /// After a status change: POST the v2 notification of a v2 refund that has a `notify_url`.
    pub fn v2_status_changed(
        self: &Arc<Self>,
        out_refund_no: &str,
        status: &RefundStatus,
    ) -> Result<()> {
        if *status == RefundStatus::Processing {
            return Ok(());
        }
        let Some(url) = self
            .v2
            .meta()
            .get(out_refund_no)
            .and_then(|m| m.notify_url.clone())
        else {
            return Ok(());
        };
        let body = self.v2_notification(out_refund_no)?;
        let me = self.clone();
        let handle = std::thread::Builder::new()
            .name("wechatpay-sandbox-v2-notify".into())
            .spawn(move || me.v2_deliver(&url, &body))
            .map_err(|e| RefundError::config(format!("spawn notifier: {e}")))?;
        self.senders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
        Ok(())
    }
}

/// Faults with a v2 meaning: the business errors of a failing WeChat Pay, a dropped or slow
/// connection, a changed answer. The rest belong to v3's signature scheme.
fn v2_meaningful(f: &SandboxFault) -> bool {
    matches!(
        f,
        SandboxFault::SystemError
            | SandboxFault::FrequencyLimited
            | SandboxFault::DropConnection
            | SandboxFault::Delay { .. }
            | SandboxFault::TamperedBody
    )
}

/// The sign type a request asks for (`sign_type`; MD5 when absent or unreadable): the answer
/// to it, faults included, is signed the same way.
fn request_sign_type(body: &[u8]) -> V2SignType {
    xml::parse("v2 request", body)
        .ok()
        .and_then(|f| f.get("sign_type").and_then(V2SignType::from_wire))
        .unwrap_or(V2SignType::Md5)
}

/// A signed answer with one signed value changed after signing (the amount when there is
/// one): what a man in the middle would do. An unsigned answer is returned unchanged.
fn tampered(reply: Reply) -> Reply {
    let Ok(f) = xml::parse("v2 answer", &reply.body) else {
        return reply;
    };
    if f.get("sign").is_none() {
        return reply;
    }
    let mut fields: Vec<(String, String)> = f
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let target = ["refund_fee", "refund_fee_0", "nonce_str"]
        .into_iter()
        .find(|k| f.get(k).is_some())
        .unwrap_or("return_msg");
    for (k, v) in fields.iter_mut() {
        if k == target {
            *v = match v.parse::<i64>() {
                Ok(n) => (n + 1).to_string(),
                Err(_) => format!("{v}X"),
            };
        }
    }
    let view: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Reply {
        status: reply.status,
        body: xml::write(&view, true),
    }
}

/// The v2 `err_code`s of WeChat Pay's table that can be injected (`v2_inject_error`, the control
/// API's `POST /sandbox/v1/v2/errors`), with WeChat Pay's descriptions.
pub const V2_ERROR_CODES: &[(&str, &str)] = &[
    ("SYSTEMERROR", "系统超时"),
    (
        "BIZERR_NEED_RETRY",
        "退款业务流程错误，需要商户触发重试来解决",
    ),
    ("TRADE_OVERDUE", "订单已经超过退款期限"),
    ("ERROR", "申请退款业务发生错误"),
    ("USER_ACCOUNT_ABNORMAL", "退款请求失败"),
    ("INVALID_REQ_TOO_MUCH", "无效请求过多"),
    ("NOTENOUGH", "余额不足"),
    ("INVALID_TRANSACTIONID", "无效transaction_id"),
    ("PARAM_ERROR", "参数错误"),
    ("APPID_NOT_EXIST", "APPID不存在"),
    ("MCHID_NOT_EXIST", "MCHID不存在"),
    ("ORDERNOTEXIST", "订单号不存在"),
    ("REQUIRE_POST_METHOD", "请使用post方法"),
    ("SIGNERROR", "签名错误"),
    ("XML_FORMAT_ERROR", "XML格式错误"),
    ("FREQUENCY_LIMITED", "频率限制"),
    ("NOAUTH", "异常IP请求不予受理"),
    ("CERT_ERROR", "证书校验错误"),
    (
        "REFUND_FEE_MISMATCH",
        "订单金额或退款金额与之前请求不一致，请核实后再试",
    ),
    ("INVALID_REQUEST", "请求参数符合参数格式，但不符合业务规则"),
    ("ORDER_NOT_READY", "订单处理中，暂时无法退款，请稍后再试"),
    ("TRADE_STATE_ERROR", "订单状态错误"),
];

/// WeChat Pay's description of an `err_code` (a generic one for a code not in the table).
fn v2_error_des(code: &str) -> &'static str {
    V2_ERROR_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, d)| *d)
        .unwrap_or("业务错误 (sandbox)")
}

fn write_response<S: Write>(
    s: &mut S,
    status: u16,
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        413 => "Payload Too Large",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if close { "close" } else { "keep-alive" }
    )
    .into_bytes();
    out.extend_from_slice(body);
    s.write_all(&out)?;
    s.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn beijing_time_formats() {
        assert_eq!(super::beijing_time(0), "1970-01-01 08:00:00");
        assert_eq!(super::beijing_time(1_795_000_000), "2026-11-18 19:06:40");
    }
}
