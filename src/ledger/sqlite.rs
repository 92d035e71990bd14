//! The ledger's SQLite store: one file, WAL (readers never block the writer), a busy timeout
//! (several processes on one host wait for each other instead of failing), every change in an
//! `IMMEDIATE` transaction together with its event. The schema is versioned
//! (`PRAGMA user_version`) and migrated forward; a newer schema is refused.

use super::{moves, store_error, EventSource, LedgerEntry, LedgerEvent, LedgerState};
use crate::error::{RefundError, Result};
use crate::refund::model::{CreateRefundRequest, RefundNotification, RefundStatus};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// The schema this library writes (and the newest it reads).
pub const SCHEMA_VERSION: i64 = 1;

const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE entries (
        out_refund_no TEXT PRIMARY KEY,
        request_json TEXT,
        out_trade_no TEXT,
        transaction_id TEXT,
        sub_mchid TEXT,
        refund INTEGER NOT NULL,
        total INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT,
        state TEXT NOT NULL,
        refund_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        polls INTEGER NOT NULL DEFAULT 0,
        last_error_code TEXT,
        last_error_message TEXT,
        abnormal_kind TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        next_poll_at INTEGER
    );
    CREATE INDEX entries_state ON entries (state, next_poll_at);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        out_refund_no TEXT NOT NULL,
        status TEXT NOT NULL,
        at INTEGER NOT NULL,
        source TEXT NOT NULL
    );
    CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        out_refund_no TEXT NOT NULL,
        at INTEGER NOT NULL
    );",
];

fn db(e: rusqlite::Error) -> RefundError {
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    store_error(format!("SQLite: {e}"), retryable)
}

pub(crate) struct SqliteStore {
    conn: Connection,
}

const COLUMNS: &str = "out_refund_no, out_trade_no, transaction_id, sub_mchid, refund, total, \
    currency, status, state, refund_id, attempts, last_error_code, last_error_message, \
    abnormal_kind, created_at, updated_at, next_poll_at";

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<(LedgerEntry, String)> {
    let state: String = row.get(8)?;
    let status: Option<String> = row.get(7)?;
    Ok((
        LedgerEntry {
            out_refund_no: row.get(0)?,
            out_trade_no: row.get(1)?,
            transaction_id: row.get(2)?,
            sub_mchid: row.get(3)?,
            refund: row.get(4)?,
            total: row.get(5)?,
            currency: row.get(6)?,
            status: status.map(|s| RefundStatus::from_wire(&s)),
            state: LedgerState::InFlight,
            refund_id: row.get(9)?,
            attempts: row.get::<_, i64>(10)?.max(0) as u32,
            last_error_code: row.get(11)?,
            last_error_message: row.get(12)?,
            abnormal_kind: row.get(13)?,
            created_at: row.get(14)?,
            updated_at: row.get(15)?,
            next_poll_at: row.get(16)?,
        },
        state,
    ))
}

fn finish(pair: (LedgerEntry, String)) -> Result<LedgerEntry> {
    let (mut e, state) = pair;
    e.state = LedgerState::parse(&state)?;
    Ok(e)
}

fn get_in(conn: &Connection, no: &str) -> Result<Option<LedgerEntry>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM entries WHERE out_refund_no = ?1"),
        [no],
        entry,
    )
    .optional()
    .map_err(db)?
    .map(finish)
    .transpose()
}

/// How many queries in a row found no change (the back-off's step).
fn polls_of(conn: &Connection, no: &str) -> Result<i64> {
    conn.query_row(
        "SELECT polls FROM entries WHERE out_refund_no = ?1",
        [no],
        |r| r.get(0),
    )
    .map_err(db)
}

impl SqliteStore {
    pub(crate) fn open(path: &str, synchronous_full: bool) -> Result<Self> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(
            None,
            "synchronous",
            if synchronous_full { "FULL" } else { "NORMAL" },
        )
        .map_err(db)?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version > SCHEMA_VERSION {
            return Err(store_error(
                format!(
                    "the ledger's schema is version {version}, written by a newer library; this \
                     one knows up to version {SCHEMA_VERSION}: upgrade wechatpay-refund"
                ),
                false,
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    pub(crate) fn get(&mut self, no: &str) -> Result<Option<LedgerEntry>> {
        get_in(&self.conn, no)
    }

    /// The existing entry of the request's number (checked to be the same refund), or a new
    /// in-flight one, committed before anything is sent.
    pub(crate) fn record_intent(
        &mut self,
        req: &CreateRefundRequest,
        now: i64,
    ) -> Result<LedgerEntry> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        if let Some(e) = get_in(&tx, &req.out_refund_no)? {
            let differs = |field: &str, reason: String| {
                Err(RefundError::invalid(
                    field,
                    format!("{reason}: an out_refund_no names one refund (this one is recorded already)"),
                ))
            };
            if e.out_trade_no.is_some()
                && req.out_trade_no.is_some()
                && e.out_trade_no != req.out_trade_no
                || e.transaction_id.is_some()
                    && req.transaction_id.is_some()
                    && e.transaction_id != req.transaction_id
            {
                return differs("out_trade_no", "another order than recorded".into());
            }
            if e.refund != req.amount.refund {
                return differs(
                    "amount.refund",
                    format!("{} fen, recorded as {} fen", req.amount.refund, e.refund),
                );
            }
            if e.total != req.amount.total {
                return differs(
                    "amount.total",
                    format!("{} fen, recorded as {} fen", req.amount.total, e.total),
                );
            }
            if e.sub_mchid != req.sub_mchid {
                return differs("sub_mchid", "another sub-merchant than recorded".into());
            }
            return Ok(e);
        }
        let json = serde_json::to_string(req)
            .map_err(|e| store_error(format!("cannot record the request: {e}"), false))?;
        tx.execute(
            "INSERT INTO entries (out_refund_no, request_json, out_trade_no, transaction_id, \
             sub_mchid, refund, total, currency, state, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
            params![
                req.out_refund_no,
                json,
                req.out_trade_no,
                req.transaction_id,
                req.sub_mchid,
                req.amount.refund,
                req.amount.total,
                req.amount.currency,
                LedgerState::InFlight.as_str(),
                now
            ],
        )
        .map_err(db)?;
        let e = get_in(&tx, &req.out_refund_no)?
            .ok_or_else(|| store_error("the recorded entry vanished", true))?;
        tx.commit().map_err(db)?;
        Ok(e)
    }

    pub(crate) fn count_attempt(&mut self, no: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE entries SET attempts = attempts + 1, updated_at = ?2 WHERE out_refund_no = ?1",
                params![no, now],
            )
            .map(drop)
            .map_err(db)
    }

    pub(crate) fn note_error(
        &mut self,
        no: &str,
        code: &str,
        message: &str,
        final_: bool,
        now: i64,
    ) -> Result<()> {
        let state = if final_ { "REJECTED" } else { "IN_FLIGHT" };
        self.conn
            .execute(
                "UPDATE entries SET last_error_code = ?2, last_error_message = ?3, updated_at = ?4, \
                 state = CASE WHEN state = 'IN_FLIGHT' THEN ?5 ELSE state END \
                 WHERE out_refund_no = ?1",
                params![no, code, message, now, state],
            )
            .map(drop)
            .map_err(db)
    }

    /// Apply a status reported by `source`: forward only, one event per change, in one
    /// transaction. Returns the entry and whether the status moved.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply(
        &mut self,
        no: &str,
        status: &RefundStatus,
        refund_id: Option<&str>,
        source: EventSource,
        now: i64,
        next_poll: impl Fn(u32) -> i64,
        notification_id: Option<&str>,
    ) -> Result<(LedgerEntry, bool)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let Some(e) = get_in(&tx, no)? else {
            return Err(store_error(format!("no ledger entry {no}"), false));
        };
        if let Some(id) = notification_id {
            tx.execute(
                "INSERT OR IGNORE INTO notifications (id, out_refund_no, at) VALUES (?1, ?2, ?3)",
                params![id, no, now],
            )
            .map_err(db)?;
        }
        let moved = moves(e.status.as_ref(), status, source);
        let (new_status, new_state) = if moved {
            (status.clone(), LedgerState::of(status))
        } else {
            let current = e.status.clone().unwrap_or_else(|| status.clone());
            let state = match e.state {
                // Answered at last (a notification may have come first): out of flight.
                LedgerState::InFlight => LedgerState::of(&current),
                other => other,
            };
            (current, state)
        };
        // Queries that found no change count toward the back-off; a change starts it again.
        let polls = if !moved && source == EventSource::Poll {
            polls_of(&tx, no)? + 1
        } else {
            0
        };
        let next = matches!(new_state, LedgerState::Open | LedgerState::NeedsAction)
            .then(|| next_poll(polls.max(0) as u32));
        tx.execute(
            "UPDATE entries SET status = ?2, state = ?3, refund_id = COALESCE(?4, refund_id), \
             polls = ?5, next_poll_at = ?6, updated_at = ?7, \
             last_error_code = NULL, last_error_message = NULL WHERE out_refund_no = ?1",
            params![
                no,
                new_status.as_str(),
                new_state.as_str(),
                refund_id,
                polls,
                next,
                now
            ],
        )
        .map_err(db)?;
        if moved {
            tx.execute(
                "INSERT INTO events (out_refund_no, status, at, source) VALUES (?1, ?2, ?3, ?4)",
                params![no, status.as_str(), now, source.as_str()],
            )
            .map_err(db)?;
        }
        let e = get_in(&tx, no)?.ok_or_else(|| store_error("the entry vanished", true))?;
        tx.commit().map_err(db)?;
        Ok((e, moved))
    }

    /// The entry a notification with this `id` already moved, if it was applied before.
    pub(crate) fn notification_seen(&mut self, id: &str, no: &str) -> Result<Option<LedgerEntry>> {
        let seen: Option<String> = self
            .conn
            .query_row(
                "SELECT out_refund_no FROM notifications WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        match seen {
            Some(_) => get_in(&self.conn, no),
            None => Ok(None),
        }
    }

    /// An entry for a refund the ledger never saw (made in the merchant platform, say).
    pub(crate) fn ensure_from_notification(
        &mut self,
        note: &RefundNotification,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO entries (out_refund_no, out_trade_no, transaction_id, \
                 sub_mchid, refund, total, currency, state, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'CNY', 'OPEN', ?7, ?7)",
                params![
                    note.out_refund_no,
                    note.out_trade_no,
                    note.transaction_id,
                    note.sub_mchid,
                    note.amount.refund,
                    note.amount.total,
                    now
                ],
            )
            .map(drop)
            .map_err(db)
    }

    pub(crate) fn open_entries(
        &mut self,
        only_due: bool,
        now: i64,
        batch: usize,
    ) -> Result<Vec<LedgerEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM entries WHERE state IN ('OPEN', 'NEEDS_ACTION') \
             AND (?1 = 0 OR next_poll_at IS NULL OR next_poll_at <= ?2) \
             ORDER BY next_poll_at, created_at LIMIT ?3"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(db)?;
        let rows = stmt
            .query_map(params![only_due as i64, now, batch as i64], entry)
            .map_err(db)?;
        rows.map(|r| r.map_err(db).and_then(finish)).collect()
    }

    pub(crate) fn note_poll_failure(
        &mut self,
        no: &str,
        code: &str,
        message: &str,
        now: i64,
        next_poll: impl Fn(u32) -> i64,
    ) -> Result<()> {
        let polls = polls_of(&self.conn, no)?;
        self.conn
            .execute(
                "UPDATE entries SET polls = ?2, next_poll_at = ?3, last_error_code = ?4, \
                 last_error_message = ?5, updated_at = ?6 WHERE out_refund_no = ?1",
                params![
                    no,
                    polls + 1,
                    next_poll((polls + 1) as u32),
                    code,
                    message,
                    now
                ],
            )
            .map(drop)
            .map_err(db)
    }

    pub(crate) fn by_state(&mut self, state: LedgerState) -> Result<Vec<LedgerEntry>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM entries WHERE state = ?1 ORDER BY created_at, out_refund_no"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([state.as_str()], entry).map_err(db)?;
        rows.map(|r| r.map_err(db).and_then(finish)).collect()
    }

    pub(crate) fn note_abnormal_kind(&mut self, no: &str, kind: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE entries SET abnormal_kind = ?2, updated_at = ?3 WHERE out_refund_no = ?1",
                params![no, kind, now],
            )
            .map(drop)
            .map_err(db)
    }

    pub(crate) fn events(&mut self, after: i64, limit: u32) -> Result<Vec<LedgerEvent>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, out_refund_no, status, at, source FROM events WHERE seq > ?1 \
                 ORDER BY seq LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (seq, out_refund_no, status, at, source) = r.map_err(db)?;
            Ok(LedgerEvent {
                seq,
                out_refund_no,
                status: RefundStatus::from_wire(&status),
                at,
                source: EventSource::parse(&source)?,
            })
        })
        .collect()
    }

    pub(crate) fn in_flight_requests(&mut self) -> Result<Vec<CreateRefundRequest>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT request_json FROM entries WHERE state = 'IN_FLIGHT' \
                 AND request_json IS NOT NULL ORDER BY created_at",
            )
            .map_err(db)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.map(|r| {
            let json = r.map_err(db)?;
            serde_json::from_str(&json)
                .map_err(|e| store_error(format!("a recorded request does not parse: {e}"), false))
        })
        .collect()
    }
}
