//! Legacy v2 quickstart: apply, query and the encrypted notification against the embedded
//! sandbox's v2 endpoint (HTTPS with the merchant's client certificate) — no WeChat Pay
//! account needed. Run: `cargo run --features sandbox --example v2_quickstart`

use std::sync::mpsc;
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::v2::{
    v2_notification_ack_failure, v2_notification_ack_success, V2RefundClient, V2RefundQuery,
    V2RefundRequest,
};
use wechatpay_refund::{RefundError, RefundStatus};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The sandbox, and a v2 client with its TEST app id, API key and client certificate.
    //    In production: V2Config::builder(appid, mch_id, api_key)
    //        .client_certificate_pem(apiclient_cert_pem, apiclient_key_pem).build()?
    let sandbox = Sandbox::start()?;
    let config = sandbox.v2_config()?;
    println!("1. {config}");
    let v2 = V2RefundClient::new(config)?;
    sandbox.create_order("T20261124001".into(), 10_000)?;

    // The merchant's notify_url: a real HTTP handler on loopback.
    let callback = tiny_http::Server::http("127.0.0.1:0").expect("bind callback listener");
    let notify_url = format!(
        "http://{}/wechatpay/v2-refund-notify",
        callback.server_addr()
    );
    let (tx, rx) = mpsc::channel();
    let handler_client = v2.clone();
    let handler = std::thread::spawn(move || {
        if let Some(mut req) = callback.incoming_requests().next() {
            let mut body = Vec::new();
            std::io::Read::read_to_end(req.as_reader(), &mut body).expect("read body");
            // The raw body: req_info is decrypted with the API key (its only authenticity).
            // A hint, not proof (AES-ECB: no integrity, no freshness): act on it only after
            // refund_query confirms it, and skip a notification_key already handled.
            let (ack, parsed) = match handler_client.parse_refund_notification(body) {
                Ok(n) => (v2_notification_ack_success(), Ok(n)),
                Err(e) => (v2_notification_ack_failure(e.to_string()), Err(e)),
            };
            let _ = req.respond(tiny_http::Response::from_data(ack));
            let _ = tx.send(parsed);
        }
    });

    // 2. Apply (mutual TLS on /secapi/pay/refund). Accepted is not refunded yet.
    let mut request = V2RefundRequest::by_out_trade_no("T20261124001", "R2V1", 100, 10_000);
    request.refund_desc = Some("商品已售完".into());
    request.notify_url = Some(notify_url);
    let r = v2.refund(request.clone())?;
    println!(
        "2. refund {} accepted: refund_id {}, {} fen",
        r.out_refund_no, r.refund_id, r.refund_fee
    );
    // Safe to send again after any error: the same out_refund_no refunds once.
    assert_eq!(v2.refund(request)?.refund_id, r.refund_id);

    // 3. Query by any of the four ids.
    let q = v2.refund_query(V2RefundQuery {
        out_refund_no: Some("R2V1".into()),
        ..Default::default()
    })?;
    println!(
        "3. query: {} is {}",
        q.refunds[0].out_refund_no, q.refunds[0].refund_status
    );

    // 4. WeChat Pay finishes the refund and POSTs the encrypted notification.
    sandbox.set_refund_status("R2V1".into(), RefundStatus::Success)?;
    let note = rx.recv_timeout(std::time::Duration::from_secs(10))??;
    // Confirmed by the signed query answer before acting on it.
    let confirmed = v2.refund_query(V2RefundQuery {
        refund_id: Some(note.refund_id.clone()),
        ..Default::default()
    })?;
    println!(
        "4. notification {}: {} is {} at {} (query says {})",
        note.notification_key,
        note.out_refund_no,
        note.refund_status,
        note.success_time.as_deref().unwrap_or("?"),
        confirmed.refunds[0].refund_status
    );
    handler.join().expect("handler thread");

    // 5. Errors are typed, with WeChat Pay's retry guidance.
    match v2.refund(V2RefundRequest::by_out_trade_no(
        "T20261124001",
        "R2V1",
        200,
        10_000,
    )) {
        Err(RefundError::V2Api {
            err_code,
            err_code_des,
            retryable,
            retry_after_ms,
            ..
        }) => println!(
            "5. {} ({}), retryable: {retryable}, wait first: {retry_after_ms:?} ms",
            err_code.unwrap_or_default(),
            err_code_des.unwrap_or_default()
        ),
        other => println!("5. unexpected: {other:?}"),
    }
    sandbox.stop();
    Ok(())
}
