"""Structured logging: one JSON object per line, with correlation and message ids.

The ids live in context variables (per green thread under eventlet), set by the
inbox handler for the message being processed and, for an RPC worker, from the
gateway's request id (`X-Request-Id`), which the gateway passes in the call's context
(services.common.rpc.CORRELATION) and which nameko passes on to any further call.

No CPR number reaches any log: importing this module installs a log-record factory
that masks CPR numbers (services.common.pii) in every record's message and traceback
before any handler sees it, whoever logs (our code, nameko's web server access log,
kombu) and however the process was started.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from services.common import pii

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)
message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("message_id", default=None)
#: The gateway's request id while an RPC worker serves that request: the correlation id
#: of every event the request's unit of work emits (services.common.db.UnitOfWork).
request_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_correlation", default=None
)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


@contextlib.contextmanager
def bind(*, correlation: str | None = None, message: str | None = None) -> Iterator[None]:
    t1 = correlation_id.set(correlation)
    t2 = message_id.set(message)
    try:
        yield
    finally:
        correlation_id.reset(t1)
        message_id.reset(t2)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        record.message_id = message_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts":..., "level":..., "logger":..., "msg":..., "correlation_id":..., ...}`"""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
            "message_id": getattr(record, "message_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def logging_config(level: str = "INFO", json_lines: bool = True) -> dict[str, Any]:
    """A dictConfig for nameko's LOGGING key or for the CLI."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "services.common.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "services.common.logs.JsonFormatter"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "plain",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["console"]},
    }


def redact_url(url: str) -> str:
    """A URL fit for logs and messages: its password replaced by *** (each URL of a
    `;`-separated failover list)."""
    if ";" in url:
        return ";".join(redact_url(part) for part in url.split(";"))
    parts = urlsplit(url)
    if parts.password:
        host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return url


_base_factory = logging.getLogRecordFactory()


# Refusals a service answers by design (bad input, not found): nameko logs them at ERROR
# with a traceback, but they are the caller's, not ours: one INFO line each.
EXPECTED_REFUSALS = frozenset({"InvalidInput", "NotFoundError"})


def _quieten(record: logging.LogRecord) -> None:
    """Expected 4xx at INFO without a traceback; py-amqp's note about a method that
    arrives on a channel being closed (after an unroutable return) at DEBUG."""
    exc = record.exc_info[1] if record.exc_info else None
    if record.name == "nameko.containers" and type(exc).__name__ in EXPECTED_REFUSALS:
        worker = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        record.msg, record.args = "%s refused: %s", (worker, exc)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text = None, None
    elif record.name == "amqp" and str(record.msg).startswith("Received method"):
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"


#: user:password@ in any URL a library logs (nameko: "Error connecting to broker at ...").
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s;]+):[^@\s/;]+@", re.I)


def mask_passwords(text: str) -> str:
    """Every URL's password in `text` replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def _masking_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _quieten(record)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: let the handler report it as usual
        return record
    masked = mask_passwords(pii.mask_cpr(message))
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = pii.mask_cpr(text)
    return record


def install_cpr_masking() -> None:
    """Mask CPR numbers in every log record of this process (idempotent)."""
    if logging.getLogRecordFactory() is not _masking_record_factory:
        logging.setLogRecordFactory(_masking_record_factory)


install_cpr_masking()
