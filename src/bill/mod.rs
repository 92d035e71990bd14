//! The daily trade bill: request it, download it with its digest checked, parse it.
//!
//! The path of a bill, top-down (docs/sandbox.md has what the sandbox models):
//!
//! 1. [`request::build_trade_bill`] — sans-IO, the signed `GET /v3/bill/tradebill?bill_date=…`;
//!    its answer is verified like every API answer and decoded by
//!    [`request::parse_trade_bill_response`] into a [`BillDownloadInfo`] (`hash_type`,
//!    `hash_value`, `download_url`).
//! 2. [`request::build_bill_file_request`] — the signed GET of `download_url`. WeChat Pay does
//!    **not** sign this answer (wechatpay-apache-httpclient #25): its integrity is the SHA1 of the
//!    bytes exactly as downloaded — compressed when `tar_type=GZIP` (wechatpay-java #384) — which
//!    must equal `hash_value`. [`download::DigestWriter`] hashes while the bytes stream to disk;
//!    a mismatch is a `RefundError::Signature` (reason starting `bill digest mismatch`) and
//!    nothing is parsed.
//! 3. [`parse::BillReader`] — a streaming parser: header line, detail rows (every field starts
//!    with a backtick), the summary header and the summary line; amounts converted from yuan to
//!    fen exactly (decimal strings, never floats); unknown columns kept by name.
//!
//! `NO_STATEMENT_EXIST` (no bill for that day) and `STATEMENT_CREATING` (not generated yet:
//! WeChat Pay generates yesterday's bill after 10:00 China time) are `RefundError::Api` errors
//! with those codes; [`is_no_statement`] and [`is_statement_not_ready`] tell them apart.

pub mod download;
pub mod parse;
pub mod request;

pub use download::{BillFile, DigestWriter};
pub use parse::{
    open_bill_file, parse_bill, yuan_to_fen, Bill, BillField, BillReader, BillRow, BillSummary,
};
pub use request::{
    build_bill_file_request, build_trade_bill, parse_trade_bill_response, validate_bill_date,
    BillDownloadInfo, BillType, TradeBillRequest, TRADE_BILL_PATH,
};

use crate::error::RefundError;

/// WeChat Pay's code for "there is no bill for that day" (no transaction, or not a date it
/// keeps: bills are kept three months).
pub const NO_STATEMENT_EXIST: &str = "NO_STATEMENT_EXIST";
/// WeChat Pay's code for "the bill is being generated" (yesterday's bill before about 10:00).
pub const STATEMENT_CREATING: &str = "STATEMENT_CREATING";

/// Whether `e` says there is no bill for the day asked (`NO_STATEMENT_EXIST`).
pub fn is_no_statement(e: &RefundError) -> bool {
    matches!(e, RefundError::Api { code, .. } if code == NO_STATEMENT_EXIST)
}

/// Whether `e` says the bill is not generated yet (`STATEMENT_CREATING`): ask again later.
pub fn is_statement_not_ready(e: &RefundError) -> bool {
    matches!(e, RefundError::Api { code, .. } if code == STATEMENT_CREATING)
}
