#!/usr/bin/env python3
"""A WeChat Pay refund-notification endpoint in Flask.

The rules it shows:
  * pass the RAW body bytes (`request.get_data()`) and the headers to `parse_notification`;
    never parse and re-serialise the JSON first: the signature covers the exact bytes;
  * anything that does not verify (forged, tampered, stale, probe) gets the failure ack;
  * record the result idempotently: WeChat Pay re-sends a notification until it sees a 2xx,
    so the same one can arrive several times (and concurrently);
  * acknowledge success only once the result is stored; if storing fails, answer with the
    failure ack and WeChat Pay tries again later.

Use it in your app:

    from flask_notify import create_app, RefundLedger
    app = create_app(wr.RefundClient(config), RefundLedger())

Run `python examples/python/flask_notify.py` for a demo: an embedded sandbox delivers a real
notification over HTTP to this app served on 127.0.0.1.
"""

from __future__ import annotations

import logging
import threading
import typing

from flask import Flask, Response, request

import wechatpay_refund as wr

NOTIFY_PATH = "/wechatpay/refund-notify"

log = logging.getLogger("refund-notify")


class RefundLedger:
    """A stand-in for your database: the latest known status of each refund.

    `record` is idempotent and only moves a refund forward: a notification already recorded
    (same refund, same status) changes nothing, and neither does a late one for a refund that is
    already final (notifications arrive out of order: a REFUND.ABNORMAL re-sent after the
    refund SUCCEEDED must not move it back); both return False. A real implementation would do
    this in one transaction, for example an upsert keyed by out_refund_no with
    `WHERE status NOT IN ('SUCCESS', 'CLOSED')`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.status: dict[str, wr.RefundStatus] = {}          # out_refund_no -> status
        self.applied: list[wr.RefundNotification] = []        # what changed something, in order
        self.duplicates = 0
        self.stale = 0            # late notifications for a refund already final

    def record(self, note: wr.RefundNotification) -> bool:
        with self._lock:
            current = self.status.get(note.out_refund_no)
            if current == note.refund_status:
                self.duplicates += 1
                return False
            if current is not None and current.is_final():
                self.stale += 1
                return False
            self.status[note.out_refund_no] = note.refund_status
            self.applied.append(note)
            return True


def ack_response(ack: wr.NotificationAck) -> Response:
    """A Flask response from a wr.NotificationAck (204 without a body, or 500 with JSON)."""
    resp = Response(ack.body, status=ack.status)
    if ack.content_type:
        resp.headers["Content-Type"] = ack.content_type
    else:
        resp.headers.pop("Content-Type", None)
    return resp


def create_app(client: wr.RefundClient, ledger: RefundLedger | None = None,
               on_refund: typing.Callable[[wr.RefundNotification], object] | None = None) -> Flask:
    """A Flask app answering WeChat Pay's refund notifications at NOTIFY_PATH.

    client: a wr.RefundClient holding the API v3 key and the WeChat Pay key(s);
    ledger: where results are recorded (default: a new in-memory RefundLedger);
    on_refund: optional callable(note) run once per new result (send an email, ship a voucher...)."""
    app = Flask(__name__)
    store = ledger if ledger is not None else RefundLedger()
    app.extensions["refund_ledger"] = store

    @app.post(NOTIFY_PATH)
    def refund_notify() -> Response:
        body = request.get_data()            # the raw bytes, exactly as WeChat Pay signed them
        try:
            note = client.parse_notification(dict(request.headers), body)
        except wr.RefundError as e:
            # Not from WeChat Pay, altered, replayed, or a probe: refuse it, say little.
            log.warning("refund notification rejected: %r", e)
            return ack_response(wr.notification_ack_failure("notification rejected: %s" % type(e).__name__))
        try:
            if store.record(note) and on_refund is not None:
                on_refund(note)
        except Exception:
            log.exception("could not record refund notification %s", note.id)
            return ack_response(wr.notification_ack_failure("temporarily unable to record the result"))
        log.info("refund %s is %s", note.out_refund_no, note.refund_status.name)
        return ack_response(wr.notification_ack_success())

    return app


def demo() -> int:
    """The sandbox delivers a real notification over HTTP to this app on 127.0.0.1."""
    import time

    from werkzeug.serving import make_server

    sandbox = wr.Sandbox.start()
    client = wr.RefundClient(sandbox.client_config())
    ledger = RefundLedger()
    server = make_server("127.0.0.1", 0, create_app(client, ledger), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d%s" % (server.server_port, NOTIFY_PATH)
    try:
        print("notification endpoint: %s" % notify_url)
        sandbox.create_order("T20261123042", 10000)
        refund = client.create_refund(wr.CreateRefundRequest(
            out_trade_no="T20261123042", out_refund_no="R20261123042",
            amount=wr.RefundAmountInput(refund=100, total=10000), notify_url=notify_url))
        print("refund %s is %s" % (refund.out_refund_no, refund.status.name))
        sandbox.set_refund_status(refund.out_refund_no, wr.RefundStatus.SUCCESS)   # the sandbox POSTs
        deadline = time.monotonic() + 10
        while sandbox.delivered_notification_count() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        status = ledger.status.get(refund.out_refund_no)
        print("delivered: %d; recorded status: %s" % (sandbox.delivered_notification_count(),
                                                     status.name if status else None))
        return 0 if status == wr.RefundStatus.SUCCESS else 1
    finally:
        server.shutdown()
        sandbox.stop()


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    sys.exit(demo())
