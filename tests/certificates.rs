//! Platform certificates in production (issue 11): download on first need, verified downloads,
//! single-flight and rate-limited refreshes, expired certificates, run-time key changes.
//! Through the sandbox over real sockets; the only stand-ins sit below the transport seam.
#![cfg(feature = "sandbox")]
#![allow(clippy::result_large_err)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wechatpay_refund::sandbox::{Sandbox, SandboxKeyMode, SandboxOptions};
use wechatpay_refund::*;

fn cert_sandbox() -> Arc<Sandbox> {
    Sandbox::start_with(SandboxOptions {
        mode: Some(SandboxKeyMode::Certificate),
        ..Default::default()
    })
    .unwrap()
}

/// A configuration with the sandbox's merchant credentials and NO WeChat Pay key: automatic
/// download only.
fn auto_builder(sb: &Sandbox) -> ClientConfigBuilder {
    common::sandbox_merchant(sb).download_platform_certificates(true)
}

fn downloads(sb: &Sandbox) -> usize {
    sb.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.url.starts_with("/v3/certificates"))
        .count()
}

fn refund(n: usize) -> CreateRefundRequest {
    CreateRefundRequest::by_out_trade_no("T20261124001", format!("R-cert-{n}"), 1, 10_000)
}

#[test]
fn no_key_material_and_download_off_is_a_config_error() {
    let sb = cert_sandbox();
    let e = auto_builder(&sb)
        .download_platform_certificates(false)
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, RefundError::Config { reason } if reason.contains("download_platform_certificates")),
        "{e}"
    );
}

#[test]
fn first_call_downloads_then_works() {
    let sb = cert_sandbox();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let config = Arc::new(auto_builder(&sb).build().unwrap());
    assert!(config.platform_certificates().is_empty());
    let client = RefundClient::new(config.clone()).unwrap();
    let r = client.create_refund(refund(1)).unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(downloads(&sb), 1);
    let certs = config.platform_certificates();
    let serial = sb.credentials().platform_certificate_serial_no.unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].serial_no, serial);
    assert!(certs[0].not_before < certs[0].not_after);
    // Later calls and other clients of the same configuration reuse the store.
    let other = RefundClient::new(config.clone()).unwrap();
    other.query_refund("R-cert-1".into(), None).unwrap();
    client.query_refund("R-cert-1".into(), None).unwrap();
    assert_eq!(downloads(&sb), 1);
    // Notifications too.
    sb.set_refund_status("R-cert-1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-cert-1".into()).unwrap();
    let note = client.parse_notification(n.headers, n.body).unwrap();
    assert_eq!(note.refund_status, RefundStatus::Success);
    assert_eq!(downloads(&sb), 1);
}

#[test]
fn concurrent_first_use_downloads_once() {
    let sb = cert_sandbox();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let config = Arc::new(auto_builder(&sb).build().unwrap());
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let client = RefundClient::new(config.clone()).unwrap();
            std::thread::spawn(move || client.create_refund(refund(100 + i)))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(downloads(&sb), 1);
}

#[test]
fn forged_serials_cannot_flood_the_certificate_endpoint() {
    let sb = cert_sandbox();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let config = Arc::new(auto_builder(&sb).build().unwrap());
    let client = RefundClient::new(config.clone()).unwrap();
    client.create_refund(refund(1)).unwrap();
    sb.set_refund_status("R-cert-1".into(), RefundStatus::Success)
        .unwrap();
    let n = sb.notification("R-cert-1".into()).unwrap();
    // Anyone can POST to a notify URL: 200 notifications naming serials nobody has.
    let started = std::time::Instant::now();
    let mut refused = 0;
    for i in 0..200u32 {
        let mut headers = n.headers.clone();
        headers.insert("Wechatpay-Serial".into(), format!("7{i:039X}"));
        match client.parse_notification(headers, n.body.clone()) {
            Err(RefundError::UnknownSerial { .. }) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(refused, 200);
    // At most one download per 5 s (the first-use one included); a notification never waits
    // for the window, it is refused.
    let windows = started.elapsed().as_secs() / 5 + 1;
    assert!(
        downloads(&sb) as u64 <= 1 + windows,
        "{} downloads",
        downloads(&sb)
    );
    // The genuine notification still verifies.
    client.parse_notification(n.headers, n.body).unwrap();
}

/// Below the transport seam: flips one byte of every `/v3/certificates` answer.
struct TamperDownloads {
    inner: UreqTransport,
    tampered: AtomicUsize,
}

impl HttpTransport for TamperDownloads {
    fn send(&self, request: HttpRequest) -> wechatpay_refund::Result<HttpResponse> {
        let is_download = request.url.contains("/v3/certificates");
        let mut resp = self.inner.send(request)?;
        if is_download {
            let at = resp.body.len() / 2;
            resp.body[at] ^= 0x01;
            self.tampered.fetch_add(1, Ordering::SeqCst);
        }
        Ok(resp)
    }
}

#[test]
fn a_tampered_download_changes_nothing() {
    let sb = cert_sandbox();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let config = Arc::new(auto_builder(&sb).build().unwrap());
    let transport = Arc::new(TamperDownloads {
        inner: UreqTransport::new(Default::default()),
        tampered: AtomicUsize::new(0),
    });
    let client = RefundClient::with_transport(config.clone(), transport.clone());
    let e = client.create_refund(refund(1)).unwrap_err();
    assert!(
        matches!(
            e,
            RefundError::Signature { .. }
                | RefundError::Certificate { .. }
                | RefundError::Decode { .. }
        ),
        "{e:?}"
    );
    assert_eq!(transport.tampered.load(Ordering::SeqCst), 1);
    assert!(config.platform_certificates().is_empty());
    // Nothing was sent for the refund itself: the download failed first.
    assert_eq!(sb.refund_count("T20261124001".into()), 0);
    // A second call within 5 s does not download again: it reports the failed download.
    let e = client.create_refund(refund(2)).unwrap_err();
    assert!(
        matches!(&e, RefundError::Certificate { reason, .. } if reason.contains("failed")),
        "{e:?}"
    );
    assert_eq!(transport.tampered.load(Ordering::SeqCst), 1);
}

#[test]
fn an_expired_certificate_never_verifies() {
    let k = common::keys();
    let cert_pem = common::s(&k["platform"]["certificate_pem"]);
    let key = crypto::RsaPrivateKey::from_pem(&common::s(&k["platform"]["private_key_pkcs8_pem"]))
        .unwrap();
    let config = Arc::new(
        common::builder()
            .options(common::trusting_test_platform())
            .platform_certificate(cert_pem)
            .build()
            .unwrap(),
    );
    let serial = config.platform_certificates()[0].clone();
    // The test certificate is valid 2025-01-01 .. 2035-01-01.
    assert_eq!(serial.not_after, 2_051_222_400);
    let sign_at = |ts: i64| {
        use base64::Engine;
        let body = b"{}";
        let msg = verify::response_message(&ts.to_string(), "N", body);
        let sig = base64::engine::general_purpose::STANDARD.encode(key.sign_sha256(&msg).unwrap());
        vec![
            HttpHeader::new("Wechatpay-Timestamp", ts.to_string()),
            HttpHeader::new("Wechatpay-Nonce", "N"),
            HttpHeader::new("Wechatpay-Signature", sig),
            HttpHeader::new("Wechatpay-Serial", serial.serial_no.clone()),
        ]
    };
    let inside = 2_000_000_000;
    verify_wechatpay_signature(config.clone(), sign_at(inside), b"{}".to_vec(), inside).unwrap();
    // Expired: no grace. Not yet valid: a few minutes of grace for clock skew, then refused.
    for ts in [
        serial.not_after + 1,
        serial.not_before - verify::CLOCK_SKEW_TOLERANCE_SECS - 1,
    ] {
        let e = verify_wechatpay_signature(config.clone(), sign_at(ts), b"{}".to_vec(), ts)
            .unwrap_err();
        assert!(
            matches!(&e, RefundError::Certificate { serial: s, .. } if *s == serial.serial_no),
            "{e:?}"
        );
        assert!(e.is_outcome_unknown());
    }
    // An expired certificate is not used to encrypt either.
    let req = AbnormalRefundRequest::to_merchant_bank_card("50000000382019052709732678859", "R1");
    let mut user = req.clone();
    user.kind = AbnormalRefundKind::UserBankCard;
    user.bank_type = Some("ICBC_DEBIT".into());
    user.bank_account = Some("6212262000000000000".into());
    user.real_name = Some("张三".into());
    let cert_only = Arc::new(
        ClientConfig::builder(
            common::s(&k["mchid"]),
            common::s(&k["merchant"]["serial_no"]),
            common::s(&k["merchant"]["private_key_pkcs8_pem"]),
            common::s(&k["api_v3_key"]),
        )
        .options(common::trusting_test_platform())
        .platform_certificate(common::s(&k["platform"]["certificate_pem"]))
        .build()
        .unwrap(),
    );
    let ok = build_apply_abnormal_refund_request(
        cert_only.clone(),
        user.clone(),
        inside,
        "N0NCE0123456789ABCDEFGHIJKLMNOPQ".into(),
    )
    .unwrap();
    assert_eq!(
        ok.header("Wechatpay-Serial"),
        Some(serial.serial_no.as_str())
    );
    let e = build_apply_abnormal_refund_request(
        cert_only,
        user,
        serial.not_after + 10,
        "N0NCE0123456789ABCDEFGHIJKLMNOPQ".into(),
    )
    .unwrap_err();
    assert!(matches!(e, RefundError::Config { .. }), "{e:?}");
}

#[test]
fn public_keys_are_added_and_removed_at_run_time() {
    let sb = Sandbox::start().unwrap();
    sb.create_order("T20261124001".into(), 10_000).unwrap();
    let c = sb.credentials();
    let k = common::keys();
    let other_id = common::s(&k["wechatpay_public_key"]["id"]);
    let other_pem = common::s(&k["wechatpay_public_key"]["public_key_pem"]);
    // Two keys from the start: the sandbox's and another one (listed first).
    let config = ClientConfig::new(
        c.mchid.clone(),
        c.merchant_serial_no.clone(),
        c.merchant_private_key_pem.clone(),
        c.api_v3_key.clone(),
        None,
        None,
        vec![
            WechatpayPublicKey {
                id: other_id.clone(),
                pem: other_pem.clone(),
            },
            WechatpayPublicKey {
                id: c.wechatpay_public_key_id.clone().unwrap(),
                pem: c.wechatpay_public_key_pem.clone().unwrap(),
            },
        ],
        vec![],
        false,
        false,
        Some(c.base_url.clone()),
        None,
    )
    .unwrap();
    assert_eq!(config.wechatpay_key_ids().len(), 2);
    let client = RefundClient::new(config.clone()).unwrap();
    client.create_refund(refund(1)).unwrap();
    // Removing the sandbox's key: its signatures are no longer trusted.
    config
        .remove_wechatpay_key(c.wechatpay_public_key_id.clone().unwrap())
        .unwrap();
    let e = client.query_refund("R-cert-1".into(), None).unwrap_err();
    assert!(matches!(e, RefundError::UnknownSerial { .. }), "{e:?}");
    // Adding it back at run time: trusted again, by every client of the configuration.
    config
        .add_wechatpay_public_key(
            c.wechatpay_public_key_id.clone().unwrap(),
            c.wechatpay_public_key_pem.clone().unwrap(),
        )
        .unwrap();
    client.query_refund("R-cert-1".into(), None).unwrap();
    // The last key cannot be removed from a configuration that does not download.
    config.remove_wechatpay_key(other_id).unwrap();
    let e = config
        .remove_wechatpay_key(c.wechatpay_public_key_id.unwrap())
        .unwrap_err();
    assert!(matches!(e, RefundError::Config { .. }), "{e:?}");
    let e = config
        .remove_wechatpay_key("PUB_KEY_ID_0000NOPE".into())
        .unwrap_err();
    assert!(matches!(e, RefundError::Config { .. }), "{e:?}");
    let _ = HashMap::<String, String>::new();
}

/// A `/v3/certificates` answer listing `entries` (serial, PEM), signed at `ts` by `key` under
/// `serial`.
fn listing(
    entries: &[(&str, &str)],
    key: &crypto::RsaPrivateKey,
    serial: &str,
    ts: i64,
) -> HttpResponse {
    use base64::Engine;
    let api_v3_key = ApiV3Key::new(&common::s(&common::keys()["api_v3_key"])).unwrap();
    let data: Vec<_> = entries
        .iter()
        .map(|(serial, pem)| {
            let enc = notify::encrypt_resource(
                &api_v3_key,
                CryptoBackend::default(),
                pem.as_bytes(),
                "0123456789ab",
                Some("certificate"),
                "certificate",
            )
            .unwrap();
            serde_json::json!({"serial_no": serial, "effective_time": "2025-01-01T08:00:00+08:00",
                "expire_time": "2035-01-01T08:00:00+08:00", "encrypt_certificate": {
                "algorithm": enc.algorithm, "nonce": enc.nonce,
                "associated_data": enc.associated_data, "ciphertext": enc.ciphertext}})
        })
        .collect();
    let body = serde_json::json!({ "data": data }).to_string().into_bytes();
    let msg = verify::response_message(&ts.to_string(), "N", &body);
    let sig = base64::engine::general_purpose::STANDARD.encode(key.sign_sha256(&msg).unwrap());
    HttpResponse {
        status: 200,
        headers: vec![
            HttpHeader::new("Wechatpay-Timestamp", ts.to_string()),
            HttpHeader::new("Wechatpay-Nonce", "N"),
            HttpHeader::new("Wechatpay-Signature", sig),
            HttpHeader::new("Wechatpay-Serial", serial),
        ],
        body,
    }
}

#[test]
fn a_download_is_checked_before_it_is_believed() {
    let k = common::keys();
    let pem = common::s(&k["platform"]["certificate_pem"]);
    let serial = common::s(&k["platform"]["serial_no"]);
    let key = crypto::RsaPrivateKey::from_pem(&common::s(&k["platform"]["private_key_pkcs8_pem"]))
        .unwrap();
    let config = common::config();
    let none = KeyRing::new();
    let now = 1_795_000_000;
    // Genuine: signed by the certificate it lists.
    let ok = certificates::parse_download(
        &config,
        &none,
        &listing(&[(&serial, &pem)], &key, &serial, now),
        now,
    )
    .unwrap();
    assert_eq!(ok.certificates.len(), 1);
    assert_eq!(ok.certificates[0].certificate.serial_hex, serial);
    assert!(ok.dropped.is_empty());
    // The same genuine listing under WeChat Pay's own trust anchor (the Tenpay.com Root CA,
    // the default): the test certificate was not issued by it, so it is not believed.
    let default_anchors = Arc::new(common::builder().build().unwrap());
    let e = certificates::parse_download(
        &default_anchors,
        &none,
        &listing(&[(&serial, &pem)], &key, &serial, now),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(&e, RefundError::Certificate { reason, .. } if reason.contains("Tenpay.com Root CA")),
        "{e:?}"
    );
    let fail = |resp: HttpResponse, now: i64| {
        certificates::parse_download(&config, &none, &resp, now).unwrap_err()
    };
    // Listed under another serial than the certificate's own.
    let e = fail(
        listing(
            &[("5157F09EFDC096DE15EBE81A47057A72", &pem)],
            &key,
            &serial,
            now,
        ),
        now,
    );
    assert!(
        matches!(&e, RefundError::Certificate { reason, .. } if reason.contains("serial")),
        "{e:?}"
    );
    // Signed by a key that is neither in the download nor trusted (the merchant's key here).
    let stranger =
        crypto::RsaPrivateKey::from_pem(&common::s(&k["merchant"]["private_key_pkcs8_pem"]))
            .unwrap();
    let e = fail(listing(&[(&serial, &pem)], &stranger, &serial, now), now);
    assert!(matches!(e, RefundError::Signature { .. }), "{e:?}");
    // Signed under a serial that is not in the download and not trusted.
    let e = fail(listing(&[(&serial, &pem)], &key, "ABCDEF", now), now);
    assert!(matches!(e, RefundError::UnknownSerial { .. }), "{e:?}");
    // Not valid now (the test certificate ends 2035-01-01): left out, and with nothing
    // else listed the download fails naming it.
    let later = 2_051_222_400 + 10;
    let e = fail(listing(&[(&serial, &pem)], &key, &serial, later), later);
    assert!(
        matches!(&e, RefundError::Certificate { reason, .. } if reason.contains("not valid now") && reason.contains(&serial)),
        "{e:?}"
    );
    // Encrypted with another API v3 key: cannot be decrypted.
    let mut resp = listing(&[(&serial, &pem)], &key, &serial, now);
    let other_key = Arc::new(
        ClientConfig::builder(
            common::s(&k["mchid"]),
            common::s(&k["merchant"]["serial_no"]),
            common::s(&k["merchant"]["private_key_pkcs8_pem"]),
            "ffffffffffffffffffffffffffffffff",
        )
        .options(common::trusting_test_platform())
        .download_platform_certificates(true)
        .build()
        .unwrap(),
    );
    let e = certificates::parse_download(&other_key, &none, &resp, now).unwrap_err();
    assert!(
        matches!(&e, RefundError::Certificate { reason, .. } if reason.contains("decrypt")),
        "{e:?}"
    );
    // An empty listing.
    resp = listing(&[], &key, &serial, now);
    let mut trusted = KeyRing::new();
    trusted
        .add_certificate(&pem, CryptoBackend::default())
        .unwrap();
    let e = certificates::parse_download(&config, &trusted, &resp, now).unwrap_err();
    assert!(matches!(&e, RefundError::Certificate { .. }), "{e:?}");
}
