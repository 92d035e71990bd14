//! `wechatpay-refund-sandbox`: the embedded sandbox as a standalone server, so teams using any
//! WeChat Pay SDK can test refunds locally. Prints its base URL and TEST credentials as JSON on
//! one line, then serves until killed.
//!
//! Drive it over HTTP with the control API under `/sandbox/v1/` (docs/sandbox.md).

use wechatpay_refund::sandbox::{Sandbox, SandboxKeyMode, SandboxOptions};

const USAGE: &str = "usage: wechatpay-refund-sandbox [--port N] [--host 127.0.0.1] \
[--mode public-key|certificate|both] [--tls] [--orders FILE] [--credentials-out FILE] \
[--auto-succeed-after 2s] [--seed S] [--enforce-limits] [--notify-speedup N]

  --port N                 listen on port N (default: a free port)
  --host ADDR              listen on ADDR (default 127.0.0.1: this machine only)
  --mode M                 WeChat Pay key mode: public-key (default), certificate, or both (migration)
  --tls                    serve HTTPS with a generated test CA (its PEM is in the credentials)
  --orders FILE            seed orders: a JSON array of {\"out_trade_no\", \"total\", \"transaction_id\"?,
                           \"sub_mchid\"?} (with sub_mchid: that sub-merchant's order only)
  --credentials-out FILE   also write the credentials JSON to FILE
  --auto-succeed-after D   refunds succeed by themselves after D (e.g. 2s, 500ms), like the real service
  --seed S                 the same TEST credentials on every run with the same S (keys of the
                           repository's test vectors; API v3 key, serial and key id derived from S)
  --enforce-limits         refuse (429) refunds of one order less than a minute apart, more than
                           150 requests or 6 failing requests a second, as WeChat Pay does
  --notify-speedup N       re-deliver failed notifications on WeChat Pay's schedule (15s, 15s,
                           30s, 3m, ... 6h) N times faster (default 1000)";

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\n{USAGE}");
    std::process::exit(2)
}

fn duration_ms(s: &str) -> Option<u64> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().ok();
    }
    if let Some(secs) = s.strip_suffix('s') {
        return secs
            .parse::<f64>()
            .ok()
            .filter(|v| *v >= 0.0)
            .map(|v| (v * 1000.0) as u64);
    }
    s.parse::<u64>().ok().map(|v| v * 1000)
}

/// The repository's TEST keys (tests/vectors/keys.json), for `--seed`.
const TEST_KEYS: &str = include_str!("../../tests/vectors/keys.json");

/// Stable TEST credentials for `seed`: the test vectors' keys, and the API v3 key, merchant
/// serial and public key id derived from the seed (SHA-256), so that a team can check in a
/// configuration that works on every run and every machine.
fn seeded(options: &mut SandboxOptions, seed: &str) {
    let keys: serde_json::Value = serde_json::from_str(TEST_KEYS).expect("the bundled test keys");
    let k = |path: &str| {
        keys.pointer(path)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let hash = |what: &str| {
        let d = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("{what}:{seed}").as_bytes(),
        );
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    };
    options.merchant_private_key_pem = k("/merchant/private_key_pkcs8_pem");
    options.wechatpay_private_key_pem = k("/wechatpay_public_key/private_key_pkcs8_pem");
    options.platform_certificate_pem = k("/platform/certificate_pem");
    options.platform_private_key_pem = k("/platform/private_key_pkcs8_pem");
    options.api_v3_key = Some(hash("api_v3_key")[..32].to_ascii_lowercase());
    options.merchant_serial_no = Some(hash("merchant_serial_no")[..40].to_string());
    let digits: String = hash("wechatpay_public_key_id")
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .take(28)
        .collect();
    options.wechatpay_public_key_id = Some(format!("PUB_KEY_ID_0119{digits}"));
}

fn main() {
    let mut options = SandboxOptions::default();
    let mut seed: Option<String> = None;
    let mut orders_file: Option<String> = None;
    let mut credentials_out: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--host" => {
                options.host = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--host needs an address")),
                )
            }
            "--tls" => options.tls = true,
            "--enforce-limits" => options.enforce_limits = true,
            "--notify-speedup" => {
                options.notify_retry_speedup = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n >= 1)
                        .unwrap_or_else(|| usage("--notify-speedup needs a number of at least 1")),
                )
            }
            "--seed" => seed = Some(args.next().unwrap_or_else(|| usage("--seed needs a value"))),
            "--orders" => {
                orders_file = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--orders needs a file")),
                )
            }
            "--credentials-out" => {
                credentials_out = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--credentials-out needs a file")),
                )
            }
            "--auto-succeed-after" => {
                options.auto_succeed_after_ms = Some(
                    args.next()
                        .as_deref()
                        .and_then(duration_ms)
                        .unwrap_or_else(|| {
                            usage("--auto-succeed-after needs a duration (2s, 500ms)")
                        }),
                )
            }
            "--port" => {
                options.port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number"))
            }
            "--mode" => {
                options.mode = Some(match args.next().as_deref() {
                    Some("public-key") => SandboxKeyMode::PublicKey,
                    Some("certificate") => SandboxKeyMode::Certificate,
                    Some("both") => SandboxKeyMode::Both,
                    _ => usage("--mode is public-key, certificate or both"),
                })
            }
            "-h" | "--help" => {
                println!("the WeChat Pay refund sandbox (TEST keys only)\n{USAGE}");
                return;
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if let Some(seed) = &seed {
        seeded(&mut options, seed);
    }
    let host = options.host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let sandbox = Sandbox::start_with(options).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    if let Some(path) = orders_file {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            eprintln!("--orders {path}: {e}");
            std::process::exit(1)
        });
        let orders: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_else(|e| {
            eprintln!("--orders {path}: not a JSON array of orders: {e}");
            std::process::exit(1)
        });
        for o in orders {
            let no = o["out_trade_no"].as_str().unwrap_or_default().to_string();
            let total = o["total"].as_i64().unwrap_or(0);
            let tx = o["transaction_id"].as_str().map(str::to_string);
            let created = match o["sub_mchid"].as_str() {
                Some(sub) => sandbox.create_sub_merchant_order(no.clone(), total, sub.into(), tx),
                None => sandbox.create_order_with(no.clone(), total, tx),
            };
            if let Err(e) = created {
                eprintln!("--orders {path}: order {no:?}: {e}");
                std::process::exit(1)
            }
        }
    }
    let c = sandbox.credentials();
    let mut json = serde_json::json!(c);
    json["_warning"] = "TEST credentials generated for this sandbox run only".into();
    // Legacy v2 (XML, client certificate): its own HTTPS base URL.
    if let Ok(v2) = sandbox.v2_credentials() {
        json["v2"] = serde_json::json!({
            "base_url": v2.base_url, "appid": v2.appid, "mch_id": v2.mch_id, "api_key": v2.api_key,
            "client_cert_pem": v2.client_cert_pem, "client_key_pem": v2.client_key_pem, "ca_pem": v2.ca_pem,
        });
    }
    // The file first: once the line is printed, the file is there.
    if let Some(path) = credentials_out {
        if let Err(e) = std::fs::write(&path, format!("{json}\n")) {
            eprintln!("--credentials-out {path}: {e}");
            std::process::exit(1)
        }
    }
    println!("{json}");
    let reach = match host.as_str() {
        "127.0.0.1" | "::1" | "localhost" => "this machine only",
        _ => "OTHER MACHINES TOO: these are TEST keys, never use real merchant data",
    };
    eprintln!(
        "sandbox listening on {} ({reach}); control API under {}/sandbox/v1/; Ctrl-C to stop",
        c.base_url, c.base_url
    );
    loop {
        std::thread::park();
    }
}
