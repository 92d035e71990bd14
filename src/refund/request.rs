//! Sans-IO request building: validate → serialise once → sign those exact bytes → `HttpRequest`.
//!
//! Timestamp and nonce are parameters, so every byte is reproducible in tests.

use super::model::{
    AbnormalRefundKind, AbnormalRefundRequest, CreateRefundRequest, FundsFrom, GoodsDetailInput,
    RequestFundsAccount,
};
use super::validate;
use crate::config::ClientConfig;
use crate::error::{RefundError, Result};
use crate::sign::{self, validate_nonce};
use crate::transport::{HttpHeader, HttpRequest};
use base64::Engine;
use serde::Serialize;

/// Path of the apply-refund endpoint.
pub const REFUNDS_PATH: &str = "/v3/refund/domestic/refunds";

/// Percent-encode one path segment: everything but RFC 3986 unreserved characters, so `|`,
/// `*` and `@` of an `out_refund_no` travel as `%7C`, `%2A`, `%40`. The signature covers the
/// encoded form, exactly as sent.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// Wire shapes: field order is the documented one and None / empty lists are omitted, so the
// body is stable and compact.
#[derive(Serialize)]
struct CreateWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_trade_no: Option<&'a str>,
    out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    funds_account: Option<RequestFundsAccount>,
    amount: AmountWire<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    goods_detail: Vec<GoodsWire<'a>>,
}

#[derive(Serialize)]
struct GoodsWire<'a> {
    merchant_goods_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wechatpay_goods_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    goods_name: Option<&'a str>,
    unit_price: i64,
    refund_amount: i64,
    refund_quantity: i64,
}

impl<'a> From<&'a GoodsDetailInput> for GoodsWire<'a> {
    fn from(g: &'a GoodsDetailInput) -> Self {
        Self {
            merchant_goods_id: &g.merchant_goods_id,
            wechatpay_goods_id: g.wechatpay_goods_id.as_deref(),
            goods_name: g.goods_name.as_deref(),
            unit_price: g.unit_price,
            refund_amount: g.refund_amount,
            refund_quantity: g.refund_quantity,
        }
    }
}

#[derive(Serialize)]
struct AmountWire<'a> {
    refund: i64,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    from: &'a [FundsFrom],
    total: i64,
    currency: &'a str,
}

#[derive(Serialize)]
struct AbnormalWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_mchid: Option<&'a str>,
    out_refund_no: &'a str,
    #[serde(rename = "type")]
    kind: AbnormalRefundKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    real_name: Option<String>,
}

/// The JSON body of an apply-refund request, exactly as it will be signed and sent.
pub fn create_refund_body(req: &CreateRefundRequest) -> Vec<u8> {
    let wire = CreateWire {
        sub_mchid: req.sub_mchid.as_deref(),
        transaction_id: req.transaction_id.as_deref(),
        out_trade_no: req.out_trade_no.as_deref(),
        out_refund_no: &req.out_refund_no,
        reason: req.reason.as_deref(),
        notify_url: req.notify_url.as_deref(),
        funds_account: req.funds_account.clone(),
        amount: AmountWire {
            refund: req.amount.refund,
            from: &req.amount.funds_from,
            total: req.amount.total,
            currency: &req.amount.currency,
        },
        goods_detail: req.goods_detail.iter().map(GoodsWire::from).collect(),
    };
    serde_json::to_vec(&wire).expect("serialising plain records cannot fail")
}

/// Build the signed request for apply refund.
pub fn build_create_refund(
    config: &ClientConfig,
    request: &CreateRefundRequest,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    check_create_refund(config, request)?;
    let body = create_refund_body(request);
    finish(
        config,
        "POST",
        REFUNDS_PATH.to_string(),
        body,
        timestamp,
        nonce,
        None,
    )
}

/// Build the signed request for query refund by `out_refund_no`.
pub fn build_query_refund(
    config: &ClientConfig,
    out_refund_no: &str,
    sub_mchid: Option<&str>,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    validate::query_refund(out_refund_no, sub_mchid)?;
    require_sub_mchid(config, sub_mchid)?;
    let mut url = format!("{REFUNDS_PATH}/{}", encode_path_segment(out_refund_no));
    if let Some(s) = sub_mchid {
        url.push_str("?sub_mchid=");
        url.push_str(s);
    }
    finish(config, "GET", url, Vec::new(), timestamp, nonce, None)
}

/// Build the signed request for apply abnormal refund. `bank_account` and `real_name` are
/// encrypted here (RSA-OAEP SHA-1) with the WeChat Pay key, which `Wechatpay-Serial` names.
pub fn build_apply_abnormal_refund(
    config: &ClientConfig,
    request: &AbnormalRefundRequest,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    validate::abnormal_refund(request)?;
    require_sub_mchid(config, request.sub_mchid.as_deref())?;
    let ring = config.keys.ring();
    let (key_id, key) = ring.encryption_key_at(timestamp).ok_or_else(|| {
        RefundError::config(
            "no WeChat Pay key to encrypt bank_account / real_name with (no public key, and no \
             platform certificate valid now)",
        )
    })?;
    let encrypt = |field: &str, v: &Option<String>| -> Result<Option<String>> {
        v.as_deref()
            .map(|plain| {
                key.oaep_sha1_encrypt(plain.as_bytes())
                    .map(|ct| base64::engine::general_purpose::STANDARD.encode(ct))
                    .map_err(|e| RefundError::invalid(field, e))
            })
            .transpose()
    };
    let wire = AbnormalWire {
        sub_mchid: request.sub_mchid.as_deref(),
        out_refund_no: &request.out_refund_no,
        kind: request.kind.clone(),
        bank_type: request.bank_type.as_deref(),
        bank_account: encrypt("bank_account", &request.bank_account)?,
        real_name: encrypt("real_name", &request.real_name)?,
    };
    let body = serde_json::to_vec(&wire).expect("serialising plain records cannot fail");
    let url = format!(
        "{REFUNDS_PATH}/{}/apply-abnormal-refund",
        encode_path_segment(&request.refund_id)
    );
    let serial = key_id.to_string();
    drop(ring);
    finish(config, "POST", url, body, timestamp, nonce, Some(serial))
}

/// A signed GET of `path_and_query` (no body).
pub(crate) fn build_signed_get(
    config: &ClientConfig,
    path_and_query: String,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    finish(
        config,
        "GET",
        path_and_query,
        Vec::new(),
        timestamp,
        nonce,
        None,
    )
}

/// Service-provider mode (WeChat Pay's abnormal-refund page: 服务商模式下必须传递此参数): every call
/// names the sub-merchant, checked before anything is sent.
/// The checks an apply-refund request passes before anything is signed or sent.
pub(crate) fn check_create_refund(
    config: &ClientConfig,
    request: &CreateRefundRequest,
) -> Result<()> {
    validate::create_refund(request, config.options.allow_http_notify_url)?;
    require_sub_mchid(config, request.sub_mchid.as_deref())
}

fn require_sub_mchid(config: &ClientConfig, sub_mchid: Option<&str>) -> Result<()> {
    if config.service_provider && sub_mchid.is_none_or(|s| s.is_empty()) {
        return Err(RefundError::invalid(
            "sub_mchid",
            "required in service-provider mode (the configuration's mchid is the sp_mchid)",
        ));
    }
    Ok(())
}

fn finish(
    config: &ClientConfig,
    method: &str,
    path_and_query: String,
    body: Vec<u8>,
    timestamp: i64,
    nonce: &str,
    encryption_serial: Option<String>,
) -> Result<HttpRequest> {
    validate_nonce(nonce)?;
    if timestamp <= 0 {
        return Err(RefundError::invalid(
            "timestamp",
            "must be a positive unix time in seconds",
        ));
    }
    let authorization = sign::sign_request(
        config.signer.as_ref(),
        &config.mchid,
        &config.merchant_serial_no,
        method,
        &path_and_query,
        timestamp,
        nonce,
        &body,
    )?;
    let mut headers = vec![
        HttpHeader::new("Authorization", authorization),
        HttpHeader::new("Accept", "application/json"),
        HttpHeader::new("Content-Type", "application/json"),
        HttpHeader::new("User-Agent", config.user_agent.clone()),
    ];
    // Name the key the sensitive fields were encrypted with; in public-key mode always name
    // the public key, which also makes WeChat Pay sign the response with its pair.
    let public_key_id = || config.keys.ring().public_key_id().map(str::to_owned);
    if let Some(serial) = encryption_serial.or_else(public_key_id) {
        headers.push(HttpHeader::new("Wechatpay-Serial", serial));
    }
    Ok(HttpRequest {
        method: method.to_string(),
        url: format!("{}{}", config.base_url, path_and_query),
        headers,
        body,
        timeout_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(
            encode_path_segment("R-2026_11|23*x@y"),
            "R-2026_11%7C23%2Ax%40y"
        );
        assert_eq!(encode_path_segment("abc.~"), "abc.~");
        assert_eq!(encode_path_segment("a/b"), "a%2Fb");
    }

    #[test]
    fn body_omits_absent_fields_in_documented_order() {
        let r = CreateRefundRequest::by_out_trade_no("T100001", "R1", 1, 2);
        assert_eq!(
            String::from_utf8(create_refund_body(&r)).unwrap(),
            r#"{"out_trade_no":"T100001","out_refund_no":"R1","amount":{"refund":1,"total":2,"currency":"CNY"}}"#
        );
    }
}
