//! The ledger under many workers, crashes and an old schema (issue 19): real processes (this
//! test binary started again as a child, `--ignored --exact child`), a real SQLite file, a real
//! PostgreSQL server (started by scripts/test: WECHATPAY_REFUND_TEST_POSTGRES_URL), and the
//! sandbox over real sockets.
#![cfg(all(feature = "sandbox", feature = "ledger"))]
#![allow(clippy::result_large_err)]

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wechatpay_refund::ledger::{LedgerEventSource, LedgerOptions, LedgerState, RefundLedger};
use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::*;

/// A fresh database on the test PostgreSQL server, or `None` (with a note) when there is none
/// outside CI. In CI (or with WECHATPAY_REFUND_STRICT_SKIPS=1) a missing server fails the test.
fn postgres_db(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("WECHATPAY_REFUND_TEST_POSTGRES_URL") else {
        let strict = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0")
            || std::env::var("WECHATPAY_REFUND_STRICT_SKIPS").is_ok_and(|v| v == "1");
        assert!(
            !strict,
            "WECHATPAY_REFUND_TEST_POSTGRES_URL is not set: run the suite through scripts/test, \
             which starts a PostgreSQL server"
        );
        eprintln!("skipped: no PostgreSQL server (run through scripts/test)");
        return None;
    };
    let db = format!(
        "ledger_{name}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    Some(format!("{head}/{db}"))
}

fn req(order: &str, no: &str, refund: i64, total: i64) -> CreateRefundRequest {
    CreateRefundRequest::by_out_trade_no(order, no, refund, total)
}

/// The sandbox's credentials for a child process (JSON in an environment variable).
fn credentials_json(sb: &Sandbox) -> String {
    serde_json::to_string(&sb.credentials()).unwrap()
}

/// A client of the sandbox from the credentials a parent handed over.
fn client_from_env(read_timeout_ms: u64, max_attempts: u32) -> Arc<RefundClient> {
    let c: serde_json::Value =
        serde_json::from_str(&std::env::var("LEDGER_CHILD_CREDENTIALS").unwrap()).unwrap();
    let s = |k: &str| c[k].as_str().unwrap().to_string();
    let config = ClientConfig::builder(
        s("mchid"),
        s("merchant_serial_no"),
        s("merchant_private_key_pem"),
        s("api_v3_key"),
    )
    .base_url(s("base_url"))
    .wechatpay_public_key(s("wechatpay_public_key_id"), s("wechatpay_public_key_pem"))
    .options(ClientOptions {
        max_attempts,
        read_timeout_ms,
        deadline_ms: read_timeout_ms * u64::from(max_attempts) + 2000,
        ..Default::default()
    })
    .build()
    .unwrap();
    RefundClient::new(Arc::new(config)).unwrap()
}

fn open(target: &str, client: Arc<RefundClient>, lease_secs: u32) -> Arc<RefundLedger> {
    let options = LedgerOptions {
        lease_secs,
        synchronous_full: false,
        ..Default::default()
    };
    if target.starts_with("postgresql://") {
        RefundLedger::open_postgres_with(target, client, options).unwrap()
    } else {
        RefundLedger::open_sqlite_with(target, client, options).unwrap()
    }
}

/// Start this test binary again as a child playing `role`.
fn spawn_child(
    role: &str,
    sb: &Sandbox,
    target: &str,
    extra: &[(&str, String)],
) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("LEDGER_CHILD_ROLE", role)
    .env("LEDGER_CHILD_TARGET", target)
    .env("LEDGER_CHILD_CREDENTIALS", credentials_json(sb))
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The child processes' entry point (run only as a child: `--ignored --exact child`).
#[test]
#[ignore = "the child processes' entry point, started by the other tests"]
fn child() {
    let role = std::env::var("LEDGER_CHILD_ROLE").expect("started by a parent test");
    let target = std::env::var("LEDGER_CHILD_TARGET").unwrap();
    let index: usize = std::env::var("LEDGER_CHILD_INDEX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    match role.as_str() {
        // Submit the same 40 refunds as the other children, in another order.
        "submit" => {
            let ledger = open(&target, client_from_env(5000, 3), 0);
            for k in 0..40 {
                let i = (k + index * 13) % 40;
                ledger
                    .submit(req(&format!("T-F-{i}"), &format!("R-F-{i}"), 10, 1_000))
                    .unwrap();
            }
        }
        // Poll until nothing is open any more.
        "poll" => {
            let ledger = open(&target, client_from_env(5000, 3), 0);
            for _ in 0..200 {
                ledger.poll(false).unwrap();
                let open = ledger.by_state(LedgerState::Open).unwrap();
                if open.is_empty() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            panic!("refunds stayed open");
        }
        // Submit the crash test's rows, over and over, until killed.
        "crash" => {
            let rows: usize = std::env::var("LEDGER_CHILD_ROWS").unwrap().parse().unwrap();
            let ledger = open(&target, client_from_env(400, 1), 2);
            loop {
                let _ = ledger.resume();
                for i in 0..rows {
                    let _ = ledger.submit(req(
                        &format!("T-K-{i}"),
                        &format!("R-K-{i}"),
                        100 + i as i64,
                        10_000,
                    ));
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn wait_all(children: Vec<std::process::Child>) {
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "a child failed: {status}");
    }
}

/// Every event's seq is unique and increasing; per refund, the statuses in order.
fn events_by_refund(
    ledger: &RefundLedger,
) -> HashMap<String, Vec<(RefundStatus, LedgerEventSource)>> {
    let mut by = HashMap::<String, Vec<_>>::new();
    let mut last = 0;
    let mut after = 0;
    loop {
        let page = ledger.events(after, Some(50)).unwrap();
        if page.is_empty() {
            break;
        }
        for ev in page {
            assert!(ev.seq > last, "seq {} after {last}", ev.seq);
            last = ev.seq;
            after = ev.seq;
            by.entry(ev.out_refund_no)
                .or_default()
                .push((ev.status, ev.source));
        }
    }
    by
}

/// Three processes on PostgreSQL submit the same 40 refunds at once; then three processes poll
/// 60 succeeded refunds at once: one refund and one entry each, exactly one event per status
/// change, unique seqs, and each refund queried by one worker only (the leases).
#[test]
fn processes_on_postgres_share_one_ledger() {
    let Some(url) = postgres_db("fleet") else {
        return;
    };
    let sb = Sandbox::start().unwrap();
    for i in 0..40 {
        sb.create_order(format!("T-F-{i}"), 1_000).unwrap();
    }
    let children: Vec<_> = (0..3)
        .map(|i| {
            spawn_child(
                "submit",
                &sb,
                &url,
                &[("LEDGER_CHILD_INDEX", i.to_string())],
            )
        })
        .collect();
    wait_all(children);
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let ledger = open(&url, client.clone(), 0);
    for i in 0..40 {
        assert_eq!(sb.refund_count(format!("T-F-{i}")), 1, "order {i}");
        let e = ledger.get(&format!("R-F-{i}")).unwrap().unwrap();
        assert_eq!(e.status, Some(RefundStatus::Processing));
        assert_eq!(e.state, LedgerState::Open);
    }
    let by = events_by_refund(&ledger);
    assert_eq!(by.len(), 40);
    for (no, evs) in &by {
        assert_eq!(
            evs,
            &[(RefundStatus::Processing, LedgerEventSource::Submit)],
            "{no}"
        );
    }

    // 20 more, then all 60 succeed at WeChat Pay; three pollers at once.
    for i in 40..60 {
        sb.create_order(format!("T-F-{i}"), 1_000).unwrap();
        ledger
            .submit(req(&format!("T-F-{i}"), &format!("R-F-{i}"), 10, 1_000))
            .unwrap();
    }
    for i in 0..60 {
        sb.set_refund_status(format!("R-F-{i}"), RefundStatus::Success)
            .unwrap();
    }
    let queries_before = queries(&sb);
    let children: Vec<_> = (0..3)
        .map(|i| spawn_child("poll", &sb, &url, &[("LEDGER_CHILD_INDEX", i.to_string())]))
        .collect();
    wait_all(children);
    assert_eq!(
        queries(&sb) - queries_before,
        60,
        "each refund queried by one poller only"
    );
    let by = events_by_refund(&ledger);
    assert_eq!(by.len(), 60);
    for (no, evs) in &by {
        assert_eq!(
            evs.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
            [RefundStatus::Processing, RefundStatus::Success],
            "{no}"
        );
        assert_eq!(evs[1].1, LedgerEventSource::Poll);
    }
    let counts = ledger.counts().unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!((counts[0].state, counts[0].count), (LedgerState::Final, 60));
}

/// The refund queries the sandbox answered so far.
fn queries(sb: &Sandbox) -> usize {
    sb.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.url.starts_with("/v3/refund/domestic/refunds/"))
        .count()
}

/// The same notification delivered 4 times at once from 4 threads (each with its own ledger
/// handle, as 4 workers): one transition, one event. SQLite and PostgreSQL.
#[test]
fn one_notification_four_times_at_once_is_one_transition() {
    let dir = common::temp_dir("notify4");
    let mut targets = vec![dir.join("refunds.db").to_string_lossy().into_owned()];
    targets.extend(postgres_db("notify4"));
    for target in targets {
        let sb = Sandbox::start().unwrap();
        let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
        let ledger = open(&target, client.clone(), 0);
        sb.create_order("T-N4".into(), 1_000).unwrap();
        ledger.submit(req("T-N4", "R-N4", 500, 1_000)).unwrap();
        sb.set_refund_status("R-N4".into(), RefundStatus::Success)
            .unwrap();
        let n = sb.notification("R-N4".into()).unwrap();
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (headers, body) = (n.headers.clone(), n.body.clone());
                let barrier = barrier.clone();
                let ledger = open(&target, client.clone(), 0);
                std::thread::spawn(move || {
                    barrier.wait();
                    ledger.handle_notification(headers, body).unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().status, Some(RefundStatus::Success));
        }
        let by = events_by_refund(&ledger);
        assert_eq!(
            by["R-N4"],
            [
                (RefundStatus::Processing, LedgerEventSource::Submit),
                (RefundStatus::Success, LedgerEventSource::Notification)
            ],
            "{target}"
        );
    }
}

/// A child submitting refunds is killed with SIGKILL at random points, 24 times, while the
/// sandbox drops a third of its answers after processing them. Afterwards every row has
/// exactly one refund at the sandbox with its amount, the ledger knows each (refund_id,
/// status), and `resume()` leaves nothing in flight.
#[test]
fn killed_mid_refund_24_times_nothing_is_lost_or_doubled() {
    const ROWS: usize = 30;
    let sb = Sandbox::start().unwrap();
    for i in 0..ROWS {
        sb.create_order(format!("T-K-{i}"), 10_000).unwrap();
    }
    sb.inject_random_faults(330, vec![SandboxFault::DropConnection]);
    let dir = common::temp_dir("crash");
    let db = dir.join("refunds.db").to_string_lossy().into_owned();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut kills = 0;
    let started = Instant::now();
    while kills < 24 {
        assert!(started.elapsed() < Duration::from_secs(240), "bounded");
        let mut child = spawn_child(
            "crash",
            &sb,
            &db,
            &[("LEDGER_CHILD_ROWS", ROWS.to_string())],
        );
        std::thread::sleep(Duration::from_millis(60 + rand(700)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child ran until killed");
        kills += 1;
    }
    sb.clear_faults();
    // The dead children's leases (2 s) expire; then this process settles what is left.
    std::thread::sleep(Duration::from_millis(2100));
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let ledger = open(&db, client.clone(), 2);
    let counts = ledger.counts().unwrap();
    eprintln!(
        "after {kills} kills: {counts:?}, {} requests, {} answers dropped",
        sb.request_count(),
        sb.faults_injected()
    );
    // The kills hit children at work: refunds were made and answers dropped.
    assert!(sb.faults_injected() > 0 && !counts.is_empty(), "{counts:?}");
    ledger.resume().unwrap();
    assert!(
        ledger.by_state(LedgerState::InFlight).unwrap().is_empty(),
        "resume() leaves nothing in flight"
    );
    for i in 0..ROWS {
        let amount = 100 + i as i64;
        let e = ledger
            .submit(req(
                &format!("T-K-{i}"),
                &format!("R-K-{i}"),
                amount,
                10_000,
            ))
            .unwrap();
        assert_eq!(
            sb.refund_count(format!("T-K-{i}")),
            1,
            "row {i}: one refund"
        );
        assert_eq!(sb.refunded_total(format!("T-K-{i}")), amount, "row {i}");
        let truth = client.query_refund(format!("R-K-{i}"), None).unwrap();
        assert_eq!(
            e.refund_id.as_deref(),
            Some(truth.refund_id.as_str()),
            "row {i}"
        );
        assert_eq!(e.status, Some(truth.status), "row {i}");
    }
    assert!(ledger.by_state(LedgerState::InFlight).unwrap().is_empty());
    let by = events_by_refund(&ledger);
    assert!(by.len() <= ROWS);
    for evs in by.values() {
        let unique: HashSet<_> = evs.iter().map(|e| e.0.clone()).collect();
        assert_eq!(
            unique.len(),
            evs.len(),
            "one event per status change: {evs:?}"
        );
    }
}

/// A ledger written by the first schema (version 1) is migrated in place: its entries and
/// events are kept, seqs go on, and it works (SQLite file made by hand with the v1 DDL).
#[test]
fn a_ledger_of_the_first_schema_is_migrated() {
    let dir = common::temp_dir("migrate");
    let db = dir.join("refunds.db").to_string_lossy().into_owned();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(V1_SQLITE).unwrap();
        conn.execute_batch(
            "INSERT INTO entries (out_refund_no, request_json, out_trade_no, refund, total, \
             currency, status, state, refund_id, attempts, polls, created_at, updated_at, \
             next_poll_at) VALUES ('R-M-1', NULL, 'T-M-1', 100, 1000, 'CNY', 'PROCESSING', \
             'OPEN', 'RID-OLD', 1, 0, 1700000000, 1700000000, 1700000060);
             INSERT INTO events (out_refund_no, status, at, source) \
             VALUES ('R-M-1', 'PROCESSING', 1700000000, 'submit');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let ledger = open(&db, client, 0);
    let old = ledger.get("R-M-1").unwrap().unwrap();
    assert_eq!(old.refund_id.as_deref(), Some("RID-OLD"));
    assert_eq!(old.state, LedgerState::Open);
    assert_eq!(old.success_time, None);
    sb.create_order("T-M-2".into(), 1_000).unwrap();
    ledger.submit(req("T-M-2", "R-M-2", 10, 1_000)).unwrap();
    let evs = ledger.events(0, None).unwrap();
    assert_eq!(
        evs.iter()
            .map(|e| (e.seq, e.out_refund_no.as_str()))
            .collect::<Vec<_>>(),
        [(1, "R-M-1"), (2, "R-M-2")]
    );
    ledger.close();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, wechatpay_refund::ledger::SCHEMA_VERSION);
}

/// The first schema as version 1 of the library wrote it.
const V1_SQLITE: &str = "CREATE TABLE entries (
        out_refund_no TEXT PRIMARY KEY, request_json TEXT, out_trade_no TEXT,
        transaction_id TEXT, sub_mchid TEXT, refund INTEGER NOT NULL, total INTEGER NOT NULL,
        currency TEXT NOT NULL, status TEXT, state TEXT NOT NULL, refund_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, polls INTEGER NOT NULL DEFAULT 0,
        last_error_code TEXT, last_error_message TEXT, abnormal_kind TEXT,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, next_poll_at INTEGER);
    CREATE INDEX entries_state ON entries (state, next_poll_at);
    CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, out_refund_no TEXT NOT NULL,
        status TEXT NOT NULL, at INTEGER NOT NULL, source TEXT NOT NULL);
    CREATE TABLE notifications (id TEXT PRIMARY KEY, out_refund_no TEXT NOT NULL,
        at INTEGER NOT NULL);";

/// The whole lifecycle on PostgreSQL, and the schema found again by a second open.
#[test]
fn the_lifecycle_on_postgres() {
    let Some(url) = postgres_db("life") else {
        return;
    };
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let ledger = RefundLedger::open_postgres(&url, client.clone()).unwrap();
    sb.create_order("T-P-1".into(), 10_000).unwrap();
    let r1 = req("T-P-1", "R-P-1", 100, 10_000);
    let e = ledger.submit(r1.clone()).unwrap();
    assert_eq!(e.status, Some(RefundStatus::Processing));
    assert_eq!(ledger.submit(r1).unwrap().refund_id, e.refund_id);
    assert_eq!(sb.refund_count("T-P-1".into()), 1);
    let e = ledger
        .submit(req("T-P-1", "R-P-1", 200, 10_000))
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::InvalidInput { field, .. } if field == "amount.refund"),
        "{e:?}"
    );
    sb.set_refund_status("R-P-1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-P-1".into()).unwrap();
    ledger
        .handle_notification(n.headers.clone(), n.body.clone())
        .unwrap();
    ledger.handle_notification(n.headers, n.body).unwrap();
    let done = ledger.get("R-P-1").unwrap().unwrap();
    assert_eq!(done.status, Some(RefundStatus::Success));
    assert!(done.success_time.is_some());

    sb.create_order("T-P-2".into(), 500).unwrap();
    ledger.submit(req("T-P-2", "R-P-2", 500, 500)).unwrap();
    sb.set_refund_status("R-P-2".into(), RefundStatus::Abnormal)
        .unwrap();
    let changed = ledger.poll(false).unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].status, Some(RefundStatus::Abnormal));
    assert_eq!(ledger.needs_action().unwrap().len(), 1);
    let refund_id = ledger.get("R-P-2").unwrap().unwrap().refund_id.unwrap();
    ledger
        .resolve_abnormal(AbnormalRefundRequest {
            refund_id,
            out_refund_no: "R-P-2".into(),
            kind: AbnormalRefundKind::MerchantBankCard,
            sub_mchid: None,
            bank_type: None,
            bank_account: None,
            real_name: None,
        })
        .unwrap();
    assert!(ledger.needs_action().unwrap().is_empty());
    let evs = ledger.events(0, None).unwrap();
    assert_eq!(evs.len(), 5, "{evs:?}");
    ledger.close();
    assert!(matches!(
        ledger.get("R-P-1").unwrap_err(),
        RefundError::Store { .. }
    ));
    let again = RefundLedger::open_postgres(&url, client).unwrap();
    assert_eq!(
        again.get("R-P-1").unwrap().unwrap().status,
        Some(RefundStatus::Success)
    );
    assert!(again.get("R-404").unwrap().is_none());
    assert_eq!(again.resume().unwrap(), []);
}

/// An unreachable PostgreSQL is a typed, retryable `Store` error; its password appears nowhere.
#[test]
fn an_unreachable_postgres_is_a_typed_error_without_the_password() {
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    // A port nobody listens on (bound, then closed).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgresql://refunds:hunter2-s3cret@127.0.0.1:{port}/pay?connect_timeout=2");
    let e = RefundLedger::open_postgres(&url, client.clone()).unwrap_err();
    assert!(
        matches!(
            &e,
            RefundError::Store {
                retryable: true,
                ..
            }
        ),
        "{e:?}"
    );
    for text in [format!("{e}"), format!("{e:?}")] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    let e = RefundLedger::open_postgres("postgresql://u:hunter2@[bad", client).unwrap_err();
    assert!(matches!(&e, RefundError::InvalidInput { .. }), "{e:?}");
    assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
}

/// A database locked by another writer past the busy timeout is a typed, retryable `Store`
/// error, and nothing reaches WeChat Pay (the intent could not be recorded, so nothing is sent).
#[test]
fn a_locked_database_is_a_retryable_store_error_and_nothing_is_sent() {
    let dir = common::temp_dir("locked");
    let db = dir.join("refunds.db").to_string_lossy().into_owned();
    let sb = Sandbox::start().unwrap();
    sb.create_order("T-LK".into(), 1_000).unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let ledger = open(&db, client, 0);
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let sent = sb.request_count();
    let e = ledger.submit(req("T-LK", "R-LK", 10, 1_000)).unwrap_err();
    assert!(
        matches!(&e, RefundError::Store { retryable: true, reason } if reason.contains("locked")),
        "{e:?}"
    );
    assert_eq!(sb.request_count(), sent, "nothing was sent");
    holder.execute_batch("ROLLBACK").unwrap();
    let e = ledger.submit(req("T-LK", "R-LK", 10, 1_000)).unwrap();
    assert_eq!(e.status, Some(RefundStatus::Processing));
    assert_eq!(sb.refund_count("T-LK".into()), 1);
}
