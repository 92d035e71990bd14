"""A pytest plugin for merchants' own test suites: a running WeChat Pay sandbox per test.

Enable it with ``pytest -p wechatpay_refund.testing`` (or ``pytest_plugins =
["wechatpay_refund.testing"]`` in a conftest.py), then ask for the fixtures::

    def test_refund(wechatpay_sandbox, wechatpay_client):
        wechatpay_sandbox.create_order("T20261124001", 10000)
        r = wechatpay_client.create_refund(wr.CreateRefundRequest(
            out_trade_no="T20261124001", out_refund_no="R1",
            amount=wr.RefundAmountInput(refund=100, total=10000)))
        assert r.status == wr.RefundStatus.PROCESSING

- ``wechatpay_sandbox``: a :class:`wechatpay_refund.Sandbox` on a free 127.0.0.1 port (public-key
  mode; mark a test ``@pytest.mark.wechatpay_sandbox(mode=wr.SandboxKeyMode.CERTIFICATE)`` for
  another mode), stopped after the test;
- ``wechatpay_config``: the sandbox's :class:`ClientConfig` (TEST credentials);
- ``wechatpay_client``: a :class:`RefundClient` on it;
- ``wechatpay_ledger``: a :class:`RefundLedger` (a SQLite file in the test's ``tmp_path``) sending
  through that client: ``wechatpay_ledger.submit(request)`` records, sends and follows a refund.
"""

from __future__ import annotations

import typing

import pytest

import wechatpay_refund as wr

__all__ = ["wechatpay_sandbox", "wechatpay_config", "wechatpay_client", "wechatpay_ledger"]


def pytest_configure(config: typing.Any) -> None:
    config.addinivalue_line(
        "markers", "wechatpay_sandbox(**options): SandboxOptions for the wechatpay_sandbox fixture")


@pytest.fixture
def wechatpay_sandbox(request: typing.Any) -> typing.Iterator[wr.Sandbox]:
    """A running sandbox for one test, stopped after it."""
    marker = request.node.get_closest_marker("wechatpay_sandbox")
    options = dict(marker.kwargs) if marker else {}
    sandbox = wr.Sandbox.start_with(wr.SandboxOptions(**options)) if options else wr.Sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def wechatpay_config(wechatpay_sandbox: wr.Sandbox) -> wr.ClientConfig:
    """The sandbox's client configuration (TEST credentials)."""
    return wechatpay_sandbox.client_config()


@pytest.fixture
def wechatpay_client(wechatpay_config: wr.ClientConfig) -> wr.RefundClient:
    """A refund client talking to the sandbox."""
    return wr.RefundClient(wechatpay_config)


@pytest.fixture
def wechatpay_ledger(wechatpay_client: wr.RefundClient, tmp_path: typing.Any) -> typing.Iterator[wr.RefundLedger]:
    """A refund ledger (SQLite, in the test's temporary directory) sending through
    ``wechatpay_client``: the book a merchant's code records refunds in, closed after the test."""
    ledger = wr.RefundLedger.open_sqlite(str(tmp_path / "refunds.db"), wechatpay_client)
    try:
        yield ledger
    finally:
        ledger.close()
