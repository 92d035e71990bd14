"""examples/python/flask_notify.py, end to end: sandbox notifications through Flask's test
client (raw body bytes), duplicates, tampering, probes, storage failures, and a real delivery
by the sandbox over HTTP."""

import json
import threading
import time

import pytest

flask = pytest.importorskip("flask")

import wechatpay_refund as wr  # noqa: E402
from conftest import Flaky, statuses, unique  # noqa: E402
from flask_notify import NOTIFY_PATH, create_app  # noqa: E402


@pytest.fixture(scope="module")
def sb():
    s = wr.Sandbox.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(sb):
    return wr.RefundClient(sb.client_config())


@pytest.fixture
def ledger(client, tmp_path):
    book = wr.RefundLedger.open_sqlite(str(tmp_path / "refunds.db"), client)
    yield book
    book.close()


def make_refund(sb, client, status=wr.RefundStatus.SUCCESS, notify_url=None):
    no = unique("T")
    sb.create_order(no, 10000)
    r = client.create_refund(wr.CreateRefundRequest(
        out_trade_no=no, out_refund_no=unique("R"), amount=wr.RefundAmountInput(refund=300, total=10000),
        notify_url=notify_url))
    if status is not None:
        sb.set_refund_status(r.out_refund_no, status)
    return r


def post(test_client, n, body=None, headers=None):
    return test_client.post(NOTIFY_PATH, data=n.body if body is None else body,
                            headers=dict(n.headers) if headers is None else headers)


def assert_failure_ack(resp):
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "application/json"
    payload = json.loads(resp.get_data())
    assert payload["code"] == "FAIL" and payload["message"]


def test_notification_is_verified_recorded_and_acknowledged(sb, client, ledger):
    seen = []
    app = create_app(ledger, on_event=seen.append)
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    resp = post(app.test_client(), n)
    assert resp.status_code == 204 and resp.get_data() == b""
    entry = ledger.get(r.out_refund_no)          # made outside the ledger: the notification adds it
    assert entry.status == wr.RefundStatus.SUCCESS and entry.refund_id == r.refund_id
    assert entry.refund == 300 and entry.success_time
    assert [(s.out_refund_no, s.status, s.source) for s in seen] == [
        (r.out_refund_no, wr.RefundStatus.SUCCESS, wr.LedgerEventSource.NOTIFICATION)]
    assert app.extensions["refund_feed"].last_seq == seen[0].seq


def test_duplicate_delivery_is_idempotent(sb, client, ledger):
    seen = []
    tc = create_app(ledger, on_event=seen.append).test_client()
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    for _ in range(3):                                   # the same bytes, re-sent
        assert post(tc, n).status_code == 204
    assert post(tc, sb.notification(r.out_refund_no)).status_code == 204   # a fresh signature, same news
    assert len(seen) == 1 and statuses(ledger, r.out_refund_no) == [wr.RefundStatus.SUCCESS]


def test_concurrent_duplicates_are_recorded_once(sb, client, ledger):
    seen = []
    app = create_app(ledger, on_event=seen.append)
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    codes = []

    def deliver():
        codes.append(post(app.test_client(), n).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [204] * 8 and len(seen) == 1


def test_status_changes_are_each_recorded(sb, client, ledger):
    tc = create_app(ledger).test_client()
    r = make_refund(sb, client, status=wr.RefundStatus.ABNORMAL)
    assert post(tc, sb.notification(r.out_refund_no)).status_code == 204
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.ABNORMAL
    assert [e.out_refund_no for e in ledger.needs_action()] == [r.out_refund_no]
    sb.set_refund_status(r.out_refund_no, wr.RefundStatus.SUCCESS)
    assert post(tc, sb.notification(r.out_refund_no)).status_code == 204
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    assert statuses(ledger, r.out_refund_no) == [wr.RefundStatus.ABNORMAL, wr.RefundStatus.SUCCESS]


def test_a_late_abnormal_never_moves_success_back(sb, client, ledger):
    tc = create_app(ledger).test_client()
    r = make_refund(sb, client, status=wr.RefundStatus.ABNORMAL)
    late_abnormal = sb.notification(r.out_refund_no)
    sb.set_refund_status(r.out_refund_no, wr.RefundStatus.SUCCESS)
    assert post(tc, sb.notification(r.out_refund_no)).status_code == 204
    # The ABNORMAL notification arrives after SUCCESS (out of order): acknowledged, not applied.
    assert post(tc, late_abnormal).status_code == 204
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    assert statuses(ledger, r.out_refund_no) == [wr.RefundStatus.SUCCESS]
    assert wr.RefundStatus.SUCCESS.is_final() and wr.RefundStatus.CLOSED.is_final()
    assert not wr.RefundStatus.ABNORMAL.is_final() and not wr.RefundStatus.PROCESSING.is_final()


@pytest.mark.parametrize("how", ["one_byte", "reserialised", "truncated", "other_refund_body"])
def test_tampered_body_gets_the_failure_ack(sb, client, ledger, how):
    tc = create_app(ledger).test_client()
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    if how == "one_byte":
        body = n.body.replace(b'"refund', b'"refunD', 1)
    elif how == "reserialised":          # what a framework's JSON parsing + dumping would do
        body = json.dumps(json.loads(n.body), indent=1).encode()
    elif how == "truncated":
        body = n.body[:-1]
    else:                                # a genuine body, but signed for another notification
        body = sb.notification(make_refund(sb, client).out_refund_no).body
    assert body != n.body
    resp = post(tc, n, body=body)
    assert_failure_ack(resp)
    assert "Signature" in json.loads(resp.get_data())["message"]
    assert ledger.counts() == []


@pytest.mark.parametrize("how", ["no_headers", "probe", "unknown_serial", "stale"])
def test_bad_headers_get_the_failure_ack(sb, client, ledger, how):
    tc = create_app(ledger).test_client()
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    headers = dict(n.headers)
    if how == "no_headers":
        headers = {"Content-Type": "application/json"}
    elif how == "probe":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    elif how == "unknown_serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0119999999999999999999999999999999"
    else:
        headers["Wechatpay-Timestamp"] = str(int(headers["Wechatpay-Timestamp"]) - 3600)
    assert_failure_ack(post(tc, n, headers=headers))
    assert ledger.counts() == []


def test_a_notification_for_another_merchant_is_refused(client, ledger):
    """A notification signed by another sandbox (other keys) does not verify here."""
    other = wr.Sandbox.start()
    try:
        oc = wr.RefundClient(other.client_config())
        r = make_refund(other, oc)
        n = other.notification(r.out_refund_no)
    finally:
        other.stop()
    assert_failure_ack(post(create_app(ledger).test_client(), n))
    assert ledger.counts() == []


def test_storage_failure_gets_the_failure_ack_and_the_retry_succeeds(sb, client, ledger):
    flaky = Flaky(ledger)
    tc = create_app(flaky).test_client()
    n = sb.notification(make_refund(sb, client).out_refund_no)
    resp = post(tc, n)
    assert_failure_ack(resp)
    assert "database" not in resp.get_data(as_text=True)       # no internals leak to the caller
    assert ledger.counts() == []
    assert post(tc, n).status_code == 204 and len(ledger.events(after=0)) == 1


def test_an_order_system_that_fails_gets_the_event_again(sb, client, ledger):
    """The notification is recorded (204) even when the consumer fails; the feed hands the same
    event over again on the next drain, and never twice once taken."""
    taken, fail = [], [True]

    def on_event(ev):
        if fail[0]:
            fail[0] = False
            raise RuntimeError("order system down")
        taken.append(ev.seq)

    app = create_app(ledger, on_event=on_event)
    r = make_refund(sb, client)
    assert post(app.test_client(), sb.notification(r.out_refund_no)).status_code == 204
    assert taken == [] and ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    assert app.extensions["refund_feed"].drain() == 1 and app.extensions["refund_feed"].drain() == 0
    assert taken == [ledger.events(after=0)[0].seq]


def test_django_style_meta_headers(sb, client):
    """parse_notification also takes WSGI/Django META names (HTTP_WECHATPAY_SIGNATURE...)."""
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in n.headers.items()}
    meta["CONTENT_TYPE"] = "application/json"
    assert client.parse_notification(meta, n.body).out_refund_no == r.out_refund_no


def test_real_delivery_by_the_sandbox_with_retries(sb, client, ledger):
    """The sandbox POSTs to the app served on 127.0.0.1; a first failure ack makes it retry."""
    from werkzeug.serving import make_server

    flaky = Flaky(ledger)
    server = make_server("127.0.0.1", 0, create_app(flaky), threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d%s" % (server.server_port, NOTIFY_PATH)
        before = sb.delivered_notification_count()
        r = make_refund(sb, client, status=None, notify_url=url)
        sb.set_refund_status(r.out_refund_no, wr.RefundStatus.SUCCESS)
        deadline = time.monotonic() + 15
        while sb.delivered_notification_count() == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sb.delivered_notification_count() == before + 1
        assert flaky.calls == 2
        assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    finally:
        server.shutdown()
        t.join(5)
