"""One client shared by many threads, and asyncio via asyncio.to_thread: the calls release the
GIL while Rust signs, sends and verifies, so they overlap instead of queueing."""

import asyncio
import threading
import time
import warnings

import pytest

import wechatpay_refund as wr
from conftest import unique

THREADS = 8
REFUNDS_PER_THREAD = 10


@pytest.fixture(scope="module")
def sb():
    s = wr.Sandbox.start()
    yield s
    s.stop()


def sandbox_client(sb, **options):
    k = sb.credentials()
    return wr.RefundClient(wr.ClientConfig(
        mchid=k.mchid, merchant_serial_no=k.merchant_serial_no,
        merchant_private_key_pem=k.merchant_private_key_pem, api_v3_key=k.api_v3_key,
        wechatpay_public_key_id=k.wechatpay_public_key_id, wechatpay_public_key_pem=k.wechatpay_public_key_pem,
        base_url=k.base_url, options=wr.ClientOptions(initial_backoff_ms=20, max_backoff_ms=200, **options)))


def test_threads_share_one_client(sb):
    # A 3 s read timeout (instead of 10 s) bounds the cost of a stalled sandbox connection.
    client = sandbox_client(sb, read_timeout_ms=3000)
    orders = [unique("T") for _ in range(THREADS)]
    for o in orders:
        sb.create_order(o, 100000)
    barrier = threading.Barrier(THREADS)
    results = {}
    errors = []
    slowest = []

    def worker(i):
        try:
            barrier.wait()
            got = []
            for j in range(REFUNDS_PER_THREAD):
                t0 = time.monotonic()
                amount = 100 * (i + 1) + j            # every refund distinct
                out_refund_no = "R-%s-%d" % (orders[i], j)
                r = client.create_refund(wr.CreateRefundRequest(
                    out_trade_no=orders[i], out_refund_no=out_refund_no,
                    amount=wr.RefundAmountInput(refund=amount, total=100000)))
                q = client.query_refund(out_refund_no, None)
                got.append((r, q, amount))
                slowest.append(time.monotonic() - t0)
            results[i] = got
        except Exception as e:  # pragma: no cover - reported below
            errors.append((i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == THREADS
    refund_ids = set()
    for i, got in results.items():
        assert len(got) == REFUNDS_PER_THREAD
        for j, (r, q, amount) in enumerate(got):
            assert r.out_refund_no == q.out_refund_no == "R-%s-%d" % (orders[i], j)
            assert r.out_trade_no == orders[i]
            assert r.amount.refund == q.amount.refund == amount
            assert r.status == wr.RefundStatus.PROCESSING
            assert r.refund_id == q.refund_id
            refund_ids.add(r.refund_id)
        assert sb.refund_count(orders[i]) == REFUNDS_PER_THREAD
        assert sb.refunded_total(orders[i]) == sum(100 * (i + 1) + j for j in range(REFUNDS_PER_THREAD))
    assert len(refund_ids) == THREADS * REFUNDS_PER_THREAD
    if max(slowest) > 2.5:
        # Correct results, but a call needed a read timeout and a retry: the sandbox server
        # (tiny_http 0.12) can leave a new keep-alive connection queued with no thread to serve it.
        warnings.warn("a create+query pair took %.1f s under concurrency (a sandbox connection stalled "
                      "until the client's read timeout and was retried)" % max(slowest))


def test_threads_with_python_seams(sb):
    """Python transport and signer called back from several Rust calls at once."""
    from test_foreign import CryptographySigner, HttpClientTransport, signer_config

    transport = HttpClientTransport()
    signer = CryptographySigner(sb.credentials().merchant_private_key_pem)
    client = wr.RefundClient.with_transport(signer_config(sb, signer), transport)
    order = unique("T")
    sb.create_order(order, 100000)
    errors = []

    def worker(i):
        try:
            for j in range(5):
                no = "RP-%s-%d-%d" % (order, i, j)
                r = client.create_refund(wr.CreateRefundRequest(
                    out_trade_no=order, out_refund_no=no, amount=wr.RefundAmountInput(refund=10 + i, total=100000)))
                assert r.out_refund_no == no and r.amount.refund == 10 + i
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert transport.calls == len(signer.messages) == 20
    assert sb.refund_count(order) == 20


def test_calls_overlap_in_threads(sb):
    """Four calls each held 400 ms by the server finish together in well under 4 x 400 ms:
    the GIL is released during the call."""
    client = wr.RefundClient(sb.client_config())
    outcomes = []

    def query(i):
        try:
            client.query_refund("R404-%d" % i, None)
        except wr.RefundError.Api as e:
            outcomes.append(e.status)

    def four_at_once():
        threads = [threading.Thread(target=query, args=(i,)) for i in range(4)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return time.monotonic() - t0

    # Warm up: four pooled keep-alive connections, so that the timed round opens none (opening
    # many connections at once can stall in the sandbox's HTTP server, see test above).
    for _ in range(3):
        if four_at_once() < 1:
            break
    outcomes.clear()
    sb.inject_fault(wr.SandboxFault.DELAY(millis=400), 4)
    elapsed = four_at_once()
    assert outcomes == [404] * 4
    assert 0.4 <= elapsed < 1.2, elapsed


def test_asyncio_to_thread(sb):
    client = sandbox_client(sb, read_timeout_ms=3000)
    order = unique("T")
    sb.create_order(order, 10000)

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.02)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        sb.inject_fault(wr.SandboxFault.DELAY(millis=500), 1)
        requests = [wr.CreateRefundRequest(out_trade_no=order, out_refund_no="RA-%s-%d" % (order, i),
                                           amount=wr.RefundAmountInput(refund=100 + i, total=10000))
                    for i in range(6)]
        t0 = time.monotonic()
        refunds = await asyncio.gather(*(asyncio.to_thread(client.create_refund, r) for r in requests))
        elapsed = time.monotonic() - t0
        done.set()
        await tick_task
        return refunds, ticks, elapsed

    refunds, ticks, elapsed = asyncio.run(main())
    assert [r.amount.refund for r in refunds] == [100 + i for i in range(6)]
    assert all(r.status == wr.RefundStatus.PROCESSING for r in refunds)
    assert elapsed >= 0.5
    # The event loop kept running while a call waited 500 ms on the server.
    assert ticks >= 10, ticks
    assert sb.refund_count(order) == 6


def test_asyncio_errors_propagate(sb):
    client = wr.RefundClient(sb.client_config())

    async def main():
        with pytest.raises(wr.RefundError.Api) as ei:
            await asyncio.to_thread(client.query_refund, "R404", None)
        return ei.value

    e = asyncio.run(main())
    assert e.status == 404
