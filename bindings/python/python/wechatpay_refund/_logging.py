"""The library's events (src/events.rs) as records of the ``wechatpay_refund`` logger.

Each record carries the event's fields as attributes (``record.event == "http.attempt"``,
``record.method``, ``record.path``, ``record.status``, ``record.attempt``, ``record.elapsed_ms``,
``record.request_id``, ...; integers as ``int``), at the event's level: attempts DEBUG; retries,
certificate downloads and refreshes INFO; verification failures WARNING. The logger has a
``NullHandler``, as a library's should: nothing is printed until the application configures
logging.

The Rust core is told the most verbose level the logger wants (``set_event_level``) before
each network call and whenever the listener sees an event the logger no longer wants; with the
logger not enabled for DEBUG, an attempt costs Rust one atomic load, and Python nothing.
"""

import functools
import logging

LOGGER = logging.getLogger("wechatpay_refund")
LOGGER.addHandler(logging.NullHandler())

# Attributes a LogRecord has already: an event field of that name gets a `wr_` prefix.
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

_state = {"level": None, "generated": None}


def _levels(g):
    return (
        (g.EventLevel.TRACE, 5),
        (g.EventLevel.DEBUG, logging.DEBUG),
        (g.EventLevel.INFO, logging.INFO),
        (g.EventLevel.WARN, logging.WARNING),
        (g.EventLevel.ERROR, logging.ERROR),
    )


def sync_level():
    """Tell the Rust core the most verbose level the logger is enabled for (or none)."""
    g = _state["generated"]
    if g is None:
        return
    wanted = None
    for event_level, py_level in _levels(g):
        if LOGGER.isEnabledFor(py_level):
            wanted = event_level
            break
    if wanted != _state["level"]:
        _state["level"] = wanted
        g.set_event_level(wanted)


def _make_listener(g):
    py_levels = {event_level: py_level for event_level, py_level in _levels(g)}

    class LoggingListener(g.EventListener):
        """Forwards the library's events to the ``wechatpay_refund`` logger."""

        def on_event(self, event):
            # Never raise into Rust: an event must not fail a refund.
            try:
                level = py_levels.get(event.level, logging.DEBUG)
                if not LOGGER.isEnabledFor(level):
                    sync_level()
                    return
                extra = {}
                for field in event.fields:
                    key = field.key
                    if key in _RESERVED:
                        key = "wr_" + key
                    extra[key] = field.value.value
                extra.setdefault("event", event.name)
                text = " ".join(
                    "%s=%s" % (k, v) for k, v in extra.items() if k != "event"
                )
                LOGGER.log(level, "%s %s", event.name, text, extra=extra)
            except Exception:  # noqa: BLE001
                pass

    return LoggingListener()


def install(g):
    """Register the listener with the Rust core, and keep its level in step with the logger's
    around the calls of the clients (`g`: the generated module)."""
    _state["generated"] = g
    register()
    for cls, names in (
        (g.RefundClient, ("create_refund", "query_refund", "apply_abnormal_refund",
                          "parse_notification", "refresh_platform_certificates")),
        (g.V2RefundClient, ("refund", "refund_query", "parse_refund_notification")),
    ):
        for name in names:
            setattr(cls, name, _synced(getattr(cls, name)))


def register():
    """(Re)register the logging listener with the Rust core (``install`` does it at import; a
    program that registered a listener of its own can hand the events back to logging)."""
    g = _state["generated"]
    g.set_event_listener(_make_listener(g), g.EventLevel.ERROR)
    _state["level"] = g.EventLevel.ERROR
    sync_level()


def _synced(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        sync_level()
        return method(self, *args, **kwargs)

    return call
