#!/usr/bin/env python3
"""A WeChat Pay refund-notification endpoint in FastAPI (the same code works on plain Starlette:
it only uses `Request` and `Response`).

The rules it shows (the same as examples/python/flask_notify.py):
  * pass the RAW body bytes (`await request.body()`) and the headers to `parse_notification`;
    never parse and re-serialise the JSON first: the signature covers the exact bytes;
  * anything that does not verify (forged, tampered, stale, probe) gets the failure ack;
  * record the result idempotently and only forward (`RefundStatus.is_final()`): WeChat Pay
    re-sends a notification until it sees a 2xx, so one can arrive several times, concurrently,
    or late (a REFUND.ABNORMAL re-sent after the refund SUCCEEDED must not move it back);
  * acknowledge success only once the result is stored; if storing fails, answer with the
    failure ack and WeChat Pay tries again later.

The verification runs through `wechatpay_refund.aio.AsyncRefundClient` on a worker thread, so
the event loop keeps serving other requests meanwhile.

Use it in your app:

    from fastapi_notify import create_app, RefundLedger
    app = create_app(wr.RefundClient(config), RefundLedger())   # then: uvicorn module:app

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
from wechatpay_refund.aio import AsyncRefundClient

NOTIFY_PATH = "/wechatpay/refund-notify"

log = logging.getLogger("refund-notify")


class RefundLedger:
    """A stand-in for your database: the latest known status of each refund.

    `record` is idempotent and only moves a refund forward (see flask_notify.RefundLedger). A
    real implementation would do this in one transaction, e.g. an upsert keyed by out_refund_no
    with `WHERE status NOT IN ('SUCCESS', 'CLOSED')`; an async driver would make it `async`."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.status: dict[str, wr.RefundStatus] = {}
        self.applied: list[wr.RefundNotification] = []
        self.duplicates = 0
        self.stale = 0

    async def record(self, note: wr.RefundNotification) -> bool:
        async with self._lock:
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
    """A response from a wr.NotificationAck (204 without a body, or 500 with JSON)."""
    if ack.content_type:
        return Response(content=ack.body, status_code=ack.status, media_type=ack.content_type)
    return Response(status_code=ack.status)


OnRefund = typing.Callable[[wr.RefundNotification], typing.Awaitable[None]]


def create_app(client: wr.RefundClient, ledger: RefundLedger | None = None,
               on_refund: OnRefund | None = None) -> FastAPI:
    """A FastAPI app answering WeChat Pay's refund notifications at NOTIFY_PATH.

    client: a wr.RefundClient holding the API v3 key and the WeChat Pay key(s);
    ledger: where results are recorded (default: a new in-memory RefundLedger);
    on_refund: optional coroutine function(note) run once per new result."""
    app = FastAPI()
    store = ledger if ledger is not None else RefundLedger()
    app.state.refund_ledger = store
    verifier = AsyncRefundClient(client)

    @app.post(NOTIFY_PATH)
    async def refund_notify(request: Request) -> Response:
        body = await request.body()          # the raw bytes, exactly as WeChat Pay signed them
        try:
            note = await verifier.parse_notification(dict(request.headers), body)
        except wr.RefundError as e:
            # Not from WeChat Pay, altered, replayed, or a probe: refuse it, say little.
            log.warning("refund notification rejected: %r", e)
            return ack_response(wr.notification_ack_failure("notification rejected: %s" % type(e).__name__))
        try:
            if await store.record(note) and on_refund is not None:
                await on_refund(note)
        except Exception:
            log.exception("could not record refund notification %s", note.id)
            return ack_response(wr.notification_ack_failure("temporarily unable to record the result"))
        log.info("refund %s is %s", note.out_refund_no, note.refund_status.value)
        return ack_response(wr.notification_ack_success())

    return app


def demo() -> int:
    """The sandbox's notification for a refund, delivered to this app."""
    sandbox = wr.Sandbox.start()
    client = wr.RefundClient(sandbox.client_config())
    ledger = RefundLedger()
    app = create_app(client, ledger)
    try:
        sandbox.create_order("T20261124042", 10000)
        refund = client.create_refund(wr.CreateRefundRequest(
            out_trade_no="T20261124042", out_refund_no="R20261124042",
            amount=wr.RefundAmountInput(refund=100, total=10000)))
        print("refund %s is %s" % (refund.out_refund_no, refund.status.value))
        sandbox.set_refund_status(refund.out_refund_no, wr.RefundStatus.SUCCESS)
        note = sandbox.notification(refund.out_refund_no)   # what WeChat Pay would POST
        from fastapi.testclient import TestClient

        with TestClient(app) as http:
            answer = http.post(NOTIFY_PATH, content=note.body, headers=note.headers)
        status = ledger.status.get(refund.out_refund_no)
        print("endpoint answered %d; recorded status: %s" % (answer.status_code,
                                                             status.value if status else None))
        return 0 if answer.status_code == 204 and status == wr.RefundStatus.SUCCESS else 1
    finally:
        sandbox.stop()


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    sys.exit(demo())
