//! The `wechatpay-refund` command line driven as an operator drives it: real processes against
//! the standalone sandbox binary, through loopback sockets — a batch and its rerun, a `kill -9`
//! mid-batch and the rerun that completes it, a query, bills plain and GZIP, a corrupted bill
//! refused, reconciliation clean and with a refund made outside the ledger, and the errors a
//! user can act on.
#![cfg(all(feature = "cli", feature = "sandbox"))]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use wechatpay_refund::*;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A standalone sandbox with orders T…001 … T…`orders` of 1000 fen each, a configuration file
/// for it and a ledger path, all in a fresh directory.
struct World {
    _sandbox: Child,
    base_url: String,
    api_v3_key: String,
    dir: PathBuf,
    config: PathBuf,
    ledger: PathBuf,
    creds: Value,
}

const KEY_ENV: &str = "WECHATPAY_TEST_API_V3_KEY";

fn world(name: &str, orders: usize, extra_args: &[&str]) -> World {
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let list: Vec<Value> = (1..=orders)
        .map(|i| json!({"out_trade_no": format!("T2026120{:05}", i), "total": 1000}))
        .collect();
    let orders_file = dir.join("orders.json");
    std::fs::write(&orders_file, Value::Array(list).to_string()).unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_wechatpay-refund-sandbox"))
            .arg("--orders")
            .arg(&orders_file)
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let c: Value = serde_json::from_str(&line).unwrap();
    let s = |k: &str| c[k].as_str().unwrap().to_string();
    std::fs::write(dir.join("apiclient_key.pem"), s("merchant_private_key_pem")).unwrap();
    std::fs::write(dir.join("pub_key.pem"), s("wechatpay_public_key_pem")).unwrap();
    let config = dir.join("wechatpay.toml");
    std::fs::write(
        &config,
        format!(
            "mchid = \"{}\"\nmerchant_serial_no = \"{}\"\nmerchant_private_key_pem_file = \"apiclient_key.pem\"\n\
             api_v3_key_env = \"{KEY_ENV}\"\nwechatpay_public_key_id = \"{}\"\n\
             wechatpay_public_key_pem_file = \"pub_key.pem\"\nbase_url = \"{}\"\n\n[options]\nmax_attempts = 3\n",
            s("mchid"),
            s("merchant_serial_no"),
            s("wechatpay_public_key_id"),
            s("base_url")
        ),
    )
    .unwrap();
    World {
        _sandbox: child,
        base_url: s("base_url"),
        api_v3_key: s("api_v3_key"),
        ledger: dir.join("ledger.sqlite"),
        config,
        dir,
        creds: c,
    }
}

impl World {
    fn cli(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund"));
        c.arg("--config")
            .arg(&self.config)
            .arg("--ledger")
            .arg(&self.ledger)
            .env(KEY_ENV, &self.api_v3_key)
            .env_remove("WECHATPAY_CONFIG")
            .env_remove("WECHATPAY_LEDGER");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cli().args(args).output().unwrap()
    }

    fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let resp = UreqTransport::new(Default::default())
            .send(HttpRequest {
                method: method.into(),
                url: format!("{}{path}", self.base_url),
                headers: vec![HttpHeader::new("Content-Type", "application/json")],
                body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
                timeout_ms: None,
            })
            .unwrap();
        assert!(resp.status < 300, "{path}: {}", resp.status);
        serde_json::from_slice(&resp.body).unwrap()
    }

    /// How many apply-refund requests the sandbox received.
    fn refund_posts(&self) -> usize {
        let log = self.control("GET", "/sandbox/v1/requests", None);
        log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == "POST" && r["url"] == "/v3/refund/domestic/refunds")
            .count()
    }

    /// The China-time date of the sandbox clock now, and the clock moved a day on (so that
    /// today's bill is yesterday's).
    fn today_then_next_day(&self) -> String {
        let t = self.control("GET", "/sandbox/v1/clock", None);
        let date = t["time"].as_str().unwrap()[..10].to_string();
        self.control(
            "POST",
            "/sandbox/v1/clock",
            Some(json!({"advance_seconds": 86_400})),
        );
        date
    }

    fn csv(&self, name: &str, rows: std::ops::RangeInclusive<usize>, extra: &str) -> PathBuf {
        let mut text = String::from("out_trade_no,out_refund_no,refund,total,reason\n");
        for i in rows {
            text.push_str(&format!(
                "T2026120{i:05},R2026120{i:05},100,1000,批量退款\n"
            ));
        }
        text.push_str(extra);
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn report(path: &Path) -> Vec<Vec<String>> {
    let t = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<Vec<String>> = t
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(
        lines.remove(0),
        ["out_refund_no", "status", "refund_id", "error"]
    );
    lines
}

#[test]
fn a_batch_runs_once_its_rerun_sends_nothing_and_a_bad_row_is_named() {
    let w = world("batch", 30, &[]);
    let file = w.csv("refunds.csv", 1..=30, "T202612000031,R31,abc,1000,坏行\n");
    let rep = w.dir.join("report.csv");
    let out = w.run(&[
        "batch",
        file.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--workers",
        "4",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Plain progress lines (stderr is not a terminal here), ending at 31/31.
    assert!(err.contains("batch: 31/31 done"), "{err}");
    assert!(err.contains("30 accepted, 1 not accepted"), "{err}");
    assert!(
        err.contains("line 32: refund must be a whole number of fen"),
        "{err}"
    );
    let lines = report(&rep);
    assert_eq!(lines.len(), 31);
    assert_eq!(
        lines
            .iter()
            .filter(|l| l[1] == "PROCESSING" && l[2].starts_with("5030"))
            .count(),
        30
    );
    assert_eq!(lines[30][1], "INVALID");
    assert_eq!(w.refund_posts(), 30);
    // The rerun: every row is in the ledger already, nothing is sent.
    let out = w.run(&[
        "batch",
        file.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(w.refund_posts(), 30, "{}", text(&out.stderr));
    assert_eq!(report(&rep).len(), 31);
    // The well-formed file alone exits 0.
    let good = w.csv("good.csv", 1..=30, "");
    let out = w.run(&["batch", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(w.refund_posts(), 30);
    // query prints the verified refund as JSON.
    let out = w.run(&["query", "R202612000007"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["out_refund_no"], "R202612000007");
    assert_eq!(v["amount"]["refund"], 100);
    // The ledger's view.
    let out = w.run(&["ledger", "status"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["by_state"]["OPEN"], 30, "{v}");
    let out = w.run(&["ledger", "events", "--after", "0"]);
    assert_eq!(text(&out.stdout).lines().count(), 30);
}

#[test]
fn a_batch_killed_mid_way_is_completed_by_its_rerun() {
    let w = world("kill", 40, &[]);
    let file = w.csv("refunds.csv", 1..=40, "");
    let mut child = Child(
        w.cli()
            .args([
                "batch",
                file.to_str().unwrap(),
                "--rate",
                "8",
                "--workers",
                "2",
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait for the first progress lines, then kill -9 (SIGKILL: no cleanup of any kind).
    let mut lines = BufReader::new(child.0.stderr.take().unwrap()).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("batch: ") && line.contains(" done") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
    }
    assert_eq!(seen, 3, "the batch did not report progress");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let sent = w.refund_posts();
    assert!(sent > 0 && sent < 40, "killed after {sent} refunds");
    let rep = w.dir.join("report.csv");
    let out = w.run(&[
        "batch",
        file.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = report(&rep);
    assert_eq!(lines.len(), 40);
    let mut ids: Vec<&String> = lines.iter().map(|l| &l[2]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "one refund per row");
    // Only the rows the killed run had not sent were sent again (plus at most the ones in
    // flight at the kill, re-sent with the same out_refund_no).
    assert!(w.refund_posts() <= 40 + 2, "{}", w.refund_posts());
}

#[test]
fn bills_download_plain_and_gzip_and_a_corrupted_one_is_refused() {
    let w = world("bill", 5, &[]);
    let file = w.csv("refunds.csv", 1..=5, "");
    assert_eq!(
        w.run(&["batch", file.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let date = w.today_then_next_day();
    let plain = w.dir.join("bill.csv");
    let out = w.run(&[
        "bill",
        "download",
        "--date",
        &date,
        "--out",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["rows"].clone(), v["refund_rows"].clone()),
        (json!(10), json!(5))
    );
    assert_eq!(v["gzip"], false);
    assert!(std::fs::read_to_string(&plain)
        .unwrap()
        .starts_with("交易时间,"));
    let gz = w.dir.join("bill.csv.gz");
    let out = w.run(&[
        "bill",
        "download",
        "--date",
        &date,
        "--type",
        "REFUND",
        "--gzip",
        "--out",
        gz.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["rows"].clone(), v["gzip"].clone()),
        (json!(5), json!(true))
    );
    assert_eq!(&std::fs::read(&gz).unwrap()[..2], &[0x1f, 0x8b]);
    // Corrupted in transit: refused, nothing saved.
    w.control(
        "POST",
        "/sandbox/v1/faults",
        Some(json!({"fault": "CORRUPT_BILL"})),
    );
    let bad = w.dir.join("bad.csv");
    let out = w.run(&[
        "bill",
        "download",
        "--date",
        &date,
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bill digest mismatch"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!bad.exists());
    // Today's bill is not generated yet; a bad date is a usage error.
    let out = w.run(&["bill", "download", "--date", "2026-02-30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bill_date"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn reconciliation_is_clean_then_finds_a_refund_made_outside_the_ledger() {
    let w = world("reconcile", 6, &["--auto-succeed-after", "50ms"]);
    let file = w.csv("refunds.csv", 1..=5, "");
    assert_eq!(
        w.run(&["batch", file.to_str().unwrap()]).status.code(),
        Some(0)
    );
    // The refunds succeed by themselves; the ledger learns it by polling. Bounded wait.
    let mut final_ = 0;
    for _ in 0..100 {
        w.run(&["ledger", "poll"]);
        let v: Value = serde_json::from_slice(&w.run(&["ledger", "status"]).stdout).unwrap();
        final_ = v["by_state"]["FINAL"].as_u64().unwrap_or(0);
        if final_ == 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(final_, 5);
    // A refund made outside the ledger (another system, the merchant platform).
    let s = |k: &str| w.creds[k].as_str().unwrap().to_string();
    let config = ClientConfig::builder(
        s("mchid"),
        s("merchant_serial_no"),
        s("merchant_private_key_pem"),
        s("api_v3_key"),
    )
    .wechatpay_public_key(s("wechatpay_public_key_id"), s("wechatpay_public_key_pem"))
    .base_url(&w.base_url)
    .build()
    .unwrap();
    let direct = RefundClient::new(config.into()).unwrap();
    let clean_date;
    {
        // First a clean day: reconcile before the outside refund exists would need another
        // day; instead reconcile the batch's day on a copy of its bill made now.
        let date = w.today_then_next_day();
        let rep = w.dir.join("clean.csv");
        let out = w.run(&[
            "reconcile",
            "--date",
            &date,
            "--report",
            rep.to_str().unwrap(),
        ]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        assert!(
            stdout.contains("5 matched, 0 missing_in_ledger, 0 missing_in_bill"),
            "{stdout}"
        );
        assert_eq!(std::fs::read_to_string(&rep).unwrap().lines().count(), 1);
        clean_date = date;
    }
    // Back to that day on the sandbox clock, refund outside the ledger, move on again.
    w.control(
        "POST",
        "/sandbox/v1/clock",
        Some(json!({"advance_seconds": -86_400})),
    );
    direct
        .create_refund(CreateRefundRequest::by_out_trade_no(
            "T202612000006",
            "R-OUTSIDE-1",
            300,
            1000,
        ))
        .unwrap();
    assert_eq!(w.today_then_next_day(), clean_date);
    let rep = w.dir.join("diff.csv");
    let out = w.run(&[
        "reconcile",
        "--date",
        &clean_date,
        "--report",
        rep.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("1 missing_in_ledger"), "{stdout}");
    let rep = std::fs::read_to_string(&rep).unwrap();
    assert!(
        rep.lines()
            .any(|l| l.starts_with("missing_in_ledger,R-OUTSIDE-1,\"300 fen")),
        "{rep}"
    );
}

#[test]
fn errors_a_user_can_act_on_are_one_line_and_never_show_secrets() {
    let w = world("errors", 1, &[]);
    let mut printed = String::new();
    // The API v3 key's variable is missing.
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund"))
        .arg("--config")
        .arg(&w.config)
        .args(["query", "R1"])
        .env_remove(KEY_ENV)
        .output()
        .unwrap();
    printed += &format!("{}{}", text(&out.stdout), text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains(KEY_ENV) && err.lines().count() == 1, "{err}");
    // An unknown key, with the closest valid one.
    let bad = w.dir.join("bad.toml");
    let cfg = std::fs::read_to_string(&w.config)
        .unwrap()
        .replace("merchant_serial_no", "merchant_serial");
    std::fs::write(&bad, cfg).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund"))
        .arg("--config")
        .arg(&bad)
        .args(["query", "R1"])
        .env(KEY_ENV, &w.api_v3_key)
        .output()
        .unwrap();
    printed += &format!("{}{}", text(&out.stdout), text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("unknown key `merchant_serial` (did you mean `merchant_serial_no`?)"),
        "{err}"
    );
    // A missing file.
    let out = w.run(&["batch", "/nonexistent/refunds.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/refunds.csv"));
    // A bad date.
    let out = w.run(&["reconcile", "--date", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    printed += &format!("{}{}", text(&out.stdout), text(&out.stderr));
    // Nothing above printed the API v3 key or the private key.
    assert!(!printed.contains(&w.api_v3_key) && !printed.contains("PRIVATE KEY"));
    // An unreachable PostgreSQL ledger: one clear line, never its password.
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund"))
        .arg("--config")
        .arg(&w.config)
        .args([
            "--ledger",
            "postgresql://x:pw-s3cret@127.0.0.1:1/db?connect_timeout=2",
            "ledger",
            "status",
        ])
        .env(KEY_ENV, &w.api_v3_key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("PostgreSQL"), "{err}");
    assert!(!err.contains("pw-s3cret"), "{err}");
}

#[test]
fn the_embedded_sandbox_runs_a_command_without_an_account() {
    let dir = std::env::temp_dir().join(format!("wechatpay-cli-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wechatpay-refund"))
        .args(["--sandbox", "--ledger"])
        .arg(dir.join("l.sqlite"))
        .args([
            "apply",
            "--out-trade-no",
            "T202612310001",
            "--out-refund-no",
            "R202612310001",
            "--refund",
            "100",
            "--total",
            "1000",
        ])
        .env_remove("WECHATPAY_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("fresh embedded sandbox"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "PROCESSING");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn certificates_download_writes_each_one_as_a_pem_named_by_its_serial() {
    // Migration mode: the sandbox serves a public key and a platform certificate (chained to
    // its own test CA, given as the option `platform_trust_anchors_pem`).
    let w = world("certs", 0, &["--mode", "both"]);
    let roots: Vec<String> = w.creds["platform_trust_anchors_pem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("'''{}'''", v.as_str().unwrap()))
        .collect();
    let config = std::fs::read_to_string(&w.config).unwrap().replacen(
        "[options]",
        "download_platform_certificates = true\n\n[options]",
        1,
    ) + &format!("platform_trust_anchors_pem = [{}]\n", roots.join(", "));
    std::fs::write(&w.config, config).unwrap();
    let out_dir = w.dir.join("certs");
    let out = w.run(&[
        "certificates",
        "download",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let serial = w.creds["platform_certificate_serial_no"].as_str().unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["serial_no"], serial);
    let file = PathBuf::from(list[0]["file"].as_str().unwrap());
    assert_eq!(file, out_dir.join(format!("{serial}.pem")));
    // The very certificate the sandbox serves, byte for byte once PEM framing is set aside.
    let body = |pem: &str| -> String {
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    };
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("-----BEGIN CERTIFICATE-----\n"),
        "{written}"
    );
    assert_eq!(
        body(&written),
        body(w.creds["platform_certificate_pem"].as_str().unwrap())
    );
    // An independent reader (OpenSSL) finds the same serial in the file.
    let openssl = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(&file)
        .output()
        .expect("the openssl command line (apt-get install openssl)");
    assert!(openssl.status.success(), "{}", text(&openssl.stderr));
    let printed = text(&openssl.stdout);
    let hex = printed.trim().trim_start_matches("serial=");
    assert_eq!(hex.trim_start_matches('0'), serial.trim_start_matches('0'));
    // And the files configure a client: pinned, no download.
    let pinned = std::fs::read_to_string(&w.config)
        .unwrap()
        .replace("download_platform_certificates = true\n", "")
        .replacen(
            "[options]",
            &format!("platform_certificates_pem_file = \"certs/{serial}.pem\"\n\n[options]"),
            1,
        );
    std::fs::write(&w.config, pinned).unwrap();
    // (A refund the sandbox does not know: WeChat Pay's answer, verified, not a configuration error.)
    let out = w.run(&["query", "R-NOT-THERE"]);
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(err.contains("RESOURCE_NOT_EXISTS"), "{err}");
}

#[test]
fn a_batch_on_a_terminal_shows_a_progress_bar() {
    // A real terminal: `script` (util-linux) runs the command on a pseudo-terminal and copies
    // what it drew to its own stdout.
    let w = world("tty", 30, &[]);
    let file = w.csv("refunds.csv", 1..=30, "");
    let quote = |p: &Path| format!("'{}'", p.display());
    let cmd = format!(
        "{} --config {} --ledger {} batch {} --workers 2",
        quote(Path::new(env!("CARGO_BIN_EXE_wechatpay-refund"))),
        quote(&w.config),
        quote(&w.ledger),
        quote(&file)
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env(KEY_ENV, &w.api_v3_key)
        .env("COLUMNS", "120")
        .env("TERM", "xterm")
        .env_remove("WECHATPAY_CONFIG")
        .env_remove("WECHATPAY_LEDGER")
        .output()
        .expect("the script command (util-linux)");
    let drawn = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{drawn}");
    // The bar's last frame: done/total, a rate and an ETA; not the plain lines of a pipe.
    assert!(drawn.contains("30/30"), "{drawn}");
    assert!(drawn.contains("ETA"), "{drawn}");
    assert!(!drawn.contains("batch: 30/30 done"), "{drawn}");
    assert_eq!(w.refund_posts(), 30);
}
