#!/usr/bin/env python3
"""Cross-language benchmark driver for scripts/bench-compare (see BENCHMARKS.md).

Runs, in ROUNDS, interleaved (the order of the contenders rotates every round, so drift such as
another process's compile hits every contender alike), and reports the MEDIAN over rounds of:

  rust         the criterion bench `benches/refund.rs` (its executable, run once per round with
               short settings; medians read from <CRITERION_HOME>/**/new/estimates.json)
  binding      the same operations through the installed `wechatpay_refund` wheel (sans-IO)
  wechatpayv3  the same operations with the `wechatpayv3` PyPI SDK's own functions
  openssl      `openssl speed -seconds S -mr rsa2048` sign/s and verify/s (the RSA floor)
  loopback     apply + query round trips against one embedded sandbox (127.0.0.1, keep-alive),
               from 1 and 2 threads, through the binding's RefundClient and through wechatpayv3
  body size    verify+parse of ~1, 10, 100 KB signed refund responses
  footprint    wheel size, RSS added by import + a client (fresh subprocess, /proc/self/status)

Every loop is bounded in count and time. Exit status: 0 when every measurement ran (targets
may FAIL, that is reported, not fatal unless --strict), 1 when anything could not be measured.

Usage (normally through scripts/bench-compare):
  python compare.py --root REPO --rust-bench EXE --wheel WHEEL [--quick] [--rounds N]
  python compare.py rss binding|wechatpayv3 --root REPO      (internal: one RSS probe)
"""

import argparse
import base64
import copy
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

OPS = [
    ("sign", "build + sign apply-refund request"),
    ("verify", "verify + parse refund response"),
    ("notify", "verify + decrypt + parse notification"),
    ("encrypt", "abnormal refund: encrypt 2 fields + build + sign"),
    ("config", "client configuration from PEM keys"),
]
# Measured for Rust and wechatpayv3 only (the binding exports no bare field encryption).
EXTRA_OPS = [("oaep2", "RSA-OAEP-SHA1 encrypt the 2 fields alone")]
# criterion benchmark function names (benches/refund.rs) for each op; older names kept so the
# script also reads a bench from before the abnormal-refund bench was split.
CRITERION_IDS = {
    "build_sign_create_refund": "sign",
    "verify_parse_refund_response": "verify",
    "verify_decrypt_parse_notification": "notify",
    "build_sign_abnormal_refund": "encrypt",
    "encrypt_abnormal_refund_fields": "encrypt",
    "oaep_encrypt_two_fields": "oaep2",
    "client_config_from_pem": "config",
}

TS = 1_795_000_000  # the timestamp the Rust bench signs at
REFUND_TOTAL = 1_000_000  # fen, per sandbox order; every loopback refund is 1 fen
REFUNDS_PER_ORDER = 40  # the sandbox allows at most 50 refunds per order


def log(msg):
    print("[bench-compare] %s" % msg, file=sys.stderr, flush=True)


def die(msg):
    log("ERROR: " + msg)
    sys.exit(1)


# --------------------------------------------------------------------------------------------
# Inputs: the golden vectors
# --------------------------------------------------------------------------------------------


class Vectors:
    def __init__(self, root):
        vdir = os.path.join(root, "tests", "vectors")

        def load(name):
            with open(os.path.join(vdir, name), encoding="utf-8") as f:
                return json.load(f)

        self.keys = load("keys.json")
        ver = load("verification.json")
        self.ok = next(c for c in ver["cases"] if c["name"] == "ok_public_key")
        self.now = ver["now"]
        notif = load("notification.json")
        self.notification = notif["cases"][0]
        self.n_now = notif["now"]
        k = self.keys
        self.mchid = k["mchid"]
        self.serial = k["merchant"]["serial_no"]
        self.merchant_pem = k["merchant"]["private_key_pkcs8_pem"]
        self.api_v3_key = k["api_v3_key"]
        self.wx_id = k["wechatpay_public_key"]["id"]
        self.wx_pub_pem = k["wechatpay_public_key"]["public_key_pem"]
        self.wx_priv_pem = k["wechatpay_public_key"]["private_key_pkcs8_pem"]

    def response_headers(self, case=None, signature=None):
        c = case or self.ok
        return [
            ("Wechatpay-Timestamp", str(c["timestamp"])),
            ("Wechatpay-Nonce", c["nonce"]),
            ("Wechatpay-Signature", signature or c["signature"]),
            ("Wechatpay-Serial", c["serial"]),
            ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
            ("Request-ID", c["request_id"]),
        ]

    def signed_body_of_size(self, target_bytes):
        """The ok_public_key response body grown to ~target_bytes by repeating its first
        promotion (a realistic way for a refund body to be large), re-signed with the test
        WeChat Pay private key. Returns (body_bytes, signature_b64)."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        base = json.loads(self.ok["body"])
        if target_bytes <= len(self.ok["body"].encode()) * 1.2:
            body = self.ok["body"].encode()
        else:
            promo = base["promotion_detail"][0]
            obj = copy.deepcopy(base)
            i = 0
            while True:
                p = copy.deepcopy(promo)
                p["coupon_id"] = str(200000 + i)
                p["stock_id"] = str(900000 + i)
                obj["promotion_detail"].append(p)
                i += 1
                enc = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
                if len(enc) >= target_bytes:
                    body = enc
                    break
        key = serialization.load_pem_private_key(self.wx_priv_pem.encode(), password=None)
        msg = b"%d\n%s\n%s\n" % (self.ok["timestamp"], self.ok["nonce"].encode(), body)
        sig = key.sign(msg, padding.PKCS1v15(), hashes.SHA256())
        return body, base64.b64encode(sig).decode()


# --------------------------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------------------------


def rate(fn, seconds, max_iters=10_000_000, samples=20):
    """ops/s of fn() over ~`seconds` after a short warm-up (bounded by time and count).

    The time is cut into `samples` batches of equal iteration count and the result is the
    MEDIAN batch, the statistic criterion reports for the Rust side (scripts/bench-compare
    reads criterion's median): a batch that another process preempted is an outlier on both
    sides alike, instead of a cost charged to the Python side only."""
    warm_start = time.perf_counter()
    warm_end = warm_start + min(0.2, seconds * 0.2)
    warm_n = 0
    while time.perf_counter() < warm_end or warm_n == 0:
        fn()
        warm_n += 1
    per_op = (time.perf_counter() - warm_start) / warm_n
    batch = max(1, int(seconds / samples / per_op))
    per_op_samples = []
    n = 0
    end = time.perf_counter() + seconds * 2  # a hard bound if the machine slows down a lot
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        per_op_samples.append((time.perf_counter() - t0) / batch)
        n += batch
        if n >= max_iters or time.perf_counter() >= end:
            break
    return 1.0 / median(per_op_samples)


def rate_threads(make_worker, threads, seconds, max_iters=1_000_000, with_cpu=False):
    """Aggregate ops/s of `threads` threads, each running the callable returned by
    make_worker(thread_index) until a shared deadline (bounded in count too). Each thread
    makes and warms its callable first (connection set-up, lazy init), outside the timing.
    with_cpu: also return the CPU seconds per op spent on the calling threads themselves
    (time.thread_time: Python and the Rust/C code they call, not other threads)."""
    counts = [0] * threads
    cpu = [0.0] * threads
    errors = []
    ready = threading.Barrier(threads + 1)
    go = threading.Event()
    state = {"end": 0.0}

    def run(i):
        try:
            fn = make_worker(i)
            fn()
            ready.wait(timeout=120)
            go.wait(timeout=120)
            end = state["end"]
            n = 0
            c0 = time.thread_time()
            while n < max_iters and time.perf_counter() < end:
                fn()
                n += 1
            cpu[i] = time.thread_time() - c0
            counts[i] = n
        except BaseException as e:  # surfaced below: a failed contender fails the run
            errors.append(e)
            ready.abort()

    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    try:
        ready.wait(timeout=120)
    except threading.BrokenBarrierError:
        pass
    t0 = time.perf_counter()
    state["end"] = t0 + seconds
    go.set()
    for t in ts:
        t.join(timeout=seconds + 120)
        if t.is_alive():
            raise RuntimeError("a benchmark thread did not stop within its time bound")
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    total = sum(counts)
    if with_cpu:
        return total / elapsed, (sum(cpu) / total if total else float("nan"))
    return total / elapsed


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# --------------------------------------------------------------------------------------------
# Contenders: sans-IO operations
# --------------------------------------------------------------------------------------------


class BindingOps:
    def __init__(self, v):
        import wechatpay_refund as wr

        self.wr = wr
        self.v = v
        self.cfg = self.make_config()
        self.request = wr.CreateRefundRequest(
            out_trade_no="1217752501201407033233368018",
            out_refund_no="R20261123001",
            amount=wr.RefundAmountInput(refund=888, total=888),
            reason="商品已售完",
            notify_url="https://merchant.example.com/wechatpay/refund-notify",
        )
        self.response = self.http_response(v.ok["body"].encode(), v.ok["signature"])
        n = v.notification
        self.n_headers = dict(n["headers"])
        self.n_body = n["body"].encode()
        self.abnormal = wr.AbnormalRefundRequest(
            refund_id="50000000382019052709732678859",
            out_refund_no="R20261123001",
            kind=wr.AbnormalRefundKind.USER_BANK_CARD,
            bank_type="ICBC_DEBIT",
            bank_account="6222021234567890",
            real_name="张三",
        )
        # Check each op once: a benchmark of a failing call would be meaningless.
        req = self.sign()
        assert any(h.name == "Authorization" for h in req.headers), "no Authorization header"
        assert self.verify().out_refund_no == "R20261123001"
        assert self.notify().out_refund_no == "R20261123001"
        assert b"bank_account" in self.encrypt().body
        self.client()

    def config_kwargs(self):
        v = self.v
        return dict(mchid=v.mchid, merchant_serial_no=v.serial, merchant_private_key_pem=v.merchant_pem,
                    api_v3_key=v.api_v3_key, wechatpay_public_key_id=v.wx_id,
                    wechatpay_public_key_pem=v.wx_pub_pem)

    def make_config(self):
        return self.wr.ClientConfig(**self.config_kwargs())

    def http_response(self, body, signature):
        wr = self.wr
        headers = [wr.HttpHeader(name=k, value=val) for k, val in self.v.response_headers(signature=signature)]
        return wr.HttpResponse(status=200, headers=headers, body=body)

    def sign(self):
        return self.wr.build_create_refund_request(self.cfg, self.request, TS, "NONCE0123456789")

    def verify(self, response=None):
        return self.wr.parse_refund_response(self.cfg, response or self.response, self.v.now)

    def verify_only(self, response):
        return self.wr.verify_wechatpay_signature(self.cfg, response.headers, response.body, self.v.now)

    def notify(self):
        return self.wr.parse_notification_at(self.cfg, self.n_headers, self.n_body, self.v.n_now)

    def encrypt(self):
        return self.wr.build_apply_abnormal_refund_request(self.cfg, self.abnormal, TS, "N")

    def config(self):
        return self.make_config()

    def client(self):
        return self.wr.RefundClient(self.make_config())


class GeneratedOps(BindingOps):
    """The same calls through the UniFFI-generated code alone: what the wheel's compiled
    accelerator replaces (as with WECHATPAY_REFUND_PURE_PYTHON=1), measured in the same run."""

    def __init__(self, v):
        import wechatpay_refund as wr

        self.g = wr._generated
        self.pure = dict(wr._PURE)
        super().__init__(v)

    def make_config(self):
        init = self.pure.get("ClientConfig.__init__")
        if init is None:
            return super().make_config()
        config = object.__new__(self.wr.ClientConfig)
        init(config, **self.config_kwargs())
        return config

    def sign(self):
        return self.g.build_create_refund_request(self.cfg, self.request, TS, "NONCE0123456789")

    def verify(self, response=None):
        return self.g.parse_refund_response(self.cfg, response or self.response, self.v.now)

    def verify_only(self, response):
        return self.g.verify_wechatpay_signature(self.cfg, response.headers, response.body, self.v.now)

    def notify(self):
        return self.g.parse_notification_at(self.cfg, self.n_headers, self.n_body, self.v.n_now)

    def encrypt(self):
        return self.g.build_apply_abnormal_refund_request(self.cfg, self.abnormal, TS, "N")


class WechatpayV3Ops:
    """wechatpayv3's own functions, called the way its WeChatPay methods call them
    (wechatpayv3/core.py and utils.py), without the network."""

    def __init__(self, v):
        from requests.structures import CaseInsensitiveDict
        from wechatpayv3 import WeChatPay, WeChatPayType
        from wechatpayv3 import utils as u

        self.u = u
        self.v = v
        self.WeChatPay, self.WeChatPayType = WeChatPay, WeChatPayType
        self.wx = self.config()
        self.core = self.wx._core
        self.resp_headers = CaseInsensitiveDict(v.response_headers())
        self.resp_body = v.ok["body"]  # requests' response.text: a str
        n = v.notification
        self.n_headers = dict(n["headers"])
        self.n_body = n["body"].encode()
        assert self.verify()["out_refund_no"] == "R20261123001"
        assert self.notify()["resource"]["out_refund_no"] == "R20261123001"
        assert self.sign().startswith("WECHATPAY2-SHA256-RSA2048 ")
        assert self.encrypt().startswith("WECHATPAY2-SHA256-RSA2048 ")

    def config(self):
        v = self.v
        return self.WeChatPay(
            wechatpay_type=self.WeChatPayType.NATIVE,
            mchid=v.mchid,
            private_key=v.merchant_pem,
            cert_serial_no=v.serial,
            appid="wx0000000000000000",
            apiv3_key=v.api_v3_key,
            public_key=v.wx_pub_pem,
            public_key_id=v.wx_id,
        )

    def sign(self):
        # transaction.refund() builds this dict, then Core.request() calls build_authorization
        # (json.dumps + RSA PKCS#1 v1.5 SHA-256 through cryptography/OpenSSL).
        params = {
            "notify_url": "https://merchant.example.com/wechatpay/refund-notify",
            "out_refund_no": "R20261123001",
            "amount": {"refund": 888, "total": 888, "currency": "CNY"},
            "out_trade_no": "1217752501201407033233368018",
            "reason": "商品已售完",
        }
        return self.u.build_authorization(
            "/v3/refund/domestic/refunds", "POST", self.v.mchid, self.v.serial,
            self.core._private_key, data=params, nonce_str="NONCE0123456789")

    def verify(self, headers=None, body=None):
        # Core.request(): _verify_signature(response.headers, response.text); the caller then
        # json.loads the text (wechatpayv3 returns (status, text), it has no typed model).
        body = self.resp_body if body is None else body
        if not self.core._verify_signature(headers or self.resp_headers, body):
            raise RuntimeError("wechatpayv3 rejected the signature")
        return json.loads(body)

    def verify_only(self, headers, body):
        if not self.core._verify_signature(headers, body):
            raise RuntimeError("wechatpayv3 rejected the signature")

    def notify(self):
        # Core.callback(): _verify_signature + AES-256-GCM decrypt + json.loads.
        r = self.core.callback(self.n_headers, self.n_body)
        if not r:
            raise RuntimeError("wechatpayv3 rejected the notification")
        return r

    def encrypt(self):
        # transaction.abnormal_refund(): Core.encrypt (RSA-OAEP-SHA1) of both fields, then the
        # request's build_authorization.
        params = {
            "out_refund_no": "R20261123001",
            "type": "USER_BANK_CARD",
            "bank_type": "ICBC_DEBIT",
            "bank_account": self.core.encrypt("6222021234567890"),
            "real_name": self.core.encrypt("张三"),
        }
        return self.u.build_authorization(
            "/v3/refund/domestic/refunds/50000000382019052709732678859/apply-abnormal-refund",
            "POST", self.v.mchid, self.v.serial, self.core._private_key, data=params,
            nonce_str="N")

    def oaep2(self):
        # Core.encrypt: RSA-OAEP (SHA-1, MGF1-SHA-1) with the WeChat Pay public key, base64.
        return self.core.encrypt("6222021234567890"), self.core.encrypt("张三")

    def client(self):
        return self.config()


# --------------------------------------------------------------------------------------------
# Contenders: external processes
# --------------------------------------------------------------------------------------------


def run_openssl(seconds):
    """(sign/s, verify/s) of `openssl speed -seconds S -mr rsa2048`."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), "-mr", "rsa2048"],
        capture_output=True, text=True, timeout=seconds * 2 + 60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("+F2:"):
            parts = line.split(":")
            sign, verify = float(parts[3]), float(parts[4])
            if sign < 1:  # OpenSSL 1.1 prints seconds per op, 3.x ops per second
                sign, verify = 1 / sign, 1 / verify
            return sign, verify
    raise RuntimeError("no +F2 line in `openssl speed -mr rsa2048` output:\n" + out)


def run_criterion(exe, home, args, timeout):
    """One criterion run of the refund bench; returns {op: ops/s} from the medians."""
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    env = dict(os.environ, CRITERION_HOME=home)
    cmd = [exe, "--bench", "--noplot"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        raise RuntimeError("criterion bench failed (%d):\n%s\n%s" % (p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    found = {}
    for est in glob.glob(os.path.join(home, "**", "new", "estimates.json"), recursive=True):
        with open(os.path.join(os.path.dirname(est), "benchmark.json")) as f:
            meta = json.load(f)
        fn, param = meta.get("function_id"), meta.get("value_str")
        if fn not in CRITERION_IDS:
            continue
        with open(est) as f:
            ns = json.load(f)["median"]["point_estimate"]
        found.setdefault(CRITERION_IDS[fn], {})[param] = 1e9 / ns
    out = {}
    for op, per_backend in found.items():
        # The default build compiles one backend (aws-lc-rs); prefer it when there are more.
        key = next((b for b in per_backend if b and "aws" in b.lower()), None) or sorted(per_backend)[0]
        out[op] = per_backend[key]
        out["_backend"] = key
    missing = [op for op, _ in OPS if op not in out]
    if missing:
        raise RuntimeError("criterion produced no estimates for %s (stdout tail: %s)" % (missing, p.stdout[-1500:]))
    return out


# --------------------------------------------------------------------------------------------
# Loopback round trips against the embedded sandbox
# --------------------------------------------------------------------------------------------


class KeepAliveRequests:
    """Stands in for the `requests` module inside wechatpayv3.core: the same get/post calls,
    through one requests.Session per thread (wechatpayv3 itself calls requests.get/post, which
    opens a new connection for every request)."""

    def __init__(self):
        import requests

        self._requests = requests
        self._local = threading.local()

    def _session(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = self._requests.Session()
        return s

    def get(self, url, **kw):
        return self._session().get(url, **kw)

    def post(self, url, **kw):
        return self._session().post(url, **kw)


class Loopback:
    def __init__(self, run_tag):
        import wechatpay_refund as wr
        import wechatpayv3.core as v3core
        from wechatpayv3 import WeChatPay, WeChatPayType

        self.wr = wr
        self.v3core = v3core
        self.stock_requests = v3core.requests
        self.keepalive_requests = KeepAliveRequests()
        self.sandbox = wr.Sandbox.start()
        cred = self.sandbox.credentials()
        self.base_url = cred.base_url
        self.client = wr.RefundClient(self.sandbox.client_config())
        self.wx = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=cred.mchid,
            private_key=cred.merchant_private_key_pem,
            cert_serial_no=cred.merchant_serial_no,
            appid="wx0000000000000000",
            apiv3_key=cred.api_v3_key,
            public_key=cred.wechatpay_public_key_pem,
            public_key_id=cred.wechatpay_public_key_id,
            timeout=(5, 10),
        )
        # wechatpayv3 has no base-URL option: Core keeps the host in the instance attribute
        # `_gate_way` ('https://api.mch.weixin.qq.com'); point it at the sandbox.
        self.wx._core._gate_way = self.base_url
        self.tag = run_tag
        self.seq = 0
        self.lock = threading.Lock()
        self.total_pairs = 0

    def _next_worker_ids(self):
        with self.lock:
            self.seq += 1
            return "%s%d" % (self.tag, self.seq)

    def worker(self, kind):
        """A callable doing one apply + query pair with its own orders and refund numbers."""
        wid = self._next_worker_ids()
        st = {"n": 0, "order": None}
        sandbox = self.sandbox

        def next_ids():
            if st["n"] % REFUNDS_PER_ORDER == 0:
                st["order"] = "O%sx%d" % (wid, st["n"])
                sandbox.create_order(st["order"], REFUND_TOTAL)
            st["n"] += 1
            return st["order"], "R%sx%d" % (wid, st["n"])

        if kind == "binding":
            wr, client = self.wr, self.client

            def pair():
                order, rno = next_ids()
                r = client.create_refund(wr.CreateRefundRequest(
                    out_trade_no=order, out_refund_no=rno,
                    amount=wr.RefundAmountInput(refund=1, total=REFUND_TOTAL)))
                q = client.query_refund(rno, None)
                if r.out_refund_no != rno or q.out_refund_no != rno:
                    raise RuntimeError("binding round trip returned the wrong refund")
        else:
            wx = self.wx

            def pair():
                order, rno = next_ids()
                code, text = wx.refund(out_refund_no=rno, amount={"refund": 1, "total": REFUND_TOTAL, "currency": "CNY"},
                                       out_trade_no=order)
                if code != 200:
                    raise RuntimeError("wechatpayv3 apply: HTTP %s %s" % (code, text[:200]))
                r = json.loads(text)
                code, text = wx.query_refund(rno)
                if code != 200:
                    raise RuntimeError("wechatpayv3 query: HTTP %s %s" % (code, text[:200]))
                q = json.loads(text)
                if r["out_refund_no"] != rno or q["out_refund_no"] != rno:
                    raise RuntimeError("wechatpayv3 round trip returned the wrong refund")
        return pair

    def measure(self, kind, threads, seconds, keepalive=True, max_pairs=20_000):
        """(apply+query pairs per second, client-thread CPU seconds per pair)."""
        if kind == "wechatpayv3":
            self.v3core.requests = self.keepalive_requests if keepalive else self.stock_requests
        try:
            r = rate_threads(lambda i: self.worker(kind), threads, seconds, max_iters=max_pairs, with_cpu=True)
        finally:
            self.v3core.requests = self.stock_requests
        return r

    def stop(self):
        self.sandbox.stop()


LOOP_CONFIGS = [("binding", 1, True), ("wechatpayv3", 1, True), ("binding", 2, True), ("wechatpayv3", 2, True),
                ("wechatpayv3", 1, False)]


def loop_name(kind, threads, keepalive):
    return "%s.%dt%s" % (kind, threads, "" if keepalive else ".nokeepalive")


def loopback_worker(seconds, r):
    """Runs in a child process (optionally inside a private network namespace): one sandbox,
    every loopback configuration once, in an order rotated by the round number."""
    loop = Loopback("p%d" % os.getpid())
    out = {}
    try:
        for kind, threads, ka in rotated(LOOP_CONFIGS, r):
            rps, cpu = loop.measure(kind, threads, seconds, keepalive=ka)
            out[loop_name(kind, threads, ka)] = rps
            out[loop_name(kind, threads, ka) + ".cpu_ms"] = cpu * 1000
    finally:
        loop.stop()
    print(json.dumps(out))


# Diagnostic variant: the same loopback run inside a private network namespace (unshare -n,
# its own lo) whose loopback routes carry `quickack 1`, i.e. no delayed ACKs. It shows what the
# clients do when the sandbox's Nagle / delayed-ACK stall (BENCHMARKS.md) is out of the way.
# Touches nothing outside that namespace; skipped where unshare/ip are not permitted.
QUICKACK_SH = ("ip link set lo up"
               " && ip route change local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1"
               " && ip route change local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1"
               ' && exec "$@"')


def quickack_prefix():
    if not (shutil.which("unshare") and shutil.which("ip")):
        return None
    cmd = ["unshare", "-n", "sh", "-c", QUICKACK_SH, "sh"]
    try:
        p = subprocess.run(cmd + ["true"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return cmd if p.returncode == 0 else None


def run_loopback(prefix, root, seconds, r):
    cmd = list(prefix or []) + [sys.executable, os.path.abspath(__file__), "loopback", "--root", root,
                                "--seconds", str(seconds), "--round", str(r)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=len(LOOP_CONFIGS) * (seconds + 130) + 60)
    if p.returncode != 0:
        raise RuntimeError("loopback child%s failed (%d):\n%s" % (" (quickack netns)" if prefix else "", p.returncode,
                                                                  p.stderr[-3000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# Footprint
# --------------------------------------------------------------------------------------------


def vmrss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def rss_probe(kind, root):
    """Runs in a fresh interpreter: RSS before, after import, after a client (and after one
    signing call, for information)."""
    v = Vectors(root)
    before = vmrss_kb()
    if kind == "binding":
        import wechatpay_refund as wr

        after_import = vmrss_kb()
        cfg = wr.ClientConfig(mchid=v.mchid, merchant_serial_no=v.serial, merchant_private_key_pem=v.merchant_pem,
                              api_v3_key=v.api_v3_key, wechatpay_public_key_id=v.wx_id,
                              wechatpay_public_key_pem=v.wx_pub_pem)
        client = wr.RefundClient(cfg)
        after_client = vmrss_kb()
        wr.build_query_refund_request(cfg, "R1", None, TS, "N")
    else:
        from wechatpayv3 import WeChatPay, WeChatPayType

        after_import = vmrss_kb()
        client = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=v.mchid, private_key=v.merchant_pem,
                           cert_serial_no=v.serial, appid="wx0000000000000000", apiv3_key=v.api_v3_key,
                           public_key=v.wx_pub_pem, public_key_id=v.wx_id)
        after_client = vmrss_kb()
        client.sign(["a", "b"])
    after_use = vmrss_kb()
    print(json.dumps({"before_kb": before, "after_import_kb": after_import, "after_client_kb": after_client,
                      "after_one_op_kb": after_use}))


def measure_rss(kind, root):
    samples = []
    for _ in range(3):
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "rss", kind, "--root", root],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("RSS probe (%s) failed:\n%s" % (kind, p.stderr[-2000:]))
        samples.append(json.loads(p.stdout.strip().splitlines()[-1]))
    added = [(s["after_client_kb"] - s["before_kb"]) / 1024 for s in samples]
    import_only = [(s["after_import_kb"] - s["before_kb"]) / 1024 for s in samples]
    return median(added), median(import_only)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def settings(quick):
    if quick:
        return dict(rounds=2, op_secs=0.05, openssl_secs=1, openssl_rounds=1, loop_secs=0.2, size_secs=0.05,
                    crit=["--warm-up-time", "0.05", "--measurement-time", "0.1", "--sample-size", "10",
                          "--nresamples", "200"])
    return dict(rounds=5, op_secs=0.6, openssl_secs=2, openssl_rounds=99, loop_secs=1.5, size_secs=0.3,
                crit=["--warm-up-time", "0.5", "--measurement-time", "1.5", "--sample-size", "20",
                      "--nresamples", "2000"])


def rotated(items, r):
    k = r % len(items)
    return items[k:] + items[:k]


def run(args):
    t_start = time.time()
    s = settings(args.quick)
    if args.rounds:
        s["rounds"] = args.rounds
    root = args.root
    v = Vectors(root)
    load_before = open("/proc/loadavg").read().split()[:3]
    log("load before: %s; %d rounds%s" % (" ".join(load_before), s["rounds"], " (quick)" if args.quick else ""))

    binding = BindingOps(v)
    generated = GeneratedOps(v)
    v3 = WechatpayV3Ops(v)
    crit_home = tempfile.mkdtemp(prefix="bench-compare-criterion-")

    sizes = [1024, 10 * 1024, 100 * 1024]
    size_inputs = {}
    from requests.structures import CaseInsensitiveDict
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    wx_pub = serialization.load_pem_public_key(v.wx_pub_pem.encode())
    for sz in sizes:
        body, sig = v.signed_body_of_size(sz)
        resp = binding.http_response(body, sig)
        binding.verify(resp)  # checked once
        hdrs = CaseInsensitiveDict(v.response_headers(signature=sig))
        text = body.decode()
        v3.verify(hdrs, text)
        msg = b"%d\n%s\n%s\n" % (v.ok["timestamp"], v.ok["nonce"].encode(), body)
        raw_sig = base64.b64decode(sig)
        size_inputs[sz] = dict(resp=resp, hdrs=hdrs, text=text, msg=msg, sig=raw_sig, len=len(body))
    sizes_json = os.path.join(crit_home, "sizes-input.json")
    with open(sizes_json, "w", encoding="utf-8") as f:
        json.dump({"keys": v.keys, "now": v.now, "cases": [
            {"size": sz, "headers": [list(h) for h in v.response_headers(signature=base64.b64encode(
                size_inputs[sz]["sig"]).decode())], "body": size_inputs[sz]["text"]} for sz in sizes]}, f)

    qa_prefix = quickack_prefix()
    if qa_prefix is None:
        log("no private network namespace (unshare -n / ip not permitted): skipping the quickack diagnostic")
    res = {}  # name -> list of per-round values

    def add(name, value):
        res.setdefault(name, []).append(value)

    def task_rust(r):
        out = run_criterion(args.rust_bench, os.path.join(crit_home, "r%d" % r), s["crit"], timeout=900)
        res.setdefault("_rust_backend", []).append(out.pop("_backend"))
        for op, val in out.items():
            add("rust." + op, val)

    def task_openssl(r):
        if r >= s["openssl_rounds"]:  # --quick: once is enough to keep it working
            return
        sign, verify = run_openssl(s["openssl_secs"])
        add("openssl.sign", sign)
        add("openssl.verify", verify)

    def task_ops(r):
        contenders = rotated([("binding", binding), ("generated", generated), ("wechatpayv3", v3)], r)
        for op, _ in OPS + [("client", "")]:
            for name, c in contenders:
                if name == "generated" and op == "client":
                    continue
                add("%s.%s" % (name, op), rate(getattr(c, op), s["op_secs"]))
        add("wechatpayv3.oaep2", rate(v3.oaep2, s["op_secs"]))
        # sans-IO signing from 2 threads (does the call release the GIL?)
        for name, c in contenders:
            add("%s.sign_2t" % name, rate_threads(lambda i, c=c: c.sign, 2, s["op_secs"]))

    def task_sizes(r):
        p = subprocess.run([args.rust_sizes, sizes_json, str(s["size_secs"])], capture_output=True, text=True,
                           timeout=len(sizes) * 3 * (s["size_secs"] + 1) + 60)
        if p.returncode != 0:
            raise RuntimeError("rust-sizes failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
        for k, val in json.loads(p.stdout.strip().splitlines()[-1]).items():
            sz, what = k.split(".", 1)
            add("size%s.rust_%s" % (sz, what), val)
        for sz in sizes:
            d = size_inputs[sz]
            for name in rotated(["binding", "binding_verify_only", "wechatpayv3", "crypto_verify", "json_loads"], r):
                if name == "binding":
                    fn = lambda d=d: binding.verify(d["resp"])
                elif name == "binding_verify_only":
                    fn = lambda d=d: binding.verify_only(d["resp"])
                elif name == "wechatpayv3":
                    fn = lambda d=d: v3.verify(d["hdrs"], d["text"])
                elif name == "crypto_verify":
                    fn = lambda d=d: wx_pub.verify(d["sig"], d["msg"], padding.PKCS1v15(), hashes.SHA256())
                else:
                    fn = lambda d=d: json.loads(d["text"])
                add("size%d.%s" % (sz, name), rate(fn, s["size_secs"]))

    def task_loopback(r):
        variants = [("loop", None)] + ([("loopqa", qa_prefix)] if qa_prefix else [])
        for tag, prefix in rotated(variants, r):
            for k, val in run_loopback(prefix, root, s["loop_secs"], r).items():
                add("%s.%s" % (tag, k), val)

    tasks = [("rust", task_rust), ("openssl", task_openssl), ("python ops", task_ops), ("body sizes", task_sizes),
             ("loopback", task_loopback)]
    loads = []
    try:
        for r in range(s["rounds"]):
            order = rotated(tasks, r)
            log("round %d/%d: %s" % (r + 1, s["rounds"], ", ".join(n for n, _ in order)))
            for name, fn in order:
                t0 = time.time()
                fn(r)
                log("  %s: %.1fs" % (name, time.time() - t0))
            loads.append(float(open("/proc/loadavg").read().split()[0]))
    finally:
        shutil.rmtree(crit_home, ignore_errors=True)

    wheel_mb = os.path.getsize(args.wheel) / 1e6
    rss_binding, rss_binding_import = measure_rss("binding", root)
    rss_v3, rss_v3_import = measure_rss("wechatpayv3", root)
    med = {k: median(vals) for k, vals in res.items() if not k.startswith("_")}
    spread = {k: (min(vals), max(vals)) for k, vals in res.items() if not k.startswith("_")}
    load_after = open("/proc/loadavg").read().split()[:3]
    report = dict(
        med=med, spread=spread, rounds=s["rounds"], quick=args.quick, wheel_mb=wheel_mb,
        wheel=os.path.basename(args.wheel), rss_binding_mb=rss_binding, rss_binding_import_mb=rss_binding_import,
        rss_v3_mb=rss_v3, rss_v3_import_mb=rss_v3_import, load_before=load_before, load_after=load_after,
        load_rounds=loads, sizes={sz: size_inputs[sz]["len"] for sz in sizes},
        rust_backend=sorted(set(res.get("_rust_backend", []))), seconds=time.time() - t_start, quickack=bool(qa_prefix),
        machine=machine(), versions=versions(),
    )
    text, failed = render(report)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    if args.strict and failed:
        log("targets failed (--strict): %s" % ", ".join(failed))
        return 2
    return 0


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=model, kernel=platform.release())


def versions():
    out = {"python": platform.python_version()}
    try:
        from importlib.metadata import version

        for pkg in ("wechatpay-refund", "wechatpayv3", "cryptography", "requests"):
            try:
                out[pkg] = version(pkg)
            except Exception:
                out[pkg] = "?"
    except ImportError:
        pass
    try:
        out["openssl"] = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return out


def fmt_rate(x):
    if x != x:  # nan
        return "n/a"
    if x >= 100:
        return "{:,.0f}".format(x)
    return "{:,.1f}".format(x)


def render(rep):
    m = rep["med"]
    lines = []
    failed = []

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    checked = []

    def target(name, ok):
        checked.append(name)
        if not ok:
            failed.append(name)
        return verdict(ok)

    lines.append("wechatpay-refund bench-compare: %s, %d rounds, median of rounds (ops/s unless noted)"
                 % ("QUICK (smoke numbers, not for the table)" if rep["quick"] else "full", rep["rounds"]))
    mc = rep["machine"]
    lines.append("machine: %s x%d, load before %s, after %s, per round %s; run took %.0fs"
                 % (mc["cpu"], mc["nproc"], "/".join(rep["load_before"]), "/".join(rep["load_after"]),
                    ", ".join("%.2f" % x for x in rep["load_rounds"]), rep["seconds"]))
    vs = rep["versions"]
    lines.append("versions: Python %s, wechatpay-refund %s (rust backend %s), wechatpayv3 %s, cryptography %s, %s"
                 % (vs.get("python"), vs.get("wechatpay-refund"), ",".join(rep["rust_backend"]), vs.get("wechatpayv3"),
                    vs.get("cryptography"), vs.get("openssl")))
    lines.append("")
    lines.append("| operation | Rust | Python binding | wechatpayv3 | binding/Rust (>=0.9) | binding/wechatpayv3 (>=1.0) | Rust vs openssl | generated code only (no accelerator) |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    o_sign, o_verify = m.get("openssl.sign", float("nan")), m.get("openssl.verify", float("nan"))
    for op, desc in OPS:
        ru, bi, v3 = m["rust." + op], m["binding." + op], m["wechatpayv3." + op]
        r1, r2 = bi / ru, bi / v3
        t1 = target("binding>=0.9xRust[%s]" % op, r1 >= 0.9)
        t2 = target("binding>=wechatpayv3[%s]" % op, r2 >= 1.0)
        vs_ssl = ""
        if op == "sign":
            q = ru / o_sign
            vs_ssl = "%.2f x sign/s (>=0.9) %s" % (q, target("Rust sign>=0.9xopenssl", q >= 0.9))
        elif op == "verify":
            q = ru / o_verify
            vs_ssl = "%.2f x verify/s (>=0.8) %s" % (q, target("Rust verify>=0.8xopenssl", q >= 0.8))
        ge = m.get("generated." + op, float("nan"))
        lines.append("| %s | %s | %s | %s | %.2f %s | %.2f %s | %s | %s (%.2f x Rust) |"
                     % (desc, fmt_rate(ru), fmt_rate(bi), fmt_rate(v3), r1, t1, r2, t2, vs_ssl, fmt_rate(ge), ge / ru))
    for op, desc in EXTRA_OPS:
        if "rust." + op in m:
            lines.append("| %s | %s | n/a (not exported) | %s | | | | |" % (desc, fmt_rate(m["rust." + op]),
                                                                        fmt_rate(m["wechatpayv3." + op])))
    lines.append("| openssl speed rsa2048 (-seconds %d) | sign %s, verify %s | | | | | | |"
                 % (2 if not rep["quick"] else 1, fmt_rate(o_sign), fmt_rate(o_verify)))
    lines.append("")
    # Loopback
    def loop_block(tag, title, with_targets):
        b1, b2 = m[tag + ".binding.1t"], m[tag + ".binding.2t"]
        w1, w2 = m[tag + ".wechatpayv3.1t"], m[tag + ".wechatpayv3.2t"]
        wn = m[tag + ".wechatpayv3.1t.nokeepalive"]
        cpu = lambda k: "%.2f" % m[tag + "." + k + ".cpu_ms"]
        tgt = (lambda name, ok: target(name, ok)) if with_targets else (lambda name, ok: "")
        lines.append("| %s | 1 thread | 2 threads | 2t / 1t | client CPU ms/pair (1t) |" % title)
        lines.append("|---|---:|---:|---:|---:|")
        lines.append("| Python binding (RefundClient, keep-alive) | %s | %s | %.2f %s | %s |"
                     % (fmt_rate(b1), fmt_rate(b2), b2 / b1, tgt("loopback binding 2t>=1.7x1t", b2 / b1 >= 1.7)
                        + (" (>=1.7)" if with_targets else ""), cpu("binding.1t")))
        lines.append("| wechatpayv3, keep-alive (requests.Session per thread) | %s | %s | %.2f | %s |"
                     % (fmt_rate(w1), fmt_rate(w2), w2 / w1, cpu("wechatpayv3.1t")))
        lines.append("| wechatpayv3 as shipped (requests.get/post: new connection per request) | %s | | | %s |"
                     % (fmt_rate(wn), cpu("wechatpayv3.1t.nokeepalive")))
        lines.append("| binding / wechatpayv3 keep-alive%s | %.2f %s | %.2f %s | | |"
                     % (" (>=2)" if with_targets else "", b1 / w1, tgt("loopback 1t binding>=2xwechatpayv3", b1 / w1 >= 2),
                        b2 / w2, tgt("loopback 2t binding>=2xwechatpayv3", b2 / w2 >= 2)))
        lines.append("")

    loop_block("loop", "loopback sandbox, apply+query pairs/s", True)
    if rep.get("quickack"):
        loop_block("loopqa", "DIAGNOSTIC, not a target: same, in a private netns with `quickack 1` on lo (no delayed ACKs)", False)
    else:
        lines.append("(quickack diagnostic skipped: no private network namespace here)")
        lines.append("")
    # Footprint
    lines.append("| footprint | value | target |")
    lines.append("|---|---:|---|")
    cfg_ms = 1000 / m["binding.config"]
    cli_ms = 1000 / m["binding.client"]
    rust_cfg_ms = 1000 / m["rust.config"]
    lines.append("| client construction, Rust ClientConfig from PEM | %.3f ms | <=1 ms %s |"
                 % (rust_cfg_ms, target("Rust config<=1ms", rust_cfg_ms <= 1)))
    lines.append("| client construction, Python ClientConfig(...) + RefundClient(config) | %.3f ms (config alone %.3f ms) | <=1 ms %s |"
                 % (cli_ms, cfg_ms, target("Python client<=1ms", cli_ms <= 1)))
    lines.append("| client construction, wechatpayv3 WeChatPay(...) | %.3f ms | (reference) |" % (1000 / m["wechatpayv3.client"]))
    lines.append("| wheel %s | %.2f MB | <=6 MB %s |" % (rep["wheel"], rep["wheel_mb"], target("wheel<=6MB", rep["wheel_mb"] <= 6)))
    lines.append("| RSS added by import + ClientConfig + RefundClient | %.1f MB (import alone %.1f MB) | <=15 MB %s |"
                 % (rep["rss_binding_mb"], rep["rss_binding_import_mb"], target("RSS<=15MB", rep["rss_binding_mb"] <= 15)))
    lines.append("| RSS added by import wechatpayv3 + WeChatPay(...) | %.1f MB (import alone %.1f MB) | (reference) |"
                 % (rep["rss_v3_mb"], rep["rss_v3_import_mb"]))
    lines.append("")
    # Threads, sans-IO
    lines.append("| sans-IO signing, 2 threads (aggregate ops/s) | 1 thread | 2 threads | 2t / 1t |")
    lines.append("|---|---:|---:|---:|")
    for name in ("binding", "wechatpayv3"):
        one, two = m[name + ".sign"], m[name + ".sign_2t"]
        lines.append("| %s | %s | %s | %.2f |" % (name, fmt_rate(one), fmt_rate(two), two / one))
    lines.append("")
    # Body sizes
    lines.append("| verify+parse by body size (ops/s) | " + " | ".join("%d B" % rep["sizes"][sz] for sz in sorted(rep["sizes"])) + " |")
    lines.append("|---|" + "---:|" * len(rep["sizes"]))
    labels = [("rust_verify_parse", "Rust parse_refund_response (verify + parse)"),
              ("rust_verify_only", "Rust verify_wechatpay_signature (verify only)"),
              ("rust_json_value", "Rust serde_json::Value parse alone"),
              ("binding", "Python binding parse_refund_response (verify + parse + lift to Python)"),
              ("binding_verify_only", "Python binding verify_wechatpay_signature (verify only)"),
              ("wechatpayv3", "wechatpayv3 _verify_signature + json.loads"),
              ("crypto_verify", "cryptography RSA verify alone (SHA-256 + public op)"),
              ("json_loads", "json.loads alone")]
    for key, label in labels:
        lines.append("| %s | " % label + " | ".join(fmt_rate(m["size%d.%s" % (sz, key)]) for sz in sorted(rep["sizes"])) + " |")
    lines.append("")
    lines.append("targets: %d checked, %d PASS, %d FAIL%s" % (len(checked), len(checked) - len(failed), len(failed),
                                                          (": " + ", ".join(failed)) if failed else ""))
    lines.append("spread (min..max over rounds) of the headline numbers: " + "; ".join(
        "%s %s..%s" % (k, fmt_rate(rep["spread"][k][0]), fmt_rate(rep["spread"][k][1]))
        for k in ("rust.sign", "binding.sign", "rust.verify", "binding.verify", "openssl.sign", "loop.binding.1t",
                  "loopqa.binding.1t")
        if k in rep["spread"]))
    return "\n".join(lines), failed


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "loopback":
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd")
        ap.add_argument("--root", required=True)
        ap.add_argument("--seconds", type=float, required=True)
        ap.add_argument("--round", type=int, default=0)
        a = ap.parse_args()
        loopback_worker(a.seconds, a.round)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "rss":
        ap = argparse.ArgumentParser()
        ap.add_argument("cmd")
        ap.add_argument("kind", choices=["binding", "wechatpayv3"])
        ap.add_argument("--root", required=True)
        a = ap.parse_args()
        rss_probe(a.kind, a.root)
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True)
    ap.add_argument("--rust-bench", required=True, help="the criterion bench executable (benches/refund.rs)")
    ap.add_argument("--rust-sizes", required=True, help="the scripts/bench/rust_sizes.rs executable")
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--strict", action="store_true", help="exit 2 when a target FAILs")
    a = ap.parse_args()
    try:
        return run(a)
    except Exception as e:  # any contender that cannot be measured fails the run
        import traceback

        traceback.print_exc()
        die("benchmark failed: %s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    sys.exit(main())
