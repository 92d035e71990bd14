//! The refund ledger: a refund is a process, not a call. Each refund is recorded *before* it is
//! sent, driven to a final state (submit, notifications, polling, abnormal-refund resolution)
//! and every status change is appended to an event log in the same transaction — a
//! transactional outbox a merchant's order system consumes exactly once (`events(after)`).
//!
//! States (the ledger's own, beside WeChat Pay's [`RefundStatus`]):
//!
//! ```text
//!   submit ─► IN_FLIGHT ──accepted──► OPEN (PROCESSING) ──► FINAL (SUCCESS / CLOSED)
//!                │   ▲                  │      ▲
//!                │   └─unknown outcome   ▼      │ resolve_abnormal
//!                │     (resent with the  NEEDS_ACTION (ABNORMAL)
//!                │      same number)
//!                └──final refusal──► REJECTED (the recorded error, never sent again)
//! ```
//!
//! Guarantees: the intent is durable before the first byte is sent; an unknown outcome is
//! settled with the SAME `out_refund_no` (WeChat Pay refunds once per number); a status only
//! moves forward (a late `ABNORMAL` never undoes `SUCCESS`); a notification delivered again
//! (same `id`) changes nothing; one event per status change, with a strictly increasing `seq`.
//! Stores: SQLite (one host, several processes: WAL and a busy timeout) and PostgreSQL (several
//! hosts: row locks, leases taken with `FOR UPDATE SKIP LOCKED`, events in commit order), one
//! implementation over a small SQL seam (`store.rs`). A refund is sent or queried by one worker
//! at a time (a lease with expiry: a dead worker's refunds are taken over).

mod postgres;
mod sqlite;
mod store;

use crate::client::RefundClient;
use crate::error::{RefundError, Result};
use crate::refund::model::{
    AbnormalRefundRequest, CreateRefundRequest, Refund, RefundNotification, RefundStatus,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Report, Store};

pub use store::SCHEMA_VERSION;

/// The ledger's own state of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum LedgerState {
    /// Recorded; not sent yet, or sent with an unknown outcome (a timeout, a dropped answer,
    /// a 5xx, a retry-later refusal): `resume()` or the next `submit` settles it with the same
    /// `out_refund_no`.
    InFlight,
    /// Accepted by WeChat Pay, not final (`PROCESSING`): polled until it is.
    Open,
    /// `ABNORMAL`: a new card must be collected and `resolve_abnormal` called.
    NeedsAction,
    /// `SUCCESS` or `CLOSED`: nothing changes any more.
    Final,
    /// Refused by WeChat Pay for good (e.g. `INVALID_REQUEST`): recorded, never sent again.
    Rejected,
}

impl LedgerState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::InFlight => "IN_FLIGHT",
            Self::Open => "OPEN",
            Self::NeedsAction => "NEEDS_ACTION",
            Self::Final => "FINAL",
            Self::Rejected => "REJECTED",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "IN_FLIGHT" => Self::InFlight,
            "OPEN" => Self::Open,
            "NEEDS_ACTION" => Self::NeedsAction,
            "FINAL" => Self::Final,
            "REJECTED" => Self::Rejected,
            other => {
                return Err(store_error(
                    format!("unknown ledger state {other:?}"),
                    false,
                ))
            }
        })
    }

    /// The state a WeChat Pay status puts a refund in.
    fn of(status: &RefundStatus) -> Self {
        match status {
            RefundStatus::Success | RefundStatus::Closed => Self::Final,
            RefundStatus::Abnormal => Self::NeedsAction,
            _ => Self::Open,
        }
    }
}

/// What moved a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum LedgerEventSource {
    /// The answer to `submit`.
    Submit,
    /// A verified notification.
    Notification,
    /// A query by `poll`.
    Poll,
    /// `resume` settling a refund left in flight.
    Resume,
    /// `resolve_abnormal`.
    Resolve,
}

impl LedgerEventSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Notification => "notification",
            Self::Poll => "poll",
            Self::Resume => "resume",
            Self::Resolve => "resolve",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "submit" => Self::Submit,
            "notification" => Self::Notification,
            "poll" => Self::Poll,
            "resume" => Self::Resume,
            "resolve" => Self::Resolve,
            other => {
                return Err(store_error(
                    format!("unknown event source {other:?}"),
                    false,
                ))
            }
        })
    }
}

/// A refund as the ledger knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct LedgerEntry {
    /// Merchant refund number (the key).
    pub out_refund_no: String,
    /// The order, as requested (or as a notification named it).
    pub out_trade_no: Option<String>,
    /// WeChat Pay's order id.
    pub transaction_id: Option<String>,
    /// The sub-merchant (service-provider mode).
    pub sub_mchid: Option<String>,
    /// Refund amount, fen.
    pub refund: i64,
    /// Order total, fen.
    pub total: i64,
    /// Currency (`CNY`).
    pub currency: String,
    /// WeChat Pay's status once known; `None` before any answer.
    pub status: Option<RefundStatus>,
    /// The ledger's own state.
    pub state: LedgerState,
    /// WeChat Pay's refund id once known.
    pub refund_id: Option<String>,
    /// Apply requests sent so far (the same `out_refund_no` each time).
    pub attempts: u32,
    /// The last error's code (`NOT_ENOUGH`, `TIMEOUT`…) and message, if the last try failed.
    pub last_error_code: Option<String>,
    /// The last error's message.
    pub last_error_message: Option<String>,
    /// The kind of the abnormal-refund resolution asked for (`USER_BANK_CARD`…), never the
    /// card number or name.
    pub abnormal_kind: Option<String>,
    /// When recorded, last changed, and next due for a query (unix seconds).
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Next query (open refunds only).
    pub next_poll_at: Option<i64>,
    /// WeChat Pay's `success_time` once the refund succeeded (RFC 3339, China time).
    pub success_time: Option<String>,
}

/// One status change, in the order it was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct LedgerEvent {
    /// Strictly increasing; consume with `events(after = last_seq)`.
    pub seq: i64,
    /// The refund.
    pub out_refund_no: String,
    /// Its new WeChat Pay status.
    pub status: RefundStatus,
    /// When (unix seconds).
    pub at: i64,
    /// What moved it.
    pub source: LedgerEventSource,
}

/// The gaps between the queries of an open refund (seconds), when the options give none.
pub const DEFAULT_POLL_INTERVALS_SECS: &[i64] = &[60, 120, 300, 600, 1800, 3600, 7200, 14400];

/// How a ledger polls, leases and commits. The defaults suit most merchants.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct LedgerOptions {
    /// When each open refund is queried again (seconds): after acceptance, then after each
    /// query that found no change, the next gap; the last one repeats. Empty: the default
    /// schedule, [`DEFAULT_POLL_INTERVALS_SECS`] (about a minute first, growing to four hours;
    /// WeChat Pay's own notification schedule spans a day).
    #[cfg_attr(feature = "ffi", uniffi(default = []))]
    pub poll_intervals_secs: Vec<i64>,
    /// At most this many refunds queried by one `poll()`.
    #[cfg_attr(feature = "ffi", uniffi(default = 100))]
    pub poll_batch: u32,
    /// How long a worker holds a refund it sends or queries (seconds); another worker takes
    /// it over once this passed (a dead worker's refunds are not stuck). Keep it longer than
    /// the client's deadline (`deadline_ms`); 0 means the deadline plus 30 s.
    #[cfg_attr(feature = "ffi", uniffi(default = 0))]
    pub lease_secs: u32,
    /// SQLite: `synchronous=FULL`, every commit survives a power loss; otherwise `NORMAL`
    /// (WAL), a commit survives a crash of the process and a power loss may lose the last
    /// ones. Ignored by PostgreSQL (the server's `synchronous_commit` decides).
    #[cfg_attr(feature = "ffi", uniffi(default = true))]
    pub synchronous_full: bool,
    /// PostgreSQL: the PEM certificates that anchor the server's TLS certificate; empty = the
    /// webpki (Mozilla) roots.
    #[cfg_attr(feature = "ffi", uniffi(default = []))]
    pub postgres_tls_roots_pem: Vec<String>,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        Self {
            poll_intervals_secs: Vec::new(),
            poll_batch: 100,
            lease_secs: 0,
            synchronous_full: true,
            postgres_tls_roots_pem: Vec::new(),
        }
    }
}

impl LedgerOptions {
    fn after(&self, polls: u32) -> i64 {
        let gaps: &[i64] = if self.poll_intervals_secs.is_empty() {
            DEFAULT_POLL_INTERVALS_SECS
        } else {
            &self.poll_intervals_secs
        };
        gaps[(polls as usize).min(gaps.len() - 1)]
    }

    fn check(&self) -> Result<()> {
        if self.poll_intervals_secs.iter().any(|s| *s <= 0) {
            return Err(RefundError::invalid(
                "poll_intervals_secs",
                "every gap must be at least one second",
            ));
        }
        if self.poll_batch == 0 {
            return Err(RefundError::invalid("poll_batch", "must be at least 1"));
        }
        Ok(())
    }
}

/// How many entries are in each state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ffi", derive(uniffi::Record))]
pub struct LedgerCount {
    /// The state.
    pub state: LedgerState,
    /// How many entries are in it.
    pub count: i64,
}

pub(crate) fn store_error(reason: impl Into<String>, retryable: bool) -> RefundError {
    RefundError::Store {
        reason: reason.into(),
        retryable,
    }
}

/// Whether WeChat Pay may refund later with the same request: keep it in flight and send it
/// again (the same `out_refund_no`); else the refusal is final.
fn retry_later(e: &RefundError) -> bool {
    match e {
        RefundError::Api { status, code, .. } => {
            *status >= 500
                || *status == 429
                || matches!(
                    code.as_str(),
                    "NOT_ENOUGH" | "FREQUENCY_LIMITED" | "SYSTEM_ERROR"
                )
        }
        other => other.is_outcome_unknown() || other.is_retryable(),
    }
}

/// Whether `to` may follow `from` (forward only; `ABNORMAL → PROCESSING` only by resolution).
fn moves(from: Option<&RefundStatus>, to: &RefundStatus, source: LedgerEventSource) -> bool {
    let final_ = |s: &RefundStatus| matches!(s, RefundStatus::Success | RefundStatus::Closed);
    match from {
        None => true,
        Some(f) if f == to => false,
        Some(f) if final_(f) => false,
        Some(_) if final_(to) => true,
        Some(RefundStatus::Abnormal) => {
            *to == RefundStatus::Processing && source == LedgerEventSource::Resolve
        }
        Some(RefundStatus::Processing) => true,
        Some(_) => true,
    }
}

/// The refund ledger: see the module documentation.
#[cfg_attr(feature = "ffi", derive(uniffi::Object))]
pub struct RefundLedger {
    store: Mutex<Option<Store>>,
    client: Arc<RefundClient>,
    options: LedgerOptions,
    /// Seconds a lease lasts.
    lease: i64,
}

impl std::fmt::Debug for RefundLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefundLedger")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A lease's owner: unique per claim (two threads of one process are two workers).
fn token() -> String {
    let mut r = [0u8; 8];
    // Without randomness the pid and the time still tell workers apart on one host.
    let _ = getrandom::fill(&mut r);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{:x}-{:016x}",
        std::process::id(),
        nanos,
        u64::from_le_bytes(r)
    )
}

impl RefundLedger {
    fn with_store_conn(
        conn: Box<dyn store::Conn>,
        client: Arc<RefundClient>,
        options: LedgerOptions,
    ) -> Result<Arc<Self>> {
        options.check()?;
        let lease = match options.lease_secs {
            0 => (client.config.options.deadline_ms / 1000) as i64 + 30,
            s => i64::from(s),
        };
        Ok(Arc::new(Self {
            store: Mutex::new(Some(Store::open(conn)?)),
            client,
            options,
            lease,
        }))
    }

    fn now(&self) -> i64 {
        self.client.clock.now_unix()
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let store = guard.as_mut().ok_or_else(closed)?;
        f(store)
    }

    /// Send an in-flight refund under a lease; when another worker holds it, wait for its
    /// outcome (at most a lease), and take it over when the lease expired.
    fn drive(
        &self,
        request: CreateRefundRequest,
        source: LedgerEventSource,
    ) -> Result<LedgerEntry> {
        let no = request.out_refund_no.clone();
        let give_up = Instant::now() + Duration::from_secs(self.lease.max(1) as u64 + 5);
        loop {
            if let Some(outcome) = self.send_leased(&request, source)? {
                return outcome;
            }
            // Another worker is sending it: its outcome is ours.
            match self.get(&no)? {
                Some(e) if e.state == LedgerState::Rejected => {
                    return Err(self.recorded_refusal(&e))
                }
                Some(e) if e.state != LedgerState::InFlight => return Ok(e),
                None => return Err(store_error(format!("no ledger entry {no}"), false)),
                Some(_) => {}
            }
            if Instant::now() >= give_up {
                return Err(store_error(
                    format!(
                        "another worker has held refund {no} for longer than a lease ({} s)",
                        self.lease
                    ),
                    true,
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Take the lease of an in-flight refund and send it: `None` when another worker holds
    /// it; otherwise the outcome of [`Self::send`], the lease given back whatever happened
    /// (were that to fail, the lease expires).
    fn send_leased(
        &self,
        request: &CreateRefundRequest,
        source: LedgerEventSource,
    ) -> Result<Option<Result<LedgerEntry>>> {
        let no = &request.out_refund_no;
        let token = token();
        let now = self.now();
        if !self.with_store(|s| s.claim(no, &token, now, now + self.lease))? {
            return Ok(None);
        }
        let outcome = self.send(request.clone(), source);
        let _ = self.with_store(|s| s.release(no, &token));
        Ok(Some(outcome))
    }

    /// Send an in-flight refund (same `out_refund_no`) and record the outcome.
    fn send(&self, request: CreateRefundRequest, source: LedgerEventSource) -> Result<LedgerEntry> {
        let no = request.out_refund_no.clone();
        self.with_store(|s| s.count_attempt(&no, self.now()))?;
        match self.client.create_refund(request) {
            Ok(refund) => self.apply_refund(&refund, source).map(|(entry, _)| entry),
            Err(e) => {
                let now = self.now();
                let (code, message) = error_parts(&e);
                if retry_later(&e) {
                    self.with_store(|s| s.note_error(&no, &code, &message, false, now))?;
                } else {
                    let status = match &e {
                        RefundError::Api { status, .. } => *status,
                        _ => 0,
                    };
                    self.with_store(|s| {
                        s.note_error(&no, &format!("{status}:{code}"), &message, true, now)
                    })?;
                }
                Err(e)
            }
        }
    }

    /// The recorded final refusal of a rejected entry, as the `Api` error it was.
    fn recorded_refusal(&self, e: &LedgerEntry) -> RefundError {
        let (status, code) = e
            .last_error_code
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .map(|(s, c)| (s.parse().unwrap_or(400), c.to_string()))
            .unwrap_or((400, "INVALID_REQUEST".into()));
        RefundError::Api {
            status,
            code,
            error_message: e.last_error_message.clone().unwrap_or_default(),
            detail_field: None,
            detail_issue: None,
            detail_location: None,
            request_id: None,
            retryable: false,
            retry_after_ms: None,
        }
    }

    /// Record a status, and tell who listens when it moved (`ledger.transition`).
    fn apply(&self, report: &Report<'_>) -> Result<(LedgerEntry, bool)> {
        let now = self.now();
        let next = |polls: u32| now + self.options.after(polls);
        let (entry, from) = self.with_store(|s| s.apply(report, now, &next))?;
        if let Some(from) = &from {
            crate::events::ledger_transition(
                report.out_refund_no,
                from.as_ref().map(|s| s.as_str()),
                report.status.as_str(),
                report.source.as_str(),
            );
        }
        Ok((entry, from.is_some()))
    }

    /// Record what an answer or a query says about a refund; the entry and whether its status
    /// moved.
    fn apply_refund(
        &self,
        refund: &Refund,
        source: LedgerEventSource,
    ) -> Result<(LedgerEntry, bool)> {
        self.apply(&Report {
            out_refund_no: &refund.out_refund_no,
            status: &refund.status,
            refund_id: Some(&refund.refund_id),
            success_time: refund.success_time.as_deref(),
            source,
            notification_id: None,
        })
    }

    /// A notification applied once by its `id`: the store's `apply` records the id in the same
    /// transaction and changes nothing for an id it has already seen.
    fn apply_notification(&self, note: &RefundNotification) -> Result<LedgerEntry> {
        self.with_store(|s| s.ensure_from_notification(note, self.now()))?;
        self.apply(&Report {
            out_refund_no: &note.out_refund_no,
            status: &note.refund_status,
            refund_id: Some(&note.refund_id),
            success_time: note.success_time.as_deref(),
            source: LedgerEventSource::Notification,
            notification_id: Some(&note.id),
        })
        .map(|(entry, _)| entry)
    }
}

#[cfg_attr(feature = "ffi", uniffi::export)]
impl RefundLedger {
    /// Open (creating the file and its schema when missing) the ledger in the SQLite file at
    /// `path`, sending through `client`; every commit survives a power loss
    /// (`synchronous=FULL`; see [`LedgerOptions`]).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn open_sqlite(path: &str, client: Arc<RefundClient>) -> Result<Arc<Self>> {
        Self::open_sqlite_with(path, client, LedgerOptions::default())
    }

    /// Open (creating the schema `wechatpay_refund` and its tables when missing) the ledger in
    /// the PostgreSQL database at `url` (`postgresql://user:pass@host:port/db?sslmode=require`),
    /// shared by every process and host that opens it.
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn open_postgres(url: &str, client: Arc<RefundClient>) -> Result<Arc<Self>> {
        Self::open_postgres_with(url, client, LedgerOptions::default())
    }

    /// [`Self::open_sqlite`] with options (polling, leases, `synchronous_full`).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn open_sqlite_with(
        path: &str,
        client: Arc<RefundClient>,
        options: LedgerOptions,
    ) -> Result<Arc<Self>> {
        let conn = sqlite::SqliteConn::open(path, options.synchronous_full)?;
        Self::with_store_conn(Box::new(conn), client, options)
    }

    /// [`Self::open_postgres`] with options (polling, leases, TLS roots).
    #[cfg_attr(feature = "ffi", uniffi::constructor)]
    pub fn open_postgres_with(
        url: &str,
        client: Arc<RefundClient>,
        options: LedgerOptions,
    ) -> Result<Arc<Self>> {
        let target = postgres::PgTarget::parse(url)?;
        let conn = postgres::PgConn::open(target, options.postgres_tls_roots_pem.clone())?;
        Self::with_store_conn(Box::new(conn), client, options)
    }

    /// Record the refund (durably, before anything is sent), send it through the client, and
    /// record the outcome. The same request again returns the same entry without a second
    /// refund; a refund left in flight is sent again with the same `out_refund_no`; a final
    /// refusal comes back as the same error without sending. The same `out_refund_no` with
    /// another order, amount or sub-merchant is `InvalidInput` naming the field.
    pub fn submit(&self, request: CreateRefundRequest) -> Result<LedgerEntry> {
        crate::refund::request::check_create_refund(&self.client.config, &request)?;
        let now = self.now();
        let existing = self.with_store(|s| s.record_intent(&request, now))?;
        match existing.state {
            LedgerState::InFlight => self.drive(request, LedgerEventSource::Submit),
            LedgerState::Rejected => Err(self.recorded_refusal(&existing)),
            _ => Ok(existing),
        }
    }

    /// The entry of `out_refund_no`, if the ledger knows it.
    pub fn get(&self, out_refund_no: &str) -> Result<Option<LedgerEntry>> {
        self.with_store(|s| s.get(out_refund_no))
    }

    /// Verify a notification (the client's full check) and apply it. A notification the ledger
    /// already applied (the same `id`, delivered again) changes nothing; one for a refund the
    /// ledger never saw (made in the merchant platform) creates its entry.
    pub fn handle_notification(
        &self,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    ) -> Result<LedgerEntry> {
        let note = self.client.parse_notification(headers, body)?;
        self.apply_notification(&note)
    }

    /// The refunds waiting for a new card (`ABNORMAL`).
    pub fn needs_action(&self) -> Result<Vec<LedgerEntry>> {
        self.with_store(|s| s.by_state(LedgerState::NeedsAction))
    }

    /// The entries in `state`, oldest first.
    pub fn by_state(&self, state: LedgerState) -> Result<Vec<LedgerEntry>> {
        self.with_store(|s| s.by_state(state))
    }

    /// The refunds whose SUCCESS the ledger recorded in `[from, to)` (unix seconds), by
    /// number: "our book's refunds of that day" for a reconciliation against WeChat Pay's bill
    /// (`china_day_window(date)` gives a day's window).
    pub fn succeeded_between(&self, from: i64, to: i64) -> Result<Vec<LedgerEntry>> {
        self.with_store(|s| s.succeeded_between(from, to))
    }

    /// How many entries are in each state (the states with none are left out).
    pub fn counts(&self) -> Result<Vec<LedgerCount>> {
        self.with_store(|s| s.counts()).map(|v| {
            v.into_iter()
                .map(|(state, count)| LedgerCount { state, count })
                .collect()
        })
    }

    /// Resolve an `ABNORMAL` refund (`apply_abnormal_refund`) and record it (back to
    /// `PROCESSING`). The ledger stores the kind only, never the card number or name.
    pub fn resolve_abnormal(&self, request: AbnormalRefundRequest) -> Result<LedgerEntry> {
        let no = request.out_refund_no.clone();
        let kind = request.kind.as_str().to_string();
        let refund = self.client.apply_abnormal_refund(request)?;
        let now = self.now();
        self.with_store(|s| s.note_abnormal_kind(&no, &kind, now))?;
        self.apply_refund(&refund, LedgerEventSource::Resolve)
            .map(|(entry, _)| entry)
    }

    /// Settle every refund left in flight (a crash, a timeout) whose lease is free: each is
    /// sent again with its own `out_refund_no`. The entries that left the in-flight state.
    pub fn resume(&self) -> Result<Vec<LedgerEntry>> {
        let now = self.now();
        let pending = self.with_store(|s| s.in_flight_requests(now))?;
        let mut settled = Vec::new();
        for request in pending {
            // None: another worker took it meanwhile.
            if let Some(Ok(entry)) = self.send_leased(&request, LedgerEventSource::Resume)? {
                if entry.state != LedgerState::InFlight {
                    settled.push(entry);
                }
            }
        }
        Ok(settled)
    }

    /// Close the database; every later call is a `Store` error.
    pub fn close(&self) {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

ffi_export! {
impl RefundLedger {
    /// Query the refunds that are not final (only those due when `only_due`; none another
    /// worker is querying), at most `poll_batch`, through the client (its rate limiter), and
    /// record what changed; the entries whose status changed.
    #[ffi(method(default(only_due = true)))]
    pub fn poll(&self, only_due: bool) -> Result<Vec<LedgerEntry>> {
        let token = token();
        let now = self.now();
        let batch = self.options.poll_batch as usize;
        let due = self.with_store(|s| s.claim_open(only_due, now, batch, &token, now + self.lease))?;
        let mut changed = Vec::new();
        let mut failure = None;
        for e in due {
            let outcome = self
                .client
                .query_refund(e.out_refund_no.clone(), e.sub_mchid.clone());
            let recorded = match outcome {
                Ok(refund) => self
                    .apply_refund(&refund, LedgerEventSource::Poll)
                    .map(|(entry, moved)| {
                        if moved {
                            changed.push(entry);
                        }
                    }),
                Err(err) => {
                    let (code, message) = error_parts(&err);
                    let now = self.now();
                    let next = |polls: u32| now + self.options.after(polls);
                    self.with_store(|s| {
                        s.note_poll_failure(&e.out_refund_no, &code, &message, now, &next)
                    })
                }
            };
            let _ = self.with_store(|s| s.release(&e.out_refund_no, &token));
            if let Err(store_failure) = recorded {
                // The store failed: stop here (the rest keeps its lease until it expires).
                failure = Some(store_failure);
                break;
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(changed),
        }
    }

    /// The status changes after `after` (a `seq`), in order, at most `limit` (1000 when
    /// `None`).
    #[ffi(method(default(limit = None)))]
    pub fn events(&self, after: i64, limit: Option<u32>) -> Result<Vec<LedgerEvent>> {
        self.with_store(|s| s.events(after, limit.unwrap_or(1000).max(1)))
    }
}
}

fn closed() -> RefundError {
    store_error("the ledger is closed", false)
}

/// An error's code and message as recorded (never a secret: the errors carry none).
fn error_parts(e: &RefundError) -> (String, String) {
    match e {
        RefundError::Api {
            code,
            error_message,
            ..
        } => (code.clone(), error_message.clone()),
        RefundError::Transport { kind, reason, .. } => {
            (format!("{kind:?}").to_uppercase(), reason.clone())
        }
        other => {
            let text = other.to_string();
            let code = text
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .next()
                .unwrap_or("ERROR")
                .to_uppercase();
            (code, text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use RefundStatus::*;
        let s = LedgerEventSource::Poll;
        assert!(moves(None, &Processing, s));
        assert!(moves(Some(&Processing), &Abnormal, s));
        assert!(moves(Some(&Processing), &Success, s));
        assert!(moves(Some(&Abnormal), &Success, s));
        assert!(!moves(Some(&Abnormal), &Processing, s), "only a resolution");
        assert!(moves(
            Some(&Abnormal),
            &Processing,
            LedgerEventSource::Resolve
        ));
        assert!(!moves(
            Some(&Success),
            &Abnormal,
            LedgerEventSource::Notification
        ));
        assert!(!moves(Some(&Closed), &Success, s));
        assert!(!moves(Some(&Processing), &Processing, s));
    }

    #[test]
    fn the_schedule_grows_and_stays_at_its_last_gap() {
        let p = LedgerOptions::default();
        assert_eq!(p.after(0), 60);
        assert_eq!(p.after(3), 600);
        assert_eq!(p.after(100), 14400);
    }
}
