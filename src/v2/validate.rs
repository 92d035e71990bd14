//! Validation before anything is signed or sent (WeChat Pay's field table; the same rules as v3
//! where the fields are the same). Every failure names the field.

use super::model::{V2RefundQuery, V2RefundRequest};
use crate::error::{RefundError, Result};
use crate::refund::validate as v3;

fn err(field: &str, reason: impl Into<String>) -> RefundError {
    RefundError::invalid(field, reason)
}

fn max_bytes(field: &str, v: &str, max: usize) -> Result<()> {
    if v.len() > max {
        return Err(err(
            field,
            format!("must be at most {max} bytes, got {}", v.len()),
        ));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(err(field, "must not contain control characters"));
    }
    Ok(())
}

/// `appid` / `sub_appid`: 1–32 ASCII letters, digits, `_` or `-`.
pub fn appid(field: &str, v: &str) -> Result<()> {
    if v.is_empty()
        || v.len() > 32
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(err(field, "must be 1 to 32 ASCII letters, digits, _ or -"));
    }
    Ok(())
}

/// `transaction_id` / `refund_id`: 1–32 ASCII letters or digits.
pub fn v2_id(field: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err(field, "must be 1 to 32 ASCII letters or digits"));
    }
    Ok(())
}

/// Every rule of an apply-refund request.
pub fn refund(req: &V2RefundRequest, allow_http_notify_url: bool) -> Result<()> {
    v3::out_refund_no("out_refund_no", &req.out_refund_no)?;
    match (&req.transaction_id, &req.out_trade_no) {
        (Some(_), Some(_)) => {
            return Err(err(
                "transaction_id",
                "give exactly one of transaction_id or out_trade_no, not both",
            ))
        }
        (None, None) => {
            return Err(err(
                "out_trade_no",
                "give exactly one of transaction_id or out_trade_no",
            ))
        }
        (Some(t), None) => v2_id("transaction_id", t)?,
        (None, Some(o)) => v3::out_trade_no("out_trade_no", o)?,
    }
    if req.total_fee < 1 {
        return Err(err("total_fee", "must be at least 1 fen"));
    }
    if req.refund_fee < 1 {
        return Err(err("refund_fee", "must be at least 1 fen"));
    }
    if req.refund_fee > req.total_fee {
        return Err(err(
            "refund_fee",
            format!(
                "must not exceed total_fee ({} > {})",
                req.refund_fee, req.total_fee
            ),
        ));
    }
    if let Some(c) = &req.refund_fee_type {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err(
                "refund_fee_type",
                "must be a three-letter ISO 4217 code such as CNY",
            ));
        }
    }
    if let Some(d) = &req.refund_desc {
        max_bytes("refund_desc", d, 80)?;
        if let Some(c) = d.chars().find(|c| c.len_utf8() > 3) {
            return Err(err(
                "refund_desc",
                format!(
                    "character U+{:04X} is not accepted by WeChat Pay (4-byte UTF-8, e.g. emoji)",
                    c as u32
                ),
            ));
        }
    }
    if let Some(a) = &req.refund_account {
        if !a.is_known() {
            return Err(err(
                "refund_account",
                "must be REFUND_SOURCE_UNSETTLED_FUNDS or REFUND_SOURCE_RECHARGE_FUNDS",
            ));
        }
    }
    if let Some(u) = &req.notify_url {
        v3::notify_url("notify_url", u, allow_http_notify_url)?;
    }
    Ok(())
}

/// A query names at least one id, each well-formed.
pub fn refund_query(q: &V2RefundQuery) -> Result<()> {
    if let Some(v) = &q.refund_id {
        v2_id("refund_id", v)?;
    }
    if let Some(v) = &q.out_refund_no {
        v3::out_refund_no("out_refund_no", v)?;
    }
    if let Some(v) = &q.transaction_id {
        v2_id("transaction_id", v)?;
    }
    if let Some(v) = &q.out_trade_no {
        v3::out_trade_no("out_trade_no", v)?;
    }
    if q.refund_id.is_none()
        && q.out_refund_no.is_none()
        && q.transaction_id.is_none()
        && q.out_trade_no.is_none()
    {
        return Err(err(
            "out_refund_no",
            "give one of refund_id, out_refund_no, transaction_id or out_trade_no",
        ));
    }
    if q.offset.is_some_and(|o| o > 50) {
        return Err(err("offset", "an order has at most 50 refunds"));
    }
    Ok(())
}
