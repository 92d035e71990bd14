"""WeChat Pay APIv3 refunds from one Rust core: signing, verification, encryption, a blocking
client and an embedded sandbox.

Everything public comes from the UniFFI-generated module (``wechatpay_refund.wechatpay_refund``,
package and module of that name; pure Python over ctypes; never edited by hand). The same shared library also carries a CPython
extension, ``_speedups`` (src/python.rs), that takes over the hot calls -- the sans-IO
build/parse/verify functions, ``ClientConfig(...)`` and the ``RefundClient`` methods -- with the
same arguments, the same result classes and the same ``RefundError`` exceptions, at a fraction
of the marshalling cost. When it cannot load (an interpreter without the stable ABI, e.g. PyPy),
or when ``WECHATPAY_REFUND_PURE_PYTHON=1`` is set, the generated code serves every call.
``SPEEDUPS`` tells which one is in use.
"""

import os as _os
import typing as _typing

if _typing.TYPE_CHECKING:
    # The generated `RefundError` hides its variants from type checkers; _errors.pyi declares
    # them (checked against the generated module by tests/test_typing.py). Imported BEFORE the
    # star import: a type checker keeps this first definition; at run time it does not exist.
    from ._errors import RefundError as RefundError

from .wechatpay_refund import *  # noqa: F401,F403

# maturin puts the generated module one level down: wechatpay_refund/wechatpay_refund/.
from .wechatpay_refund import wechatpay_refund as _generated

# The open enums (generated from src/wire.rs): the generated module lifts wire strings into them.
from . import _wire
from ._wire import *  # noqa: F401,F403

__all__ = list(_generated.__all__) + list(_wire.__all__) + ["SPEEDUPS", "to_dict"]


def _load_speedups():
    """The extension module in the library UniFFI already loaded, or None."""
    if _os.environ.get("WECHATPAY_REFUND_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        import importlib.machinery
        import importlib.util

        # The very file ctypes loaded: dlopen() hands back the same handle, so the extension
        # and the ctypes calls share one copy of the library (and its objects' handles).
        path = _generated._UniffiLib._name
        name = __name__ + "._speedups"
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError, AttributeError):
        # No stable-ABI extension support here (e.g. PyPy): the generated code serves.
        return None

    def lift_error(data):
        stream = _generated._UniffiRustBufferStream(data, len(data))
        return _generated._UniffiFfiConverterTypeRefundError.read(stream)

    try:
        module.install(_generated, lift_error)
    except Exception as e:  # noqa: BLE001 - a mismatch must not make the package unusable
        import warnings

        warnings.warn("wechatpay_refund: the compiled accelerator does not match the generated "
                      "module (%s); using the generated code" % (e,), RuntimeWarning, stacklevel=2)
        return None
    return module


#: The generated implementations the accelerator replaced, by name (for the differential tests).
_PURE = {}


def _install(fast):
    g = globals()
    for name in (
        "build_create_refund_request",
        "build_query_refund_request",
        "build_apply_abnormal_refund_request",
        "parse_refund_response",
        "verify_wechatpay_signature",
        "parse_notification_at",
    ):
        _PURE[name] = g[name]
        g[name] = getattr(fast, name)

    config_init = _PURE["ClientConfig.__init__"] = _generated.ClientConfig.__init__

    def __init__(self, *args, **kwargs):
        self._handle = fast.new_client_config(*args, **kwargs)

    __init__.__doc__ = config_init.__doc__
    __init__.__signature__ = _signature_of(config_init)
    _generated.ClientConfig.__init__ = __init__

    client = _generated.RefundClient
    for name in ("create_refund", "query_refund", "apply_abnormal_refund", "parse_notification"):
        generated_method = _PURE["RefundClient." + name] = getattr(client, name)
        method = _method(getattr(fast, "client_" + name))
        method.__name__ = name
        method.__qualname__ = generated_method.__qualname__
        method.__doc__ = generated_method.__doc__
        method.__signature__ = _signature_of(generated_method)
        setattr(client, name, method)


def _method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    return method


def _signature_of(function):
    import inspect

    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


# Pythonic records: the generated record classes get a repr with name=value for every field
# (secrets redacted) and to_dict(); they already compare by value. Added here, at import,
# because generated code is never edited.
_SECRET_FIELDS = ("bank_account", "real_name", "private_key", "api_key", "api_v3_key", "password")


def _record_params(cls):
    import inspect

    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    if not params or any(p.kind is not p.KEYWORD_ONLY for p in params):
        return None
    return params


def _record_repr(self):
    parts = []
    for name in type(self)._wr_fields:
        value = getattr(self, name, None)
        if value is not None and any(s in name for s in _SECRET_FIELDS):
            parts.append("%s=<redacted>" % name)
        else:
            parts.append("%s=%r" % (name, value))
    return "%s(%s)" % (type(self).__name__, ", ".join(parts))


def _plain(value):
    if hasattr(value, "_wr_fields"):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, _wire._WireEnum):
        return value.value
    return value


def _record_to_dict(self):
    """The record's fields as plain Python values (nested records as dicts, enums as their wire
    strings), e.g. for JSON. Secrets are included: do not log the result."""
    return {name: _plain(getattr(self, name, None)) for name in type(self)._wr_fields}


def _pythonic_records():
    import dataclasses

    for name in _generated.__all__:
        cls = getattr(_generated, name)
        if not isinstance(cls, type) or issubclass(cls, BaseException) or name.endswith("Protocol"):
            continue
        params = _record_params(cls)
        if params is None:
            continue
        cls._wr_fields = tuple(p.name for p in params)
        # The generated classes are `@dataclass` without annotated fields, so the standard
        # library saw none (`dataclasses.asdict(record) == {}`, silently). Declare the real
        # fields and let dataclasses compute them again -- without touching __init__, __eq__ or
        # __repr__ (init/eq/repr=False): fields(), asdict(), astuple() and replace() then work.
        if dataclasses.is_dataclass(cls):
            cls.__annotations__ = {p.name: p.annotation for p in params}
            dataclasses.dataclass(cls, init=False, repr=False, eq=False)
        cls.__repr__ = _record_repr
        cls.to_dict = _record_to_dict


_pythonic_records()


def to_dict(record: object) -> "dict[str, _typing.Any]":
    """``record.to_dict()`` as a function: the record's fields as plain Python values (nested
    records as dicts, enums as their wire strings). Type checkers see this one (the method is
    added to the generated classes at import). Secrets are included: do not log the result."""
    if not hasattr(type(record), "_wr_fields"):
        raise TypeError("to_dict() takes a wechatpay_refund record, not %s" % type(record).__name__)
    result: "dict[str, _typing.Any]" = _record_to_dict(record)
    return result

def _string_headers(headers):
    """Any mapping of request headers -- a ``dict``, Django's ``request.META`` (which also holds
    ``wsgi.input`` and other non-string values), ``request.headers`` of Django, Flask or
    Starlette -- as the ``dict[str, str]`` the generated code takes: the entries whose name and
    value are strings. (The accelerator reads mappings the same way, in src/python.rs.)"""
    items = getattr(headers, "items", None)
    if items is None:
        return headers  # not a mapping: the generated code raises its TypeError
    return {k: v for k, v in items() if isinstance(k, str) and isinstance(v, str)}


def _headers_from_any_mapping():
    """The generated notification calls, taking any mapping of headers (the accelerated ones
    do so natively). Same names, signatures and documentation (functools.wraps)."""
    import functools

    g = globals()
    generated_at = g["parse_notification_at"]

    @functools.wraps(generated_at)
    def parse_notification_at(config, headers, body, now):
        return generated_at(config, _string_headers(headers), body, now)

    g["parse_notification_at"] = parse_notification_at

    generated_method = _generated.RefundClient.parse_notification

    @functools.wraps(generated_method)
    def parse_notification(self, headers, body):
        return generated_method(self, _string_headers(headers), body)

    _generated.RefundClient.parse_notification = parse_notification


_speedups = _load_speedups()
if _speedups is not None:
    _install(_speedups)
else:
    _headers_from_any_mapping()

#: True when the compiled accelerator serves the hot calls, False when the generated
#: pure-Python marshalling does (see the module docstring).
SPEEDUPS = _speedups is not None

# Logging: the library's events on the `wechatpay_refund` logger (a NullHandler by default).
from . import _logging  # noqa: E402

_logging.install(_generated)


def _to_prometheus(self: "Stats") -> str:
    """The snapshot in the Prometheus text format, for a metrics endpoint."""
    return _generated.stats_to_prometheus(self)


_generated.Stats.to_prometheus = _to_prometheus
