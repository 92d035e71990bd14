"""Issue 22: the library's events on the `wechatpay_refund` logger, and the metrics snapshot.

The first test is the issue's contract, verbatim. Each runs with the accelerator on and, in the
suite's second pass (WECHATPAY_REFUND_PURE_PYTHON=1), on the generated code alone: the events
come from the Rust client either way.
"""

import logging
import threading

import pytest

import wechatpay_refund as wr

LOG = logging.getLogger("wechatpay_refund")


@pytest.fixture(autouse=True)
def restore_the_logger():
    """The contract adds a handler and a level to the process-wide logger: take them off again."""
    handlers, level = list(LOG.handlers), LOG.level
    yield
    LOG.handlers[:] = handlers
    LOG.setLevel(level)


def test_issue_22_contract():
    import logging
    import wechatpay_refund as wr

    records = []
    class Keep(logging.Handler):
        def emit(self, r):
            records.append(r)
    log = logging.getLogger("wechatpay_refund")
    log.addHandler(Keep()); log.setLevel(logging.DEBUG)

    sb = wr.Sandbox.start()
    client = wr.RefundClient(sb.client_config())
    sb.create_order("TO1", 10000)
    sb.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    client.create_refund(wr.CreateRefundRequest(out_trade_no="TO1", out_refund_no="RO1",
                                                amount=wr.RefundAmountInput(refund=100, total=10000)))
    attempts = [r for r in records if getattr(r, "event", None) == "http.attempt"]
    assert [r.status for r in attempts] == [500, 200] and attempts[1].attempt == 2
    assert attempts[1].request_id and all(r.path.startswith("/v3/refund/domestic/refunds") for r in attempts)


class Keep(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def events(self, name):
        return [r for r in self.records if getattr(r, "event", None) == name]


def _refund(client, out_trade_no, out_refund_no):
    return client.create_refund(wr.CreateRefundRequest(
        out_trade_no=out_trade_no, out_refund_no=out_refund_no,
        amount=wr.RefundAmountInput(refund=1, total=10000)))


def test_records_carry_typed_fields_at_the_issue_levels(sandbox, ids):
    keep = Keep()
    LOG.addHandler(keep)
    LOG.setLevel(logging.DEBUG)
    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TL")
    sandbox.create_order(trade, 10000)
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    refund_no = ids("RL")
    _refund(client, trade, refund_no)

    first, second = keep.events("http.attempt")[-2:]
    assert (first.levelno, first.status, first.attempt) == (logging.DEBUG, 500, 1)
    assert type(first.status) is int and type(first.elapsed_ms) is int and type(first.attempt) is int
    assert (first.method, first.path, first.host) == ("POST", "/v3/refund/domestic/refunds", "primary")
    # The call's span rides along: the operation and the out_refund_no.
    assert (second.operation, second.out_refund_no) == ("create_refund", refund_no)
    assert second.getMessage().startswith("http.attempt ")
    (retry,) = keep.events("http.retry")[-1:]
    assert retry.levelno == logging.INFO
    assert (retry.reason, retry.next_attempt) == ("http 500 SYSTEM_ERROR", 2)

    sandbox.inject_fault(wr.SandboxFault.TAMPERED_BODY(), 1)
    with pytest.raises(wr.RefundError.Signature):
        _refund(client, trade, ids("RL"))
    (failed,) = keep.events("verify.failed")[-1:]
    assert failed.levelno == logging.WARNING
    assert (failed.what, failed.source) == ("signature", "response") and failed.serial


def test_nothing_crosses_into_python_when_the_logger_is_not_enabled(sandbox, ids):
    keep = Keep()
    LOG.addHandler(keep)
    LOG.setLevel(logging.CRITICAL)
    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TN")
    sandbox.create_order(trade, 10000)
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    _refund(client, trade, ids("RN"))
    assert keep.records == []
    # The Rust side was told: events there are a level check only.
    assert wr.event_level() is None

    LOG.setLevel(logging.INFO)
    _refund(client, trade, ids("RN"))
    assert wr.event_level() == wr.EventLevel.INFO
    assert keep.events("http.attempt") == []


def test_a_failing_handler_never_fails_the_refund(sandbox, ids):
    class Broken(logging.Handler):
        def emit(self, record):
            raise RuntimeError("broken handler")

        def handleError(self, record):
            raise RuntimeError("and its error handling too")

    LOG.addHandler(Broken())
    LOG.setLevel(logging.DEBUG)
    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TB")
    sandbox.create_order(trade, 10000)
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    assert _refund(client, trade, ids("RB")).out_refund_no


def test_a_listener_that_raises_never_fails_the_refund(sandbox, ids):
    class Raising(wr.EventListener):
        def on_event(self, event):
            raise RuntimeError("listener broken")

    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TR")
    sandbox.create_order(trade, 10000)
    LOG.setLevel(logging.DEBUG)
    try:
        wr.set_event_listener(Raising(), wr.EventLevel.DEBUG)
        sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
        assert _refund(client, trade, ids("RR")).out_refund_no
    finally:
        wr._logging.register()


def test_threads_log_at_once_without_deadlock(sandbox, ids):
    keep = Keep()
    LOG.addHandler(keep)
    LOG.setLevel(logging.DEBUG)
    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TT")
    sandbox.create_order(trade, 10000)
    errors = []

    def work(n):
        try:
            for i in range(5):
                _refund(client, trade, "%s-%d-%d" % (trade, n, i))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert len([r for r in keep.events("http.attempt") if r.path == "/v3/refund/domestic/refunds"]) >= 20


def test_the_logger_has_a_null_handler():
    assert any(isinstance(h, logging.NullHandler) for h in LOG.handlers)


def test_stats_and_prometheus(sandbox, ids):
    client = wr.RefundClient(sandbox.client_config())
    trade = ids("TS")
    sandbox.create_order(trade, 10000)
    sandbox.inject_fault(wr.SandboxFault.SYSTEM_ERROR(), 1)
    _refund(client, trade, ids("RS"))
    stats = client.stats()
    assert (stats.attempts, stats.retries, stats.latency_count) == (2, 1, 1)
    assert [(c.operation, c.outcome, c.count) for c in stats.calls] == [("create_refund", "ok", 1)]
    text = stats.to_prometheus()
    assert '# TYPE wechatpay_refund_calls_total counter' in text
    assert 'wechatpay_refund_calls_total{operation="create_refund",outcome="ok"} 1\n' in text
    assert 'wechatpay_refund_call_duration_seconds_bucket{le="+Inf"} 1\n' in text
    assert text == wr.stats_to_prometheus(stats)
