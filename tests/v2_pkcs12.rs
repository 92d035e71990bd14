//! The v2 client certificate as PKCS#12 (`apiclient_cert.p12`), written by an independent
//! implementation (Python `cryptography`, and `openssl pkcs12 -legacy` for RC2-40 when the
//! machine's OpenSSL has the legacy provider), used for a real mutual-TLS refund.
#![cfg(feature = "sandbox")]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use wechatpay_refund::sandbox::Sandbox;
use wechatpay_refund::v2::*;
use wechatpay_refund::RefundError;

fn python() -> String {
    std::env::var("WECHATPAY_REFUND_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "wechatpay-refund-p12-{}-{name}",
        std::process::id()
    ))
}

#[test]
fn pkcs12_files_give_a_working_client_certificate() {
    let sandbox = Sandbox::start().unwrap();
    let c = sandbox.v2_credentials().unwrap();
    let base = sandbox.v2_config().unwrap();
    let (cert, key) = (tmp("cert.pem"), tmp("key.pem"));
    std::fs::write(&cert, &c.client_cert_pem).unwrap();
    std::fs::write(&key, &c.client_key_pem).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/make_p12.py");
    let mut files = Vec::new();
    for (kind, password) in [("legacy", c.mch_id.as_str()), ("modern", "s3cret-pw")] {
        let out = tmp(&format!("{kind}.p12"));
        let st = Command::new(python())
            .arg(&script)
            .args([
                cert.to_str().unwrap(),
                key.to_str().unwrap(),
                password,
                out.to_str().unwrap(),
                kind,
            ])
            .status()
            .expect("python3 with cryptography is needed (set WECHATPAY_REFUND_PYTHON)");
        assert!(st.success(), "make_p12.py {kind} failed");
        files.push((
            kind.to_string(),
            std::fs::read(&out).unwrap(),
            password.to_string(),
        ));
        let _ = std::fs::remove_file(out);
    }
    // RC2-40 (OpenSSL 1.x defaults, older apiclient_cert.p12 files), when openssl can write it.
    let rc2 = tmp("rc2.p12");
    let made = Command::new("openssl")
        .args([
            "pkcs12",
            "-export",
            "-legacy",
            "-in",
            cert.to_str().unwrap(),
            "-inkey",
            key.to_str().unwrap(),
        ])
        .args([
            "-passout",
            &format!("pass:{}", c.mch_id),
            "-out",
            rc2.to_str().unwrap(),
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if made {
        files.push((
            "openssl -legacy (RC2-40)".into(),
            std::fs::read(&rc2).unwrap(),
            c.mch_id.clone(),
        ));
    } else {
        eprintln!("note: openssl cannot write a legacy PKCS#12 here; RC2-40 case skipped");
    }
    let _ = (
        std::fs::remove_file(&cert),
        std::fs::remove_file(&key),
        std::fs::remove_file(&rc2),
    );
    sandbox.create_order("T-P12".into(), 1000).unwrap();
    for (i, (kind, der, password)) in files.iter().enumerate() {
        // The password defaults to the merchant id.
        let pw = (password != &c.mch_id).then(|| password.clone());
        let cfg = V2Config::builder(c.appid.clone(), c.mch_id.clone(), c.api_key.clone())
            .client_certificate_pkcs12(der.clone(), pw)
            .base_url(c.base_url.clone())
            .options(base.options.clone())
            .build()
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        let r = V2RefundClient::new(Arc::new(cfg))
            .unwrap()
            .refund(V2RefundRequest::by_out_trade_no(
                "T-P12",
                format!("R-P12-{i}"),
                1,
                1000,
            ))
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(r.refund_fee, 1);
        // A wrong password is a configuration error that says so.
        let e = V2Config::builder(c.appid.clone(), c.mch_id.clone(), c.api_key.clone())
            .client_certificate_pkcs12(der.clone(), Some("wrong".into()))
            .build()
            .unwrap_err();
        assert!(
            matches!(&e, RefundError::Config { reason } if reason.contains("PKCS#12") && reason.contains("password")),
            "{kind}: {e:?}"
        );
        assert!(!format!("{e:?}").contains(&c.client_key_pem[40..80]));
    }
    let e = V2Config::builder(c.appid.clone(), c.mch_id.clone(), c.api_key.clone())
        .client_certificate_pkcs12(b"not a p12".to_vec(), None)
        .build()
        .unwrap_err();
    assert!(matches!(e, RefundError::Config { .. }));
}
