"""asyncio for the refund client: awaitable calls that never block the event loop.

Each call runs the blocking client on a worker thread (the Rust call releases the GIL), so the
loop keeps serving other tasks meanwhile::

    import wechatpay_refund as wr
    from wechatpay_refund import aio

    client = aio.AsyncRefundClient(wr.RefundClient(config))
    refund = await client.create_refund(wr.CreateRefundRequest(...))
    refund = await client.query_refund("R1")

Cancellation-safe: cancelling an await never cuts a request half-way or re-sends it with other
bytes. The call already handed to its thread runs to its end (the refund is applied once, or
not, exactly as without asyncio; WeChat Pay refunds once per ``out_refund_no``); only the
result is dropped. After a cancellation, query the refund (or call again with the SAME request)
to learn its state.
"""

from __future__ import annotations

import asyncio
import functools
import typing

from . import AbnormalRefundRequest, CreateRefundRequest, Refund, RefundClient, RefundNotification

__all__ = ["AsyncRefundClient"]

T = typing.TypeVar("T")


class AsyncRefundClient:
    """Awaitable versions of :class:`RefundClient`'s calls (same arguments, same errors)."""

    def __init__(self, client: RefundClient, executor: typing.Any = None) -> None:
        self._client = client
        self._executor = executor

    @property
    def client(self) -> RefundClient:
        """The blocking client underneath."""
        return self._client

    async def _run(self, fn: typing.Callable[..., T], *args: typing.Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, functools.partial(fn, *args))
        # shield: a cancelled await leaves the call running to its end on its thread.
        return await asyncio.shield(future)

    async def create_refund(self, request: CreateRefundRequest) -> Refund:
        """Apply for a refund (see RefundClient.create_refund)."""
        return await self._run(self._client.create_refund, request)

    async def query_refund(self, out_refund_no: str, sub_mchid: typing.Optional[str] = None) -> Refund:
        """Query a refund by out_refund_no (see RefundClient.query_refund)."""
        return await self._run(self._client.query_refund, out_refund_no, sub_mchid)

    async def apply_abnormal_refund(self, request: AbnormalRefundRequest) -> Refund:
        """Resolve an ABNORMAL refund (see RefundClient.apply_abnormal_refund)."""
        return await self._run(self._client.apply_abnormal_refund, request)

    async def parse_notification(self, headers: typing.Mapping[str, str], body: bytes) -> RefundNotification:
        """Verify, decrypt and parse a notification (see RefundClient.parse_notification)."""
        return await self._run(self._client.parse_notification, dict(headers), body)
