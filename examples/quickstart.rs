//! Quickstart: the whole refund lifecycle against the embedded sandbox — no WeChat Pay
//! account needed. Run: `cargo run --features sandbox,ledger --example quickstart`
//!
//! Every refund goes through the refund ledger (a SQLite file here): recorded before it is sent,
//! followed by notifications (a local HTTP handler verifies, decrypts and applies them) and
//! queries, ABNORMAL refunds listed until resolved, every status change in the event log.
//!
//! submit → query → ABNORMAL (notification) → resolve to another card → SUCCESS (notification)
//! → the event log → a typed error.

use std::sync::mpsc;
use wechatpay_refund::ledger::RefundLedger;
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::{
    notification_ack_failure, notification_ack_success, AbnormalRefundRequest, CreateRefundRequest,
    RefundClient, RefundError, RefundStatus,
};

/// WeChat Pay's status of a ledger entry (`-` before the first answer).
fn status(entry: &wechatpay_refund::ledger::LedgerEntry) -> String {
    entry
        .status
        .as_ref()
        .map_or_else(|| "-".into(), |s| s.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A local WeChat Pay refund server with fresh TEST keys.
    let sandbox = Sandbox::start()?;
    println!("1. sandbox listening on {}", sandbox.base_url());
    let transaction_id = sandbox.create_order("T20261123001".into(), 10_000)?;
    println!("   seeded order T20261123001 (100.00 CNY), transaction_id {transaction_id}");

    // The merchant's callback endpoint: a real HTTP handler on loopback.
    let callback = tiny_http::Server::http("127.0.0.1:0").expect("bind callback listener");
    let notify_url = format!("http://{}/wechatpay/refund-notify", callback.server_addr());
    let client = RefundClient::new(sandbox.client_config()?)?;
    // The book every refund is recorded in, before it is sent (open_postgres for a fleet).
    let dir = std::env::temp_dir().join(format!("wechatpay-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("refunds.db");
    let ledger = RefundLedger::open_sqlite(&db.to_string_lossy(), client.clone())?;
    println!("   ledger: {}", db.display());
    let (tx, rx) = mpsc::channel();
    let handler_ledger = ledger.clone();
    // WeChat Pay notifies every status change (ABNORMAL, then SUCCESS); handle each one.
    let handler = std::thread::spawn(move || {
        for mut req in callback.incoming_requests() {
            let headers: std::collections::HashMap<String, String> = req
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect();
            let mut body = Vec::new();
            std::io::Read::read_to_end(req.as_reader(), &mut body).expect("read body");
            // Raw headers and raw body bytes: never re-serialise the JSON before verifying.
            // Verified, decrypted and recorded (once, forward only) before the 2xx.
            let (ack, parsed) = match handler_ledger.handle_notification(headers, body) {
                Ok(entry) => (notification_ack_success(), Ok(entry)),
                Err(e) => (notification_ack_failure(e.to_string()), Err(e)),
            };
            let _ = req
                .respond(tiny_http::Response::from_string(ack.body).with_status_code(ack.status));
            let done = matches!(&parsed, Ok(e) if e.status == Some(RefundStatus::Success));
            tx.send(parsed).expect("report");
            if done {
                break;
            }
        }
    });

    // 2. Apply for a refund of 1.00 CNY.
    let mut request =
        CreateRefundRequest::by_out_trade_no("T20261123001", "R20261123001", 100, 10_000);
    request.reason = Some("商品已售完".into());
    request.notify_url = Some(notify_url.clone());
    let entry = ledger.submit(request.clone())?;
    println!(
        "2. ledger.submit → {} {} (refund_id {}, {} fen, state {:?})",
        entry.out_refund_no,
        status(&entry),
        entry.refund_id.as_deref().unwrap_or("-"),
        entry.refund,
        entry.state
    );
    // Submitting the same request again (a retry after a crash, a double click) sends nothing.
    assert_eq!(ledger.submit(request)?.refund_id, entry.refund_id);

    // 3. Query it (the ledger's poll() does this on a schedule for every open refund).
    let refund = client.query_refund("R20261123001".into(), None)?;
    println!("3. query_refund → status {}", refund.status);

    // 4. The bank rejects the card: the refund becomes ABNORMAL.
    sandbox.set_refund_status("R20261123001".into(), RefundStatus::Abnormal)?;
    let entry = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("notification within 10 s")?;
    println!(
        "4. the original card was frozen → the notification moved {} to {}",
        entry.out_refund_no,
        status(&entry)
    );
    let waiting = ledger.needs_action()?;
    println!(
        "   ledger.needs_action → {:?} (collect a new card)",
        waiting.iter().map(|e| &e.out_refund_no).collect::<Vec<_>>()
    );

    // 5. Resolve it to another debit card; account and name are encrypted by the library and
    //    never stored by the ledger (it keeps the kind only).
    let entry = ledger.resolve_abnormal(AbnormalRefundRequest::to_user_bank_card(
        waiting[0].refund_id.clone().unwrap_or_default(),
        "R20261123001",
        "ICBC_DEBIT",
        "6222021234567890",
        "张三",
    ))?;
    println!(
        "5. ledger.resolve_abnormal → status {}, kind {}",
        status(&entry),
        entry.abnormal_kind.as_deref().unwrap_or("-")
    );

    // 6. The refund succeeds; WeChat Pay (the sandbox) notifies the callback URL.
    sandbox.set_refund_status("R20261123001".into(), RefundStatus::Success)?;
    let entry = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("notification within 10 s")?;
    handler.join().expect("handler thread");
    println!(
        "6. notification at {}: {} → {} ({} of {} fen, success_time {})",
        notify_url,
        entry.out_refund_no,
        status(&entry),
        entry.refund,
        entry.total,
        entry.success_time.as_deref().unwrap_or("-")
    );
    // Your order system consumes the event log: each change once, in order; store the last
    // seq with your own update.
    for ev in ledger.events(0, None)? {
        println!(
            "   event {}: {} {} ({:?})",
            ev.seq, ev.out_refund_no, ev.status, ev.source
        );
    }

    // 7. Errors are typed: an unknown refund is a 404 with WeChat Pay's code and Request-ID.
    //    For any failure of create_refund, `e.is_outcome_unknown()` says whether the refund may
    //    exist anyway (a dropped answer, a 5xx): query it, or send it again with the SAME
    //    out_refund_no — never a new one (WeChat Pay refunds once per out_refund_no).
    match client.query_refund("R404".into(), None) {
        Err(RefundError::Api {
            status,
            code,
            request_id,
            retryable,
            ..
        }) => println!(
            "7. query_refund(R404) → HTTP {status} {code}, Request-ID {}, retryable: {retryable}",
            request_id.unwrap_or_default()
        ),
        other => panic!("expected an API error, got {other:?}"),
    }
    ledger.close();
    sandbox.stop();
    println!(
        "done: the sandbox recorded {} refund(s) for order T20261123001",
        sandbox.refund_count("T20261123001".into())
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
