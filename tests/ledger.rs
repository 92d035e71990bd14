//! The refund ledger (issue 19, first part: the Rust core on SQLite) against the sandbox over
//! real sockets and a real SQLite file.
#![cfg(all(feature = "sandbox", feature = "ledger"))]
#![allow(clippy::result_large_err)]

mod common;

use std::sync::Arc;
use wechatpay_refund::ledger::{LedgerEventSource, LedgerOptions, LedgerState, RefundLedger};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault, SandboxRefusal};
use wechatpay_refund::*;

fn db_path(name: &str) -> String {
    common::temp_dir(name)
        .join("refunds.db")
        .to_string_lossy()
        .into_owned()
}

fn req(order: &str, no: &str, refund: i64, total: i64) -> CreateRefundRequest {
    CreateRefundRequest::by_out_trade_no(order, no, refund, total)
}

/// A client of the sandbox that does not retry (each outcome is the first answer's).
fn one_shot_client(sb: &Sandbox) -> Arc<RefundClient> {
    let config = common::sandbox_builder(sb)
        .options(ClientOptions {
            max_attempts: 1,
            read_timeout_ms: 2000,
            ..Default::default()
        })
        .build()
        .unwrap();
    RefundClient::new(Arc::new(config)).unwrap()
}

/// The lifecycle of the Python contract, in Rust.
#[test]
fn the_lifecycle_of_the_contract() {
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let db = db_path("contract");
    let ledger = RefundLedger::open_sqlite(&db, client.clone()).unwrap();

    sb.create_order("T20261202001".into(), 10_000).unwrap();
    let r1 = req("T20261202001", "R1", 100, 10_000);
    let e = ledger.submit(r1.clone()).unwrap();
    assert_eq!(e.out_refund_no, "R1");
    assert_eq!(e.status, Some(RefundStatus::Processing));
    assert_eq!(e.state, LedgerState::Open);
    assert!(e.refund_id.is_some());
    assert!(e.next_poll_at.is_some());
    // Again: the same entry, nothing sent.
    let before = sb.requests().len();
    assert_eq!(ledger.submit(r1).unwrap().refund_id, e.refund_id);
    assert_eq!(sb.requests().len(), before, "nothing sent again");
    assert_eq!(sb.refund_count("T20261202001".into()), 1);
    // The same number with another amount: refused before sending, naming the field.
    let e2 = ledger
        .submit(req("T20261202001", "R1", 200, 10_000))
        .unwrap_err();
    assert!(
        matches!(&e2, RefundError::InvalidInput { field, .. } if field == "amount.refund"),
        "{e2:?}"
    );
    assert_eq!(sb.requests().len(), before);

    sb.set_refund_status("R1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R1".into()).unwrap();
    ledger
        .handle_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    // WeChat Pay delivers it again, freshly signed: nothing changes twice.
    let again = sb.notification("R1".into()).unwrap();
    ledger
        .handle_notification(again.headers, again.body)
        .unwrap();
    let r1 = ledger.get("R1").unwrap().unwrap();
    assert_eq!(
        (r1.status, r1.state),
        (Some(RefundStatus::Success), LedgerState::Final)
    );

    sb.create_order("T20261202002".into(), 500).unwrap();
    ledger.submit(req("T20261202002", "R2", 500, 500)).unwrap();
    sb.set_refund_status("R2".into(), RefundStatus::Abnormal)
        .unwrap();
    let changed = ledger.poll(false).unwrap();
    assert_eq!(
        changed
            .iter()
            .map(|c| (c.out_refund_no.as_str(), c.status.clone()))
            .collect::<Vec<_>>(),
        [("R2", Some(RefundStatus::Abnormal))]
    );
    let waiting = ledger.needs_action().unwrap();
    assert_eq!(waiting.len(), 1);
    let refund_id = waiting[0].refund_id.clone().unwrap();
    let resolved = ledger
        .resolve_abnormal(AbnormalRefundRequest::to_merchant_bank_card(
            refund_id, "R2",
        ))
        .unwrap();
    assert_eq!(resolved.status, Some(RefundStatus::Processing));
    assert_eq!(
        resolved.abnormal_kind.as_deref(),
        Some("MERCHANT_BANK_CARD")
    );
    assert!(ledger.needs_action().unwrap().is_empty());
    sb.set_refund_status("R2".into(), RefundStatus::Success)
        .unwrap();
    ledger.poll(false).unwrap();
    assert_eq!(
        ledger.get("R2").unwrap().unwrap().status,
        Some(RefundStatus::Success)
    );

    let evs = ledger.events(0, None).unwrap();
    let seqs: Vec<i64> = evs.iter().map(|e| e.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "strictly increasing");
    let of = |no: &str| {
        evs.iter()
            .filter(|e| e.out_refund_no == no)
            .map(|e| (e.status.clone(), e.source))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of("R1"),
        [
            (RefundStatus::Processing, LedgerEventSource::Submit),
            (RefundStatus::Success, LedgerEventSource::Notification)
        ]
    );
    assert_eq!(
        of("R2"),
        [
            (RefundStatus::Processing, LedgerEventSource::Submit),
            (RefundStatus::Abnormal, LedgerEventSource::Poll),
            (RefundStatus::Processing, LedgerEventSource::Resolve),
            (RefundStatus::Success, LedgerEventSource::Poll)
        ]
    );
    assert!(ledger
        .events(*seqs.last().unwrap(), None)
        .unwrap()
        .is_empty());
    ledger.close();
    assert!(matches!(ledger.get("R1"), Err(RefundError::Store { .. })));

    // Another process, another day: the same book.
    let again = RefundLedger::open_sqlite(&db, client).unwrap();
    assert_eq!(
        again.get("R1").unwrap().unwrap().status,
        Some(RefundStatus::Success)
    );
    assert!(again.get("R404").unwrap().is_none());
    assert!(again.resume().unwrap().is_empty());
    assert_eq!(again.events(0, None).unwrap(), evs);
}

#[test]
fn an_unknown_outcome_is_settled_with_the_same_number_never_a_second_refund() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-L-2".into(), 1_000).unwrap();
    let ledger = RefundLedger::open_sqlite(&db_path("unknown"), one_shot_client(&sb)).unwrap();
    // Processed by WeChat Pay, then the answer is lost.
    sb.inject_fault(SandboxFault::DropConnection, 1);
    let e = ledger.submit(req("T-L-2", "R-L-2", 10, 1_000)).unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    let entry = ledger.get("R-L-2").unwrap().unwrap();
    assert_eq!((entry.state, entry.attempts), (LedgerState::InFlight, 1));
    assert!(entry.last_error_code.is_some());
    assert_eq!(
        sb.refund_count("T-L-2".into()),
        1,
        "the refund exists already"
    );
    // After a restart: resume sends the SAME number again; WeChat Pay refunds once.
    let settled = ledger.resume().unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(
        (settled[0].state, settled[0].attempts),
        (LedgerState::Open, 2)
    );
    assert_eq!(sb.refund_count("T-L-2".into()), 1);
    assert!(
        ledger.resume().unwrap().is_empty(),
        "nothing left in flight"
    );
}

#[test]
fn a_final_refusal_is_recorded_and_a_retry_later_refusal_is_sent_again() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-L-3".into(), 1_000).unwrap();
    let ledger = RefundLedger::open_sqlite(&db_path("refusals"), one_shot_client(&sb)).unwrap();
    // INVALID_REQUEST: final. The same error comes back without sending.
    sb.inject_fault(
        SandboxFault::Refusal {
            refusal: SandboxRefusal::InvalidRequest,
            after_processing: false,
        },
        1,
    );
    let e = ledger
        .submit(req("T-L-3", "R-L-3A", 10, 1_000))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Api { status: 400, code, .. } if code == "INVALID_REQUEST"),
        "{e:?}"
    );
    assert_eq!(
        ledger.get("R-L-3A").unwrap().unwrap().state,
        LedgerState::Rejected
    );
    let sent = sb.requests().len();
    let again = ledger
        .submit(req("T-L-3", "R-L-3A", 10, 1_000))
        .unwrap_err();
    assert!(
        matches!(&again, RefundError::Api { status: 400, code, retryable: false, .. } if code == "INVALID_REQUEST"),
        "{again:?}"
    );
    assert_eq!(
        sb.requests().len(),
        sent,
        "a rejected refund is never sent again"
    );
    // NOT_ENOUGH: retry later. It stays in flight and the next submit sends it again.
    sb.inject_fault(
        SandboxFault::Refusal {
            refusal: SandboxRefusal::NotEnough,
            after_processing: false,
        },
        1,
    );
    let e = ledger
        .submit(req("T-L-3", "R-L-3B", 10, 1_000))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Api { code, .. } if code == "NOT_ENOUGH"),
        "{e:?}"
    );
    let entry = ledger.get("R-L-3B").unwrap().unwrap();
    assert_eq!(entry.state, LedgerState::InFlight);
    assert_eq!(entry.last_error_code.as_deref(), Some("NOT_ENOUGH"));
    let ok = ledger.submit(req("T-L-3", "R-L-3B", 10, 1_000)).unwrap();
    assert_eq!((ok.state, ok.attempts), (LedgerState::Open, 2));
    assert_eq!(ok.last_error_code, None);
}

#[test]
fn notifications_create_unknown_refunds_and_apply_once_from_four_threads() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-L-4".into(), 1_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    // A refund made outside the ledger (the merchant platform, say).
    client
        .create_refund(req("T-L-4", "R-L-4", 10, 1_000))
        .unwrap();
    sb.set_refund_status("R-L-4".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-L-4".into()).unwrap();
    let ledger = RefundLedger::open_sqlite(&db_path("notify"), client).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (ledger, n) = (ledger.clone(), n.clone());
            std::thread::spawn(move || ledger.handle_notification(n.headers, n.body).unwrap())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().status, Some(RefundStatus::Success));
    }
    let events = ledger.events(0, None).unwrap();
    assert_eq!(events.len(), 1, "one transition: {events:?}");
    assert_eq!(events[0].source, LedgerEventSource::Notification);
    let e = ledger.get("R-L-4").unwrap().unwrap();
    assert_eq!(
        (e.state, e.refund, e.total),
        (LedgerState::Final, 10, 1_000)
    );
    // Final: never polled again.
    assert_eq!(ledger.poll(false).unwrap(), []);
}

#[test]
fn a_schema_from_a_newer_library_is_refused_and_the_file_is_kept() {
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let db = db_path("schema");
    let ledger = RefundLedger::open_sqlite(&db, client.clone()).unwrap();
    ledger.close();
    // A newer library migrated the file.
    set_user_version(&db, 99);
    let e = RefundLedger::open_sqlite(&db, client.clone()).unwrap_err();
    assert!(
        matches!(&e, RefundError::Store { reason, retryable: false } if reason.contains("newer")),
        "{e:?}"
    );
    set_user_version(&db, wechatpay_refund::ledger::SCHEMA_VERSION);
    RefundLedger::open_sqlite(&db, client).unwrap();
}

/// Set the `user_version` of a closed SQLite file: bytes 60..64 of the database header,
/// big-endian, as the SQLite file format defines it (the last connection's close checkpointed
/// the WAL into the file).
fn set_user_version(path: &str, version: i64) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(60)).unwrap();
    f.write_all(&(version as u32).to_be_bytes()).unwrap();
    f.sync_all().unwrap();
}

/// Two ledgers on one file (as two processes on one host would open it), each with 3 threads,
/// submitting the same 12 refunds at once: one refund each at WeChat Pay, one entry, exactly
/// one event per status change, unique seqs (WAL, busy timeout, IMMEDIATE transactions).
#[test]
fn two_ledgers_on_one_file_submit_the_same_refunds_at_once() {
    let sb = Sandbox::start().unwrap();
    for i in 0..12 {
        sb.create_order(format!("T-L-6-{i}"), 1_000).unwrap();
    }
    let db = db_path("shared");
    let ledgers: Vec<_> = (0..2)
        .map(|_| {
            RefundLedger::open_sqlite_with(
                &db,
                RefundClient::new(sb.client_config().unwrap()).unwrap(),
                LedgerOptions {
                    synchronous_full: false,
                    ..Default::default()
                },
            )
            .unwrap()
        })
        .collect();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let ledger = ledgers[t % 2].clone();
            std::thread::spawn(move || {
                for k in 0..12 {
                    let i = (k + t * 5) % 12;
                    ledger
                        .submit(req(&format!("T-L-6-{i}"), &format!("R-L-6-{i}"), 10, 1_000))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for i in 0..12 {
        assert_eq!(sb.refund_count(format!("T-L-6-{i}")), 1, "order {i}");
    }
    let events = ledgers[0].events(0, None).unwrap();
    assert_eq!(events, ledgers[1].events(0, None).unwrap(), "one log");
    assert_eq!(
        events.len(),
        12,
        "one PROCESSING event per refund: {events:?}"
    );
    let mut nos: Vec<_> = events.iter().map(|e| e.out_refund_no.clone()).collect();
    nos.sort();
    nos.dedup();
    assert_eq!(nos.len(), 12);
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    for i in 0..12 {
        let e = ledgers[1].get(&format!("R-L-6-{i}")).unwrap().unwrap();
        assert_eq!(e.state, LedgerState::Open, "{e:?}");
    }
}
