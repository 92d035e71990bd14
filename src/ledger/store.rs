//! The ledger's store, written once over a small SQL seam ([`Conn`]) that SQLite
//! (`sqlite.rs`) and PostgreSQL (`postgres.rs`) implement. Every change and its event are one
//! write transaction: SQLite's `BEGIN IMMEDIATE` serialises writers (WAL: readers never wait);
//! PostgreSQL locks the entry's row (`FOR UPDATE`) and appends events under a transaction-level
//! advisory lock, so `seq` (from a sequence) is handed out in commit order and a consumer reading
//! `events(after = last_seq)` can never skip an event committed later with a smaller number.
//!
//! The SQL below is written once, with `?N` placeholders (PostgreSQL's connection rewrites them
//! to `$N`) and only what both engines share (`INSERT … ON CONFLICT DO NOTHING`, `COALESCE`,
//! `CASE`); what differs (the transaction's start, row locks, `SKIP LOCKED`, the schema's DDL and
//! where its version is kept) is asked of the connection.

use super::{moves, store_error, LedgerEntry, LedgerEvent, LedgerEventSource, LedgerState};
use crate::error::{RefundError, Result};
use crate::refund::model::{CreateRefundRequest, RefundNotification, RefundStatus};

/// The schema this library writes (and the newest it reads). Version 1: entries, events,
/// notifications. Version 2: leases (`lease_owner`, `lease_until`: one worker sends or queries a
/// refund at a time; an expired lease is taken over) and WeChat Pay's `success_time`.
pub const SCHEMA_VERSION: i64 = 2;

/// One SQL value: the ledger stores integers (fen, unix seconds, counts) and text only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_string()))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_string))
    }
}
impl From<&Option<String>> for Value {
    fn from(v: &Option<String>) -> Self {
        Self::Text(v.clone())
    }
}

/// A row as the connection read it.
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(Value::Text(None)) => Ok(None),
            other => Err(store_error(
                format!("column {i}: expected an integer, read {other:?}"),
                false,
            )),
        }
    }

    fn int0(&self, i: usize) -> Result<i64> {
        self.int(i)?
            .ok_or_else(|| store_error(format!("column {i}: unexpected NULL"), false))
    }

    fn text(&self, i: usize) -> Result<Option<String>> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            Some(Value::Int(None)) => Ok(None),
            other => Err(store_error(
                format!("column {i}: expected text, read {other:?}"),
                false,
            )),
        }
    }

    fn text0(&self, i: usize) -> Result<String> {
        self.text(i)?
            .ok_or_else(|| store_error(format!("column {i}: unexpected NULL"), false))
    }
}

/// What the two engines differ in.
pub(crate) trait Conn: Send {
    /// Run one statement with `?N` placeholders; the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Run one query with `?N` placeholders.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Run statements without parameters (DDL, `COMMIT`, `ROLLBACK`).
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Start a write transaction (SQLite: `BEGIN IMMEDIATE`, taking the write lock now).
    fn begin(&mut self) -> Result<()>;
    /// Inside the migration's transaction: make other openers wait, then read the version.
    fn schema_version(&mut self) -> Result<i64>;
    /// Inside the migration's transaction.
    fn set_schema_version(&mut self, version: i64) -> Result<()>;
    /// The DDL taking the schema from version `i` to `i + 1`.
    fn migrations(&self) -> &'static [&'static str];
    /// Inside a transaction, before appending an event: events commit in `seq` order.
    fn lock_events(&mut self) -> Result<()>;
    /// Appended to a `SELECT` that locks the rows it reads until the transaction ends.
    fn for_update(&self) -> &'static str;
    /// Appended to a `SELECT` that locks the rows it reads, skipping those locked by others.
    fn for_update_skip_locked(&self) -> &'static str;
}

pub(crate) struct Store {
    conn: Box<dyn Conn>,
}

const COLUMNS: &str = "out_refund_no, out_trade_no, transaction_id, sub_mchid, refund, total, \
    currency, status, state, refund_id, attempts, last_error_code, last_error_message, \
    abnormal_kind, created_at, updated_at, next_poll_at, success_time";

fn entry(row: &Row) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        out_refund_no: row.text0(0)?,
        out_trade_no: row.text(1)?,
        transaction_id: row.text(2)?,
        sub_mchid: row.text(3)?,
        refund: row.int0(4)?,
        total: row.int0(5)?,
        currency: row.text0(6)?,
        status: row.text(7)?.map(|s| RefundStatus::from_wire(&s)),
        state: LedgerState::parse(&row.text0(8)?)?,
        refund_id: row.text(9)?,
        attempts: row.int0(10)?.clamp(0, u32::MAX as i64) as u32,
        last_error_code: row.text(11)?,
        last_error_message: row.text(12)?,
        abnormal_kind: row.text(13)?,
        created_at: row.int0(14)?,
        updated_at: row.int0(15)?,
        next_poll_at: row.int(16)?,
        success_time: row.text(17)?,
    })
}

fn entries(rows: Vec<Row>) -> Result<Vec<LedgerEntry>> {
    rows.iter().map(entry).collect()
}

fn get_in(conn: &mut dyn Conn, no: &str, lock: bool) -> Result<Option<LedgerEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM entries WHERE out_refund_no = ?1{}",
        if lock { conn.for_update() } else { "" }
    );
    conn.query(&sql, &[no.into()])?
        .first()
        .map(entry)
        .transpose()
}

/// A status reported by a source, to apply.
pub(crate) struct Report<'a> {
    pub(crate) out_refund_no: &'a str,
    pub(crate) status: &'a RefundStatus,
    pub(crate) refund_id: Option<&'a str>,
    pub(crate) success_time: Option<&'a str>,
    pub(crate) source: LedgerEventSource,
    /// The notification's `id`: applied once, whatever the number of deliveries.
    pub(crate) notification_id: Option<&'a str>,
}

impl Store {
    pub(crate) fn open(conn: Box<dyn Conn>) -> Result<Self> {
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Run `f` in a write transaction: committed when it returns `Ok`, rolled back otherwise.
    fn tx<T>(&mut self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        self.conn.begin()?;
        match f(&mut *self.conn) {
            Ok(v) => match self.conn.batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.batch("ROLLBACK");
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn migrate(&mut self) -> Result<()> {
        self.tx(|c| {
            let version = c.schema_version()?;
            let known = c.migrations().len() as i64;
            debug_assert_eq!(known, SCHEMA_VERSION);
            if version > known {
                return Err(store_error(
                    format!(
                        "the ledger's schema is version {version}, written by a newer library; \
                         this one knows up to version {known}: upgrade wechatpay-refund"
                    ),
                    false,
                ));
            }
            for (i, sql) in c.migrations().iter().enumerate().skip(version as usize) {
                c.batch(sql)?;
                c.set_schema_version(i as i64 + 1)?;
            }
            Ok(())
        })
    }

    pub(crate) fn get(&mut self, no: &str) -> Result<Option<LedgerEntry>> {
        get_in(&mut *self.conn, no, false)
    }

    /// The existing entry of the request's number (checked to be the same refund), or a new
    /// in-flight one, committed before anything is sent.
    pub(crate) fn record_intent(
        &mut self,
        req: &CreateRefundRequest,
        now: i64,
    ) -> Result<LedgerEntry> {
        let json = serde_json::to_string(req)
            .map_err(|e| store_error(format!("cannot record the request: {e}"), false))?;
        self.tx(|c| {
            c.execute(
                "INSERT INTO entries (out_refund_no, request_json, out_trade_no, transaction_id, \
                 sub_mchid, refund, total, currency, state, attempts, polls, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'IN_FLIGHT', 0, 0, ?9, ?9) \
                 ON CONFLICT (out_refund_no) DO NOTHING",
                &[
                    (&req.out_refund_no).into(),
                    json.as_str().into(),
                    (&req.out_trade_no).into(),
                    (&req.transaction_id).into(),
                    (&req.sub_mchid).into(),
                    req.amount.refund.into(),
                    req.amount.total.into(),
                    (&req.amount.currency).into(),
                    now.into(),
                ],
            )?;
            let e = get_in(c, &req.out_refund_no, false)?
                .ok_or_else(|| store_error("the recorded entry vanished", true))?;
            same_refund(&e, req)?;
            Ok(e)
        })
    }

    /// Take the lease of an in-flight entry (to send it): `true` when no other worker holds a
    /// live one.
    pub(crate) fn claim(&mut self, no: &str, token: &str, now: i64, until: i64) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE entries SET lease_owner = ?2, lease_until = ?3 WHERE out_refund_no = ?1 \
             AND state = 'IN_FLIGHT' AND (lease_until IS NULL OR lease_until <= ?4)",
            &[no.into(), token.into(), until.into(), now.into()],
        )?;
        Ok(n == 1)
    }

    /// Give a lease back (sent or queried; whatever the outcome).
    pub(crate) fn release(&mut self, no: &str, token: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE entries SET lease_owner = NULL, lease_until = NULL \
             WHERE out_refund_no = ?1 AND lease_owner = ?2",
            &[no.into(), token.into()],
        )?;
        Ok(())
    }

    pub(crate) fn count_attempt(&mut self, no: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE entries SET attempts = attempts + 1, updated_at = ?2 WHERE out_refund_no = ?1",
            &[no.into(), now.into()],
        )?;
        Ok(())
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
        self.conn.execute(
            "UPDATE entries SET last_error_code = ?2, last_error_message = ?3, updated_at = ?4, \
             state = CASE WHEN state = 'IN_FLIGHT' THEN ?5 ELSE state END \
             WHERE out_refund_no = ?1",
            &[
                no.into(),
                code.into(),
                message.into(),
                now.into(),
                state.into(),
            ],
        )?;
        Ok(())
    }

    /// Apply a reported status: forward only, one event per change, in one transaction (the
    /// entry's row locked). A notification `id` applied before changes nothing. Returns the entry
    /// and, when the status moved, where from.
    pub(crate) fn apply(
        &mut self,
        r: &Report<'_>,
        now: i64,
        next_poll: &dyn Fn(u32) -> i64,
    ) -> Result<(LedgerEntry, Option<Option<RefundStatus>>)> {
        self.tx(|c| {
            let Some(e) = get_in(c, r.out_refund_no, true)? else {
                return Err(store_error(
                    format!("no ledger entry {}", r.out_refund_no),
                    false,
                ));
            };
            if let Some(id) = r.notification_id {
                let fresh = c.execute(
                    "INSERT INTO notifications (id, out_refund_no, at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (id) DO NOTHING",
                    &[id.into(), r.out_refund_no.into(), now.into()],
                )?;
                if fresh == 0 {
                    // Delivered again (or at once from another thread): applied already.
                    return Ok((e, None));
                }
            }
            let moved = moves(e.status.as_ref(), r.status, r.source);
            let (new_status, new_state) = if moved {
                (r.status.clone(), LedgerState::of(r.status))
            } else {
                let current = e.status.clone().unwrap_or_else(|| r.status.clone());
                let state = match e.state {
                    // Answered at last (a notification may have come first): out of flight.
                    LedgerState::InFlight | LedgerState::Rejected => LedgerState::of(&current),
                    other => other,
                };
                (current, state)
            };
            // Queries that found no change count toward the back-off; a change starts it again.
            let polls = if !moved && r.source == LedgerEventSource::Poll {
                polls_of(c, r.out_refund_no)? + 1
            } else {
                0
            };
            let next = matches!(new_state, LedgerState::Open | LedgerState::NeedsAction)
                .then(|| next_poll(polls.clamp(0, u32::MAX as i64) as u32));
            c.execute(
                "UPDATE entries SET status = ?2, state = ?3, refund_id = COALESCE(?4, refund_id), \
                 polls = ?5, next_poll_at = ?6, updated_at = ?7, \
                 success_time = COALESCE(?8, success_time), \
                 last_error_code = NULL, last_error_message = NULL WHERE out_refund_no = ?1",
                &[
                    r.out_refund_no.into(),
                    new_status.as_str().into(),
                    new_state.as_str().into(),
                    r.refund_id.into(),
                    polls.into(),
                    next.into(),
                    now.into(),
                    r.success_time.into(),
                ],
            )?;
            if moved {
                c.lock_events()?;
                c.execute(
                    "INSERT INTO events (out_refund_no, status, at, source) \
                     VALUES (?1, ?2, ?3, ?4)",
                    &[
                        r.out_refund_no.into(),
                        r.status.as_str().into(),
                        now.into(),
                        r.source.as_str().into(),
                    ],
                )?;
            }
            let after = get_in(c, r.out_refund_no, false)?
                .ok_or_else(|| store_error("the entry vanished", true))?;
            Ok((after, moved.then_some(e.status)))
        })
    }

    /// An entry for a refund the ledger never saw (made in the merchant platform, say).
    pub(crate) fn ensure_from_notification(
        &mut self,
        note: &RefundNotification,
        now: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO entries (out_refund_no, out_trade_no, transaction_id, sub_mchid, \
             refund, total, currency, state, attempts, polls, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'CNY', 'OPEN', 0, 0, ?7, ?7) \
             ON CONFLICT (out_refund_no) DO NOTHING",
            &[
                (&note.out_refund_no).into(),
                (&note.out_trade_no).into(),
                (&note.transaction_id).into(),
                (&note.sub_mchid).into(),
                note.amount.refund.into(),
                note.amount.total.into(),
                now.into(),
            ],
        )?;
        Ok(())
    }

    /// Lease the refunds to query (not final; only those due when `only_due`; none another
    /// worker holds), at most `batch`; the entries leased.
    pub(crate) fn claim_open(
        &mut self,
        only_due: bool,
        now: i64,
        batch: usize,
        token: &str,
        until: i64,
    ) -> Result<Vec<LedgerEntry>> {
        self.tx(|c| {
            let due = if only_due {
                " AND (next_poll_at IS NULL OR next_poll_at <= ?1)"
            } else {
                ""
            };
            let sql = format!(
                "SELECT out_refund_no FROM entries WHERE state IN ('OPEN', 'NEEDS_ACTION'){due} \
                 AND (lease_until IS NULL OR lease_until <= ?1) \
                 ORDER BY next_poll_at, created_at, out_refund_no LIMIT ?2{}",
                c.for_update_skip_locked()
            );
            let rows = c.query(&sql, &[now.into(), (batch as i64).into()])?;
            let mut leased = Vec::with_capacity(rows.len());
            for row in &rows {
                let no = row.text0(0)?;
                c.execute(
                    "UPDATE entries SET lease_owner = ?2, lease_until = ?3 WHERE out_refund_no = ?1",
                    &[no.as_str().into(), token.into(), until.into()],
                )?;
                if let Some(e) = get_in(c, &no, false)? {
                    leased.push(e);
                }
            }
            Ok(leased)
        })
    }

    pub(crate) fn note_poll_failure(
        &mut self,
        no: &str,
        code: &str,
        message: &str,
        now: i64,
        next_poll: &dyn Fn(u32) -> i64,
    ) -> Result<()> {
        self.tx(|c| {
            let polls = polls_of(c, no)? + 1;
            c.execute(
                "UPDATE entries SET polls = ?2, next_poll_at = ?3, last_error_code = ?4, \
                 last_error_message = ?5, updated_at = ?6 WHERE out_refund_no = ?1",
                &[
                    no.into(),
                    polls.into(),
                    next_poll(polls.clamp(0, u32::MAX as i64) as u32).into(),
                    code.into(),
                    message.into(),
                    now.into(),
                ],
            )?;
            Ok(())
        })
    }

    pub(crate) fn by_state(&mut self, state: LedgerState) -> Result<Vec<LedgerEntry>> {
        let rows = self.conn.query(
            &format!(
                "SELECT {COLUMNS} FROM entries WHERE state = ?1 ORDER BY created_at, out_refund_no"
            ),
            &[state.as_str().into()],
        )?;
        entries(rows)
    }

    /// Entries whose SUCCESS the ledger recorded in `[from, to)` (unix seconds), by number.
    pub(crate) fn succeeded_between(&mut self, from: i64, to: i64) -> Result<Vec<LedgerEntry>> {
        let rows = self.conn.query(
            &format!(
                "SELECT {COLUMNS} FROM entries WHERE status = 'SUCCESS' AND out_refund_no IN \
                 (SELECT out_refund_no FROM events WHERE status = 'SUCCESS' AND at >= ?1 AND at < ?2) \
                 ORDER BY out_refund_no"
            ),
            &[from.into(), to.into()],
        )?;
        entries(rows)
    }

    /// How many entries are in each state.
    pub(crate) fn counts(&mut self) -> Result<Vec<(LedgerState, i64)>> {
        let rows = self.conn.query(
            "SELECT state, COUNT(*) FROM entries GROUP BY state ORDER BY state",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok((LedgerState::parse(&r.text0(0)?)?, r.int0(1)?)))
            .collect()
    }

    pub(crate) fn note_abnormal_kind(&mut self, no: &str, kind: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE entries SET abnormal_kind = ?2, updated_at = ?3 WHERE out_refund_no = ?1",
            &[no.into(), kind.into(), now.into()],
        )?;
        Ok(())
    }

    pub(crate) fn events(&mut self, after: i64, limit: u32) -> Result<Vec<LedgerEvent>> {
        let rows = self.conn.query(
            "SELECT seq, out_refund_no, status, at, source FROM events WHERE seq > ?1 \
             ORDER BY seq LIMIT ?2",
            &[after.into(), i64::from(limit).into()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(LedgerEvent {
                    seq: r.int0(0)?,
                    out_refund_no: r.text0(1)?,
                    status: RefundStatus::from_wire(&r.text0(2)?),
                    at: r.int0(3)?,
                    source: LedgerEventSource::parse(&r.text0(4)?)?,
                })
            })
            .collect()
    }

    /// The recorded requests of the entries left in flight whose lease is free.
    pub(crate) fn in_flight_requests(&mut self, now: i64) -> Result<Vec<CreateRefundRequest>> {
        let rows = self.conn.query(
            "SELECT request_json FROM entries WHERE state = 'IN_FLIGHT' \
             AND request_json IS NOT NULL AND (lease_until IS NULL OR lease_until <= ?1) \
             ORDER BY created_at, out_refund_no",
            &[now.into()],
        )?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.text0(0)?).map_err(|e| {
                    store_error(format!("a recorded request does not parse: {e}"), false)
                })
            })
            .collect()
    }
}

/// The same `out_refund_no` must name the same refund: order, amounts, sub-merchant.
fn same_refund(e: &LedgerEntry, req: &CreateRefundRequest) -> Result<()> {
    let differs = |field: &str, reason: String| {
        Err(RefundError::invalid(
            field,
            format!("{reason}: an out_refund_no names one refund (this one is recorded already)"),
        ))
    };
    if e.out_trade_no.is_some() && req.out_trade_no.is_some() && e.out_trade_no != req.out_trade_no
    {
        return differs("out_trade_no", "another order than recorded".into());
    }
    if e.transaction_id.is_some()
        && req.transaction_id.is_some()
        && e.transaction_id != req.transaction_id
    {
        return differs("transaction_id", "another order than recorded".into());
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
    Ok(())
}

/// How many queries in a row found no change (the back-off's step).
fn polls_of(c: &mut dyn Conn, no: &str) -> Result<i64> {
    let rows = c.query(
        "SELECT polls FROM entries WHERE out_refund_no = ?1",
        &[no.into()],
    )?;
    rows.first().map(|r| r.int0(0)).unwrap_or(Ok(0))
}
