//! The daily trade bill end to end: the real client downloads bills from the real sandbox
//! through loopback sockets — plain and GZIP, the digest checked while the bytes stream, a
//! corrupted file refused with nothing parsed, WeChat Pay's "no bill" answers typed.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

use serde_json::{json, Value};
use std::sync::Arc;
use wechatpay_refund::bill::{self, open_bill_file, BillType, TradeBillRequest};
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::*;

/// China-time `YYYY-MM-DD` of a Unix time.
fn cst_date(unix: i64) -> String {
    let z = (unix + 8 * 3600).div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn control(sb: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    let t = UreqTransport::new(Default::default());
    let resp = t
        .send(HttpRequest {
            method: "POST".into(),
            url: format!("{}{path}", sb.base_url()),
            headers: vec![HttpHeader::new("Content-Type", "application/json")],
            body: body.to_string().into_bytes(),
            timeout_ms: None,
        })
        .unwrap();
    (
        resp.status,
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null),
    )
}

/// A sandbox with two paid orders and two refunds made "yesterday" (one SUCCESS, one still
/// PROCESSING), the sandbox clock moved a day on; returns the client and that day.
fn yesterday_with_refunds() -> (Arc<Sandbox>, Arc<RefundClient>, String) {
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let day = cst_date(sb.clock());
    sb.create_order("T20261201001".into(), 10_000).unwrap();
    sb.create_order("T20261201002".into(), 2_999).unwrap();
    for (order, no, refund, total) in [
        ("T20261201001", "R20261201001", 2_999, 10_000),
        ("T20261201002", "R20261201002", 29, 2_999),
    ] {
        client
            .create_refund(CreateRefundRequest::by_out_trade_no(
                order, no, refund, total,
            ))
            .unwrap();
    }
    sb.set_refund_status("R20261201001".into(), RefundStatus::Success)
        .unwrap();
    // Refunds made just before midnight China time would land on the next day's bill: the
    // day is read before they are made, and checked again after.
    assert_eq!(cst_date(sb.clock()), day, "midnight passed during the test");
    sb.advance_clock(86_400);
    (sb, client, day)
}

#[test]
fn yesterdays_bill_lists_the_payments_and_refunds_with_exact_fen() {
    let (_sb, client, day) = yesterday_with_refunds();
    let bill = client.download_bill(TradeBillRequest::new(&day)).unwrap();
    assert_eq!(bill.columns.len(), 27);
    assert_eq!(bill.rows.len(), 4);
    let refunds: Vec<_> = bill.refunds().collect();
    assert_eq!(refunds.len(), 2);
    let r1 = refunds
        .iter()
        .find(|r| r.out_refund_no == "R20261201001")
        .unwrap();
    assert_eq!(r1.refund_fen, Some(2_999));
    assert_eq!(r1.refund_status, Some(RefundStatus::Success));
    assert_eq!(r1.out_trade_no, "T20261201001");
    assert!(r1.refund_id.starts_with("5030"));
    let r2 = refunds
        .iter()
        .find(|r| r.out_refund_no == "R20261201002")
        .unwrap();
    // 0.29 yuan is 28.999… as a float: exact decimal conversion gives 29 fen.
    assert_eq!(r2.refund_fen, Some(29));
    assert_eq!(r2.refund_status, Some(RefundStatus::Processing));
    let payments: Vec<_> = bill.rows.iter().filter(|r| !r.is_refund()).collect();
    assert_eq!(payments.len(), 2);
    assert!(payments.iter().all(|p| p.refund_status.is_none()));
    let s = bill.summary.unwrap();
    assert_eq!(s.total_count, Some(4));
    assert_eq!(s.refund_total_fen, Some(3_028));
    assert_eq!(s.settlement_total_fen, Some(12_999));
    // Every row of the bill is from that day, China time.
    assert!(bill.rows.iter().all(|r| r.trade_time.starts_with(&day)));
}

#[test]
fn a_gzip_bill_is_checked_over_its_compressed_bytes_and_parses_the_same() {
    let (_sb, client, day) = yesterday_with_refunds();
    let dir = std::env::temp_dir().join(format!("wechatpay-bill-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain_path = dir.join("plain.csv").to_string_lossy().into_owned();
    let gz_path = dir.join("bill.csv.gz").to_string_lossy().into_owned();
    let plain = client
        .download_bill_to(TradeBillRequest::new(&day), plain_path.clone())
        .unwrap();
    let gz = client
        .download_bill_to(
            TradeBillRequest {
                gzip: true,
                ..TradeBillRequest::new(&day)
            },
            gz_path.clone(),
        )
        .unwrap();
    assert!(!plain.gzip && gz.gzip);
    // The query as WeChat Pay documents it, signed exactly as sent (the sandbox checked it).
    let urls: Vec<String> = _sb.requests().into_iter().map(|r| r.url).collect();
    assert!(urls.contains(&format!(
        "/v3/bill/tradebill?bill_date={day}&bill_type=ALL&tar_type=GZIP"
    )));
    assert!(urls
        .iter()
        .any(|u| u.starts_with("/v3/billdownload/file?token=")));
    let bytes = std::fs::read(&gz_path).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    assert_eq!(bytes.len() as u64, gz.bytes);
    let mut h = wechatpay_refund::crypto::Sha1::new();
    h.update(&bytes);
    assert_eq!(h.finish_hex(), gz.sha1);
    let rows = |p: &str| {
        open_bill_file(p)
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap()
    };
    assert_eq!(rows(&plain_path), rows(&gz_path));
    assert_eq!(rows(&gz_path).len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bill_types_select_rows_and_columns() {
    let (_sb, client, day) = yesterday_with_refunds();
    let refund_only = client
        .download_bill(TradeBillRequest {
            bill_type: BillType::Refund,
            ..TradeBillRequest::new(&day)
        })
        .unwrap();
    assert_eq!(refund_only.rows.len(), 2);
    assert!(refund_only.rows.iter().all(|r| r.is_refund()));
    assert!(refund_only.columns.iter().any(|c| c == "退款申请时间"));
    let r1 = refund_only
        .rows
        .iter()
        .find(|r| r.out_refund_no == "R20261201001")
        .unwrap();
    assert!(r1.refund_success_time.starts_with(&day));
    let paid = client
        .download_bill(TradeBillRequest {
            bill_type: BillType::Success,
            ..TradeBillRequest::new(&day)
        })
        .unwrap();
    assert_eq!(paid.rows.len(), 2);
    assert!(!paid.columns.iter().any(|c| c == "退款金额"));
    assert_eq!(
        paid.rows.iter().map(|r| r.total_fen.unwrap()).sum::<i64>(),
        12_999
    );
}

#[test]
fn a_corrupted_bill_is_refused_and_nothing_is_left_or_parsed() {
    let (sb, client, day) = yesterday_with_refunds();
    let dir = std::env::temp_dir().join(format!("wechatpay-bill-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bill.csv").to_string_lossy().into_owned();
    for gzip in [false, true] {
        // Through the control API, as any SDK's tests would.
        let (status, v) = control(&sb, "/sandbox/v1/faults", json!({"fault": "CORRUPT_BILL"}));
        assert_eq!((status, v["injected"].clone()), (201, json!(1)));
        let req = TradeBillRequest {
            gzip,
            ..TradeBillRequest::new(&day)
        };
        let e = client
            .download_bill_to(req.clone(), path.clone())
            .unwrap_err();
        match &e {
            RefundError::Signature { reason, .. } => {
                assert!(reason.starts_with("bill digest mismatch"), "{reason}")
            }
            other => panic!("expected a digest mismatch, got {other:?}"),
        }
        assert!(!std::path::Path::new(&path).exists());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "no partial file left"
        );
        let mut rows = 0;
        sb.corrupt_next_bills(1);
        let e = client.for_each_bill_row(req.clone(), |_| {
            rows += 1;
            Ok(())
        });
        assert!(matches!(e, Err(RefundError::Signature { .. })));
        assert_eq!(rows, 0, "nothing parsed from a file that failed its digest");
        // The fault is used up: the next download is whole.
        assert_eq!(client.download_bill(req.clone()).unwrap().rows.len(), 4);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_bill_yet_no_bill_at_all_and_bad_dates_are_typed() {
    let sb = Sandbox::start().unwrap();
    let client = RefundClient::new(sb.client_config().unwrap()).unwrap();
    let now = sb.clock();
    let e = client
        .trade_bill(TradeBillRequest::new(cst_date(now)))
        .unwrap_err();
    assert!(bill::is_statement_not_ready(&e), "{e}");
    assert!(!e.is_retryable());
    for date in [cst_date(now - 2 * 86_400), cst_date(now + 86_400)] {
        let e = client.trade_bill(TradeBillRequest::new(date)).unwrap_err();
        assert!(bill::is_no_statement(&e), "{e}");
        assert!(matches!(&e, RefundError::Api { status: 400, .. }));
    }
    let before = sb.requests().len();
    for date in ["2026-02-30", "yesterday", "2026/12/01"] {
        let e = client.trade_bill(TradeBillRequest::new(date)).unwrap_err();
        assert!(
            matches!(&e, RefundError::InvalidInput { field, .. } if field == "bill_date"),
            "{e}"
        );
    }
    assert_eq!(sb.requests().len(), before, "a bad date sends nothing");
}

#[test]
fn a_foreign_transport_returns_whole_bodies_and_the_digest_still_holds() {
    let (sb, _client, day) = yesterday_with_refunds();
    // The seam as a foreign transport implements it: whole bodies (the sandbox's files are
    // small; the cap is the transport's own).
    let transport = Arc::new(UreqTransport::new(Default::default()));
    let client = RefundClient::with_transport(sb.client_config().unwrap(), transport);
    let req = TradeBillRequest {
        gzip: true,
        ..TradeBillRequest::new(&day)
    };
    assert_eq!(client.download_bill(req.clone()).unwrap().rows.len(), 4);
    sb.corrupt_next_bills(1);
    assert!(matches!(
        client.download_bill(req.clone()),
        Err(RefundError::Signature { .. })
    ));
}

#[test]
fn the_file_answer_is_unsigned_and_its_request_is_signed() {
    let (sb, client, day) = yesterday_with_refunds();
    let info = client.trade_bill(TradeBillRequest::new(&day)).unwrap();
    assert_eq!(info.hash_type, "SHA1");
    assert!(info.download_url.starts_with(&sb.base_url()));
    let t = UreqTransport::new(Default::default());
    // Unsigned request: refused.
    let resp = t
        .send(HttpRequest {
            method: "GET".into(),
            url: info.download_url.clone(),
            headers: vec![HttpHeader::new("User-Agent", "test")],
            body: vec![],
            timeout_ms: None,
        })
        .unwrap();
    assert_eq!(resp.status, 401);
    // Signed: the bytes, with no Wechatpay-Signature (verifying it would fail: the digest is
    // the check).
    let req = bill::build_bill_file_request(
        sb.client_config().unwrap().as_ref(),
        &info.download_url,
        SystemClock.now_unix(),
        "0123456789ABCDEF0123456789ABCDEF",
    )
    .unwrap();
    let resp = t.send(req).unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.header("Wechatpay-Signature").is_none());
    let mut h = wechatpay_refund::crypto::Sha1::new();
    h.update(&resp.body);
    assert_eq!(h.finish_hex(), info.hash_value);
    // A download URL elsewhere on plain http is refused before anything is signed.
    let e = bill::build_bill_file_request(
        sb.client_config().unwrap().as_ref(),
        "http://203.0.113.9/v3/billdownload/file?token=x",
        SystemClock.now_unix(),
        "0123456789ABCDEF0123456789ABCDEF",
    )
    .unwrap_err();
    assert!(matches!(e, RefundError::InvalidInput { .. }));
}
