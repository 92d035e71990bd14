"""examples/python/fastapi_notify.py, end to end: sandbox notifications through FastAPI's
TestClient (raw body bytes over ASGI), duplicates, concurrency, a late ABNORMAL, tampering,
probes and storage failures."""

import asyncio
import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2", reason="starlette's TestClient needs httpx2")

from fastapi.testclient import TestClient  # noqa: E402

import wechatpay_refund as wr  # noqa: E402
from conftest import Flaky, statuses, unique  # noqa: E402
from fastapi_notify import NOTIFY_PATH, create_app  # noqa: E402


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


def make_refund(sb, client, status=wr.RefundStatus.SUCCESS):
    no = unique("T")
    sb.create_order(no, 10000)
    r = client.create_refund(wr.CreateRefundRequest(
        out_trade_no=no, out_refund_no=unique("R"), amount=wr.RefundAmountInput(refund=300, total=10000)))
    if status is not None:
        sb.set_refund_status(r.out_refund_no, status)
    return r


def post(http, n, body=None, headers=None):
    return http.post(NOTIFY_PATH, content=n.body if body is None else body,
                     headers=dict(n.headers) if headers is None else headers)


def assert_failure_ack(resp):
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/json"
    payload = json.loads(resp.content)
    assert payload["code"] == "FAIL" and payload["message"]


def test_notification_is_verified_recorded_and_acknowledged(sb, client, ledger):
    seen = []

    async def on_event(ev):
        seen.append(ev)

    r = make_refund(sb, client)
    with TestClient(create_app(ledger, on_event)) as http:
        resp = post(http, sb.notification(r.out_refund_no))
    assert resp.status_code == 204 and resp.content == b""
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    assert ledger.get(r.out_refund_no).refund_id == r.refund_id
    assert [(e.out_refund_no, e.status) for e in seen] == [(r.out_refund_no, wr.RefundStatus.SUCCESS)]


def test_duplicates_are_idempotent_and_a_late_abnormal_never_moves_success_back(sb, client, ledger):
    r = make_refund(sb, client, status=wr.RefundStatus.ABNORMAL)
    late_abnormal = sb.notification(r.out_refund_no)
    sb.set_refund_status(r.out_refund_no, wr.RefundStatus.SUCCESS)
    success = sb.notification(r.out_refund_no)
    with TestClient(create_app(ledger)) as http:
        for _ in range(3):
            assert post(http, success).status_code == 204
        assert post(http, late_abnormal).status_code == 204
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS
    assert statuses(ledger, r.out_refund_no) == [wr.RefundStatus.SUCCESS]


def test_concurrent_duplicates_are_recorded_once(sb, client, ledger):
    """Eight deliveries of the same notification at once, on one event loop."""
    import httpx2

    seen = []

    async def on_event(ev):
        seen.append(ev)

    app = create_app(ledger, on_event)
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)

    async def deliver_all():
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*[
                http.post(NOTIFY_PATH, content=n.body, headers=dict(n.headers)) for _ in range(8)])

    answers = asyncio.run(deliver_all())
    assert [a.status_code for a in answers] == [204] * 8
    assert len(seen) == 1 and statuses(ledger, r.out_refund_no) == [wr.RefundStatus.SUCCESS]


@pytest.mark.parametrize("how", ["one_byte", "reserialised", "probe", "no_signature"])
def test_anything_unverified_gets_the_failure_ack(sb, client, ledger, how):
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    body, headers = n.body, dict(n.headers)
    if how == "one_byte":
        body = body.replace(b'"refund', b'"refunD', 1)
    elif how == "reserialised":          # what parsing the JSON and dumping it again would do
        body = json.dumps(json.loads(body), indent=1).encode()
    elif how == "probe":                 # WeChat Pay's WECHATPAY/SIGNTEST probe
        sig = [k for k in headers if k.lower() == "wechatpay-signature"][0]
        headers[sig] = "WECHATPAY/SIGNTEST/" + headers[sig]
    else:
        headers = {k: v for k, v in headers.items() if k.lower() != "wechatpay-signature"}
    with TestClient(create_app(ledger)) as http:
        assert_failure_ack(post(http, n, body=body, headers=headers))
    assert ledger.counts() == []


def test_a_storage_failure_gets_the_failure_ack_and_the_retry_succeeds(sb, client, ledger):
    r = make_refund(sb, client)
    n = sb.notification(r.out_refund_no)
    with TestClient(create_app(Flaky(ledger))) as http:
        assert_failure_ack(post(http, n))
        assert post(http, n).status_code == 204       # WeChat Pay's re-send
    assert ledger.get(r.out_refund_no).status == wr.RefundStatus.SUCCESS


def test_the_demo_runs():
    import fastapi_notify

    assert fastapi_notify.demo() == 0
