//! The standalone `wechatpay-refund-sandbox` binary (issue 13.2): flags, seeded orders,
//! credentials file, refunds that succeed by themselves; driven as another SDK would.
#![cfg(feature = "sandbox")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use wechatpay_refund::*;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_serves_seeded_orders_and_moves_refunds_by_itself() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sandbox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let orders = dir.join("orders.json");
    let creds_out = dir.join("credentials.json");
    std::fs::write(
        &orders,
        r#"[{"out_trade_no": "T20261124001", "total": 10000, "transaction_id": "4200000000000042"}]"#,
    )
    .unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
            .args([
                "--mode",
                "certificate",
                "--auto-succeed-after",
                "200ms",
                "--orders",
            ])
            .arg(&orders)
            .arg("--credentials-out")
            .arg(&creds_out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let c: serde_json::Value = serde_json::from_str(&line).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&creds_out).unwrap()).unwrap();
    assert_eq!(written, c);
    let base_url = c["base_url"].as_str().unwrap();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let s = |k: &str| c[k].as_str().unwrap().to_string();
    let config = ClientConfig::builder(
        s("mchid"),
        s("merchant_serial_no"),
        s("merchant_private_key_pem"),
        s("api_v3_key"),
    )
    .base_url(base_url)
    .options(ClientOptions {
        platform_trust_anchors_pem: c["platform_trust_anchors_pem"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect(),
        ..Default::default()
    })
    .download_platform_certificates(true)
    .build()
    .unwrap();
    let client = RefundClient::new(config.into()).unwrap();
    let r = client
        .create_refund(CreateRefundRequest::by_transaction_id(
            "4200000000000042",
            "R-cli-1",
            100,
            10000,
        ))
        .unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.out_trade_no, "T20261124001");
    // It succeeds by itself (bounded wait: 10 s).
    let mut status = r.status;
    for _ in 0..100 {
        status = client.query_refund("R-cli-1".into(), None).unwrap().status;
        if status == RefundStatus::Success {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, RefundStatus::Success);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_flags_are_refused_with_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
        .args(["--mode", "sideways"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: wechatpay-refund-sandbox"));
}

#[test]
fn the_same_seed_gives_the_same_credentials_on_every_run() {
    let run = |seed: &str| {
        let mut child = Child(
            Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
                .args(["--seed", seed, "--mode", "both"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut c: serde_json::Value = serde_json::from_str(&line).unwrap();
        c.as_object_mut().unwrap().remove("base_url");
        c.as_object_mut().unwrap().remove("v2");
        c
    };
    let (a1, a2, b) = (run("team-a"), run("team-a"), run("team-b"));
    assert_eq!(a1, a2);
    assert_ne!(a1["api_v3_key"], b["api_v3_key"]);
    assert_ne!(a1["wechatpay_public_key_id"], b["wechatpay_public_key_id"]);
    assert_eq!(a1["api_v3_key"].as_str().unwrap().len(), 32);
}

#[test]
fn orders_of_sub_merchants_and_enforced_limits_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sandbox-cli-sp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let orders = dir.join("orders.json");
    std::fs::write(
        &orders,
        r#"[{"out_trade_no": "T20261124002", "total": 10000, "sub_mchid": "1900000109"}]"#,
    )
    .unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
            .args(["--enforce-limits", "--notify-speedup", "100", "--orders"])
            .arg(&orders)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let c: serde_json::Value = serde_json::from_str(&line).unwrap();
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
        max_attempts: 1,
        ..Default::default()
    })
    .build()
    .unwrap();
    let client = RefundClient::new(config.into()).unwrap();
    let req = |no: &str, sub: Option<&str>| {
        let mut r = CreateRefundRequest::by_out_trade_no("T20261124002", no, 100, 10000);
        r.sub_mchid = sub.map(str::to_string);
        r
    };
    // Not the merchant's own order: only its sub-merchant's.
    assert!(matches!(
        client.create_refund(req("R1", None)),
        Err(RefundError::Api { status: 404, .. })
    ));
    client.create_refund(req("R1", Some("1900000109"))).unwrap();
    // --enforce-limits: the next refund of the order within a minute is refused.
    match client.create_refund(req("R2", Some("1900000109"))) {
        Err(RefundError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (429, "FREQUENCY_LIMITED"))
        }
        other => panic!("{other:?}"),
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
        .args(["--notify-speedup", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
