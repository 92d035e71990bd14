//! The sandbox's server side: request verification, routing, refund state, signed responses,
//! notifications and faults. Uses the crate's own signing, verification and encryption.

use super::http::{percent_decode, Incoming, Outcome};
use super::rules::{self, Problem};
use super::time::rfc3339_cst;
use super::{
    random_hex, stopping, Keys, SandboxFault, SandboxKeyMode, SandboxNotification, SandboxRefusal,
};
use crate::crypto::ApiV3Key;
use crate::crypto::{self, CryptoBackend, RsaPrivateKey};
use crate::error::{RefundError, Result};
use crate::notify::encrypt_resource;
use crate::refund::model::RefundStatus;
use crate::refund::validate;
use crate::sign::{generate_nonce, parse_authorization, request_message, SCHEME};
use crate::verify::{response_message, PROBE_PREFIX, TIMESTAMP_WINDOW_SECS};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

// Legacy v2 (a child module: it reads the order book).
#[path = "v2.rs"]
pub(crate) mod v2;

// Trade bills (a child module: it reads the order book).
#[path = "bill.rs"]
pub(crate) mod bill;

/// One request the sandbox received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct SandboxRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub url: String,
    /// Status answered (0 when the connection was dropped).
    pub status: u16,
}

struct Order {
    transaction_id: String,
    total: i64,
    /// Keys of its refunds in `State::refunds` (see `refund_key`).
    refunds: Vec<String>,
    /// Whose order it is: `Some(Some(sub))` a sub-merchant's (service-provider mode),
    /// `Some(None)` the merchant's own; `None` until the first v3 refund decides it (orders
    /// seeded without a `sub_mchid`).
    owner: Option<Option<String>>,
    /// When it was paid, by the sandbox clock (refunds only within a year).
    paid_at: i64,
}

/// The key of a refund: `out_refund_no` is unique per merchant (per sub-merchant in
/// service-provider mode), not globally. `/` never occurs in an `out_refund_no`.
fn refund_key(sub_mchid: Option<&str>, out_refund_no: &str) -> String {
    match sub_mchid {
        Some(sub) => format!("{sub}/{out_refund_no}"),
        None => out_refund_no.to_string(),
    }
}

/// A refund that no longer holds money of its order (docs/protocol.md "Refund status").
fn holds_money(r: &RefundRec) -> bool {
    r.status != RefundStatus::Closed
}

/// Seconds in WeChat Pay's refund window ("交易时间超过一年的订单无法提交退款").
const REFUND_WINDOW_SECS: i64 = 365 * 86_400;

#[derive(Clone)]
struct RefundRec {
    refund_id: String,
    out_refund_no: String,
    out_trade_no: String,
    transaction_id: String,
    sub_mchid: Option<String>,
    refund: i64,
    total: i64,
    from: Value,
    status: RefundStatus,
    channel: &'static str,
    user_received_account: String,
    funds_account: String,
    create_time: i64,
    success_time: Option<i64>,
    notify_url: Option<String>,
    recipient: Option<(String, String, String)>,
}

#[derive(Default)]
pub(crate) struct State {
    orders: HashMap<String, Order>,
    by_transaction: HashMap<String, String>,
    refunds: HashMap<String, RefundRec>,
    pub requests: Vec<super::SandboxRequest>,
    seq: u64,
    /// Bill files ready for download: (token, bytes), the newest last.
    bill_files: VecDeque<(String, Vec<u8>)>,
    /// How far the sandbox clock (business time: order age, refund spacing, create and
    /// success times) is ahead of the real one; signatures always use the real clock.
    clock_offset: i64,
}

impl State {
    fn clock(&self) -> i64 {
        now() + self.clock_offset
    }

    /// The key of an existing refund named by `out_refund_no` (and `sub_mchid`): without a
    /// `sub_mchid`, a merchant's own refund, else the only refund with that number (for the
    /// control API; ambiguous when two sub-merchants used it).
    fn find(&self, out_refund_no: &str, sub_mchid: Option<&str>) -> Option<String> {
        let key = refund_key(sub_mchid, out_refund_no);
        if self.refunds.contains_key(&key) {
            return Some(key);
        }
        // v2 refunds are keyed by out_refund_no whatever their sub_mch_id.
        match self.refunds.get(out_refund_no) {
            Some(r) if sub_mchid.is_none() || r.sub_mchid.as_deref() == sub_mchid => {
                return Some(out_refund_no.to_string())
            }
            _ => {}
        }
        if sub_mchid.is_some() {
            return None;
        }
        let mut same = self
            .refunds
            .iter()
            .filter(|(_, r)| r.out_refund_no == out_refund_no);
        match (same.next(), same.next()) {
            (Some((k, _)), None) => Some(k.clone()),
            _ => None,
        }
    }

    /// (live refunds, money they hold) of an order: CLOSED refunds free their amount and do
    /// not count toward the 50-refund cap.
    fn usage(&self, order: &Order) -> (usize, i64) {
        let live = order
            .refunds
            .iter()
            .filter_map(|k| self.refunds.get(k))
            .filter(|r| holds_money(r));
        live.fold((0, 0), |(n, sum), r| (n + 1, sum + r.refund))
    }
}

/// Sliding one-second windows for the optional request limits.
#[derive(Default)]
struct Limits {
    requests: VecDeque<std::time::Instant>,
    failures: VecDeque<std::time::Instant>,
}

pub(crate) struct Shared {
    /// Refunds succeed by themselves after this long (`SandboxOptions.auto_succeed_after_ms`).
    pub auto_succeed_after: Option<Duration>,
    /// The sandbox these belong to, for the control API (set once it exists).
    pub sandbox: std::sync::OnceLock<std::sync::Weak<super::Sandbox>>,
    pub keys: Keys,
    pub state: Mutex<State>,
    pub faults: Mutex<VecDeque<SandboxFault>>,
    /// Random faults: (per-mille probability, the faults to draw from).
    pub random_faults: Mutex<Option<(u32, Vec<SandboxFault>)>>,
    pub stopping: AtomicBool,
    pub senders: Mutex<Vec<JoinHandle<()>>>,
    pub delivered: AtomicUsize,
    pub faults_injected: AtomicUsize,
    /// Bill files still to corrupt (the `CORRUPT_BILL` fault).
    pub corrupt_bills: AtomicUsize,
    pub v2: v2::V2Shared,
    toggle: AtomicUsize,
    /// `SandboxOptions.enforce_limits`.
    pub enforce_limits: bool,
    /// `SandboxOptions.notify_retry_speedup`.
    pub notify_speedup: u64,
    /// Bumped by reset: deliveries of an older generation stop.
    generation: AtomicU64,
    limits: Mutex<Limits>,
}

/// A response about to be sent.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn error_reply(status: u16, code: &str, message: &str, field: Option<&str>) -> Reply {
    let mut v = json!({"code": code, "message": message});
    if let Some(f) = field {
        v["detail"] = json!({"field": f, "location": "body", "issue": message});
    }
    Reply {
        status,
        body: v.to_string().into_bytes(),
    }
}

/// The answer of an injected refusal.
fn refusal_reply(r: SandboxRefusal) -> Reply {
    error_reply(r.status(), r.code(), r.message(), None)
}

/// WeChat Pay's error body, `detail` naming the field and the value received
/// (docs/protocol.md "Errors").
fn problem_reply(p: Problem) -> Reply {
    let mut v = json!({"code": p.code, "message": p.message});
    if let Some(f) = &p.field {
        let location = if f.starts_with("Wechatpay-") {
            "header"
        } else {
            "body"
        };
        let mut detail = json!({"field": f, "location": location, "issue": p.message});
        if let Some(value) = p.value {
            detail["value"] = value;
        }
        v["detail"] = detail;
    }
    Reply {
        status: p.status,
        body: v.to_string().into_bytes(),
    }
}

/// The sandbox's platform certificate authority (a TEST CA of its own, RSA-2048 + SHA256 like
/// WeChat Pay's Tenpay.com Root CA): it issues every platform certificate the sandbox lists, and
/// clients trust it through `ClientOptions::platform_trust_anchors_pem` (the credentials carry it).
pub(crate) struct PlatformCa {
    params: rcgen::CertificateParams,
    key_pem: zeroize::Zeroizing<String>,
    pub cert_pem: String,
}

impl PlatformCa {
    /// A CA with a fresh key, or with `key_pem` (then the same CA certificate on every run:
    /// RSA PKCS#1 v1.5 signatures, rcgen's fixed default validity and a serial hashed from the
    /// key — what `--seed` needs).
    pub(crate) fn new(key_pem: Option<&str>) -> Result<Self> {
        let cfg = |e: rcgen::Error| RefundError::config(format!("sandbox platform CA: {e}"));
        let key_pem = match key_pem {
            Some(p) => zeroize::Zeroizing::new(p.to_string()),
            None => {
                crypto::RsaPrivateKey::generate_2048()
                    .map_err(RefundError::config)?
                    .1
            }
        };
        let key = rcgen::KeyPair::from_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256)
            .map_err(cfg)?;
        let mut params = rcgen::CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Tenpay.com (TEST)");
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "wechatpay-refund sandbox platform CA (TEST)",
        );
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.self_signed(&key).map_err(cfg)?;
        Ok(Self {
            params,
            key_pem,
            cert_pem: cert.pem(),
        })
    }
}

/// A platform certificate for `key_pem` issued by `ca`, valid from a day ago for five years like
/// WeChat Pay's; returns (serial hex, certificate PEM, not_before, not_after).
pub(crate) fn platform_certificate(
    key_pem: &str,
    ca: &PlatformCa,
) -> Result<(String, String, i64, i64)> {
    let key = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| RefundError::config(format!("sandbox platform key: {e}")))?;
    let ca_key = rcgen::KeyPair::from_pem_and_sign_algo(&ca.key_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| RefundError::config(format!("sandbox platform CA key: {e}")))?;
    let issuer = rcgen::Issuer::new(ca.params.clone(), ca_key);
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "Tenpay.com platform certificate (wechatpay-refund sandbox, TEST)",
    );
    let mut serial = [0u8; 20];
    crypto::random_bytes(&mut serial);
    serial[0] &= 0x7f; // positive
    serial[0] |= 0x10; // no leading zero byte
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    // Whole days (X.509 times are to the second; rcgen's helper takes a date).
    let today = now().div_euclid(86_400);
    let (not_before, not_after) = ((today - 1) * 86_400, (today + 5 * 365) * 86_400);
    let date = |unix: i64| {
        let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
        rcgen::date_time_ymd(y as i32, m as u8, d as u8)
    };
    params.not_before = date(not_before);
    params.not_after = date(not_after);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| RefundError::config(format!("sandbox platform certificate: {e}")))?;
    Ok((
        crypto::der::hex_upper(&serial),
        cert.pem(),
        not_before,
        not_after,
    ))
}

/// The merchant's API certificate (`apiclient_cert.pem`, TEST, self-signed) for `key_pem`,
/// with `serial_hex` as its serial, as WeChat Pay's CA issues it to a merchant.
pub(crate) fn merchant_certificate(key_pem: &str, serial_hex: &str, mchid: &str) -> Result<String> {
    let cfg = |e: rcgen::Error| RefundError::config(format!("sandbox merchant certificate: {e}"));
    let key =
        rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256).map_err(cfg)?;
    let padded = if serial_hex.len() % 2 == 1 {
        format!("0{serial_hex}")
    } else {
        serial_hex.to_string()
    };
    let serial: Vec<u8> = (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| RefundError::config(format!("sandbox merchant serial: {e}")))?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, mchid);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "微信商户系统 (TEST)");
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    Ok(params.self_signed(&key).map_err(cfg)?.pem())
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Shared {
    pub fn new(keys: Keys) -> Self {
        Self {
            auto_succeed_after: None,
            sandbox: std::sync::OnceLock::new(),
            keys,
            state: Mutex::new(State::default()),
            faults: Mutex::new(VecDeque::new()),
            random_faults: Mutex::new(None),
            stopping: AtomicBool::new(false),
            senders: Mutex::new(Vec::new()),
            delivered: AtomicUsize::new(0),
            faults_injected: AtomicUsize::new(0),
            corrupt_bills: AtomicUsize::new(0),
            v2: v2::V2Shared::new(),
            toggle: AtomicUsize::new(0),
            enforce_limits: false,
            notify_speedup: 1000,
            generation: AtomicU64::new(0),
            limits: Mutex::new(Limits::default()),
        }
    }

    /// Forget every order, refund and logged request, the v2 state, pending notification
    /// retries and the clock's advance (the control API's reset).
    pub fn reset(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.state() = State::default();
        self.corrupt_bills.store(0, Ordering::SeqCst);
        *self.limits.lock().unwrap_or_else(|p| p.into_inner()) = Limits::default();
        self.v2.reset();
    }

    /// Move the sandbox clock `seconds` ahead (or back); returns its time now.
    pub fn advance_clock(&self, seconds: i64) -> i64 {
        let mut st = self.state();
        st.clock_offset = st.clock_offset.saturating_add(seconds);
        st.clock()
    }

    /// The sandbox clock (Unix seconds).
    pub fn clock(&self) -> i64 {
        self.state().clock()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn create_order(&self, out_trade_no: &str, total: i64) -> Result<String> {
        self.create_order_with(out_trade_no, total, None)
    }

    /// Seed an order, with a chosen `transaction_id` or a generated one.
    pub fn create_order_with(
        &self,
        out_trade_no: &str,
        total: i64,
        transaction_id: Option<String>,
    ) -> Result<String> {
        self.create_order_owned(out_trade_no, total, transaction_id, None)
    }

    /// Seed an order; with `sub_mchid` it belongs to that sub-merchant only.
    pub fn create_order_owned(
        &self,
        out_trade_no: &str,
        total: i64,
        transaction_id: Option<String>,
        sub_mchid: Option<String>,
    ) -> Result<String> {
        validate::out_trade_no("out_trade_no", out_trade_no)?;
        if let Some(s) = &sub_mchid {
            validate::mchid("sub_mchid", s)?;
        }
        if let Some(t) = &transaction_id {
            if t.is_empty() || t.len() > 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(RefundError::invalid(
                    "transaction_id",
                    "1 to 32 letters and digits",
                ));
            }
        }
        if total < 1 {
            return Err(RefundError::invalid("total", "must be at least 1 fen"));
        }
        let mut st = self.state();
        if st.orders.contains_key(out_trade_no) {
            return Err(RefundError::invalid(
                "out_trade_no",
                "an order with this number exists",
            ));
        }
        st.seq += 1;
        let transaction_id =
            transaction_id.unwrap_or_else(|| format!("4200{:014}{:010}", now(), st.seq));
        if st.by_transaction.contains_key(&transaction_id) {
            return Err(RefundError::invalid(
                "transaction_id",
                "an order with this transaction_id exists",
            ));
        }
        st.by_transaction
            .insert(transaction_id.clone(), out_trade_no.to_string());
        let paid_at = st.clock();
        st.orders.insert(
            out_trade_no.to_string(),
            Order {
                transaction_id: transaction_id.clone(),
                total,
                refunds: Vec::new(),
                owner: sub_mchid.map(Some),
                paid_at,
            },
        );
        Ok(transaction_id)
    }

    pub fn refund_count(&self, out_trade_no: &str) -> u32 {
        self.state()
            .orders
            .get(out_trade_no)
            .map_or(0, |o| o.refunds.len() as u32)
    }

    pub fn refunded_total(&self, out_trade_no: &str) -> i64 {
        let st = self.state();
        st.orders.get(out_trade_no).map_or(0, |o| st.usage(o).1)
    }

    pub fn abnormal_recipient(&self, out_refund_no: &str) -> Option<Vec<String>> {
        let st = self.state();
        st.find(out_refund_no, None)
            .and_then(|k| st.refunds.get(&k))
            .and_then(|r| r.recipient.clone())
            .map(|(a, b, c)| vec![a, b, c])
    }

    pub fn set_refund_status(
        self: &std::sync::Arc<Self>,
        out_refund_no: &str,
        status: RefundStatus,
    ) -> Result<()> {
        self.set_refund_status_of(out_refund_no, None, status)
    }

    /// Move a refund (of `sub_mchid`, when given) to `status` and notify. SUCCESS and CLOSED
    /// are final (docs/protocol.md "Refund status"): nothing moves a refund out of them.
    pub fn set_refund_status_of(
        self: &std::sync::Arc<Self>,
        out_refund_no: &str,
        sub_mchid: Option<&str>,
        status: RefundStatus,
    ) -> Result<()> {
        if !status.is_known() {
            return Err(RefundError::invalid(
                "status",
                "must be a known refund status",
            ));
        }
        let (key, notify_url) = {
            let mut st = self.state();
            let clock = st.clock();
            let key = st.find(out_refund_no, sub_mchid).ok_or_else(|| {
                RefundError::invalid("out_refund_no", "no such refund in the sandbox")
            })?;
            let r = st.refunds.get_mut(&key).expect("found");
            let fin = matches!(r.status, RefundStatus::Success | RefundStatus::Closed);
            if fin && r.status != status {
                return Err(RefundError::invalid(
                    "status",
                    format!(
                        "the refund is {}, a final status: it cannot become {}",
                        r.status.as_str(),
                        status.as_str()
                    ),
                ));
            }
            if !(fin && r.status == status) {
                r.status = status.clone();
                r.success_time = (status == RefundStatus::Success).then_some(clock);
            }
            (key, r.notify_url.clone())
        };
        if let (Some(url), true) = (notify_url, status != RefundStatus::Processing) {
            let (body, use_public) = self.notification_body(&key)?;
            let me = self.clone();
            let generation = self.generation.load(Ordering::SeqCst);
            let handle = std::thread::Builder::new()
                .name("wechatpay-sandbox-notify".into())
                .spawn(move || me.deliver(&url, &body, use_public, generation))
                .map_err(|e| RefundError::config(format!("spawn notifier: {e}")))?;
            let mut all = self.senders.lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|h| !h.is_finished());
            all.push(handle);
        }
        self.v2_status_changed(&key, &status)?;
        Ok(())
    }

    /// WeChat Pay's re-delivery schedule after a failed notification (docs/protocol.md
    /// "Callbacks"), in seconds: 24 h 4 m in all.
    pub(crate) const RETRY_SCHEDULE_SECS: [u64; 15] = [
        15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10_800, 10_800, 10_800, 21_600, 21_600,
    ];

    /// POST a notification, re-signed for every attempt (a fresh timestamp and nonce: a
    /// re-delivery hours later must pass the receiver's 5-minute window), until the merchant
    /// answers 200 or 204 (docs/protocol.md: anything else is retried), on WeChat Pay's schedule
    /// sped up `notify_speedup` times. A reset or stop ends the retries.
    fn deliver(&self, url: &str, body: &[u8], use_public: bool, generation: u64) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent();
        let speedup = self.notify_speedup.max(1);
        let gone =
            || stopping(&self.stopping) || self.generation.load(Ordering::SeqCst) != generation;
        for wait_secs in std::iter::once(0).chain(Self::RETRY_SCHEDULE_SECS) {
            let until =
                std::time::Instant::now() + Duration::from_millis(wait_secs * 1000 / speedup);
            while std::time::Instant::now() < until {
                if gone() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if gone() {
                return;
            }
            let Ok(signed) = self.sign(body, use_public, now(), None) else {
                return;
            };
            let mut req = agent.post(url).header("Content-Type", "application/json");
            for (k, v) in &signed {
                req = req.header(k, v);
            }
            if let Ok(resp) = req.send(body) {
                if matches!(resp.status().as_u16(), 200 | 204) {
                    self.delivered.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
        }
    }

    /// The signed notification of a refund's current status, as it would be POSTed now.
    pub fn notification(&self, out_refund_no: &str) -> Result<SandboxNotification> {
        self.notification_of(out_refund_no, None)
    }

    /// [`Self::notification`] of a sub-merchant's refund.
    pub fn notification_of(
        &self,
        out_refund_no: &str,
        sub_mchid: Option<&str>,
    ) -> Result<SandboxNotification> {
        let key = self.state().find(out_refund_no, sub_mchid).ok_or_else(|| {
            RefundError::invalid("out_refund_no", "no such refund in the sandbox")
        })?;
        let (body, use_public) = self.notification_body(&key)?;
        let signed = self.sign(&body, use_public, now(), None)?;
        let mut headers: HashMap<String, String> = signed.into_iter().collect();
        headers.insert("Content-Type".into(), "application/json".into());
        Ok(SandboxNotification { headers, body })
    }

    /// The notification body of the refund at `key` and which kind of key signs it.
    fn notification_body(&self, key: &str) -> Result<(Vec<u8>, bool)> {
        let r = self.state().refunds.get(key).cloned().ok_or_else(|| {
            RefundError::invalid("out_refund_no", "no such refund in the sandbox")
        })?;
        let (event, summary) = match r.status {
            RefundStatus::Success => ("REFUND.SUCCESS", "退款成功"),
            RefundStatus::Abnormal => ("REFUND.ABNORMAL", "退款异常"),
            RefundStatus::Closed => ("REFUND.CLOSED", "退款关闭"),
            _ => {
                return Err(RefundError::invalid(
                    "out_refund_no",
                    "a PROCESSING refund has no notification",
                ))
            }
        };
        let mut plain = match &r.sub_mchid {
            Some(sub) => json!({"sp_mchid": self.keys.mchid, "sub_mchid": sub}),
            None => json!({"mchid": self.keys.mchid}),
        };
        let obj = plain.as_object_mut().expect("object");
        obj.insert("out_trade_no".into(), json!(r.out_trade_no));
        obj.insert("transaction_id".into(), json!(r.transaction_id));
        obj.insert("out_refund_no".into(), json!(r.out_refund_no));
        obj.insert("refund_id".into(), json!(r.refund_id));
        obj.insert("refund_status".into(), json!(r.status.as_str()));
        if let Some(t) = r.success_time {
            obj.insert("success_time".into(), json!(rfc3339_cst(t)));
        }
        obj.insert(
            "user_received_account".into(),
            json!(r.user_received_account),
        );
        obj.insert(
            "amount".into(),
            json!({"total": r.total, "refund": r.refund, "payer_total": r.total, "payer_refund": r.refund}),
        );
        let key = ApiV3Key::new(&self.keys.api_v3_key)?;
        let resource = encrypt_resource(
            &key,
            CryptoBackend::AwsLc,
            plain.to_string().as_bytes(),
            &crypto::random_string(12, b"abcdefghijklmnopqrstuvwxyz0123456789"),
            Some("refund"),
            "refund",
        )?;
        // One notification per refund and event: WeChat Pay delivers the same `id` again
        // (freshly signed) until the merchant acknowledges it.
        let id = {
            let digest = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("{}\n{}\n{}", self.keys.mchid, r.refund_id, event).as_bytes(),
            );
            let h: String = digest.as_ref()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        };
        let body = json!({
            "id": id,
            "create_time": rfc3339_cst(now()),
            "resource_type": "encrypt-resource",
            "event_type": event,
            "summary": summary,
            "resource": resource,
        })
        .to_string()
        .into_bytes();
        // Migration mode: notifications alternate between the two keys.
        let use_public = match self.keys.mode {
            SandboxKeyMode::PublicKey => true,
            SandboxKeyMode::Certificate => false,
            SandboxKeyMode::Both => self.toggle.fetch_add(1, Ordering::SeqCst) % 2 == 0,
        };
        Ok((body, use_public))
    }

    /// Signature headers for `body`, by the public key (`use_public`) or the platform certificate.
    fn sign(
        &self,
        body: &[u8],
        use_public: bool,
        ts: i64,
        fault: Option<&SandboxFault>,
    ) -> Result<Vec<(String, String)>> {
        // The current key of each kind (the newest after a rotation).
        let (serial, key): (String, Arc<RsaPrivateKey>) = {
            let live = self.keys.live();
            match (live.public_key(), live.platform()) {
                (Some(w), _) if use_public => (w.id.clone(), w.key.clone()),
                (_, Some(p)) => (p.serial.clone(), p.key.clone()),
                (Some(w), None) => (w.id.clone(), w.key.clone()),
                (None, None) => {
                    return Err(RefundError::config("the sandbox has no WeChat Pay key"))
                }
            }
        };
        let nonce = generate_nonce();
        let ts = if fault == Some(&SandboxFault::StaleTimestamp) {
            ts - 600
        } else {
            ts
        };
        let sig = key
            .sign_sha256(&response_message(&ts.to_string(), &nonce, body))
            .map_err(RefundError::config)?;
        let mut signature = base64::engine::general_purpose::STANDARD.encode(sig);
        if fault == Some(&SandboxFault::ProbeSignature) {
            signature = format!("{PROBE_PREFIX}{signature}");
        }
        let serial = if fault == Some(&SandboxFault::UnknownSerial) {
            "PUB_KEY_ID_0119999999999999999999999999999999".to_string()
        } else {
            serial
        };
        Ok(vec![
            ("Wechatpay-Timestamp".into(), ts.to_string()),
            ("Wechatpay-Nonce".into(), nonce),
            ("Wechatpay-Signature".into(), signature),
            ("Wechatpay-Serial".into(), serial),
            ("Wechatpay-Signature-Type".into(), SCHEME.into()),
            ("Request-ID".into(), random_hex(21)),
        ])
    }

    /// Check a request's `Authorization` as WeChat Pay does: 401 SIGN_ERROR on any mismatch.
    fn authenticate(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> std::result::Result<(), Reply> {
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        if get("User-Agent").is_none_or(|v| v.trim().is_empty()) {
            return Err(error_reply(
                400,
                "INVALID_REQUEST",
                "请求头缺少User-Agent",
                Some("User-Agent"),
            ));
        }
        // The real service answers JSON to what the official SDKs send: `application/json`
        // (wechatpay-java, wechatpayv3), `*/*` (wechatpay-go, curl) or no Accept at all; only
        // an Accept that excludes JSON is refused.
        let accepts_json = |v: &str| {
            v.split(',').any(|r| {
                let media = r.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
                    || media == "*/*"
                    || media.eq_ignore_ascii_case("application/*")
            })
        };
        if !get("Accept").is_none_or(accepts_json) {
            return Err(error_reply(
                400,
                "INVALID_REQUEST",
                "Accept 须包含 application/json",
                Some("Accept"),
            ));
        }
        let sign_error =
            |why: &str| error_reply(401, "SIGN_ERROR", &format!("签名错误: {why}"), None);
        let auth = get("Authorization").ok_or_else(|| sign_error("missing Authorization"))?;
        let f = parse_authorization(auth).map_err(|e| sign_error(&e))?;
        if f.mchid != self.keys.mchid {
            return Err(sign_error("mchid does not match"));
        }
        if !f.serial_no.eq_ignore_ascii_case(&self.keys.merchant_serial) {
            return Err(sign_error(
                "serial_no is not the merchant certificate serial",
            ));
        }
        if now().abs_diff(f.timestamp) > TIMESTAMP_WINDOW_SECS as u64 {
            return Err(sign_error("timestamp out of the 5-minute window"));
        }
        let msg = request_message(method, url, f.timestamp, &f.nonce, body);
        if !self.keys.merchant_public.verify_sha256(&msg, &f.signature) {
            return Err(sign_error("signature does not verify"));
        }
        Ok(())
    }

    fn route(&self, method: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let sub_mchid = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("sub_mchid="))
            .and_then(percent_decode);
        const BASE: &str = "/v3/refund/domestic/refunds";
        match (method, path) {
            ("POST", BASE) => self.create_refund(body),
            ("GET", "/v3/certificates") => self.certificates(),
            ("GET", "/v3/bill/tradebill") => {
                let base = self
                    .sandbox
                    .get()
                    .and_then(std::sync::Weak::upgrade)
                    .map(|sb| sb.base_url())
                    .unwrap_or_default();
                self.trade_bill(query, &base)
            }
            ("GET", bill::FILE_PATH) => self.bill_file(query),
            ("POST", p) if p.starts_with(BASE) && p.ends_with("/apply-abnormal-refund") => {
                let id = &p[BASE.len() + 1..p.len() - "/apply-abnormal-refund".len()];
                match percent_decode(id) {
                    Some(id) => self.apply_abnormal(&id, headers, body),
                    None => {
                        error_reply(400, "PARAM_ERROR", "refund_id 格式错误", Some("refund_id"))
                    }
                }
            }
            ("GET", p) if p.starts_with(BASE) && p[BASE.len()..].starts_with('/') => {
                match percent_decode(&p[BASE.len() + 1..]) {
                    Some(no) => self.query(&no, sub_mchid.as_deref()),
                    None => error_reply(
                        400,
                        "PARAM_ERROR",
                        "out_refund_no 格式错误",
                        Some("out_refund_no"),
                    ),
                }
            }
            _ => error_reply(404, "NOT_FOUND", "无此接口", None),
        }
    }

    fn refund_json(&self, r: &RefundRec) -> Vec<u8> {
        let mut amount = json!({
            "total": r.total, "refund": r.refund, "payer_total": r.total, "payer_refund": r.refund,
            "settlement_refund": r.refund, "settlement_total": r.total, "discount_refund": 0, "currency": "CNY",
            "refund_fee": 0
        });
        if r.from.as_array().is_some_and(|a| !a.is_empty()) {
            amount["from"] = r.from.clone();
        }
        let mut v = json!({
            "refund_id": r.refund_id, "out_refund_no": r.out_refund_no, "transaction_id": r.transaction_id,
            "out_trade_no": r.out_trade_no, "channel": r.channel, "user_received_account": r.user_received_account,
            "create_time": rfc3339_cst(r.create_time), "status": r.status.as_str(),
            "funds_account": r.funds_account, "amount": amount, "promotion_detail": []
        });
        if let Some(t) = r.success_time {
            v["success_time"] = json!(rfc3339_cst(t));
        }
        v.to_string().into_bytes()
    }

    fn create_refund(&self, body: &[u8]) -> Reply {
        let v: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return error_reply(400, "PARAM_ERROR", "请求体不是合法的JSON", None),
        };
        if let Err(p) = rules::no_four_byte_chars(body).and_then(|()| rules::create_refund(&v)) {
            return problem_reply(p);
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let out_refund_no = s("out_refund_no").expect("checked by the rules");
        let amount = |k: &str| v["amount"][k].as_i64().expect("checked by the rules");
        let (refund, total) = (amount("refund"), amount("total"));
        let sub_mchid = s("sub_mchid");
        let mut st = self.state();
        let clock = st.clock();
        // transaction_id wins when both are given (docs/protocol.md).
        let (order_field, out_trade_no) = match (s("transaction_id"), s("out_trade_no")) {
            (Some(t), _) => ("transaction_id", st.by_transaction.get(&t).cloned()),
            (None, o) => ("out_trade_no", o),
        };
        let Some(order) = out_trade_no.as_ref().and_then(|o| st.orders.get(o)) else {
            return error_reply(404, "RESOURCE_NOT_EXISTS", "订单不存在", None);
        };
        let out_trade_no = out_trade_no.clone().expect("order found by it");
        // An order is one merchant's: another sub-merchant cannot see (by its number) nor
        // refund (by WeChat Pay's transaction_id) it.
        if let Some(owner) = &order.owner {
            if *owner != sub_mchid {
                return if order_field == "transaction_id" {
                    error_reply(403, "NO_AUTH", "没有退款权限：订单不属于该商户", None)
                } else {
                    error_reply(404, "RESOURCE_NOT_EXISTS", "订单不存在", None)
                };
            }
        }
        let key = refund_key(sub_mchid.as_deref(), &out_refund_no);
        if let Some(existing) = st.refunds.get(&key) {
            // Same out_refund_no: the same refund, once. Another request under its number
            // is refused (v2 answers REFUND_FEE_MISMATCH).
            let differs = if existing.out_trade_no != out_trade_no {
                Some(order_field)
            } else if existing.total != total {
                Some("amount.total")
            } else if existing.refund != refund {
                Some("amount.refund")
            } else {
                None
            };
            if let Some(field) = differs {
                return problem_reply(Problem::business(
                    400,
                    "INVALID_REQUEST",
                    Some(field),
                    format!("同一商户退款单号的参数与原请求不一致: {field}"),
                ));
            }
            return Reply {
                status: 200,
                body: self.refund_json(existing),
            };
        }
        if total != order.total {
            return error_reply(
                400,
                "INVALID_REQUEST",
                "订单金额与原订单不一致",
                Some("amount.total"),
            );
        }
        if clock - order.paid_at > REFUND_WINDOW_SECS {
            return error_reply(
                400,
                "INVALID_REQUEST",
                "订单已超过退款期限：交易时间超过一年的订单无法提交退款",
                None,
            );
        }
        let (live, refunded) = st.usage(order);
        if live >= 50 {
            return error_reply(400, "INVALID_REQUEST", "部分退款次数超过50次", None);
        }
        if refunded + refund > order.total {
            return error_reply(
                400,
                "INVALID_REQUEST",
                "申请退款金额超过订单可退金额",
                Some("amount.refund"),
            );
        }
        if self.enforce_limits {
            let last = order
                .refunds
                .iter()
                .filter_map(|k| st.refunds.get(k))
                .map(|r| r.create_time)
                .max();
            if last.is_some_and(|t| clock - t < 60) {
                return error_reply(
                    429,
                    "FREQUENCY_LIMITED",
                    "同一笔订单多次退款的请求需相隔1分钟",
                    None,
                );
            }
        }
        let order_tx = order.transaction_id.clone();
        st.seq += 1;
        let rec = RefundRec {
            refund_id: format!("5030{:015}{:010}", now(), st.seq),
            out_refund_no: out_refund_no.clone(),
            out_trade_no: out_trade_no.clone(),
            transaction_id: order_tx,
            sub_mchid: sub_mchid.clone(),
            refund,
            total,
            from: v.pointer("/amount/from").cloned().unwrap_or(json!([])),
            status: RefundStatus::Processing,
            channel: "ORIGINAL",
            user_received_account: "支付用户零钱".into(),
            funds_account: s("funds_account")
                .unwrap_or_else(|| rules::DEFAULT_FUNDS_ACCOUNT.into()),
            create_time: clock,
            success_time: None,
            notify_url: s("notify_url"),
            recipient: None,
        };
        let body = self.refund_json(&rec);
        let order = st.orders.get_mut(&out_trade_no).expect("order");
        order.refunds.push(key.clone());
        order.owner.get_or_insert(sub_mchid);
        st.refunds.insert(key.clone(), rec);
        drop(st);
        if let Some(after) = self.auto_succeed_after {
            self.succeed_later(key, after);
        }
        Reply { status: 200, body }
    }

    /// Like the real service: a PROCESSING refund becomes SUCCESS (and is notified) by itself.
    fn succeed_later(&self, out_refund_no: String, after: Duration) {
        let Some(sandbox) = self.sandbox.get().cloned() else {
            return;
        };
        let handle = std::thread::Builder::new()
            .name("wechatpay-sandbox-auto-succeed".into())
            .spawn(move || {
                let until = std::time::Instant::now() + after;
                while std::time::Instant::now() < until {
                    // A stopped or dropped sandbox ends the wait at once (stop() never joins
                    // the thread it runs on, should the last reference be dropped here).
                    match sandbox.upgrade() {
                        Some(sb) if !stopping(&sb.shared.stopping) => {}
                        _ => return,
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if let Some(sb) = sandbox.upgrade() {
                    let processing = sb
                        .shared
                        .state()
                        .refunds
                        .get(&out_refund_no)
                        .is_some_and(|r| r.status == RefundStatus::Processing);
                    if processing {
                        let _ = sb.set_refund_status(out_refund_no, RefundStatus::Success);
                    }
                }
            });
        if let Ok(h) = handle {
            let mut all = self.senders.lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|h| !h.is_finished());
            all.push(h);
        }
    }

    fn query(&self, out_refund_no: &str, sub_mchid: Option<&str>) -> Reply {
        if let Err(e) = validate::query_refund(out_refund_no, sub_mchid) {
            return problem_reply(match e {
                RefundError::InvalidInput { field, reason } => Problem::param(field, None, reason),
                e => Problem::param("out_refund_no", None, e.to_string()),
            });
        }
        let st = self.state();
        // Only the merchant's own refunds: another sub-merchant's is not found.
        match st.refunds.get(&refund_key(sub_mchid, out_refund_no)) {
            Some(r) if r.sub_mchid.as_deref() == sub_mchid => Reply {
                status: 200,
                body: self.refund_json(r),
            },
            _ => match st.refunds.get(out_refund_no) {
                // A v2 refund (keyed by its number alone) of this merchant.
                Some(r) if r.sub_mchid.as_deref() == sub_mchid => Reply {
                    status: 200,
                    body: self.refund_json(r),
                },
                _ => error_reply(404, "RESOURCE_NOT_EXISTS", "退款单不存在", None),
            },
        }
    }

    fn apply_abnormal(&self, refund_id: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
        let v: Value = match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.is_object() => v,
            _ => return error_reply(400, "PARAM_ERROR", "请求体不是合法的JSON", None),
        };
        if let Err(p) = rules::no_four_byte_chars(body) {
            return problem_reply(p);
        }
        let s = |f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
        let param = |f: &str, issue: &str| problem_reply(Problem::param(f, v.get(f), issue));
        let Some(out_refund_no) = s("out_refund_no") else {
            return param("out_refund_no", "is required");
        };
        if validate::out_refund_no("out_refund_no", &out_refund_no).is_err() {
            return param(
                "out_refund_no",
                "只能是数字、大小写字母_-|*@，不超过64个字节",
            );
        }
        let sub_mchid = s("sub_mchid");
        if let Some(sub) = &sub_mchid {
            if validate::mchid("sub_mchid", sub).is_err() {
                return param("sub_mchid", "must be digits");
            }
        }
        let kind = s("type");
        let to_user = match kind.as_deref() {
            Some("USER_BANK_CARD") => true,
            Some("MERCHANT_BANK_CARD") => false,
            _ => return param("type", "须为 USER_BANK_CARD 或 MERCHANT_BANK_CARD"),
        };
        let bank = if to_user {
            let Some(bank_type) = s("bank_type") else {
                return param("bank_type", "退款至用户时必填");
            };
            match rules::bank_name(&bank_type) {
                Some(name) => Some((bank_type, name)),
                None => {
                    return param(
                        "bank_type",
                        "仅支持招行、交通银行、农行、建行、工商、中行、平安、浦发、中信、光大、民生、兴业、广发、邮储、宁波银行的借记卡",
                    )
                }
            }
        } else {
            None
        };
        // The fields to the user's card are encrypted: only then must Wechatpay-Serial name
        // the key they were encrypted with.
        let key: Option<Arc<RsaPrivateKey>> = if to_user {
            let serial = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Wechatpay-Serial"))
                .map(|(_, v)| v.clone());
            let Some(s) = serial else {
                return problem_reply(Problem::param(
                    "Wechatpay-Serial",
                    None,
                    "缺少Wechatpay-Serial：请求含加密字段时必填",
                ));
            };
            // Any live key may be named (the fields were encrypted with it), not only the newest.
            let live = self.keys.live();
            let public = live
                .public_keys
                .iter()
                .find(|w| w.id == s)
                .map(|w| w.key.clone());
            let platform = || {
                live.platforms
                    .iter()
                    .find(|p| {
                        crypto::der::normalize_hex(&s) == crypto::der::normalize_hex(&p.serial)
                    })
                    .map(|p| p.key.clone())
            };
            match public.or_else(platform) {
                Some(k) => Some(k),
                None => {
                    return problem_reply(Problem::param(
                        "Wechatpay-Serial",
                        Some(&json!(s)),
                        "不是有效的微信支付公钥或平台证书",
                    ))
                }
            }
        } else {
            None
        };
        let decrypt = |field: &str| -> std::result::Result<String, Reply> {
            let bad = || param(field, "退款至用户时必填，须为用微信支付公钥加密的密文");
            let ct = base64::engine::general_purpose::STANDARD
                .decode(s(field).ok_or_else(bad)?)
                .map_err(|_| bad())?;
            let key = key.as_ref().ok_or_else(bad)?;
            let plain = key.oaep_sha1_decrypt(&ct).map_err(|_| bad())?;
            String::from_utf8(plain.to_vec()).map_err(|_| bad())
        };
        let recipient = match bank {
            Some((bank_type, bank_name)) => {
                let account = match decrypt("bank_account") {
                    Ok(a) => a,
                    Err(r) => return r,
                };
                if account.len() < 8
                    || account.len() > 32
                    || !account.bytes().all(|b| b.is_ascii_digit())
                {
                    return param("bank_account", "银行卡号须为8到32位数字");
                }
                let name = match decrypt("real_name") {
                    Ok(n) => n,
                    Err(r) => return r,
                };
                if name.trim().is_empty() {
                    return param("real_name", "收款用户姓名不能为空");
                }
                Some((bank_type, bank_name, account, name))
            }
            None => None,
        };
        let mut st = self.state();
        let Some(key) = st
            .refunds
            .iter()
            .find(|(_, r)| r.refund_id == refund_id)
            .map(|(k, _)| k.clone())
        else {
            return error_reply(404, "RESOURCE_NOT_EXISTS", "退款单不存在", None);
        };
        let rec = st.refunds.get_mut(&key).expect("found");
        // Service-provider mode names the sub-merchant ("服务商模式下必须传递此参数"); a
        // direct merchant has none.
        match (&rec.sub_mchid, &sub_mchid) {
            (Some(_), None) => return param("sub_mchid", "服务商模式下必须传递此参数"),
            (None, Some(_)) => return param("sub_mchid", "直连商户的退款单不接受 sub_mchid"),
            (Some(a), Some(b)) if a != b => {
                return error_reply(404, "RESOURCE_NOT_EXISTS", "退款单不存在", None)
            }
            _ => {}
        }
        if out_refund_no != rec.out_refund_no {
            return param("out_refund_no", "out_refund_no 与退款单不一致");
        }
        if rec.status != RefundStatus::Abnormal {
            return error_reply(400, "INVALID_REQUEST", "退款单状态不是退款异常", None);
        }
        match recipient {
            Some((bank_type, bank_name, account, name)) => {
                // {银行名称}{卡类型}{卡尾号} (seed), e.g. 工商银行借记卡1234.
                let tail = &account[account.len().saturating_sub(4)..];
                rec.user_received_account = format!("{bank_name}借记卡{tail}");
                rec.channel = "OTHER_BANKCARD";
                rec.recipient = Some((bank_type, account, name));
            }
            None => {
                // To the merchant's settlement bank account (WeChat Pay: 退款至交易商户银行账户).
                rec.user_received_account = "商户结算银行账户".into();
                rec.channel = "OTHER_BANKCARD";
            }
        }
        rec.status = RefundStatus::Processing;
        let body = self.refund_json(rec);
        Reply { status: 200, body }
    }

    fn certificates(&self) -> Reply {
        let live = self.keys.live();
        if live.platforms.is_empty() {
            return error_reply(
                404,
                "RESOURCE_NOT_EXISTS",
                "商户已切换为微信支付公钥模式，无平台证书",
                None,
            );
        }
        let key = match ApiV3Key::new(&self.keys.api_v3_key) {
            Ok(k) => k,
            Err(_) => return error_reply(500, "SYSTEM_ERROR", "系统错误", None),
        };
        let mut data = Vec::new();
        for p in &live.platforms {
            let nonce = crypto::random_string(12, b"abcdefghijklmnopqrstuvwxyz0123456789");
            let Ok(enc) = encrypt_resource(
                &key,
                CryptoBackend::AwsLc,
                p.cert_pem.as_bytes(),
                &nonce,
                Some("certificate"),
                "certificate",
            ) else {
                return error_reply(500, "SYSTEM_ERROR", "系统错误", None);
            };
            data.push(json!({
                "serial_no": p.serial,
                "effective_time": rfc3339_cst(p.not_before),
                "expire_time": rfc3339_cst(p.not_after),
                "encrypt_certificate": {
                    "algorithm": enc.algorithm, "nonce": enc.nonce,
                    "associated_data": enc.associated_data, "ciphertext": enc.ciphertext
                }
            }));
        }
        Reply {
            status: 200,
            body: json!({ "data": data }).to_string().into_bytes(),
        }
    }

    /// Log a request on arrival; returns its index for `answered`.
    fn record(&self, method: &str, url: &str) -> usize {
        let mut st = self.state();
        st.requests.push(super::SandboxRequest {
            method: method.into(),
            url: url.into(),
            status: 0,
        });
        st.requests.len() - 1
    }

    fn answered(&self, index: usize, status: u16) {
        if let Some(r) = self.state().requests.get_mut(index) {
            r.status = status;
        }
    }
    /// With `enforce_limits`: 429 beyond 150 requests, or 6 failing ones, in the last second
    /// (docs/protocol.md "Limits"; WeChat Pay's 150qps and "错误或无效请求频率限制:6qps").
    fn limited(&self) -> Option<Reply> {
        if !self.enforce_limits {
            return None;
        }
        let now = std::time::Instant::now();
        let second = Duration::from_secs(1);
        let mut guard = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        let l = &mut *guard;
        for q in [&mut l.requests, &mut l.failures] {
            while q.front().is_some_and(|t| now.duration_since(*t) >= second) {
                q.pop_front();
            }
        }
        if l.failures.len() >= 6 {
            return Some(error_reply(
                429,
                "FREQUENCY_LIMITED",
                "错误或无效请求过多，请检查业务后降低频率重试",
                None,
            ));
        }
        if l.requests.len() >= 150 {
            return Some(error_reply(
                429,
                "FREQUENCY_LIMITED",
                "请求频率超过限制(150次/秒)，请降低频率后重试",
                None,
            ));
        }
        l.requests.push_back(now);
        None
    }

    /// Count a failing answer toward the 6-failing-a-second limit.
    fn failed(&self) {
        if self.enforce_limits {
            let mut l = self.limits.lock().unwrap_or_else(|p| p.into_inner());
            if l.failures.len() < 1000 {
                l.failures.push_back(std::time::Instant::now());
            }
        }
    }

    fn next_fault(&self) -> Option<SandboxFault> {
        if let Some(f) = self
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            return Some(f);
        }
        let random = self.random_faults.lock().unwrap_or_else(|p| p.into_inner());
        let (per_mille, faults) = random.as_ref()?;
        let mut r = [0u8; 4];
        crypto::random_bytes(&mut r);
        let draw = u32::from_le_bytes(r);
        (draw % 1000 < *per_mille && !faults.is_empty())
            .then(|| faults[(draw / 1000) as usize % faults.len()].clone())
    }

    /// Answer one request: faults, authentication, routing, signing.
    pub(crate) fn handle(&self, request: Incoming) -> Outcome {
        let Incoming {
            method,
            url,
            headers,
            body,
        } = request;
        // The control API: its own prefix, never signed, never logged, never faulted.
        if url.starts_with(super::control::PREFIX) {
            let (status, body) = match self.sandbox.get().and_then(std::sync::Weak::upgrade) {
                Some(sb) => super::control::handle(&sb, &method, &url, &body),
                None => (503, br#"{"message":"the sandbox is stopping"}"#.to_vec()),
            };
            return Outcome::Respond {
                status,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body,
            };
        }
        let index = self.record(&method, &url);
        let fault = self.next_fault();
        if fault.is_some() {
            self.faults_injected.fetch_add(1, Ordering::SeqCst);
        }
        let reply = match &fault {
            Some(SandboxFault::SystemError) => error_reply(
                500,
                "SYSTEM_ERROR",
                "系统错误，请使用相同参数稍后重试",
                None,
            ),
            Some(SandboxFault::FrequencyLimited) => error_reply(
                429,
                "FREQUENCY_LIMITED",
                "请求频率超过限制，请降低频率后重试",
                None,
            ),
            // A business refusal answers a request that passed the signature check.
            Some(SandboxFault::Refusal {
                refusal,
                after_processing,
            }) => match self.authenticate(&method, &url, &headers, &body) {
                Err(r) => r,
                Ok(()) => {
                    if *after_processing {
                        let _ = self.route(&method, &url, &headers, &body);
                    }
                    refusal_reply(*refusal)
                }
            },
            _ => match self.limited() {
                Some(r) => r,
                None => {
                    let r = match self.authenticate(&method, &url, &headers, &body) {
                        Err(r) => r,
                        Ok(()) => self.route(&method, &url, &headers, &body),
                    };
                    if r.status >= 400 {
                        self.failed();
                    }
                    r
                }
            },
        };
        match &fault {
            Some(SandboxFault::DropConnection) => return Outcome::Drop,
            Some(SandboxFault::Delay { millis }) => {
                let mut left = *millis;
                while left > 0 && !stopping(&self.stopping) {
                    let step = left.min(10);
                    std::thread::sleep(Duration::from_millis(step));
                    left -= step;
                }
            }
            _ => {}
        }
        // Sign with the public key when the request named it (public-key / migration mode).
        let named = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Wechatpay-Serial"))
            .map(|(_, v)| v.as_str());
        let use_public = match self.keys.mode {
            SandboxKeyMode::PublicKey => true,
            SandboxKeyMode::Certificate => false,
            SandboxKeyMode::Both => named.is_some_and(|s| s.starts_with("PUB_KEY_ID_")),
        };
        // The bill file: WeChat Pay does not sign it (its SHA1 was in the signed answer before).
        if reply.status == 200 && url.split('?').next() == Some(bill::FILE_PATH) {
            self.answered(index, reply.status);
            return Outcome::Respond {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "application/octet-stream".into()),
                    ("Request-ID".into(), random_hex(21)),
                ],
                body: reply.body,
            };
        }
        let mut body_out = reply.body;
        let mut signed = self
            .sign(&body_out, use_public, now(), fault.as_ref())
            .unwrap_or_default();
        if fault == Some(SandboxFault::TamperedBody) {
            body_out = String::from_utf8_lossy(&body_out)
                .replacen("\"refund\":", "\"refund\": ", 1)
                .into_bytes();
            body_out.push(b' ');
        }
        self.answered(index, reply.status);
        signed.push(("Content-Type".into(), "application/json".into()));
        Outcome::Respond {
            status: reply.status,
            headers: signed,
            body: body_out,
        }
    }
}
