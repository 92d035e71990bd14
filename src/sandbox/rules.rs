//! The field rules WeChat Pay checks before it looks at any order (its apply-refund page;
//! docs/protocol.md "Refund rules the client should enforce before sending"), applied by the
//! sandbox to the raw JSON a peer SDK sends: each refusal is a 400 naming the field, as the real service answers.
//!
//! The formats shared with the client (`out_refund_no`, `notify_url`, ids) use the crate's
//! own validators (`refund::validate`), so the client and the sandbox cannot drift apart.

use crate::error::RefundError;
use crate::refund::validate;
use serde_json::Value;

/// One refusal: status, code, and the `detail` of WeChat Pay's error body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub value: Option<Value>,
}

impl Problem {
    /// 400 `PARAM_ERROR` naming `field` (and the value received).
    pub fn param(
        field: impl Into<String>,
        value: Option<&Value>,
        issue: impl Into<String>,
    ) -> Self {
        let field = field.into();
        Self {
            status: 400,
            code: "PARAM_ERROR",
            message: format!("{field}: {}", issue.into()),
            field: Some(field),
            value: value.cloned(),
        }
    }

    /// A refusal of WeChat Pay's business rules (no single field to blame, or one).
    pub fn business(
        status: u16,
        code: &'static str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: field.map(str::to_string),
            value: None,
        }
    }

    fn from_invalid(e: RefundError, value: Option<&Value>) -> Self {
        match e {
            RefundError::InvalidInput { field, reason } => Self::param(field, value, reason),
            other => Self::param("body", None, other.to_string()),
        }
    }
}

type R = Result<(), Problem>;

/// Each refund funds account WeChat Pay accepts in `amount.from` (WeChat Pay: 出资账户类型).
pub(crate) const FROM_ACCOUNTS: &[&str] = &["AVAILABLE", "UNAVAILABLE"];
/// The `funds_account` values of a request (WeChat Pay: 退款资金来源).
pub(crate) const REQUEST_FUNDS_ACCOUNTS: &[&str] = &["AVAILABLE", "UNSETTLED"];
/// The funds account used when the request names none (WeChat Pay: "否则默认使用未结算资金退款").
pub(crate) const DEFAULT_FUNDS_ACCOUNT: &str = "UNSETTLED";

fn string<'a>(v: &'a Value, field: &str) -> Result<Option<&'a str>, Problem> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Problem::param(field, Some(other), "must be a string")),
    }
}

fn integer(v: &Value, path: &str, field: &str) -> Result<Option<i64>, Problem> {
    match v.get(path) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Problem::param(field, Some(n), "must be an integer (fen)")),
    }
}

/// Only 1–3-byte UTF-8 characters anywhere in the body (docs/protocol.md): no emoji.
pub(crate) fn no_four_byte_chars(body: &[u8]) -> R {
    match std::str::from_utf8(body) {
        Ok(s) => match s.chars().find(|c| c.len_utf8() > 3) {
            Some(c) => Err(Problem::param(
                "body",
                None,
                format!(
                    "U+{:04X}: 4-byte UTF-8 characters (emoji) are not accepted",
                    c as u32
                ),
            )),
            None => Ok(()),
        },
        Err(_) => Err(Problem::param("body", None, "must be UTF-8")),
    }
}

/// Every field rule of an apply-refund body (before the order is looked up).
pub(crate) fn create_refund(v: &Value) -> R {
    if !v.is_object() {
        return Err(Problem::param("body", None, "must be a JSON object"));
    }
    let out_refund_no = string(v, "out_refund_no")?
        .ok_or_else(|| Problem::param("out_refund_no", None, "is required"))?;
    validate::out_refund_no("out_refund_no", out_refund_no)
        .map_err(|e| Problem::from_invalid(e, v.get("out_refund_no")))?;
    let tx = string(v, "transaction_id")?;
    let otn = string(v, "out_trade_no")?;
    if tx.is_none() && otn.is_none() {
        return Err(Problem::param(
            "out_trade_no",
            None,
            "transaction_id和out_trade_no必须二选一",
        ));
    }
    if let Some(t) = tx {
        validate::wechat_id("transaction_id", t)
            .map_err(|e| Problem::from_invalid(e, v.get("transaction_id")))?;
    }
    if let Some(o) = otn {
        validate::out_trade_no("out_trade_no", o)
            .map_err(|e| Problem::from_invalid(e, v.get("out_trade_no")))?;
    }
    if let Some(s) = string(v, "sub_mchid")? {
        validate::mchid("sub_mchid", s)
            .map_err(|e| Problem::from_invalid(e, v.get("sub_mchid")))?;
    }
    if let Some(r) = string(v, "reason")? {
        if r.len() > 80 {
            return Err(Problem::param(
                "reason",
                v.get("reason"),
                format!("退款原因不得超过80个字节 (got {} bytes)", r.len()),
            ));
        }
    }
    if let Some(u) = string(v, "notify_url")? {
        // https without a query, as WeChat Pay requires; http only to a loopback address,
        // which is where a test's local callback endpoint listens (see docs/sandbox.md).
        validate::notify_url("notify_url", u, false)
            .map_err(|e| Problem::from_invalid(e, v.get("notify_url")))?;
    }
    if let Some(f) = string(v, "funds_account")? {
        if !REQUEST_FUNDS_ACCOUNTS.contains(&f) {
            return Err(Problem::param(
                "funds_account",
                v.get("funds_account"),
                "must be AVAILABLE or UNSETTLED",
            ));
        }
    }
    let Some(amount) = v.get("amount").filter(|a| a.is_object()) else {
        return Err(Problem::param(
            "amount",
            v.get("amount"),
            "is required (an object)",
        ));
    };
    let refund = integer(amount, "refund", "amount.refund")?
        .ok_or_else(|| Problem::param("amount.refund", None, "is required"))?;
    let total = integer(amount, "total", "amount.total")?
        .ok_or_else(|| Problem::param("amount.total", None, "is required"))?;
    if amount.get("currency").and_then(Value::as_str) != Some("CNY") {
        return Err(Problem::param(
            "amount.currency",
            amount.get("currency"),
            "must be CNY",
        ));
    }
    if total < 1 {
        return Err(Problem::param(
            "amount.total",
            amount.get("total"),
            "must be at least 1 fen",
        ));
    }
    if refund < 1 {
        return Err(Problem::param(
            "amount.refund",
            amount.get("refund"),
            "退款金额须大于0",
        ));
    }
    if refund > total {
        return Err(Problem::param(
            "amount.refund",
            amount.get("refund"),
            "不能超过原订单支付金额 (amount.total)",
        ));
    }
    match amount.get("from") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => from_accounts(list, refund)?,
        Some(other) => {
            return Err(Problem::param(
                "amount.from",
                Some(other),
                "must be an array",
            ))
        }
    }
    match v.get("goods_detail") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => goods_detail(list, refund)?,
        Some(other) => {
            return Err(Problem::param(
                "goods_detail",
                Some(other),
                "must be an array",
            ))
        }
    }
    Ok(())
}

/// `amount.from`: accounts of WeChat Pay's list, each once, amounts summing to the refund.
fn from_accounts(list: &[Value], refund: i64) -> R {
    let mut seen: Vec<&str> = Vec::new();
    let mut sum: i64 = 0;
    for (i, f) in list.iter().enumerate() {
        let field = |n: &str| format!("amount.from[{i}].{n}");
        let account = f.get("account").and_then(Value::as_str).ok_or_else(|| {
            Problem::param(field("account"), f.get("account"), "is required (a string)")
        })?;
        if !FROM_ACCOUNTS.contains(&account) {
            return Err(Problem::param(
                field("account"),
                f.get("account"),
                "must be AVAILABLE or UNAVAILABLE",
            ));
        }
        if seen.contains(&account) {
            return Err(Problem::param(
                field("account"),
                f.get("account"),
                "账户类型不可重复",
            ));
        }
        seen.push(account);
        let amount = f
            .get("amount")
            .and_then(Value::as_i64)
            .filter(|a| *a >= 1)
            .ok_or_else(|| {
                Problem::param(
                    field("amount"),
                    f.get("amount"),
                    "must be an integer of at least 1 fen",
                )
            })?;
        sum = sum.saturating_add(amount);
    }
    if sum != refund {
        return Err(Problem::param(
            "amount.from",
            None,
            format!("出资金额之和 {sum} 须等于退款金额 {refund}"),
        ));
    }
    Ok(())
}

/// `goods_detail`: each line complete and consistent with itself and with the refund.
fn goods_detail(list: &[Value], refund: i64) -> R {
    let mut sum: i64 = 0;
    for (i, g) in list.iter().enumerate() {
        let field = |n: &str| format!("goods_detail[{i}].{n}");
        let id = g.get("merchant_goods_id").and_then(Value::as_str);
        if id.is_none_or(|s| s.is_empty() || s.len() > 32) {
            return Err(Problem::param(
                field("merchant_goods_id"),
                g.get("merchant_goods_id"),
                "is required: 1 to 32 bytes",
            ));
        }
        for (name, max) in [("wechatpay_goods_id", 32), ("goods_name", 256)] {
            match g.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.len() <= max => {}
                Some(other) => {
                    return Err(Problem::param(
                        field(name),
                        Some(other),
                        format!("must be a string of at most {max} bytes"),
                    ))
                }
            }
        }
        let num = |name: &str, min: i64| {
            g.get(name)
                .and_then(Value::as_i64)
                .filter(|n| *n >= min)
                .ok_or_else(|| {
                    Problem::param(
                        field(name),
                        g.get(name),
                        format!("is required: an integer of at least {min}"),
                    )
                })
        };
        let unit_price = num("unit_price", 0)?;
        let refund_amount = num("refund_amount", 0)?;
        let quantity = num("refund_quantity", 1)?;
        if refund_amount > unit_price.saturating_mul(quantity) {
            return Err(Problem::param(
                field("refund_amount"),
                g.get("refund_amount"),
                "商品退款金额不能超过 unit_price × refund_quantity",
            ));
        }
        sum = sum.saturating_add(refund_amount);
    }
    if sum > refund {
        return Err(Problem::param(
            "goods_detail",
            None,
            format!("商品退款金额之和 {sum} 超过退款金额 {refund}"),
        ));
    }
    Ok(())
}

/// The bank name of a `bank_type` of WeChat Pay's list (`ICBC_DEBIT` → 工商银行), if accepted.
pub(crate) fn bank_name(bank_type: &str) -> Option<&'static str> {
    validate::ABNORMAL_REFUND_BANK_TYPES
        .iter()
        .find(|(code, _)| *code == bank_type)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"out_trade_no": "T1001", "out_refund_no": "R1",
               "amount": {"refund": 100, "total": 1000, "currency": "CNY"}})
    }

    fn field_of(v: Value) -> Option<String> {
        create_refund(&v).err().and_then(|p| p.field)
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(create_refund(&base()), Ok(()));
        let case = |f: &dyn Fn(&mut Value)| {
            let mut v = base();
            f(&mut v);
            field_of(v)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            case(&|v| v["out_refund_no"] = json!("R 1")),
            some("out_refund_no")
        );
        assert_eq!(
            case(&|v| v["out_refund_no"] = json!("R".repeat(65))),
            some("out_refund_no")
        );
        assert_eq!(
            case(&|v| v["reason"] = json!("退".repeat(27))),
            some("reason")
        );
        assert_eq!(case(&|v| v["reason"] = json!("退".repeat(26))), None);
        assert_eq!(
            case(&|v| v["notify_url"] = json!("http://example.com/n")),
            some("notify_url")
        );
        assert_eq!(
            case(&|v| v["notify_url"] = json!("https://example.com/n?a=1")),
            some("notify_url")
        );
        assert_eq!(
            case(&|v| v["notify_url"] = json!("http://127.0.0.1:9/n")),
            None
        );
        assert_eq!(
            case(&|v| v["funds_account"] = json!("BASIC")),
            some("funds_account")
        );
        assert_eq!(case(&|v| v["funds_account"] = json!("UNSETTLED")), None);
        let from = |f: Value| {
            let mut v = base();
            v["amount"]["from"] = f;
            field_of(v)
        };
        assert_eq!(
            from(json!([{"account": "BASIC", "amount": 100}])),
            some("amount.from[0].account")
        );
        assert_eq!(
            from(
                json!([{"account": "AVAILABLE", "amount": 50}, {"account": "AVAILABLE", "amount": 50}])
            ),
            some("amount.from[1].account")
        );
        assert_eq!(
            from(json!([{"account": "AVAILABLE", "amount": 40}])),
            some("amount.from")
        );
        assert_eq!(
            from(
                json!([{"account": "AVAILABLE", "amount": 40}, {"account": "UNAVAILABLE", "amount": 60}])
            ),
            None
        );
        let goods = |g: Value| {
            let mut v = base();
            v["goods_detail"] = g;
            field_of(v)
        };
        let line = json!({"merchant_goods_id": "G1", "unit_price": 100, "refund_amount": 100, "refund_quantity": 1});
        assert_eq!(goods(json!([line.clone()])), None);
        assert_eq!(
            goods(json!([line.clone(), line.clone()])),
            some("goods_detail")
        );
        let mut over = line.clone();
        over["refund_amount"] = json!(101);
        assert_eq!(goods(json!([over])), some("goods_detail[0].refund_amount"));
        let mut no_id = line;
        no_id["merchant_goods_id"] = json!("");
        assert_eq!(
            goods(json!([no_id])),
            some("goods_detail[0].merchant_goods_id")
        );
    }

    #[test]
    fn emoji_anywhere_is_refused() {
        assert!(no_four_byte_chars("退款😀".as_bytes()).is_err());
        assert!(no_four_byte_chars("退款".as_bytes()).is_ok());
    }

    #[test]
    fn bank_names_for_the_supported_list() {
        assert_eq!(bank_name("ICBC_DEBIT"), Some("工商银行"));
        assert_eq!(bank_name("ICBC_CREDIT"), None);
    }
}
