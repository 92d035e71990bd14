"""Open enums of the WeChat Pay protocol.

Generated from src/wire.rs by `UPDATE_WIRE_ENUMS=1 cargo test --lib wire`; do not edit.

Each is a ``str``-valued :class:`enum.Enum`: ``RefundStatus.SUCCESS.value == "SUCCESS"``, a
member compares equal to its wire string (``RefundStatus.SUCCESS == "SUCCESS"``), ``str()``
gives the wire value, and a value from the server that this version does not know becomes a
pseudo-member with ``name == "UNKNOWN"``, ``is_known == False`` and ``value`` = the raw string
(``RefundStatus("NEW_STATE").value == "NEW_STATE"``).
"""

from __future__ import annotations

import enum
import typing

__all__ = ["RefundStatus", "RefundChannel", "FundsAccount", "RequestFundsAccount", "FromAccount", "PromotionScope", "PromotionType", "AbnormalRefundKind", "NotificationEventType", "V2RefundStatus", "V2RefundAccount", "V2RefundChannel", "V2CouponType", "V2RefundRequestSource"]


class _WireEnum(str, enum.Enum):
    """Base of the open enums: a ``str`` enum that keeps unknown wire values."""

    @classmethod
    def _missing_(cls, value: object) -> typing.Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """``False`` for a value this version of the library does not know."""
        return self._name_ != "UNKNOWN"

    def __str__(self) -> str:
        return str(self._value_)

    def __repr__(self) -> str:
        if self.is_known:
            return f"{type(self).__name__}.{self._name_}"
        return f"{type(self).__name__}({self._value_!r})"

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return str.__ne__(self, other)


class RefundStatus(_WireEnum):
    """Refund status. `PROCESSING` → `SUCCESS` | `CLOSED` | `ABNORMAL`; `ABNORMAL` is not
    final (apply-abnormal-refund moves it back to `PROCESSING`)."""

    PROCESSING = "PROCESSING"
    """Accepted, being processed. A 200 on apply means this, not "refunded"."""
    SUCCESS = "SUCCESS"
    """Refunded."""
    CLOSED = "CLOSED"
    """Closed without refunding."""
    ABNORMAL = "ABNORMAL"
    """The original account could not receive the refund (card cancelled or frozen): use `apply_abnormal_refund`."""

    def is_final(self) -> bool:
        """True for a state that never changes again (SUCCESS, CLOSED)."""
        return self._value_ in ("SUCCESS", "CLOSED",)


class RefundChannel(_WireEnum):
    """Where the money goes back."""

    ORIGINAL = "ORIGINAL"
    """Back the original way."""
    BALANCE = "BALANCE"
    """To the user's balance."""
    OTHER_BALANCE = "OTHER_BALANCE"
    """The original account failed; to another balance account."""
    OTHER_BANKCARD = "OTHER_BANKCARD"
    """The original card failed; to another bank card (after an abnormal refund)."""


class FundsAccount(_WireEnum):
    """Funds account a refund was paid from (responses)."""

    UNSETTLED = "UNSETTLED"
    """Unsettled funds."""
    AVAILABLE = "AVAILABLE"
    """Available balance."""
    UNAVAILABLE = "UNAVAILABLE"
    """Unavailable balance."""
    OPERATION = "OPERATION"
    """Operation account."""
    BASIC = "BASIC"
    """Basic account (available + unavailable)."""
    ECNY_BASIC = "ECNY_BASIC"
    """Digital RMB basic account."""


class RequestFundsAccount(_WireEnum):
    """Funds account requested for a refund: only `AVAILABLE` or `UNSETTLED` may be sent."""

    AVAILABLE = "AVAILABLE"
    """From the available balance (old funds-flow merchants)."""
    UNSETTLED = "UNSETTLED"
    """From unsettled funds (travel deposit refunds)."""


class FromAccount(_WireEnum):
    """Account type of an `amount.from` entry."""

    AVAILABLE = "AVAILABLE"
    """Available balance."""
    UNAVAILABLE = "UNAVAILABLE"
    """Unavailable balance."""


class PromotionScope(_WireEnum):
    """Scope of a promotion (coupon)."""

    GLOBAL = "GLOBAL"
    """Whole-order coupon."""
    SINGLE = "SINGLE"
    """Single-item coupon."""


class PromotionType(_WireEnum):
    """Funding type of a promotion (coupon)."""

    CASH = "CASH"
    """Pre-funded coupon (older name)."""
    NOCASH = "NOCASH"
    """Not pre-funded coupon (older name)."""
    COUPON = "COUPON"
    """Coupon (WeChat Pay's own example in the apply-refund page, and the official SDKs)."""
    DISCOUNT = "DISCOUNT"
    """Discount (the official SDKs)."""


class AbnormalRefundKind(_WireEnum):
    """How an abnormal refund is resolved."""

    USER_BANK_CARD = "USER_BANK_CARD"
    """To the user's bank card: needs `bank_type`, `bank_account`, `real_name`."""
    MERCHANT_BANK_CARD = "MERCHANT_BANK_CARD"
    """To the merchant's bank account: none of them."""


class NotificationEventType(_WireEnum):
    """The `event_type` of a refund notification."""

    REFUND_SUCCESS = "REFUND.SUCCESS"
    """The refund succeeded."""
    REFUND_ABNORMAL = "REFUND.ABNORMAL"
    """The refund became abnormal."""
    REFUND_CLOSED = "REFUND.CLOSED"
    """The refund was closed."""


class V2RefundStatus(_WireEnum):
    """v2 refund status (`refund_status_$n` of a query, `refund_status` of a notification)."""

    SUCCESS = "SUCCESS"
    """Refunded."""
    CHANGE = "CHANGE"
    """Abnormal: the money could not go back the original way (resolve it in the merchant platform, or with the v3 abnormal-refund API)."""
    REFUNDCLOSE = "REFUNDCLOSE"
    """Closed without refunding."""
    PROCESSING = "PROCESSING"
    """Accepted, being processed."""

    def is_final(self) -> bool:
        """True for a state that never changes again (SUCCESS, REFUNDCLOSE)."""
        return self._value_ in ("SUCCESS", "REFUNDCLOSE",)


class V2RefundAccount(_WireEnum):
    """Funds source of a v2 refund (`refund_account`; old funds-flow merchants only)."""

    REFUND_SOURCE_UNSETTLED_FUNDS = "REFUND_SOURCE_UNSETTLED_FUNDS"
    """Unsettled funds (the default)."""
    REFUND_SOURCE_RECHARGE_FUNDS = "REFUND_SOURCE_RECHARGE_FUNDS"
    """Available balance."""


class V2RefundChannel(_WireEnum):
    """Where a v2 refund goes (`refund_channel_$n`)."""

    ORIGINAL = "ORIGINAL"
    """Back the original way."""
    BALANCE = "BALANCE"
    """To the user's balance."""
    OTHER_BALANCE = "OTHER_BALANCE"
    """The original account failed; to another balance account."""
    OTHER_BANKCARD = "OTHER_BANKCARD"
    """The original card failed; to another bank card."""


class V2CouponType(_WireEnum):
    """Coupon type (`coupon_type_$n`)."""

    CASH = "CASH"
    """Pre-funded coupon."""
    NO_CASH = "NO_CASH"
    """Not pre-funded coupon."""


class V2RefundRequestSource(_WireEnum):
    """Who started a refund (`refund_request_source` of a notification)."""

    API = "API"
    """Through the API."""
    VENDOR_PLATFORM = "VENDOR_PLATFORM"
    """In the merchant platform."""
