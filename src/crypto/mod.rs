//! The narrow crypto interface: RSA-2048 PKCS#1 v1.5 SHA-256 sign/verify, RSA-OAEP
//! (SHA-1, MGF1-SHA-1) encrypt/decrypt, AES-256-GCM, key parsing and randomness.
//!
//! It knows bytes and keys only (no HTTP, no JSON). Two interchangeable backends pass the
//! same vectors: aws-lc-rs (feature `aws-lc`, the default) and a pure-Rust one (feature
//! `rustcrypto`). When both are compiled in, aws-lc-rs is the default and either can be
//! chosen per key.

pub(crate) mod der;
pub mod legacy;
pub(crate) mod pkcs12;

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "rustcrypto")]
mod rustcrypto;

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!("enable at least one crypto backend: feature `aws-lc` (default) or `rustcrypto`");

use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Smallest RSA modulus WeChat Pay uses and this library accepts.
pub const MIN_RSA_BITS: usize = 2048;

/// Which implementation performs the cryptography.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "ffi", derive(uniffi::Enum))]
pub enum CryptoBackend {
    /// aws-lc-rs: constant-time, OpenSSL speed. The default.
    AwsLc,
    /// Pure Rust (`rsa` 0.10, `sha2`, `aes-gcm`).
    RustCrypto,
}

impl Default for CryptoBackend {
    fn default() -> Self {
        #[cfg(feature = "aws-lc")]
        return Self::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        return Self::RustCrypto;
    }
}

impl CryptoBackend {
    /// The backends compiled into this build.
    #[allow(clippy::vec_init_then_push)] // pushes are feature-gated
    pub fn available() -> Vec<CryptoBackend> {
        let mut v = Vec::new();
        #[cfg(feature = "aws-lc")]
        v.push(Self::AwsLc);
        #[cfg(feature = "rustcrypto")]
        v.push(Self::RustCrypto);
        v
    }

    fn check(self) -> Result<(), String> {
        if Self::available().contains(&self) {
            Ok(())
        } else {
            Err(format!(
                "crypto backend {self:?} is not compiled into this build"
            ))
        }
    }
}

enum PrivInner {
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc::PrivKey),
    #[cfg(feature = "rustcrypto")]
    // Boxed: the pure-Rust key is much larger than aws-lc-rs's handle.
    RustCrypto(Box<rustcrypto::PrivKey>),
}

/// An RSA private key (merchant API key, or a sandbox's WeChat Pay key).
///
/// The key material is zeroized on drop and never printed.
pub struct RsaPrivateKey {
    inner: PrivInner,
    bits: usize,
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey({} bits, redacted)", self.bits)
    }
}

impl RsaPrivateKey {
    /// Parse a PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`), with the default backend.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        Self::from_pem_with(CryptoBackend::default(), pem)
    }

    /// Parse a PEM private key with the given backend.
    pub fn from_pem_with(backend: CryptoBackend, pem: &str) -> Result<Self, String> {
        let block = der::parse_pem(pem)?;
        let pkcs8 = match block.label.as_str() {
            "PRIVATE KEY" if !block.legacy_encrypted => block.der,
            "RSA PRIVATE KEY" if !block.legacy_encrypted => der::pkcs1_to_pkcs8(&block.der),
            "ENCRYPTED PRIVATE KEY" | "PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return Err("the private key is encrypted with a passphrase; decrypt it first \
                     (openssl pkcs8 -topk8 -nocrypt -in key.pem -out apiclient_key.pem)"
                    .into())
            }
            other => {
                return Err(format!(
                    "expected a private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY), found BEGIN {other}"
                ))
            }
        };
        Self::from_pkcs8_der_with(backend, &pkcs8)
    }

    /// Parse a PKCS#8 DER private key with the given backend.
    pub fn from_pkcs8_der_with(backend: CryptoBackend, pkcs8: &[u8]) -> Result<Self, String> {
        backend.check()?;
        if !der::pkcs8_is_rsa(pkcs8)? {
            return Err("the private key is not an RSA key (WeChat Pay uses RSA-2048)".into());
        }
        let inner = match backend {
            #[cfg(feature = "aws-lc")]
            CryptoBackend::AwsLc => PrivInner::AwsLc(aws_lc::PrivKey::from_pkcs8(pkcs8)?),
            #[cfg(feature = "rustcrypto")]
            CryptoBackend::RustCrypto => {
                PrivInner::RustCrypto(Box::new(rustcrypto::PrivKey::from_pkcs8(pkcs8)?))
            }
            #[allow(unreachable_patterns)]
            _ => {
                return Err(format!(
                    "crypto backend {backend:?} is not compiled into this build"
                ))
            }
        };
        let bits = match &inner {
            #[cfg(feature = "aws-lc")]
            PrivInner::AwsLc(k) => k.bits(),
            #[cfg(feature = "rustcrypto")]
            PrivInner::RustCrypto(k) => k.bits(),
        };
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "the RSA key has {bits} bits; WeChat Pay requires at least {MIN_RSA_BITS}"
            ));
        }
        Ok(Self { inner, bits })
    }

    /// Generate a fresh RSA-2048 key (aws-lc-rs). Used by the sandbox and tests.
    #[cfg(feature = "aws-lc")]
    pub fn generate_2048() -> Result<(Self, Zeroizing<String>), String> {
        let pkcs8 = aws_lc::generate_rsa2048_pkcs8()?;
        let key = Self::from_pkcs8_der_with(CryptoBackend::AwsLc, &pkcs8)?;
        Ok((key, Zeroizing::new(der::to_pem("PRIVATE KEY", &pkcs8))))
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        match &self.inner {
            #[cfg(feature = "aws-lc")]
            PrivInner::AwsLc(k) => k.sign_sha256(message),
            #[cfg(feature = "rustcrypto")]
            PrivInner::RustCrypto(k) => k.sign_sha256(message),
        }
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) decryption.
    pub fn oaep_sha1_decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        match &self.inner {
            #[cfg(feature = "aws-lc")]
            PrivInner::AwsLc(k) => k.oaep_sha1_decrypt(ciphertext),
            #[cfg(feature = "rustcrypto")]
            PrivInner::RustCrypto(k) => k.oaep_sha1_decrypt(ciphertext),
        }
        .map(Zeroizing::new)
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<RsaPublicKey, String> {
        let (backend, spki) = match &self.inner {
            #[cfg(feature = "aws-lc")]
            PrivInner::AwsLc(k) => (CryptoBackend::AwsLc, k.public_spki()?),
            #[cfg(feature = "rustcrypto")]
            PrivInner::RustCrypto(k) => (CryptoBackend::RustCrypto, k.public_spki()?),
        };
        RsaPublicKey::from_spki_der_with(backend, &spki)
    }
}

enum PubInner {
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc::PubKey),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(rustcrypto::PubKey),
}

/// An RSA public key (WeChat Pay public key, platform certificate key, or merchant key).
pub struct RsaPublicKey {
    inner: PubInner,
    spki: Vec<u8>,
    bits: usize,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.bits)
    }
}

impl RsaPublicKey {
    /// Parse a PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        Self::from_pem_with(CryptoBackend::default(), pem)
    }

    /// Parse a PEM public key with the given backend.
    pub fn from_pem_with(backend: CryptoBackend, pem: &str) -> Result<Self, String> {
        let block = der::parse_pem(pem)?;
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der_with(backend, &block.der),
            "RSA PUBLIC KEY" => {
                Self::from_spki_der_with(backend, &der::pkcs1_public_to_spki(&block.der))
            }
            "CERTIFICATE" => Err(
                "expected a public key (BEGIN PUBLIC KEY), found a certificate: pass it as a platform certificate"
                    .into(),
            ),
            other => Err(format!(
                "expected a public key (BEGIN PUBLIC KEY), found BEGIN {other}"
            )),
        }
    }

    /// Parse a DER SubjectPublicKeyInfo with the given backend.
    pub fn from_spki_der_with(backend: CryptoBackend, spki: &[u8]) -> Result<Self, String> {
        backend.check()?;
        if !der::spki_is_rsa(spki)? {
            return Err("the public key is not an RSA key".into());
        }
        let inner = match backend {
            #[cfg(feature = "aws-lc")]
            CryptoBackend::AwsLc => PubInner::AwsLc(aws_lc::PubKey::from_spki(spki)?),
            #[cfg(feature = "rustcrypto")]
            CryptoBackend::RustCrypto => PubInner::RustCrypto(rustcrypto::PubKey::from_spki(spki)?),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(format!(
                    "crypto backend {backend:?} is not compiled into this build"
                ))
            }
        };
        let bits = match &inner {
            #[cfg(feature = "aws-lc")]
            PubInner::AwsLc(k) => k.bits(),
            #[cfg(feature = "rustcrypto")]
            PubInner::RustCrypto(k) => k.bits(),
        };
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "the RSA public key has {bits} bits; WeChat Pay requires at least {MIN_RSA_BITS}"
            ));
        }
        Ok(Self {
            inner,
            spki: spki.to_vec(),
            bits,
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The key as PEM (`BEGIN PUBLIC KEY`).
    pub fn to_pem(&self) -> String {
        der::to_pem("PUBLIC KEY", &self.spki)
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Verify an RSASSA-PKCS1-v1_5 SHA-256 signature over `message`.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            #[cfg(feature = "aws-lc")]
            PubInner::AwsLc(k) => k.verify_sha256(message, signature),
            #[cfg(feature = "rustcrypto")]
            PubInner::RustCrypto(k) => k.verify_sha256(message, signature),
        }
    }

    /// RSA-OAEP (SHA-1, MGF1-SHA-1, no label) encryption; randomised.
    pub fn oaep_sha1_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        match &self.inner {
            #[cfg(feature = "aws-lc")]
            PubInner::AwsLc(k) => k.oaep_sha1_encrypt(plaintext),
            #[cfg(feature = "rustcrypto")]
            PubInner::RustCrypto(k) => k.oaep_sha1_encrypt(plaintext),
        }
    }
}

/// An X.509 certificate reduced to what verification needs: its serial and its key.
#[derive(Debug)]
pub struct Certificate {
    /// Uppercase hex serial as WeChat Pay lists it (lookups ignore case and leading zeros).
    pub serial_hex: String,
    /// The certified public key.
    pub public_key: RsaPublicKey,
    /// Validity start, unix seconds.
    pub not_before: i64,
    /// Validity end, unix seconds.
    pub not_after: i64,
    /// What a chain check needs (see `certificates::TrustAnchors`).
    pub(crate) signed: SignedParts,
    /// The whole certificate (DER): the key ring keeps it to give the PEM back
    /// (`PlatformCertificate::pem`).
    pub(crate) der: Arc<[u8]>,
}

/// The signed part of a certificate and its signature, for a chain check.
#[derive(Debug, Clone)]
pub(crate) struct SignedParts {
    /// `TBSCertificate`, whole.
    pub tbs: Vec<u8>,
    /// The issuer and subject `Name`s, whole.
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    /// The outer `signatureAlgorithm`, whole.
    pub signature_algorithm: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Certificate {
    /// Parse a PEM certificate (`BEGIN CERTIFICATE`).
    pub fn from_pem_with(backend: CryptoBackend, pem: &str) -> Result<Self, String> {
        let block = der::parse_pem(pem)?;
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "expected a certificate (BEGIN CERTIFICATE), found BEGIN {}",
                block.label
            ));
        }
        let parts = der::certificate_parts(&block.der)?;
        Ok(Self {
            serial_hex: parts.serial_hex,
            public_key: RsaPublicKey::from_spki_der_with(backend, parts.spki)?,
            not_before: parts.not_before,
            not_after: parts.not_after,
            signed: SignedParts {
                tbs: parts.tbs.to_vec(),
                issuer: parts.issuer.to_vec(),
                subject: parts.subject.to_vec(),
                signature_algorithm: parts.signature_algorithm.to_vec(),
                signature: parts.signature.to_vec(),
            },
            der: Arc::from(block.der.as_slice()),
        })
    }
}

/// AEAD_AES_256_GCM decryption (tag appended to the ciphertext). `None` when the tag does not
/// authenticate the ciphertext under this key, nonce and associated data.
pub fn aes_256_gcm_decrypt(
    backend: CryptoBackend,
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if backend.check().is_err() || ciphertext_and_tag.len() < 16 {
        return None;
    }
    let r = match backend {
        #[cfg(feature = "aws-lc")]
        CryptoBackend::AwsLc => aws_lc::aes_256_gcm_open(key, nonce, aad, ciphertext_and_tag),
        #[cfg(feature = "rustcrypto")]
        CryptoBackend::RustCrypto => {
            rustcrypto::aes_256_gcm_open(key, nonce, aad, ciphertext_and_tag)
        }
        #[allow(unreachable_patterns)]
        _ => Err(()),
    };
    r.ok().map(Zeroizing::new)
}

/// AEAD_AES_256_GCM encryption, tag appended (what WeChat Pay sends in notifications).
pub fn aes_256_gcm_encrypt(
    backend: CryptoBackend,
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, String> {
    backend.check()?;
    match backend {
        #[cfg(feature = "aws-lc")]
        CryptoBackend::AwsLc => Ok(aws_lc::aes_256_gcm_seal(key, nonce, aad, plaintext)),
        #[cfg(feature = "rustcrypto")]
        CryptoBackend::RustCrypto => Ok(rustcrypto::aes_256_gcm_seal(key, nonce, aad, plaintext)),
        #[allow(unreachable_patterns)]
        _ => Err(format!(
            "crypto backend {backend:?} is not compiled into this build"
        )),
    }
}

/// Incremental SHA-1, for the bill file's digest (WeChat Pay's `hash_type: SHA1`: an integrity
/// check of a download, never a signature). Fed chunk by chunk so that a file of any size is
/// hashed in constant memory.
pub struct Sha1 {
    #[cfg(feature = "aws-lc")]
    inner: aws_lc_rs::digest::Context,
    #[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
    inner: sha1::Sha1,
}

impl Default for Sha1 {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha1")
    }
}

impl Sha1 {
    /// An empty hash.
    pub fn new() -> Self {
        Self {
            #[cfg(feature = "aws-lc")]
            inner: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY),
            #[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
            inner: <sha1::Sha1 as sha1::Digest>::new(),
        }
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        #[cfg(feature = "aws-lc")]
        self.inner.update(data);
        #[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
        sha1::Digest::update(&mut self.inner, data);
    }

    /// The digest as lowercase hex.
    pub fn finish_hex(self) -> String {
        #[cfg(feature = "aws-lc")]
        let d = self.inner.finish();
        #[cfg(feature = "aws-lc")]
        let bytes: &[u8] = d.as_ref();
        #[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
        let d = sha1::Digest::finalize(self.inner);
        #[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
        let bytes: &[u8] = d.as_ref();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Fill `buf` from the operating system CSPRNG.
pub fn random_bytes(buf: &mut [u8]) {
    // The OS RNG failing is unrecoverable for a crypto library; getrandom documents it as
    // practically impossible on supported platforms.
    getrandom::fill(buf).expect("operating system random number generator failed");
}

/// `len` characters drawn uniformly from `alphabet` with the CSPRNG (rejection sampling).
pub fn random_string(len: usize, alphabet: &[u8]) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        random_bytes(&mut buf);
        for &b in &buf {
            if (b as usize) < limit {
                out.push(alphabet[b as usize % alphabet.len()] as char);
                if out.len() == len {
                    break;
                }
            }
        }
    }
    out
}

/// The 32-byte API v3 key (AEAD_AES_256_GCM key of notifications). Zeroized on drop.
#[derive(Clone)]
pub struct ApiV3Key(Zeroizing<[u8; 32]>);

impl ApiV3Key {
    /// Exactly 32 bytes, as set in the merchant platform; anything else is a `Config` error.
    pub fn new(key: &str) -> crate::error::Result<Self> {
        let bytes = key.as_bytes();
        if bytes.len() != 32 {
            return Err(crate::error::RefundError::config(format!(
                "api_v3_key must be exactly 32 bytes (the APIv3 key set in the merchant platform), got {} bytes",
                bytes.len()
            )));
        }
        let mut k = Zeroizing::new([0u8; 32]);
        k.copy_from_slice(bytes);
        Ok(Self(k))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}
