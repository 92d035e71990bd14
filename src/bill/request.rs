//! Sans-IO: the trade-bill request, its verified answer, and the signed file request.

use crate::config::ClientConfig;
use crate::error::{RefundError, Result};
use crate::refund::{request::build_signed_get, response::verify_response_parts, validate};
use crate::transport::{HttpRequest, HttpResponse};
use serde::Deserialize;

/// Path of the trade-bill endpoint.
pub const TRADE_BILL_PATH: &str = "/v3/bill/tradebill";

/// Which rows a trade bill holds (`bill_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum BillType {
    /// Payments and refunds of the day (the default).
    #[default]
    All,
    /// Successful payments only.
    Success,
    /// Refunds only.
    Refund,
}

impl BillType {
    /// The wire value (`ALL`, `SUCCESS`, `REFUND`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "ALL",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
        }
    }

    /// From the wire value (case-insensitive); `InvalidInput` naming the choices otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "ALL" => Ok(Self::All),
            "SUCCESS" => Ok(Self::Success),
            "REFUND" => Ok(Self::Refund),
            _ => Err(RefundError::invalid(
                "bill_type",
                format!("must be ALL, SUCCESS or REFUND, got {s:?}"),
            )),
        }
    }
}

/// What to ask for: one day's trade bill.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct TradeBillRequest {
    /// The day, `YYYY-MM-DD` (China time; WeChat Pay keeps three months).
    pub bill_date: String,
    /// Which rows.
    pub bill_type: BillType,
    /// Ask for the file gzip-compressed (`tar_type=GZIP`); the digest covers the compressed
    /// bytes, and the parser decompresses as it reads.
    #[cfg_attr(feature = "ffi", uniffi(default = false))]
    pub gzip: bool,
    /// Service-provider mode: one sub-merchant's bill (none: every sub-merchant's).
    #[cfg_attr(feature = "ffi", uniffi(default = None))]
    pub sub_mchid: Option<String>,
}

impl TradeBillRequest {
    /// The `ALL` bill of `bill_date`, uncompressed, of the merchant itself.
    pub fn new(bill_date: impl Into<String>) -> Self {
        Self {
            bill_date: bill_date.into(),
            bill_type: BillType::All,
            gzip: false,
            sub_mchid: None,
        }
    }
}

/// The verified answer to a trade-bill request: where the file is and what its digest must be.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillDownloadInfo {
    /// The digest algorithm (`SHA1`).
    pub hash_type: String,
    /// The digest of the file as it will be downloaded (hex).
    pub hash_value: String,
    /// Where to GET the file (a signed request; valid for 30 seconds at WeChat Pay).
    pub download_url: String,
}

/// Check a `YYYY-MM-DD` date (a real calendar day): `InvalidInput` naming `bill_date` otherwise.
pub fn validate_bill_date(date: &str) -> Result<()> {
    let bad = || {
        RefundError::invalid(
            "bill_date",
            format!("must be a date as YYYY-MM-DD (for example 2026-11-23), got {date:?}"),
        )
    };
    let b = date.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| date[r].parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y < 1970 || d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

/// The path and query of a trade-bill request (all parts validated: nothing to escape). A
/// service provider may leave `sub_mchid` out: the bill of every sub-merchant.
fn trade_bill_path(req: &TradeBillRequest) -> Result<String> {
    validate_bill_date(&req.bill_date)?;
    let mut q = format!(
        "{TRADE_BILL_PATH}?bill_date={}&bill_type={}",
        req.bill_date,
        req.bill_type.as_str()
    );
    if req.gzip {
        q.push_str("&tar_type=GZIP");
    }
    if let Some(sub) = req.sub_mchid.as_deref().filter(|s| !s.is_empty()) {
        validate::mchid("sub_mchid", sub)?;
        q.push_str("&sub_mchid=");
        q.push_str(sub);
    }
    Ok(q)
}

/// Build the signed `GET /v3/bill/tradebill?…` at `timestamp` (unix seconds) with `nonce`.
pub fn build_trade_bill(
    config: &ClientConfig,
    req: &TradeBillRequest,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    build_signed_get(config, trade_bill_path(req)?, timestamp, nonce)
}

#[derive(Deserialize)]
struct InfoWire {
    hash_type: String,
    hash_value: String,
    download_url: String,
}

/// Verify the trade-bill answer (any status; errors become `RefundError::Api`, among them
/// `NO_STATEMENT_EXIST` and `STATEMENT_CREATING`) and decode it.
pub fn parse_trade_bill_response(
    config: &ClientConfig,
    response: &HttpResponse,
    now: i64,
) -> Result<BillDownloadInfo> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    let (body, request_id) = verify_response_parts(
        &config.keys.ring(),
        response.status,
        pairs,
        &response.body,
        now,
        config.options.max_response_bytes,
    )?;
    let bad = |reason: String| RefundError::decode("trade bill answer", reason, request_id.clone());
    let w: InfoWire = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    if !w.hash_type.eq_ignore_ascii_case("SHA1") {
        return Err(bad(format!(
            "hash_type {:?} is not supported (SHA1 is)",
            w.hash_type
        )));
    }
    if w.hash_value.len() != 40 || !w.hash_value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("hash_value is not a SHA1 in hex".into()));
    }
    if !(w.download_url.starts_with("https://") || w.download_url.starts_with("http://")) {
        return Err(bad("download_url is not an http(s) URL".into()));
    }
    Ok(BillDownloadInfo {
        hash_type: w.hash_type,
        hash_value: w.hash_value.to_ascii_lowercase(),
        download_url: w.download_url,
    })
}

/// The signed GET of a bill file at `download_url`, at `timestamp` with `nonce`.
///
/// The URL must be `https://`, or on the configured base URL's origin (a sandbox on plain
/// http): the request carries the merchant's signature, which should go to WeChat Pay only.
/// The signature covers the URL's path and query exactly as given.
pub fn build_bill_file_request(
    config: &ClientConfig,
    download_url: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    let origin = |u: &str| -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Some(format!("{scheme}://{}", &rest[..end]))
    };
    let bad = |why: &str| RefundError::invalid("download_url", why.to_string());
    let url_origin = origin(download_url).ok_or_else(|| bad("not an absolute URL"))?;
    let trusted = download_url.starts_with("https://")
        || origin(&config.base_url).as_deref() == Some(url_origin.as_str())
        || config
            .backup_base_url
            .as_deref()
            .and_then(origin)
            .as_deref()
            == Some(url_origin.as_str());
    if !trusted {
        return Err(bad("must be https, or on the configured base_url's origin"));
    }
    let path = &download_url[url_origin.len()..];
    if !path.starts_with('/') || path.contains('#') || path.bytes().any(|b| b <= b' ') {
        return Err(bad("must have a path and no fragment or spaces"));
    }
    let mut req = build_signed_get(config, path.to_string(), timestamp, nonce)?;
    req.url = download_url.to_string();
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_against_the_calendar() {
        for ok in ["2026-11-23", "2024-02-29", "2000-02-29", "1999-12-31"] {
            validate_bill_date(ok).unwrap();
        }
        for bad in [
            "2026-11-31",
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261123",
            "",
            "2026-11-2x",
            "２０２６-11-23",
        ] {
            let e = validate_bill_date(bad).unwrap_err();
            assert!(
                matches!(&e, RefundError::InvalidInput { field, .. } if field == "bill_date"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn bill_types_round_trip() {
        for t in [BillType::All, BillType::Success, BillType::Refund] {
            assert_eq!(BillType::parse(t.as_str()).unwrap(), t);
        }
        assert_eq!(BillType::parse("refund").unwrap(), BillType::Refund);
        assert!(BillType::parse("FUND").is_err());
    }
}
