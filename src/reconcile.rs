//! Reconciliation of a day's trade bill against the refund ledger, as a pure function:
//! [`reconcile`] takes the bill's refund rows, the ledger's entries of that day and a lookup by
//! `out_refund_no`, and says what matches and what differs. No I/O of its own: the caller
//! downloads the bill ([`crate::RefundClient::download_bill`]) and reads the ledger.
//!
//! What counts as a difference (WeChat Pay's bill is a snapshot: a refund belongs to the bill of
//! the day it was *accepted*, with its status when the bill was generated):
//! - `missing_in_ledger`: the bill lists a refund our book does not know (made in the merchant
//!   platform, by another system, or lost);
//! - `missing_in_bill`: our book says SUCCESS for that day and the bill does not list it;
//! - `amount_mismatches`: both know it, with different amounts;
//! - `status_mismatches`: the bill says a final status (SUCCESS, CLOSED) the ledger does not
//!   have, or the ledger never recorded WeChat Pay's answer. A bill saying PROCESSING or
//!   ABNORMAL while the ledger has moved on is not a difference (the ledger is newer).
//!
//! Day boundary: a refund accepted late on one day and successful after midnight is on the
//! first day's bill and, when "the day's entries" are chosen by their SUCCESS time
//! ([`RefundLedger::succeeded_between`]), in the second day's entries: it shows as missing in the
//! second day's bill. [`MissingInBill::created_at`] lets a report say so.

use crate::bill::{Bill, BillRow};
use crate::error::Result;
use crate::ledger::{LedgerEntry, RefundLedger};
use crate::refund::model::RefundStatus;
use std::collections::{HashMap, HashSet};

/// A refund both the bill and the ledger know, alike.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct Matched {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// The amount, fen.
    pub refund_fen: i64,
    /// The bill's status.
    pub bill_status: Option<RefundStatus>,
    /// The ledger's status.
    pub ledger_status: Option<RefundStatus>,
}

/// A refund row of the bill, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct BillRefund {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id.
    pub refund_id: String,
    /// The order.
    pub out_trade_no: String,
    /// The amount, fen.
    pub refund_fen: Option<i64>,
    /// The status in the bill.
    pub status: Option<RefundStatus>,
    /// Its line in the bill file.
    pub line: u64,
}

/// A refund the ledger says succeeded that day and the bill does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct MissingInBill {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund id, when known.
    pub refund_id: Option<String>,
    /// The amount, fen.
    pub refund_fen: i64,
    /// When the ledger recorded it (Unix seconds): a refund accepted on an earlier day is on
    /// that day's bill.
    pub created_at: i64,
}

/// Both know the refund, with different amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct AmountMismatch {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// The bill's amount, fen (`None`: the bill has no amount column).
    pub bill_fen: Option<i64>,
    /// The ledger's amount, fen.
    pub ledger_fen: i64,
}

/// Both know the refund, with statuses that cannot both be right.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct StatusMismatch {
    /// Merchant refund number.
    pub out_refund_no: String,
    /// The bill's status.
    pub bill_status: Option<RefundStatus>,
    /// The ledger's (`None`: WeChat Pay's answer was never recorded).
    pub ledger_status: Option<RefundStatus>,
}

/// The outcome of [`reconcile`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct ReconcileReport {
    /// Refunds alike in both.
    pub matched: Vec<Matched>,
    /// In the bill, not in the ledger.
    pub missing_in_ledger: Vec<BillRefund>,
    /// SUCCESS that day in the ledger, not in the bill.
    pub missing_in_bill: Vec<MissingInBill>,
    /// Different amounts.
    pub amount_mismatches: Vec<AmountMismatch>,
    /// Incompatible statuses.
    pub status_mismatches: Vec<StatusMismatch>,
}

/// One difference, flattened for a report line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `missing_in_ledger`, `missing_in_bill`, `amount_mismatch` or `status_mismatch`.
    pub kind: &'static str,
    /// Merchant refund number.
    pub out_refund_no: String,
    /// What the bill says.
    pub bill: String,
    /// What the ledger says.
    pub ledger: String,
}

fn status_text(s: &Option<RefundStatus>) -> String {
    s.as_ref().map_or("-".into(), |s| s.as_str().to_string())
}

fn fen_text(f: Option<i64>) -> String {
    f.map_or("-".into(), |f| f.to_string())
}

impl ReconcileReport {
    /// Whether everything matched.
    pub fn is_clean(&self) -> bool {
        self.missing_in_ledger.is_empty()
            && self.missing_in_bill.is_empty()
            && self.amount_mismatches.is_empty()
            && self.status_mismatches.is_empty()
    }

    /// Every difference, one per line of a report, in a stable order.
    pub fn differences(&self) -> Vec<Difference> {
        let mut out = Vec::new();
        for r in &self.missing_in_ledger {
            out.push(Difference {
                kind: "missing_in_ledger",
                out_refund_no: r.out_refund_no.clone(),
                bill: format!(
                    "{} fen {} (refund_id {}, line {})",
                    fen_text(r.refund_fen),
                    status_text(&r.status),
                    r.refund_id,
                    r.line
                ),
                ledger: "-".into(),
            });
        }
        for m in &self.missing_in_bill {
            out.push(Difference {
                kind: "missing_in_bill",
                out_refund_no: m.out_refund_no.clone(),
                bill: "-".into(),
                ledger: format!("{} fen SUCCESS", m.refund_fen),
            });
        }
        for a in &self.amount_mismatches {
            out.push(Difference {
                kind: "amount_mismatch",
                out_refund_no: a.out_refund_no.clone(),
                bill: format!("{} fen", fen_text(a.bill_fen)),
                ledger: format!("{} fen", a.ledger_fen),
            });
        }
        for s in &self.status_mismatches {
            out.push(Difference {
                kind: "status_mismatch",
                out_refund_no: s.out_refund_no.clone(),
                bill: status_text(&s.bill_status),
                ledger: status_text(&s.ledger_status),
            });
        }
        out
    }
}

/// Whether the bill's status and the ledger's can both be right (the bill is a snapshot taken
/// when it was generated; the ledger may be newer).
fn statuses_agree(bill: &Option<RefundStatus>, ledger: &Option<RefundStatus>) -> bool {
    match (bill, ledger) {
        (_, None) => false,
        (Some(b @ (RefundStatus::Success | RefundStatus::Closed)), Some(l)) => b == l,
        // PROCESSING / ABNORMAL (or no status column): the ledger may have moved on.
        _ => true,
    }
}

/// Reconcile the bill's refund rows (payment rows in `bill_rows` are skipped) against the
/// ledger: `day_entries` are the ledger's entries of that day (those it says succeeded that
/// day are expected in the bill), `lookup` finds any other entry by `out_refund_no` (a refund
/// of the bill the ledger recorded on another day). A `lookup` error stops and is returned.
pub fn reconcile<'a>(
    bill_rows: impl IntoIterator<Item = &'a BillRow>,
    day_entries: &[LedgerEntry],
    lookup: impl Fn(&str) -> Result<Option<LedgerEntry>>,
) -> Result<ReconcileReport> {
    let by_no: HashMap<&str, &LedgerEntry> = day_entries
        .iter()
        .map(|e| (e.out_refund_no.as_str(), e))
        .collect();
    let mut report = ReconcileReport::default();
    let mut seen: HashSet<String> = HashSet::new();
    for row in bill_rows.into_iter().filter(|r| r.is_refund()) {
        if !seen.insert(row.out_refund_no.clone()) {
            continue;
        }
        let found = match by_no.get(row.out_refund_no.as_str()) {
            Some(e) => Some((*e).clone()),
            None => lookup(&row.out_refund_no)?,
        };
        let Some(entry) = found else {
            report.missing_in_ledger.push(BillRefund {
                out_refund_no: row.out_refund_no.clone(),
                refund_id: row.refund_id.clone(),
                out_trade_no: row.out_trade_no.clone(),
                refund_fen: row.refund_fen,
                status: row.refund_status.clone(),
                line: row.line,
            });
            continue;
        };
        let mut alike = true;
        if row.refund_fen != Some(entry.refund) {
            alike = false;
            report.amount_mismatches.push(AmountMismatch {
                out_refund_no: row.out_refund_no.clone(),
                bill_fen: row.refund_fen,
                ledger_fen: entry.refund,
            });
        }
        if !statuses_agree(&row.refund_status, &entry.status) {
            alike = false;
            report.status_mismatches.push(StatusMismatch {
                out_refund_no: row.out_refund_no.clone(),
                bill_status: row.refund_status.clone(),
                ledger_status: entry.status.clone(),
            });
        }
        if alike {
            report.matched.push(Matched {
                out_refund_no: row.out_refund_no.clone(),
                refund_fen: entry.refund,
                bill_status: row.refund_status.clone(),
                ledger_status: entry.status.clone(),
            });
        }
    }
    for e in day_entries {
        if e.status == Some(RefundStatus::Success) && !seen.contains(&e.out_refund_no) {
            report.missing_in_bill.push(MissingInBill {
                out_refund_no: e.out_refund_no.clone(),
                refund_id: e.refund_id.clone(),
                refund_fen: e.refund,
                created_at: e.created_at,
            });
        }
    }
    report
        .missing_in_bill
        .sort_by(|a, b| a.out_refund_no.cmp(&b.out_refund_no));
    Ok(report)
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl RefundLedger {
    /// Reconcile WeChat Pay's trade bill of `bill_date` (`YYYY-MM-DD`, China time; from
    /// `RefundClient::download_bill`) against this ledger: the refunds the ledger saw succeed
    /// that day ([`RefundLedger::succeeded_between`]) and, for any other refund of the bill, the
    /// ledger's entry of that number.
    pub fn reconcile(&self, bill: &Bill, bill_date: &str) -> Result<ReconcileReport> {
        let (from, to) = china_day_window(bill_date)?;
        let day = self.succeeded_between(from, to)?;
        reconcile(&bill.rows, &day, |no| self.get(no))
    }
}

/// The Unix-second window `[start, end)` of a `YYYY-MM-DD` day in China time (UTC+8).
pub fn china_day_window(date: &str) -> Result<(i64, i64)> {
    crate::bill::validate_bill_date(date)?;
    let num = |r: std::ops::Range<usize>| date[r].parse::<i64>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let start = days * 86_400 - 8 * 3600;
    Ok((start, start + 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerState;

    fn entry(no: &str, refund: i64, status: Option<RefundStatus>) -> LedgerEntry {
        LedgerEntry {
            out_refund_no: no.into(),
            out_trade_no: Some("T1".into()),
            transaction_id: None,
            sub_mchid: None,
            refund,
            total: 10_000,
            currency: "CNY".into(),
            status,
            state: LedgerState::Final,
            refund_id: Some(format!("503{no}")),
            attempts: 1,
            last_error_code: None,
            last_error_message: None,
            abnormal_kind: None,
            created_at: 1,
            updated_at: 2,
            next_poll_at: None,
            success_time: None,
        }
    }

    fn row(no: &str, fen: i64, status: RefundStatus) -> BillRow {
        BillRow {
            trade_state: "REFUND".into(),
            out_refund_no: no.into(),
            refund_fen: Some(fen),
            refund_status: Some(status),
            ..BillRow::default()
        }
    }

    #[test]
    fn every_kind_of_difference_is_found() {
        let bill = vec![
            row("R1", 100, RefundStatus::Success),
            row("R2", 200, RefundStatus::Success),
            row("R3", 300, RefundStatus::Closed),
            row("R4", 400, RefundStatus::Processing),
            row("R5", 500, RefundStatus::Success),
            BillRow {
                trade_state: "SUCCESS".into(),
                ..BillRow::default()
            },
            row("R1", 100, RefundStatus::Success),
        ];
        let day = vec![
            entry("R1", 100, Some(RefundStatus::Success)),
            entry("R2", 201, Some(RefundStatus::Success)),
            entry("R3", 300, Some(RefundStatus::Success)),
            entry("R6", 600, Some(RefundStatus::Success)),
            entry("R7", 700, Some(RefundStatus::Processing)),
        ];
        // R4 is in the ledger from an earlier day, and has succeeded since the bill.
        let lookup =
            |no: &str| Ok((no == "R4").then(|| entry("R4", 400, Some(RefundStatus::Success))));
        let r = reconcile(&bill, &day, lookup).unwrap();
        let nos = |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>();
        assert_eq!(
            nos(r.matched.iter().map(|m| &m.out_refund_no).collect()),
            ["R1", "R4"]
        );
        assert_eq!(
            nos(r
                .missing_in_ledger
                .iter()
                .map(|m| &m.out_refund_no)
                .collect()),
            ["R5"]
        );
        assert_eq!(
            nos(r.missing_in_bill.iter().map(|m| &m.out_refund_no).collect()),
            ["R6"]
        );
        assert_eq!(r.amount_mismatches[0].out_refund_no, "R2");
        assert_eq!(r.amount_mismatches[0].bill_fen, Some(200));
        assert_eq!(r.status_mismatches.len(), 1);
        assert_eq!(r.status_mismatches[0].out_refund_no, "R3");
        assert!(!r.is_clean());
        assert_eq!(r.differences().len(), 4);
    }

    #[test]
    fn a_lookup_error_is_returned() {
        let bill = vec![row("R1", 1, RefundStatus::Success)];
        let e = reconcile(&bill, &[], |_| {
            Err(crate::error::RefundError::Store {
                reason: "locked".into(),
                retryable: true,
            })
        });
        assert!(e.is_err());
        assert!(reconcile(&[], &[], |_| Ok(None)).unwrap().is_clean());
    }

    #[test]
    fn china_days() {
        // 2026-11-24 00:00 China time is 2026-11-23T16:00:00Z.
        let (s, e) = china_day_window("2026-11-24").unwrap();
        assert_eq!(s, 1795449600);
        assert_eq!(e - s, 86_400);
        assert!(china_day_window("2026-11-31").is_err());
    }
}
