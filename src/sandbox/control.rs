//! The sandbox's control API over HTTP, so that any SDK (Go, Java, Python, curl) can drive it:
//! on the sandbox's own port under `/sandbox/v1/`, a prefix WeChat Pay never uses. JSON in and
//! out, no signature; bad input is a 400 with a message. WeChat Pay's paths never accept these
//! calls and these paths never answer WeChat Pay's (see docs/sandbox.md).
//!
//! Every call maps onto a method of [`super::Sandbox`]: the two faces of one set of operations.

use super::{Sandbox, SandboxFault, SandboxRefusal};
use crate::error::RefundError;
use crate::refund::model::RefundStatus;
use serde_json::{json, Value};

/// The prefix of every control path.
pub const PREFIX: &str = "/sandbox/v1/";

/// (status, JSON body) of a control call (`url`: path and query).
pub(crate) fn handle(sb: &Sandbox, method: &str, url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let (status, v) = match dispatch(sb, method, path, query, body) {
        Ok((status, v)) => (status, v),
        Err((status, message)) => (
            status,
            json!({"code": "SANDBOX_CONTROL", "message": message}),
        ),
    };
    (status, v.to_string().into_bytes())
}

type Answer = Result<(u16, Value), (u16, String)>;

fn bad(message: impl Into<String>) -> (u16, String) {
    (400, message.into())
}

fn refund_error(e: RefundError) -> (u16, String) {
    match e {
        RefundError::InvalidInput { field, reason } => (400, format!("{field}: {reason}")),
        other => (500, other.to_string()),
    }
}

fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, (u16, String)> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(format!("the body is not JSON: {e}"))),
    }
}

fn string(m: &serde_json::Map<String, Value>, key: &str) -> Result<String, (u16, String)> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad(format!("{key} (a string) is required")))
}

fn fault_of(
    name: &str,
    millis: Option<u64>,
    after_processing: bool,
) -> Result<SandboxFault, (u16, String)> {
    if let Some(refusal) = SandboxRefusal::from_code(name) {
        return Ok(match refusal {
            // The historical faults: answered before any processing or signature check.
            SandboxRefusal::SystemError if !after_processing => SandboxFault::SystemError,
            SandboxRefusal::FrequencyLimited if !after_processing => SandboxFault::FrequencyLimited,
            refusal => SandboxFault::Refusal {
                refusal,
                after_processing,
            },
        });
    }
    if after_processing {
        return Err(bad(format!(
            "after_processing applies to WeChat Pay's errors only, not to {name:?}"
        )));
    }
    Ok(match name {
        "DROP_CONNECTION" => SandboxFault::DropConnection,
        "DELAY" => SandboxFault::Delay {
            millis: millis.unwrap_or(1000).min(60_000),
        },
        "TAMPERED_BODY" => SandboxFault::TamperedBody,
        "STALE_TIMESTAMP" => SandboxFault::StaleTimestamp,
        "PROBE_SIGNATURE" => SandboxFault::ProbeSignature,
        "UNKNOWN_SERIAL" => SandboxFault::UnknownSerial,
        other => {
            let codes: Vec<&str> = SandboxRefusal::ALL.iter().map(|r| r.code()).collect();
            return Err(bad(format!(
                "unknown fault {other:?}: one of WeChat Pay's errors ({}), or DROP_CONNECTION, \
                 DELAY, TAMPERED_BODY, STALE_TIMESTAMP, PROBE_SIGNATURE, UNKNOWN_SERIAL, CORRUPT_BILL",
                codes.join(", ")
            )));
        }
    })
}

/// `?sub_mchid=` of a control call on one refund (unique per merchant).
fn sub_mchid_of(query: &str) -> Result<Option<String>, (u16, String)> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("sub_mchid="))
        .map(|s| super::http::percent_decode(s).ok_or_else(|| bad("bad percent-encoding")))
        .transpose()
}

fn not_found(e: RefundError) -> (u16, String) {
    match e {
        RefundError::InvalidInput { field, reason } if field == "out_refund_no" => (404, reason),
        e => refund_error(e),
    }
}

fn dispatch(sb: &Sandbox, method: &str, path: &str, query: &str, body: &[u8]) -> Answer {
    let rest = path.strip_prefix(PREFIX).unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').collect();
    let decoded =
        |s: &str| super::http::percent_decode(s).ok_or_else(|| bad("bad percent-encoding"));
    match (method, parts.as_slice()) {
        ("GET", ["credentials"]) => Ok((200, json!(sb.credentials()))),
        ("POST", ["orders"]) => {
            let m = object(body)?;
            let out_trade_no = string(&m, "out_trade_no")?;
            let total = m
                .get("total")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("total (an integer, fen) is required"))?;
            let transaction_id = match m.get("transaction_id") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad("transaction_id must be a string")),
            };
            let sub_mchid = match m.get("sub_mchid") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(bad("sub_mchid must be a string")),
            };
            let tx = sb
                .shared
                .create_order_owned(&out_trade_no, total, transaction_id, sub_mchid.clone())
                .map_err(refund_error)?;
            let mut v = json!({"out_trade_no": out_trade_no, "total": total, "transaction_id": tx});
            if let Some(sub) = sub_mchid {
                v["sub_mchid"] = json!(sub);
            }
            Ok((201, v))
        }
        ("POST", ["refunds", no, "status"]) => {
            let no = decoded(no)?;
            let m = object(body)?;
            let status = match string(&m, "status")?.as_str() {
                "SUCCESS" => RefundStatus::Success,
                "ABNORMAL" => RefundStatus::Abnormal,
                "CLOSED" => RefundStatus::Closed,
                other => {
                    return Err(bad(format!(
                        "status must be SUCCESS, ABNORMAL or CLOSED, got {other:?}"
                    )))
                }
            };
            sb.shared
                .set_refund_status_of(&no, sub_mchid_of(query)?.as_deref(), status.clone())
                .map_err(not_found)?;
            Ok((200, json!({"out_refund_no": no, "status": status.as_str()})))
        }
        ("GET", ["refunds", no, "notification"]) => {
            let no = decoded(no)?;
            let n = sb
                .shared
                .notification_of(&no, sub_mchid_of(query)?.as_deref())
                .map_err(|e| match e {
                    RefundError::InvalidInput { reason, .. } => (404, reason),
                    e => refund_error(e),
                })?;
            Ok((
                200,
                json!({"headers": n.headers, "body": String::from_utf8_lossy(&n.body)}),
            ))
        }
        ("POST", ["faults"]) => {
            let m = object(body)?;
            let millis = m.get("millis").and_then(Value::as_u64);
            let after_processing = match m.get("after_processing") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(bad("after_processing must be true or false")),
            };
            let name = string(&m, "fault")?;
            let count = match m.get("count") {
                None => 1,
                Some(v) => v
                    .as_u64()
                    .filter(|c| (1..=10_000).contains(c))
                    .ok_or_else(|| bad("count must be an integer from 1 to 10000"))?
                    as u32,
            };
            // Not a per-request fault: it waits for the next bill file served, whatever comes
            // before it.
            if name == "CORRUPT_BILL" {
                sb.corrupt_next_bills(count);
                return Ok((201, json!({"injected": count})));
            }
            let fault = fault_of(&name, millis, after_processing)?;
            sb.inject_fault(fault, count);
            Ok((201, json!({"injected": count})))
        }
        ("POST", ["v2", "errors"]) => {
            // The v2 business refusals of WeChat Pay's table, answered (signed with the
            // request's sign type) to the next `count` v2 requests after their signature check.
            let m = object(body)?;
            let code = string(&m, "err_code")?;
            let codes = crate::sandbox::server::v2::V2_ERROR_CODES;
            if !codes.iter().any(|(c, _)| *c == code) {
                let names: Vec<&str> = codes.iter().map(|(c, _)| *c).collect();
                return Err(bad(format!(
                    "unknown v2 err_code {code:?}: one of {}",
                    names.join(", ")
                )));
            }
            let count = match m.get("count") {
                None => 1,
                Some(v) => v
                    .as_u64()
                    .filter(|c| (1..=1000).contains(c))
                    .ok_or_else(|| bad("count must be an integer from 1 to 1000"))?
                    as u32,
            };
            sb.shared.v2_inject_error(&code, count);
            Ok((201, json!({"err_code": code, "injected": count})))
        }
        ("DELETE", ["v2", "errors"]) => {
            sb.shared.v2_clear_errors();
            Ok((200, json!({"cleared": true})))
        }
        ("DELETE", ["faults"]) => {
            sb.clear_faults();
            Ok((200, json!({"cleared": true})))
        }
        ("GET", ["requests"]) => {
            let list: Vec<Value> = sb
                .requests()
                .into_iter()
                .map(|r| json!({"method": r.method, "url": r.url, "status": r.status}))
                .collect();
            Ok((200, json!({ "requests": list })))
        }
        ("POST", ["reset"]) => {
            sb.reset();
            Ok((200, json!({"reset": true})))
        }
        ("GET", ["clock"]) => Ok((200, clock_json(sb.clock()))),
        ("POST", ["clock"]) => {
            let m = object(body)?;
            let seconds = m
                .get("advance_seconds")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("advance_seconds (an integer) is required"))?;
            Ok((200, clock_json(sb.advance_clock(seconds))))
        }
        ("POST", ["platform-certificates", "rotate"]) => {
            let serial = sb.rotate_platform_certificate().map_err(refund_error)?;
            Ok((201, json!({"serial_no": serial})))
        }
        ("POST", ["platform-certificates", serial, "expire"]) => {
            sb.expire_platform_certificate(decoded(serial)?)
                .map_err(refund_error)?;
            Ok((200, json!({"expired": true})))
        }
        ("POST", ["public-keys", "rotate"]) => {
            let id = sb.rotate_wechatpay_public_key().map_err(refund_error)?;
            let c = sb.credentials();
            Ok((201, json!({"id": id, "pem": c.wechatpay_public_key_pem})))
        }
        ("POST", ["public-keys", id, "expire"]) => {
            sb.expire_wechatpay_public_key(decoded(id)?)
                .map_err(refund_error)?;
            Ok((200, json!({"expired": true})))
        }
        _ => Err((404, format!("no control call {method} {path}"))),
    }
}

fn clock_json(unix: i64) -> Value {
    json!({"now": unix, "time": crate::sandbox::time::rfc3339_cst(unix)})
}
