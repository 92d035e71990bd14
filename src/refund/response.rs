//! Sans-IO response parsing: verify the signature over the raw bytes, then decode.

use super::model::Refund;
use crate::config::ClientConfig;
use crate::error::{RefundError, Result};
use crate::transport::HttpResponse;
use crate::verify::{verify_signature, KeyRing, SignatureHeaders};
use serde::Deserialize;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    issue: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

/// Verify a response (any status) and return its verified body, or the typed API error.
///
/// - 2xx: signature headers are required (a 2xx without them is forged).
/// - other statuses are an error whatever their signature says, so they are reported as
///   `RefundError::Api` first. The signature is checked only where it changes the decision:
///   a signed error answer whose signature does not match (tampered or forged) is a
///   `Signature` error, because its code cannot be believed. What cannot be checked — a
///   timestamp outside the window (a skewed clock), a serial this client does not hold yet
///   (a new certificate), an expired certificate — does not hide the business error behind an
///   "outcome unknown" verification error. A proxy's unsigned 502 is an `Api` error too.
pub fn verify_response<'a>(
    keys: &KeyRing,
    response: &'a HttpResponse,
    now: i64,
    max_body_bytes: u64,
) -> Result<&'a [u8]> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    verify_response_parts(
        keys,
        response.status,
        pairs,
        &response.body,
        now,
        max_body_bytes,
    )
    .map(|(body, _)| body)
}

/// [`verify_response`] from borrowed parts (the Python accelerator hands over the caller's
/// strings and bytes without copying them); also returns the `Request-ID`.
pub fn verify_response_parts<'a, 'h, I>(
    keys: &KeyRing,
    status: u16,
    headers: I,
    body: &'a [u8],
    now: i64,
    max_body_bytes: u64,
) -> Result<(&'a [u8], Option<String>)>
where
    I: IntoIterator<Item = (&'h str, &'h str)> + Clone,
{
    let headers_iter = headers.clone();
    let headers = SignatureHeaders::from_pairs(headers)?;
    if body.len() as u64 > max_body_bytes {
        return Err(RefundError::decode(
            "response",
            format!(
                "body of {} bytes exceeds the {max_body_bytes}-byte cap",
                body.len()
            ),
            headers.request_id.clone(),
        ));
    }
    if (200..300).contains(&status) {
        verify_signature(keys, &headers, body, now)?;
        return Ok((body, headers.request_id));
    }
    let mut api = api_error(status, body, headers.request_id.clone());
    if let RefundError::Api { retry_after_ms, .. } = &mut api {
        *retry_after_ms = retry_after(status, pairs_retry_after(headers_iter));
    }
    if headers.any_present() {
        // Unverifiable for reasons other than forgery (clock, serial, expiry): the business
        // error stands.
        if let Err(e @ (RefundError::Signature { .. } | RefundError::ProbeSignature { .. })) =
            verify_signature(keys, &headers, body, now)
        {
            return Err(e);
        }
    }
    Err(api)
}

/// Control characters (newlines included) escaped, so that a server's text can never forge
/// log lines when an error is printed.
fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The `Retry-After` header's value among these headers (any spelling of the name).
fn pairs_retry_after<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>) -> Option<&'h str> {
    headers
        .into_iter()
        .find(|(k, _)| crate::verify::normalize_header_name(k) == "retry-after")
        .map(|(_, v)| v)
}

/// Longest wait taken from a `Retry-After` header: one hour (a larger value is clipped).
const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// When to retry an error answer, in milliseconds: a 429's or 503's `Retry-After` in
/// delta-seconds (an HTTP date is not trusted: the clocks differ), else one second for a 429
/// (the window of the 150 requests/s limit); `None` otherwise.
pub fn retry_after(status: u16, header: Option<&str>) -> Option<u64> {
    if status != 429 && status != 503 {
        return None;
    }
    let given = header
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.saturating_mul(1000).min(MAX_RETRY_AFTER_MS));
    match (given, status) {
        (Some(ms), _) => Some(ms),
        (None, 429) => Some(1000),
        _ => None,
    }
}

fn api_error(status: u16, body: &[u8], request_id: Option<String>) -> RefundError {
    let retryable = status == 429 || status >= 500;
    let opt = |v: &Option<String>| v.as_deref().map(printable);
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => RefundError::Api {
            status,
            code: printable(&e.code),
            error_message: printable(&e.message),
            detail_field: e.detail.as_ref().and_then(|d| opt(&d.field)),
            detail_issue: e.detail.as_ref().and_then(|d| opt(&d.issue)),
            detail_location: e.detail.as_ref().and_then(|d| opt(&d.location)),
            request_id,
            retryable,
            retry_after_ms: None,
        },
        Err(_) => {
            let text = printable(String::from_utf8_lossy(&body[..body.len().min(200)]).trim());
            RefundError::Api {
                status,
                code: String::new(),
                error_message: if text.is_empty() {
                    format!("HTTP {status} without a WeChat Pay error body")
                } else {
                    text
                },
                detail_field: None,
                detail_issue: None,
                detail_location: None,
                request_id,
                retryable,
                retry_after_ms: None,
            }
        }
    }
}

/// Decode a verified refund body.
pub fn decode_refund(body: &[u8], request_id: Option<String>) -> Result<Refund> {
    let text = std::str::from_utf8(body).map_err(|_| {
        RefundError::decode("refund response", "body is not UTF-8", request_id.clone())
    })?;
    let mut refund: Refund = serde_json::from_str(text)
        .map_err(|e| RefundError::decode("refund response", e.to_string(), request_id.clone()))?;
    let a = &refund.amount;
    if [
        a.total,
        a.refund,
        a.payer_total,
        a.payer_refund,
        a.settlement_refund,
        a.settlement_total,
        a.discount_refund,
    ]
    .iter()
    .any(|v| *v < 0)
    {
        return Err(RefundError::decode(
            "refund response",
            "negative amount",
            request_id,
        ));
    }
    refund.raw_json = text.to_string();
    Ok(refund)
}

/// Verify and parse a refund response (apply, query and abnormal refund all return a refund).
pub fn parse_refund_response(
    config: &ClientConfig,
    response: &HttpResponse,
    now: i64,
) -> Result<Refund> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    parse_refund_response_parts(config, response.status, pairs, &response.body, now)
}

/// [`parse_refund_response`] from borrowed parts.
pub fn parse_refund_response_parts<'h, I>(
    config: &ClientConfig,
    status: u16,
    headers: I,
    body: &[u8],
    now: i64,
) -> Result<Refund>
where
    I: IntoIterator<Item = (&'h str, &'h str)> + Clone,
{
    let (body, request_id) = verify_response_parts(
        &config.keys.ring(),
        status,
        headers,
        body,
        now,
        config.options.max_response_bytes,
    )?;
    decode_refund(body, request_id)
}
