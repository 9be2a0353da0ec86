"""Structured logging: key=value for people, JSON lines for machines. Secrets never reach either:
components log ids and states, never config values."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{key}={_quote(value)}" for key, value in _fields(record).items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.getMessage()}"
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _quote(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text


def configure(level: str = "info", fmt: str = "console") -> None:
    """Send every log line to stderr (stdout carries data for exporters such as awsemf)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    wanted = logging.getLevelName({"warn": "WARNING"}.get(level.lower(), level.upper()))
    # Libraries (py4j, aiohttp, grpc, botocore ...) log per-connection details and tracebacks at INFO, a
    # closing peer at shutdown included; the collector's own lines (`collector.*`) say what changed. So
    # libraries show from WARNING up, and everything at debug.
    root.setLevel(wanted if wanted <= logging.DEBUG else max(wanted, logging.WARNING))
    logging.getLogger("collector").setLevel(wanted)


class ComponentLogger(logging.LoggerAdapter[logging.Logger]):
    """Adds the component's kind and id to every line, keeping the caller's own `extra` fields."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def component_logger(kind: str, component_id: str) -> logging.LoggerAdapter[logging.Logger]:
    return ComponentLogger(logging.getLogger(f"collector.{kind}"), {"kind": kind, "component": component_id})


class Rejections:
    """Requests a listener refused: counted per reason every time, logged per reason at most once per
    `interval` (with how many were refused since the last line), so a hostile client cannot drive the
    log however it alternates bad and good requests."""

    def __init__(
        self,
        logger: logging.LoggerAdapter[logging.Logger] | logging.Logger,
        count: Any,
        interval: float = 60.0,
        clock: Any = time.monotonic,
    ) -> None:
        """`count(reason)` increments the counter for one refusal (e.g. a prometheus-client child)."""
        self.logger = logger
        self.count = count
        self.interval = interval
        self.clock = clock
        self._logged_at: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def __call__(self, reason: str, detail: str = "", **extra: Any) -> None:
        self.count(reason)
        self._since[reason] = self._since.get(reason, 0) + 1
        now = self.clock()
        last = self._logged_at.get(reason)
        if last is not None and now - last < self.interval:
            return
        self._logged_at[reason] = now
        refused, self._since[reason] = self._since[reason], 0
        # The detail is the first request's own error, cut short: never a whole body or header echoed.
        self.logger.warning(
            "refusing requests: %s", reason, extra={"refused": refused, "detail": detail[:200], **extra}
        )
