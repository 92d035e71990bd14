#!/usr/bin/env python3
"""A WeChat Pay refund-notification endpoint in Flask, recording into the refund ledger.

The rules it shows:
  * pass the RAW body bytes (`request.get_data()`) and the headers to the ledger's
    `handle_notification`; never parse and re-serialise the JSON first: the signature covers the
    exact bytes;
  * anything that does not verify (forged, tampered, stale, probe) gets the failure ack;
  * the ledger records the result idempotently and forward only: WeChat Pay re-sends a
    notification until it sees a 2xx, so the same one arrives several times (and concurrently),
    and a late ABNORMAL never moves a SUCCESS back;
  * acknowledge success only once the result is stored (`handle_notification` returned); if the
    database failed (`RefundError.Store`), answer with the failure ack and WeChat Pay tries again;
  * your order system learns of changes from the ledger's event log, each event once, in order
    (`EventFeed` below), never from the HTTP handler's own bookkeeping.

Use it in your app:

    from flask_notify import create_app
    ledger = wr.RefundLedger.open_sqlite("refunds.db", wr.RefundClient(config))   # or open_postgres
    app = create_app(ledger, on_event=my_order_system.apply)

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

OnEvent = typing.Callable[[wr.LedgerEvent], object]


class EventFeed:
    """Your order system's side of the ledger's outbox: every status change once, in order.

    `drain()` hands each event after `last_seq` to `on_event`, then advances `last_seq`. Here
    `last_seq` lives in memory; in production store it in the same transaction as the update the
    event causes (then a crash neither loses nor repeats one). An `on_event` that raises stops the
    drain at that event: the next drain hands it over again."""

    def __init__(self, ledger: wr.RefundLedger, on_event: OnEvent | None = None, last_seq: int = 0) -> None:
        self.ledger = ledger
        self.on_event = on_event
        self.last_seq = last_seq
        self._lock = threading.Lock()

    def drain(self) -> int:
        with self._lock:
            n = 0
            for ev in self.ledger.events(after=self.last_seq):
                if self.on_event is not None:
                    self.on_event(ev)
                self.last_seq = ev.seq
                n += 1
            return n


def ack_response(ack: wr.NotificationAck) -> Response:
    """A Flask response from a wr.NotificationAck (204 without a body, or 500 with JSON)."""
    resp = Response(ack.body, status=ack.status)
    if ack.content_type:
        resp.headers["Content-Type"] = ack.content_type
    else:
        resp.headers.pop("Content-Type", None)
    return resp


def create_app(ledger: wr.RefundLedger, on_event: OnEvent | None = None) -> Flask:
    """A Flask app answering WeChat Pay's refund notifications at NOTIFY_PATH.

    ledger: the wr.RefundLedger the results are recorded in (its client holds the API v3 key and
    the WeChat Pay key(s) that verify the notification);
    on_event: optional callable(wr.LedgerEvent) run once per status change, in order (send an
    email, ship a voucher...); `app.extensions["refund_feed"]` is its EventFeed."""
    app = Flask(__name__)
    feed = EventFeed(ledger, on_event)
    app.extensions["refund_feed"] = feed

    @app.post(NOTIFY_PATH)
    def refund_notify() -> Response:
        body = request.get_data()            # the raw bytes, exactly as WeChat Pay signed them
        try:
            entry = ledger.handle_notification(dict(request.headers), body)
        except wr.RefundError.Store:
            # Verified, but the database failed: nothing is recorded; WeChat Pay sends it again.
            log.exception("could not record a refund notification")
            return ack_response(wr.notification_ack_failure("temporarily unable to record the result"))
        except wr.RefundError as e:
            # Not from WeChat Pay, altered, or a probe: refuse it, say little.
            log.warning("refund notification rejected: %r", e)
            return ack_response(wr.notification_ack_failure("notification rejected: %s" % type(e).__name__))
        log.info("refund %s is %s", entry.out_refund_no, entry.status.name if entry.status else None)
        try:
            feed.drain()                     # recorded already: a failure here is retried later
        except Exception:
            log.exception("the order system could not take a refund event; it is handed over again")
        return ack_response(wr.notification_ack_success())

    return app


def demo() -> int:
    """The sandbox delivers a real notification over HTTP to this app on 127.0.0.1."""
    import time

    from werkzeug.serving import make_server

    import os
    import tempfile

    sandbox = wr.Sandbox.start()
    client = wr.RefundClient(sandbox.client_config())
    ledger = wr.RefundLedger.open_sqlite(os.path.join(tempfile.mkdtemp(), "refunds.db"), client)
    server = make_server("127.0.0.1", 0, create_app(ledger, on_event=lambda ev: print(
        "event %d: %s is %s (%s)" % (ev.seq, ev.out_refund_no, ev.status.name, ev.source.name))), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    notify_url = "http://127.0.0.1:%d%s" % (server.server_port, NOTIFY_PATH)
    try:
        print("notification endpoint: %s" % notify_url)
        sandbox.create_order("T20261123042", 10000)
        refund = ledger.submit(wr.CreateRefundRequest(
            out_trade_no="T20261123042", out_refund_no="R20261123042",
            amount=wr.RefundAmountInput(refund=100, total=10000), notify_url=notify_url))
        print("refund %s is %s, ledger state %s" % (refund.out_refund_no, refund.status.name if refund.status else "-",
                                                     refund.state.name))
        sandbox.set_refund_status(refund.out_refund_no, wr.RefundStatus.SUCCESS)   # the sandbox POSTs
        deadline = time.monotonic() + 10
        while sandbox.delivered_notification_count() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        entry = ledger.get(refund.out_refund_no)
        status = entry.status if entry else None
        print("delivered: %d; recorded status: %s" % (sandbox.delivered_notification_count(),
                                                     status.name if status else None))
        return 0 if status == wr.RefundStatus.SUCCESS else 1
    finally:
        server.shutdown()
        ledger.close()
        sandbox.stop()


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    sys.exit(demo())
