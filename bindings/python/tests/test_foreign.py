"""Foreign seams: an HttpTransport and a Signer written in Python.

- a transport built on http.client, used via RefundClient.with_transport: the library signs,
  the transport only carries bytes, the library verifies what comes back;
- a signer built on the `cryptography` package holding the sandbox's merchant key, used via
  ClientConfig.with_signer: a full refund lifecycle must succeed with it;
- failures inside either seam surface as typed RefundError exceptions, never as a crash.
"""

import http.client
import threading
import urllib.parse

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import wechatpay_refund as wr
from conftest import load_vector, unique


class HttpClientTransport(wr.HttpTransport):
    """A minimal transport on the standard library's http.client (one connection per call).

    Every HTTP status comes back as a response; only a failed exchange raises, and then as
    RefundError.Transport so that the client knows it may retry."""

    def __init__(self, timeout=10.0):
        self.timeout = timeout
        self.calls = 0
        self.requests = []
        self._lock = threading.Lock()

    def send(self, request):
        with self._lock:
            self.calls += 1
            self.requests.append(request)
        u = urllib.parse.urlsplit(request.url)
        conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(u.hostname, u.port, timeout=self.timeout)
        try:
            target = u.path + ("?" + u.query if u.query else "")
            conn.request(request.method, target, body=request.body or None,
                         headers={h.name: h.value for h in request.headers})
            resp = conn.getresponse()
            body = resp.read()
            return wr.HttpResponse(status=resp.status,
                                   headers=[wr.HttpHeader(name=k, value=v) for k, v in resp.getheaders()],
                                   body=body)
        except ConnectionRefusedError as e:
            raise wr.RefundError.Transport(kind=wr.TransportErrorKind.CONNECT, reason=str(e), retryable=True)
        except TimeoutError as e:
            raise wr.RefundError.Transport(kind=wr.TransportErrorKind.TIMEOUT, reason=str(e), retryable=True)
        except (OSError, http.client.HTTPException) as e:
            raise wr.RefundError.Transport(kind=wr.TransportErrorKind.IO, reason=repr(e), retryable=True)
        finally:
            conn.close()


class CryptographySigner(wr.Signer):
    """RSASSA-PKCS1-v1_5 / SHA-256 with a key the library never sees (here: `cryptography`;
    in production: a KMS, an HSM, Android Keystore)."""

    def __init__(self, private_key_pem):
        self._key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self.messages = []
        self._lock = threading.Lock()

    def sign(self, message):
        assert isinstance(message, bytes)
        with self._lock:
            self.messages.append(message)
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def signer_config(sb, signer, **kw):
    k = sb.credentials()
    return wr.ClientConfig.with_signer(
        mchid=k.mchid, merchant_serial_no=k.merchant_serial_no, signer=signer,
        api_v3_key=k.api_v3_key, wechatpay_public_key_id=k.wechatpay_public_key_id,
        wechatpay_public_key_pem=k.wechatpay_public_key_pem, base_url=k.base_url, **kw)


@pytest.fixture(scope="module")
def sb():
    s = wr.Sandbox.start()
    yield s
    s.stop()


def lifecycle(client, sb):
    """apply -> ABNORMAL -> apply abnormal refund -> SUCCESS -> notification; returns the notification."""
    out_trade_no = unique("T")
    sb.create_order(out_trade_no, 10000)
    out_refund_no = unique("R")
    r = client.create_refund(wr.CreateRefundRequest(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no,
        amount=wr.RefundAmountInput(refund=250, total=10000), reason="foreign seam test"))
    assert r.status == wr.RefundStatus.PROCESSING and r.amount.refund == 250
    sb.set_refund_status(out_refund_no, wr.RefundStatus.ABNORMAL)
    r = client.query_refund(out_refund_no, None)
    assert r.status == wr.RefundStatus.ABNORMAL
    r = client.apply_abnormal_refund(wr.AbnormalRefundRequest(
        refund_id=r.refund_id, out_refund_no=out_refund_no, kind=wr.AbnormalRefundKind.USER_BANK_CARD,
        bank_type="ICBC_DEBIT", bank_account="6222021234567890", real_name="张三"))
    assert r.status == wr.RefundStatus.PROCESSING
    # The sandbox decrypted what the library encrypted for it.
    assert sb.abnormal_refund_recipient(out_refund_no) == ["ICBC_DEBIT", "6222021234567890", "张三"]
    sb.set_refund_status(out_refund_no, wr.RefundStatus.SUCCESS)
    assert client.query_refund(out_refund_no, None).status == wr.RefundStatus.SUCCESS
    n = sb.notification(out_refund_no)
    note = client.parse_notification(n.headers, n.body)
    assert note.out_refund_no == out_refund_no and note.refund_status == wr.RefundStatus.SUCCESS
    assert note.amount.refund == 250
    return note


# ------------------------------------------------------------------ transport


def test_python_transport_full_lifecycle(sb):
    transport = HttpClientTransport()
    client = wr.RefundClient.with_transport(sb.client_config(), transport)
    lifecycle(client, sb)
    assert transport.calls == 4        # apply, query, apply-abnormal, query
    methods = [(r.method, r.url.split("/v3/")[1].split("/")[-1]) for r in transport.requests]
    assert methods[0] == ("POST", "refunds") and methods[-1][0] == "GET"
    for r in transport.requests:
        assert r.url.startswith(sb.base_url() + "/v3/refund/domestic/refunds")
        names = {h.name.lower() for h in r.headers}
        assert {"authorization", "accept", "user-agent"} <= names
        assert isinstance(r.body, bytes)


def test_python_transport_404_is_an_api_error(sb):
    client = wr.RefundClient.with_transport(sb.client_config(), HttpClientTransport())
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund("R404", None)
    assert (ei.value.status, ei.value.code) == (404, "RESOURCE_NOT_EXISTS") and ei.value.request_id


def test_the_library_verifies_what_a_python_transport_returns(sb):
    """A transport cannot forge answers: a changed body fails verification in the library."""

    class Tampering(HttpClientTransport):
        def send(self, request):
            resp = super().send(request)
            resp.body = resp.body.replace(b'"status":"PROCESSING"', b'"status":"SUCCESS"')
            return resp

    client = wr.RefundClient.with_transport(sb.client_config(), Tampering())
    no = unique("T")
    sb.create_order(no, 100)
    with pytest.raises(wr.RefundError.Signature):
        client.create_refund(wr.CreateRefundRequest(out_trade_no=no, out_refund_no=unique("R"),
                                                    amount=wr.RefundAmountInput(refund=1, total=100)))


def test_typed_transport_errors_from_python_are_retried(sb):
    class Flaky(HttpClientTransport):
        def __init__(self, failures):
            super().__init__()
            self.failures = failures

        def send(self, request):
            if self.failures > 0:
                self.failures -= 1
                self.calls += 1
                raise wr.RefundError.Transport(kind=wr.TransportErrorKind.IO, reason="connection reset",
                                               retryable=True)
            return super().send(request)

    t = Flaky(2)
    client = wr.RefundClient.with_transport(sb.client_config(), t)        # 3 attempts
    no = unique("T")
    sb.create_order(no, 100)
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no=no, out_refund_no=unique("R"),
                                                    amount=wr.RefundAmountInput(refund=1, total=100)))
    assert r.status == wr.RefundStatus.PROCESSING and t.calls == 3

    t = Flaky(5)
    with pytest.raises(wr.RefundError.Transport) as ei:
        wr.RefundClient.with_transport(sb.client_config(), t).query_refund("R1", None)
    assert ei.value.kind == wr.TransportErrorKind.IO and ei.value.reason == "connection reset"
    assert t.calls == 3


def test_transport_connection_refused_through_python(sb):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    k = sb.credentials()
    cfg = wr.ClientConfig(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
                          merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
                          wechatpay_public_key_id=k.wechatpay_public_key_id,
                          wechatpay_public_key_pem=k.wechatpay_public_key_pem,
                          base_url="http://127.0.0.1:%d" % port,
                          options=wr.ClientOptions(max_attempts=2, initial_backoff_ms=5))
    t = HttpClientTransport()
    with pytest.raises(wr.RefundError.Transport) as ei:
        wr.RefundClient.with_transport(cfg, t).query_refund("R1", None)
    assert ei.value.kind == wr.TransportErrorKind.CONNECT and t.calls == 2


@pytest.mark.parametrize("behaviour", ["raises", "returns_none", "returns_wrong_type"])
def test_a_broken_python_transport_is_a_callback_error_not_a_crash(sb, behaviour):
    class Broken(wr.HttpTransport):
        calls = 0

        def send(self, request):
            Broken.calls += 1
            if behaviour == "raises":
                raise ValueError("transport bug")
            if behaviour == "returns_none":
                return None
            return {"status": 200}

    Broken.calls = 0
    client = wr.RefundClient.with_transport(sb.client_config(), Broken())
    with pytest.raises(wr.RefundError.Callback) as ei:
        client.query_refund("R1", None)
    assert ei.value.reason
    if behaviour == "raises":
        assert "transport bug" in ei.value.reason
    assert Broken.calls == 1      # an unexpected error is not retried
    # The process and the client are fine afterwards.
    ok = wr.RefundClient.with_transport(sb.client_config(), HttpClientTransport())
    with pytest.raises(wr.RefundError.Api):
        ok.query_refund("R404", None)


# ------------------------------------------------------------------ signer


def test_python_signer_full_lifecycle(sb):
    signer = CryptographySigner(sb.credentials().merchant_private_key_pem)
    client = wr.RefundClient(signer_config(sb, signer))
    lifecycle(client, sb)
    assert len(signer.messages) == 4
    first = signer.messages[0].split(b"\n")
    # METHOD \n URL \n TIMESTAMP \n NONCE \n BODY \n
    assert first[0] == b"POST" and first[1] == b"/v3/refund/domestic/refunds"
    assert first[2].isdigit() and len(first[3]) == 32 and first[-1] == b""


def test_python_signer_and_python_transport_together(sb):
    signer = CryptographySigner(sb.credentials().merchant_private_key_pem)
    transport = HttpClientTransport()
    client = wr.RefundClient.with_transport(signer_config(sb, signer), transport)
    lifecycle(client, sb)
    assert len(signer.messages) == transport.calls == 4


def test_python_signer_reproduces_the_golden_authorization(keys):
    """PKCS#1 v1.5 is deterministic: a foreign signer yields the vector's header byte for byte."""
    signing = load_vector("signing.json")
    c = next(c for c in signing["cases"] if c["name"] == "create_refund")
    cfg = wr.ClientConfig.with_signer(
        mchid=keys["mchid"], merchant_serial_no=keys["merchant"]["serial_no"],
        signer=CryptographySigner(keys["merchant"]["private_key_pkcs1_pem"]),
        api_v3_key=keys["api_v3_key"], wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"])
    req = wr.CreateRefundRequest(
        out_trade_no="1217752501201407033233368018", out_refund_no="R20261123001",
        amount=wr.RefundAmountInput(refund=888, total=888), reason="商品已售完",
        notify_url="https://merchant.example.com/wechatpay/refund-notify")
    http_req = wr.build_create_refund_request(cfg, req, c["timestamp"], c["nonce"])
    auth = [h.value for h in http_req.headers if h.name == "Authorization"]
    assert auth == [c["authorization"]]


def test_foreign_objects_must_subclass_the_interface(sb):
    """Duck typing is refused up front with a TypeError naming the interface."""

    class NotASigner:
        def sign(self, message):
            return b""

    class NotATransport:
        def send(self, request):
            raise AssertionError

    with pytest.raises(TypeError, match="Signer"):
        signer_config(sb, NotASigner())
    with pytest.raises(TypeError, match="HttpTransport"):
        wr.RefundClient.with_transport(sb.client_config(), NotATransport())


def test_a_signer_with_the_wrong_key_is_refused_by_the_server(sb, keys):
    client = wr.RefundClient(signer_config(sb, CryptographySigner(keys["other"]["private_key_pkcs8_pem"])))
    with pytest.raises(wr.RefundError.Api) as ei:
        client.query_refund("R1", None)
    assert (ei.value.status, ei.value.code) == (401, "SIGN_ERROR")


@pytest.mark.parametrize("behaviour,error,needle", [
    ("typed", wr.RefundError.Signer, "HSM offline"),
    ("raises", wr.RefundError.Callback, "KeyError"),
    ("empty", wr.RefundError.Signer, "empty signature"),
    ("wrong_type", wr.RefundError.Callback, ""),
])
def test_a_failing_signer_is_a_typed_error_not_a_crash(sb, behaviour, error, needle):
    class Bad(wr.Signer):
        calls = 0

        def sign(self, message):
            Bad.calls += 1
            if behaviour == "typed":
                raise wr.RefundError.Signer(reason="HSM offline")
            if behaviour == "raises":
                raise KeyError("no such key slot")
            if behaviour == "empty":
                return b""
            return None

    before = sb.request_count()
    client = wr.RefundClient(signer_config(sb, Bad()))
    with pytest.raises(error) as ei:
        client.create_refund(wr.CreateRefundRequest(out_trade_no="T123456", out_refund_no=unique("R"),
                                                    amount=wr.RefundAmountInput(refund=1, total=1)))
    assert needle in ei.value.reason
    assert Bad.calls == 1
    assert sb.request_count() == before      # nothing was sent unsigned


def test_a_signer_without_an_api_v3_key(sandbox, order, ids):
    """A device whose requests are signed on a server holds no API v3 key (issue 21.14): the
    refund calls work; what needs the key says so clearly."""
    k = sandbox.credentials()
    cfg = wr.ClientConfig.with_signer(
        mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
        signer=CryptographySigner(k.merchant_private_key_pem),
        wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
        base_url=k.base_url)
    client = wr.RefundClient(cfg)
    out_trade_no, out_refund_no = order(total=1000), ids("R")
    r = client.create_refund(wr.CreateRefundRequest(out_trade_no=out_trade_no, out_refund_no=out_refund_no,
                                                    amount=wr.RefundAmountInput(refund=1, total=1000)))
    assert client.query_refund(r.out_refund_no).refund_id == r.refund_id
    sandbox.set_refund_status(out_refund_no, wr.RefundStatus.SUCCESS)
    n = sandbox.notification(out_refund_no)
    with pytest.raises(wr.RefundError.Config, match="no API v3 key"):
        client.parse_notification(n.headers, n.body)
    with pytest.raises(wr.RefundError.Config, match="api_v3_key"):
        wr.ClientConfig.with_signer(mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
                                    signer=CryptographySigner(k.merchant_private_key_pem),
                                    download_platform_certificates=True, base_url=k.base_url)
