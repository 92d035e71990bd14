//! Validation of requests before anything is signed or sent
//! (docs/protocol.md "Refund rules the client should enforce before sending").
//!
//! Every failure names the offending field as a JSON path.

use super::model::{
    AbnormalRefundKind, AbnormalRefundRequest, CreateRefundRequest, FromAccount,
    RequestFundsAccount,
};
use crate::error::{RefundError, Result};

type V = Result<()>;

fn err(field: impl Into<String>, reason: impl Into<String>) -> RefundError {
    RefundError::invalid(field, reason)
}

/// Debit cards of these banks only (abnormal refunds to a user's card; WeChat Pay's list).
pub const ABNORMAL_REFUND_BANK_TYPES: &[(&str, &str)] = &[
    ("CMB_DEBIT", "招商银行"),
    ("COMM_DEBIT", "交通银行"),
    ("ABC_DEBIT", "农业银行"),
    ("CCB_DEBIT", "建设银行"),
    ("ICBC_DEBIT", "工商银行"),
    ("BOC_DEBIT", "中国银行"),
    ("SPA_DEBIT", "平安银行"),
    ("SPDB_DEBIT", "浦发银行"),
    ("CITIC_DEBIT", "中信银行"),
    ("CEB_DEBIT", "光大银行"),
    ("CMBC_DEBIT", "民生银行"),
    ("CIB_DEBIT", "兴业银行"),
    ("GDB_DEBIT", "广发银行"),
    ("PSBC_DEBIT", "邮储银行"),
    ("NBCB_DEBIT", "宁波银行"),
];

/// `out_refund_no`: 1–64 bytes of `[0-9A-Za-z_\-|*@]`.
pub fn out_refund_no(field: &str, v: &str) -> V {
    chars_rule(field, v, 1, 64, b"_-|*@")
}

/// `out_trade_no`: 1–32 bytes of `[0-9A-Za-z_\-|*]`.
///
/// WeChat Pay asks for 6–32 characters when an order is *created*; a refund only names an
/// existing order, and this project's public contract refunds order `T1001`, so the minimum
/// enforced here is 1 (an unknown order is WeChat Pay's `RESOURCE_NOT_EXISTS`).
pub fn out_trade_no(field: &str, v: &str) -> V {
    chars_rule(field, v, 1, 32, b"_-|*")
}

fn chars_rule(field: &str, v: &str, min: usize, max: usize, extra: &[u8]) -> V {
    if v.len() < min || v.len() > max {
        return Err(err(
            field,
            format!("must be {min} to {max} characters long, got {}", v.len()),
        ));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || (c.is_ascii() && extra.contains(&(*c as u8)))))
    {
        let allowed: String = extra.iter().map(|b| *b as char).collect();
        return Err(err(
            field,
            format!("character {c:?} is not allowed (only letters, digits and {allowed})"),
        ));
    }
    Ok(())
}

/// A WeChat Pay id such as `transaction_id` or `refund_id`: 1–64 ASCII letters or digits.
pub fn wechat_id(field: &str, v: &str) -> V {
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(err(field, "must be 1 to 64 ASCII letters or digits"));
    }
    Ok(())
}

/// A merchant id (`mchid`, `sub_mchid`): 1–32 digits.
pub fn mchid(field: &str, v: &str) -> V {
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(field, "must be 1 to 32 digits"));
    }
    Ok(())
}

/// WeChat Pay accepts only 1–3-byte UTF-8 characters (no emoji or other 4-byte characters).
fn no_four_byte_chars(field: &str, v: &str) -> V {
    if let Some(c) = v.chars().find(|c| c.len_utf8() > 3) {
        return Err(err(
            field,
            format!(
                "character U+{:04X} is not accepted by WeChat Pay (4-byte UTF-8, e.g. emoji)",
                c as u32
            ),
        ));
    }
    if v.chars().any(|c| c == '\0') {
        return Err(err(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// Whether a host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// Split `scheme://authority/rest` into (scheme, host, rest). Only what URL checks need.
pub(crate) fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let host = if let Some(stripped) = authority.strip_prefix('[') {
        let end = stripped.find(']')?;
        &authority[..end + 2]
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return None;
    }
    Some((scheme, host, path))
}

/// `notify_url`: ≤ 256 bytes, https (http only on a private line or loopback), no query.
pub fn notify_url(field: &str, v: &str, allow_http: bool) -> V {
    if v.len() > 256 {
        return Err(err(
            field,
            format!("must be at most 256 bytes, got {}", v.len()),
        ));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(field, "must not contain spaces or control characters"));
    }
    let (scheme, host, path) =
        split_url(v).ok_or_else(|| err(field, "must be an absolute URL like https://host/path"))?;
    match scheme {
        "https" => {}
        "http" if allow_http || is_loopback_host(host) => {}
        "http" => {
            return Err(err(
                field,
                "must use https (http is only for a private line; enable allow_http_notify_url)",
            ))
        }
        _ => return Err(err(field, "must use https")),
    }
    if path.contains('?') || path.contains('#') {
        return Err(err(field, "must not carry a query string or fragment"));
    }
    Ok(())
}

/// Every rule for an apply-refund request.
pub fn create_refund(req: &CreateRefundRequest, allow_http_notify_url: bool) -> V {
    out_refund_no("out_refund_no", &req.out_refund_no)?;
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
        (Some(t), None) => wechat_id("transaction_id", t)?,
        (None, Some(o)) => out_trade_no("out_trade_no", o)?,
    }
    if let Some(s) = &req.sub_mchid {
        mchid("sub_mchid", s)?;
    }
    if let Some(r) = &req.reason {
        if r.len() > 80 {
            return Err(err(
                "reason",
                format!("must be at most 80 bytes of UTF-8, got {}", r.len()),
            ));
        }
        no_four_byte_chars("reason", r)?;
    }
    if let Some(u) = &req.notify_url {
        notify_url("notify_url", u, allow_http_notify_url)?;
    }
    if let Some(RequestFundsAccount::Unknown(raw)) = &req.funds_account {
        return Err(err(
            "funds_account",
            format!("must be AVAILABLE or UNSETTLED, got {raw:?}"),
        ));
    }
    let a = &req.amount;
    if a.total < 1 {
        return Err(err("amount.total", "must be at least 1 fen"));
    }
    if a.refund < 1 {
        return Err(err("amount.refund", "must be at least 1 fen"));
    }
    if a.refund > a.total {
        return Err(err(
            "amount.refund",
            format!(
                "{} fen exceeds the order total of {} fen",
                a.refund, a.total
            ),
        ));
    }
    if a.currency != "CNY" {
        return Err(err(
            "amount.currency",
            format!("must be CNY, got {:?}", a.currency),
        ));
    }
    if !a.funds_from.is_empty() {
        let mut seen = Vec::new();
        let mut sum: i64 = 0;
        for (i, f) in a.funds_from.iter().enumerate() {
            if let FromAccount::Unknown(raw) = &f.account {
                return Err(err(
                    format!("amount.from[{i}].account"),
                    format!("must be AVAILABLE or UNAVAILABLE, got {raw:?}"),
                ));
            }
            if seen.contains(&&f.account) {
                return Err(err(
                    format!("amount.from[{i}].account"),
                    format!("{} is repeated", f.account),
                ));
            }
            seen.push(&f.account);
            if f.amount < 1 {
                return Err(err(
                    format!("amount.from[{i}].amount"),
                    "must be at least 1 fen",
                ));
            }
            sum = sum
                .checked_add(f.amount)
                .ok_or_else(|| err("amount.from", "amounts overflow"))?;
        }
        if sum != a.refund {
            return Err(err(
                "amount.from",
                format!(
                    "amounts sum to {sum} fen but amount.refund is {} fen",
                    a.refund
                ),
            ));
        }
    }
    for (i, g) in req.goods_detail.iter().enumerate() {
        let f = |name: &str| format!("goods_detail[{i}].{name}");
        if g.merchant_goods_id.is_empty() || g.merchant_goods_id.len() > 32 {
            return Err(err(f("merchant_goods_id"), "must be 1 to 32 bytes"));
        }
        no_four_byte_chars(&f("merchant_goods_id"), &g.merchant_goods_id)?;
        if let Some(w) = &g.wechatpay_goods_id {
            if w.is_empty() || w.len() > 32 {
                return Err(err(f("wechatpay_goods_id"), "must be 1 to 32 bytes"));
            }
            no_four_byte_chars(&f("wechatpay_goods_id"), w)?;
        }
        if let Some(n) = &g.goods_name {
            if n.len() > 256 {
                return Err(err(f("goods_name"), "must be at most 256 bytes"));
            }
            no_four_byte_chars(&f("goods_name"), n)?;
        }
        if g.unit_price < 0 {
            return Err(err(f("unit_price"), "must not be negative"));
        }
        if g.refund_amount < 0 {
            return Err(err(f("refund_amount"), "must not be negative"));
        }
        if g.refund_amount > a.refund {
            return Err(err(f("refund_amount"), "exceeds amount.refund"));
        }
        if g.refund_quantity < 1 {
            return Err(err(f("refund_quantity"), "must be at least 1"));
        }
    }
    Ok(())
}

/// Every rule for a query.
pub fn query_refund(out_refund_no_value: &str, sub_mchid: Option<&str>) -> V {
    out_refund_no("out_refund_no", out_refund_no_value)?;
    if let Some(s) = sub_mchid {
        mchid("sub_mchid", s)?;
    }
    Ok(())
}

/// Every rule for an abnormal-refund request.
pub fn abnormal_refund(req: &AbnormalRefundRequest) -> V {
    wechat_id("refund_id", &req.refund_id)?;
    out_refund_no("out_refund_no", &req.out_refund_no)?;
    if let Some(s) = &req.sub_mchid {
        mchid("sub_mchid", s)?;
    }
    match &req.kind {
        AbnormalRefundKind::UserBankCard => {
            let bank_type = req
                .bank_type
                .as_deref()
                .ok_or_else(|| err("bank_type", "is required for USER_BANK_CARD"))?;
            if !ABNORMAL_REFUND_BANK_TYPES
                .iter()
                .any(|(c, _)| *c == bank_type)
            {
                let list: Vec<&str> = ABNORMAL_REFUND_BANK_TYPES.iter().map(|(c, _)| *c).collect();
                return Err(err(
                    "bank_type",
                    format!(
                        "{bank_type:?} is not accepted: only debit cards of these banks: {}",
                        list.join(", ")
                    ),
                ));
            }
            let account = req
                .bank_account
                .as_deref()
                .ok_or_else(|| err("bank_account", "is required for USER_BANK_CARD"))?;
            if account.len() < 8
                || account.len() > 32
                || !account.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(err("bank_account", "must be 8 to 32 digits"));
            }
            let name = req
                .real_name
                .as_deref()
                .ok_or_else(|| err("real_name", "is required for USER_BANK_CARD"))?;
            if name.trim().is_empty() || name.len() > 128 {
                return Err(err("real_name", "must be 1 to 128 bytes and not blank"));
            }
            no_four_byte_chars("real_name", name)?;
        }
        AbnormalRefundKind::MerchantBankCard => {
            for (field, v) in [
                ("bank_type", &req.bank_type),
                ("bank_account", &req.bank_account),
                ("real_name", &req.real_name),
            ] {
                if v.is_some() {
                    return Err(err(field, "must be absent for MERCHANT_BANK_CARD"));
                }
            }
        }
        AbnormalRefundKind::Unknown(raw) => {
            return Err(err(
                "kind",
                format!("must be USER_BANK_CARD or MERCHANT_BANK_CARD, got {raw:?}"),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refund::model::*;

    type Mutation<T> = Vec<(Box<dyn Fn(&mut T)>, &'static str)>;

    fn base() -> CreateRefundRequest {
        CreateRefundRequest::by_out_trade_no("T100001", "R1", 100, 1000)
    }

    fn field_of(r: V) -> String {
        match r.unwrap_err() {
            RefundError::InvalidInput { field, .. } => field,
            e => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn valid_request_passes() {
        create_refund(&base(), false).unwrap();
        let mut r = base();
        r.out_refund_no = "R-1_2|3*4@5".into();
        r.reason = Some("商品已售完".into());
        r.notify_url = Some("https://example.com/notify".into());
        r.amount.funds_from = vec![
            FundsFrom {
                account: FromAccount::Available,
                amount: 60,
            },
            FundsFrom {
                account: FromAccount::Unavailable,
                amount: 40,
            },
        ];
        create_refund(&r, false).unwrap();
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Mutation<CreateRefundRequest> = vec![
            (
                Box::new(|r| r.out_refund_no = String::new()),
                "out_refund_no",
            ),
            (
                Box::new(|r| r.out_refund_no = "x".repeat(65)),
                "out_refund_no",
            ),
            (
                Box::new(|r| r.out_refund_no = "R#1".into()),
                "out_refund_no",
            ),
            (
                Box::new(|r| r.out_refund_no = "R 1".into()),
                "out_refund_no",
            ),
            (
                Box::new(|r| r.out_trade_no = Some(String::new())),
                "out_trade_no",
            ),
            (
                Box::new(|r| r.out_trade_no = Some("T".repeat(33))),
                "out_trade_no",
            ),
            (
                Box::new(|r| r.out_trade_no = Some("T10000@".into())),
                "out_trade_no",
            ),
            (Box::new(|r| r.out_trade_no = None), "out_trade_no"),
            (
                Box::new(|r| r.transaction_id = Some("42".into())),
                "transaction_id",
            ),
            (
                Box::new(|r| {
                    r.out_trade_no = None;
                    r.transaction_id = Some("4-2".into())
                }),
                "transaction_id",
            ),
            (Box::new(|r| r.sub_mchid = Some("abc".into())), "sub_mchid"),
            (Box::new(|r| r.reason = Some("退".repeat(27))), "reason"),
            (Box::new(|r| r.reason = Some("ok 😀".into())), "reason"),
            (
                Box::new(|r| r.notify_url = Some("http://example.com/n".into())),
                "notify_url",
            ),
            (
                Box::new(|r| r.notify_url = Some("https://example.com/n?a=1".into())),
                "notify_url",
            ),
            (
                Box::new(|r| {
                    r.notify_url = Some(format!("https://example.com/{}", "a".repeat(240)))
                }),
                "notify_url",
            ),
            (
                Box::new(|r| r.notify_url = Some("ftp://example.com/n".into())),
                "notify_url",
            ),
            (
                Box::new(|r| r.notify_url = Some("notaurl".into())),
                "notify_url",
            ),
            (
                Box::new(|r| {
                    r.funds_account = Some(RequestFundsAccount::Unknown("OPERATION".into()))
                }),
                "funds_account",
            ),
            (Box::new(|r| r.amount.refund = 0), "amount.refund"),
            (Box::new(|r| r.amount.refund = -5), "amount.refund"),
            (Box::new(|r| r.amount.refund = 1001), "amount.refund"),
            (Box::new(|r| r.amount.total = 0), "amount.total"),
            (
                Box::new(|r| r.amount.currency = "USD".into()),
                "amount.currency",
            ),
            (
                Box::new(|r| {
                    r.amount.funds_from = vec![FundsFrom {
                        account: FromAccount::Available,
                        amount: 99,
                    }]
                }),
                "amount.from",
            ),
            (
                Box::new(|r| {
                    r.amount.funds_from = vec![
                        FundsFrom {
                            account: FromAccount::Available,
                            amount: 50,
                        },
                        FundsFrom {
                            account: FromAccount::Available,
                            amount: 50,
                        },
                    ]
                }),
                "amount.from[1].account",
            ),
            (
                Box::new(|r| {
                    r.amount.funds_from = vec![FundsFrom {
                        account: FromAccount::Unknown("BASIC".into()),
                        amount: 100,
                    }]
                }),
                "amount.from[0].account",
            ),
            (
                Box::new(|r| {
                    r.amount.funds_from = vec![
                        FundsFrom {
                            account: FromAccount::Available,
                            amount: 101,
                        },
                        FundsFrom {
                            account: FromAccount::Unavailable,
                            amount: -1,
                        },
                    ]
                }),
                "amount.from[1].amount",
            ),
            (
                Box::new(|r| {
                    r.amount.funds_from = vec![
                        FundsFrom {
                            account: FromAccount::Available,
                            amount: i64::MAX,
                        },
                        FundsFrom {
                            account: FromAccount::Unavailable,
                            amount: i64::MAX,
                        },
                    ]
                }),
                "amount.from",
            ),
            (
                Box::new(|r| r.goods_detail = vec![goods(|g| g.merchant_goods_id = String::new())]),
                "goods_detail[0].merchant_goods_id",
            ),
            (
                Box::new(|r| r.goods_detail = vec![goods(|g| g.refund_quantity = 0)]),
                "goods_detail[0].refund_quantity",
            ),
            (
                Box::new(|r| r.goods_detail = vec![goods(|g| g.unit_price = -1)]),
                "goods_detail[0].unit_price",
            ),
            (
                Box::new(|r| r.goods_detail = vec![goods(|g| g.refund_amount = -1)]),
                "goods_detail[0].refund_amount",
            ),
            (
                Box::new(|r| {
                    r.goods_detail =
                        vec![goods(|_| ()), goods(|g| g.goods_name = Some("🎁".into()))]
                }),
                "goods_detail[1].goods_name",
            ),
        ];
        for (i, (mutate, field)) in cases.into_iter().enumerate() {
            let mut r = base();
            mutate(&mut r);
            assert_eq!(field_of(create_refund(&r, false)), field, "case {i}");
        }
    }

    fn goods(f: impl Fn(&mut GoodsDetailInput)) -> GoodsDetailInput {
        let mut g = GoodsDetailInput {
            merchant_goods_id: "SKU".into(),
            unit_price: 100,
            refund_amount: 100,
            refund_quantity: 1,
            wechatpay_goods_id: None,
            goods_name: None,
        };
        f(&mut g);
        g
    }

    #[test]
    fn http_notify_url_allowed_on_loopback_or_private_line() {
        let mut r = base();
        r.notify_url = Some("http://127.0.0.1:8080/notify".into());
        create_refund(&r, false).unwrap();
        r.notify_url = Some("http://[::1]:8080/notify".into());
        create_refund(&r, false).unwrap();
        r.notify_url = Some("http://10.0.0.1/notify".into());
        assert!(create_refund(&r, false).is_err());
        create_refund(&r, true).unwrap();
    }

    fn abnormal() -> AbnormalRefundRequest {
        AbnormalRefundRequest {
            refund_id: "50000000382019052709732678859".into(),
            out_refund_no: "R1".into(),
            kind: AbnormalRefundKind::UserBankCard,
            sub_mchid: None,
            bank_type: Some("ICBC_DEBIT".into()),
            bank_account: Some("6222021234567890".into()),
            real_name: Some("张三".into()),
        }
    }

    #[test]
    fn abnormal_refund_rules() {
        abnormal_refund(&abnormal()).unwrap();
        let cases: Mutation<AbnormalRefundRequest> = vec![
            (Box::new(|r| r.refund_id = String::new()), "refund_id"),
            (Box::new(|r| r.refund_id = "../x".into()), "refund_id"),
            (
                Box::new(|r| r.out_refund_no = "R 1".into()),
                "out_refund_no",
            ),
            (Box::new(|r| r.bank_type = None), "bank_type"),
            (
                Box::new(|r| r.bank_type = Some("ICBC_CREDIT".into())),
                "bank_type",
            ),
            (Box::new(|r| r.bank_account = None), "bank_account"),
            (
                Box::new(|r| r.bank_account = Some("6222-0212".into())),
                "bank_account",
            ),
            (Box::new(|r| r.real_name = None), "real_name"),
            (Box::new(|r| r.real_name = Some("  ".into())), "real_name"),
            (
                Box::new(|r| r.kind = AbnormalRefundKind::MerchantBankCard),
                "bank_type",
            ),
            (
                Box::new(|r| {
                    r.kind = AbnormalRefundKind::MerchantBankCard;
                    r.bank_type = None;
                }),
                "bank_account",
            ),
            (
                Box::new(|r| r.kind = AbnormalRefundKind::Unknown("WALLET".into())),
                "kind",
            ),
            (Box::new(|r| r.sub_mchid = Some("x".into())), "sub_mchid"),
        ];
        for (i, (mutate, field)) in cases.into_iter().enumerate() {
            let mut r = abnormal();
            mutate(&mut r);
            assert_eq!(field_of(abnormal_refund(&r)), field, "case {i}");
        }
        let ok = AbnormalRefundRequest {
            kind: AbnormalRefundKind::MerchantBankCard,
            bank_type: None,
            bank_account: None,
            real_name: None,
            ..abnormal()
        };
        abnormal_refund(&ok).unwrap();
    }

    #[test]
    fn query_rules() {
        query_refund("R|1", Some("1900000109")).unwrap();
        assert_eq!(field_of(query_refund("", None)), "out_refund_no");
        assert_eq!(field_of(query_refund("R1", Some("19x"))), "sub_mchid");
    }
}
