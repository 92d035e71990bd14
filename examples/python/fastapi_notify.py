#!/usr/bin/env python3
"""A WeChat Pay refund-notification endpoint in FastAPI (the same code works on plain Starlette:
it only uses `Request` and `Response`).

The rules it shows (the same as examples/python/flask_notify.py):
  * pass the RAW body bytes (`await request.body()`) and the headers to the ledger's
    `handle_notification`; never parse and re-serialise the JSON first: the signature covers the
    exact bytes;
  * anything that does not verify (forged, tampered, stale, probe) gets the failure ack;
  * the ledger records the result idempotently and forward only (a notification arrives several
    times, concurrently, or late: a REFUND.ABNORMAL re-sent after SUCCESS never moves it back);
  * acknowledge success only once the result is stored; if the database failed
    (`RefundError.Store`), answer with the failure ack and WeChat Pay tries again later;
  * the order system learns of changes from the ledger's event log (`EventFeed`), each once.

The ledger's calls block (verification, the database), so they run on a worker thread
(`asyncio.to_thread`) and the event loop keeps serving other requests meanwhile.

Use it in your app:

    from fastapi_notify import create_app
    ledger = wr.RefundLedger.open_postgres(DATABASE_URL, wr.RefundClient(config))  # or open_sqlite
    app = create_app(ledger, on_event=my_order_system.apply)   # then: uvicorn module:app

Run `python examples/python/fastapi_notify.py` for a demo: an embedded sandbox signs and
encrypts a real notification, and FastAPI's TestClient (ASGI, in process) posts it to this app.
In production serve the app with any ASGI server (uvicorn, hypercorn).
"""

from __future__ import annotations

import asyncio
import logging
import typing

from fastapi import FastAPI, Request, Response

import wechatpay_refund as wr

NOTIFY_PATH = "/wechatpay/refund-notify"

log = logging.getLogger("refund-notify")

OnEvent = typing.Callable[[wr.LedgerEvent], typing.Awaitable[None]]


class EventFeed:
    """Your order system's side of the ledger's outbox: every status change once, in order
    (see flask_notify.EventFeed). `on_event` is a coroutine function; in production keep
    `last_seq` in the same transaction as the update each event causes."""

    def __init__(self, ledger: wr.RefundLedger, on_event: OnEvent | None = None, last_seq: int = 0) -> None:
        self.ledger = ledger
        self.on_event = on_event
        self.last_seq = last_seq
        self._lock = asyncio.Lock()

    async def drain(self) -> int:
        async with self._lock:
            n = 0
            events = await asyncio.to_thread(self.ledger.events, self.last_seq)
            for ev in events:
                if self.on_event is not None:
                    await self.on_event(ev)
                self.last_seq = ev.seq
                n += 1
            return n


def ack_response(ack: wr.NotificationAck) -> Response:
    """A response from a wr.NotificationAck (204 without a body, or 500 with JSON)."""
    if ack.content_type:
        return Response(content=ack.body, status_code=ack.status, media_type=ack.content_type)
    return Response(status_code=ack.status)


def create_app(ledger: wr.RefundLedger, on_event: OnEvent | None = None) -> FastAPI:
    """A FastAPI app answering WeChat Pay's refund notifications at NOTIFY_PATH.

    ledger: the wr.RefundLedger the results are recorded in (its client holds the keys that
    verify the notification); its calls block (verification, the database), so they run in a
    worker thread, never on the event loop;
    on_event: optional coroutine function(wr.LedgerEvent) run once per status change, in order;
    `app.state.refund_feed` is its EventFeed."""
    app = FastAPI()
    feed = EventFeed(ledger, on_event)
    app.state.refund_feed = feed

    @app.post(NOTIFY_PATH)
    async def refund_notify(request: Request) -> Response:
        body = await request.body()          # the raw bytes, exactly as WeChat Pay signed them
        try:
            entry = await asyncio.to_thread(ledger.handle_notification, dict(request.headers), body)
        except wr.RefundError.Store:
            # Verified, but the database failed: nothing is recorded; WeChat Pay sends it again.
            log.exception("could not record a refund notification")
            return ack_response(wr.notification_ack_failure("temporarily unable to record the result"))
        except wr.RefundError as e:
            # Not from WeChat Pay, altered, or a probe: refuse it, say little.
            log.warning("refund notification rejected: %r", e)
            return ack_response(wr.notification_ack_failure("notification rejected: %s" % type(e).__name__))
        log.info("refund %s is %s", entry.out_refund_no, entry.status.value if entry.status else None)
        try:
            await feed.drain()               # recorded already: a failure here is retried later
        except Exception:
            log.exception("the order system could not take a refund event; it is handed over again")
        return ack_response(wr.notification_ack_success())

    return app


def demo() -> int:
    """The sandbox's notification for a refund, delivered to this app."""
    import os
    import tempfile

    sandbox = wr.Sandbox.start()
    client = wr.RefundClient(sandbox.client_config())
    ledger = wr.RefundLedger.open_sqlite(os.path.join(tempfile.mkdtemp(), "refunds.db"), client)

    async def on_event(ev: wr.LedgerEvent) -> None:
        print("event %d: %s is %s (%s)" % (ev.seq, ev.out_refund_no, ev.status.value, ev.source.name))

    app = create_app(ledger, on_event)
    try:
        sandbox.create_order("T20261124042", 10000)
        refund = ledger.submit(wr.CreateRefundRequest(
            out_trade_no="T20261124042", out_refund_no="R20261124042",
            amount=wr.RefundAmountInput(refund=100, total=10000)))
        print("refund %s is %s, ledger state %s" % (refund.out_refund_no, refund.status.value if refund.status else "-",
                                                     refund.state.name))
        sandbox.set_refund_status(refund.out_refund_no, wr.RefundStatus.SUCCESS)
        note = sandbox.notification(refund.out_refund_no)   # what WeChat Pay would POST
        from fastapi.testclient import TestClient

        with TestClient(app) as http:
            answer = http.post(NOTIFY_PATH, content=note.body, headers=note.headers)
        entry = ledger.get(refund.out_refund_no)
        status = entry.status if entry else None
        print("endpoint answered %d; recorded status: %s" % (answer.status_code,
                                                             status.value if status else None))
        return 0 if answer.status_code == 204 and status == wr.RefundStatus.SUCCESS else 1
    finally:
        ledger.close()
        sandbox.stop()


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    sys.exit(demo())
