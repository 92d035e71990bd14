//! Platform certificates in certificate mode: download `GET /v3/certificates`, verify the
//! download, and keep the configuration's store current through rotations.
//!
//! Sans-IO: [`build_download_request`] and [`parse_download`] (decrypt each
//! `encrypt_certificate` with the API v3 key, parse the X.509, check serial and validity, and
//! verify the response's signature with a certificate of the download itself or one already
//! trusted). A download that fails any check changes nothing.
//!
//! The download policy and the trust anchors live in [`crate::trust`] (below the
//! configuration, which holds them), re-exported here.

use crate::config::ClientConfig;
use crate::crypto::Certificate;
use crate::error::{RefundError, Result};
use crate::notify::{decrypt_resource, EncryptedResource};
use crate::transport::{HttpRequest, HttpResponse};
pub use crate::trust::{
    Refresher, TrustAnchors, MIN_DOWNLOAD_INTERVAL, NEGATIVE_CACHE, REFRESH_AFTER_SECS,
    REFRESH_BEFORE_EXPIRY_SECS, TENPAY_ROOT_CA_PEM,
};
use crate::verify::{
    normalize_serial, verify_signature, KeyRing, SignatureHeaders, CLOCK_SKEW_TOLERANCE_SECS,
};
use serde::Deserialize;

/// The download path.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

/// A verified, decrypted platform certificate from a download.
#[derive(Debug)]
pub struct DownloadedCertificate {
    /// Its PEM.
    pub pem: String,
    /// Parsed (serial, key, validity).
    pub certificate: Certificate,
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<ListedCertificate>,
}

#[derive(Deserialize)]
struct ListedCertificate {
    serial_no: String,
    encrypt_certificate: EncryptedResource,
}

/// The signed `GET /v3/certificates` request.
pub fn build_download_request(
    config: &ClientConfig,
    timestamp: i64,
    nonce: &str,
) -> Result<HttpRequest> {
    crate::refund::request::build_signed_get(
        config,
        CERTIFICATES_PATH.to_string(),
        timestamp,
        nonce,
    )
}

/// A verified download: the certificates to trust, and the listed ones left out (serial and
/// why: outside its validity by the local clock).
#[derive(Debug)]
pub struct Download {
    /// Verified, decrypted and valid now.
    pub certificates: Vec<DownloadedCertificate>,
    /// Listed but left out: (serial, reason).
    pub dropped: Vec<(String, String)>,
}

/// Verify and decrypt a `/v3/certificates` response as of `now` (unix seconds).
///
/// Each entry is decrypted with the API v3 key (AEAD_AES_256_GCM, `associated_data` as given),
/// parsed, and must carry the serial it is listed under (any failure of these fails the whole
/// download: it points at tampering). An entry outside its validity by the local clock (with
/// [`CLOCK_SKEW_TOLERANCE_SECS`] of grace for a `not_before` in the future) is left out and
/// named in [`Download::dropped`]; when none is left, the download fails naming each. The
/// response must be signed by one of the kept certificates or by a key `trusted` already holds.
pub fn parse_download(
    config: &ClientConfig,
    trusted: &KeyRing,
    response: &HttpResponse,
    now: i64,
) -> Result<Download> {
    let pairs = response
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.value.as_str()));
    let headers = SignatureHeaders::from_pairs(pairs)?;
    let rid = headers.request_id.clone();
    let bad = |serial: &str, reason: String| RefundError::Certificate {
        serial: serial.to_string(),
        reason,
        request_id: rid.clone(),
    };
    if !(200..300).contains(&response.status) {
        // An error answer: the same rules as any call (verified when signed, then typed).
        crate::refund::response::verify_response(
            trusted,
            response,
            now,
            config.options.max_response_bytes,
        )?;
        return Err(bad("", format!("HTTP {}", response.status)));
    }
    if response.body.len() as u64 > config.options.max_response_bytes {
        return Err(bad("", "response too large".into()));
    }
    let listing: Listing = serde_json::from_slice(&response.body)
        .map_err(|e| RefundError::decode("certificate download", e.to_string(), rid.clone()))?;
    if listing.data.is_empty() {
        return Err(bad("", "the download lists no certificate".into()));
    }
    let mut out = Vec::with_capacity(listing.data.len());
    let mut dropped = Vec::new();
    let mut ring = trusted.clone();
    for entry in listing.data {
        let serial = entry.serial_no.trim().to_string();
        let pem = decrypt_resource(
            config.api_v3_key()?,
            config.backend,
            &entry.encrypt_certificate,
        )
        .map_err(|e| bad(&serial, format!("cannot decrypt: {e}")))?;
        let certificate = Certificate::from_pem_with(config.backend, &pem)
            .map_err(|e| bad(&serial, format!("not a certificate: {e}")))?;
        if normalize_serial(&serial).is_none()
            || normalize_serial(&certificate.serial_hex) != normalize_serial(&serial)
        {
            return Err(bad(
                &serial,
                format!(
                    "listed as {serial} but the certificate's serial is {}",
                    certificate.serial_hex
                ),
            ));
        }
        if now < certificate.not_before - CLOCK_SKEW_TOLERANCE_SECS || now > certificate.not_after {
            dropped.push((
                serial,
                format!(
                    "not valid now ({now}; valid from {} to {})",
                    certificate.not_before, certificate.not_after
                ),
            ));
            continue;
        }
        config
            .trust_anchors
            .check(&certificate)
            .map_err(|e| bad(&serial, e))?;
        let copy = Certificate::from_pem_with(config.backend, &pem)
            .map_err(|e| bad(&serial, format!("not a certificate: {e}")))?;
        ring.add_parsed_certificate(copy, true);
        out.push(DownloadedCertificate {
            pem: pem.to_string(),
            certificate,
        });
    }
    if out.is_empty() {
        let why: Vec<String> = dropped.iter().map(|(s, r)| format!("{s}: {r}")).collect();
        return Err(bad(
            "",
            format!("no listed certificate is valid now ({})", why.join("; ")),
        ));
    }
    // The download must be signed by a certificate it contains or one already trusted.
    verify_signature(&ring, &headers, &response.body, now)?;
    Ok(Download {
        certificates: out,
        dropped,
    })
}
