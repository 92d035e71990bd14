//! The legacy v2 primitives (docs/protocol.md "Legacy v2 refund"): MD5 and HMAC-SHA256 for the
//! request/response `sign`, and AES-256-ECB with PKCS#7 for the refund notification's
//! `req_info`. Bytes in, bytes out; both backends give the same results (tests/v2_vectors.rs).
//!
//! MD5 and ECB are what the v2 protocol prescribes, not choices: nothing else in the crate
//! uses them.

use super::CryptoBackend;
use md5::Digest;
use zeroize::Zeroizing;

/// MD5 of `data` (RustCrypto `md-5` in every build: aws-lc-rs does not expose MD5).
pub fn md5(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(backend: CryptoBackend, key: &[u8], data: &[u8]) -> [u8; 32] {
    match backend {
        #[cfg(feature = "aws-lc")]
        CryptoBackend::AwsLc => {
            use aws_lc_rs::hmac;
            let k = hmac::Key::new(hmac::HMAC_SHA256, key);
            let tag = hmac::sign(&k, data);
            let mut out = [0u8; 32];
            out.copy_from_slice(tag.as_ref());
            out
        }
        #[cfg(feature = "rustcrypto")]
        CryptoBackend::RustCrypto => rustcrypto_hmac_sha256(key, data),
        #[allow(unreachable_patterns)]
        _ => unreachable!("no such backend compiled in"),
    }
}

/// RFC 2104 over SHA-256 (64-byte blocks).
#[cfg(feature = "rustcrypto")]
fn rustcrypto_hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut block = Zeroizing::new([0u8; 64]);
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| -> Zeroizing<[u8; 64]> {
        let mut p = Zeroizing::new([0u8; 64]);
        for (o, k) in p.iter_mut().zip(block.iter()) {
            *o = k ^ b;
        }
        p
    };
    let inner = Sha256::new()
        .chain_update(pad(0x36).as_slice())
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c).as_slice())
        .chain_update(inner)
        .finalize()
        .into()
}

/// AES-256-ECB decryption with PKCS#7 padding removed. `None` when the length is not a
/// positive multiple of 16 or the padding is invalid (a wrong key, in practice).
pub fn aes_256_ecb_pkcs7_decrypt(
    backend: CryptoBackend,
    key: &[u8; 32],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return None;
    }
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    match backend {
        #[cfg(feature = "aws-lc")]
        CryptoBackend::AwsLc => {
            // Raw ECB blocks; the padding is checked below, the same way for both backends.
            use aws_lc_rs::cipher::{DecryptingKey, UnboundCipherKey, AES_256};
            let k = DecryptingKey::ecb(UnboundCipherKey::new(&AES_256, key).ok()?).ok()?;
            k.decrypt(&mut buf, aws_lc_rs::cipher::DecryptionContext::None)
                .ok()?;
        }
        #[cfg(feature = "rustcrypto")]
        CryptoBackend::RustCrypto => {
            use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
            let c = aes::Aes256::new(GenericArray::from_slice(key));
            for chunk in buf.chunks_mut(16) {
                c.decrypt_block(GenericArray::from_mut_slice(chunk));
            }
        }
        #[allow(unreachable_patterns)]
        _ => return None,
    }
    let pad = *buf.last()? as usize;
    if pad == 0 || pad > 16 || buf[buf.len() - pad..].iter().any(|&b| b as usize != pad) {
        return None;
    }
    let keep = buf.len() - pad;
    buf.truncate(keep);
    Some(buf)
}

/// AES-256-ECB encryption with PKCS#7 padding (what WeChat Pay does to `req_info`; used by the
/// sandbox and tests).
pub fn aes_256_ecb_pkcs7_encrypt(
    backend: CryptoBackend,
    key: &[u8; 32],
    plaintext: &[u8],
) -> Vec<u8> {
    let pad = 16 - plaintext.len() % 16;
    let mut buf = plaintext.to_vec();
    buf.extend(std::iter::repeat_n(pad as u8, pad));
    match backend {
        #[cfg(feature = "aws-lc")]
        CryptoBackend::AwsLc => {
            use aws_lc_rs::cipher::{EncryptingKey, UnboundCipherKey, AES_256};
            let k = EncryptingKey::ecb(UnboundCipherKey::new(&AES_256, key).expect("32-byte key"))
                .expect("AES-256-ECB");
            k.less_safe_encrypt(&mut buf, aws_lc_rs::cipher::EncryptionContext::None)
                .expect("whole blocks");
        }
        #[cfg(feature = "rustcrypto")]
        CryptoBackend::RustCrypto => {
            use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
            let c = aes::Aes256::new(GenericArray::from_slice(key));
            for chunk in buf.chunks_mut(16) {
                c.encrypt_block(GenericArray::from_mut_slice(chunk));
            }
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("no such backend compiled in"),
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // RFC 1321 and RFC 4231 test case 2.
        assert_eq!(
            crate::crypto::der::hex_upper(&md5(b"abc")),
            "900150983CD24FB0D6963F7D28E17F72"
        );
        for b in CryptoBackend::available() {
            assert_eq!(
                crate::crypto::der::hex_upper(&hmac_sha256(
                    b,
                    b"Jefe",
                    b"what do ya want for nothing?"
                )),
                "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
            );
            let key = [7u8; 32];
            for len in [0usize, 1, 15, 16, 17, 100] {
                let pt = vec![0x41u8; len];
                let ct = aes_256_ecb_pkcs7_encrypt(b, &key, &pt);
                assert_eq!(ct.len(), (len / 16 + 1) * 16);
                for d in CryptoBackend::available() {
                    assert_eq!(
                        aes_256_ecb_pkcs7_decrypt(d, &key, &ct).unwrap().as_slice(),
                        &pt[..]
                    );
                }
                assert!(aes_256_ecb_pkcs7_decrypt(b, &[8u8; 32], &ct)
                    .is_none_or(|p| p.as_slice() != &pt[..]));
            }
        }
    }
}
