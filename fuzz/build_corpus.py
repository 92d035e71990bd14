#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets from the golden vectors (tests/vectors/*.json).

    python3 fuzz/build_corpus.py            # (re)writes fuzz/corpus/<target>/seed-*
    python3 fuzz/build_corpus.py --out DIR  # writes DIR/<target>/seed-* instead

Only the standard library is used. The seed layouts are the ones documented in FUZZING.md and
in each target's header comment. Seeds are small (a handful per target) and deterministic, so the
committed corpus can always be regenerated; what libFuzzer discovers goes to a scratch directory
(fuzz/work/, git-ignored), never here.
"""

import argparse
import base64
import json
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "tests", "vectors")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def head(pairs):
    return "".join(f"{k}: {v}\n" for k, v in pairs).encode()


def message(pairs, body):
    if isinstance(body, str):
        body = body.encode()
    return head(pairs) + b"\n" + body


def verification_headers(c):
    pairs = [
        ("Wechatpay-Timestamp", str(c["timestamp"])),
        ("Wechatpay-Nonce", c["nonce"]),
        ("Wechatpay-Signature", c["signature"]),
        ("Wechatpay-Serial", c["serial"]),
    ]
    if c.get("signature_type"):
        pairs.append(("Wechatpay-Signature-Type", c["signature_type"]))
    if c.get("request_id"):
        pairs.append(("Request-ID", c["request_id"]))
    return pairs


def pem_der(pem):
    body = re.sub(r"-----[^-]+-----", "", pem)
    return base64.b64decode("".join(body.split()))


def seeds():
    keys = load("keys.json")
    ver = load("verification.json")
    notif = load("notification.json")
    signing = load("signing.json")
    out = {"parse_refund_response": [], "parse_notification": [], "headers": [], "key_parsing": [],
           "v2_xml": [], "v2_notification": []}

    # parse_refund_response: [flags][status u16 BE] HEAD \n\n BODY
    r = out["parse_refund_response"]
    ok_body = next(c for c in ver["cases"] if c["name"] == "ok_public_key")["body"]
    for c in ver["cases"]:  # raw replays: ok, stale, probe, tampered, unknown serial...
        r.append(bytes([0]) + struct.pack(">H", 200) + message(verification_headers(c), c["body"]))
    rid = [("Request-ID", "08F78BB5AF0610D302E5A1D3B2B70100A0D6FUZZ00")]
    r.append(bytes([1]) + struct.pack(">H", 200) + message(rid, ok_body))  # signed, public key
    r.append(bytes([3]) + struct.pack(">H", 200) + message(rid, ok_body))  # signed, platform key
    r.append(bytes([0x11]) + struct.pack(">H", 200) + message(rid, ok_body))  # pure-Rust backend
    err = '{"code":"PARAM_ERROR","message":"输入源“/body/amount/refund”映射到值字段“退款金额”字符串规则校验失败","detail":{"field":"/amount/refund","value":0,"issue":"must be at least 1","location":"body"}}'
    r.append(bytes([1]) + struct.pack(">H", 400) + message(rid, err))
    r.append(bytes([1]) + struct.pack(">H", 500) + message(rid, '{"code":"SYSTEM_ERROR","message":"系统错误"}'))
    r.append(bytes([0]) + struct.pack(">H", 502) + message([], "<html><body>502 Bad Gateway</body></html>"))
    r.append(bytes([1]) + struct.pack(">H", 200) + message(rid, '{"refund_id":"1","out_refund_no":"R1","status":"SUCCESS","amount":{"total":1,"refund":1}}'))
    r.append(bytes([1]) + struct.pack(">H", 200) + message([("HTTP_REQUEST_ID", "x")], '{"refund_id":"1","out_refund_no":"R1","status":"NEW_STATUS","channel":"NEW","funds_account":"X","amount":{"total":-1,"refund":1}}'))

    # parse_notification: [flags] HEAD \n\n BODY  (signed mode: BODY = ENVELOPE \0\0 PLAINTEXT)
    n = out["parse_notification"]
    for c in notif["cases"]:
        pairs = list(c["headers"].items())
        n.append(bytes([0]) + message(pairs, c["body"]))
        n.append(bytes([0x20]) + message(pairs, c["body"]))  # sans-IO, HashMap headers
        env = json.loads(c["body"])
        env["resource"]["ciphertext"] = "@CT@"
        template = json.dumps(env, ensure_ascii=False, separators=(",", ":"))
        signed_rid = [("Request-ID", c["headers"].get("Request-ID", "r"))]
        n.append(bytes([1]) + message(signed_rid, template.encode() + b"\0\0" + c["plaintext"].encode()))
    # signed with the platform key, wsgi-style names
    c = notif["cases"][0]
    env = json.loads(c["body"])
    env["resource"]["ciphertext"] = "@CT@"
    template = json.dumps(env, ensure_ascii=False, separators=(",", ":"))
    n.append(bytes([3]) + message([("HTTP_REQUEST_ID", "r")], template.encode() + b"\0\0" + c["plaintext"].encode()))

    # headers: [flags] REST
    h = out["headers"]
    for c in ver["cases"][:6] + [x for x in ver["cases"] if x["expect"] != "ok"][:4]:
        h.append(bytes([0]) + message(verification_headers(c), c["body"]))
    c = ver["cases"][0]
    wsgi = [("HTTP_" + k.upper().replace("-", "_"), v) for k, v in verification_headers(c)]
    h.append(bytes([3]) + message(wsgi, c["body"]))
    h.append(bytes([4]) + message([("Request-ID", "r")], c["body"]))  # signed
    h.append(bytes([4 | 8]) + message([("wechatpay-timestamp", str(ver["now"] + 3))], c["body"]))
    for c in signing["cases"][:3]:
        h.append(bytes([1]) + c["authorization"].encode())
    h.append(bytes([2]) + "1900000001\nCAF35C7E3B1F7E6D4281D314F5FB67510F02AA52\nN0NCE\n1795000000\n\x01\x02".encode())

    # key_parsing: [mode] REST
    k = out["key_parsing"]
    pems = [
        keys["merchant"]["private_key_pkcs8_pem"],
        keys["merchant"]["private_key_pkcs1_pem"],
        keys["merchant"]["public_key_pem"],
        keys["wechatpay_public_key"]["public_key_pem"],
        keys["platform"]["certificate_pem"],
        keys["rsa1024"]["public_key_pem"],
    ]
    for pem in pems:
        k.append(bytes([0]) + pem.encode())
    k.append(bytes([1]) + pem_der(keys["merchant"]["private_key_pkcs8_pem"]))
    k.append(bytes([2]) + pem_der(keys["merchant"]["private_key_pkcs1_pem"]))
    k.append(bytes([3]) + pem_der(keys["wechatpay_public_key"]["public_key_pem"]))
    k.append(bytes([5]) + pem_der(keys["platform"]["certificate_pem"]))
    k.append(bytes([1 | 8]) + pem_der(keys["rsa1024"]["private_key_pkcs8_pem"]))
    k.append(bytes([6]))  # builder with every default (a valid configuration)
    k.append(bytes([6]) + "\x1f".join([
        "1900000001", "caf35c7e3b1f7e6d4281d314f5fb67510f02aa52", "", "0HArAXmgJ8PW7tPh1JU7PU95Pci4kwuy",
        "PUB_KEY_ID_0119000000012026112300000000000001", "", "", "http://127.0.0.1:8080", "https://backup.example", "agent/1",
    ]).encode())
    k.append(bytes([6 | 0x80]) + "\x1f".join(["19", "AB", "", "short"]).encode())

    # v2_xml: [flags] BODY (flags: 1 re-signed by the harness, 2 HMAC, 4 query, 8 pure Rust, 16 no CDATA)
    v2 = load("v2.json")
    x = out["v2_xml"]
    answer = (
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>"
        "<appid><![CDATA[wx2421b1c4370ec43b]]></appid><mch_id><![CDATA[10000100]]></mch_id>"
        "<nonce_str><![CDATA[NfsMFbUFpdbEhPXP]]></nonce_str><sign><![CDATA[B7274EB9F8925EB93100DD2085FA56C0]]></sign>"
        "<result_code><![CDATA[SUCCESS]]></result_code><transaction_id><![CDATA[4008450740201411110005820873]]></transaction_id>"
        "<out_trade_no><![CDATA[1415757673]]></out_trade_no><out_refund_no><![CDATA[1415701182]]></out_refund_no>"
        "<refund_id><![CDATA[2008450740201411110000174436]]></refund_id><refund_fee>1</refund_fee><total_fee>1</total_fee>"
        "<coupon_refund_count>1</coupon_refund_count><coupon_type_0>CASH</coupon_type_0>"
        "<coupon_refund_id_0>C0</coupon_refund_id_0><coupon_refund_fee_0>1</coupon_refund_fee_0></xml>"
    )
    for flags in (0, 1, 3, 9, 17):
        x.append(bytes([flags]) + answer.encode())
    query = (
        "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><appid>wx2421b1c4370ec43b</appid>"
        "<mch_id>10000100</mch_id><transaction_id>4008450740201411110005820873</transaction_id>"
        "<out_trade_no>1415757673</out_trade_no><total_fee>100</total_fee><refund_count>2</refund_count>"
        "<total_refund_count>2</total_refund_count>"
        "<out_refund_no_0>R1</out_refund_no_0><refund_id_0>1</refund_id_0><refund_fee_0>10</refund_fee_0>"
        "<refund_status_0>SUCCESS</refund_status_0><refund_channel_0>ORIGINAL</refund_channel_0>"
        "<refund_recv_accout_0>支付用户的零钱</refund_recv_accout_0><refund_success_time_0>2026-11-24 20:00:00</refund_success_time_0>"
        "<coupon_refund_count_0>1</coupon_refund_count_0><coupon_refund_id_0_0>C</coupon_refund_id_0_0><coupon_refund_fee_0_0>1</coupon_refund_fee_0_0>"
        "<out_refund_no_1>R2</out_refund_no_1><refund_id_1>2</refund_id_1><refund_fee_1>+5</refund_fee_1>"
        "<refund_status_1>CHANGE</refund_status_1></xml>"
    )
    x.append(bytes([5]) + query.encode())
    x.append(bytes([7]) + query.encode())
    fail = ("<xml><return_code>SUCCESS</return_code><result_code>FAIL</result_code><err_code>INVALID_REQ_TOO_MUCH</err_code>"
            "<err_code_des>无效请求过多</err_code_des><mch_id>10000100</mch_id></xml>")
    x.append(bytes([1]) + fail.encode())
    x.append(bytes([1]) + fail.replace("<err_code>INVALID_REQ_TOO_MUCH</err_code>", "").encode())
    x.append(bytes([0]) + b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[invalid refund_fee]]></return_msg></xml>")
    x.append(bytes([0]) + b"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY a \"b\">]><xml><return_code>&a;</return_code></xml>")
    x.append(bytes([1]) + b"<xml><a>&amp;&lt;&#x41;&#65;</a><b><![CDATA[]]]]><![CDATA[>]]></b></xml>")
    for case in v2["sign_cases"]:
        params = "".join(f"<{k}>{v}</{k}>" for k, v in sorted(case["params"].items()))
        x.append(bytes([1 | (2 if case["sign_type"] == "HMAC-SHA256" else 0)]) + f"<xml>{params}</xml>".encode())

    # v2_notification: [flags] BODY (flags: 1 = OUTER \0\0 PLAINTEXT with @REQ@ encrypted by the harness, 2 pure Rust)
    nv = out["v2_notification"]
    outer = ("<xml><return_code>SUCCESS</return_code><appid><![CDATA[wx2421b1c4370ec43b]]></appid>"
             "<mch_id><![CDATA[10000100]]></mch_id><nonce_str><![CDATA[TeqClE3i0mvn3DrK]]></nonce_str>"
             "<req_info><![CDATA[@REQ@]]></req_info></xml>")
    plain = v2["notification"]["plaintext"]
    nv.append(bytes([0]) + outer.replace("@REQ@", v2["notification"]["req_info"]).encode())
    nv.append(bytes([1]) + outer.encode() + b"\0\0" + plain.encode())
    nv.append(bytes([3]) + outer.encode() + b"\0\0" + plain.encode())
    sp = outer.replace("</mch_id>", "</mch_id><sub_mch_id>1900000109</sub_mch_id><sub_appid>wx1111111111111111</sub_appid>")
    nv.append(bytes([1]) + sp.encode() + b"\0\0" + plain.encode())
    nv.append(bytes([1]) + outer.replace("wx2421b1c4370ec43b", "wx0000000000000000").encode() + b"\0\0" + plain.encode())
    nv.append(bytes([1]) + outer.encode() + b"\0\0" + plain.replace("<total_fee><![CDATA[10000]]>", "<total_fee><![CDATA[-5]]>").encode())
    nv.append(bytes([1]) + outer.encode() + b"\0\0" + b"<!DOCTYPE r [<!ENTITY a \"aa\">]><root>&a;</root>")
    nv.append(bytes([1]) + outer.encode() + b"\0\0" + b"\x00\x01 not xml")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()
    for target, items in seeds().items():
        d = os.path.join(args.out, target)
        if os.path.isdir(d):
            for name in os.listdir(d):
                if name.startswith("seed-"):
                    os.remove(os.path.join(d, name))
        os.makedirs(d, exist_ok=True)
        for i, data in enumerate(items):
            with open(os.path.join(d, f"seed-{i:02d}"), "wb") as f:
                f.write(data)
        print(f"{target}: {len(items)} seeds in {d}")


if __name__ == "__main__":
    main()
