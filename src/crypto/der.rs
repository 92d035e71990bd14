//! Minimal PEM and DER reading: just what key and certificate loading needs
//! (labels, base64 bodies, TLV walking for the certificate serial and public key).

use base64::Engine;

/// One PEM block: its label (`PRIVATE KEY`, `CERTIFICATE`...) and decoded DER bytes.
pub(crate) struct PemBlock {
    pub label: String,
    pub der: zeroize::Zeroizing<Vec<u8>>,
    /// True when legacy OpenSSL encryption headers (`Proc-Type: 4,ENCRYPTED`) are present.
    pub legacy_encrypted: bool,
}

/// Parse the first PEM block of `text`.
pub(crate) fn parse_pem(text: &str) -> Result<PemBlock, String> {
    let start = text.find("-----BEGIN ").ok_or_else(|| {
        "no PEM block found (expected a line like -----BEGIN PRIVATE KEY-----)".to_string()
    })?;
    let after = &text[start + "-----BEGIN ".len()..];
    let label_end = after.find("-----").ok_or("malformed PEM header line")?;
    let label = after[..label_end].trim().to_string();
    let body_and_rest = &after[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_rest
        .find(&end_marker)
        .ok_or_else(|| format!("PEM block {label:?} has no matching END line (truncated?)"))?;
    let body = &body_and_rest[..end];
    let mut legacy_encrypted = false;
    let mut b64 = zeroize::Zeroizing::new(String::with_capacity(body.len()));
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.contains(':') {
            // RFC 1421 headers (Proc-Type, DEK-Info) of legacy encrypted keys.
            if line.starts_with("Proc-Type") && line.contains("ENCRYPTED") {
                legacy_encrypted = true;
            }
            continue;
        }
        b64.push_str(line);
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| format!("PEM block {label:?} is not valid base64: {e}"))?;
    if der.is_empty() {
        return Err(format!("PEM block {label:?} is empty"));
    }
    Ok(PemBlock {
        label,
        der: zeroize::Zeroizing::new(der),
        legacy_encrypted,
    })
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PemBlock({}, {} bytes, redacted)",
            self.label,
            self.der.len()
        )
    }
}

/// Encode DER as PEM with the given label.
pub(crate) fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A DER TLV: tag, contents, and the whole encoding.
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub contents: &'a [u8],
    pub whole: &'a [u8],
}

/// Read one TLV from the front of `input`; returns it and the rest.
pub(crate) fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    if input.len() < 2 {
        return Err("truncated DER".into());
    }
    let tag = input[0];
    let first = input[1];
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || input.len() < 2 + n {
            return Err("bad DER length".into());
        }
        let mut len = 0usize;
        for b in &input[2..2 + n] {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let total = header
        .checked_add(len)
        .ok_or_else(|| "bad DER length".to_string())?;
    if input.len() < total {
        return Err("truncated DER".into());
    }
    Ok((
        Tlv {
            tag,
            contents: &input[header..total],
            whole: &input[..total],
        },
        &input[total..],
    ))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Tlv<'a>, &'a [u8]), String> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(format!("expected {what} in certificate"));
    }
    Ok((tlv, rest))
}

/// The parts of an X.509 certificate the key ring needs.
pub(crate) struct CertParts<'a> {
    /// Serial as uppercase hex, as WeChat Pay lists it (no DER sign byte).
    pub serial_hex: String,
    /// The SubjectPublicKeyInfo, whole.
    pub spki: &'a [u8],
    /// Validity start, unix seconds.
    pub not_before: i64,
    /// Validity end, unix seconds.
    pub not_after: i64,
    /// What a chain check needs: the signed part, whole (`TBSCertificate`).
    pub tbs: &'a [u8],
    /// The issuer and subject `Name`s, whole.
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    /// The outer `signatureAlgorithm`, whole, and the signature's bytes.
    pub signature_algorithm: &'a [u8],
    pub signature: &'a [u8],
}

/// Pull the serial number and SubjectPublicKeyInfo out of a DER certificate.
pub(crate) fn certificate_parts(der: &[u8]) -> Result<CertParts<'_>, String> {
    let (cert, _) = expect(der, 0x30, "Certificate SEQUENCE")?;
    let (tbs, after_tbs) = expect(cert.contents, 0x30, "TBSCertificate SEQUENCE")?;
    let (signature_algorithm, after_alg) =
        expect(after_tbs, 0x30, "signatureAlgorithm AlgorithmIdentifier")?;
    let (signature, _) = expect(after_alg, 0x03, "signatureValue BIT STRING")?;
    let signature = match signature.contents {
        [0, bits @ ..] => bits,
        _ => return Err("signatureValue with unused bits in certificate".into()),
    };
    let mut rest = tbs.contents;
    let (first, after) = read_tlv(rest)?;
    if first.tag == 0xa0 {
        rest = after; // explicit [0] version
    }
    let (serial, r) = expect(rest, 0x02, "serial INTEGER")?;
    let (_sig_alg, r) = expect(r, 0x30, "signature AlgorithmIdentifier")?;
    let (issuer, r) = expect(r, 0x30, "issuer Name")?;
    let (validity, r) = expect(r, 0x30, "validity")?;
    let (not_before, v) = read_tlv(validity.contents)?;
    let (not_after, _) = read_tlv(v)?;
    let (subject, r) = expect(r, 0x30, "subject Name")?;
    let (spki, _) = expect(r, 0x30, "SubjectPublicKeyInfo")?;
    Ok(CertParts {
        serial_hex: hex_upper(serial_bytes(serial.contents)?),
        spki: spki.whole,
        not_before: x509_time(&not_before)?,
        not_after: x509_time(&not_after)?,
        tbs: tbs.whole,
        issuer: issuer.whole,
        subject: subject.whole,
        signature_algorithm: signature_algorithm.whole,
        signature,
    })
}

/// The serial's bytes without DER's sign byte: `0B1D…` stays `0B1D…` (as WeChat Pay lists it),
/// `00C5…` (a positive number with the high bit set) becomes `C5…`. RFC 5280 serials are
/// positive: a negative one (`C5…` without the sign byte) is refused, so that it cannot alias
/// its positive twin in a lookup.
fn serial_bytes(contents: &[u8]) -> Result<&[u8], String> {
    match contents {
        [] => Err("empty certificate serial".into()),
        [0, next, ..] if *next >= 0x80 => Ok(&contents[1..]),
        [first, ..] if *first >= 0x80 => Err("negative certificate serial".into()),
        _ => Ok(contents),
    }
}

/// An X.509 `Time` (UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ`, RFC 5280
/// 4.1.2.5) as unix seconds. Read as bytes: any byte that is not an ASCII digit where one is
/// due is an error, never a panic.
fn x509_time(t: &Tlv<'_>) -> Result<i64, String> {
    let b = t.contents;
    let bad = || {
        format!(
            "unsupported certificate time {:?}",
            String::from_utf8_lossy(b)
        )
    };
    let digits = |range: std::ops::Range<usize>| -> Result<i64, String> {
        b.get(range)
            .filter(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
            .ok_or_else(bad)
    };
    let (year, at) = match (t.tag, b.len()) {
        (0x17, 13) => {
            let yy = digits(0..2)?;
            // RFC 5280: YY >= 50 is 19YY, else 20YY.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        (0x18, 15) => (digits(0..4)?, 4),
        _ => return Err(bad()),
    };
    if b.last() != Some(&b'Z') {
        return Err(bad());
    }
    let n = |i: usize| digits(at + i..at + i + 2);
    let (month, day, h, m, sec) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return Err(format!(
            "invalid certificate time {:?}",
            String::from_utf8_lossy(b)
        ));
    }
    Ok(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Uppercase and strip leading zeros (keeping one digit for zero itself).
pub(crate) fn normalize_hex(s: &str) -> String {
    let up = s.trim().to_ascii_uppercase();
    let stripped = up.trim_start_matches('0');
    if stripped.is_empty() && !up.is_empty() {
        "0".into()
    } else {
        stripped.to_string()
    }
}

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_wrap(tag: u8, contents: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    der_len(contents.len(), out);
    out.extend_from_slice(contents);
}

/// rsaEncryption AlgorithmIdentifier: SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }.
const RSA_ALG_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// Wrap a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo`.
pub(crate) fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut inner = zeroize::Zeroizing::new(Vec::with_capacity(pkcs1.len() + 32));
    inner.extend_from_slice(&[0x02, 0x01, 0x00]); // version 0
    inner.extend_from_slice(&RSA_ALG_ID);
    der_wrap(0x04, pkcs1, &mut inner);
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(inner.len() + 4));
    der_wrap(0x30, &inner, &mut out);
    out
}

/// Wrap a PKCS#1 `RSAPublicKey` into a SubjectPublicKeyInfo.
pub(crate) fn pkcs1_public_to_spki(pkcs1: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(pkcs1.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(pkcs1);
    let mut inner = RSA_ALG_ID.to_vec();
    der_wrap(0x03, &bits, &mut inner);
    let mut out = Vec::with_capacity(inner.len() + 4);
    der_wrap(0x30, &inner, &mut out);
    out
}

/// Check that a PKCS#8 `PrivateKeyInfo` is an RSA key (not EC / Ed25519...).
pub(crate) fn pkcs8_is_rsa(der: &[u8]) -> Result<bool, String> {
    let (info, _) = read_tlv(der)?;
    if info.tag != 0x30 {
        return Err("not a PKCS#8 PrivateKeyInfo".into());
    }
    let (_version, rest) = read_tlv(info.contents)?;
    let (alg, _) = read_tlv(rest)?;
    Ok(alg.whole.starts_with(&RSA_ALG_ID[..13]))
}

/// Check that a SubjectPublicKeyInfo is an RSA key.
pub(crate) fn spki_is_rsa(der: &[u8]) -> Result<bool, String> {
    let (info, _) = read_tlv(der)?;
    if info.tag != 0x30 {
        return Err("not a SubjectPublicKeyInfo".into());
    }
    let (alg, _) = read_tlv(info.contents)?;
    Ok(alg.whole.starts_with(&RSA_ALG_ID[..13]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_normalisation_ignores_case_and_leading_zeros() {
        assert_eq!(normalize_hex("00ab12"), "AB12");
        assert_eq!(normalize_hex("AB12"), "AB12");
        assert_eq!(normalize_hex("000"), "0");
    }

    #[test]
    fn pem_errors_are_descriptive() {
        assert!(parse_pem("garbage").unwrap_err().contains("no PEM block"));
        let truncated = "-----BEGIN PRIVATE KEY-----\nMIIE\n";
        assert!(parse_pem(truncated).unwrap_err().contains("truncated"));
        let bad = "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";
        assert!(parse_pem(bad).unwrap_err().contains("base64"));
    }

    #[test]
    fn certificate_times() {
        let utc = |s: &str| {
            x509_time(&Tlv {
                tag: 0x17,
                contents: s.as_bytes(),
                whole: &[],
            })
        };
        let gen = |s: &str| {
            x509_time(&Tlv {
                tag: 0x18,
                contents: s.as_bytes(),
                whole: &[],
            })
        };
        assert_eq!(utc("700101000000Z").unwrap(), 0);
        assert_eq!(utc("250101000000Z").unwrap(), 1_735_689_600);
        assert_eq!(gen("20350101000000Z").unwrap(), 2_051_222_400);
        assert_eq!(gen("20261118110640Z").unwrap(), 1_795_000_000);
        assert_eq!(utc("491231235959Z").unwrap(), 2_524_607_999);
        for bad in [
            "2501010000Z",
            "251301000000Z",
            "25010100000Z0",
            "25010100000+",
            "+5010100000Z",
        ] {
            assert!(utc(bad).is_err(), "{bad}");
        }
        // Multi-byte characters where digits are due: an error, never a panic (a `&str`
        // sliced by byte offset would panic on "not a char boundary").
        for bad in ["é50101000000", "2é010100000Z", "25010100000é", "€€€€€Z"] {
            assert!(utc(bad).is_err(), "{bad}");
        }
        assert!(gen("2025010100000é").is_err());
        assert!(gen("20250101000\u{0}00Z").is_err());
    }

    #[test]
    fn negative_and_empty_serials_are_refused() {
        assert_eq!(serial_bytes(&[0x0b, 0x1d]).unwrap(), &[0x0b, 0x1d]);
        assert_eq!(serial_bytes(&[0x00, 0xc5]).unwrap(), &[0xc5]);
        assert!(serial_bytes(&[0xc5]).unwrap_err().contains("negative"));
        assert!(serial_bytes(&[]).is_err());
    }

    #[test]
    fn pem_round_trip() {
        let pem = to_pem("TEST", &[1, 2, 3, 250]);
        let block = parse_pem(&pem).unwrap();
        assert_eq!(block.label, "TEST");
        assert_eq!(&block.der[..], &[1, 2, 3, 250]);
    }

    #[test]
    fn tlv_rejects_truncation() {
        assert!(read_tlv(&[0x30, 0x05, 0x01]).is_err());
        assert!(read_tlv(&[0x30]).is_err());
        assert!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        let (t, rest) = read_tlv(&[0x02, 0x01, 0x05, 0xff]).unwrap();
        assert_eq!(t.tag, 2);
        assert_eq!(t.contents, &[5]);
        assert_eq!(rest, &[0xff]);
    }
}
