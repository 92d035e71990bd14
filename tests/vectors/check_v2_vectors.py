#!/usr/bin/env python3
"""Independently re-check the legacy v2 golden vectors (tests/vectors/v2.json) and, with
--rust-output FILE, the v2 messages this crate produced:
  {"signed": [{"api_key", "sign_type", "xml"}],        # requests / sandbox answers: verify sign
   "notifications": [{"api_key", "body", "out_refund_no", "refund_status"}]}  # decrypt req_info

Standard library (hashlib, hmac, xml.etree) + `cryptography` (AES-256-ECB). Shares no code
with the crate. Prints failures, then `check_v2_vectors: N passed, M failed`; exit 1 on failure.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def sign_string(params, key):
    items = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    return "&".join(f"{k}={v}" for k, v in items) + "&key=" + key


def sign(params, key, sign_type):
    s = sign_string(params, key).encode("utf-8")
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), s, hashlib.sha256).hexdigest().upper()
    if sign_type == "MD5":
        return hashlib.md5(s).hexdigest().upper()
    raise ValueError(sign_type)


def flat_xml(text):
    # Our own test data only (no untrusted input here); refuse a DOCTYPE anyway.
    if "<!DOCTYPE" in text:
        raise ValueError("DOCTYPE")
    root = ET.fromstring(text)
    out = {}
    for child in root:
        if child.tag in out or len(child):
            raise ValueError("duplicate or nested " + child.tag)
        out[child.tag] = child.text or ""
    return root.tag, out


def decrypt_req_info(key, req_info):
    aes_key = hashlib.md5(key.encode()).hexdigest().encode()
    d = Cipher(algorithms.AES(aes_key), modes.ECB()).decryptor()
    padded = d.update(base64.b64decode(req_info)) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return (u.update(padded) + u.finalize()).decode("utf-8")


def check_file(v):
    for c in v["sign_cases"]:
        check(sign_string(c["params"], c["api_key"]) == c["sign_string"], c["name"] + " sign_string")
        check(sign(c["params"], c["api_key"], c["sign_type"]) == c["sign"], c["name"] + " sign")
    n = v["notification"]
    check(hashlib.md5(n["api_key"].encode()).hexdigest() == n["aes_key"], "notification aes_key")
    check(decrypt_req_info(n["api_key"], n["req_info"]) == n["plaintext"], "notification req_info")
    _, outer = flat_xml(n["body"])
    check(outer["req_info"] == n["req_info"], "notification body carries req_info")
    tag, inner = flat_xml(n["plaintext"])
    check(tag == "root", "notification plaintext root")
    for k, want in n["expected"].items():
        if k == "mch_id":
            check(outer[k] == want, "notification mch_id")
        else:
            check(inner[k] == str(want), "notification " + k)


def check_rust(out):
    for i, m in enumerate(out.get("signed", [])):
        _, f = flat_xml(m["xml"])
        t = f.get("sign_type", m["sign_type"])
        check(t == m["sign_type"], f"signed[{i}] sign_type")
        check(f.get("sign") == sign(f, m["api_key"], m["sign_type"]), f"signed[{i}] sign")
    for i, m in enumerate(out.get("notifications", [])):
        _, outer = flat_xml(m["body"])
        check("sign" not in outer, f"notifications[{i}] carries no sign")
        _, inner = flat_xml(decrypt_req_info(m["api_key"], outer["req_info"]))
        check(inner.get("out_refund_no") == m["out_refund_no"], f"notifications[{i}] out_refund_no")
        check(inner.get("refund_status") == m["refund_status"], f"notifications[{i}] refund_status")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--rust-output")
    a = ap.parse_args()
    try:
        if a.rust_output:
            with open(a.rust_output, encoding="utf-8") as f:
                check_rust(json.load(f))
        else:
            with open(os.path.join(a.vectors_dir, "v2.json"), encoding="utf-8") as f:
                check_file(json.load(f))
    except Exception as e:  # a broken file is a failure, not a crash
        check(False, f"{type(e).__name__}: {e}")
    print(f"check_v2_vectors: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
