#!/usr/bin/env python3
"""Generate the trade-bill parser vectors: tests/vectors/bills/*.csv[.gz] and bills.json.

Each case is a bill file as WeChat Pay lays it out (header line; detail rows whose every field
starts with a backtick; summary header; summary line) and the values a parser must find in it,
written out by hand below (fen as integers, never computed from floats). Malformed cases name a
substring of the error expected. Deterministic: gzip files carry mtime 0.

    python3 tests/vectors/gen_bill_vectors.py
"""

import csv
import gzip
import hashlib
import io
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bills")

ALL = ["交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
       "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号",
       "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额",
       "申请退款金额", "费率备注"]
SUMMARY = ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"]


def pay(time, tx, otn, total):
    return {"交易时间": time, "公众账号ID": "wx8888888888888888", "商户号": "1900000001", "特约商户号": "0",
            "设备号": "", "微信订单号": tx, "商户订单号": otn, "用户标识": "oUser", "交易类型": "JSAPI",
            "交易状态": "SUCCESS", "付款银行": "OTHERS", "货币种类": "CNY", "应结订单金额": total, "代金券金额": "0.00",
            "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00", "充值券退款金额": "0.00", "退款类型": "",
            "退款状态": "", "商品名称": "测试商品", "商户数据包": "", "手续费": "0.00600", "费率": "0.60%",
            "订单金额": total, "申请退款金额": "0.00", "费率备注": ""}


def refund(time, tx, otn, rid, orn, amount, status, fee, goods="测试商品"):
    r = pay(time, tx, otn, "0.00")
    r.update({"交易状态": "REFUND", "微信退款单号": rid, "商户退款单号": orn, "退款金额": amount,
              "退款类型": "ORIGINAL", "退款状态": status, "手续费": fee, "订单金额": "0.00",
              "申请退款金额": amount, "商品名称": goods})
    return r


def bill_text(columns, rows, summary, newline="\r\n", bom=False):
    out = io.StringIO()
    w = csv.writer(out, lineterminator=newline)
    w.writerow(columns)
    for r in rows:
        w.writerow(["`" + r.get(c, "") for c in columns])
    w.writerow(SUMMARY)
    w.writerow(["`" + v for v in summary])
    text = out.getvalue()
    return ("\ufeff" if bom else "") + text


CASES = []


def case(name, data, expect=None, error=None, gz=False):
    CASES.append((name, data, expect, error, gz))


rows = [
    pay("2026-11-23 09:00:01", "4200000001", "T20261123001", "100.00"),
    refund("2026-11-23 10:00:02", "4200000001", "T20261123001", "50300000001", "R20261123001", "0.29",
           "SUCCESS", "-0.00174"),
    refund("2026-11-23 11:00:03", "4200000001", "T20261123001", "50300000002", "R20261123|*@2", "12.30",
           "REFUNDCLOSE", "-0.07380", goods="礼盒, 大号 \"限量\""),
    refund("2026-11-23 12:00:04", "4200000002", "T20261123002", "50300000003", "R20261123003", "1",
           "CHANGE", "-0.00600"),
    refund("2026-11-23 13:00:05", "4200000003", "T20261123003", "50300000004", "R20261123004", "0.01000",
           "PROCESSING", "-0.00006"),
]
summary = ["5", "100.00", "13.60", "0.00", "0.00440", "100.00", "13.60"]
expected_rows = [
    {"line": 2, "trade_state": "SUCCESS", "transaction_id": "4200000001", "out_trade_no": "T20261123001",
     "refund_id": "0", "out_refund_no": "0", "refund_fen": 0, "total_fen": 10000, "settlement_total_fen": 10000,
     "refund_status": None, "fee": "0.00600", "goods_name": "测试商品", "extra": {}},
    {"line": 3, "trade_state": "REFUND", "transaction_id": "4200000001", "out_trade_no": "T20261123001",
     "refund_id": "50300000001", "out_refund_no": "R20261123001", "refund_fen": 29, "total_fen": 0,
     "settlement_total_fen": 0, "refund_status": "SUCCESS", "fee": "-0.00174", "goods_name": "测试商品", "extra": {}},
    {"line": 4, "trade_state": "REFUND", "transaction_id": "4200000001", "out_trade_no": "T20261123001",
     "refund_id": "50300000002", "out_refund_no": "R20261123|*@2", "refund_fen": 1230, "total_fen": 0,
     "settlement_total_fen": 0, "refund_status": "CLOSED", "fee": "-0.07380", "goods_name": "礼盒, 大号 \"限量\"",
     "extra": {}},
    {"line": 5, "trade_state": "REFUND", "transaction_id": "4200000002", "out_trade_no": "T20261123002",
     "refund_id": "50300000003", "out_refund_no": "R20261123003", "refund_fen": 100, "total_fen": 0,
     "settlement_total_fen": 0, "refund_status": "ABNORMAL", "fee": "-0.00600", "goods_name": "测试商品", "extra": {}},
    {"line": 6, "trade_state": "REFUND", "transaction_id": "4200000003", "out_trade_no": "T20261123003",
     "refund_id": "50300000004", "out_refund_no": "R20261123004", "refund_fen": 1, "total_fen": 0,
     "settlement_total_fen": 0, "refund_status": "PROCESSING", "fee": "-0.00006", "goods_name": "测试商品",
     "extra": {}},
]
expected_summary = {"total_count": 5, "settlement_total_fen": 10000, "refund_total_fen": 1360, "total_fen": 10000,
                    "refund_requested_total_fen": 1360, "fee_total": "0.00440"}
all_expect = {"columns": ALL, "rows": expected_rows, "summary": expected_summary}
text = bill_text(ALL, rows, summary)
case("all_crlf.csv", text.encode(), all_expect)
case("all_crlf.csv.gz", text.encode(), all_expect, gz=True)
case("all_lf_bom.csv", bill_text(ALL, rows, summary, newline="\n", bom=True).encode(), all_expect)

# Columns in another order, two of them unknown to the parser (kept by name), a blank line.
cols = ["商户退款单号", "交易时间", "新字段A", "交易状态", "退款金额", "退款状态", "微信退款单号", "新字段B"]
r = [{"商户退款单号": "R1", "交易时间": "2026-11-23 00:00:00", "新字段A": "a,1", "交易状态": "REFUND",
      "退款金额": "99999999.99", "退款状态": "SUCCESS", "微信退款单号": "503", "新字段B": ""}]
t = bill_text(cols, r, ["1", "0.00", "99999999.99", "0.00", "0.00000", "0.00", "99999999.99"])
t = t.replace("\r\n总交易单数", "\r\n\r\n总交易单数")
case("reordered_extra.csv", t.encode(), {
    "columns": cols,
    "rows": [{"line": 2, "trade_state": "REFUND", "transaction_id": "", "out_trade_no": "", "refund_id": "503",
              "out_refund_no": "R1", "refund_fen": 9999999999, "total_fen": None, "settlement_total_fen": None,
              "refund_status": "SUCCESS", "fee": "", "goods_name": "", "extra": {"新字段A": "a,1", "新字段B": ""}}],
    "summary": {"total_count": 1, "settlement_total_fen": 0, "refund_total_fen": 9999999999, "total_fen": 0,
                "refund_requested_total_fen": 9999999999, "fee_total": "0.00000"},
})

# Malformed: each must be refused, naming the problem.
good = bill_text(ALL, rows[:2], ["2", "100.00", "0.29", "0.00", "0.00426", "100.00", "0.29"])
lines = good.split("\r\n")
case("bad_sub_fen.csv", good.replace("`0.29,", "`0.291,", 1).encode(), error="line 3")
case("bad_no_backtick.csv", "\r\n".join([lines[0], lines[1].replace(",`wx", ",wx", 1)] + lines[2:]).encode(),
     error="backtick")
case("bad_field_count.csv", "\r\n".join([lines[0], lines[1] + ",`extra"] + lines[2:]).encode(), error="fields")
case("bad_no_summary_line.csv", "\r\n".join(lines[:4]).encode(), error="summary line")
case("bad_float_amount.csv", good.replace("`100.00,", "`1e2,", 1).encode(), error="line 2")


def main():
    os.makedirs(HERE, exist_ok=True)
    out = []
    for name, data, expect, error, gz in CASES:
        if gz:
            data = gzip.compress(data, mtime=0)
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        entry = {"file": name, "sha1": hashlib.sha1(data).hexdigest(), "gzip": gz}
        if error is not None:
            entry["error"] = error
        else:
            entry["expect"] = expect
        out.append(entry)
    with open(os.path.join(HERE, "bills.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
