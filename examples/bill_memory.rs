//! Download a bill file from URL with its SHA1 checked while it streams, then parse it row by
//! row: the measurement behind BENCHMARKS.md's "download memory flat" (run it under
//! `/usr/bin/time -v` with a 1 MB and a 100 MB file; any HTTP server on 127.0.0.1 will do, the
//! request is signed with the repository's TEST keys).
//!
//! `cargo run --release --example bill_memory -- http://127.0.0.1:8000/bill.csv SHA1 OUT_FILE`

use std::sync::Arc;
use wechatpay_refund::bill::{open_bill_file, BillDownloadInfo};
use wechatpay_refund::{ClientConfig, RefundClient};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, sha1, out] = args.as_slice() else {
        eprintln!("usage: bill_memory URL SHA1 OUT_FILE");
        std::process::exit(2);
    };
    let origin = match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => {
            eprintln!("URL must be absolute");
            std::process::exit(2);
        }
    };
    let keys: serde_json::Value =
        serde_json::from_str(include_str!("../tests/vectors/keys.json")).expect("test keys");
    let s = |p: &str| keys.pointer(p).and_then(|v| v.as_str()).unwrap_or_default();
    let config = ClientConfig::builder(
        s("/mchid"),
        s("/merchant/serial_no"),
        s("/merchant/private_key_pkcs8_pem"),
        s("/api_v3_key"),
    )
    .wechatpay_public_key(
        s("/wechatpay_public_key/id"),
        s("/wechatpay_public_key/public_key_pem"),
    )
    .base_url(origin)
    .build()
    .expect("config");
    let client = RefundClient::new(Arc::new(config)).expect("client");
    let info = BillDownloadInfo {
        hash_type: "SHA1".into(),
        hash_value: sha1.clone(),
        download_url: url.clone(),
    };
    let file = match client.download_bill_file(info, out.clone()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let mut reader = open_bill_file(&file.path).expect("open");
    let (mut rows, mut refunded) = (0u64, 0i64);
    while let Some(r) = reader.next_row().expect("row") {
        rows += 1;
        refunded += r.refund_fen.unwrap_or(0);
    }
    println!("{} bytes, {rows} rows, {refunded} fen refunded", file.bytes);
}
