//! The bill file, parsed as it streams.
//!
//! Layout (WeChat Pay's "交易账单文件格式说明"): a header line of column names, the detail rows —
//! every field prefixed with a backtick (so that spreadsheets keep long numbers as text) — then
//! the summary header (`总交易单数,…`) and one summary line, backticked too. Columns are found by
//! name ("列名的顺序非一直固定": the order is not fixed), and a column this version does not know
//! is kept by name in `extra`. Amounts are yuan as decimal text; they become integer fen by
//! exact decimal conversion (never through a float), and an amount that is not a whole number
//! of fen is a `Decode` error naming line and column — except the fee (手续费), which WeChat Pay
//! writes to the thousandth of a fen and is kept as text.
//!
//! Memory is bounded by the longest line ([`MAX_LINE_BYTES`]), whatever the file size.

use crate::error::{RefundError, Result};
use crate::refund::model::RefundStatus;
use std::io::{BufRead, BufReader, Read};

/// The longest line accepted (a longer one is a `Decode` error, not an allocation).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// A column the parser does not map, kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillField {
    /// The column name, as in the header.
    pub name: String,
    /// The value, backtick removed.
    pub value: String,
}

/// One detail row of a trade bill. Text columns absent from this bill type are empty; amount
/// columns absent (or empty) are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillRow {
    /// Line number in the (decompressed) file, from 1.
    pub line: u64,
    /// 交易时间 (`YYYY-MM-DD HH:MM:SS`, China time).
    pub trade_time: String,
    /// 公众账号ID.
    pub appid: String,
    /// 商户号.
    pub mchid: String,
    /// 特约商户号 (service-provider mode; `0` otherwise).
    pub sub_mchid: String,
    /// 设备号.
    pub device_info: String,
    /// 微信订单号.
    pub transaction_id: String,
    /// 商户订单号.
    pub out_trade_no: String,
    /// 用户标识.
    pub openid: String,
    /// 交易类型 (`JSAPI`, `NATIVE`, …).
    pub trade_type: String,
    /// 交易状态: `SUCCESS` for a payment, `REFUND` for a refund row, …
    pub trade_state: String,
    /// 付款银行.
    pub bank_type: String,
    /// 货币种类.
    pub currency: String,
    /// 应结订单金额, fen.
    pub settlement_total_fen: Option<i64>,
    /// 代金券金额, fen.
    pub coupon_fen: Option<i64>,
    /// 退款申请时间 (REFUND bills).
    pub refund_apply_time: String,
    /// 退款成功时间 (REFUND bills).
    pub refund_success_time: String,
    /// 微信退款单号 (`0` on payment rows).
    pub refund_id: String,
    /// 商户退款单号 (`0` on payment rows).
    pub out_refund_no: String,
    /// 退款金额, fen.
    pub refund_fen: Option<i64>,
    /// 充值券退款金额, fen.
    pub recharge_coupon_refund_fen: Option<i64>,
    /// 退款类型.
    pub refund_type: String,
    /// 退款状态, as of when the bill was generated (`CHANGE` is `Abnormal`, `REFUNDCLOSE` is
    /// `Closed`); `None` on payment rows.
    pub refund_status: Option<RefundStatus>,
    /// 商品名称.
    pub goods_name: String,
    /// 商户数据包.
    pub attach: String,
    /// 手续费, yuan as written (to the thousandth of a fen; negative on refunds).
    pub fee: String,
    /// 费率 (`0.60%`).
    pub fee_rate: String,
    /// 订单金额, fen.
    pub total_fen: Option<i64>,
    /// 申请退款金额, fen.
    pub refund_requested_fen: Option<i64>,
    /// 费率备注.
    pub fee_rate_note: String,
    /// Columns this version does not know, by name.
    pub extra: Vec<BillField>,
}

impl BillRow {
    /// A refund row (交易状态 `REFUND`).
    pub fn is_refund(&self) -> bool {
        self.trade_state == "REFUND"
    }
}

/// The summary line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillSummary {
    /// 总交易单数.
    pub total_count: Option<i64>,
    /// 应结订单总金额, fen.
    pub settlement_total_fen: Option<i64>,
    /// 退款总金额, fen.
    pub refund_total_fen: Option<i64>,
    /// 充值券退款总金额, fen.
    pub recharge_coupon_refund_total_fen: Option<i64>,
    /// 手续费总金额, yuan as written.
    pub fee_total: String,
    /// 订单总金额, fen.
    pub total_fen: Option<i64>,
    /// 申请退款总金额, fen.
    pub refund_requested_total_fen: Option<i64>,
    /// Columns this version does not know, by name.
    pub extra: Vec<BillField>,
}

/// A whole parsed bill (rows held in memory: for a large bill, stream with [`BillReader`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Bill {
    /// The detail columns, in file order.
    pub columns: Vec<String>,
    /// The detail rows.
    pub rows: Vec<BillRow>,
    /// The summary, when the file has one.
    pub summary: Option<BillSummary>,
}

impl Bill {
    /// The refund rows.
    pub fn refunds(&self) -> impl Iterator<Item = &BillRow> {
        self.rows.iter().filter(|r| r.is_refund())
    }
}

/// Yuan as decimal text (`12.30`, `-0.01`, `5`, `0.01000`) to integer fen, exactly: digits
/// beyond the second decimal must be zeros. `None` when it is not such a number, is not a whole
/// number of fen, or overflows.
pub fn yuan_to_fen(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 2 && !frac[2..].bytes().all(|b| b == b'0') {
        return None;
    }
    let mut fen: i64 = 0;
    for b in int.bytes() {
        fen = fen.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let mut cents = 0i64;
    for i in 0..2 {
        cents = cents * 10 + frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
    }
    fen = fen.checked_mul(100)?.checked_add(cents)?;
    Some(if neg { -fen } else { fen })
}

/// Split one CSV line: `,` separated, a field may be double-quoted (`""` inside for a quote),
/// as Python's `csv` reads it.
fn split_csv(line: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            out.push(std::mem::take(&mut field));
            at_start = true;
            continue;
        } else if c == '"' && at_start {
            quoted = true;
        } else {
            field.push(c);
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed on its line");
    }
    out.push(field);
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    TradeTime,
    Appid,
    Mchid,
    SubMchid,
    DeviceInfo,
    TransactionId,
    OutTradeNo,
    Openid,
    TradeType,
    TradeState,
    BankType,
    Currency,
    SettlementTotal,
    Coupon,
    RefundApplyTime,
    RefundSuccessTime,
    RefundId,
    OutRefundNo,
    Refund,
    RechargeCouponRefund,
    RefundType,
    RefundStatus,
    GoodsName,
    Attach,
    Fee,
    FeeRate,
    Total,
    RefundRequested,
    FeeRateNote,
    Extra,
}

fn col_of(name: &str) -> Col {
    match name {
        "交易时间" => Col::TradeTime,
        "公众账号ID" => Col::Appid,
        "商户号" => Col::Mchid,
        "特约商户号" | "子商户号" => Col::SubMchid,
        "设备号" => Col::DeviceInfo,
        "微信订单号" => Col::TransactionId,
        "商户订单号" => Col::OutTradeNo,
        "用户标识" => Col::Openid,
        "交易类型" => Col::TradeType,
        "交易状态" => Col::TradeState,
        "付款银行" => Col::BankType,
        "货币种类" => Col::Currency,
        "应结订单金额" => Col::SettlementTotal,
        "代金券金额" => Col::Coupon,
        "退款申请时间" => Col::RefundApplyTime,
        "退款成功时间" => Col::RefundSuccessTime,
        "微信退款单号" => Col::RefundId,
        "商户退款单号" => Col::OutRefundNo,
        "退款金额" => Col::Refund,
        "充值券退款金额" => Col::RechargeCouponRefund,
        "退款类型" => Col::RefundType,
        "退款状态" => Col::RefundStatus,
        "商品名称" => Col::GoodsName,
        "商户数据包" => Col::Attach,
        "手续费" => Col::Fee,
        "费率" => Col::FeeRate,
        "订单金额" => Col::Total,
        "申请退款金额" => Col::RefundRequested,
        "费率备注" => Col::FeeRateNote,
        _ => Col::Extra,
    }
}

/// The refund status as a bill writes it (v2 names: `REFUNDCLOSE`, `CHANGE`).
fn bill_refund_status(v: &str) -> Option<RefundStatus> {
    match v {
        "" => None,
        "REFUNDCLOSE" => Some(RefundStatus::Closed),
        "CHANGE" => Some(RefundStatus::Abnormal),
        other => Some(RefundStatus::from_wire(other)),
    }
}

#[derive(PartialEq, Eq)]
enum Stage {
    Rows,
    SummaryLine,
    Done,
}

/// Reads a bill row by row from any byte stream (decompressed already; see
/// [`open_bill_file`] for files that may be gzip).
pub struct BillReader<R> {
    reader: R,
    line: u64,
    columns: Vec<String>,
    cols: Vec<Col>,
    summary_columns: Vec<String>,
    summary: Option<BillSummary>,
    stage: Stage,
    buf: Vec<u8>,
}

impl<R> std::fmt::Debug for BillReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillReader")
            .field("line", &self.line)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

fn bad(line: u64, reason: impl std::fmt::Display) -> RefundError {
    RefundError::decode("bill file", format!("line {line}: {reason}"), None)
}

impl<R: BufRead> BillReader<R> {
    /// Read the header line; `Decode` error when the stream does not start with one.
    pub fn new(reader: R) -> Result<Self> {
        let mut me = Self {
            reader,
            line: 0,
            columns: Vec::new(),
            cols: Vec::new(),
            summary_columns: Vec::new(),
            summary: None,
            stage: Stage::Rows,
            buf: Vec::with_capacity(1024),
        };
        let Some(header) = me.next_line()? else {
            return Err(bad(1, "the file is empty (no header line)"));
        };
        let header = header
            .strip_prefix('\u{feff}')
            .unwrap_or(&header)
            .to_string();
        let names = split_csv(&header).map_err(|e| bad(me.line, e))?;
        if names.iter().any(|n| n.starts_with('`')) {
            return Err(bad(me.line, "expected the header line, found a data row"));
        }
        me.columns = names.into_iter().map(|n| n.trim().to_string()).collect();
        if !me.columns.iter().any(|c| c == "交易时间") {
            return Err(bad(me.line, "not a trade bill header (no 交易时间 column)"));
        }
        me.cols = me.columns.iter().map(|c| col_of(c)).collect();
        Ok(me)
    }

    /// The detail columns, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The summary, once [`Self::next_row`] has returned `None`.
    pub fn summary(&self) -> Option<&BillSummary> {
        self.summary.as_ref()
    }

    /// The next non-empty line (without its line ending), or `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>> {
        loop {
            self.buf.clear();
            let n = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| bad(self.line + 1, format!("read failed: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(bad(
                    self.line,
                    format!("longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return match std::str::from_utf8(&self.buf) {
                Ok(s) => Ok(Some(s.to_string())),
                Err(_) => Err(bad(self.line, "not UTF-8")),
            };
        }
    }

    /// Split a backticked line: every field must start with a backtick.
    fn fields(&self, text: &str, expect: usize) -> Result<Vec<String>> {
        // The common case, no quoting on the line: one allocation per field.
        if !text.contains('"') {
            let mut out = Vec::with_capacity(expect);
            for (i, f) in text.split(',').enumerate() {
                let v = f.strip_prefix('`').ok_or_else(|| {
                    bad(
                        self.line,
                        format!("field {} does not start with a backtick", i + 1),
                    )
                })?;
                out.push(v.to_string());
            }
            if out.len() != expect {
                return Err(bad(
                    self.line,
                    format!("{} fields, the header has {expect}", out.len()),
                ));
            }
            return Ok(out);
        }
        let raw = split_csv(text).map_err(|e| bad(self.line, e))?;
        if raw.len() != expect {
            return Err(bad(
                self.line,
                format!("{} fields, the header has {expect}", raw.len()),
            ));
        }
        raw.into_iter()
            .enumerate()
            .map(|(i, f)| {
                f.strip_prefix('`').map(str::to_string).ok_or_else(|| {
                    bad(
                        self.line,
                        format!("field {} does not start with a backtick", i + 1),
                    )
                })
            })
            .collect()
    }

    /// The next detail row; `None` after the last one (the summary is then read).
    pub fn next_row(&mut self) -> Result<Option<BillRow>> {
        loop {
            if self.stage == Stage::Done {
                return Ok(None);
            }
            let Some(text) = self.next_line()? else {
                if self.stage == Stage::SummaryLine {
                    return Err(bad(self.line, "the summary header has no summary line"));
                }
                self.stage = Stage::Done;
                return Ok(None);
            };
            match self.stage {
                Stage::Rows if !text.starts_with('`') => {
                    let names = split_csv(&text).map_err(|e| bad(self.line, e))?;
                    self.summary_columns =
                        names.into_iter().map(|n| n.trim().to_string()).collect();
                    self.stage = Stage::SummaryLine;
                }
                Stage::Rows => return self.row(&text).map(Some),
                Stage::SummaryLine => {
                    let values = self.fields(&text, self.summary_columns.len())?;
                    self.summary = Some(self.summary_of(values)?);
                    self.stage = Stage::Done;
                    if let Some(more) = self.next_line()? {
                        let _ = more;
                        return Err(bad(self.line, "unexpected line after the summary line"));
                    }
                    return Ok(None);
                }
                Stage::Done => return Ok(None),
            }
        }
    }

    fn fen(&self, name: &str, v: &str) -> Result<Option<i64>> {
        if v.is_empty() {
            return Ok(None);
        }
        yuan_to_fen(v).map(Some).ok_or_else(|| {
            bad(
                self.line,
                format!("{name} {v:?} is not an amount in yuan with at most 2 decimals"),
            )
        })
    }

    fn row(&self, text: &str) -> Result<BillRow> {
        let values = self.fields(text, self.columns.len())?;
        let mut r = BillRow {
            line: self.line,
            ..BillRow::default()
        };
        for ((name, col), v) in self.columns.iter().zip(&self.cols).zip(values) {
            match col {
                Col::TradeTime => r.trade_time = v,
                Col::Appid => r.appid = v,
                Col::Mchid => r.mchid = v,
                Col::SubMchid => r.sub_mchid = v,
                Col::DeviceInfo => r.device_info = v,
                Col::TransactionId => r.transaction_id = v,
                Col::OutTradeNo => r.out_trade_no = v,
                Col::Openid => r.openid = v,
                Col::TradeType => r.trade_type = v,
                Col::TradeState => r.trade_state = v,
                Col::BankType => r.bank_type = v,
                Col::Currency => r.currency = v,
                Col::SettlementTotal => r.settlement_total_fen = self.fen(name, &v)?,
                Col::Coupon => r.coupon_fen = self.fen(name, &v)?,
                Col::RefundApplyTime => r.refund_apply_time = v,
                Col::RefundSuccessTime => r.refund_success_time = v,
                Col::RefundId => r.refund_id = v,
                Col::OutRefundNo => r.out_refund_no = v,
                Col::Refund => r.refund_fen = self.fen(name, &v)?,
                Col::RechargeCouponRefund => r.recharge_coupon_refund_fen = self.fen(name, &v)?,
                Col::RefundType => r.refund_type = v,
                Col::RefundStatus => r.refund_status = bill_refund_status(&v),
                Col::GoodsName => r.goods_name = v,
                Col::Attach => r.attach = v,
                Col::Fee => r.fee = v,
                Col::FeeRate => r.fee_rate = v,
                Col::Total => r.total_fen = self.fen(name, &v)?,
                Col::RefundRequested => r.refund_requested_fen = self.fen(name, &v)?,
                Col::FeeRateNote => r.fee_rate_note = v,
                Col::Extra => r.extra.push(BillField {
                    name: name.clone(),
                    value: v,
                }),
            }
        }
        if !r.is_refund() {
            r.refund_status = None;
        }
        Ok(r)
    }

    fn summary_of(&self, values: Vec<String>) -> Result<BillSummary> {
        let mut s = BillSummary::default();
        for (name, v) in self.summary_columns.iter().zip(values) {
            match name.as_str() {
                "总交易单数" => {
                    s.total_count = if v.is_empty() {
                        None
                    } else {
                        Some(v.parse::<i64>().map_err(|_| {
                            bad(self.line, format!("总交易单数 {v:?} is not a count"))
                        })?)
                    }
                }
                "应结订单总金额" => s.settlement_total_fen = self.fen(name, &v)?,
                "退款总金额" => s.refund_total_fen = self.fen(name, &v)?,
                "充值券退款总金额" => {
                    s.recharge_coupon_refund_total_fen = self.fen(name, &v)?
                }
                "手续费总金额" => s.fee_total = v,
                "订单总金额" => s.total_fen = self.fen(name, &v)?,
                "申请退款总金额" => s.refund_requested_total_fen = self.fen(name, &v)?,
                _ => s.extra.push(BillField {
                    name: name.clone(),
                    value: v,
                }),
            }
        }
        Ok(s)
    }
}

impl<R: BufRead> Iterator for BillReader<R> {
    type Item = Result<BillRow>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_row() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.stage = Stage::Done;
                Some(Err(e))
            }
        }
    }
}

/// Whether these first bytes are a gzip stream's.
pub(crate) fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// A reader of the bill's text: decompressed when `source` is gzip (detected by its magic
/// bytes), as is otherwise.
pub fn bill_text_reader<'a, R: BufRead + 'a>(mut source: R) -> Result<Box<dyn BufRead + 'a>> {
    let head = source
        .fill_buf()
        .map_err(|e| bad(0, format!("read failed: {e}")))?;
    if is_gzip(head) {
        Ok(Box::new(BufReader::with_capacity(
            64 * 1024,
            flate2::bufread::MultiGzDecoder::new(source),
        )))
    } else {
        Ok(Box::new(source))
    }
}

/// Open a bill file saved as downloaded (plain or gzip) for streaming.
pub fn open_bill_file(path: &str) -> Result<BillReader<Box<dyn BufRead>>> {
    let f = std::fs::File::open(path).map_err(|e| {
        RefundError::decode("bill file", format!("cannot open {path:?}: {e}"), None)
    })?;
    BillReader::new(bill_text_reader(BufReader::with_capacity(64 * 1024, f))?)
}

/// Parse a whole bill held in memory (plain or gzip).
pub fn parse_bill(bytes: &[u8]) -> Result<Bill> {
    let mut reader = BillReader::new(bill_text_reader(bytes)?)?;
    let mut rows = Vec::new();
    while let Some(r) = reader.next_row()? {
        rows.push(r);
    }
    Ok(Bill {
        columns: reader.columns.clone(),
        summary: reader.summary.clone(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_to_fen_is_exact() {
        assert_eq!(yuan_to_fen("0.01"), Some(1));
        assert_eq!(yuan_to_fen("12.3"), Some(1230));
        assert_eq!(yuan_to_fen("5"), Some(500));
        assert_eq!(yuan_to_fen("-0.01"), Some(-1));
        assert_eq!(yuan_to_fen("0.01000"), Some(1));
        assert_eq!(yuan_to_fen(".5"), Some(50));
        assert_eq!(yuan_to_fen("1."), Some(100));
        // 0.29 * 100 is 28.999999999999996 as a float.
        assert_eq!(yuan_to_fen("0.29"), Some(29));
        assert_eq!(yuan_to_fen("92233720368547758.07"), Some(i64::MAX));
        for bad in [
            "",
            "-",
            ".",
            "0.001",
            "1,00",
            "1e3",
            "abc",
            "92233720368547758.08",
            "1.2.3",
            " 1",
        ] {
            assert_eq!(yuan_to_fen(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn csv_split_handles_quotes() {
        assert_eq!(split_csv("`a,`b").unwrap(), vec!["`a", "`b"]);
        assert_eq!(split_csv("\"`a,b\",`c").unwrap(), vec!["`a,b", "`c"]);
        assert_eq!(split_csv("\"x\"\"y\"").unwrap(), vec!["x\"y"]);
        assert!(split_csv("\"open").is_err());
        assert_eq!(split_csv("").unwrap(), vec![""]);
    }

    const BILL: &str = "交易时间,商户号,微信订单号,商户订单号,交易状态,应结订单金额,微信退款单号,商户退款单号,退款金额,退款状态,手续费,新列\r\n\
`2026-11-23 10:00:00,`1900000001,`4200001,`T1,`SUCCESS,`1.00,`0,`0,`0.00,`,`0.00600,`x\r\n\
`2026-11-23 11:00:00,`1900000001,`4200001,`T1,`REFUND,`0.00,`5030001,`R1,`0.29,`REFUNDCLOSE,`-0.00174,`y\r\n\
总交易单数,应结订单总金额,退款总金额,手续费总金额\r\n\
`2,`1.00,`0.29,`0.00426\r\n";

    #[test]
    fn parses_rows_summary_and_extra_columns() {
        let b = parse_bill(BILL.as_bytes()).unwrap();
        assert_eq!(b.rows.len(), 2);
        let p = &b.rows[0];
        assert!(!p.is_refund());
        assert_eq!(p.settlement_total_fen, Some(100));
        assert_eq!(p.refund_status, None);
        assert_eq!(
            p.extra,
            vec![BillField {
                name: "新列".into(),
                value: "x".into()
            }]
        );
        let r = &b.rows[1];
        assert!(r.is_refund());
        assert_eq!(r.line, 3);
        assert_eq!(r.out_refund_no, "R1");
        assert_eq!(r.refund_fen, Some(29));
        assert_eq!(r.refund_status, Some(RefundStatus::Closed));
        assert_eq!(r.fee, "-0.00174");
        let s = b.summary.unwrap();
        assert_eq!(s.total_count, Some(2));
        assert_eq!(s.refund_total_fen, Some(29));
        assert_eq!(s.fee_total, "0.00426");
    }

    #[test]
    fn malformed_bills_are_decode_errors_naming_the_line() {
        let cases = [
            ("", "empty"),
            ("`2026,`1\n", "header"),
            ("交易时间,退款金额\n`x,`0.001\n", "line 2"),
            ("交易时间,退款金额\n`x,0.01\n", "backtick"),
            ("交易时间,退款金额\n`x\n", "fields"),
            ("交易时间,退款金额\n`x,`1\n总交易单数\n", "summary line"),
            (
                "交易时间,退款金额\n`x,`1\n总交易单数\n`1\n`more\n",
                "after the summary",
            ),
            ("商户号\n`1\n", "交易时间"),
        ];
        for (text, want) in cases {
            let e = parse_bill(text.as_bytes()).unwrap_err();
            assert!(
                matches!(&e, RefundError::Decode { reason, .. } if reason.contains(want)),
                "{text:?}: {e}"
            );
        }
        let long = format!("交易时间\n`{}\n", "x".repeat(MAX_LINE_BYTES + 10));
        assert!(parse_bill(long.as_bytes()).is_err());
        assert!(parse_bill(b"\xff\xfe\n").is_err());
    }

    #[test]
    fn gzip_is_detected_and_decompressed() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(BILL.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(
            parse_bill(&bytes).unwrap(),
            parse_bill(BILL.as_bytes()).unwrap()
        );
    }
}
