//! PKCS#12 (`apiclient_cert.p12`): the certificate chain and the private key.
//!
//! Decoding (MAC check, legacy RC2-40 / 3DES and PBES2 bags) is `p12-keystore`'s (feature
//! `pkcs12`, on by default); this module only picks the key and puts its certificate first.

use zeroize::Zeroizing;

/// Certificates (DER, leaf first) and the PKCS#8 DER private key.
pub(crate) type Identity = (Vec<Vec<u8>>, Zeroizing<Vec<u8>>);

/// The certificates (leaf first) and the PKCS#8 private key of a PKCS#12 file.
#[cfg(feature = "pkcs12")]
pub(crate) fn parse(der: &[u8], password: &str) -> Result<Identity, String> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password).map_err(|e| {
        format!("cannot open it with this password (the default is the merchant id): {e}")
    })?;
    let key = match archive.keys.as_slice() {
        [k] => k,
        [] => return Err("it holds no private key".into()),
        _ => return Err("it holds more than one private key".into()),
    };
    let key_der = Zeroizing::new(key.key.as_der().to_vec());
    // The key's own certificate first (by localKeyId when given), then the others.
    let mut certs: Vec<&p12_keystore::CertificateBag> = archive.certs.iter().collect();
    if let Some(id) = &key.local_key_id {
        if let Some(i) = certs
            .iter()
            .position(|c| c.local_key_id.as_deref() == Some(id.0.as_slice()))
        {
            let leaf = certs.remove(i);
            certs.insert(0, leaf);
        }
    }
    if certs.is_empty() {
        return Err("it holds no certificate".into());
    }
    Ok((
        certs.iter().map(|c| c.cert.as_der().to_vec()).collect(),
        key_der,
    ))
}

/// Without the `pkcs12` feature: a clear error.
#[cfg(not(feature = "pkcs12"))]
pub(crate) fn parse(_der: &[u8], _password: &str) -> Result<Identity, String> {
    Err(
        "this build has no PKCS#12 support (feature `pkcs12`): enable it, or convert the file \
         to the PEM pair with `openssl pkcs12 -in apiclient_cert.p12 -nodes`"
            .into(),
    )
}
