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
//! This first version stores in SQLite (one host, several processes: WAL and a busy timeout).

mod sqlite;

use crate::client::RefundClient;
use crate::error::{RefundError, Result};
use crate::refund::model::{
    AbnormalRefundRequest, CreateRefundRequest, Refund, RefundNotification, RefundStatus,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use sqlite::SCHEMA_VERSION;

/// The ledger's own state of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub enum EventSource {
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

impl EventSource {
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
}

/// One status change, in the order it was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub source: EventSource,
}

/// When each open refund is queried again: about a minute after it was accepted, then with
/// growing gaps up to a few hours (WeChat Pay's own notification schedule spans a day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollSchedule {
    /// Seconds after acceptance, then after each query that found no change.
    pub intervals_secs: Vec<i64>,
    /// At most this many refunds queried by one `poll()`.
    pub batch: usize,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            intervals_secs: vec![60, 120, 300, 600, 1800, 3600, 7200, 14400],
            batch: 100,
        }
    }
}

impl PollSchedule {
    fn after(&self, polls: u32) -> i64 {
        let i = (polls as usize).min(self.intervals_secs.len().saturating_sub(1));
        self.intervals_secs.get(i).copied().unwrap_or(3600)
    }
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
fn moves(from: Option<&RefundStatus>, to: &RefundStatus, source: EventSource) -> bool {
    let final_ = |s: &RefundStatus| matches!(s, RefundStatus::Success | RefundStatus::Closed);
    match from {
        None => true,
        Some(f) if f == to => false,
        Some(f) if final_(f) => false,
        Some(_) if final_(to) => true,
        Some(RefundStatus::Abnormal) => {
            *to == RefundStatus::Processing && source == EventSource::Resolve
        }
        Some(RefundStatus::Processing) => true,
        Some(_) => true,
    }
}

/// The refund ledger: see the module documentation.
pub struct RefundLedger {
    store: Mutex<Option<sqlite::SqliteStore>>,
    client: Arc<RefundClient>,
    schedule: PollSchedule,
}

impl std::fmt::Debug for RefundLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefundLedger").finish_non_exhaustive()
    }
}

impl RefundLedger {
    /// Open (creating the file and its schema when missing) the ledger at `path`, sending
    /// through `client`. `synchronous_full`: every commit survives a power loss (SQLite
    /// `synchronous=FULL`); otherwise (`NORMAL`, WAL) a commit survives a process crash, and a
    /// power loss may lose the last transactions.
    pub fn open_sqlite(
        path: &str,
        client: Arc<RefundClient>,
        synchronous_full: bool,
    ) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            store: Mutex::new(Some(sqlite::SqliteStore::open(path, synchronous_full)?)),
            client,
            schedule: PollSchedule::default(),
        }))
    }

    /// [`Self::open_sqlite`] with another polling schedule.
    pub fn with_schedule(self: Arc<Self>, schedule: PollSchedule) -> Result<Arc<Self>> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(closed)?;
        Ok(Arc::new(Self {
            store: Mutex::new(Some(store)),
            client: self.client.clone(),
            schedule,
        }))
    }

    fn now(&self) -> i64 {
        self.client.clock.now_unix()
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut sqlite::SqliteStore) -> Result<T>) -> Result<T> {
        let mut guard = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let store = guard.as_mut().ok_or_else(closed)?;
        f(store)
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
            LedgerState::InFlight => self.send(request, EventSource::Submit),
            LedgerState::Rejected => Err(self.recorded_refusal(&existing)),
            _ => Ok(existing),
        }
    }

    /// Send an in-flight refund (same `out_refund_no`) and record the outcome.
    fn send(&self, request: CreateRefundRequest, source: EventSource) -> Result<LedgerEntry> {
        let no = request.out_refund_no.clone();
        self.with_store(|s| s.count_attempt(&no, self.now()))?;
        match self.client.create_refund(request) {
            Ok(refund) => self.apply_refund(&refund, source),
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

    /// Record what an answer or a query says about a refund.
    fn apply_refund(&self, refund: &Refund, source: EventSource) -> Result<LedgerEntry> {
        let now = self.now();
        let schedule = &self.schedule;
        self.with_store(|s| {
            s.apply(
                &refund.out_refund_no,
                &refund.status,
                Some(&refund.refund_id),
                source,
                now,
                |polls| now + schedule.after(polls),
                None,
            )
            .map(|(entry, _)| entry)
        })
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

    fn apply_notification(&self, note: &RefundNotification) -> Result<LedgerEntry> {
        let now = self.now();
        let schedule = &self.schedule;
        self.with_store(|s| {
            if let Some(entry) = s.notification_seen(&note.id, &note.out_refund_no)? {
                return Ok(entry);
            }
            s.ensure_from_notification(note, now)?;
            let (entry, _) = s.apply(
                &note.out_refund_no,
                &note.refund_status,
                Some(&note.refund_id),
                EventSource::Notification,
                now,
                |polls| now + schedule.after(polls),
                Some(&note.id),
            )?;
            Ok(entry)
        })
    }

    /// Query the refunds that are not final (only those due when `only_due`), at most the
    /// schedule's batch, and record what changed; the entries whose status changed.
    pub fn poll(&self, only_due: bool) -> Result<Vec<LedgerEntry>> {
        let now = self.now();
        let due = self.with_store(|s| s.open_entries(only_due, now, self.schedule.batch))?;
        let mut changed = Vec::new();
        for e in due {
            match self
                .client
                .query_refund(e.out_refund_no.clone(), e.sub_mchid.clone())
            {
                Ok(refund) => {
                    let schedule = &self.schedule;
                    let now = self.now();
                    let (entry, moved) = self.with_store(|s| {
                        s.apply(
                            &refund.out_refund_no,
                            &refund.status,
                            Some(&refund.refund_id),
                            EventSource::Poll,
                            now,
                            |polls| now + schedule.after(polls),
                            None,
                        )
                    })?;
                    if moved {
                        changed.push(entry);
                    }
                }
                Err(err) => {
                    let (code, message) = error_parts(&err);
                    let now = self.now();
                    let schedule = &self.schedule;
                    self.with_store(|s| {
                        s.note_poll_failure(&e.out_refund_no, &code, &message, now, |polls| {
                            now + schedule.after(polls)
                        })
                    })?;
                }
            }
        }
        Ok(changed)
    }

    /// The refunds waiting for a new card (`ABNORMAL`).
    pub fn needs_action(&self) -> Result<Vec<LedgerEntry>> {
        self.with_store(|s| s.by_state(LedgerState::NeedsAction))
    }

    /// Resolve an `ABNORMAL` refund (`apply_abnormal_refund`) and record it (back to
    /// `PROCESSING`). The ledger stores the kind only, never the card number or name.
    pub fn resolve_abnormal(&self, request: AbnormalRefundRequest) -> Result<LedgerEntry> {
        let no = request.out_refund_no.clone();
        let kind = request.kind.as_str().to_string();
        let refund = self.client.apply_abnormal_refund(request)?;
        let now = self.now();
        self.with_store(|s| s.note_abnormal_kind(&no, &kind, now))?;
        self.apply_refund(&refund, EventSource::Resolve)
    }

    /// The status changes after `after` (a `seq`), in order, at most `limit`.
    pub fn events(&self, after: i64, limit: Option<u32>) -> Result<Vec<LedgerEvent>> {
        self.with_store(|s| s.events(after, limit.unwrap_or(1000)))
    }

    /// Settle every refund left in flight (a crash, a timeout): each is sent again with its
    /// own `out_refund_no`. The entries that left the in-flight state.
    pub fn resume(&self) -> Result<Vec<LedgerEntry>> {
        let pending = self.with_store(|s| s.in_flight_requests())?;
        let mut settled = Vec::new();
        for request in pending {
            if let Ok(entry) = self.send(request, EventSource::Resume) {
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
        let s = EventSource::Poll;
        assert!(moves(None, &Processing, s));
        assert!(moves(Some(&Processing), &Abnormal, s));
        assert!(moves(Some(&Processing), &Success, s));
        assert!(moves(Some(&Abnormal), &Success, s));
        assert!(!moves(Some(&Abnormal), &Processing, s), "only a resolution");
        assert!(moves(Some(&Abnormal), &Processing, EventSource::Resolve));
        assert!(!moves(Some(&Success), &Abnormal, EventSource::Notification));
        assert!(!moves(Some(&Closed), &Success, s));
        assert!(!moves(Some(&Processing), &Processing, s));
    }

    #[test]
    fn the_schedule_grows_and_stays_at_its_last_gap() {
        let p = PollSchedule::default();
        assert_eq!(p.after(0), 60);
        assert_eq!(p.after(3), 600);
        assert_eq!(p.after(100), 14400);
    }
}
