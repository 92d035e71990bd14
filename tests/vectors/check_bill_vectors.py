#!/usr/bin/env python3
"""Independently check the trade-bill vectors (tests/vectors/bills/bills.json) and, with
--rust-output FILE, bills this crate parsed (the sandbox's among them):
  {"bills": [{"path", "sha1", "columns", "rows": [...], "summary": {...}}]}
where rows and summary have the shape of bills.json's "expect".

Standard library only: hashlib (the SHA1 of the bytes as stored, compressed or not), gzip, csv,
decimal (yuan to fen exactly). Shares no code with the crate. Prints failures, then
`check_bill_vectors: N passed, M failed`; exit 1 on failure.
"""

import argparse
import csv
import decimal
import gzip
import hashlib
import io
import json
import os
import sys

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


class BillError(Exception):
    pass


def fen(name, value, line):
    if value == "":
        return None
    try:
        d = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise BillError(f"line {line}: {name} {value!r} is not a decimal")
    if not d.is_finite() or "e" in value.lower():
        raise BillError(f"line {line}: {name} {value!r} is not a plain decimal")
    f = d * 100
    if f != f.to_integral_value():
        raise BillError(f"line {line}: {name} {value!r} is not a whole number of fen")
    return int(f)


STATUS = {"SUCCESS": "SUCCESS", "REFUNDCLOSE": "CLOSED", "CHANGE": "ABNORMAL", "PROCESSING": "PROCESSING"}
KNOWN = {"交易时间", "公众账号ID", "商户号", "特约商户号", "子商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
         "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "退款申请时间", "退款成功时间",
         "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
         "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}


def unquote(fields, line):
    out = []
    for i, f in enumerate(fields):
        if not f.startswith("`"):
            raise BillError(f"line {line}: field {i + 1} does not start with a backtick")
        out.append(f[1:])
    return out


def parse(data):
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [(n + 1, l) for n, l in enumerate(text.splitlines()) if l.strip()]
    if not lines:
        raise BillError("the file is empty")
    header = next(csv.reader([lines[0][1]]))
    columns = [c.strip() for c in header]
    rows, summary, i = [], None, 1
    while i < len(lines):
        n, l = lines[i]
        fields = next(csv.reader([l]))
        if not l.startswith("`") and not (l.startswith('"`')):
            names = [c.strip() for c in fields]
            if i + 1 >= len(lines):
                raise BillError(f"line {n}: the summary header has no summary line")
            n2, l2 = lines[i + 1]
            values = unquote(next(csv.reader([l2])), n2)
            if len(values) != len(names):
                raise BillError(f"line {n2}: summary fields")
            if i + 2 < len(lines):
                raise BillError(f"line {lines[i + 2][0]}: after the summary")
            s = dict(zip(names, values))
            summary = {
                "total_count": int(s["总交易单数"]) if s.get("总交易单数") else None,
                "settlement_total_fen": fen("应结订单总金额", s.get("应结订单总金额", ""), n2),
                "refund_total_fen": fen("退款总金额", s.get("退款总金额", ""), n2),
                "total_fen": fen("订单总金额", s.get("订单总金额", ""), n2),
                "refund_requested_total_fen": fen("申请退款总金额", s.get("申请退款总金额", ""), n2),
                "fee_total": s.get("手续费总金额", ""),
            }
            break
        if len(fields) != len(columns):
            raise BillError(f"line {n}: {len(fields)} fields, the header has {len(columns)}")
        v = dict(zip(columns, unquote(fields, n)))
        refund_row = v.get("交易状态") == "REFUND"
        status = v.get("退款状态", "")
        rows.append({
            "line": n,
            "trade_state": v.get("交易状态", ""),
            "transaction_id": v.get("微信订单号", ""),
            "out_trade_no": v.get("商户订单号", ""),
            "refund_id": v.get("微信退款单号", ""),
            "out_refund_no": v.get("商户退款单号", ""),
            "refund_fen": fen("退款金额", v.get("退款金额", ""), n),
            "total_fen": fen("订单金额", v.get("订单金额", ""), n),
            "settlement_total_fen": fen("应结订单金额", v.get("应结订单金额", ""), n),
            "refund_status": (STATUS.get(status, status) or None) if refund_row else None,
            "fee": v.get("手续费", ""),
            "goods_name": v.get("商品名称", ""),
            "extra": {k: x for k, x in v.items() if k not in KNOWN},
        })
        i += 1
    return {"columns": columns, "rows": rows, "summary": summary}


def check_vectors(d):
    with open(os.path.join(d, "bills.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for c in cases:
        with open(os.path.join(d, c["file"]), "rb") as f:
            data = f.read()
        check(hashlib.sha1(data).hexdigest() == c["sha1"], f"{c['file']}: sha1")
        check((data[:2] == b"\x1f\x8b") == c["gzip"], f"{c['file']}: gzip flag")
        try:
            got = parse(data)
            err = None
        except (BillError, UnicodeDecodeError) as e:
            got, err = None, str(e)
        if "error" in c:
            check(err is not None and c["error"] in err, f"{c['file']}: expected error {c['error']!r}, got {err!r}")
        else:
            check(err is None, f"{c['file']}: {err}")
            if got:
                exp = c["expect"]
                check(got["columns"] == exp["columns"], f"{c['file']}: columns")
                check(got["rows"] == exp["rows"], f"{c['file']}: rows {got['rows']} != {exp['rows']}")
                check(got["summary"] == exp["summary"], f"{c['file']}: summary {got['summary']}")


def check_rust(path):
    with open(path, encoding="utf-8") as f:
        out = json.load(f)
    for b in out["bills"]:
        with open(b["path"], "rb") as f:
            data = f.read()
        name = os.path.basename(b["path"])
        check(hashlib.sha1(data).hexdigest() == b["sha1"], f"{name}: sha1 of the file as downloaded")
        try:
            mine = parse(data)
        except BillError as e:
            check(False, f"{name}: {e}")
            continue
        check(mine["columns"] == b["columns"], f"{name}: columns")
        check(mine["rows"] == b["rows"], f"{name}: rows differ\n python: {mine['rows']}\n rust:   {b['rows']}")
        check(mine["summary"] == b["summary"], f"{name}: summary {mine['summary']} != {b['summary']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "bills"))
    ap.add_argument("--rust-output")
    a = ap.parse_args()
    if a.rust_output:
        check_rust(a.rust_output)
    else:
        check_vectors(a.vectors_dir)
    print(f"check_bill_vectors: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
