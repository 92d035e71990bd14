//! Building the v2 requests (sans-IO): validated fields → signed XML → [`HttpRequest`].
//! The bytes are built once; retries send them again unchanged.

use super::config::V2Config;
use super::model::{V2RefundQuery, V2RefundRequest};
use super::sign::{sign, V2SignType};
use super::{validate, xml};
use crate::error::{RefundError, Result};
use crate::transport::{HttpHeader, HttpRequest};
use std::collections::BTreeMap;

/// Path of the apply-refund call (mutual TLS).
pub const REFUND_PATH: &str = "/secapi/pay/refund";
/// Path of the refund query.
pub const REFUND_QUERY_PATH: &str = "/pay/refundquery";

fn common(config: &V2Config, nonce: &str) -> Result<BTreeMap<String, String>> {
    if nonce.is_empty() || nonce.len() > 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RefundError::invalid(
            "nonce_str",
            "must be 1 to 32 ASCII letters or digits",
        ));
    }
    let mut p = BTreeMap::new();
    p.insert("appid".into(), config.appid.clone());
    p.insert("mch_id".into(), config.mch_id.clone());
    if let Some(s) = &config.sub_appid {
        p.insert("sub_appid".into(), s.clone());
    }
    if let Some(s) = &config.sub_mch_id {
        p.insert("sub_mch_id".into(), s.clone());
    }
    p.insert("nonce_str".into(), nonce.to_owned());
    if config.sign_type == V2SignType::HmacSha256 {
        p.insert("sign_type".into(), config.sign_type.as_str().into());
    }
    Ok(p)
}

/// Sign `params` and wrap them as an HTTP POST of `path`.
pub fn signed_request(
    config: &V2Config,
    path: &str,
    mut params: BTreeMap<String, String>,
) -> HttpRequest {
    params.retain(|_, v| !v.is_empty());
    let s = sign(config.backend, config.sign_type, &params, config.api_key());
    let mut fields: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fields.push(("sign", &s));
    HttpRequest {
        method: "POST".into(),
        url: format!("{}{path}", config.base_url),
        headers: vec![
            HttpHeader::new("Content-Type", "text/xml; charset=utf-8"),
            HttpHeader::new("Accept", "text/xml"),
            HttpHeader::new("User-Agent", config.user_agent.as_str()),
        ],
        body: xml::write(&fields, false),
        timeout_ms: None,
    }
}

/// The fields of an apply-refund request, before signing.
pub fn refund_params(
    config: &V2Config,
    req: &V2RefundRequest,
    nonce: &str,
) -> Result<BTreeMap<String, String>> {
    validate::refund(req, config.options.allow_http_notify_url)?;
    let mut p = common(config, nonce)?;
    if let Some(t) = &req.transaction_id {
        p.insert("transaction_id".into(), t.clone());
    }
    if let Some(o) = &req.out_trade_no {
        p.insert("out_trade_no".into(), o.clone());
    }
    p.insert("out_refund_no".into(), req.out_refund_no.clone());
    p.insert("total_fee".into(), req.total_fee.to_string());
    p.insert("refund_fee".into(), req.refund_fee.to_string());
    if let Some(v) = &req.refund_fee_type {
        p.insert("refund_fee_type".into(), v.clone());
    }
    if let Some(v) = &req.refund_desc {
        p.insert("refund_desc".into(), v.clone());
    }
    if let Some(v) = &req.refund_account {
        p.insert("refund_account".into(), v.as_str().into());
    }
    if let Some(v) = &req.notify_url {
        p.insert("notify_url".into(), v.clone());
    }
    Ok(p)
}

/// The signed apply-refund request (`POST /secapi/pay/refund`; send it with the client
/// certificate).
pub fn build_refund(config: &V2Config, req: &V2RefundRequest, nonce: &str) -> Result<HttpRequest> {
    let p = refund_params(config, req, nonce)?;
    Ok(signed_request(config, REFUND_PATH, p))
}

/// The signed refund query (`POST /pay/refundquery`). Only the most specific id is sent
/// (`refund_id` > `out_refund_no` > `transaction_id` > `out_trade_no`).
pub fn build_refund_query(
    config: &V2Config,
    q: &V2RefundQuery,
    nonce: &str,
) -> Result<HttpRequest> {
    validate::refund_query(q)?;
    let mut p = common(config, nonce)?;
    let (k, v) = [
        ("refund_id", &q.refund_id),
        ("out_refund_no", &q.out_refund_no),
        ("transaction_id", &q.transaction_id),
        ("out_trade_no", &q.out_trade_no),
    ]
    .into_iter()
    .find_map(|(k, v)| v.as_ref().map(|v| (k, v.clone())))
    .expect("validated: one id is present");
    p.insert(k.into(), v);
    if let Some(o) = q.offset {
        p.insert("offset".into(), o.to_string());
    }
    Ok(signed_request(config, REFUND_QUERY_PATH, p))
}
