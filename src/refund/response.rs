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
/// - other statuses: verified when they carry signature headers (WeChat Pay signs its error
///   responses; a proxy's 502 does not), then turned into `RefundError::Api`.
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
    let ok = (200..300).contains(&status);
    if ok || headers.any_present() {
        verify_signature(keys, &headers, body, now)?;
    }
    if ok {
        return Ok((body, headers.request_id));
    }
    Err(api_error(status, body, headers.request_id))
}

fn api_error(status: u16, body: &[u8], request_id: Option<String>) -> RefundError {
    let retryable = status == 429 || status >= 500;
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => RefundError::Api {
            status,
            code: e.code,
            error_message: e.message,
            detail_field: e.detail.as_ref().and_then(|d| d.field.clone()),
            detail_issue: e.detail.as_ref().and_then(|d| d.issue.clone()),
            detail_location: e.detail.as_ref().and_then(|d| d.location.clone()),
            request_id,
            retryable,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_string();
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
    if a.total < 0 || a.refund < 0 || a.payer_total < 0 || a.payer_refund < 0 {
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
