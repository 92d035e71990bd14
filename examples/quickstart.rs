//! Quickstart: the whole refund lifecycle against the embedded sandbox — no WeChat Pay
//! account needed. Run: `cargo run --features sandbox --example quickstart`
//!
//! apply → query → ABNORMAL → apply abnormal refund → SUCCESS → notification received by a
//! local HTTP handler, verified, decrypted and acknowledged.

use std::sync::mpsc;
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::{
    notification_ack_failure, notification_ack_success, AbnormalRefundRequest, CreateRefundRequest,
    RefundClient, RefundError, RefundStatus,
};

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
    let (tx, rx) = mpsc::channel();
    let handler_client = client.clone();
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
            let (ack, parsed) = match handler_client.parse_notification(headers, body) {
                Ok(n) => (notification_ack_success(), Ok(n)),
                Err(e) => (notification_ack_failure(e.to_string()), Err(e)),
            };
            let _ = req
                .respond(tiny_http::Response::from_string(ack.body).with_status_code(ack.status));
            let done = matches!(&parsed, Ok(n) if n.refund_status == RefundStatus::Success);
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
    let refund = client.create_refund(request)?;
    println!(
        "2. create_refund → {} {} (refund_id {}, {} fen)",
        refund.out_refund_no, refund.status, refund.refund_id, refund.amount.refund
    );

    // 3. Query it.
    let refund = client.query_refund("R20261123001".into(), None)?;
    println!("3. query_refund → status {}", refund.status);

    // 4. The bank rejects the card: the refund becomes ABNORMAL.
    sandbox.set_refund_status("R20261123001".into(), RefundStatus::Abnormal)?;
    let note = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("notification within 10 s")?;
    println!(
        "4. the original card was frozen → notification {} says {}",
        note.event_type, note.refund_status
    );
    let refund = client.query_refund("R20261123001".into(), None)?;
    println!("   query_refund → status {}", refund.status);

    // 5. Resolve it to another debit card; account and name are encrypted by the library.
    let refund = client.apply_abnormal_refund(AbnormalRefundRequest::to_user_bank_card(
        refund.refund_id,
        "R20261123001",
        "ICBC_DEBIT",
        "6222021234567890",
        "张三",
    ))?;
    println!(
        "5. apply_abnormal_refund → status {}, channel {}, to {}",
        refund.status, refund.channel, refund.user_received_account
    );

    // 6. The refund succeeds; WeChat Pay (the sandbox) notifies the callback URL.
    sandbox.set_refund_status("R20261123001".into(), RefundStatus::Success)?;
    let note = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("notification within 10 s")?;
    handler.join().expect("handler thread");
    println!(
        "6. notification {} at {}: {} {} → {} ({} of {} fen, success_time {})",
        note.id,
        notify_url,
        note.event_type,
        note.out_refund_no,
        note.refund_status,
        note.amount.refund,
        note.amount.total,
        note.success_time.as_deref().unwrap_or("-")
    );

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
    sandbox.stop();
    println!(
        "done: the sandbox recorded {} refund(s) for order T20261123001",
        sandbox.refund_count("T20261123001".into())
    );
    Ok(())
}
