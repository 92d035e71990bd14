//! `wechatpay-refund-sandbox`: the embedded sandbox as a standalone server, so teams using any
//! WeChat Pay SDK can test refunds locally. Prints its base URL and TEST credentials as JSON on
//! one line, then serves until killed.
//!
//! Usage: wechatpay-refund-sandbox [--port N] [--mode public-key|certificate|both]

use wechatpay_refund::sandbox::{Sandbox, SandboxKeyMode, SandboxOptions};

fn usage(msg: &str) -> ! {
    eprintln!(
        "{msg}\nusage: wechatpay-refund-sandbox [--port N] [--mode public-key|certificate|both]"
    );
    std::process::exit(2)
}

fn main() {
    let mut options = SandboxOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
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
            "-h" | "--help" => usage("the WeChat Pay refund sandbox (TEST keys only)"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let sandbox = Sandbox::start_with(options).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let c = sandbox.credentials();
    let mut json = serde_json::json!({
        "base_url": c.base_url,
        "mchid": c.mchid,
        "merchant_serial_no": c.merchant_serial_no,
        "merchant_private_key_pem": c.merchant_private_key_pem,
        "api_v3_key": c.api_v3_key,
        "wechatpay_public_key_id": c.wechatpay_public_key_id,
        "wechatpay_public_key_pem": c.wechatpay_public_key_pem,
        "platform_certificate_serial_no": c.platform_certificate_serial_no,
        "platform_certificate_pem": c.platform_certificate_pem,
        "_warning": "TEST credentials generated for this sandbox run only",
    });
    // Legacy v2 (XML, client certificate): its own HTTPS base URL.
    if let Ok(v2) = sandbox.v2_credentials() {
        json["v2"] = serde_json::json!({
            "base_url": v2.base_url, "appid": v2.appid, "mch_id": v2.mch_id, "api_key": v2.api_key,
            "client_cert_pem": v2.client_cert_pem, "client_key_pem": v2.client_key_pem, "ca_pem": v2.ca_pem,
        });
    }
    println!("{json}");
    eprintln!("sandbox listening on {} (Ctrl-C to stop)", c.base_url);
    loop {
        std::thread::park();
    }
}
