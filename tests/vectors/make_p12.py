#!/usr/bin/env python3
"""Write a PKCS#12 file from a PEM certificate and key, with Python `cryptography` (an
implementation independent of the crate): make_p12.py CERT KEY PASSWORD OUT legacy|modern.
legacy = PBEv1 SHA1 + 3DES with a SHA-1 MAC (what older tools write); modern = PBES2 AES-256."""

import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    PrivateFormat,
    load_pem_private_key,
    pkcs12,
)


def main(cert_path, key_path, password, out, kind):
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(key_path, "rb") as f:
        key = load_pem_private_key(f.read(), None)
    pw = password.encode()
    if kind == "legacy":
        enc = (
            PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(pw)
        )
    else:
        enc = BestAvailableEncryption(pw)
    data = pkcs12.serialize_key_and_certificates(b"Tenpay Certificate", key, cert, None, enc)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(*sys.argv[1:6])
