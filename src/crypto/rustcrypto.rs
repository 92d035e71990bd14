//! The pure-Rust backend: `rsa` 0.10 (constant-time arithmetic), `sha2`, `sha1`, `aes-gcm`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;

pub(crate) struct PrivKey {
    key: rsa::PrivateKey,
}

impl PrivKey {
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let key = rsa::PrivateKey::from_pkcs8_der(der)
            .map_err(|e| format!("RSA private key rejected: {e}"))?;
        Ok(Self { key })
    }

    pub fn bits(&self) -> usize {
        self.key.as_public_key().n().bit_width() as usize
    }

    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        self.key
            .pkcs1v15_sign::<sha2::Sha256>(msg)
            .map_err(|e| format!("RSA signing failed: {e}"))
    }

    pub fn public_spki(&self) -> Result<Vec<u8>, String> {
        self.key
            .to_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| format!("could not encode the public key: {e}"))
    }

    pub fn oaep_sha1_decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        self.key
            .oaep_decrypt::<sha1::Sha1>(ciphertext)
            .map_err(|_| "RSA-OAEP decryption failed".to_string())
    }
}

pub(crate) struct PubKey {
    key: rsa::PublicKey,
}

impl PubKey {
    pub fn from_spki(spki: &[u8]) -> Result<Self, String> {
        let key = rsa::PublicKey::from_public_key_der(spki)
            .map_err(|e| format!("RSA public key rejected: {e}"))?;
        Ok(Self { key })
    }

    pub fn bits(&self) -> usize {
        self.key.n().bit_width() as usize
    }

    pub fn verify_sha256(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.pkcs1v15_verify::<sha2::Sha256>(msg, sig).is_ok()
    }

    pub fn oaep_sha1_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        self.key
            .oaep_encrypt::<sha1::Sha1>(plaintext)
            .map_err(|e| format!("RSA-OAEP encryption failed: {e}"))
    }
}

pub(crate) fn aes_256_gcm_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, ()> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| ())?;
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map_err(|_| ())
}

pub(crate) fn aes_256_gcm_seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).expect("32-byte AES-256 key");
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM sealing of an in-memory buffer")
}
