# Type information for `RefundError` and its variants, for type checkers only (there is no
# `_errors.py`: at run time `wechatpay_refund.RefundError` is the generated class).
#
# Why it exists: the UniFFI-generated module defines `RefundError` twice (an exception class,
# then a namespace holding the variants, marked `# type: ignore`) and gives the variants'
# `__init__` no annotations, so a type checker sees neither `RefundError.Api` nor its fields.
# Kept in step with the generated module by bindings/python/tests/test_typing.py, which fails
# when a variant or a field differs (names and order).
from .wechatpay_refund.wechatpay_refund import TransportErrorKind

class RefundError(Exception):
    """Every failure of the library, typed (see the README's error table)."""

    def is_retryable(self) -> bool:
        """Whether sending the identical request again is safe and may succeed."""
    def is_outcome_unknown(self) -> bool:
        """Whether the request may have been processed although this error came back: query
        the refund, or send it again with the same out_refund_no -- never a new one."""

    class InvalidInput(RefundError):
        field: str
        reason: str
        def __init__(self, field: str, reason: str) -> None: ...

    class Config(RefundError):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class Signature(RefundError):
        reason: str
        request_id: str | None
        def __init__(self, reason: str, request_id: str | None) -> None: ...

    class ProbeSignature(RefundError):
        request_id: str | None
        def __init__(self, request_id: str | None) -> None: ...

    class TimestampOutOfWindow(RefundError):
        timestamp: int
        now: int
        request_id: str | None
        def __init__(self, timestamp: int, now: int, request_id: str | None) -> None: ...

    class UnknownSerial(RefundError):
        serial: str
        request_id: str | None
        def __init__(self, serial: str, request_id: str | None) -> None: ...

    class Api(RefundError):
        status: int
        code: str
        error_message: str
        detail_field: str | None
        detail_issue: str | None
        detail_location: str | None
        request_id: str | None
        retryable: bool
        retry_after_ms: int | None
        def __init__(
            self,
            status: int,
            code: str,
            error_message: str,
            detail_field: str | None,
            detail_issue: str | None,
            detail_location: str | None,
            request_id: str | None,
            retryable: bool,
            retry_after_ms: int | None,
        ) -> None: ...

    class Transport(RefundError):
        kind: TransportErrorKind
        reason: str
        retryable: bool
        def __init__(self, kind: TransportErrorKind, reason: str, retryable: bool) -> None: ...

    class Decode(RefundError):
        what: str
        reason: str
        request_id: str | None
        def __init__(self, what: str, reason: str, request_id: str | None) -> None: ...

    class Decryption(RefundError):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class Store(RefundError):
        reason: str
        retryable: bool
        def __init__(self, reason: str, retryable: bool) -> None: ...

    class NotificationMismatch(RefundError):
        field: str
        expected: str
        actual: str
        def __init__(self, field: str, expected: str, actual: str) -> None: ...

    class Signer(RefundError):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class Callback(RefundError):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class Certificate(RefundError):
        serial: str
        reason: str
        request_id: str | None
        def __init__(self, serial: str, reason: str, request_id: str | None) -> None: ...

    class V2Api(RefundError):
        return_code: str
        return_msg: str | None
        err_code: str | None
        err_code_des: str | None
        retryable: bool
        retry_after_ms: int | None
        def __init__(
            self,
            return_code: str,
            return_msg: str | None,
            err_code: str | None,
            err_code_des: str | None,
            retryable: bool,
            retry_after_ms: int | None,
        ) -> None: ...
