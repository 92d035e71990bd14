"""No panic crosses the FFI boundary (issue 10.7).

Every exported function, constructor and method of the generated module is driven with hostile
input built from its own type annotations (empty, NUL, CR/LF, huge and non-ASCII strings,
extreme integers, garbage bytes, unknown enum values, records full of them, foreign callbacks
that fail or return garbage). Each call must return or raise a typed error -- RefundError,
or the TypeError/ValueError of argument checking -- never UniFFI's InternalError, which is what
a Rust panic becomes, and never take the process down. The table of callables is discovered, so
a new export is covered without editing this file.
"""

import enum
import inspect
import itertools
import typing

import pytest

import wechatpay_refund as wr
from wechatpay_refund import _wire

G = wr._generated

STRINGS = ["", "\x00", "R1\r\nX-Injected: yes", "é" * 3000, "PUB_KEY_ID_0000\n",
           "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "R|*@-_1"]
INTS = [0, -1, -(2 ** 63), 2 ** 63 - 1, 1]
BYTES = [b"", b"\xff\xfe\x00", b"{" * 3000, b'{"code":"X","message":"\n"}']


class HostileSigner(G.Signer):
    """A foreign signer that fails, or answers garbage."""

    def __init__(self, mode):
        self.mode = mode

    def sign(self, message):
        if self.mode == 0:
            raise ValueError("HSM unavailable")
        return b"\x00" * self.mode


class HostileTransport(G.HttpTransport):
    """A foreign transport that fails, or answers garbage."""

    def __init__(self, mode):
        self.mode = mode

    def send(self, request):
        if self.mode == 0:
            raise RuntimeError("socket closed")
        if self.mode == 1:
            return G.HttpResponse(status=200, headers=[], body=b"\xff")
        return G.HttpResponse(status=65535, headers=[G.HttpHeader(name="\x00", value="é" * 3000)],
                              body=b"{" * 3000)


class HostileListener(G.EventListener):
    """A foreign event listener that fails."""

    def on_event(self, event):
        raise RuntimeError("listener broken")


FLOATS = [0.0, -1.0, float("nan"), float("inf"), 1e308]


def values(tp, objects, depth=0):
    """A few hostile values of the annotated type `tp`."""
    if isinstance(tp, typing.ForwardRef):
        tp = tp.__forward_arg__
    if isinstance(tp, str):  # a forward reference into the generated module
        tp = eval(tp, vars(G))  # noqa: S307 - names of the generated module only
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None) and a is not object]
        out = [None] if type(None) in args else []
        for a in inner:
            out += values(a, objects, depth)[:3]
        return out
    if origin in (list, typing.List):
        one = values(args[0], objects, depth + 1)
        return [[], one[:1] * 3, one[1:4]]
    if origin is dict:
        return [{}, {"Wechatpay-Serial": "\x00", "HTTP_WECHATPAY_TIMESTAMP": "-99999999999999999999",
                     "wechatpay-signature": "WECHATPAY/SIGNTEST/x"}]
    if tp is str:
        return STRINGS
    if tp is bool:
        return [True, False]
    if tp is float:
        return FLOATS
    if tp is int:
        return INTS
    if tp is bytes:
        return BYTES
    if isinstance(tp, type) and issubclass(tp, _wire._WireEnum):
        return [tp("NOT_A_VALUE"), tp(""), list(tp)[0]]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return list(tp)
    if tp is G.SandboxFault:
        # Bounded: a hostile delay would only make the suite slow, not test anything.
        return [G.SandboxFault.SYSTEM_ERROR(), G.SandboxFault.DELAY(millis=1)]
    if tp is G.Signer:
        return [HostileSigner(0), HostileSigner(3)]
    if tp is G.EventListener:
        return [HostileListener()]
    if tp is G.HttpTransport:
        return [HostileTransport(0), HostileTransport(1), HostileTransport(2)]
    if tp in objects:
        return objects[tp]
    if isinstance(tp, type) and depth < 6:
        return records(tp, objects, depth + 1)
    raise AssertionError(f"no hostile values for {tp!r}")


def params(fn):
    sig = inspect.signature(fn)
    return [p for p in sig.parameters.values() if p.name != "self"]


def combos(fn, objects, depth=0, limit=8):
    """Up to `limit` argument sets: the i-th hostile value of every parameter at once."""
    ps = params(fn)
    pools = [values(p.annotation, objects, depth) for p in ps]
    for i in range(limit):
        yield {p.name: pool[(i + k) % len(pool)] for k, (p, pool) in enumerate(zip(ps, pools)) if pool}


def records(cls, objects, depth):
    out = []
    for kwargs in combos(cls.__init__, objects, depth, limit=3):
        try:
            out.append(cls(**kwargs))
        except (TypeError, ValueError):
            pass
    return out or [None]


def call(fn, kwargs):
    try:
        fn(**kwargs)
    except G.InternalError as e:  # a Rust panic
        pytest.fail(f"{fn.__qualname__}({kwargs!r:.300}) panicked in Rust: {e}")
    except (wr.RefundError, TypeError, ValueError, OverflowError, UnicodeError):
        pass


@pytest.fixture(scope="module")
def objects():
    sb = wr.Sandbox.start()
    sb.create_order("T20261124001", 10000)
    config = sb.client_config()
    client = wr.RefundClient(config)
    yield {G.Sandbox: [sb], G.ClientConfig: [config], G.RefundClient: [client]}
    sb.stop()


def exported():
    for name in G.__all__:
        obj = getattr(G, name)
        if inspect.isfunction(obj):
            yield name, lambda self_obj, f=obj: f
        elif name in ("ClientConfig", "RefundClient", "Sandbox"):
            for m, _ in inspect.getmembers(obj, inspect.isfunction):
                if m.startswith("_") or m == "stop":
                    continue
                yield f"{name}.{m}", lambda self_obj, cls=obj, m=m: getattr(self_obj[cls][0], m)
            for m, meth in inspect.getmembers(obj, inspect.ismethod):  # constructors
                if not m.startswith("_"):
                    yield f"{name}.{m}", lambda self_obj, meth=meth: meth
            if name != "Sandbox":
                yield f"{name}()", lambda self_obj, cls=obj: cls


NAMES = [n for n, _ in exported()]


def test_every_export_is_driven():
    # The discovery found the API: a change that hid it would make the test vacuous.
    for needed in ("build_create_refund_request", "parse_notification_at", "ClientConfig()",
                   "ClientConfig.with_signer", "RefundClient.create_refund",
                   "RefundClient.with_transport", "Sandbox.set_refund_status"):
        assert needed in NAMES, needed


@pytest.mark.parametrize("name", NAMES)
def test_hostile_input_never_panics(name, objects):
    get = dict(exported())[name]
    fn = get(objects)
    try:
        for kwargs in combos(fn, objects):
            call(fn, kwargs)
    finally:
        if name in ("set_event_listener", "clear_event_listener", "set_event_level"):
            wr._logging.register()  # the package's logging bridge again, for the tests after
