"""The most used Python WeChat Pay SDK, `wechatpayv3` (PyPI, unmodified), against the standalone
sandbox (issue 13.3): everything it does goes through its own code; the sandbox is driven through
its control API only. Run by scripts/test-peers; exits non-zero on the first disagreement.

wechatpayv3 has no base-URL option and calls `requests.get/post` itself: its HTTP client is
redirected (the `requests` module it uses is replaced by one that sends the same requests to the
sandbox), never patched.
"""

import json
import subprocess
import sys
import urllib.request

import requests
import wechatpayv3.core as v3core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3 import WeChatPay, WeChatPayType

PRODUCTION = "https://api.mch.weixin.qq.com"


def control(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Redirect:
    """Stands in for the `requests` module inside wechatpayv3.core: same calls, sandbox host."""

    def __init__(self, base):
        self.base = base

    def _url(self, url):
        assert url.startswith(PRODUCTION), url
        return self.base + url[len(PRODUCTION):]

    def get(self, url, **kw):
        return requests.get(self._url(url), **kw)

    def post(self, url, **kw):
        return requests.post(self._url(url), **kw)

    def put(self, url, **kw):
        return requests.put(self._url(url), **kw)

    def patch(self, url, **kw):
        return requests.patch(self._url(url), **kw)

    def delete(self, url, **kw):
        return requests.delete(self._url(url), **kw)


def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)
    print("ok: " + what)


def main(binary):
    proc = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        creds = json.loads(proc.stdout.readline())
        run(creds)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def sdk(creds, private_key):
    return WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=creds["mchid"],
                     private_key=private_key, cert_serial_no=creds["merchant_serial_no"],
                     appid="wx0000000000000000", apiv3_key=creds["api_v3_key"],
                     public_key=creds["wechatpay_public_key_pem"],
                     public_key_id=creds["wechatpay_public_key_id"], timeout=(5, 10))


def run(creds):
    base = creds["base_url"]
    v3core.requests = Redirect(base)
    wx = sdk(creds, creds["merchant_private_key_pem"])
    s, _ = control(base, "POST", "/sandbox/v1/orders", {"out_trade_no": "T20261124001", "total": 10000})
    check(s == 201, "order created through the control API")

    # Apply, with |*@ in out_refund_no.
    no = "R|*@20261124"
    code, text = wx.refund(out_refund_no=no, amount={"refund": 100, "total": 10000, "currency": "CNY"},
                           out_trade_no="T20261124001")
    check(code == 200, "apply refund: HTTP %s %s" % (code, text[:200]))
    refund = json.loads(text)
    check(refund["out_refund_no"] == no and refund["status"] == "PROCESSING", "apply refund answer")

    # Idempotent re-apply: the same refund.
    code, text = wx.refund(out_refund_no=no, amount={"refund": 100, "total": 10000, "currency": "CNY"},
                           out_trade_no="T20261124001")
    check(code == 200 and json.loads(text)["refund_id"] == refund["refund_id"], "idempotent re-apply")

    # Query. wechatpayv3 puts out_refund_no into the path without percent-encoding it; `requests`
    # then encodes `|` (not `*` or `@`), so the signed path and the sent path differ for `|`.
    # A plain refund number is queried, and the `|*@` one is reported as what it is.
    code, text = wx.query_refund("R20261124PLAIN")
    check(code == 404, "query of an unknown refund: HTTP 404 (%s)" % code)
    code, text = wx.refund(out_refund_no="R20261124PLAIN",
                           amount={"refund": 50, "total": 10000, "currency": "CNY"},
                           out_trade_no="T20261124001")
    check(code == 200, "apply refund (plain number)")
    code, text = wx.query_refund("R20261124PLAIN")
    check(code == 200 and json.loads(text)["out_refund_no"] == "R20261124PLAIN", "query refund")
    code, text = wx.query_refund(no)
    print("note: query of %r by wechatpayv3: HTTP %s (its path is not percent-encoded before "
          "signing)" % (no, code))

    # Unknown order: the SDK's error answer with 404.
    code, text = wx.refund(out_refund_no="R-unknown-order", amount={"refund": 1, "total": 1, "currency": "CNY"},
                           out_trade_no="T-NO-SUCH-ORDER")
    check(code == 404 and json.loads(text)["code"] == "RESOURCE_NOT_EXISTS", "unknown order: 404")

    # Abnormal refund, bank fields encrypted by the SDK's own helper.
    s, _ = control(base, "POST", "/sandbox/v1/refunds/R20261124PLAIN/status", {"status": "ABNORMAL"})
    check(s == 200, "refund made ABNORMAL through the control API")
    plain = json.loads(wx.query_refund("R20261124PLAIN")[1])
    code, text = wx.abnormal_refund(refund_id=plain["refund_id"], out_refund_no="R20261124PLAIN",
                                    type="USER_BANK_CARD", bank_type="ICBC_DEBIT",
                                    bank_account="6212262000000000000", real_name="张三")
    check(code == 200 and json.loads(text)["status"] == "PROCESSING",
          "abnormal refund with SDK-encrypted fields: HTTP %s %s" % (code, text[:200]))

    # A notification, parsed by the SDK's own parser; a tampered one rejected by it.
    s, _ = control(base, "POST", "/sandbox/v1/refunds/R20261124PLAIN/status", {"status": "SUCCESS"})
    s, n = control(base, "GET", "/sandbox/v1/refunds/R20261124PLAIN/notification")
    check(s == 200, "notification fetched through the control API")
    parsed = wx.callback(n["headers"], n["body"])
    check(parsed is not None and parsed["resource"]["refund_status"] == "SUCCESS"
          and parsed["resource"]["out_refund_no"] == "R20261124PLAIN", "notification parsed by the SDK")
    tampered = n["body"].replace('"REFUND.SUCCESS"', '"REFUND.CLOSED"')
    check(tampered != n["body"] and wx.callback(n["headers"], tampered) is None,
          "tampered notification rejected by the SDK")

    # A request signed with the wrong key: 401 SIGN_ERROR.
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    code, text = sdk(creds, other).query_refund("R20261124PLAIN")
    check(code == 401 and json.loads(text)["code"] == "SIGN_ERROR", "wrong key: 401 SIGN_ERROR")
    print("wechatpayv3 peer: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
