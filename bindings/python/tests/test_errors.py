"""Every RefundError variant reaches Python as a typed exception carrying its fields.

Variants and where they are provoked:
  InvalidInput          request validation (nothing is sent)
  Config                ClientConfig constructors (key / URL / option mistakes)
  Api                   the sandbox's 404 / 401 / 500 / 429 answers
  Signature, TimestampOutOfWindow, ProbeSignature, UnknownSerial
                        the golden vectors (test_vectors.py) and the sandbox's response faults (here)
  Decode                a correctly signed response whose body is not a refund
  Decryption            decrypt_resource / a notification under the wrong API v3 key
  Transport             a port with nothing listening, a slow or dropped answer
  Signer, Callback      foreign seams (more in test_foreign.py)
"""

import base64
import secrets
import socket
import time

import pytest

import wechatpay_refund as wr
from conftest import unique

ALL_VARIANTS = ["InvalidInput", "Config", "Signature", "ProbeSignature", "TimestampOutOfWindow",
                "UnknownSerial", "Api", "Transport", "Decode", "Decryption", "Signer", "Callback"]


def test_every_variant_is_a_subclass_of_refund_error():
    assert issubclass(wr.RefundError, Exception)
    for name in ALL_VARIANTS:
        cls = getattr(wr.RefundError, name)
        assert issubclass(cls, wr.RefundError), name


# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def fsb():
    """A sandbox of this module's own: faults are queued per sandbox."""
    sb = wr.Sandbox.start()
    yield sb
    sb.stop()


def config_for(sb, **options):
    """A config for a sandbox, with ClientOptions overrides (e.g. max_attempts=1)."""
    k = sb.credentials()
    opts = dict(initial_backoff_ms=10, max_backoff_ms=50)
    opts.update(options)
    base_url = opts.pop("base_url", k.base_url)
    return wr.ClientConfig(
        mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
        merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
        wechatpay_public_key_id=k.wechatpay_public_key_id,
        wechatpay_public_key_pem=k.wechatpay_public_key_pem,
        base_url=base_url, options=wr.ClientOptions(**opts))


def refund_request(out_trade_no, out_refund_no=None, refund=100, total=10000, **kw):
    return wr.CreateRefundRequest(out_trade_no=out_trade_no, out_refund_no=out_refund_no or unique("R"),
                                  amount=wr.RefundAmountInput(refund=refund, total=total), **kw)


def new_order(sb, total=10000):
    no = unique("T")
    sb.create_order(no, total)
    return no


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ InvalidInput


@pytest.mark.parametrize("kwargs,field", [
    (dict(refund=0), "amount.refund"),
    (dict(refund=20000), "amount.refund"),
    (dict(total=0), "amount.total"),
    (dict(out_refund_no="R" * 65), "out_refund_no"),
    (dict(out_refund_no="R 1"), "out_refund_no"),
    (dict(reason="理" * 27), "reason"),
    (dict(notify_url="http://merchant.example.com/notify"), "notify_url"),
    (dict(notify_url="https://merchant.example.com/notify?a=1"), "notify_url"),
    (dict(sub_mchid="abc"), "sub_mchid"),
], ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_invalid_input_names_the_field(client, kwargs, field):
    refund = kwargs.pop("refund", 100)
    total = kwargs.pop("total", 10000)
    req = refund_request("T_NOT_SENT_1", refund=refund, total=total, **kwargs)
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.create_refund(req)
    e = ei.value
    assert e.field == field
    assert isinstance(e.reason, str) and e.reason
    assert field in str(e) and e.reason in str(e)


def test_invalid_input_order_identification(client):
    req = wr.CreateRefundRequest(out_refund_no="R1", amount=wr.RefundAmountInput(refund=1, total=1))
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.create_refund(req)
    assert ei.value.field == "out_trade_no"
    req = wr.CreateRefundRequest(out_refund_no="R1", amount=wr.RefundAmountInput(refund=1, total=1),
                                 out_trade_no="T123456", transaction_id="4200000000000000")
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.create_refund(req)
    assert ei.value.field == "transaction_id"


def test_invalid_input_nested_fields(client):
    req = refund_request("T123456", refund=600, total=1000)
    req.amount.funds_from = [wr.FundsFrom(account=wr.FromAccount.AVAILABLE, amount=400)]
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.create_refund(req)
    assert ei.value.field == "amount.from"
    req = refund_request("T123456", goods_detail=[wr.GoodsDetailInput(
        merchant_goods_id="SKU", unit_price=100, refund_amount=100, refund_quantity=0)])
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.create_refund(req)
    assert ei.value.field == "goods_detail[0].refund_quantity"


def test_invalid_input_abnormal_refund(client):
    base = dict(refund_id="50300000000000000001", out_refund_no="R1", kind=wr.AbnormalRefundKind.USER_BANK_CARD)
    cases = [
        (dict(), "bank_type"),
        (dict(bank_type="NOT_A_BANK", bank_account="6222021234567890", real_name="张三"), "bank_type"),
        (dict(bank_type="ICBC_DEBIT", bank_account="12ab", real_name="张三"), "bank_account"),
        (dict(bank_type="ICBC_DEBIT", bank_account="6222021234567890"), "real_name"),
    ]
    for extra, field in cases:
        with pytest.raises(wr.RefundError.InvalidInput) as ei:
            client.apply_abnormal_refund(wr.AbnormalRefundRequest(**base, **extra))
        assert ei.value.field == field, extra
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.apply_abnormal_refund(wr.AbnormalRefundRequest(
            refund_id="50300000000000000001", out_refund_no="R1",
            kind=wr.AbnormalRefundKind.MERCHANT_BANK_CARD, bank_type="ICBC_DEBIT"))
    assert ei.value.field == "bank_type"


def test_invalid_input_query(client):
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        client.query_refund("", None)
    assert ei.value.field == "out_refund_no"


def test_invalid_input_sends_nothing(fsb):
    client = wr.RefundClient(fsb.client_config())
    before = fsb.request_count()
    with pytest.raises(wr.RefundError.InvalidInput):
        client.create_refund(refund_request("T123456", refund=0))
    assert fsb.request_count() == before


# ------------------------------------------------------------------ Config


def make_config(keys, **over):
    args = dict(
        mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
        merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
        api_v3_key=keys["api_v3_key"],
        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"])
    args.update(over)
    return wr.ClientConfig(**args)


def config_error(keys, **over):
    with pytest.raises(wr.RefundError.Config) as ei:
        make_config(keys, **over)
    assert isinstance(ei.value.reason, str)
    return ei.value.reason


def test_config_accepts_the_vector_keys(keys):
    cfg = make_config(keys)
    assert cfg.wechatpay_key_ids() == [keys["wechatpay_public_key"]["id"]]
    cfg = make_config(keys, wechatpay_public_key_id=None, wechatpay_public_key_pem=None,
                      platform_certificates_pem=[keys["platform"]["certificate_pem"]],
                      options=wr.ClientOptions(platform_trust_anchors_pem=[keys["platform"]["certificate_pem"]]))
    # certificate serials as WeChat Pay lists them (upper-case hex; lookups ignore leading zeros)
    assert cfg.wechatpay_key_ids() == [keys["platform"]["serial_no"].upper()]
    # PKCS#1 merchant keys are accepted too.
    make_config(keys, merchant_private_key_pem=keys["merchant"]["private_key_pkcs1_pem"])


@pytest.mark.parametrize("api_v3_key", ["", "short", "x" * 31, "x" * 33])
def test_config_api_v3_key_length(keys, api_v3_key):
    reason = config_error(keys, api_v3_key=api_v3_key)
    assert "api_v3_key" in reason and "32 bytes" in reason
    assert api_v3_key not in reason or not api_v3_key   # the key itself is never echoed


def test_config_garbage_private_key(keys):
    reason = config_error(keys, merchant_private_key_pem="-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n")
    assert "merchant_private_key_pem" in reason
    reason = config_error(keys, merchant_private_key_pem="hello")
    assert "merchant_private_key_pem" in reason


def test_config_public_key_given_as_private_key(keys):
    reason = config_error(keys, merchant_private_key_pem=keys["merchant"]["public_key_pem"])
    assert "merchant_private_key_pem" in reason and "expected a private key" in reason


def test_config_certificate_given_as_wechatpay_public_key(keys):
    reason = config_error(keys, wechatpay_public_key_pem=keys["platform"]["certificate_pem"])
    assert "wechatpay_public_key_pem" in reason and "platform certificate" in reason


def test_config_public_key_given_as_platform_certificate(keys):
    reason = config_error(keys, platform_certificates_pem=[keys["platform"]["public_key_pem"]])
    assert "platform certificate" in reason and "BEGIN CERTIFICATE" in reason


def test_config_private_key_given_as_wechatpay_public_key(keys):
    reason = config_error(keys, wechatpay_public_key_pem=keys["wechatpay_public_key"]["private_key_pkcs8_pem"])
    assert "wechatpay_public_key_pem" in reason and "expected a public key" in reason
    assert "MII" not in reason          # no key material is echoed


def test_config_too_small_rsa_key(keys):
    reason = config_error(keys, merchant_private_key_pem=keys["rsa1024"]["private_key_pkcs8_pem"])
    assert "merchant_private_key_pem" in reason and ("small" in reason.lower() or "2048" in reason)
    reason = config_error(keys, wechatpay_public_key_pem=keys["rsa1024"]["public_key_pem"])
    assert "wechatpay_public_key_pem" in reason


def test_config_key_id_and_pem_go_together(keys):
    reason = config_error(keys, wechatpay_public_key_pem=None)
    assert "together" in reason
    reason = config_error(keys, wechatpay_public_key_id="SOMETHING")
    assert "PUB_KEY_ID_" in reason


def test_config_needs_a_wechatpay_key(keys):
    reason = config_error(keys, wechatpay_public_key_id=None, wechatpay_public_key_pem=None)
    assert "no WeChat Pay key" in reason


@pytest.mark.parametrize("over,needle", [
    (dict(mchid="19000x"), "mchid"),
    (dict(merchant_serial_no="not hex!"), "merchant_serial_no"),
    (dict(base_url="http://api.example.com"), "base_url"),
    (dict(base_url="https://api.mch.weixin.qq.com/v3"), "base_url"),
    (dict(base_url="ftp://127.0.0.1"), "base_url"),
    (dict(options=wr.ClientOptions(max_attempts=0)), "max_attempts"),
    (dict(options=wr.ClientOptions(deadline_ms=0)), "deadline"),
    (dict(options=wr.ClientOptions(user_agent="a\nb")), "user_agent"),
    (dict(options=wr.ClientOptions(backup_base_url="http://backup.example.com")), "backup_base_url"),
], ids=["mchid", "serial", "http_remote", "path", "scheme", "max_attempts", "deadline", "user_agent", "backup"])
def test_config_other_settings(keys, over, needle):
    assert needle in config_error(keys, **over)


def test_config_bad_trust_root(keys):
    """Trust roots are parsed when the built-in transport is made, i.e. by RefundClient()."""
    cfg = make_config(keys, options=wr.ClientOptions(trust_roots_pem=["junk"]))
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.RefundClient(cfg)
    assert "trust root" in ei.value.reason
    cfg = make_config(keys, options=wr.ClientOptions(trust_roots_pem=[keys["platform"]["public_key_pem"]]))
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.RefundClient(cfg)
    assert "CERTIFICATE" in ei.value.reason


def test_config_error_with_a_foreign_signer(keys):
    class Never(wr.Signer):
        def sign(self, message):
            raise AssertionError("not reached")

    with pytest.raises(wr.RefundError.Config) as ei:
        wr.ClientConfig.with_signer(mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
                                    signer=Never(), api_v3_key="too short")
    assert "api_v3_key" in ei.value.reason


# ------------------------------------------------------------------ Api


def test_api_404(client):
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund(unique("NOPE"), None)
    e = ei.value
    assert e.status == 404
    assert e.code == "RESOURCE_NOT_EXISTS"
    assert e.error_message
    assert e.request_id and len(e.request_id) > 10
    assert e.retryable is False
    assert e.detail_field is None


def test_api_404_unknown_order(client):
    with pytest.raises(wr.RefundError.Api) as ei:
        client.create_refund(refund_request(unique("NOORDER")))
    assert (ei.value.status, ei.value.code, ei.value.retryable) == (404, "RESOURCE_NOT_EXISTS", False)


def test_api_400_with_detail(client, order):
    no = order(total=10000)
    with pytest.raises(wr.RefundError.Api) as ei:
        client.create_refund(refund_request(no, refund=100, total=9999))
    e = ei.value
    assert (e.status, e.code, e.retryable) == (400, "INVALID_REQUEST", False)
    assert e.detail_field == "amount.total" and e.detail_location == "body" and e.detail_issue


def test_api_401_sign_error_from_a_wrong_key(fsb, keys):
    """A config whose merchant key is not the sandbox's: the sandbox answers 401 SIGN_ERROR."""
    k = fsb.credentials()
    cfg = wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
                          merchant_private_key_pem=keys["other"]["private_key_pkcs8_pem"],
                          api_v3_key=k.api_v3_key, wechatpay_public_key_id=k.wechatpay_public_key_id,
                          wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url)
    with pytest.raises(wr.RefundError.Api) as ei:
        wr.RefundClient(cfg).query_refund("R1", None)
    assert (ei.value.status, ei.value.code, ei.value.retryable) == (401, "SIGN_ERROR", False)


def test_api_500_system_error_is_retryable(fsb):
    client = wr.RefundClient(config_for(fsb, max_attempts=1))
    no = new_order(fsb)
    fsb.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    req = refund_request(no)
    with pytest.raises(wr.RefundError.Api) as ei:
        client.create_refund(req)
    e = ei.value
    assert (e.status, e.code, e.retryable) == (500, "SYSTEM_ERROR", True)
    assert fsb.refund_count(no) == 0     # not processed
    assert client.create_refund(req).status == wr.RefundStatus.PROCESSING


def test_api_429_frequency_limited_is_retryable(fsb):
    client = wr.RefundClient(config_for(fsb, max_attempts=1))
    fsb.inject_fault(wr.SandboxFault.FREQUENCY_LIMITED(), 1)
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund("R1", None)
    assert (ei.value.status, ei.value.code, ei.value.retryable) == (429, "FREQUENCY_LIMITED", True)


# ------------------------------------------------------------------ response verification faults


@pytest.mark.parametrize("fault,error", [
    (wr.SandboxFault.TAMPERED_BODY(), wr.RefundError.Signature),
    (wr.SandboxFault.STALE_TIMESTAMP(), wr.RefundError.TimestampOutOfWindow),
    (wr.SandboxFault.PROBE_SIGNATURE(), wr.RefundError.ProbeSignature),
    (wr.SandboxFault.UNKNOWN_SERIAL(), wr.RefundError.UnknownSerial),
], ids=["tampered", "stale", "probe", "unknown_serial"])
def test_response_verification_faults(fsb, fault, error):
    client = wr.RefundClient(fsb.client_config())
    no = new_order(fsb)
    req = refund_request(no)
    before = fsb.request_count()
    fsb.inject_fault(fault, 1)
    with pytest.raises(error) as ei:
        client.create_refund(req)
    e = ei.value
    assert fsb.request_count() == before + 1          # verification failures are not retried
    assert e.request_id                                # every variant here carries the Request-ID
    if error is wr.RefundError.TimestampOutOfWindow:
        assert e.now - e.timestamp >= 590
    if error is wr.RefundError.UnknownSerial:
        assert e.serial.startswith("PUB_KEY_ID_")
    if error is wr.RefundError.Signature:
        assert e.reason
    # The sandbox DID process it: retrying the same out_refund_no is safe and refunds once.
    assert client.create_refund(req).out_refund_no == req.out_refund_no
    assert fsb.refund_count(no) == 1


# ------------------------------------------------------------------ Decode


def test_decode_error_for_a_signed_non_refund_body(keys):
    """A correctly signed 200 whose body is not a refund: Decode (not Signature)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    cfg = make_config(keys)
    now = int(time.time())
    nonce = secrets.token_hex(16)
    for body in (b"this is not json", b'{"refund_id": 1}'):
        priv = serialization.load_pem_private_key(
            keys["wechatpay_public_key"]["private_key_pkcs8_pem"].encode(), password=None)
        sig = priv.sign(b"%d\n%s\n%s\n" % (now, nonce.encode(), body), padding.PKCS1v15(), hashes.SHA256())
        headers = [wr.HttpHeader(name=n, value=v) for n, v in [
            ("Wechatpay-Timestamp", str(now)), ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", base64.b64encode(sig).decode()),
            ("Wechatpay-Serial", keys["wechatpay_public_key"]["id"]),
            ("Request-ID", "REQ-DECODE")]]
        resp = wr.HttpResponse(status=200, headers=headers, body=body)
        with pytest.raises(wr.RefundError.Decode) as ei:
            wr.parse_refund_response(cfg, resp, now)
        e = ei.value
        assert e.what and e.reason and e.request_id == "REQ-DECODE"


# ------------------------------------------------------------------ Decryption


def test_decryption_errors():
    key = "0123456789abcdef0123456789abcdef"
    with pytest.raises(wr.RefundError.Decryption) as ei:
        wr.decrypt_resource(key, "AEAD_AES_256_GCM", base64.b64encode(b"x" * 40).decode(), "abcdefghijkl", "refund")
    assert "tag" in ei.value.reason
    with pytest.raises(wr.RefundError.Decryption) as ei:
        wr.decrypt_resource(key, "AEAD_CHACHA20", "AAAA", "abcdefghijkl", None)
    assert "unsupported" in ei.value.reason
    with pytest.raises(wr.RefundError.Decryption) as ei:
        wr.decrypt_resource(key, "AEAD_AES_256_GCM", "AAAA", "short", None)
    assert "nonce" in ei.value.reason
    with pytest.raises(wr.RefundError.Config):
        wr.decrypt_resource("short key", "AEAD_AES_256_GCM", "AAAA", "abcdefghijkl", None)


def test_decryption_error_from_a_sandbox_notification_with_the_wrong_api_v3_key(fsb):
    k = fsb.credentials()
    client = wr.RefundClient(fsb.client_config())
    no = new_order(fsb)
    r = client.create_refund(refund_request(no))
    fsb.set_refund_status(r.out_refund_no, wr.RefundStatus.SUCCESS)
    n = fsb.notification(r.out_refund_no)
    wrong = wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
                            merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key="Z" * 32,
                            wechatpay_public_key_id=k.wechatpay_public_key_id,
                            wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url)
    with pytest.raises(wr.RefundError.Decryption):
        wr.RefundClient(wrong).parse_notification(n.headers, n.body)
    assert client.parse_notification(n.headers, n.body).refund_status == wr.RefundStatus.SUCCESS


# ------------------------------------------------------------------ Transport


def test_transport_connect_error_nothing_listening(fsb):
    port = free_port()
    client = wr.RefundClient(config_for(fsb, base_url="http://127.0.0.1:%d" % port,
                                        max_attempts=1, connect_timeout_ms=1000, deadline_ms=3000))
    t0 = time.monotonic()
    with pytest.raises(wr.RefundError.Transport) as ei:
        client.query_refund("R1", None)
    e = ei.value
    assert e.kind == wr.TransportErrorKind.CONNECT
    assert e.retryable is True
    assert e.reason
    assert time.monotonic() - t0 < 3


def test_transport_retries_then_gives_up(fsb):
    port = free_port()
    client = wr.RefundClient(config_for(fsb, base_url="http://127.0.0.1:%d" % port,
                                        max_attempts=3, initial_backoff_ms=10, deadline_ms=5000))
    with pytest.raises(wr.RefundError.Transport) as ei:
        client.query_refund("R1", None)
    assert ei.value.kind == wr.TransportErrorKind.CONNECT


def test_transport_timeout_then_safe_retry(fsb):
    client = wr.RefundClient(config_for(fsb, max_attempts=1, read_timeout_ms=300))
    no = new_order(fsb)
    req = refund_request(no)
    fsb.inject_fault(wr.SandboxFault.DELAY(millis=1500), 1)
    with pytest.raises(wr.RefundError.Transport) as ei:
        client.create_refund(req)
    assert ei.value.kind == wr.TransportErrorKind.TIMEOUT and ei.value.retryable
    # The outcome was unknown; the same out_refund_no again is safe and refunds exactly once.
    r = client.create_refund(req)
    assert r.out_refund_no == req.out_refund_no
    assert fsb.refund_count(no) == 1


# A dropped connection surfaces as IO/PROTOCOL when the socket is closed, or as TIMEOUT when the
# peer just goes silent (the sandbox's tiny_http keeps a keep-alive socket open after a
# DROP_CONNECTION): either way a retryable Transport error. A short read timeout bounds the wait.
DROPPED_KINDS = (wr.TransportErrorKind.IO, wr.TransportErrorKind.PROTOCOL, wr.TransportErrorKind.TIMEOUT)


def test_transport_dropped_connection(fsb):
    client = wr.RefundClient(config_for(fsb, max_attempts=1, read_timeout_ms=1500))
    fsb.inject_fault(wr.SandboxFault.DROP_CONNECTION(), 1)
    with pytest.raises(wr.RefundError.Transport) as ei:
        client.query_refund("R1", None)
    assert ei.value.kind in DROPPED_KINDS and ei.value.retryable


def test_client_retries_transient_failures(fsb):
    client = wr.RefundClient(config_for(fsb, read_timeout_ms=1500))        # 3 attempts
    no = new_order(fsb)
    before = fsb.request_count()
    fsb.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    fsb.inject_fault(wr.SandboxFault.DROP_CONNECTION(), 1)
    r = client.create_refund(refund_request(no))
    assert r.status == wr.RefundStatus.PROCESSING
    assert fsb.request_count() == before + 3
    assert fsb.refund_count(no) == 1                   # the dropped attempt was processed; once


# ------------------------------------------------------------------ Signer / Callback (short; see test_foreign.py)


def test_signer_and_callback_errors(fsb):
    k = fsb.credentials()

    class Failing(wr.Signer):
        def __init__(self, exc):
            self.exc = exc

        def sign(self, message):
            raise self.exc

    def client_with(signer):
        cfg = wr.ClientConfig.with_signer(
            mchid=k.mchid, merchant_serial_no=k.merchant_serial_no, signer=signer,
            api_v3_key=k.api_v3_key, wechatpay_public_key_id=k.wechatpay_public_key_id,
            wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url)
        return wr.RefundClient(cfg)

    with pytest.raises(wr.RefundError.Signer) as ei:
        client_with(Failing(wr.RefundError.Signer(reason="KMS unavailable"))).query_refund("R1", None)
    assert ei.value.reason == "KMS unavailable"
    with pytest.raises(wr.RefundError.Callback) as ei:
        client_with(Failing(RuntimeError("boom"))).query_refund("R1", None)
    assert "boom" in ei.value.reason
