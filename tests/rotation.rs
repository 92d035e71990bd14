//! Rotations in production (issue 11): WeChat Pay issues a new platform certificate or public
//! key while refunds are flowing. Through the sandbox over real sockets.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxKeyMode, SandboxOptions};
use wechatpay_refund::*;

fn sandbox(mode: SandboxKeyMode) -> Arc<Sandbox> {
    let sb = Sandbox::start_with(SandboxOptions {
        mode: Some(mode),
        ..Default::default()
    })
    .unwrap();
    sb.create_order("T20261124001".into(), 1_000_000).unwrap();
    sb
}

fn downloads(sb: &Sandbox) -> usize {
    sb.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.url.starts_with("/v3/certificates"))
        .count()
}

fn refund(n: usize) -> CreateRefundRequest {
    CreateRefundRequest::by_out_trade_no("T20261124001", format!("R-rot-{n}"), 1, 1_000_000)
}

#[test]
fn the_sandbox_lists_and_signs_with_the_new_certificate() {
    let sb = sandbox(SandboxKeyMode::Certificate);
    let old = sb.credentials().platform_certificate_serial_no.unwrap();
    let new = sb.rotate_platform_certificate().unwrap();
    assert_ne!(old, new);
    assert_eq!(
        sb.credentials().platform_certificate_serial_no,
        Some(new.clone())
    );
    let config = Arc::new(
        common::sandbox_merchant(&sb)
            .download_platform_certificates(true)
            .build()
            .unwrap(),
    );
    let client = RefundClient::new(config.clone()).unwrap();
    client.create_refund(refund(1)).unwrap();
    let mut serials: Vec<_> = config
        .platform_certificates()
        .into_iter()
        .map(|c| c.serial_no)
        .collect();
    serials.sort();
    let mut want = vec![old.clone(), new.clone()];
    want.sort();
    assert_eq!(serials, want);
    // Realistic validity: from yesterday, for five years.
    let c = &config.platform_certificates()[0];
    assert!(c.not_after - c.not_before > 4 * 365 * 86_400);
    // The newest cannot be expired; the old one can, and disappears from the listing.
    assert!(sb.expire_platform_certificate(new.clone()).is_err());
    sb.expire_platform_certificate(old.clone()).unwrap();
    let fresh = Arc::new(
        common::sandbox_merchant(&sb)
            .download_platform_certificates(true)
            .build()
            .unwrap(),
    );
    RefundClient::new(fresh.clone())
        .unwrap()
        .query_refund("R-rot-1".into(), None)
        .unwrap();
    let serials: Vec<_> = fresh
        .platform_certificates()
        .into_iter()
        .map(|c| c.serial_no)
        .collect();
    assert_eq!(serials, [new]);
}

#[test]
fn the_contract_rotate_then_query() {
    // issue 11's contract, in Rust: the first call downloads, the rotation is met by a refresh.
    let sb = sandbox(SandboxKeyMode::Certificate);
    let config = Arc::new(
        common::sandbox_merchant(&sb)
            .download_platform_certificates(true)
            .build()
            .unwrap(),
    );
    let client = RefundClient::new(config.clone()).unwrap();
    client.create_refund(refund(1)).unwrap();
    let new = sb.rotate_platform_certificate().unwrap();
    let r = client.query_refund("R-rot-1".into(), None).unwrap();
    assert_eq!(r.out_refund_no, "R-rot-1");
    assert!(config
        .platform_certificates()
        .iter()
        .any(|c| c.serial_no == new));
    assert_eq!(downloads(&sb), 2);
    // Notifications signed with the new certificate verify without another download.
    sb.set_refund_status("R-rot-1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-rot-1".into()).unwrap();
    assert_eq!(n.headers["Wechatpay-Serial"], new);
    client.parse_notification(n.headers, n.body).unwrap();
    assert_eq!(downloads(&sb), 2);
}

#[test]
fn threads_meeting_a_new_serial_cause_one_download() {
    let sb = sandbox(SandboxKeyMode::Certificate);
    let config = Arc::new(
        common::sandbox_merchant(&sb)
            .download_platform_certificates(true)
            .build()
            .unwrap(),
    );
    RefundClient::new(config.clone())
        .unwrap()
        .create_refund(refund(0))
        .unwrap();
    sb.rotate_platform_certificate().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let client = RefundClient::new(config.clone()).unwrap();
            std::thread::spawn(move || client.create_refund(refund(100 + i)))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(downloads(&sb), 2);
}

#[test]
fn a_soak_through_rotations_has_no_failed_call() {
    let sb = sandbox(SandboxKeyMode::Certificate);
    let config = Arc::new(
        common::sandbox_merchant(&sb)
            .download_platform_certificates(true)
            .build()
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (config, stop, calls, sb) =
                (config.clone(), stop.clone(), calls.clone(), sb.clone());
            std::thread::spawn(move || {
                let client = RefundClient::new(config).unwrap();
                let mut n = 0;
                // Bounded: at most 400 calls per worker.
                while !stop.load(Ordering::SeqCst) && n < 400 {
                    let no = w * 1000 + n;
                    // One order per refund: the sandbox keeps WeChat Pay's 50-refunds limit.
                    let order = format!("T-rot-{no}");
                    sb.create_order(order.clone(), 100).unwrap();
                    client
                        .create_refund(CreateRefundRequest::by_out_trade_no(
                            order,
                            format!("R-rot-{no}"),
                            1,
                            100,
                        ))
                        .unwrap();
                    client.query_refund(format!("R-rot-{no}"), None).unwrap();
                    calls.fetch_add(2, Ordering::SeqCst);
                    n += 1;
                }
            })
        })
        .collect();
    let wait_calls = |at_least: usize| {
        for _ in 0..600 {
            if calls.load(Ordering::SeqCst) >= at_least {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_calls(40);
    let old = sb.credentials().platform_certificate_serial_no.unwrap();
    let new = sb.rotate_platform_certificate().unwrap();
    wait_calls(calls.load(Ordering::SeqCst) + 40);
    sb.expire_platform_certificate(old).unwrap();
    wait_calls(calls.load(Ordering::SeqCst) + 40);
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("a call failed during the rotation");
    }
    assert!(config
        .platform_certificates()
        .iter()
        .any(|c| c.serial_no == new));
    // First use, then the rotation: never a flood.
    assert!(downloads(&sb) <= 3, "{} downloads", downloads(&sb));
}

#[test]
fn a_public_key_rotation_without_downtime() {
    let sb = sandbox(SandboxKeyMode::PublicKey);
    let config = Arc::new(common::sandbox_builder(&sb).build().unwrap());
    let client = RefundClient::new(config.clone()).unwrap();
    client.create_refund(refund(1)).unwrap();
    let old = sb.credentials().wechatpay_public_key_id.unwrap();
    let new = sb.rotate_wechatpay_public_key().unwrap();
    // The merchant adds the new key at run time (from the merchant platform)…
    let c = sb.credentials();
    assert_eq!(c.wechatpay_public_key_id.as_deref(), Some(new.as_str()));
    config
        .add_wechatpay_public_key(new.clone(), c.wechatpay_public_key_pem.unwrap())
        .unwrap();
    client.query_refund("R-rot-1".into(), None).unwrap();
    // …the abnormal-refund fields are now encrypted for the new key…
    let mut abnormal = AbnormalRefundRequest::to_merchant_bank_card("x", "R-rot-1");
    abnormal.kind = AbnormalRefundKind::UserBankCard;
    abnormal.bank_type = Some("ICBC_DEBIT".into());
    abnormal.bank_account = Some("6212262000000000000".into());
    abnormal.real_name = Some("张三".into());
    let req = build_apply_abnormal_refund_request(
        config.clone(),
        abnormal,
        1_795_000_000,
        "N0NCE0123456789ABCDEFGHIJKLMNOPQ".into(),
    )
    .unwrap();
    assert_eq!(req.header("Wechatpay-Serial"), Some(new.as_str()));
    // …and retires the old one once WeChat Pay has.
    sb.expire_wechatpay_public_key(old.clone()).unwrap();
    config.remove_wechatpay_key(old).unwrap();
    client.query_refund("R-rot-1".into(), None).unwrap();
    assert_eq!(config.wechatpay_key_ids(), [new]);
}

/// Issue 23.1: in whatever order the merchant lists WeChat Pay's public keys, once WeChat Pay
/// has signed an answer with one of them, sensitive fields are encrypted for that key (the key
/// WeChat Pay uses) — a `[new, old]` list no longer encrypts with the old key.
#[test]
fn abnormal_refunds_encrypt_with_the_key_wechat_pay_signs_with_whatever_the_order() {
    let sb = sandbox(SandboxKeyMode::PublicKey);
    let c = sb.credentials();
    let (old, old_pem) = (
        c.wechatpay_public_key_id.unwrap(),
        c.wechatpay_public_key_pem.unwrap(),
    );
    let new = sb.rotate_wechatpay_public_key().unwrap();
    let new_pem = sb.credentials().wechatpay_public_key_pem.unwrap();
    // Listed new first, as a merchant adding the new key at the top naturally does.
    let config = Arc::new(
        common::sandbox_merchant(&sb)
            .wechatpay_public_key(new.clone(), new_pem)
            .wechatpay_public_key(old.clone(), old_pem)
            .build()
            .unwrap(),
    );
    let serial_of_abnormal = || {
        let mut a = AbnormalRefundRequest::to_merchant_bank_card("x", "R-rot-1");
        a.kind = AbnormalRefundKind::UserBankCard;
        a.bank_type = Some("ICBC_DEBIT".into());
        a.bank_account = Some("6212262000000000000".into());
        a.real_name = Some("张三".into());
        let req = build_apply_abnormal_refund_request(
            config.clone(),
            a,
            1_795_000_000,
            "N0NCE0123456789ABCDEFGHIJKLMNOPQ".into(),
        )
        .unwrap();
        req.header("Wechatpay-Serial").map(str::to_owned)
    };
    // Before any answer: the documented rule, the key given last.
    assert_eq!(serial_of_abnormal().as_deref(), Some(old.as_str()));
    // WeChat Pay (the sandbox) signs with the new key: from the first answer on, the new key
    // encrypts, although it was listed first.
    let client = RefundClient::new(config.clone()).unwrap();
    let r = client.create_refund(refund(7)).unwrap();
    assert_eq!(serial_of_abnormal().as_deref(), Some(new.as_str()));
    // WeChat Pay retires the old key: the abnormal refund still goes through.
    sb.expire_wechatpay_public_key(old).unwrap();
    sb.set_refund_status(r.out_refund_no.clone(), RefundStatus::Abnormal)
        .unwrap();
    let mut a = AbnormalRefundRequest::to_merchant_bank_card(&r.refund_id, &r.out_refund_no);
    a.kind = AbnormalRefundKind::UserBankCard;
    a.bank_type = Some("ICBC_DEBIT".into());
    a.bank_account = Some("6212262000000000000".into());
    a.real_name = Some("张三".into());
    client.apply_abnormal_refund(a).unwrap();
}
