#!/usr/bin/env python3
"""Generate the golden test vectors for wechatpay-refund.

Usage: python3 tests/vectors/gen_vectors.py [--vectors-dir DIR]

Keys are generated ONCE: if keys.json exists it is reused as is (and never rewritten);
otherwise fresh keys are created.  Everything else is derived deterministically from
the keys (RSASSA-PKCS1-v1_5 signatures are deterministic, GCM nonces are fixed), so
running this twice gives byte-identical signing/verification/notification/gcm files.
Only RSA-OAEP is randomised: existing oaep.json ciphertexts are kept when they still
decrypt to the right plaintext with the right key, so oaep.json is stable as well.

TEST KEYS ONLY.  Requires the `cryptography` package.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import string
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

MCHID = "1900000001"
SUB_MCHID = "1900000109"
PUB_KEY_ID = "PUB_KEY_ID_0119000000012026112300000000000001"
UNKNOWN_PUB_KEY_ID = "PUB_KEY_ID_0119000000012026112399999999999999"
SIG_TYPE = "WECHATPAY2-SHA256-RSA2048"
NOW = 1795000000  # 2026-11-18T19:06:40+08:00
TZ8 = datetime.timezone(datetime.timedelta(hours=8))


# ----------------------------------------------------------------------------- helpers

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dump(path: str, obj) -> None:
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def load_private(pem: str):
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


def load_public(pem: str):
    return serialization.load_pem_public_key(pem.encode("ascii"))


def sign(private_key, message: str) -> str:
    sig = private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return b64(sig)


def rfc3339(ts: int) -> str:
    return datetime.datetime.fromtimestamp(ts, TZ8).isoformat()


def pkcs8_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def pkcs1_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def spki_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def deterministic_bytes(label: str, n: int) -> bytes:
    """Fixed 'random-looking' bytes (SHA-256 in counter mode over a label)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode("ascii")).digest()
        i += 1
    return out[:n]


# ----------------------------------------------------------------------------- keys

def new_rsa(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_keys() -> dict:
    alnum = string.ascii_letters + string.digits
    api_v3_key = "".join(secrets.choice(alnum) for _ in range(32))
    merchant_serial = secrets.token_hex(20).upper()
    # Platform serial: 40 uppercase hex digits, the first one 0 (the second one non-zero,
    # so exactly one leading zero gets stripped by normalisation).  With the top nibble
    # clear the serial is a positive 20-octet DER integer, as X.509 requires.
    platform_serial = "0" + secrets.choice("123456789ABCDEF") + secrets.token_hex(19).upper()

    merchant = new_rsa()
    wechatpay = new_rsa()
    platform = new_rsa()
    other = new_rsa()
    small = new_rsa(1024)

    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA test"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com TEST"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(platform.public_key())
        .serial_number(int(platform_serial, 16))
        .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
        .not_valid_after(datetime.datetime(2035, 1, 1, tzinfo=datetime.timezone.utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(platform.public_key()), critical=False)
        .sign(platform, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    return {
        "_warning": "TEST KEYS generated for the wechatpay-refund test suite only. Never use them for anything real.",
        "mchid": MCHID,
        "sub_mchid": SUB_MCHID,
        "api_v3_key": api_v3_key,
        "merchant": {
            "serial_no": merchant_serial,
            "private_key_pkcs8_pem": pkcs8_pem(merchant),
            "private_key_pkcs1_pem": pkcs1_pem(merchant),
            "public_key_pem": spki_pem(merchant),
        },
        "wechatpay_public_key": {
            "id": PUB_KEY_ID,
            "private_key_pkcs8_pem": pkcs8_pem(wechatpay),
            "public_key_pem": spki_pem(wechatpay),
        },
        "platform": {
            "serial_no": platform_serial,
            "private_key_pkcs8_pem": pkcs8_pem(platform),
            "public_key_pem": spki_pem(platform),
            "certificate_pem": cert_pem,
        },
        "other": {
            "private_key_pkcs8_pem": pkcs8_pem(other),
            "public_key_pem": spki_pem(other),
            "_note": "an unrelated key, for wrong-key tests",
        },
        "rsa1024": {
            "private_key_pkcs8_pem": pkcs8_pem(small),
            "public_key_pem": spki_pem(small),
            "_note": "too small; must be rejected",
        },
    }


# ----------------------------------------------------------------------------- signing.json

BODY_CREATE_REFUND = (
    '{"out_trade_no":"1217752501201407033233368018","out_refund_no":"R20261123001",'
    '"reason":"商品已售完","notify_url":"https://merchant.example.com/wechatpay/refund-notify",'
    '"amount":{"refund":888,"total":888,"currency":"CNY"}}'
)
BODY_CREATE_REFUND_FULL = (
    '{"sub_mchid":"1900000109","transaction_id":"1217752501201407033233368018",'
    '"out_refund_no":"R-2026_11|23*x@y","reason":"部分退款","notify_url":"https://merchant.example.com/notify",'
    '"funds_account":"AVAILABLE","amount":{"refund":600,"from":[{"account":"AVAILABLE","amount":400},'
    '{"account":"UNAVAILABLE","amount":200}],"total":1000,"currency":"CNY"},'
    '"goods_detail":[{"merchant_goods_id":"SKU-1","wechatpay_goods_id":"1001","goods_name":"iPhone 16 测试",'
    '"unit_price":600,"refund_amount":600,"refund_quantity":1}]}'
)
BODY_ABNORMAL = '{"out_refund_no":"R20261123001","type":"MERCHANT_BANK_CARD"}'

SIGNING_CASES = [
    # name, method, url, timestamp, nonce, body
    ("create_refund", "POST", "/v3/refund/domestic/refunds",
     1795000000, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", BODY_CREATE_REFUND),
    ("create_refund_full", "POST", "/v3/refund/domestic/refunds",
     1795000013, "Q9XWZ3D7B1M0R6T8Y2K4N5P7H3J1L0A9", BODY_CREATE_REFUND_FULL),
    ("query_refund_encoded", "GET", "/v3/refund/domestic/refunds/R-2026_11%7C23%2Ax%40y",
     1795000021, "0123456789ABCDEFGHIJKLMNOPQRSTUV", ""),
    ("query_refund_sub_mchid", "GET", "/v3/refund/domestic/refunds/R20261123001?sub_mchid=1900000109",
     1795000034, "ZYXWVUTSRQPONMLKJIHGFEDCBA987654", ""),
    ("apply_abnormal_refund", "POST",
     "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund",
     1795000055, "7F3A9C2E1B8D4F6A0C5E9B3D7A1F2C4E", BODY_ABNORMAL),
    ("empty_body_post", "POST", "/v3/refund/domestic/refunds",
     1795000089, "E2MPTY0B0DY0P0ST000000000000000X", ""),
]


def gen_signing(keys: dict) -> dict:
    merchant = load_private(keys["merchant"]["private_key_pkcs8_pem"])
    serial = keys["merchant"]["serial_no"]
    cases = []
    for name, method, url, ts, nonce, body in SIGNING_CASES:
        message = f"{method}\n{url}\n{ts}\n{nonce}\n{body}\n"
        signature = sign(merchant, message)
        authorization = (
            f'{SIG_TYPE} mchid="{MCHID}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{ts}",serial_no="{serial}"'
        )
        cases.append({
            "name": name,
            "method": method,
            "url": url,
            "timestamp": ts,
            "nonce": nonce,
            "body": body,
            "message": message,
            "signature": signature,
            "authorization": authorization,
        })
    return {
        "_about": "Request signing: message = METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n, signed RSASSA-PKCS1-v1_5/SHA-256 "
                  "with keys.json merchant key; authorization is the full Authorization header value.",
        "mchid": MCHID,
        "serial_no": serial,
        "cases": cases,
    }


# ----------------------------------------------------------------------------- verification.json

def refund_response_body() -> str:
    """A 200 apply-refund response with every documented field (status PROCESSING,
    so no success_time), including an unknown promotion type "COUPON"."""
    obj = {
        "refund_id": "50000000382019052709732678859",
        "out_refund_no": "R20261123001",
        "transaction_id": "4200002654202611184718563921",
        "out_trade_no": "1217752501201407033233368018",
        "channel": "ORIGINAL",
        "user_received_account": "招商银行信用卡0403",
        "create_time": "2026-11-18T19:06:28+08:00",
        "status": "PROCESSING",
        "funds_account": "AVAILABLE",
        "amount": {
            "total": 10000,
            "refund": 100,
            "from": [{"account": "AVAILABLE", "amount": 100}],
            "payer_total": 9000,
            "payer_refund": 90,
            "settlement_refund": 100,
            "settlement_total": 10000,
            "discount_refund": 10,
            "currency": "CNY",
            "refund_fee": 1,
        },
        "promotion_detail": [
            {
                "coupon_id": "109519",
                "name": "单品立减5元",
                "scope": "SINGLE",
                "type": "CASH",
                "amount": 500,
                "stock_id": "931386",
                "wechatpay_contribute": 0,
                "merchant_contribute": 500,
                "other_contribute": 0,
                "currency": "CNY",
                "goods_detail": [
                    {
                        "goods_id": 1001,
                        "quantity": 1,
                        "unit_price": 5000,
                        "discount_amount": 500,
                        "goods_remark": "测试商品备注",
                    }
                ],
            },
            {
                "promotion_id": "109520",
                "name": "全场满减5元",
                "scope": "GLOBAL",
                "type": "COUPON",
                "amount": 500,
                "refund_amount": 5,
            },
        ],
    }
    return compact(obj)


def gen_verification(keys: dict) -> dict:
    wx = load_private(keys["wechatpay_public_key"]["private_key_pkcs8_pem"])
    plat = load_private(keys["platform"]["private_key_pkcs8_pem"])
    other = load_private(keys["other"]["private_key_pkcs8_pem"])
    plat_serial = keys["platform"]["serial_no"]
    plat_serial_norm = plat_serial.lower().lstrip("0")
    body = refund_response_body()
    tampered = body.replace('"refund":100,', '"refund":10000,', 1)
    assert tampered != body

    def case(name, serial, ts, nonce, body, key, request_id, expect,
             signature_type=SIG_TYPE, sign_nonce=None, signature=None):
        if signature is None:
            signature = sign(key, f"{ts}\n{sign_nonce or nonce}\n{body}\n")
        return {
            "name": name,
            "serial": serial,
            "timestamp": ts,
            "nonce": nonce,
            "body": body,
            "signature": signature,
            "signature_type": signature_type,
            "request_id": request_id,
            "expect": expect,
        }

    probe_sig = "WECHATPAY/SIGNTEST/" + b64(deterministic_bytes("wechatpay-refund probe signature", 256))
    n1 = "A1B2C3D4E5F6G7H8J9K0L1M2N3P4Q5R6"
    c = []
    c.append(case("ok_public_key", PUB_KEY_ID, NOW - 10, n1, body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010000", "ok"))
    c.append(case("ok_platform_cert", plat_serial, NOW - 12, "PLATF0RMCERT0000000000000000SER1", body, plat,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010001", "ok"))
    c.append(case("ok_platform_cert_serial_normalised", plat_serial_norm, NOW - 14,
                  "PLATF0RMCERT0000000000000000SER2", body, plat,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010002", "ok"))
    c.append(case("ok_empty_body", PUB_KEY_ID, NOW - 3, "EMPTYB0DY000000000000000000000NC", "", wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010003", "ok"))
    c.append(case("ok_window_edge_past", PUB_KEY_ID, NOW - 300, "WINDOWEDGEPAST000000000000000300", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010004", "ok"))
    c.append(case("ok_window_edge_future", PUB_KEY_ID, NOW + 300, "WINDOWEDGEFUTURE0000000000000300", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010005", "ok"))
    c.append(case("stale_timestamp", PUB_KEY_ID, NOW - 301, "STALETIMESTAMP000000000000000301", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010006", "timestamp"))
    c.append(case("future_timestamp", PUB_KEY_ID, NOW + 301, "FUTURETIMESTAMP00000000000000301", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010007", "timestamp"))
    # Signature of case 1 (same timestamp, nonce and signature) over the original body.
    c.append(case("tampered_body", PUB_KEY_ID, NOW - 10, n1, tampered, None,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010008", "signature", signature=c[0]["signature"]))
    c.append(case("wrong_key", PUB_KEY_ID, NOW - 20, "WR0NGKEY000000000000000000000000", body, other,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D6010009", "signature"))
    c.append(case("probe", PUB_KEY_ID, NOW - 5, "SIGNTESTPR0BE0000000000000000000", body, None,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D601000A", "probe", signature=probe_sig))
    c.append(case("unknown_serial", UNKNOWN_PUB_KEY_ID, NOW - 30, "UNKN0WNSERIAL0000000000000000000", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D601000B", "unknown_serial"))
    c.append(case("wrong_signature_type", PUB_KEY_ID, NOW - 40, "SIGNATURETYPEECDSA00000000000000", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D601000C", "signature_type",
                  signature_type="WECHATPAY2-SHA256-ECDSA"))
    c.append(case("tampered_nonce", PUB_KEY_ID, NOW - 50, "TAMPEREDN0NCE00000000000000000XX", body, wx,
                  "08F78BB5AF0610D302E5A1D3B2B70100A0D601000D", "signature",
                  sign_nonce="TAMPEREDN0NCE00000000000000000OK"))
    return {
        "_about": "Response/callback verification: message = TIMESTAMP\\nNONCE\\nBODY\\n, RSASSA-PKCS1-v1_5/SHA-256 by the key "
                  "named by serial (PUB_KEY_ID -> wechatpay_public_key, platform serial -> platform, compared "
                  "case-insensitively ignoring leading zeros); window |now - timestamp| <= 300 s; expect is the outcome.",
        "now": NOW,
        "cases": c,
    }


# ----------------------------------------------------------------------------- notification.json

def gen_notification(keys: dict) -> dict:
    api_v3_key = keys["api_v3_key"]
    aes = AESGCM(api_v3_key.encode("ascii"))
    wx = load_private(keys["wechatpay_public_key"]["private_key_pkcs8_pem"])
    plat = load_private(keys["platform"]["private_key_pkcs8_pem"])
    plat_serial = keys["platform"]["serial_no"]
    amount = {"total": 10000, "refund": 100, "payer_total": 10000, "payer_refund": 100}

    specs = [
        {
            "name": "refund_success",
            "id": "3d8f6a2c-5b1e-5c7a-9e4d-2f6b8a0c1e35",
            "create_time": rfc3339(NOW - 8),
            "event_type": "REFUND.SUCCESS",
            "summary": "退款成功",
            "aad": "refund",
            "gcm_nonce": "gdkUxCbHfwFa",
            "plaintext": {
                "mchid": MCHID,
                "out_trade_no": "1217752501201407033233368018",
                "transaction_id": "4200002654202611184718563921",
                "out_refund_no": "R20261123001",
                "refund_id": "50000000382019052709732678859",
                "refund_status": "SUCCESS",
                "success_time": rfc3339(NOW - 9),
                "user_received_account": "招商银行信用卡0403",
                "amount": amount,
            },
            "key": wx, "serial": PUB_KEY_ID,
            "ts": NOW - 6, "nonce": "N0TIFYSUCCESS0000000000000000001",
            "request_id": "08F78BB5AF0610D302E5A1D3B2B70100A0D6020000",
        },
        {
            "name": "refund_abnormal_service_provider",
            "id": "7b2e9c41-0d3f-5a86-b1c7-4e9a2d6f8c03",
            "create_time": rfc3339(NOW - 18),
            "event_type": "REFUND.ABNORMAL",
            "summary": "退款异常",
            "aad": "",
            "gcm_nonce": "Ab12Cd34Ef56",
            "plaintext": {
                "sp_mchid": MCHID,
                "sub_mchid": SUB_MCHID,
                "out_trade_no": "1217752501201407033233368019",
                "transaction_id": "4200002654202611184718563922",
                "out_refund_no": "R-2026_11|23*x@y",
                "refund_id": "50000000382019052709732678860",
                "refund_status": "ABNORMAL",
                "user_received_account": "招商银行信用卡0403",
                "amount": amount,
            },
            "key": plat, "serial": plat_serial,
            "ts": NOW - 16, "nonce": "N0TIFYABNORMAL000000000000000002",
            "request_id": "08F78BB5AF0610D302E5A1D3B2B70100A0D6020001",
        },
        {
            "name": "refund_closed_no_aad",
            "id": "c5a1f0e8-6d24-5b93-8f7e-0a3c5e7b9d12",
            "create_time": rfc3339(NOW - 28),
            "event_type": "REFUND.CLOSED",
            "summary": "退款关闭",
            "aad": None,  # key absent, AAD = empty bytes
            "gcm_nonce": "zZ9yY8xX7wW6",
            "plaintext": {
                "mchid": MCHID,
                "out_trade_no": "1217752501201407033233368020",
                "transaction_id": "4200002654202611184718563923",
                "out_refund_no": "R20261123003",
                "refund_id": "50000000382019052709732678861",
                "refund_status": "CLOSED",
                "user_received_account": "支付用户零钱",
                "amount": amount,
            },
            "key": wx, "serial": PUB_KEY_ID,
            "ts": NOW - 26, "nonce": "N0TIFYCLOSED00000000000000000003",
            "request_id": None,  # no Request-ID header
        },
    ]

    cases = [notification_case(aes, s) for s in specs]
    return {
        "_about": "Complete refund notifications: headers signed like responses (TIMESTAMP\\nNONCE\\nBODY\\n), resource "
                  "AEAD_AES_256_GCM with key = api_v3_key, nonce/associated_data as ASCII/UTF-8 bytes, tag appended; "
                  "expected = decrypted fields + envelope id/create_time/event_type/summary.",
        "now": NOW,
        "api_v3_key": api_v3_key,
        "cases": cases,
    }


def notification_case(aes, s) -> dict:
    """One signed and encrypted notification from a spec of gen_notification's shape."""
    if True:
        plaintext = compact(s["plaintext"])
        aad = s["aad"] or ""
        ct = aes.encrypt(s["gcm_nonce"].encode("ascii"), plaintext.encode("utf-8"), aad.encode("utf-8"))
        resource = {"original_type": "refund", "algorithm": "AEAD_AES_256_GCM", "ciphertext": b64(ct)}
        if s["aad"] is not None:
            resource["associated_data"] = s["aad"]
        resource["nonce"] = s["gcm_nonce"]
        envelope = {
            "id": s["id"],
            "create_time": s["create_time"],
            "resource_type": "encrypt-resource",
            "event_type": s["event_type"],
            "summary": s["summary"],
            "resource": resource,
        }
        body = compact(envelope)
        headers = {
            "Wechatpay-Timestamp": str(s["ts"]),
            "Wechatpay-Nonce": s["nonce"],
            "Wechatpay-Signature": sign(s["key"], f"{s['ts']}\n{s['nonce']}\n{body}\n"),
            "Wechatpay-Serial": s["serial"],
            "Wechatpay-Signature-Type": SIG_TYPE,
        }
        if s["request_id"] is not None:
            headers["Request-ID"] = s["request_id"]
        expected = dict(s["plaintext"])
        expected.update({
            "id": s["id"],
            "create_time": s["create_time"],
            "event_type": s["event_type"],
            "summary": s["summary"],
        })
        return {
            "name": s["name"],
            "headers": headers,
            "body": body,
            "plaintext": plaintext,
            "expected": expected,
        }


# ----------------------------------------------------------------------------- notification_mismatch.json

def gen_notification_mismatch(keys: dict) -> dict:
    """Correctly signed and encrypted notifications that the configured merchant must refuse
    (or accept), each with the configuration to parse it under and the expected verdict: the
    differential tests of the accelerated paths run them on both paths."""
    aes = AESGCM(keys["api_v3_key"].encode("ascii"))
    wx = load_private(keys["wechatpay_public_key"]["private_key_pkcs8_pem"])
    amount = {"total": 10000, "refund": 100, "payer_total": 10000, "payer_refund": 100}
    direct = {"mchid": MCHID}
    sp = {"sp_mchid": MCHID, "sub_mchid": SUB_MCHID}

    def refund(owner, n, status="SUCCESS"):
        p = dict(owner)
        p.update({
            "out_trade_no": f"12177525012014070332334{n:05d}",
            "transaction_id": f"42000026542026111847185{n:05d}",
            "out_refund_no": f"RM{n:04d}",
            "refund_id": f"500000003820190527097326{n:05d}",
            "refund_status": status,
            "user_received_account": "招商银行信用卡0403",
            "amount": amount,
        })
        if status == "SUCCESS":
            p["success_time"] = rfc3339(NOW - 60 - n)
        return p

    event_of = {"SUCCESS": ("REFUND.SUCCESS", "退款成功"), "ABNORMAL": ("REFUND.ABNORMAL", "退款异常")}
    rows = [
        # name, plaintext, event override, config, expected verdict
        ("direct_for_another_mchid", refund(direct, 1), None,
         {"mchid": "1999999999", "service_provider": False}, {"error": "NotificationMismatch", "field": "mchid"}),
        ("direct_under_a_service_provider_config", refund(direct, 2), None,
         {"mchid": MCHID, "service_provider": True}, {"error": "NotificationMismatch", "field": "sp_mchid"}),
        ("service_provider_without_sub_mchid", refund({"sp_mchid": MCHID}, 3), None,
         {"mchid": MCHID, "service_provider": True}, {"error": "NotificationMismatch", "field": "sub_mchid"}),
        ("service_provider_for_another_sp_mchid", refund(sp, 4), None,
         {"mchid": "1999999999", "service_provider": True}, {"error": "NotificationMismatch", "field": "sp_mchid"}),
        ("service_provider_under_the_sub_merchants_direct_config", refund(sp, 5), None,
         {"mchid": SUB_MCHID, "service_provider": False}, {"error": "NotificationMismatch", "field": "mchid"}),
        ("another_event_type", refund(direct, 6), ("TRANSACTION.SUCCESS", "支付成功"),
         {"mchid": MCHID, "service_provider": False}, {"error": "NotificationMismatch", "field": "event_type"}),
        ("service_provider_matching", refund(sp, 7, "ABNORMAL"), None,
         {"mchid": MCHID, "service_provider": True}, {"ok": True}),
        ("direct_matching", refund(direct, 8), None,
         {"mchid": MCHID, "service_provider": False}, {"ok": True}),
    ]
    cases = []
    for i, (name, plain, event, config, expect) in enumerate(rows):
        event_type, summary = event or event_of[plain["refund_status"]]
        spec = {
            "name": name,
            "id": f"9a0b1c2d-3e4f-5a6b-8c7d-{i:012d}",
            "create_time": rfc3339(NOW - 30 - i),
            "event_type": event_type,
            "summary": summary,
            "aad": "refund",
            "gcm_nonce": f"mIsMaTcH{i:04d}",
            "plaintext": plain,
            "key": wx, "serial": PUB_KEY_ID,
            "ts": NOW - 20 - i, "nonce": f"MISMATCH{i:024d}",
            "request_id": f"08F78BB5AF0610D302E5A1D3B2B70100A0D60200{i:02d}",
        }
        c = notification_case(aes, spec)
        del c["expected"]
        c["config"] = config
        c["expect"] = expect
        cases.append(c)
    return {
        "_about": "Notifications signed and encrypted like notification.json (same keys) that the merchant of "
                  "`config` must refuse (`expect.error`, `expect.field`) or accept (`expect.ok`): another mchid, "
                  "service-provider mode without or with another merchant, another event type.",
        "now": NOW,
        "cases": cases,
    }


# ----------------------------------------------------------------------------- oaep.json

def gen_oaep(keys: dict, previous: dict | None) -> dict:
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    privs = {
        "wechatpay_public_key": load_private(keys["wechatpay_public_key"]["private_key_pkcs8_pem"]),
        "platform": load_private(keys["platform"]["private_key_pkcs8_pem"]),
    }
    pubs = {
        "wechatpay_public_key": load_public(keys["wechatpay_public_key"]["public_key_pem"]),
        "platform": load_public(keys["platform"]["public_key_pem"]),
    }
    old = {}
    if previous:
        for c in previous.get("cases", []):
            old[c.get("name")] = c
    specs = [
        ("bank_account_wechatpay_public_key", "wechatpay_public_key", "6222021234567890"),
        ("real_name_wechatpay_public_key", "wechatpay_public_key", "张三"),
        ("bank_account_platform", "platform", "6222021234567890"),
        ("real_name_platform", "platform", "张三"),
    ]
    cases = []
    for name, key, plaintext in specs:
        ct = None
        prev = old.get(name)
        if prev and prev.get("key") == key and prev.get("plaintext") == plaintext:
            try:
                if privs[key].decrypt(base64.b64decode(prev["ciphertext"], validate=True), oaep) == plaintext.encode("utf-8"):
                    ct = prev["ciphertext"]
            except Exception:
                ct = None
        if ct is None:
            ct = b64(pubs[key].encrypt(plaintext.encode("utf-8"), oaep))
        cases.append({"name": name, "key": key, "plaintext": plaintext, "ciphertext": ct})
    return {
        "_about": "Sensitive-field encryption: RSA-OAEP, SHA-1, MGF1-SHA-1, no label, base64; decrypt with the private key "
                  "of keys.json[key]. Randomised: a fresh encryption of the same plaintext differs.",
        "cases": cases,
    }


# ----------------------------------------------------------------------------- gcm.json

def gen_gcm(keys: dict) -> dict:
    specs = [
        ("certificate_resource", keys["api_v3_key"], "4ieYrkq0ZIMa", "certificate",
         keys["platform"]["certificate_pem"]),
        ("empty_aad", "Q8tY2vB6nM4kL0pX9wE3rT7uI1oA5sD2", "k4jL9pQ2wX7z", "",
         '{"refund_status":"SUCCESS","amount":{"total":10000,"refund":100}}'),
        ("empty_plaintext", "ZZZZzzzz0000111122223333abcdABCD", "000000000000", "transaction", ""),
        ("chinese_plaintext", keys["api_v3_key"], "cN8plain7xt1",
         "refund", "退款成功：招商银行信用卡0403，张三，¥1.00"),
    ]
    cases = []
    for name, key, nonce, aad, plaintext in specs:
        assert len(key.encode("ascii")) == 32 and len(nonce.encode("ascii")) == 12
        ct = AESGCM(key.encode("ascii")).encrypt(nonce.encode("ascii"), plaintext.encode("utf-8"), aad.encode("utf-8"))
        cases.append({
            "name": name,
            "key": key,
            "nonce": nonce,
            "associated_data": aad,
            "plaintext": plaintext,
            "ciphertext": b64(ct),
        })
    return {
        "_about": "AEAD_AES_256_GCM: key = 32 ASCII bytes, nonce = 12 ASCII bytes, associated_data UTF-8 bytes (may be "
                  "empty), ciphertext = base64(ciphertext || 16-byte tag).",
        "cases": cases,
    }


# ----------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors-dir", default=os.path.dirname(os.path.abspath(__file__)),
                    help="where to read keys.json and write the vectors (default: this script's directory)")
    args = ap.parse_args()
    d = args.vectors_dir
    os.makedirs(d, exist_ok=True)

    keys_path = os.path.join(d, "keys.json")
    if os.path.exists(keys_path):
        with open(keys_path, encoding="utf-8") as f:
            keys = json.load(f)
        print(f"gen_vectors: reusing {keys_path}")
    else:
        keys = make_keys()
        dump(keys_path, keys)
        print(f"gen_vectors: created fresh keys in {keys_path}")

    previous_oaep = None
    oaep_path = os.path.join(d, "oaep.json")
    if os.path.exists(oaep_path):
        try:
            with open(oaep_path, encoding="utf-8") as f:
                previous_oaep = json.load(f)
        except (OSError, ValueError):
            previous_oaep = None

    outputs = {
        "signing.json": gen_signing(keys),
        "verification.json": gen_verification(keys),
        "notification.json": gen_notification(keys),
        "notification_mismatch.json": gen_notification_mismatch(keys),
        "oaep.json": gen_oaep(keys, previous_oaep),
        "gcm.json": gen_gcm(keys),
    }
    for fname, obj in outputs.items():
        dump(os.path.join(d, fname), obj)
        print(f"gen_vectors: wrote {fname} ({len(obj['cases'])} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
