"""wechatpay_refund.aio (issue 12.7) and the pytest plugin wechatpay_refund.testing (12.8)."""

import asyncio
import subprocess
import sys
import textwrap
import time

import pytest

import wechatpay_refund as wr
from wechatpay_refund import aio
from conftest import unique


def test_awaitable_calls_keep_the_loop_free(sandbox, client):
    order = unique("T")
    sandbox.create_order(order, 10000)
    sandbox.inject_fault(wr.SandboxFault.DELAY(millis=300), 1)
    ac = aio.AsyncRefundClient(client)

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        t = asyncio.create_task(ticker())
        r = await ac.create_refund(wr.CreateRefundRequest(
            out_trade_no=order, out_refund_no=unique("R"), amount=wr.RefundAmountInput(refund=1, total=10000)))
        q = await ac.query_refund(r.out_refund_no)
        t.cancel()
        return r, q, ticks

    r, q, ticks = asyncio.run(main())
    assert q.out_refund_no == r.out_refund_no
    assert ticks > 5  # the loop ran while the 300 ms call was in flight


def test_a_cancelled_await_never_half_sends(sandbox, client):
    order, no = unique("T"), unique("R")
    sandbox.create_order(order, 10000)
    sandbox.inject_fault(wr.SandboxFault.DELAY(millis=400), 1)
    ac = aio.AsyncRefundClient(client)
    before = sandbox.request_count()

    async def main():
        task = asyncio.create_task(ac.create_refund(wr.CreateRefundRequest(
            out_trade_no=order, out_refund_no=no, amount=wr.RefundAmountInput(refund=1, total=10000))))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # The call handed to its thread ran to its end: exactly one request, one refund.
    for _ in range(50):
        if sandbox.refund_count(order) == 1:
            break
        time.sleep(0.05)
    assert sandbox.refund_count(order) == 1
    assert sandbox.request_count() - before == 1
    assert client.query_refund(no).out_refund_no == no


def test_the_pytest_plugin(tmp_path):
    (tmp_path / "test_merchant.py").write_text(textwrap.dedent('''
        import pytest
        import wechatpay_refund as wr

        def test_refund(wechatpay_sandbox, wechatpay_client):
            wechatpay_sandbox.create_order("T20261124001", 10000)
            r = wechatpay_client.create_refund(wr.CreateRefundRequest(
                out_trade_no="T20261124001", out_refund_no="R1",
                amount=wr.RefundAmountInput(refund=100, total=10000)))
            assert r.status == wr.RefundStatus.PROCESSING

        @pytest.mark.wechatpay_sandbox(mode=wr.SandboxKeyMode.CERTIFICATE)
        def test_certificate_mode(wechatpay_sandbox, wechatpay_config):
            assert wechatpay_sandbox.credentials().platform_certificate_serial_no
            assert wechatpay_config.platform_certificates()
    '''))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "wechatpay_refund.testing",
                          "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout
