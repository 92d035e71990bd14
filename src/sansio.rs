//! The sans-IO entry points with explicit time and nonce, as one flat surface (the same in
//! Rust, Python, Kotlin and Swift): build a signed request, parse a response, verify a
//! signature, parse a notification. Bring your own transport; inject the clock for tests.

use crate::bill::{self, Bill, BillDownloadInfo, TradeBillRequest};
use crate::config::{ApiV3Key, ClientConfig};
use crate::error::Result;
use crate::notify::{self, EncryptedResource};
use crate::refund::model::{
    AbnormalRefundRequest, CreateRefundRequest, Refund, RefundNotification,
};
use crate::refund::{request, response};
use crate::transport::{HttpHeader, HttpRequest, HttpResponse};
use crate::verify::{verify_signature, SignatureHeaders};
use std::collections::HashMap;
use std::sync::Arc;

/// Build the signed apply-refund request at `timestamp` (unix seconds) with `nonce`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn build_create_refund_request(
    config: Arc<ClientConfig>,
    request: CreateRefundRequest,
    timestamp: i64,
    nonce: String,
) -> Result<HttpRequest> {
    request::build_create_refund(&config, &request, timestamp, &nonce)
}

/// Build the signed query-refund request at `timestamp` with `nonce`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn build_query_refund_request(
    config: Arc<ClientConfig>,
    out_refund_no: String,
    sub_mchid: Option<String>,
    timestamp: i64,
    nonce: String,
) -> Result<HttpRequest> {
    request::build_query_refund(
        &config,
        &out_refund_no,
        sub_mchid.as_deref(),
        timestamp,
        &nonce,
    )
}

/// Build the signed apply-abnormal-refund request (sensitive fields encrypted) at `timestamp`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn build_apply_abnormal_refund_request(
    config: Arc<ClientConfig>,
    request: AbnormalRefundRequest,
    timestamp: i64,
    nonce: String,
) -> Result<HttpRequest> {
    request::build_apply_abnormal_refund(&config, &request, timestamp, &nonce)
}

/// Verify a refund response (any status) as of `now` (unix seconds) and parse it; error
/// statuses become `RefundError::Api`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn parse_refund_response(
    config: Arc<ClientConfig>,
    response: HttpResponse,
    now: i64,
) -> Result<Refund> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    parse_refund_response_parts(&config, response.status, pairs, &response.body, now)
}

// The functions behind the exports that take headers and bodies, on borrowed arguments. The
// UniFFI exports above, the CPython accelerator (src/python.rs) and the JVM fast path
// (src/jvm.rs, through the exports) all end in these very functions, so a check added here can
// never be missing from one path (issue 24: the accelerator once parsed notifications without
// the merchant check).

/// [`parse_refund_response`] on borrowed parts.
pub(crate) fn parse_refund_response_parts<'h, I>(
    config: &ClientConfig,
    status: u16,
    headers: I,
    body: &[u8],
    now: i64,
) -> Result<Refund>
where
    I: IntoIterator<Item = (&'h str, &'h str)> + Clone,
{
    response::parse_refund_response_parts(config, status, headers, body, now)
}

/// [`verify_wechatpay_signature`] on borrowed parts.
pub(crate) fn verify_wechatpay_signature_parts<'h, I>(
    config: &ClientConfig,
    headers: I,
    body: &[u8],
    now: i64,
) -> Result<()>
where
    I: IntoIterator<Item = (&'h str, &'h str)> + Clone,
{
    let h = SignatureHeaders::from_pairs(headers)?;
    verify_signature(&config.keys.ring(), &h, body, now)
}

/// [`parse_notification_at`] on borrowed parts: verified, decrypted, parsed, and checked to be a
/// refund notification (`REFUND.*`) for the merchant `config` names.
pub(crate) fn parse_notification_parts<'h, I>(
    config: &ClientConfig,
    headers: I,
    body: &[u8],
    now: i64,
) -> Result<RefundNotification>
where
    I: IntoIterator<Item = (&'h str, &'h str)> + Clone,
{
    let note = notify::parse_notification(
        &config.keys.ring(),
        config.api_v3_key()?,
        config.backend,
        headers,
        body,
        now,
    )?;
    notify::check_merchant(&note, &config.mchid, config.service_provider)?;
    Ok(note)
}

/// Verify a WeChat Pay signature (`Wechatpay-*` headers) over `body` as of `now`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn verify_wechatpay_signature(
    config: Arc<ClientConfig>,
    headers: Vec<HttpHeader>,
    body: Vec<u8>,
    now: i64,
) -> Result<()> {
    let pairs = headers.iter().map(|h| (h.name.as_str(), h.value.as_str()));
    verify_wechatpay_signature_parts(&config, pairs, &body, now)
}

/// Verify, decrypt and parse a refund notification as of `now` (unix seconds).
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn parse_notification_at(
    config: Arc<ClientConfig>,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    now: i64,
) -> Result<RefundNotification> {
    let pairs = headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    parse_notification_parts(&config, pairs, &body, now)
}

/// Build the signed trade-bill request (`GET /v3/bill/tradebill?…`) at `timestamp` with `nonce`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn build_trade_bill_request(
    config: Arc<ClientConfig>,
    request: TradeBillRequest,
    timestamp: i64,
    nonce: String,
) -> Result<HttpRequest> {
    bill::build_trade_bill(&config, &request, timestamp, &nonce)
}

/// Verify the trade-bill answer as of `now` and decode it (`hash_type`, `hash_value`,
/// `download_url`); `NO_STATEMENT_EXIST` / `STATEMENT_CREATING` are `RefundError::Api`.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn parse_trade_bill_response(
    config: Arc<ClientConfig>,
    response: HttpResponse,
    now: i64,
) -> Result<BillDownloadInfo> {
    bill::parse_trade_bill_response(&config, &response, now)
}

/// Build the signed GET of a bill file's `download_url` at `timestamp` with `nonce`. Its
/// answer is NOT signed: check it with [`parse_bill_file`] (the SHA1 of the bytes).
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn build_bill_file_request(
    config: Arc<ClientConfig>,
    download_url: String,
    timestamp: i64,
    nonce: String,
) -> Result<HttpRequest> {
    bill::build_bill_file_request(&config, &download_url, timestamp, &nonce)
}

/// Check a downloaded bill file (the body exactly as received, gzip or not) against the
/// `hash_value` of the trade-bill answer, then parse it. A mismatch is a `Signature` error
/// ("bill digest mismatch") and nothing is parsed. Holds the bill in memory: for large bills
/// use the client's `download_bill_to`, which streams.
#[cfg_attr(feature = "ffi", uniffi::export)]
pub fn parse_bill_file(body: Vec<u8>, hash_value: String) -> Result<Bill> {
    let mut h = crate::crypto::Sha1::new();
    h.update(&body);
    let sha1 = h.finish_hex();
    if !sha1.eq_ignore_ascii_case(&hash_value) {
        return Err(bill::download::digest_mismatch(
            &hash_value,
            &sha1,
            body.len() as u64,
        ));
    }
    bill::parse_bill(&body)
}

/// Decrypt an AEAD_AES_256_GCM resource (notification or certificate) with an API v3 key;
/// returns the plaintext text.
#[cfg_attr(feature = "ffi", uniffi::export(default(associated_data = None)))]
pub fn decrypt_resource(
    api_v3_key: String,
    algorithm: String,
    ciphertext: String,
    nonce: String,
    associated_data: Option<String>,
) -> Result<String> {
    let key = ApiV3Key::new(&zeroize::Zeroizing::new(api_v3_key))?;
    let r = EncryptedResource {
        algorithm,
        ciphertext,
        nonce,
        associated_data,
        original_type: String::new(),
    };
    Ok(notify::decrypt_resource(&key, crate::crypto::CryptoBackend::default(), &r)?.to_string())
}
