"""The CPython accelerator (`_speedups`, src/python.rs) against the generated UniFFI code.

Every accelerated call must be indistinguishable from the generated one it replaces: the same
result objects (class, fields, equality, str/repr), the same `RefundError` (class and fields) and
the same TypeError/ValueError for a wrong argument. Each case below runs both implementations on
the same inputs -- the golden vectors, their tampered and malformed variants, and wrong argument
types -- and compares the outcomes. The rest of the suite runs through whichever implementation
is installed; scripts/test-python runs it twice, accelerated and with
WECHATPAY_REFUND_PURE_PYTHON=1.
"""

import base64
import gc
import json
import os
import threading
import weakref

import pytest

import wechatpay_refund as wr
from conftest import load_vector
from test_foreign import CryptographySigner
from test_vectors import case, verification_headers

G = wr._generated
PURE = wr._PURE
VERIFICATION = load_vector("verification.json")
NOTIFICATION = load_vector("notification.json")

needs_speedups = pytest.mark.skipif(not wr.SPEEDUPS, reason="the accelerator is switched off")


def test_the_accelerator_is_in_use_unless_switched_off():
    """A wheel whose accelerator silently fails to load would pass every other test, slowly."""
    switched_off = os.environ.get("WECHATPAY_REFUND_PURE_PYTHON", "") not in ("", "0")
    assert wr.SPEEDUPS is (not switched_off)
    if wr.SPEEDUPS:
        assert wr.parse_refund_response is not G.parse_refund_response
        assert wr.ClientConfig.__init__ is not PURE["ClientConfig.__init__"]
    else:
        assert wr.parse_refund_response is G.parse_refund_response
        assert PURE == {}


# ------------------------------------------------------------------ no silent drift

# Every record the accelerator reads or builds (src/python.rs `RECORDS`).
CONVERTED_RECORDS = [
    "FundsFrom", "GoodsDetailInput", "RefundAmountInput", "CreateRefundRequest",
    "AbnormalRefundRequest", "WechatpayPublicKey", "ClientOptions", "HttpResponse", "HttpHeader",
    "HttpRequest", "PromotionGoodsDetail", "Promotion", "RefundAmount", "Refund",
    "NotificationAmount", "RefundNotification",
]


def _lift_error(data):
    return G._UniffiFfiConverterTypeRefundError.read(G._UniffiRustBufferStream(data, len(data)))


def _drifted_module(record, change):
    """A copy of the generated module whose class `record` takes other fields (`change` maps
    the list of inspect.Parameter to a new one)."""
    import inspect
    import types

    fake = types.ModuleType("drifted")
    fake.__dict__.update(vars(G))
    base = getattr(G, record)
    sig = inspect.signature(base.__init__)

    def __init__(self, **kwargs):
        base.__init__(self, **kwargs)

    __init__.__signature__ = sig.replace(parameters=change(list(sig.parameters.values())))
    setattr(fake, record, type(record, (base,), {"__init__": __init__}))
    return fake


@needs_speedups
@pytest.mark.parametrize("record", CONVERTED_RECORDS)
def test_install_refuses_a_generated_class_with_a_field_the_accelerator_does_not_fill(record):
    import inspect

    new = inspect.Parameter("added_in_a_newer_release", inspect.Parameter.KEYWORD_ONLY, default=None)
    fake = _drifted_module(record, lambda params: params + [new])
    with pytest.raises(ValueError, match=r"%s: .*does not know: \[added_in_a_newer_release\]; and lacks: \[\]" % record):
        wr._speedups.install(fake, _lift_error)


@needs_speedups
@pytest.mark.parametrize("record", CONVERTED_RECORDS)
def test_install_refuses_a_generated_class_without_a_field_the_accelerator_sets(record):
    import inspect

    last = list(inspect.signature(getattr(G, record).__init__).parameters)[-1]
    fake = _drifted_module(record, lambda params: params[:-1])
    with pytest.raises(ValueError, match=r"%s: .*does not know: \[\]; and lacks: \[%s\]" % (record, last)):
        wr._speedups.install(fake, _lift_error)


def test_the_accelerator_converts_every_record_of_the_generated_module_it_touches():
    """The list above is the accelerator's; a generated record class that the fast path returns
    must be in it (a new nested record would otherwise go unchecked)."""
    import typing

    def classes_in(hint):
        if isinstance(hint, type):
            yield hint
        for arg in typing.get_args(hint):
            yield from classes_in(arg)

    def nested(cls, seen):
        if cls.__name__ in seen:
            return
        seen.add(cls.__name__)
        for hint in typing.get_type_hints(cls.__init__, vars(G)).values():
            for target in classes_in(hint):
                if hasattr(target, "_wr_fields"):
                    nested(target, seen)

    seen = set()
    for root in ("Refund", "RefundNotification", "HttpRequest", "CreateRefundRequest",
                 "AbnormalRefundRequest", "ClientOptions", "HttpResponse"):
        nested(getattr(G, root), seen)
    assert seen <= set(CONVERTED_RECORDS), sorted(seen - set(CONVERTED_RECORDS))


@needs_speedups
def test_every_attribute_of_an_accelerated_result_is_set(vector_config):
    c = next(c for c in VERIFICATION["cases"] if c["expect"] == "ok" and c["body"])
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode())
    refund = wr.parse_refund_response(vector_config, resp, VERIFICATION["now"])

    def check(obj):
        if hasattr(type(obj), "_wr_fields"):
            assert set(vars(obj)) == set(type(obj)._wr_fields), type(obj).__name__
            for name in type(obj)._wr_fields:
                check(getattr(obj, name))
        elif isinstance(obj, list):
            for item in obj:
                check(item)

    check(refund)


# ------------------------------------------------------------------ comparing outcomes


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except wr.RefundError as e:
        return ("refund_error", type(e), str(e), dict(vars(e)))
    except (TypeError, ValueError, AttributeError) as e:
        # The message may be worded differently; the class is the contract.
        return ("python_error", type(e))


def assert_same(fast, pure):
    assert fast[0] == pure[0], (fast, pure)
    if fast[0] != "ok":
        assert fast == pure
        return
    a, b = fast[1], pure[1]
    assert type(a) is type(b)
    assert a == b
    if a is not None:
        assert vars(a) == vars(b)
        assert str(a) == str(b)
        assert repr(a) == repr(b)


def as_bytes(value):
    return bytes(value) if isinstance(value, (bytearray, memoryview)) else value


def both(name, *args):
    """The accelerated and the generated outcome. The accelerator also takes a bytearray or a
    memoryview where the generated code only takes bytes (its ctypes lowering refuses the
    others): such an argument goes to the generated code as bytes."""
    pure_args = [as_bytes(a) for a in args]
    if name == "parse_refund_response" and isinstance(args[1], wr.HttpResponse):
        r = args[1]
        pure_args[1] = wr.HttpResponse(status=r.status, headers=r.headers, body=as_bytes(r.body))
    return outcome(getattr(wr, name), *args), outcome(PURE[name], *pure_args)


# ------------------------------------------------------------------ responses


def response_variants(c):
    body = c["body"].encode("utf-8")
    h = verification_headers(c)
    yield "as is", wr.HttpResponse(status=200, headers=h, body=body)
    yield "lower-case names", wr.HttpResponse(
        status=200, headers=[wr.HttpHeader(name=x.name.lower(), value=x.value) for x in h], body=body)
    yield "bytearray body", wr.HttpResponse(status=200, headers=h, body=bytearray(body))
    yield "memoryview body", wr.HttpResponse(status=200, headers=h, body=memoryview(body))
    yield "tuple of headers", wr.HttpResponse(status=200, headers=tuple(h), body=body)
    yield "tampered body", wr.HttpResponse(status=200, headers=h, body=body + b" ")
    yield "no nonce", wr.HttpResponse(status=200, headers=[x for x in h if x.name != "Wechatpay-Nonce"], body=body)
    yield "no headers", wr.HttpResponse(status=200, headers=[], body=body)
    yield "duplicate header", wr.HttpResponse(status=200, headers=h + [h[1]], body=body)
    yield "non-ASCII header", wr.HttpResponse(
        status=200, headers=h + [wr.HttpHeader(name="X-备注", value="退款")], body=body)
    yield "status 201", wr.HttpResponse(status=201, headers=h, body=body)
    yield "signed 404", wr.HttpResponse(status=404, headers=h, body=body)
    yield "unsigned 500", wr.HttpResponse(
        status=500, headers=[h[-1]], body=b'{"code":"SYSTEM_ERROR","message":"busy"}')
    yield "unsigned 502 from a proxy", wr.HttpResponse(status=502, headers=[], body=b"<html>bad gateway</html>")
    yield "unsigned 400 with detail", wr.HttpResponse(
        status=400, headers=[h[-1]],
        body='{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/refund","issue":"x","location":"body"}}'.encode())
    yield "not JSON", wr.HttpResponse(status=200, headers=h, body=b"not json")
    yield "invalid UTF-8", wr.HttpResponse(status=200, headers=h, body=b"\xff\xfe")


VERIFY_CASES = [
    pytest.param(c, name, resp, id="%s-%s" % (c["name"], name))
    for c in VERIFICATION["cases"]
    for name, resp in response_variants(c)
]


@needs_speedups
@pytest.mark.parametrize("c,variant,resp", VERIFY_CASES)
def test_parse_refund_response_matches(vector_config, c, variant, resp):
    now = VERIFICATION["now"]
    fast, pure = both("parse_refund_response", vector_config, resp, now)
    assert_same(fast, pure)
    if c["expect"] == "ok" and c["body"] and variant == "as is":
        assert fast[0] == "ok" and fast[1].raw_json == c["body"]


@needs_speedups
@pytest.mark.parametrize("c,variant,resp", VERIFY_CASES)
def test_verify_wechatpay_signature_matches(vector_config, c, variant, resp):
    now = VERIFICATION["now"]
    assert_same(*both("verify_wechatpay_signature", vector_config, resp.headers, resp.body, now))


@needs_speedups
@pytest.mark.parametrize("now_shift", [-301, -300, 0, 300, 301])
def test_timestamp_window_matches(vector_config, now_shift):
    c = case(VERIFICATION, "ok_public_key")
    resp = next(r for n, r in response_variants(c) if n == "as is")
    now = int(c["timestamp"]) + now_shift
    assert_same(*both("parse_refund_response", vector_config, resp, now))


def test_a_large_body_goes_through_both_paths_alike(vector_config, keys):
    """A 100 KB body: the accelerator borrows the caller's bytes instead of copying them."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    c = case(VERIFICATION, "ok_public_key")
    body = json.loads(c["body"])
    body["promotion_detail"] = body["promotion_detail"] * 200
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    priv = serialization.load_pem_private_key(keys["wechatpay_public_key"]["private_key_pkcs8_pem"].encode(), None)
    message = "%s\n%s\n%s\n" % (c["timestamp"], c["nonce"], text)
    signature = base64.b64encode(priv.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    resp = wr.HttpResponse(status=200, headers=verification_headers(dict(c, signature=signature)), body=text.encode())
    refund = wr.parse_refund_response(vector_config, resp, VERIFICATION["now"])
    assert len(refund.promotion_detail) == 400
    assert refund.raw_json == text
    if wr.SPEEDUPS:
        assert_same(*both("parse_refund_response", vector_config, resp, VERIFICATION["now"]))


# ------------------------------------------------------------------ notifications


def notification_variants(c):
    body = c["body"].encode("utf-8")
    h = dict(c["headers"])
    yield "as is", h, body
    yield "WSGI names", {"HTTP_" + k.upper().replace("-", "_"): v for k, v in h.items()}, body
    yield "bytearray body", h, bytearray(body)
    yield "tampered body", h, body.replace(b'"', b"'", 1)
    yield "no signature", {k: v for k, v in h.items() if k != "Wechatpay-Signature"}, body
    yield "not JSON", h, b"{"


@needs_speedups
@pytest.mark.parametrize(
    "c,variant,headers,body",
    [pytest.param(c, n, h, b, id="%s-%s" % (c["name"], n))
     for c in NOTIFICATION["cases"] for n, h, b in notification_variants(c)],
)
@pytest.mark.parametrize("now_shift", [0, 400])
def test_parse_notification_at_matches(vector_config, c, variant, headers, body, now_shift):
    now = NOTIFICATION["now"] + now_shift
    fast, pure = both("parse_notification_at", vector_config, headers, body, now)
    assert_same(fast, pure)
    if variant == "as is" and now_shift == 0:
        assert fast[0] == "ok" and fast[1].raw_json == c["plaintext"]


# ------------------------------------------------------------------ requests


def create_requests():
    amount = wr.RefundAmountInput(refund=888, total=888)
    yield "minimal", wr.CreateRefundRequest(out_trade_no="1217752501201407033233368018",
                                            out_refund_no="R20261123001", amount=amount)
    yield "full", wr.CreateRefundRequest(
        transaction_id="4200002654202611184718563921", out_refund_no="R-full_1|2*3@4",
        amount=wr.RefundAmountInput(refund=500, total=1000, currency="CNY", funds_from=[
            wr.FundsFrom(account=wr.FromAccount.AVAILABLE, amount=300),
            wr.FundsFrom(account=wr.FromAccount.UNAVAILABLE, amount=200)]),
        sub_mchid="1900000109", reason="商品已售完", notify_url="https://merchant.example.com/notify?a=1",
        funds_account=wr.RequestFundsAccount.AVAILABLE,
        goods_detail=[wr.GoodsDetailInput(merchant_goods_id="SKU-1", unit_price=500, refund_amount=500,
                                          refund_quantity=1, wechatpay_goods_id="1001", goods_name="杯子")])
    yield "refund above total", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=wr.RefundAmountInput(refund=2, total=1))
    yield "empty out_refund_no", wr.CreateRefundRequest(out_trade_no="T1001", out_refund_no="", amount=amount)
    yield "both order ids", wr.CreateRefundRequest(
        out_trade_no="T1001", transaction_id="4200002654202611184718563921", out_refund_no="R1", amount=amount)
    yield "http notify url", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=amount, notify_url="http://merchant.example.com/n")
    yield "negative amount", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=wr.RefundAmountInput(refund=-1, total=10))
    yield "refund as str", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=wr.RefundAmountInput(refund="1", total=10))
    yield "refund beyond i64", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=wr.RefundAmountInput(refund=2**63, total=10))
    yield "out_refund_no as bytes", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no=b"R1", amount=amount)
    yield "funds_account as str", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=amount, funds_account="AVAILABLE")
    yield "goods_detail not a list", wr.CreateRefundRequest(
        out_trade_no="T1001", out_refund_no="R1", amount=amount, goods_detail=5)
    yield "not a request", "R1"


@needs_speedups
@pytest.mark.parametrize("name,request_", list(create_requests()), ids=lambda x: x if isinstance(x, str) else "")
@pytest.mark.parametrize("timestamp,nonce", [(1795000000, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
                                             (1795000000, ""), (1795000000, 7), ("1795000000", "N"),
                                             (True, "N"), (2**64, "N")])
def test_build_create_refund_request_matches(vector_config, name, request_, timestamp, nonce):
    assert_same(*both("build_create_refund_request", vector_config, request_, timestamp, nonce))


def test_build_create_refund_request_reproduces_the_signing_vector(vector_config):
    """The accelerated builder signs the golden vector's exact bytes (checked in Rust and by
    tests/vectors/check_vectors.py with `cryptography`)."""
    c = case(load_vector("signing.json"), "create_refund")
    body = json.loads(c["body"])
    req = wr.CreateRefundRequest(
        out_trade_no=body["out_trade_no"], out_refund_no=body["out_refund_no"], reason=body.get("reason"),
        notify_url=body.get("notify_url"),
        amount=wr.RefundAmountInput(refund=body["amount"]["refund"], total=body["amount"]["total"]))
    http = wr.build_create_refund_request(vector_config, req, int(c["timestamp"]), c["nonce"])
    assert http.body.decode() == c["body"]
    assert dict((h.name, h.value) for h in http.headers)["Authorization"] == c["authorization"]


@needs_speedups
@pytest.mark.parametrize("out_refund_no,sub_mchid", [
    ("R20261123001", None), ("R 1/2?3#4%", "1900000109"), ("", None), ("R1", 5), (None, None)])
def test_build_query_refund_request_matches(vector_config, out_refund_no, sub_mchid):
    assert_same(*both("build_query_refund_request", vector_config, out_refund_no, sub_mchid,
                      1795000000, "NONCE0123456789"))


def abnormal_requests():
    yield "user card", wr.AbnormalRefundRequest(
        refund_id="50000000382019052709732678859", out_refund_no="R20261123001",
        kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT",
        bank_account="6222021234567890", real_name="张三")
    yield "merchant card", wr.AbnormalRefundRequest(
        refund_id="50000000382019052709732678859", out_refund_no="R20261123001",
        kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD, sub_mchid="1900000109")
    yield "user card without account", wr.AbnormalRefundRequest(
        refund_id="50000000382019052709732678859", out_refund_no="R1",
        kind=wr.AbnormalRefundKind.USER_BANK_CARD, bank_type="ICBC_DEBIT", real_name="张三")
    yield "kind as str", wr.AbnormalRefundRequest(refund_id="5", out_refund_no="R1", kind="USER_BANK_CARD")


@needs_speedups
@pytest.mark.parametrize("name,request_", list(abnormal_requests()), ids=lambda x: x if isinstance(x, str) else "")
def test_build_apply_abnormal_refund_request_matches(vector_config, keys, name, request_):
    """RSA-OAEP is randomised: the encrypted fields differ between two calls, so they are
    decrypted with the test WeChat Pay private key before comparing."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    fast, pure = both("build_apply_abnormal_refund_request", vector_config, request_, 1795000000, "N")
    if fast[0] != "ok":
        assert_same(fast, pure)
        return
    priv = serialization.load_pem_private_key(keys["wechatpay_public_key"]["private_key_pkcs8_pem"].encode(), None)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)

    def opened(http):
        body = json.loads(http.body)
        for field in ("bank_account", "real_name"):
            if field in body:
                body[field] = priv.decrypt(base64.b64decode(body[field]), oaep).decode()
        headers = [(h.name, h.value) for h in http.headers if h.name != "Authorization"]
        return http.method, http.url, headers, body

    assert type(fast[1]) is type(pure[1]) is wr.HttpRequest
    assert opened(fast[1]) == opened(pure[1])


# ------------------------------------------------------------------ wrong argument types


@needs_speedups
@pytest.mark.parametrize("args", [
    (None, "resp", 0),
    ("config", "resp", 0),
    ("vector_config", None, 0),
    ("vector_config", "resp_status_str", 0),
    ("vector_config", "resp_status_70000", 0),
    ("vector_config", "resp_body_str", 0),
    ("vector_config", "resp_header_value_int", 0),
    ("vector_config", "resp_headers_none", 0),
    ("vector_config", "resp", "now"),
    ("vector_config", "resp", 1.5),
    ("vector_config", "resp", 2**63),
], ids=str)
def test_wrong_argument_types_raise_the_same_errors(vector_config, args):
    c = case(VERIFICATION, "ok_public_key")
    h, body = verification_headers(c), c["body"].encode()
    values = {
        "vector_config": vector_config,
        "config": object(),
        "resp": wr.HttpResponse(status=200, headers=h, body=body),
        "resp_status_str": wr.HttpResponse(status="200", headers=h, body=body),
        "resp_status_70000": wr.HttpResponse(status=70000, headers=h, body=body),
        "resp_body_str": wr.HttpResponse(status=200, headers=h, body=c["body"]),
        "resp_header_value_int": wr.HttpResponse(
            status=200, headers=h + [wr.HttpHeader(name="X", value=1)], body=body),
        "resp_headers_none": wr.HttpResponse(status=200, headers=None, body=body),
    }
    call = [values.get(a, a) if isinstance(a, str) else a for a in args]
    fast, pure = both("parse_refund_response", *call)
    assert fast[0] == pure[0] == "python_error"
    assert fast == pure


@needs_speedups
def test_an_object_that_only_looks_like_a_config_is_refused(vector_config):
    """The accelerator dereferences a handle only after checking the class."""

    class Impostor:
        _handle = vector_config._handle

    c = case(VERIFICATION, "ok_public_key")
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode())
    with pytest.raises(TypeError, match="ClientConfig"):
        wr.parse_refund_response(Impostor(), resp, VERIFICATION["now"])


# ------------------------------------------------------------------ ClientConfig


def config_args(keys, **overrides):
    args = dict(
        mchid=keys["mchid"],
        merchant_serial_no=keys["merchant"]["serial_no"],
        merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
        api_v3_key=keys["api_v3_key"],
        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"],
    )
    args.update(overrides)
    return args


def pure_config(**kwargs):
    config = object.__new__(wr.ClientConfig)
    PURE["ClientConfig.__init__"](config, **kwargs)
    return config


CONFIG_CASES = {
    "public key": {},
    "certificate too": {"platform_certificates_pem": "CERTS", "options": "ANCHORS"},
    "certificate without its CA": {"platform_certificates_pem": "CERTS"},
    "sandbox base URL": {"base_url": "http://127.0.0.1:8080"},
    "options": {"options": "OPTIONS"},
    "bad private key": {"merchant_private_key_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
    "short API v3 key": {"api_v3_key": "short"},
    "key id without key": {"wechatpay_public_key_pem": None},
    "no WeChat Pay key": {"wechatpay_public_key_id": None, "wechatpay_public_key_pem": None},
    "bad base URL": {"base_url": "ftp://example.com"},
    "mchid as int": {"mchid": 1900000001},
    "options of the wrong type": {"options": 5},
    "negative timeout": {"options": "NEGATIVE"},
}


@needs_speedups
@pytest.mark.parametrize("case", list(CONFIG_CASES), ids=str)
def test_client_config_matches(keys, case):
    special = {
        "CERTS": [keys["platform"]["certificate_pem"]],
        "OPTIONS": wr.ClientOptions(user_agent="bench/1", connect_timeout_ms=1234, read_timeout_ms=2345,
                                    max_attempts=5, deadline_ms=9999, initial_backoff_ms=10,
                                    max_backoff_ms=20, max_response_bytes=4096, allow_http_notify_url=True,
                                    trust_roots_pem=[], rate_limit=True, replay_guard_capacity=64),
        "NEGATIVE": wr.ClientOptions(connect_timeout_ms=-1),
        "ANCHORS": wr.ClientOptions(platform_trust_anchors_pem=[keys["platform"]["certificate_pem"]]),
    }
    overrides = {k: special.get(v, v) if isinstance(v, str) else v for k, v in CONFIG_CASES[case].items()}
    fast = outcome(lambda: wr.ClientConfig(**config_args(keys, **overrides)))
    pure = outcome(lambda: pure_config(**config_args(keys, **overrides)))
    assert fast[0] == pure[0], (fast, pure)
    if fast[0] != "ok":
        assert fast == pure
        return
    assert str(fast[1]) == str(pure[1])
    assert repr(fast[1]) == repr(pure[1])
    assert fast[1].wechatpay_key_ids() == pure[1].wechatpay_key_ids()


def test_client_config_positional_arguments(keys):
    a = config_args(keys)
    config = wr.ClientConfig(a["mchid"], a["merchant_serial_no"], a["merchant_private_key_pem"],
                             a["api_v3_key"], a["wechatpay_public_key_id"], a["wechatpay_public_key_pem"])
    assert str(config) == str(wr.ClientConfig(**a))
    with pytest.raises(TypeError):
        wr.ClientConfig(a["mchid"])


def test_configs_from_either_path_work_in_either_path(keys):
    """Handles made by the accelerator are UniFFI handles: the generated code accepts them, and
    the accelerator accepts the generated code's (and the sandbox's) configurations."""
    c = case(VERIFICATION, "ok_public_key")
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode())
    now = VERIFICATION["now"]
    fast_made = wr.ClientConfig(**config_args(keys))
    configs = [fast_made]
    if wr.SPEEDUPS:
        configs.append(pure_config(**config_args(keys)))
    for config in configs:
        assert G.parse_refund_response(config, resp, now) == wr.parse_refund_response(config, resp, now)


# ------------------------------------------------------------------ reference counting


def test_accelerated_calls_neither_leak_nor_free_the_config(keys):
    """The accelerator takes one more reference to the Rust config for the length of a call. If
    it leaked one, the config (and the Python signer it holds) would never be freed; if it
    released one too many, the config would be freed while still in use."""
    signer = CryptographySigner(keys["merchant"]["private_key_pkcs8_pem"])
    a = config_args(keys)
    del a["merchant_private_key_pem"]
    config = wr.ClientConfig.with_signer(signer=signer, **a)
    gone = weakref.ref(signer)
    del signer
    request = next(r for n, r in create_requests() if n == "minimal")
    for i in range(200):
        http = wr.build_create_refund_request(config, request, 1795000000 + i, "N%d" % i)
        assert http.method == "POST"
    with pytest.raises(wr.RefundError.InvalidInput):
        wr.build_create_refund_request(config, next(r for n, r in create_requests() if n == "empty out_refund_no"),
                                       1795000000, "N")
    assert gone() is not None and len(gone().messages) == 200
    del config
    gc.collect()
    assert gone() is None, "the configuration (and its signer) outlived its last Python reference"


def test_a_client_keeps_its_config_alive(keys, sandbox):
    client = wr.RefundClient(sandbox.client_config())
    gc.collect()
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund("R-DOES-NOT-EXIST", None)
    assert ei.value.status == 404


def test_threads_share_one_config(vector_config):
    c = case(VERIFICATION, "ok_public_key")
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode())
    expected = wr.parse_refund_response(vector_config, resp, VERIFICATION["now"])
    errors = []

    def work():
        try:
            for _ in range(200):
                assert wr.parse_refund_response(vector_config, resp, VERIFICATION["now"]) == expected
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


# ------------------------------------------------------------------ client methods


@needs_speedups
def test_client_methods_match(sandbox, order, ids):
    client = wr.RefundClient(sandbox.client_config())
    out_trade_no = order(total=10000)
    out_refund_no = ids("R")
    created = client.create_refund(wr.CreateRefundRequest(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no,
        amount=wr.RefundAmountInput(refund=2550, total=10000)))
    again = PURE["RefundClient.create_refund"](client, wr.CreateRefundRequest(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no,
        amount=wr.RefundAmountInput(refund=2550, total=10000)))
    assert type(created) is type(again) is wr.Refund
    assert created.refund_id == again.refund_id and created.amount == again.amount

    fast = client.query_refund(out_refund_no, None)
    pure = PURE["RefundClient.query_refund"](client, out_refund_no, None)
    assert fast == pure and str(fast) == str(pure)
    assert client.query_refund(out_refund_no) == fast  # sub_mchid may be left out

    f = outcome(client.query_refund, "R-NOT-THERE", None)
    p = outcome(PURE["RefundClient.query_refund"], client, "R-NOT-THERE", None)
    assert f[0] == p[0] == "refund_error" and f[1] is p[1] is wr.RefundError.Api
    assert (f[3]["status"], f[3]["code"]) == (p[3]["status"], p[3]["code"]) == (404, "RESOURCE_NOT_EXISTS")

    bad = wr.CreateRefundRequest(out_trade_no=out_trade_no, out_refund_no="",
                                 amount=wr.RefundAmountInput(refund=1, total=10000))
    assert outcome(client.create_refund, bad) == outcome(PURE["RefundClient.create_refund"], client, bad)
    assert outcome(client.create_refund, "x") == outcome(PURE["RefundClient.create_refund"], client, "x")

    abnormal = wr.AbnormalRefundRequest(refund_id=created.refund_id, out_refund_no=out_refund_no,
                                        kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD)
    f = outcome(client.apply_abnormal_refund, abnormal)
    p = outcome(PURE["RefundClient.apply_abnormal_refund"], client, abnormal)
    assert f[0] == p[0]
    if f[0] == "refund_error":
        assert f[1] is p[1] and f[3]["code"] == p[3]["code"]


@needs_speedups
def test_client_parse_notification_matches(vector_config):
    """The client checks the timestamp against the real clock: the vectors are out of its window."""
    client = wr.RefundClient(vector_config)
    c = NOTIFICATION["cases"][0]
    for headers, body in ((dict(c["headers"]), c["body"].encode()), ({}, b"{}"), ({"a": 1}, b"")):
        f = outcome(client.parse_notification, headers, body)
        # Any mapping is accepted: entries that are not strings are skipped (Django's META).
        p = outcome(PURE["RefundClient.parse_notification"], client, wr._string_headers(headers), body)
        assert f[:2] == p[:2]
        if f[0] == "refund_error":
            assert f[3].get("timestamp") == p[3].get("timestamp")


# ------------------------------------------------------------------ mismatching merchants (issue 24)

MISMATCH = load_vector("notification_mismatch.json")


def mismatch_config(keys, c):
    return wr.ClientConfig(**config_args(keys, mchid=c["config"]["mchid"],
                                         service_provider=c["config"]["service_provider"]))


@needs_speedups
@pytest.mark.parametrize("c", MISMATCH["cases"], ids=lambda c: c["name"])
def test_parse_notification_at_gives_the_same_merchant_verdict(keys, c):
    """Another mchid, service-provider mode without or with another merchant, another event
    type: the accelerated and the generated call give the same verdict (once, the accelerator
    skipped the merchant check), and it is the expected one."""
    config = mismatch_config(keys, c)
    headers, body = dict(c["headers"]), c["body"].encode()
    fast, pure = both("parse_notification_at", config, headers, body, MISMATCH["now"])
    assert_same(fast, pure)
    if "field" in c["expect"]:
        assert fast[1] is wr.RefundError.NotificationMismatch and fast[3]["field"] == c["expect"]["field"]
    else:
        assert fast[0] == "ok" and fast[1].raw_json == c["plaintext"]


@needs_speedups
@pytest.mark.parametrize("c", MISMATCH["cases"], ids=lambda c: c["name"])
def test_client_parse_notification_gives_the_same_merchant_verdict(keys, c):
    """The client checks the real clock: the vectors are outside its window, so both paths stop
    at the timestamp -- unless the merchant check ran first. Same verdict either way."""
    client = wr.RefundClient(mismatch_config(keys, c))
    headers, body = dict(c["headers"]), c["body"].encode()
    f = outcome(client.parse_notification, headers, body)
    p = outcome(PURE["RefundClient.parse_notification"], client, headers, body)
    assert f[:2] == p[:2]


def test_mismatch_verdicts_hold_on_whichever_path_is_installed(keys):
    """The same vectors through the public function, accelerated or not (the suite's second pass
    runs this on the generated code alone)."""
    for c in MISMATCH["cases"]:
        r = outcome(wr.parse_notification_at, mismatch_config(keys, c), dict(c["headers"]),
                    c["body"].encode(), MISMATCH["now"])
        if "field" in c["expect"]:
            assert r[1] is wr.RefundError.NotificationMismatch and r[3]["field"] == c["expect"]["field"], c["name"]
        else:
            assert r[0] == "ok", (c["name"], r)


@needs_speedups
def test_an_object_that_claims_the_class_is_refused(vector_config):
    """`isinstance` honours a `__class__` attribute; the accelerator checks the real type, so a
    forged `_handle` is never read."""

    class Impostor:
        __class__ = wr.ClientConfig
        _handle = 8

    assert isinstance(Impostor(), wr.ClientConfig)  # what the old check trusted
    c = case(VERIFICATION, "ok_public_key")
    resp = wr.HttpResponse(status=200, headers=verification_headers(c), body=c["body"].encode())
    for call in (lambda o: wr.parse_refund_response(o, resp, VERIFICATION["now"]),
                 lambda o: wr.parse_notification_at(o, {}, b"", 0),
                 lambda o: wr.RefundClient.query_refund(o, "R1")):
        with pytest.raises(TypeError):
            call(Impostor())

