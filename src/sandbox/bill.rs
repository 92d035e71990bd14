//! The sandbox's trade bills (docs/sandbox.md "Bills"): `GET /v3/bill/tradebill` answers with
//! the SHA1 and a download URL of a file generated from the order book — the payments made and
//! the refunds accepted on that day, China time (UTC+8), as WeChat Pay's "数据时间" rules say —
//! and `GET /v3/billdownload/file?token=…` serves it (signed request, unsigned answer), plain
//! or gzip. A `CORRUPT_BILL` fault flips one byte of the next file served: its SHA1 no longer
//! matches the `hash_value` given.

use super::{error_reply, Reply, Shared, State};
use crate::bill::validate_bill_date;
use crate::crypto::Sha1;
use crate::refund::model::RefundStatus;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// The path files are served under.
pub(crate) const FILE_PATH: &str = "/v3/billdownload/file";
/// Bill files kept for download at once (older ones are forgotten).
const KEPT_FILES: usize = 16;

const ALL_COLUMNS: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
const SUCCESS_COLUMNS: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "费率备注",
];
const REFUND_COLUMNS: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "退款申请时间",
    "退款成功时间",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
const SUMMARY_COLUMNS: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

/// The sandbox's service fee: 0.6 %, in units of 0.00001 yuan per fen (fen × 6).
const FEE_PER_FEN: i64 = 6;

/// Fen as yuan text with two decimals.
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// 0.00001-yuan units as yuan text with five decimals (the fee columns).
fn yuan5(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    format!("{sign}{}.{:05}", a / 100_000, a % 100_000)
}

/// China-time `YYYY-MM-DD HH:MM:SS` of a Unix time.
fn cst(unix: i64) -> String {
    let t = super::rfc3339_cst(unix);
    format!("{} {}", &t[..10], &t[11..19])
}

/// The China-time day number (days since 1970-01-01) of a Unix time.
fn cst_day(unix: i64) -> i64 {
    (unix + 8 * 3600).div_euclid(86_400)
}

/// The day number of a valid `YYYY-MM-DD`.
fn day_of(date: &str) -> i64 {
    let y: i64 = date[0..4].parse().unwrap_or(1970);
    let m: i64 = date[5..7].parse().unwrap_or(1);
    let d: i64 = date[8..10].parse().unwrap_or(1);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn bill_status(s: &RefundStatus) -> &str {
    match s {
        RefundStatus::Closed => "REFUNDCLOSE",
        RefundStatus::Abnormal => "CHANGE",
        other => other.as_str(),
    }
}

struct Line {
    at: i64,
    key: String,
    fields: Vec<(&'static str, String)>,
}

/// The bill text of `day` (`kind`: ALL, SUCCESS or REFUND) for `sub_mchid` (none: everyone's),
/// or `None` when it has no row.
fn bill_text(
    st: &State,
    mchid: &str,
    day: i64,
    kind: &str,
    sub_mchid: Option<&str>,
) -> Option<String> {
    let columns = match kind {
        "SUCCESS" => SUCCESS_COLUMNS,
        "REFUND" => REFUND_COLUMNS,
        _ => ALL_COLUMNS,
    };
    let mine = |owner: Option<&str>| sub_mchid.is_none() || owner == sub_mchid;
    let mut lines: Vec<Line> = Vec::new();
    let (mut settlement, mut refunded, mut fees, mut totals, mut requested) = (0i64, 0, 0, 0, 0);
    if kind != "REFUND" {
        for (out_trade_no, o) in &st.orders {
            let owner = o.owner.clone().flatten();
            if cst_day(o.paid_at) != day || !mine(owner.as_deref()) {
                continue;
            }
            settlement += o.total;
            totals += o.total;
            fees += o.total * FEE_PER_FEN;
            lines.push(Line {
                at: o.paid_at,
                key: out_trade_no.clone(),
                fields: vec![
                    ("交易时间", cst(o.paid_at)),
                    ("特约商户号", owner.unwrap_or_else(|| "0".into())),
                    ("微信订单号", o.transaction_id.clone()),
                    ("商户订单号", out_trade_no.clone()),
                    ("交易状态", "SUCCESS".into()),
                    ("应结订单金额", yuan(o.total)),
                    ("微信退款单号", "0".into()),
                    ("商户退款单号", "0".into()),
                    ("退款金额", "0.00".into()),
                    ("充值券退款金额", "0.00".into()),
                    ("手续费", yuan5(o.total * FEE_PER_FEN)),
                    ("订单金额", yuan(o.total)),
                    ("申请退款金额", "0.00".into()),
                ],
            });
        }
    }
    if kind != "SUCCESS" {
        for (key, r) in &st.refunds {
            if cst_day(r.create_time) != day || !mine(r.sub_mchid.as_deref()) {
                continue;
            }
            refunded += r.refund;
            requested += r.refund;
            fees -= r.refund * FEE_PER_FEN;
            lines.push(Line {
                at: r.create_time,
                key: key.clone(),
                fields: vec![
                    ("交易时间", cst(r.create_time)),
                    (
                        "特约商户号",
                        r.sub_mchid.clone().unwrap_or_else(|| "0".into()),
                    ),
                    ("微信订单号", r.transaction_id.clone()),
                    ("商户订单号", r.out_trade_no.clone()),
                    ("交易状态", "REFUND".into()),
                    ("应结订单金额", "0.00".into()),
                    ("退款申请时间", cst(r.create_time)),
                    ("退款成功时间", r.success_time.map(cst).unwrap_or_default()),
                    ("微信退款单号", r.refund_id.clone()),
                    ("商户退款单号", r.out_refund_no.clone()),
                    ("退款金额", yuan(r.refund)),
                    ("充值券退款金额", "0.00".into()),
                    ("退款类型", "ORIGINAL".into()),
                    ("退款状态", bill_status(&r.status).into()),
                    ("手续费", yuan5(-r.refund * FEE_PER_FEN)),
                    ("订单金额", "0.00".into()),
                    ("申请退款金额", yuan(r.refund)),
                ],
            });
        }
    }
    if lines.is_empty() {
        return None;
    }
    lines.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for l in &lines {
        let value = |name: &str| -> String {
            if let Some((_, v)) = l.fields.iter().find(|(n, _)| *n == name) {
                return v.clone();
            }
            match name {
                "公众账号ID" => "wx8888888888888888".into(),
                "商户号" => mchid.into(),
                "用户标识" => "oSandboxUser0000000000000000".into(),
                "交易类型" => "JSAPI".into(),
                "付款银行" => "OTHERS".into(),
                "货币种类" => "CNY".into(),
                "代金券金额" => "0.00".into(),
                "商品名称" => "sandbox order".into(),
                "费率" => "0.60%".into(),
                _ => String::new(),
            }
        };
        let row: Vec<String> = columns.iter().map(|c| format!("`{}", value(c))).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out.push_str(SUMMARY_COLUMNS);
    out.push_str("\r\n");
    let _ = write!(
        out,
        "`{},`{},`{},`0.00,`{},`{},`{}\r\n",
        lines.len(),
        yuan(settlement),
        yuan(refunded),
        yuan5(fees),
        yuan(totals),
        yuan(requested)
    );
    Some(out)
}

fn param(name: &str, query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .and_then(super::percent_decode)
}

impl Shared {
    /// `GET /v3/bill/tradebill?…` (authenticated already).
    pub(super) fn trade_bill(&self, query: &str, base_url: &str) -> Reply {
        let p = |issue: &str, field: &str| error_reply(400, "PARAM_ERROR", issue, Some(field));
        let Some(date) = param("bill_date", query) else {
            return p("缺少参数 bill_date", "bill_date");
        };
        if validate_bill_date(&date).is_err() {
            return p("bill_date 格式应为 yyyy-MM-DD", "bill_date");
        }
        let kind = param("bill_type", query).unwrap_or_else(|| "ALL".into());
        if !matches!(kind.as_str(), "ALL" | "SUCCESS" | "REFUND") {
            return p("bill_type 应为 ALL、SUCCESS 或 REFUND", "bill_type");
        }
        let gzip = match param("tar_type", query).as_deref() {
            None => false,
            Some("GZIP") => true,
            Some(_) => return p("tar_type 仅支持 GZIP", "tar_type"),
        };
        let sub_mchid = param("sub_mchid", query);
        let mut st = self.state();
        let today = cst_day(st.clock());
        let day = day_of(&date);
        if day == today {
            return error_reply(
                400,
                "STATEMENT_CREATING",
                "账单生成中，请在次日再下载当日账单",
                None,
            );
        }
        if day > today || today - day > 92 {
            return error_reply(400, "NO_STATEMENT_EXIST", "账单不存在", None);
        }
        let Some(text) = bill_text(&st, &self.keys.mchid, day, &kind, sub_mchid.as_deref()) else {
            return error_reply(400, "NO_STATEMENT_EXIST", "账单不存在", None);
        };
        let bytes = if gzip {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = gz.write_all(text.as_bytes());
            gz.finish().unwrap_or_default()
        } else {
            text.into_bytes()
        };
        let mut h = Sha1::new();
        h.update(&bytes);
        let hash = h.finish_hex();
        let token = super::random_hex(16);
        st.bill_files.push_back((token.clone(), bytes));
        while st.bill_files.len() > KEPT_FILES {
            st.bill_files.pop_front();
        }
        Reply {
            status: 200,
            body: json!({
                "hash_type": "SHA1",
                "hash_value": hash,
                "download_url": format!("{base_url}{FILE_PATH}?token={token}"),
            })
            .to_string()
            .into_bytes(),
        }
    }

    /// `GET /v3/billdownload/file?token=…` (authenticated already): the file's bytes, one byte
    /// flipped when a `CORRUPT_BILL` fault is pending.
    pub(super) fn bill_file(&self, query: &str) -> Reply {
        let token = param("token", query).unwrap_or_default();
        let file = self
            .state()
            .bill_files
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, b)| b.clone());
        let Some(mut bytes) = file else {
            return error_reply(404, "RESOURCE_NOT_EXISTS", "账单文件不存在或已过期", None);
        };
        let corrupt = self
            .corrupt_bills
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if corrupt && !bytes.is_empty() {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
        }
        Reply {
            status: 200,
            body: bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_days() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(1), "0.01");
        assert_eq!(yuan(-12345), "-123.45");
        assert_eq!(yuan5(6), "0.00006");
        assert_eq!(yuan5(-600_000), "-6.00000");
        assert_eq!(day_of("1970-01-01"), 0);
        assert_eq!(day_of("2000-03-01"), 11_017);
        // 2026-11-23 16:00 UTC is 2026-11-24 00:00 in China.
        assert_eq!(cst_day(1_795_449_600), day_of("2026-11-24"));
        assert_eq!(cst(0), "1970-01-01 08:00:00");
    }
}
