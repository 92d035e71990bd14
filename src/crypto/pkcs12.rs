//! PKCS#12 (`apiclient_cert.p12`): the certificate chain and the private key.

use zeroize::Zeroizing;

/// Certificates (DER, leaf first) and the PKCS#8 DER private key.
pub(crate) type Identity = (Vec<Vec<u8>>, Zeroizing<Vec<u8>>);

/// The certificates (leaf first) and the PKCS#8 private key of a PKCS#12 file.
pub(crate) fn parse(_der: &[u8], _password: &str) -> Result<Identity, String> {
    Err("PKCS#12 is not supported yet: convert it with `openssl pkcs12 -in apiclient_cert.p12 -nodes` and configure the PEM pair".into())
}
