//! Verifying and parsing v2 answers (sans-IO): XML → `return_code` → `sign` → `result_code`
//! → typed record. Nothing in an answer is believed before its `sign` checks out.

use super::config::V2Config;
use super::model::*;
use super::sign::verify;
use super::xml::{self, XmlFields};
use crate::error::{RefundError, Result};
use crate::transport::HttpResponse;

/// `err_code`s after which the same request (same `out_refund_no`, same parameters) may be
/// sent again (WeChat Pay's guidance). The first two are retried by the client at once; the
/// others need time ([`RETRY_AFTER_MS`]; `INVALID_REQ_TOO_MUCH`: a minute).
pub const RETRYABLE_ERR_CODES: &[&str] = &[
    "SYSTEMERROR",
    "BIZERR_NEED_RETRY",
    "ORDER_NOT_READY",
    "FREQUENCY_LIMITED",
    "INVALID_REQ_TOO_MUCH",
];

/// How long (milliseconds) the codes that need time ask to wait: `INVALID_REQ_TOO_MUCH`
/// blocks the merchant for a minute (WeChat Pay's documentation: "请在1分钟后再来重试"); `FREQUENCY_LIMITED` one
/// window of the per-second limits; `ORDER_NOT_READY` ("订单处理中,暂时无法退款,请稍后再试")
/// a few seconds.
pub const RETRY_AFTER_MS: &[(&str, u64)] = &[
    ("INVALID_REQ_TOO_MUCH", 60_000),
    ("FREQUENCY_LIMITED", 1_000),
    ("ORDER_NOT_READY", 5_000),
];

/// The wait an `err_code` implies, in milliseconds ([`RETRY_AFTER_MS`]).
pub fn retry_after_ms(err_code: &str) -> Option<u64> {
    RETRY_AFTER_MS
        .iter()
        .find(|(c, _)| *c == err_code)
        .map(|(_, ms)| *ms)
}

/// Server text shown in errors: control characters escaped (no log injection), bounded.
fn clean(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(256) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The error of a v2 failure answer.
pub fn v2_error(
    return_code: &str,
    return_msg: Option<&str>,
    err_code: Option<&str>,
    err_code_des: Option<&str>,
) -> RefundError {
    RefundError::V2Api {
        return_code: clean(return_code),
        return_msg: return_msg.map(clean),
        err_code: err_code.map(clean),
        err_code_des: err_code_des.map(clean),
        retryable: err_code.is_some_and(|c| RETRYABLE_ERR_CODES.contains(&c)),
        retry_after_ms: err_code.and_then(retry_after_ms),
    }
}

/// Check status, `return_code`, `sign`, merchant and `result_code`; the verified fields.
pub fn verified_fields(config: &V2Config, resp: &HttpResponse, what: &str) -> Result<XmlFields> {
    if resp.status != 200 {
        return Err(RefundError::Api {
            status: resp.status,
            code: String::new(),
            error_message: clean(&String::from_utf8_lossy(
                &resp.body[..resp.body.len().min(256)],
            )),
            detail_field: None,
            detail_issue: None,
            detail_location: None,
            request_id: None,
            retryable: resp.status == 429 || resp.status >= 500,
            retry_after_ms: crate::refund::response::retry_after(
                resp.status,
                resp.header("Retry-After"),
            ),
        });
    }
    let f = xml::parse(what, &resp.body)?;
    let return_code = f
        .get("return_code")
        .ok_or_else(|| RefundError::decode(what, "no return_code", None))?;
    if return_code != "SUCCESS" {
        // Communication failures (signature, format, missing certificate) are not signed.
        return Err(v2_error(return_code, f.get("return_msg"), None, None));
    }
    verify(
        config.backend,
        config.sign_type,
        &f.fields,
        config.api_key(),
    )?;
    if let Some(m) = f.get("mch_id") {
        if m != config.mch_id {
            return Err(RefundError::decode(
                what,
                format!("the answer is for merchant {m:?}, not {:?}", config.mch_id),
                None,
            ));
        }
    }
    match f.get("result_code") {
        Some("SUCCESS") => Ok(f),
        // Without an err_code there is no code to report: `ERROR` is a real one.
        Some(_) => Err(v2_error(
            "SUCCESS",
            f.get("return_msg"),
            f.get("err_code").filter(|c| !c.is_empty()),
            f.get("err_code_des"),
        )),
        None => Err(RefundError::decode(what, "no result_code", None)),
    }
}

pub(crate) fn req<'a>(f: &'a XmlFields, what: &str, k: &str) -> Result<&'a str> {
    f.get(k)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| RefundError::decode(what, format!("missing required field {k}"), None))
}

pub(crate) fn opt(f: &XmlFields, k: &str) -> Option<String> {
    f.get(k).filter(|v| !v.is_empty()).map(str::to_owned)
}

pub(crate) fn fen(f: &XmlFields, what: &str, k: &str) -> Result<i64> {
    opt_fen(f, what, k)?
        .ok_or_else(|| RefundError::decode(what, format!("missing required field {k}"), None))
}

pub(crate) fn opt_fen(f: &XmlFields, what: &str, k: &str) -> Result<Option<i64>> {
    match f.get(k).filter(|v| !v.is_empty()) {
        None => Ok(None),
        // Plain digits only: `+5`, `-5`, ` 5` are not amounts WeChat Pay writes.
        Some(v) if v.len() <= 18 && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse::<i64>().map(Some).map_err(|_| {
                RefundError::decode(what, format!("{k} is not an amount: {:?}", clean(v)), None)
            })
        }
        Some(v) => Err(RefundError::decode(
            what,
            format!("{k} is not an amount in fen (plain digits): {:?}", clean(v)),
            None,
        )),
    }
}

/// Most entries an indexed list may announce (50 refunds per order; coupons alike).
const MAX_INDEX: i64 = 100;

fn count(f: &XmlFields, what: &str, k: &str) -> Result<Option<i64>> {
    let c = opt_fen(f, what, k)?;
    if c.is_some_and(|c| !(0..=MAX_INDEX).contains(&c)) {
        return Err(RefundError::decode(what, format!("{k} out of range"), None));
    }
    Ok(c)
}

/// Coupons `coupon_*_{suffix}{$m}` for `$m` in `0..coupon_refund_count{count_suffix}`.
fn coupons(f: &XmlFields, what: &str, count_key: &str, suffix: &str) -> Result<Vec<V2Coupon>> {
    let n = count(f, what, count_key)?.unwrap_or(0);
    (0..n)
        .map(|m| {
            Ok(V2Coupon {
                coupon_type: opt(f, &format!("coupon_type{suffix}{m}"))
                    .map(|s| V2CouponType::from_wire(&s)),
                coupon_refund_id: req(f, what, &format!("coupon_refund_id{suffix}{m}"))?.to_owned(),
                coupon_refund_fee: fen(f, what, &format!("coupon_refund_fee{suffix}{m}"))?,
            })
        })
        .collect()
}

/// Parse a verified apply-refund answer.
pub fn parse_refund_response(config: &V2Config, resp: &HttpResponse) -> Result<V2Refund> {
    let what = "v2 refund answer";
    let f = verified_fields(config, resp, what)?;
    let r = V2Refund {
        appid: opt(&f, "appid").unwrap_or_default(),
        mch_id: opt(&f, "mch_id").unwrap_or_default(),
        sub_appid: opt(&f, "sub_appid"),
        sub_mch_id: opt(&f, "sub_mch_id"),
        transaction_id: req(&f, what, "transaction_id")?.to_owned(),
        out_trade_no: req(&f, what, "out_trade_no")?.to_owned(),
        out_refund_no: req(&f, what, "out_refund_no")?.to_owned(),
        refund_id: req(&f, what, "refund_id")?.to_owned(),
        refund_fee: fen(&f, what, "refund_fee")?,
        settlement_refund_fee: opt_fen(&f, what, "settlement_refund_fee")?,
        total_fee: opt_fen(&f, what, "total_fee")?,
        settlement_total_fee: opt_fen(&f, what, "settlement_total_fee")?,
        fee_type: opt(&f, "fee_type"),
        cash_fee: opt_fen(&f, what, "cash_fee")?,
        cash_fee_type: opt(&f, "cash_fee_type"),
        cash_refund_fee: opt_fen(&f, what, "cash_refund_fee")?,
        coupon_refund_fee: opt_fen(&f, what, "coupon_refund_fee")?,
        coupon_refund_count: count(&f, what, "coupon_refund_count")?,
        coupons: coupons(&f, what, "coupon_refund_count", "_")?,
    };
    at_most_total(what, r.refund_fee, r.total_fee)?;
    Ok(r)
}

/// A signed answer that contradicts the request: believed for nothing. `Decode` (its outcome
/// is unknown: query the refund).
fn mismatch(what: &str, field: &str, sent: &str, got: &str) -> RefundError {
    RefundError::decode(
        what,
        format!(
            "the signed answer does not match the request: {field} is {:?}, {:?} was sent",
            clean(got),
            clean(sent)
        ),
        None,
    )
}

/// Check a verified apply-refund answer against the request it answers: the echoed
/// `out_refund_no`, the amounts and the order.
pub fn check_refund_answer(request: &V2RefundRequest, r: &V2Refund) -> Result<()> {
    let what = "v2 refund answer";
    if r.out_refund_no != request.out_refund_no {
        return Err(mismatch(
            what,
            "out_refund_no",
            &request.out_refund_no,
            &r.out_refund_no,
        ));
    }
    if r.refund_fee != request.refund_fee {
        return Err(mismatch(
            what,
            "refund_fee",
            &request.refund_fee.to_string(),
            &r.refund_fee.to_string(),
        ));
    }
    if let Some(t) = r.total_fee.filter(|t| *t != request.total_fee) {
        return Err(mismatch(
            what,
            "total_fee",
            &request.total_fee.to_string(),
            &t.to_string(),
        ));
    }
    match (&request.transaction_id, &request.out_trade_no) {
        (Some(t), _) if *t != r.transaction_id => {
            Err(mismatch(what, "transaction_id", t, &r.transaction_id))
        }
        (None, Some(o)) if *o != r.out_trade_no => {
            Err(mismatch(what, "out_trade_no", o, &r.out_trade_no))
        }
        _ => Ok(()),
    }
}

/// [`parse_refund_response`], then [`check_refund_answer`] against the request sent.
pub fn parse_refund_response_for(
    config: &V2Config,
    request: &V2RefundRequest,
    resp: &HttpResponse,
) -> Result<V2Refund> {
    let r = parse_refund_response(config, resp)?;
    check_refund_answer(request, &r)?;
    Ok(r)
}

/// Check a verified query answer against the query: the id the query was sent with (the
/// most specific one) is the one answered.
pub fn check_query_answer(query: &V2RefundQuery, r: &V2RefundQueryResult) -> Result<()> {
    let what = "v2 refund query answer";
    if let Some(id) = &query.refund_id {
        if let Some(x) = r.refunds.iter().find(|x| x.refund_id != *id) {
            return Err(mismatch(what, "refund_id", id, &x.refund_id));
        }
    } else if let Some(no) = &query.out_refund_no {
        if let Some(x) = r.refunds.iter().find(|x| x.out_refund_no != *no) {
            return Err(mismatch(what, "out_refund_no", no, &x.out_refund_no));
        }
    } else if let Some(t) = &query.transaction_id {
        if *t != r.transaction_id {
            return Err(mismatch(what, "transaction_id", t, &r.transaction_id));
        }
    } else if let Some(o) = &query.out_trade_no {
        if *o != r.out_trade_no {
            return Err(mismatch(what, "out_trade_no", o, &r.out_trade_no));
        }
    }
    Ok(())
}

/// [`parse_refund_query_response`], then [`check_query_answer`] against the query sent.
pub fn parse_refund_query_response_for(
    config: &V2Config,
    query: &V2RefundQuery,
    resp: &HttpResponse,
) -> Result<V2RefundQueryResult> {
    let r = parse_refund_query_response(config, resp)?;
    check_query_answer(query, &r)?;
    Ok(r)
}

/// A refund larger than its order is no answer WeChat Pay gives.
pub(crate) fn at_most_total(what: &str, refund: i64, total: Option<i64>) -> Result<()> {
    match total {
        Some(t) if refund > t => Err(RefundError::decode(
            what,
            format!("refund_fee {refund} exceeds total_fee {t}"),
            None,
        )),
        _ => Ok(()),
    }
}

/// Parse a verified refund-query answer, with the `_$n` / `_$n_$m` fields as lists.
pub fn parse_refund_query_response(
    config: &V2Config,
    resp: &HttpResponse,
) -> Result<V2RefundQueryResult> {
    let what = "v2 refund query answer";
    let f = verified_fields(config, resp, what)?;
    let n = count(&f, what, "refund_count")?
        .ok_or_else(|| RefundError::decode(what, "missing required field refund_count", None))?;
    let refunds = (0..n)
        .map(|i| {
            Ok(V2RefundRecord {
                out_refund_no: req(&f, what, &format!("out_refund_no_{i}"))?.to_owned(),
                refund_id: req(&f, what, &format!("refund_id_{i}"))?.to_owned(),
                refund_channel: opt(&f, &format!("refund_channel_{i}"))
                    .map(|s| V2RefundChannel::from_wire(&s)),
                refund_fee: fen(&f, what, &format!("refund_fee_{i}"))?,
                settlement_refund_fee: opt_fen(&f, what, &format!("settlement_refund_fee_{i}"))?,
                refund_status: V2RefundStatus::from_wire(req(
                    &f,
                    what,
                    &format!("refund_status_{i}"),
                )?),
                refund_account: opt(&f, &format!("refund_account_{i}"))
                    .map(|s| V2RefundAccount::from_wire(&s)),
                refund_recv_accout: opt(&f, &format!("refund_recv_accout_{i}")),
                refund_success_time: opt(&f, &format!("refund_success_time_{i}")),
                coupon_refund_fee: opt_fen(&f, what, &format!("coupon_refund_fee_{i}"))?,
                coupon_refund_count: count(&f, what, &format!("coupon_refund_count_{i}"))?,
                coupons: coupons(
                    &f,
                    what,
                    &format!("coupon_refund_count_{i}"),
                    &format!("_{i}_"),
                )?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total_fee = opt_fen(&f, what, "total_fee")?;
    for r in &refunds {
        at_most_total(what, r.refund_fee, total_fee)?;
    }
    Ok(V2RefundQueryResult {
        appid: opt(&f, "appid").unwrap_or_default(),
        mch_id: opt(&f, "mch_id").unwrap_or_default(),
        transaction_id: req(&f, what, "transaction_id")?.to_owned(),
        out_trade_no: req(&f, what, "out_trade_no")?.to_owned(),
        total_fee,
        settlement_total_fee: opt_fen(&f, what, "settlement_total_fee")?,
        fee_type: opt(&f, "fee_type"),
        cash_fee: opt_fen(&f, what, "cash_fee")?,
        total_refund_count: count(&f, what, "total_refund_count")?,
        refund_count: n,
        refunds,
    })
}
