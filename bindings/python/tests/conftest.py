"""Shared fixtures: the golden vectors, one embedded sandbox per test session, unique ids.

The tests run against the INSTALLED wheel (scripts/test-python installs it into a fresh venv),
never against a source tree, so `import wechatpay_refund` here is what users get.
"""

import itertools
import json
import os
import pathlib
import sys
import threading
import time

import pytest

import wechatpay_refund as wr

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
VECTORS = pathlib.Path(os.environ.get("WECHATPAY_REFUND_VECTORS", REPO / "tests" / "vectors"))
EXAMPLES = REPO / "examples" / "python"

# The examples are importable from the tests (tests/test_flask_notify.py imports flask_notify).
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def load_vector(name):
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def keys():
    return load_vector("keys.json")


@pytest.fixture(scope="session")
def vector_config(keys):
    """The configuration of the golden vectors: production base URL, both key modes."""
    return wr.ClientConfig(
        mchid=keys["mchid"],
        merchant_serial_no=keys["merchant"]["serial_no"],
        merchant_private_key_pem=keys["merchant"]["private_key_pkcs8_pem"],
        api_v3_key=keys["api_v3_key"],
        wechatpay_public_key_id=keys["wechatpay_public_key"]["id"],
        wechatpay_public_key_pem=keys["wechatpay_public_key"]["public_key_pem"],
        platform_certificates_pem=[keys["platform"]["certificate_pem"]],
        # The test platform certificate is self-signed: its own trust anchor.
        options=wr.ClientOptions(platform_trust_anchors_pem=[keys["platform"]["certificate_pem"]]),
    )


@pytest.fixture(scope="session")
def sandbox():
    sb = wr.Sandbox.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def client(sandbox):
    return wr.RefundClient(sandbox.client_config())


_counter = itertools.count(1)
_lock = threading.Lock()
_run = "%x" % (int(time.time() * 1000) % 0xFFFFFFFF)


def unique(prefix):
    """A fresh id, valid as out_trade_no (6-32 chars) and out_refund_no, unique in the session."""
    with _lock:
        n = next(_counter)
    return "%s%s%04d" % (prefix, _run, n)


@pytest.fixture
def ids():
    return unique


@pytest.fixture
def order(sandbox):
    """Create a sandbox order: order(total=10000) -> out_trade_no."""

    def make(total=10000, prefix="T"):
        out_trade_no = unique(prefix)
        sandbox.create_order(out_trade_no, total)
        return out_trade_no

    return make


# ------------------------------------------------------------------ no silent skips
#
# scripts/test-python sets WECHATPAY_REFUND_STRICT_SKIPS=1: a test skipped for any reason but
# these (the accelerator's own tests on the generated path, and what runs once) fails the run,
# so a missing test dependency can never turn a suite into a silent pass.
EXPECTED_SKIPS = (
    "the accelerator is switched off",
    "the generated code serves every call here",
    "type checking does not depend on the implementation: run once",
)
_unexpected_skips = []


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        pure = os.environ.get("WECHATPAY_REFUND_PURE_PYTHON", "") not in ("", "0")
        if not (pure and reason in EXPECTED_SKIPS):
            _unexpected_skips.append("%s: %s" % (report.nodeid, reason))


def pytest_sessionfinish(session, exitstatus):
    if _unexpected_skips and os.environ.get("WECHATPAY_REFUND_STRICT_SKIPS") == "1":
        print("\nunexpected skips (install what they need, or list the reason in conftest.py):")
        for line in _unexpected_skips:
            print("  " + line)
        session.exitstatus = 1


# The notification examples' tests (flask_notify, fastapi_notify): a ledger whose database fails.
class Flaky:
    """A ledger whose database fails the first `failures` notifications (RefundError.Store)."""

    def __init__(self, ledger, failures=1):
        self.ledger, self.failures, self.calls = ledger, failures, 0

    def handle_notification(self, headers, body):
        self.calls += 1
        if self.calls <= self.failures:
            raise wr.RefundError.Store(reason="database unavailable", retryable=True)
        return self.ledger.handle_notification(headers, body)

    def events(self, after=0, limit=None):
        return self.ledger.events(after=after, limit=limit)


def statuses(ledger, no):
    return [ev.status for ev in ledger.events(after=0) if ev.out_refund_no == no]
