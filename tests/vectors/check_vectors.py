#!/usr/bin/env python3
"""Independently re-check the wechatpay-refund golden test vectors.

Usage:
  python3 tests/vectors/check_vectors.py [--vectors-dir DIR]
      re-check keys.json, signing.json, verification.json, notification.json,
      oaep.json and gcm.json in DIR (default: this script's directory).
  python3 tests/vectors/check_vectors.py --rust-output FILE [--vectors-dir DIR]
      check ONLY the artifacts the Rust tests wrote to FILE:
      {"signatures": [{"public_key_pem", "message", "signature"}],
       "authorizations": [{"public_key_pem", "method", "url", "body", "authorization", "mchid", "serial_no"}],
       "oaep": [{"private_key_pem", "plaintext", "ciphertext"}],
       "gcm": [{"key", "nonce", "associated_data", "plaintext", "ciphertext"}]}
      (any list may be absent).

Prints one line per failed check, then `check_vectors: N passed, M failed`; exits 1 if
anything failed or a file is missing/unreadable, 0 otherwise.

This script shares no code with gen_vectors.py on purpose.  Standard library + `cryptography`.
"""

import argparse
import base64
import binascii
import datetime
import json
import os
import re
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

SCHEME = "WECHATPAY2-SHA256-RSA2048"
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
WINDOW = 300
EXPECT_MCHID = "1900000001"
EXPECT_SUB_MCHID = "1900000109"
EXPECT_PUB_KEY_ID = "PUB_KEY_ID_0119000000012026112300000000000001"
EXPECT_NOW = 1795000000
NONCE32 = re.compile(r"^[0-9A-Z]{32}$")
HEX40 = re.compile(r"^[0-9A-F]{40}$")
ALNUM32 = re.compile(r"^[A-Za-z0-9]{32}$")
RFC3339_08 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")

# The request cases exactly as the brief defines them (name, method, url, body).
EXPECTED_SIGNING = [
    ("create_refund", "POST", "/v3/refund/domestic/refunds",
     '{"out_trade_no":"1217752501201407033233368018","out_refund_no":"R20261123001","reason":"商品已售完",'
     '"notify_url":"https://merchant.example.com/wechatpay/refund-notify","amount":{"refund":888,"total":888,'
     '"currency":"CNY"}}'),
    ("create_refund_full", "POST", "/v3/refund/domestic/refunds",
     '{"sub_mchid":"1900000109","transaction_id":"1217752501201407033233368018","out_refund_no":"R-2026_11|23*x@y",'
     '"reason":"部分退款","notify_url":"https://merchant.example.com/notify","funds_account":"AVAILABLE",'
     '"amount":{"refund":600,"from":[{"account":"AVAILABLE","amount":400},{"account":"UNAVAILABLE","amount":200}],'
     '"total":1000,"currency":"CNY"},"goods_detail":[{"merchant_goods_id":"SKU-1","wechatpay_goods_id":"1001",'
     '"goods_name":"iPhone 16 测试","unit_price":600,"refund_amount":600,"refund_quantity":1}]}'),
    ("query_refund_encoded", "GET", "/v3/refund/domestic/refunds/R-2026_11%7C23%2Ax%40y", ""),
    ("query_refund_sub_mchid", "GET", "/v3/refund/domestic/refunds/R20261123001?sub_mchid=1900000109", ""),
    ("apply_abnormal_refund", "POST",
     "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund",
     '{"out_refund_no":"R20261123001","type":"MERCHANT_BANK_CARD"}'),
    ("empty_body_post", "POST", "/v3/refund/domestic/refunds", ""),
]

EXPECTED_VERIFICATION = [
    # name, expect, timestamp offset from now (None = any within the window)
    ("ok_public_key", "ok", -10),
    ("ok_platform_cert", "ok", None),
    ("ok_platform_cert_serial_normalised", "ok", None),
    ("ok_empty_body", "ok", None),
    ("ok_window_edge_past", "ok", -300),
    ("ok_window_edge_future", "ok", 300),
    ("stale_timestamp", "timestamp", -301),
    ("future_timestamp", "timestamp", 301),
    ("tampered_body", "signature", None),
    ("wrong_key", "signature", None),
    ("probe", "probe", None),
    ("unknown_serial", "unknown_serial", None),
    ("wrong_signature_type", "signature_type", None),
    ("tampered_nonce", "signature", None),
]

# Every field of the apply-refund 200 response (seeds/refund-apply-v3.txt), except
# success_time which is only returned for status SUCCESS.
REFUND_RESPONSE_FIELDS = ["refund_id", "out_refund_no", "transaction_id", "out_trade_no", "channel",
                          "user_received_account", "create_time", "status", "funds_account", "amount",
                          "promotion_detail"]
REFUND_AMOUNT_FIELDS = ["total", "refund", "from", "payer_total", "payer_refund", "settlement_refund",
                        "settlement_total", "discount_refund", "currency", "refund_fee"]

EVENT_SUMMARY = {"REFUND.SUCCESS": ("退款成功", "SUCCESS"),
                 "REFUND.ABNORMAL": ("退款异常", "ABNORMAL"),
                 "REFUND.CLOSED": ("退款关闭", "CLOSED")}


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.fatal = False

    def check(self, cond, where, reason):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL [{where}] {reason}")
        return bool(cond)

    def guard(self, where, fn, *args):
        """Run fn; an exception counts as one failed check (never a crash)."""
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - report anything
            self.check(False, where, f"exception {type(e).__name__}: {e}")
            return None


# ----------------------------------------------------------------------------- primitives

def b64d(s):
    if not isinstance(s, str):
        raise ValueError("not a string")
    return base64.b64decode(s.encode("ascii"), validate=True)


def is_std_b64(s):
    try:
        raw = b64d(s)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
    return base64.b64encode(raw).decode("ascii") == s


def rsa_verify(pub, message, signature_b64):
    try:
        sig = b64d(signature_b64)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
    try:
        pub.verify(sig, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def oaep_sha1():
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def gcm_open(key, nonce, aad, ct_b64):
    """Return plaintext bytes, or None if authentication fails."""
    try:
        return AESGCM(key).decrypt(nonce, b64d(ct_b64), aad)
    except InvalidTag:
        return None


def pub_numbers(key):
    n = key.public_numbers() if isinstance(key, rsa.RSAPublicKey) else key.public_key().public_numbers()
    return (n.n, n.e)


def load_json(ck, path):
    where = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        obj = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        ck.check(False, where, f"missing or unreadable: {e}")
        ck.fatal = True
        return None
    ck.check(isinstance(obj, dict), where, "top level is not a JSON object")
    return obj if isinstance(obj, dict) else None


def keys_order(ck, where, obj, expected):
    ck.check(isinstance(obj, dict) and list(obj.keys()) == expected, where,
             f"keys {list(obj.keys()) if isinstance(obj, dict) else type(obj).__name__} != {expected}")


def parse_authorization(header):
    """Parse 'SCHEME k="v",k="v",...' (any field order). Returns (scheme, dict) or raises."""
    scheme, sep, rest = header.partition(" ")
    if not sep:
        raise ValueError("no space after scheme")
    fields = {}
    pos = 0
    pat = re.compile(r'([a-z_]+)="([^"]*)"')
    while pos < len(rest):
        m = pat.match(rest, pos)
        if not m:
            raise ValueError(f"bad field at offset {pos}: {rest[pos:pos + 20]!r}")
        if m.group(1) in fields:
            raise ValueError(f"duplicate field {m.group(1)}")
        fields[m.group(1)] = m.group(2)
        pos = m.end()
        if pos < len(rest):
            if rest[pos] != ",":
                raise ValueError(f"expected ',' at offset {pos}")
            pos += 1
            while pos < len(rest) and rest[pos] == " ":
                pos += 1
    return scheme, fields


# ----------------------------------------------------------------------------- keys.json

class Keys:
    pass


def check_keys(ck, d):
    obj = load_json(ck, os.path.join(d, "keys.json"))
    if obj is None:
        return None
    w = "keys.json"
    keys_order(ck, w, obj, ["_warning", "mchid", "sub_mchid", "api_v3_key", "merchant", "wechatpay_public_key",
                            "platform", "other", "rsa1024"])
    ck.check("TEST KEYS" in obj.get("_warning", "") and "Never use" in obj.get("_warning", ""), w,
             "_warning does not say test keys / never use")
    ck.check(obj.get("mchid") == EXPECT_MCHID, w, f"mchid {obj.get('mchid')!r}")
    ck.check(obj.get("sub_mchid") == EXPECT_SUB_MCHID, w, f"sub_mchid {obj.get('sub_mchid')!r}")
    ck.check(isinstance(obj.get("api_v3_key"), str) and ALNUM32.match(obj["api_v3_key"]) is not None, w,
             "api_v3_key is not 32 ASCII letters/digits")

    K = Keys()
    K.raw = obj
    K.api_v3_key = obj.get("api_v3_key", "")

    def load_pair(section, bits, extra_order):
        ws = f"{w}:{section}"
        sec = obj.get(section) or {}
        keys_order(ck, ws, sec, extra_order)
        for k, v in sec.items():
            if k.endswith("_pem"):
                ck.check(isinstance(v, str) and v.endswith("-----\n"), ws, f"{k} does not end with a newline")
        priv_pem = sec.get("private_key_pkcs8_pem", "")
        pub_pem = sec.get("public_key_pem", "")
        ck.check(priv_pem.startswith("-----BEGIN PRIVATE KEY-----\n"), ws, "private key is not PKCS#8 PEM")
        ck.check(pub_pem.startswith("-----BEGIN PUBLIC KEY-----\n"), ws, "public key is not SPKI PEM")
        priv = ck.guard(ws, lambda: serialization.load_pem_private_key(priv_pem.encode(), password=None))
        pub = ck.guard(ws, lambda: serialization.load_pem_public_key(pub_pem.encode()))
        if priv is None or pub is None:
            return None, None
        ck.check(isinstance(priv, rsa.RSAPrivateKey) and isinstance(pub, rsa.RSAPublicKey), ws, "not RSA")
        ck.check(priv.key_size == bits, ws, f"key size {priv.key_size} != {bits}")
        ck.check(priv.private_numbers().public_numbers.e == 65537, ws, "e != 65537")
        ck.check(pub_numbers(priv) == pub_numbers(pub), ws, "public_key_pem does not match the private key")
        return priv, pub

    K.merchant_priv, K.merchant_pub = load_pair(
        "merchant", 2048, ["serial_no", "private_key_pkcs8_pem", "private_key_pkcs1_pem", "public_key_pem"])
    K.wx_priv, K.wx_pub = load_pair("wechatpay_public_key", 2048, ["id", "private_key_pkcs8_pem", "public_key_pem"])
    K.plat_priv, K.plat_pub = load_pair(
        "platform", 2048, ["serial_no", "private_key_pkcs8_pem", "public_key_pem", "certificate_pem"])
    K.other_priv, K.other_pub = load_pair("other", 2048, ["private_key_pkcs8_pem", "public_key_pem", "_note"])
    K.small_priv, K.small_pub = load_pair("rsa1024", 1024, ["private_key_pkcs8_pem", "public_key_pem", "_note"])

    merchant = obj.get("merchant") or {}
    K.merchant_serial = merchant.get("serial_no", "")
    ck.check(HEX40.match(K.merchant_serial or "") is not None, f"{w}:merchant", "serial_no is not 40 uppercase hex")
    pk1 = merchant.get("private_key_pkcs1_pem", "")
    ck.check(pk1.startswith("-----BEGIN RSA PRIVATE KEY-----\n"), f"{w}:merchant", "pkcs1 PEM header")
    k1 = ck.guard(f"{w}:merchant", lambda: serialization.load_pem_private_key(pk1.encode(), password=None))
    if k1 is not None and K.merchant_priv is not None:
        ck.check(k1.private_numbers() == K.merchant_priv.private_numbers(), f"{w}:merchant",
                 "PKCS#1 and PKCS#8 PEMs are different keys")

    wxs = obj.get("wechatpay_public_key") or {}
    K.pub_key_id = wxs.get("id", "")
    ck.check(K.pub_key_id == EXPECT_PUB_KEY_ID, f"{w}:wechatpay_public_key", f"id {K.pub_key_id!r}")

    plat = obj.get("platform") or {}
    K.plat_serial = plat.get("serial_no", "")
    wp = f"{w}:platform"
    ck.check(HEX40.match(K.plat_serial or "") is not None and K.plat_serial.startswith("0"), wp,
             "serial_no is not 40 uppercase hex starting with 0")
    cert = ck.guard(wp, lambda: x509.load_pem_x509_certificate(plat.get("certificate_pem", "").encode()))
    if cert is not None:
        ck.check(cert.version == x509.Version.v3, wp, "certificate is not X.509 v3")
        ck.check(HEX40.match(K.plat_serial or "") is not None and cert.serial_number == int(K.plat_serial, 16), wp,
                 f"certificate serial {cert.serial_number:X} != serial_no")
        cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        org = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        ck.check(cn == ["Tenpay.com Root CA test"], wp, f"subject CN {cn}")
        ck.check(org == ["Tenpay.com TEST"], wp, f"subject O {org}")
        ck.check(cert.issuer == cert.subject, wp, "not self-issued")
        utc = datetime.timezone.utc
        ck.check(cert.not_valid_before_utc == datetime.datetime(2025, 1, 1, tzinfo=utc), wp,
                 f"notBefore {cert.not_valid_before_utc}")
        ck.check(cert.not_valid_after_utc == datetime.datetime(2035, 1, 1, tzinfo=utc), wp,
                 f"notAfter {cert.not_valid_after_utc}")
        ck.check(cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256, wp,
                 "not sha256WithRSAEncryption")
        if K.plat_pub is not None:
            ck.check(pub_numbers(cert.public_key()) == pub_numbers(K.plat_pub), wp,
                     "certificate key is not the platform key")
            try:
                K.plat_pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
                ok = True
            except InvalidSignature:
                ok = False
            ck.check(ok, wp, "certificate self-signature does not verify with the platform key")

    mods = [pub_numbers(k)[0] for k in (K.merchant_pub, K.wx_pub, K.plat_pub, K.other_pub, K.small_pub) if k]
    ck.check(len(set(mods)) == 5, w, "the five keys are not all distinct")
    if None in (K.merchant_priv, K.wx_priv, K.plat_priv, K.other_priv):
        ck.fatal = True
        return None
    return K


# ----------------------------------------------------------------------------- signing.json

def check_signing(ck, d, K):
    obj = load_json(ck, os.path.join(d, "signing.json"))
    if obj is None:
        return
    w = "signing.json"
    keys_order(ck, w, obj, ["_about", "mchid", "serial_no", "cases"])
    ck.check(obj.get("mchid") == EXPECT_MCHID, w, "mchid")
    ck.check(obj.get("serial_no") == K.merchant_serial, w, "serial_no != keys.json merchant serial_no")
    cases = obj.get("cases") or []
    ck.check([c.get("name") for c in cases] == [e[0] for e in EXPECTED_SIGNING], w,
             f"case names {[c.get('name') for c in cases]}")
    expected = {e[0]: e for e in EXPECTED_SIGNING}
    for c in cases:
        wc = f"{w}:{c.get('name')}"
        keys_order(ck, wc, c, ["name", "method", "url", "timestamp", "nonce", "body", "message", "signature",
                               "authorization"])
        e = expected.get(c.get("name"))
        if e:
            ck.check(c.get("method") == e[1], wc, f"method {c.get('method')!r} != {e[1]!r}")
            ck.check(c.get("url") == e[2], wc, f"url {c.get('url')!r} != {e[2]!r}")
            ck.check(c.get("body") == e[3], wc, "body differs from the literal body in the brief")
        ts, nonce = c.get("timestamp"), c.get("nonce", "")
        ck.check(type(ts) is int and abs(ts - EXPECT_NOW) < 86400, wc, f"timestamp {ts!r} not an int near now")
        ck.check(NONCE32.match(nonce or "") is not None, wc, f"nonce {nonce!r} not 32 chars of [0-9A-Z]")
        msg = f"{c.get('method')}\n{c.get('url')}\n{ts}\n{nonce}\n{c.get('body')}\n"
        ck.check(c.get("message") == msg, wc, "message is not METHOD\\nURL\\nTS\\nNONCE\\nBODY\\n")
        if c.get("method") == "GET":
            ck.check(c.get("message", "").endswith("\n\n"), wc, "GET message does not end with an empty body line")
        sig = c.get("signature", "")
        ck.check(is_std_b64(sig) and len(b64d(sig)) == 256, wc, "signature is not standard base64 of 256 bytes")
        ck.check(rsa_verify(K.merchant_pub, msg, sig), wc, "signature does not verify with the merchant public key")
        again = base64.b64encode(K.merchant_priv.sign(msg.encode("utf-8"), padding.PKCS1v15(),
                                                      hashes.SHA256())).decode()
        ck.check(again == sig, wc, "re-signing with the merchant key gives a different signature")
        auth = (f'{SCHEME} mchid="{EXPECT_MCHID}",nonce_str="{nonce}",signature="{sig}",'
                f'timestamp="{ts}",serial_no="{K.merchant_serial}"')
        ck.check(c.get("authorization") == auth, wc, "authorization header differs from the re-composed one")


# ----------------------------------------------------------------------------- verification.json

def serial_key(K, serial):
    """Own key lookup: PUB_KEY_ID exactly, platform serial hex case-insensitive ignoring leading zeros."""
    if not isinstance(serial, str) or not serial:
        return None
    if serial.startswith("PUB_KEY_ID_"):
        return K.wx_pub if serial == K.pub_key_id else None
    if re.fullmatch(r"[0-9A-Fa-f]+", serial) and serial.lower().lstrip("0") == K.plat_serial.lower().lstrip("0"):
        return K.plat_pub
    return None


def evaluate(K, now, serial, ts, nonce, body, signature, signature_type):
    """Return the set of reasons this message must be rejected (empty = ok)."""
    reasons = set()
    if signature_type != SCHEME:
        reasons.add("signature_type")
    if type(ts) is not int or abs(now - ts) > WINDOW:
        reasons.add("timestamp")
    if isinstance(signature, str) and signature.startswith(PROBE_PREFIX):
        reasons.add("probe")
    else:
        key = serial_key(K, serial)
        if key is None:
            reasons.add("unknown_serial")
        elif not rsa_verify(key, f"{ts}\n{nonce}\n{body}\n", signature):
            reasons.add("signature")
    return reasons


def check_verification(ck, d, K):
    obj = load_json(ck, os.path.join(d, "verification.json"))
    if obj is None:
        return
    w = "verification.json"
    keys_order(ck, w, obj, ["_about", "now", "cases"])
    now = obj.get("now")
    ck.check(now == EXPECT_NOW and type(now) is int, w, f"now {now!r} != {EXPECT_NOW}")
    cases = obj.get("cases") or []
    ck.check([c.get("name") for c in cases] == [e[0] for e in EXPECTED_VERIFICATION], w,
             f"case names {[c.get('name') for c in cases]}")
    by_name = {c.get("name"): c for c in cases}
    table = {e[0]: e for e in EXPECTED_VERIFICATION}
    for c in cases:
        name = c.get("name")
        wc = f"{w}:{name}"
        keys_order(ck, wc, c, ["name", "serial", "timestamp", "nonce", "body", "signature", "signature_type",
                               "request_id", "expect"])
        e = table.get(name)
        if e:
            ck.check(c.get("expect") == e[1], wc, f"expect {c.get('expect')!r} != {e[1]!r}")
            if e[2] is not None:
                ck.check(c.get("timestamp") == EXPECT_NOW + e[2], wc, f"timestamp is not now{e[2]:+d}")
        ck.check(NONCE32.match(c.get("nonce") or "") is not None, wc, "nonce not 32 chars of [0-9A-Z]")
        ck.check(isinstance(c.get("request_id"), str) and c["request_id"] != "", wc, "request_id missing")
        reasons = evaluate(K, now, c.get("serial"), c.get("timestamp"), c.get("nonce"), c.get("body"),
                           c.get("signature"), c.get("signature_type"))
        exp = c.get("expect")
        if exp == "ok":
            ck.check(not reasons, wc, f"expected ok but own evaluation rejects: {sorted(reasons)}")
        else:
            ck.check(reasons == {exp}, wc, f"expected exactly {exp!r}, own evaluation gives {sorted(reasons) or 'ok'}")
        if name != "ok_empty_body" and c.get("body"):
            body = ck.guard(wc, json.loads, c.get("body"))
            if isinstance(body, dict) and name != "tampered_body":
                check_refund_body(ck, wc, body)
    # case-specific structure
    c1 = by_name.get("ok_public_key", {})
    ck.check(c1.get("serial") == K.pub_key_id and c1.get("signature_type") == SCHEME, f"{w}:ok_public_key",
             "serial is not the PUB_KEY_ID")
    pc = by_name.get("ok_platform_cert", {})
    ck.check(pc.get("serial") == K.plat_serial, f"{w}:ok_platform_cert", "serial is not the platform serial_no")
    ck.check(rsa_verify(K.plat_pub, f"{pc.get('timestamp')}\n{pc.get('nonce')}\n{pc.get('body')}\n",
                        pc.get("signature", "")), f"{w}:ok_platform_cert", "not signed by the platform key")
    pn = by_name.get("ok_platform_cert_serial_normalised", {})
    ck.check(pn.get("serial") == K.plat_serial.lower().lstrip("0") and pn.get("serial") != K.plat_serial,
             f"{w}:ok_platform_cert_serial_normalised", "serial is not the lowercased, zero-stripped platform serial")
    ck.check(by_name.get("ok_empty_body", {}).get("body") == "", f"{w}:ok_empty_body", "body is not empty")
    tb = by_name.get("tampered_body", {})
    ck.check(tb.get("body") == c1.get("body", "").replace('"refund":100,', '"refund":10000,', 1)
             and tb.get("body") != c1.get("body"), f"{w}:tampered_body",
             "body is not case 1's body with refund 100 -> 10000")
    ck.check(rsa_verify(K.wx_pub, f"{tb.get('timestamp')}\n{tb.get('nonce')}\n{c1.get('body')}\n",
                        tb.get("signature", "")), f"{w}:tampered_body", "signature is not over case 1's body")
    wk = by_name.get("wrong_key", {})
    ck.check(wk.get("serial") == K.pub_key_id and
             rsa_verify(K.other_pub, f"{wk.get('timestamp')}\n{wk.get('nonce')}\n{wk.get('body')}\n",
                        wk.get("signature", "")), f"{w}:wrong_key", "not signed by the `other` key under PUB_KEY_ID")
    pr = by_name.get("probe", {})
    psig = pr.get("signature", "")
    ck.check(psig.startswith(PROBE_PREFIX) and is_std_b64(psig[len(PROBE_PREFIX):])
             and len(b64d(psig[len(PROBE_PREFIX):])) == 256 and pr.get("serial") == K.pub_key_id,
             f"{w}:probe", "signature is not WECHATPAY/SIGNTEST/ + base64(256 bytes) under PUB_KEY_ID")
    us = by_name.get("unknown_serial", {})
    ck.check(us.get("serial") == "PUB_KEY_ID_0119000000012026112399999999999999" and
             rsa_verify(K.wx_pub, f"{us.get('timestamp')}\n{us.get('nonce')}\n{us.get('body')}\n",
                        us.get("signature", "")), f"{w}:unknown_serial",
             "not the unknown PUB_KEY_ID or not validly signed by the wechatpay key")
    st = by_name.get("wrong_signature_type", {})
    ck.check(st.get("signature_type") == "WECHATPAY2-SHA256-ECDSA", f"{w}:wrong_signature_type",
             "signature_type is not WECHATPAY2-SHA256-ECDSA")
    for name in [e[0] for e in EXPECTED_VERIFICATION]:
        if name not in ("ok_platform_cert", "ok_platform_cert_serial_normalised", "unknown_serial"):
            ck.check(by_name.get(name, {}).get("serial") == K.pub_key_id, f"{w}:{name}", "serial is not PUB_KEY_ID")
    ids = [c.get("request_id") for c in cases]
    ck.check(len(set(ids)) == len(ids), w, "request_id values are not unique")


def check_refund_body(ck, wc, body):
    ck.check(all(k in body for k in REFUND_RESPONSE_FIELDS), wc,
             f"refund body lacks fields {[k for k in REFUND_RESPONSE_FIELDS if k not in body]}")
    ck.check(body.get("status") == "PROCESSING" and "success_time" not in body, wc,
             "refund body status is not PROCESSING (or carries success_time)")
    amt = body.get("amount") or {}
    ck.check(all(k in amt for k in REFUND_AMOUNT_FIELDS), wc,
             f"amount lacks fields {[k for k in REFUND_AMOUNT_FIELDS if k not in amt]}")
    ck.check(amt.get("refund") == 100 and amt.get("total") == 10000, wc, "amount is not refund 100 of 10000")
    ck.check(sum(f.get("amount", 0) for f in amt.get("from", [])) == amt.get("refund"), wc,
             "amount.from does not sum to refund")
    ck.check(any(p.get("type") == "COUPON" for p in body.get("promotion_detail") or []), wc,
             "no promotion_detail with type COUPON")


# ----------------------------------------------------------------------------- notification.json

def check_notification(ck, d, K):
    obj = load_json(ck, os.path.join(d, "notification.json"))
    if obj is None:
        return
    w = "notification.json"
    keys_order(ck, w, obj, ["_about", "now", "api_v3_key", "cases"])
    now = obj.get("now")
    ck.check(now == EXPECT_NOW, w, f"now {now!r}")
    ck.check(obj.get("api_v3_key") == K.api_v3_key, w, "api_v3_key differs from keys.json")
    key = K.api_v3_key.encode("ascii")
    ck.check(len(key) == 32, w, "api_v3_key is not 32 bytes")
    cases = obj.get("cases") or []
    names = ["refund_success", "refund_abnormal_service_provider", "refund_closed_no_aad"]
    ck.check([c.get("name") for c in cases] == names, w, f"case names {[c.get('name') for c in cases]}")
    for c in cases:
        name = c.get("name")
        wc = f"{w}:{name}"
        keys_order(ck, wc, c, ["name", "headers", "body", "plaintext", "expected"])
        h = c.get("headers") or {}
        hk = ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial",
              "Wechatpay-Signature-Type"]
        ck.check(list(h.keys()) in (hk, hk + ["Request-ID"]), wc, f"header names/order {list(h.keys())}")
        ts_s = h.get("Wechatpay-Timestamp", "")
        ck.check(isinstance(ts_s, str) and ts_s.isdigit(), wc, "Wechatpay-Timestamp is not a decimal string")
        ts = int(ts_s) if isinstance(ts_s, str) and ts_s.isdigit() else None
        body = c.get("body", "")
        reasons = evaluate(K, now, h.get("Wechatpay-Serial"), ts, h.get("Wechatpay-Nonce"), body,
                           h.get("Wechatpay-Signature"), h.get("Wechatpay-Signature-Type"))
        ck.check(not reasons, wc, f"header verification fails: {sorted(reasons)}")
        ck.check(NONCE32.match(h.get("Wechatpay-Nonce") or "") is not None, wc, "Wechatpay-Nonce format")
        env = ck.guard(wc, json.loads, body)
        if not isinstance(env, dict):
            continue
        ck.check(json.dumps(env, ensure_ascii=False, separators=(",", ":")) == body, wc,
                 "body is not compact JSON")
        keys_order(ck, wc + ":envelope", env, ["id", "create_time", "resource_type", "event_type", "summary",
                                               "resource"])
        ck.check(env.get("resource_type") == "encrypt-resource", wc, "resource_type")
        ck.check(RFC3339_08.match(env.get("create_time") or "") is not None, wc, "create_time is not RFC 3339 +08:00")
        ev = env.get("event_type")
        ck.check(ev in EVENT_SUMMARY and env.get("summary") == EVENT_SUMMARY[ev][0], wc,
                 f"event_type/summary {ev!r}/{env.get('summary')!r}")
        res = env.get("resource") or {}
        has_aad = "associated_data" in res
        ro = ["original_type", "algorithm", "ciphertext"] + (["associated_data"] if has_aad else []) + ["nonce"]
        keys_order(ck, wc + ":resource", res, ro)
        ck.check(res.get("original_type") == "refund" and res.get("algorithm") == "AEAD_AES_256_GCM", wc,
                 "original_type/algorithm")
        nonce = res.get("nonce", "")
        ck.check(isinstance(nonce, str) and nonce.isascii() and len(nonce) == 12, wc, "nonce is not 12 ASCII chars")
        aad = res.get("associated_data", "") if has_aad else ""
        ck.check(is_std_b64(res.get("ciphertext", "")), wc, "ciphertext is not standard base64")
        pt = ck.guard(wc, gcm_open, key, nonce.encode("ascii"), aad.encode("utf-8"), res.get("ciphertext", ""))
        ck.check(pt is not None and pt == c.get("plaintext", "").encode("utf-8"), wc,
                 "GCM decryption fails or differs from plaintext")
        if pt is not None:
            ck.check(gcm_open(key, nonce.encode("ascii"), (aad + "x").encode("utf-8"), res["ciphertext"]) is None,
                     wc, "GCM tag does not authenticate the associated data")
        plain = ck.guard(wc, json.loads, c.get("plaintext", ""))
        if not isinstance(plain, dict):
            continue
        ck.check(json.dumps(plain, ensure_ascii=False, separators=(",", ":")) == c.get("plaintext"), wc,
                 "plaintext is not compact JSON")
        exp = dict(plain)
        for k in ("id", "create_time", "event_type", "summary"):
            exp[k] = env.get(k)
        ck.check(c.get("expected") == exp and list((c.get("expected") or {}).keys()) == list(exp.keys()), wc,
                 "expected != decrypted fields + envelope id/create_time/event_type/summary")
        ck.check(ev in EVENT_SUMMARY and plain.get("refund_status") == EVENT_SUMMARY[ev][1], wc,
                 "refund_status does not match event_type")
        ck.check(plain.get("amount") == {"total": 10000, "refund": 100, "payer_total": 10000, "payer_refund": 100},
                 wc, f"amount {plain.get('amount')}")
        for k in ("out_trade_no", "transaction_id", "out_refund_no", "refund_id", "user_received_account"):
            ck.check(isinstance(plain.get(k), str) and plain[k], wc, f"plaintext lacks {k}")
        # case-specific
        if name == "refund_success":
            ck.check(ev == "REFUND.SUCCESS" and aad == "refund" and has_aad, wc, "event/associated_data")
            ck.check(h.get("Wechatpay-Serial") == K.pub_key_id, wc, "not under PUB_KEY_ID")
            ck.check(plain.get("mchid") == EXPECT_MCHID and "sp_mchid" not in plain, wc, "mchid")
            ck.check(RFC3339_08.match(plain.get("success_time") or "") is not None, wc, "success_time")
            ck.check(plain.get("user_received_account") == "招商银行信用卡0403", wc, "user_received_account")
        elif name == "refund_abnormal_service_provider":
            ck.check(ev == "REFUND.ABNORMAL" and has_aad and aad == "", wc,
                     "event or associated_data is not present-and-empty")
            ck.check(h.get("Wechatpay-Serial") == K.plat_serial, wc, "not under the platform serial")
            ck.check(plain.get("sp_mchid") == EXPECT_MCHID and plain.get("sub_mchid") == EXPECT_SUB_MCHID
                     and "mchid" not in plain, wc, "sp_mchid/sub_mchid")
            ck.check("success_time" not in plain, wc, "success_time present")
        elif name == "refund_closed_no_aad":
            ck.check(ev == "REFUND.CLOSED" and not has_aad, wc, "event or associated_data key present")
            ck.check(h.get("Wechatpay-Serial") == K.pub_key_id, wc, "not under PUB_KEY_ID")
            ck.check(plain.get("mchid") == EXPECT_MCHID, wc, "mchid")


# ----------------------------------------------------------------------------- oaep.json / gcm.json

def check_oaep(ck, d, K):
    obj = load_json(ck, os.path.join(d, "oaep.json"))
    if obj is None:
        return
    w = "oaep.json"
    keys_order(ck, w, obj, ["_about", "cases"])
    privs = {"wechatpay_public_key": K.wx_priv, "platform": K.plat_priv}
    seen = set()
    for c in obj.get("cases") or []:
        wc = f"{w}:{c.get('name')}"
        keys_order(ck, wc, c, ["name", "key", "plaintext", "ciphertext"])
        priv = privs.get(c.get("key"))
        ck.check(priv is not None, wc, f"unknown key {c.get('key')!r}")
        if priv is None:
            continue
        ct = c.get("ciphertext", "")
        ck.check(is_std_b64(ct) and len(b64d(ct)) == 256, wc, "ciphertext is not base64 of 256 bytes")
        pt = ck.guard(wc, lambda: priv.decrypt(b64d(ct), oaep_sha1()))
        ck.check(pt is not None and pt == c.get("plaintext", "").encode("utf-8"), wc,
                 "OAEP-SHA1 decryption differs from plaintext")
        seen.add((c.get("key"), c.get("plaintext")))
    want = {(k, p) for k in privs for p in ("6222021234567890", "张三")}
    ck.check(seen == want, w, f"cases cover {sorted(seen)} instead of {sorted(want)}")


def check_gcm(ck, d, K):
    obj = load_json(ck, os.path.join(d, "gcm.json"))
    if obj is None:
        return
    w = "gcm.json"
    keys_order(ck, w, obj, ["_about", "cases"])
    cases = obj.get("cases") or []
    ck.check(len(cases) == 4, w, f"{len(cases)} cases, want 4")
    for c in cases:
        wc = f"{w}:{c.get('name')}"
        keys_order(ck, wc, c, ["name", "key", "nonce", "associated_data", "plaintext", "ciphertext"])
        k, n = c.get("key", ""), c.get("nonce", "")
        ck.check(k.isascii() and len(k) == 32, wc, "key is not 32 ASCII chars")
        ck.check(n.isascii() and len(n) == 12, wc, "nonce is not 12 ASCII chars")
        if not (k.isascii() and len(k) == 32 and n.isascii() and len(n) == 12):
            continue
        pt = ck.guard(wc, gcm_open, k.encode(), n.encode(), c.get("associated_data", "").encode("utf-8"),
                      c.get("ciphertext", ""))
        ck.check(pt is not None and pt == c.get("plaintext", "").encode("utf-8"), wc,
                 "GCM decryption fails or differs from plaintext")
        ck.check(len(b64d(c.get("ciphertext", ""))) == len(c.get("plaintext", "").encode("utf-8")) + 16
                 if is_std_b64(c.get("ciphertext", "")) else False, wc, "ciphertext is not plaintext + 16-byte tag")
    ck.check(any(c.get("associated_data") == "" for c in cases), w, "no case with empty associated_data")
    ck.check(any(c.get("plaintext") == "" for c in cases), w, "no case with empty plaintext")
    ck.check(any(re.search(r"[\u4e00-\u9fff]", c.get("plaintext", "")) for c in cases), w,
             "no case with Chinese plaintext")


# ----------------------------------------------------------------------------- --rust-output

def check_rust_output(ck, path):
    obj = load_json(ck, path)
    if obj is None:
        return
    w = "rust-output"
    known = {"signatures", "authorizations", "oaep", "gcm"}
    ck.check(set(obj.keys()) <= known, w, f"unknown sections {sorted(set(obj.keys()) - known)}")
    for i, e in enumerate(obj.get("signatures") or []):
        wc = f"{w}:signatures[{i}]"
        pub = ck.guard(wc, lambda: serialization.load_pem_public_key(e["public_key_pem"].encode()))
        if pub is None:
            continue
        ck.check(isinstance(e.get("message"), str) and rsa_verify(pub, e["message"], e.get("signature", "")), wc,
                 "PKCS1v15-SHA256 signature does not verify")
    for i, e in enumerate(obj.get("authorizations") or []):
        wc = f"{w}:authorizations[{i}]"
        pub = ck.guard(wc, lambda: serialization.load_pem_public_key(e["public_key_pem"].encode()))
        parsed = ck.guard(wc, parse_authorization, e.get("authorization", ""))
        if pub is None or parsed is None:
            continue
        scheme, f = parsed
        ck.check(scheme == SCHEME, wc, f"scheme {scheme!r}")
        need = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
        ck.check(set(f.keys()) == need, wc, f"fields {sorted(f.keys())}, want {sorted(need)}")
        ck.check(f.get("mchid") == e.get("mchid"), wc, f"mchid {f.get('mchid')!r} != {e.get('mchid')!r}")
        ck.check(f.get("serial_no") == e.get("serial_no"), wc,
                 f"serial_no {f.get('serial_no')!r} != {e.get('serial_no')!r}")
        ts, nonce = f.get("timestamp", ""), f.get("nonce_str", "")
        ck.check(ts.isdigit(), wc, f"timestamp {ts!r} is not decimal seconds")
        ck.check(nonce != "", wc, "empty nonce_str")
        msg = f"{e.get('method')}\n{e.get('url')}\n{ts}\n{nonce}\n{e.get('body')}\n"
        ck.check(rsa_verify(pub, msg, f.get("signature", "")), wc,
                 "signature does not verify over METHOD\\nURL\\nTS\\nNONCE\\nBODY\\n")
    for i, e in enumerate(obj.get("oaep") or []):
        wc = f"{w}:oaep[{i}]"
        priv = ck.guard(wc, lambda: serialization.load_pem_private_key(e["private_key_pem"].encode(), password=None))
        if priv is None:
            continue
        pt = ck.guard(wc, lambda: priv.decrypt(b64d(e.get("ciphertext", "")), oaep_sha1()))
        ck.check(pt is not None and pt == e.get("plaintext", "").encode("utf-8"), wc,
                 "OAEP-SHA1 decryption fails or differs from plaintext")
    for i, e in enumerate(obj.get("gcm") or []):
        wc = f"{w}:gcm[{i}]"
        k, n = e.get("key", ""), e.get("nonce", "")
        ok = ck.check(len(k.encode("utf-8")) == 32 and len(n.encode("utf-8")) == 12, wc,
                      "key is not 32 bytes or nonce is not 12 bytes")
        if not ok:
            continue
        pt = ck.guard(wc, gcm_open, k.encode("utf-8"), n.encode("utf-8"),
                      e.get("associated_data", "").encode("utf-8"), e.get("ciphertext", ""))
        ck.check(pt is not None and pt == e.get("plaintext", "").encode("utf-8"), wc,
                 "GCM decryption fails or differs from plaintext")


# ----------------------------------------------------------------------------- notification_mismatch.json

def merchant_verdict(plain, event_type, mchid, service_provider):
    """The merchant rule, written again from the protocol notes: a refund event, and in
    service-provider mode sp_mchid = the configured merchant with a sub_mchid present; for a
    direct merchant mchid (or, failing that, sp_mchid) = the configured merchant."""
    if not event_type.startswith("REFUND."):
        return {"error": "NotificationMismatch", "field": "event_type"}
    if service_provider:
        if plain.get("sp_mchid") != mchid:
            return {"error": "NotificationMismatch", "field": "sp_mchid"}
        if not plain.get("sub_mchid"):
            return {"error": "NotificationMismatch", "field": "sub_mchid"}
    elif (plain.get("mchid") or plain.get("sp_mchid")) != mchid:
        return {"error": "NotificationMismatch", "field": "mchid"}
    return {"ok": True}


def check_notification_mismatch(ck, d, K):
    w = "notification_mismatch.json"
    obj = load_json(ck, os.path.join(d, w))
    if obj is None:
        return
    now = obj.get("now")
    ck.check(now == EXPECT_NOW, w, f"now {now!r}")
    key = K.api_v3_key.encode("ascii")
    cases = obj.get("cases") or []
    ck.check(len(cases) >= 6, w, "too few cases")
    verdicts = set()
    for c in cases:
        wc = f"{w}:{c.get('name')}"
        h = c.get("headers") or {}
        ts_s = h.get("Wechatpay-Timestamp", "")
        ts = int(ts_s) if isinstance(ts_s, str) and ts_s.isdigit() else None
        body = c.get("body", "")
        reasons = evaluate(K, now, h.get("Wechatpay-Serial"), ts, h.get("Wechatpay-Nonce"), body,
                           h.get("Wechatpay-Signature"), h.get("Wechatpay-Signature-Type"))
        ck.check(not reasons, wc, f"header verification fails: {sorted(reasons)}")
        env = ck.guard(wc, json.loads, body)
        if not isinstance(env, dict):
            continue
        res = env.get("resource") or {}
        pt = ck.guard(wc, gcm_open, key, res.get("nonce", "").encode("ascii"),
                      res.get("associated_data", "").encode("utf-8"), res.get("ciphertext", ""))
        ck.check(pt is not None and pt == c.get("plaintext", "").encode("utf-8"), wc,
                 "GCM decryption fails or differs from plaintext")
        plain = ck.guard(wc, json.loads, c.get("plaintext", "{}"))
        if not isinstance(plain, dict):
            continue
        cfg = c.get("config") or {}
        verdict = merchant_verdict(plain, env.get("event_type", ""), cfg.get("mchid"), cfg.get("service_provider"))
        ck.check(c.get("expect") == verdict, wc, f"expect {c.get('expect')} but the rule gives {verdict}")
        verdicts.add(json.dumps(verdict, sort_keys=True))
    ck.check(len(verdicts) >= 5, w, "the cases do not cover every verdict")


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="Re-check the wechatpay-refund golden test vectors.")
    ap.add_argument("--vectors-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--rust-output", metavar="FILE", help="check only this Rust-produced artifact file")
    args = ap.parse_args()
    ck = Checker()
    try:
        if args.rust_output:
            check_rust_output(ck, args.rust_output)
        else:
            K = check_keys(ck, args.vectors_dir)
            if K is not None:
                for fn in (check_signing, check_verification, check_notification, check_notification_mismatch,
                           check_oaep, check_gcm):
                    ck.guard(fn.__name__, fn, ck, args.vectors_dir, K)
            else:
                ck.check(False, "keys.json", "keys unusable; other files not checked")
    except Exception as e:  # noqa: BLE001 - the summary line must always be printed
        ck.check(False, "check_vectors", f"unexpected exception {type(e).__name__}: {e}")
    print(f"check_vectors: {ck.passed} passed, {ck.failed} failed")
    return 1 if (ck.failed > 0 or ck.fatal) else 0


if __name__ == "__main__":
    sys.exit(main())
