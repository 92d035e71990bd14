//! The bill file download: hashed while it streams to disk, checked, and only then parsed.
//!
//! Rows are never handed out before the digest is known to match (a mismatch means nothing
//! is parsed), and memory stays flat whatever the size: the file streams to a temporary file
//! beside its destination while its SHA1 is computed, and is renamed into place only when the
//! SHA1 equals `hash_value`. Parsing then streams from that file.
//!
//! The built-in transport (`RefundClient::new`) streams the body. A client built on a foreign
//! transport (`RefundClient::with_transport`: OkHttp, URLSession, `requests`) receives the whole
//! body from it in one piece, as that seam is defined; it is then hashed and written the same
//! way, but it was held in memory once (and the transport's own size cap applies).

use super::parse::{open_bill_file, Bill, BillReader, BillRow, BillSummary};
use super::request::{
    build_bill_file_request, build_trade_bill, parse_trade_bill_response, BillDownloadInfo,
    TradeBillRequest,
};
use crate::client::RefundClient;
use crate::crypto::Sha1;
use crate::error::{RefundError, Result, TransportErrorKind};
use std::io::Write;

/// A writer that hashes (SHA1) and counts what passes through it.
pub struct DigestWriter<W> {
    inner: W,
    hash: Sha1,
    bytes: u64,
}

impl<W> std::fmt::Debug for DigestWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestWriter")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl<W: Write> DigestWriter<W> {
    /// Hash what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha1::new(),
            bytes: 0,
        }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flush, and return the inner writer, the SHA1 (lowercase hex) and the byte count.
    pub fn finish(mut self) -> std::io::Result<(W, String, u64)> {
        self.inner.flush()?;
        Ok((self.inner, self.hash.finish_hex(), self.bytes))
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The error of a digest that does not match (`RefundError::Signature`: the file cannot be
/// trusted; nothing of it was parsed).
pub fn digest_mismatch(expected: &str, actual: &str, bytes: u64) -> RefundError {
    RefundError::Signature {
        reason: format!(
            "bill digest mismatch: the SHA1 of the {bytes} bytes downloaded is {actual}, \
             WeChat Pay's hash_value is {}; the file was discarded and nothing was parsed",
            expected.to_ascii_lowercase()
        ),
        request_id: None,
    }
}

/// A bill file saved and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillFile {
    /// Where it is: the bytes exactly as downloaded (gzip when asked for).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA1 (lowercase hex), equal to WeChat Pay's `hash_value`.
    pub sha1: String,
    /// Whether it is gzip-compressed.
    pub gzip: bool,
}

fn io_error(what: &str, path: &str, e: std::io::Error) -> RefundError {
    RefundError::transport(TransportErrorKind::Io, format!("{what} {path:?}: {e}"))
}

/// A fresh file name beside `path` for the download in progress.
fn partial_path(path: &str) -> String {
    let tag = crate::crypto::random_string(12, b"abcdefghijklmnopqrstuvwxyz0123456789");
    format!("{path}.{tag}.part")
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl RefundClient {
    /// Ask for a day's trade bill (retries as every call); the verified answer says where the
    /// file is and what its SHA1 must be. `RefundError::Api` with code `NO_STATEMENT_EXIST` or
    /// `STATEMENT_CREATING` when there is none (yet).
    pub fn trade_bill(&self, request: TradeBillRequest) -> Result<BillDownloadInfo> {
        self.ensure_certificates()?;
        let (ts, nonce) = self.now_and_nonce();
        let req = build_trade_bill(&self.config, &request, ts, &nonce)?;
        self.execute(req, |resp, now| {
            parse_trade_bill_response(&self.config, resp, now)
        })
    }

    /// Download the file `info` points to into `path` (the bytes exactly as downloaded),
    /// hashing while it streams; the file appears at `path` only when its SHA1 equals
    /// `info.hash_value` (else a `Signature` error, "bill digest mismatch", and no file).
    pub fn download_bill_file(&self, info: BillDownloadInfo, path: String) -> Result<BillFile> {
        let path = path.as_str();
        let (ts, nonce) = self.now_and_nonce();
        let req = build_bill_file_request(&self.config, &info.download_url, ts, &nonce)?;
        let part = partial_path(path);
        let file = std::fs::File::create(&part).map_err(|e| io_error("cannot create", &part, e))?;
        let mut sink = DigestWriter::new(std::io::BufWriter::with_capacity(64 * 1024, file));
        let outcome = self.fetch_into(req, &mut sink).and_then(|()| {
            sink.finish()
                .map_err(|e| io_error("cannot write", &part, e))
                .and_then(|(w, sha1, bytes)| {
                    w.into_inner()
                        .map_err(|e| io_error("cannot write", &part, e.into_error()))?
                        .sync_all()
                        .map_err(|e| io_error("cannot write", &part, e))?;
                    Ok((sha1, bytes))
                })
        });
        let (sha1, bytes) = match outcome {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
        };
        if !sha1.eq_ignore_ascii_case(&info.hash_value) {
            let _ = std::fs::remove_file(&part);
            return Err(digest_mismatch(&info.hash_value, &sha1, bytes));
        }
        std::fs::rename(&part, path).map_err(|e| {
            let _ = std::fs::remove_file(&part);
            io_error("cannot move the checked file to", path, e)
        })?;
        let gzip = {
            use std::io::Read;
            let mut head = [0u8; 2];
            std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut head).map(|n| n == 2))
                .unwrap_or(false)
                && super::parse::is_gzip(&head)
        };
        Ok(BillFile {
            path: path.to_string(),
            bytes,
            sha1,
            gzip,
        })
    }

    /// [`Self::trade_bill`] then [`Self::download_bill_file`]: the day's bill, checked, at `path`.
    pub fn download_bill_to(&self, request: TradeBillRequest, path: String) -> Result<BillFile> {
        let info = self.trade_bill(request)?;
        self.download_bill_file(info, path)
    }

    /// Download, check and parse the day's bill into memory (for a large bill, prefer
    /// `download_bill_to` and a streaming read of the file; in Rust, `for_each_bill_row`).
    pub fn download_bill(&self, request: TradeBillRequest) -> Result<Bill> {
        self.with_checked_bill(request, |reader| {
            let mut rows = Vec::new();
            while let Some(row) = reader.next_row()? {
                rows.push(row);
            }
            Ok(Bill {
                columns: reader.columns().to_vec(),
                rows,
                summary: reader.summary().cloned(),
            })
        })
    }
}

impl RefundClient {
    /// Download and check the day's bill into a temporary file, then hand a streaming reader
    /// of it to `read`; the file is removed afterwards.
    fn with_checked_bill<T>(
        &self,
        request: TradeBillRequest,
        read: impl FnOnce(&mut BillReader<Box<dyn std::io::BufRead>>) -> Result<T>,
    ) -> Result<T> {
        let path = std::env::temp_dir()
            .join(format!(
                "wechatpay-bill-{}-{}",
                request.bill_date,
                crate::crypto::random_string(12, b"abcdefghijklmnopqrstuvwxyz0123456789")
            ))
            .to_string_lossy()
            .into_owned();
        let file = self.download_bill_to(request, path)?;
        let outcome = open_bill_file(&file.path).and_then(|mut reader| read(&mut reader));
        let _ = std::fs::remove_file(&file.path);
        outcome
    }

    /// Download, check, then stream the rows to `each` (memory flat whatever the size: the
    /// checked file is kept in the system temporary directory while it is read, then removed).
    /// Returns the summary. An error from `each` stops the reading and is returned.
    pub fn for_each_bill_row(
        &self,
        request: TradeBillRequest,
        mut each: impl FnMut(BillRow) -> Result<()>,
    ) -> Result<Option<BillSummary>> {
        self.with_checked_bill(request, |reader| {
            while let Some(row) = reader.next_row()? {
                each(row)?;
            }
            Ok(reader.summary().cloned())
        })
    }
}
