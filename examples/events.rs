//! See what the library does: its `tracing` events (target `wechatpay_refund`) printed by the
//! subscriber a Rust service already has, and the metrics snapshot in the Prometheus format.
//! Run: `cargo run --features sandbox --example events`
//!
//! One refund whose first attempt meets a WeChat Pay `SYSTEM_ERROR` (a sandbox fault): the
//! failed attempt, the retry and why, the second attempt with its `Request-ID` — and never a key,
//! a signature, a card number or a name.

use wechatpay_refund::sandbox::{Sandbox, SandboxFault};
use wechatpay_refund::{CreateRefundRequest, RefundClient};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Any subscriber works; DEBUG shows every HTTP attempt (INFO: retries and certificate
    // downloads; WARN: verification failures).
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::stdout)
        .init();

    let sandbox = Sandbox::start()?;
    sandbox.create_order("T20261203001".into(), 10_000)?;
    let client = RefundClient::new(sandbox.client_config()?)?;
    sandbox.inject_fault(SandboxFault::SystemError, 1);
    let refund = client.create_refund(CreateRefundRequest::by_out_trade_no(
        "T20261203001",
        "R20261203001",
        100,
        10_000,
    ))?;
    println!("refund {} is {}", refund.out_refund_no, refund.status);

    // What a service exposes on its metrics endpoint.
    print!("{}", client.stats().to_prometheus());
    sandbox.stop();
    Ok(())
}
