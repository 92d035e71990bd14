//! The default backend: aws-lc-rs (constant-time, OpenSSL speed).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
};
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use std::sync::OnceLock;
use zeroize::Zeroizing;

pub(crate) struct PrivKey {
    pair: KeyPair,
    /// Built on the first OAEP decryption only (the sandbox's keys): a client's merchant key
    /// is held once, with no second copy of the private key.
    decrypting: OnceLock<Result<OaepPrivateDecryptingKey, String>>,
}

impl PrivKey {
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let pair = KeyPair::from_pkcs8(der).map_err(|e| match e.to_string().as_str() {
            "TooSmall" => format!(
                "the RSA key is smaller than {} bits, the minimum WeChat Pay uses",
                super::MIN_RSA_BITS
            ),
            other => format!("RSA private key rejected: {other}"),
        })?;
        Ok(Self {
            pair,
            decrypting: OnceLock::new(),
        })
    }

    pub fn bits(&self) -> usize {
        self.pair.public_modulus_len() * 8
    }

    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
            .map_err(|_| "RSA signing failed".to_string())?;
        Ok(sig)
    }

    pub fn public_spki(&self) -> Result<Vec<u8>, String> {
        let der: PublicKeyX509Der<'static> = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| "could not encode the public key".to_string())?;
        Ok(der.as_ref().to_vec())
    }

    pub fn oaep_sha1_decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        let key = self
            .decrypting
            .get_or_init(|| {
                let der: Pkcs8V1Der<'static> = self
                    .pair
                    .as_der()
                    .map_err(|_| "RSA key unusable for decryption".to_string())?;
                let der = Zeroizing::new(der.as_ref().to_vec());
                PrivateDecryptingKey::from_pkcs8(&der)
                    .map_err(|e| format!("RSA key unusable for decryption: {e}"))
                    .and_then(|k| {
                        OaepPrivateDecryptingKey::new(k)
                            .map_err(|_| "RSA key unusable for OAEP decryption".to_string())
                    })
            })
            .as_ref()
            .map_err(Clone::clone)?;
        let mut out = vec![0u8; key.min_output_size()];
        let plain = key
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
            .map_err(|_| "RSA-OAEP decryption failed".to_string())?;
        Ok(plain.to_vec())
    }
}

pub(crate) struct PubKey {
    verify: ParsedPublicKey,
    encrypt: OaepPublicEncryptingKey,
    bits: usize,
}

impl PubKey {
    pub fn from_spki(spki: &[u8]) -> Result<Self, String> {
        let verify = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki)
            .map_err(|e| format!("RSA public key rejected: {e}"))?;
        let enc = PublicEncryptingKey::from_der(spki)
            .map_err(|e| format!("RSA public key rejected: {e}"))?;
        let bits = enc.key_size_bits();
        let encrypt = OaepPublicEncryptingKey::new(enc)
            .map_err(|_| "RSA public key unusable for OAEP".to_string())?;
        Ok(Self {
            verify,
            encrypt,
            bits,
        })
    }

    pub fn bits(&self) -> usize {
        self.bits
    }

    pub fn verify_sha256(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verify.verify_sig(msg, sig).is_ok()
    }

    pub fn oaep_sha1_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = vec![0u8; self.encrypt.ciphertext_size()];
        let ct = self
            .encrypt
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
            .map_err(|_| "RSA-OAEP encryption failed (plaintext too long?)".to_string())?;
        Ok(ct.to_vec())
    }
}

fn gcm_key(key: &[u8; 32]) -> LessSafeKey {
    // A 32-byte key is always valid for AES-256-GCM.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte AES-256 key"))
}

pub(crate) fn aes_256_gcm_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, ()> {
    let mut buf = ciphertext_and_tag.to_vec();
    let plain = gcm_key(key)
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| ())?;
    let n = plain.len();
    buf.truncate(n);
    Ok(buf)
}

pub(crate) fn aes_256_gcm_seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut buf = plaintext.to_vec();
    gcm_key(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut buf,
        )
        .expect("AES-GCM sealing of an in-memory buffer");
    buf
}

pub(crate) fn generate_rsa2048_pkcs8() -> Result<Zeroizing<Vec<u8>>, String> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let der: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| "could not encode the generated key".to_string())?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}
