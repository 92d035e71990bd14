//! Trade-bill parser vectors (tests/vectors/bills, made by gen_bill_vectors.py with Python's
//! `csv`, `gzip`, `hashlib`) parsed by this crate, and bills this crate parsed — the sandbox's,
//! downloaded through real sockets — checked back by the independent parser
//! (tests/vectors/check_bill_vectors.py, standard library only).

#![allow(clippy::result_large_err)]

use serde_json::{json, Map, Value};
use std::path::PathBuf;
use wechatpay_refund::bill::{open_bill_file, parse_bill, Bill, BillRow, BillSummary};
use wechatpay_refund::crypto::Sha1;
use wechatpay_refund::RefundError;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn python() -> String {
    std::env::var("WECHATPAY_REFUND_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_checker(args: &[&str]) {
    let out = std::process::Command::new(python())
        .arg(dir().join("check_bill_vectors.py"))
        .args(args)
        .output()
        .expect("python3 is needed for the independent bill check (set WECHATPAY_REFUND_PYTHON)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "independent bill checker failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 failed"), "{text}");
}

fn sha1(bytes: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(bytes);
    h.finish_hex()
}

/// A row in the vectors' shape.
fn row_json(r: &BillRow) -> Value {
    let extra: Map<String, Value> = r
        .extra
        .iter()
        .map(|f| (f.name.clone(), json!(f.value)))
        .collect();
    json!({
        "line": r.line,
        "trade_state": r.trade_state,
        "transaction_id": r.transaction_id,
        "out_trade_no": r.out_trade_no,
        "refund_id": r.refund_id,
        "out_refund_no": r.out_refund_no,
        "refund_fen": r.refund_fen,
        "total_fen": r.total_fen,
        "settlement_total_fen": r.settlement_total_fen,
        "refund_status": r.refund_status.as_ref().map(|s| s.as_str().to_string()),
        "fee": r.fee,
        "goods_name": r.goods_name,
        "extra": extra,
    })
}

fn summary_json(s: &Option<BillSummary>) -> Value {
    match s {
        None => Value::Null,
        Some(s) => json!({
            "total_count": s.total_count,
            "settlement_total_fen": s.settlement_total_fen,
            "refund_total_fen": s.refund_total_fen,
            "total_fen": s.total_fen,
            "refund_requested_total_fen": s.refund_requested_total_fen,
            "fee_total": s.fee_total,
        }),
    }
}

fn bill_json(b: &Bill) -> Value {
    json!({
        "columns": b.columns,
        "rows": b.rows.iter().map(row_json).collect::<Vec<_>>(),
        "summary": summary_json(&b.summary),
    })
}

#[test]
fn the_vectors_parse_to_what_they_say() {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("bills/bills.json")).unwrap())
            .unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for c in cases {
        let file = c["file"].as_str().unwrap();
        let bytes = std::fs::read(dir().join("bills").join(file)).unwrap();
        assert_eq!(sha1(&bytes), c["sha1"].as_str().unwrap(), "{file}");
        let parsed = parse_bill(&bytes);
        // The streaming reader over the file agrees with the in-memory parse.
        let streamed = open_bill_file(dir().join("bills").join(file).to_str().unwrap())
            .and_then(|r| r.collect::<Result<Vec<_>, _>>());
        match c.get("error").and_then(Value::as_str) {
            Some(want) => {
                let e = parsed.unwrap_err();
                assert!(
                    matches!(&e, RefundError::Decode { reason, .. } if reason.contains(want)),
                    "{file}: {e}"
                );
                assert!(streamed.is_err(), "{file}");
            }
            None => {
                let b = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(bill_json(&b), c["expect"], "{file}");
                assert_eq!(streamed.unwrap(), b.rows, "{file}");
            }
        }
    }
    run_checker(&[]);
}

#[cfg(feature = "sandbox")]
#[test]
fn the_sandbox_bills_parse_the_same_in_python() {
    use wechatpay_refund::bill::{BillType, TradeBillRequest};
    use wechatpay_refund::sandbox::Sandbox;
    use wechatpay_refund::{CreateRefundRequest, RefundClient, RefundStatus};
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let before = sb.clock();
    sb.create_order("T20261202001".into(), 1_000_001).unwrap();
    sb.create_order("T20261202002".into(), 3).unwrap();
    for (order, no, refund, total) in [
        ("T20261202001", "R20261202|1", 333_333, 1_000_001),
        ("T20261202001", "R20261202*2", 1, 1_000_001),
        ("T20261202002", "R20261202@3", 3, 3),
    ] {
        client
            .create_refund(CreateRefundRequest::by_out_trade_no(
                order, no, refund, total,
            ))
            .unwrap();
    }
    sb.set_refund_status("R20261202|1".into(), RefundStatus::Success)
        .unwrap();
    sb.set_refund_status("R20261202@3".into(), RefundStatus::Closed)
        .unwrap();
    let day = {
        let (y, m, d) = civil((before + 8 * 3600).div_euclid(86_400));
        format!("{y:04}-{m:02}-{d:02}")
    };
    if (sb.clock() + 8 * 3600).div_euclid(86_400) != (before + 8 * 3600).div_euclid(86_400) {
        return; // midnight China time passed mid-test: the refunds split over two bills
    }
    sb.advance_clock(86_400);
    let out_dir = std::env::temp_dir().join(format!("wechatpay-bill-vec-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut bills = Vec::new();
    for (kind, gzip) in [
        (BillType::All, false),
        (BillType::Refund, true),
        (BillType::Success, false),
    ] {
        let path = out_dir
            .join(format!("{}-{gzip}.csv", kind.as_str()))
            .to_string_lossy()
            .into_owned();
        let req = TradeBillRequest {
            bill_type: kind,
            gzip,
            ..TradeBillRequest::new(&day)
        };
        let file = client.download_bill_to(req.clone(), path.clone()).unwrap();
        let mut reader = open_bill_file(&path).unwrap();
        let rows: Vec<BillRow> = (&mut reader).collect::<Result<_, _>>().unwrap();
        let b = Bill {
            columns: reader.columns().to_vec(),
            rows,
            summary: reader.summary().cloned(),
        };
        let mut v = bill_json(&b);
        v["path"] = json!(path);
        v["sha1"] = json!(file.sha1);
        bills.push(v);
    }
    let out = out_dir.join("rust-output.json");
    std::fs::write(&out, json!({ "bills": bills }).to_string()).unwrap();
    run_checker(&["--rust-output", out.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[cfg(feature = "sandbox")]
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
