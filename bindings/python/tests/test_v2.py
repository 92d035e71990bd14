"""Legacy v2 refunds from Python: the issue-15 contract exactly, typed errors, the client
certificate, HMAC-SHA256, and the notification decrypted independently (hashlib +
cryptography) and POSTed to a real notify_url."""

import base64
import hashlib
import http.server
import queue
import threading
import xml.etree.ElementTree as ET

import pytest

import wechatpay_refund as wr


@pytest.fixture(scope="module")
def v2_sandbox():
    # Its own sandbox: the contract uses fixed ids.
    sb = wr.Sandbox.start()
    yield sb
    sb.stop()


def test_contract(v2_sandbox):
    sandbox = v2_sandbox
    v2 = wr.V2RefundClient(sandbox.v2_config())
    sandbox.create_order("T20261124001", 10000)
    r = v2.refund(wr.V2RefundRequest(out_trade_no="T20261124001", out_refund_no="R2V1",
            total_fee=10000, refund_fee=100))
    assert r.refund_fee == 100 and r.refund_id
    q = v2.refund_query(wr.V2RefundQuery(out_refund_no="R2V1"))
    assert q.refunds[0].refund_status == "PROCESSING"
    sandbox.set_refund_status("R2V1", wr.RefundStatus.SUCCESS)
    note = v2.parse_refund_notification(sandbox.v2_notification("R2V1"))   # bytes in, typed record out
    assert note.refund_status == "SUCCESS" and note.out_refund_no == "R2V1"


def test_open_enums_and_records(v2_sandbox, ids):
    sandbox = v2_sandbox
    v2 = wr.V2RefundClient(sandbox.v2_config())
    order, no = ids("T"), ids("R")
    sandbox.create_order(order, 500)
    v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=no, total_fee=500, refund_fee=500,
            refund_desc="商品已售完", refund_account=wr.V2RefundAccount.REFUND_SOURCE_RECHARGE_FUNDS))
    q = v2.refund_query(wr.V2RefundQuery(out_trade_no=order))
    rec = q.refunds[0]
    assert rec.refund_status is wr.V2RefundStatus.PROCESSING
    assert rec.refund_account == "REFUND_SOURCE_RECHARGE_FUNDS"
    assert q.refund_count == 1 and q.out_trade_no == order
    sandbox.set_refund_status(no, wr.RefundStatus.ABNORMAL)
    q = v2.refund_query(wr.V2RefundQuery(refund_id=rec.refund_id))
    assert q.refunds[0].refund_status == wr.V2RefundStatus.CHANGE
    assert wr.V2RefundStatus("NEW_STATE").value == "NEW_STATE"


def test_errors_are_typed_with_retry_guidance(v2_sandbox, ids):
    sandbox = v2_sandbox
    v2 = wr.V2RefundClient(sandbox.v2_config())
    order = ids("T")
    sandbox.create_order(order, 1000)
    with pytest.raises(wr.RefundError.InvalidInput) as ei:
        v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=2000))
    assert ei.value.field == "refund_fee"
    with pytest.raises(wr.RefundError.V2Api) as ei:
        v2.refund(wr.V2RefundRequest(out_trade_no=ids("T"), out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.err_code == "ORDERNOTEXIST" and not ei.value.retryable
    sandbox.v2_inject_error("NOTENOUGH", 1)
    with pytest.raises(wr.RefundError.V2Api) as ei:
        v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.err_code == "NOTENOUGH" and ei.value.return_code == "SUCCESS"
    c = sandbox.v2_credentials()
    strict = wr.V2RefundClient(wr.V2Config(
        appid=c.appid, mch_id=c.mch_id, api_key=c.api_key,
        client_cert_pem=c.client_cert_pem, client_key_pem=c.client_key_pem, base_url=c.base_url,
        options=wr.ClientOptions(max_attempts=1, trust_roots_pem=[c.ca_pem])))
    sandbox.v2_inject_error("SYSTEMERROR", 1)
    with pytest.raises(wr.RefundError.V2Api) as ei:
        strict.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.err_code == "SYSTEMERROR" and ei.value.retryable


def test_wrong_api_key_and_missing_certificate(v2_sandbox, ids):
    sandbox = v2_sandbox
    c = sandbox.v2_credentials()
    opts = wr.ClientOptions(trust_roots_pem=[c.ca_pem])
    order = ids("T")
    sandbox.create_order(order, 1000)
    wrong = wr.V2RefundClient(wr.V2Config(appid=c.appid, mch_id=c.mch_id, api_key="0" * 32,
            client_cert_pem=c.client_cert_pem, client_key_pem=c.client_key_pem, base_url=c.base_url, options=opts))
    with pytest.raises(wr.RefundError.V2Api) as ei:
        wrong.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.return_code == "FAIL" and ei.value.err_code is None
    no_cert = wr.V2RefundClient(wr.V2Config(appid=c.appid, mch_id=c.mch_id, api_key=c.api_key,
            base_url=c.base_url, options=opts))
    with pytest.raises(wr.RefundError.Config) as ei:
        no_cert.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert "client certificate" in ei.value.reason
    with pytest.raises(wr.RefundError.Config):
        wr.V2Config(appid=c.appid, mch_id=c.mch_id, api_key="too-short")
    assert c.api_key not in repr(sandbox.v2_config()) and c.api_key not in str(sandbox.v2_config())


def test_hmac_sha256(v2_sandbox, ids):
    sandbox = v2_sandbox
    c = sandbox.v2_credentials()
    v2 = wr.V2RefundClient(wr.V2Config(appid=c.appid, mch_id=c.mch_id, api_key=c.api_key,
            client_cert_pem=c.client_cert_pem, client_key_pem=c.client_key_pem, base_url=c.base_url,
            sign_type=wr.V2SignType.HMAC_SHA256, options=wr.ClientOptions(trust_roots_pem=[c.ca_pem])))
    order, no = ids("T"), ids("R")
    sandbox.create_order(order, 300)
    assert v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=no, total_fee=300, refund_fee=3)).refund_fee == 3
    assert v2.refund_query(wr.V2RefundQuery(out_refund_no=no)).refunds[0].refund_fee == 3


def _decrypt_independently(api_key, body):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    outer = {e.tag: e.text for e in ET.fromstring(body)}
    key = hashlib.md5(api_key.encode()).hexdigest().encode()
    d = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = d.update(base64.b64decode(outer["req_info"])) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return {e.tag: e.text for e in ET.fromstring(u.update(padded) + u.finalize())}


def test_notification_posted_to_notify_url(v2_sandbox, ids):
    sandbox = v2_sandbox
    received = queue.Queue()
    v2 = wr.V2RefundClient(sandbox.v2_config())

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                note = v2.parse_refund_notification(body)
                received.put((body, note))
                answer = wr.v2_notification_ack_success()
            except wr.RefundError as e:
                answer = wr.v2_notification_ack_failure(str(e))
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        order, no = ids("T"), ids("R")
        sandbox.create_order(order, 800)
        v2.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=no, total_fee=800, refund_fee=80,
                notify_url="http://127.0.0.1:%d/v2-notify" % server.server_address[1]))
        sandbox.set_refund_status(no, wr.RefundStatus.SUCCESS)
        body, note = received.get(timeout=10)
        assert note.out_refund_no == no and note.refund_status == "SUCCESS" and note.refund_fee == 80
        plain = _decrypt_independently(sandbox.v2_credentials().api_key, body)
        assert plain["out_refund_no"] == no and plain["refund_status"] == "SUCCESS"
        # A hint with a stable key to deduplicate on; no sub-merchant here.
        assert note.notification_key == "v2:%s:SUCCESS" % plain["refund_id"]
        assert note.sub_mch_id is None and note.sub_appid is None
        assert v2.parse_refund_notification(sandbox.v2_notification(no)).notification_key == note.notification_key
        assert wr.v2_notification_ack_success() == (
            b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
            b"<return_msg><![CDATA[OK]]></return_msg></xml>")
    finally:
        server.shutdown()
        server.server_close()


def test_retry_after_and_faults_in_the_request_sign_type(v2_sandbox, ids):
    sandbox = v2_sandbox
    c = sandbox.v2_credentials()
    opts = wr.ClientOptions(trust_roots_pem=[c.ca_pem], initial_backoff_ms=10, max_backoff_ms=50)
    hmac = wr.V2RefundClient(wr.V2Config(appid=c.appid, mch_id=c.mch_id, api_key=c.api_key,
            client_cert_pem=c.client_cert_pem, client_key_pem=c.client_key_pem, base_url=c.base_url,
            sign_type=wr.V2SignType.HMAC_SHA256, options=opts))
    order = ids("T")
    sandbox.create_order(order, 1000)
    # A SYSTEMERROR answered in HMAC-SHA256 like the request: retried, not a false Signature error.
    before = sandbox.faults_injected()
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    assert hmac.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000,
            refund_fee=1)).refund_fee == 1
    assert sandbox.faults_injected() - before == 1
    # INVALID_REQ_TOO_MUCH: blocked for a minute, longer than the deadline: returned with the wait.
    sandbox.v2_inject_error("INVALID_REQ_TOO_MUCH", 1)
    with pytest.raises(wr.RefundError.V2Api) as ei:
        hmac.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.err_code == "INVALID_REQ_TOO_MUCH" and ei.value.retryable
    assert ei.value.retry_after_ms == 60000
    sandbox.v2_inject_error("NOTENOUGH", 1)
    with pytest.raises(wr.RefundError.V2Api) as ei:
        hmac.refund(wr.V2RefundRequest(out_trade_no=order, out_refund_no=ids("R"), total_fee=1000, refund_fee=1))
    assert ei.value.retry_after_ms is None and not ei.value.retryable


def test_plain_http_is_only_for_loopback():
    key = "0" * 32
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.V2Config(appid="wx8888888888888888", mch_id="1900000109", api_key=key,
                    base_url="http://api.mch.weixin.qq.com")
    assert "plain http" in ei.value.reason
    wr.V2Config(appid="wx8888888888888888", mch_id="1900000109", api_key=key, base_url="http://127.0.0.1:9")
    with pytest.raises(wr.RefundError.Config) as ei:
        wr.V2Config(appid="wx8888888888888888", mch_id="1900000109", api_key=key,
                    options=wr.ClientOptions(replay_guard_capacity=100))
    assert "replay_guard_capacity" in ei.value.reason
