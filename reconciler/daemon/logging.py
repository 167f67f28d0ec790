"""Structured logs of the daemon: one event name plus key=value fields per line, as text for a
terminal or as JSON lines (``--log-format json``) for a log pipeline.

Callers write ``log.info("reconcile-finished", extra=fields(revision=..., result=...))``; the
formatter puts the fields next to the event name, so every line is machine-readable in both
formats.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

LOGGER = "reconciler.daemon"


def fields(**values: Any) -> dict[str, Any]:
    """The ``extra`` of a log call: fields kept apart from the record's own attributes."""
    return {"fields": values}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": _timestamp(record), "level": record.levelname.lower(), "event": record.getMessage(),
                 **_present(record)}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        pairs = " ".join(f"{k}={_text(v)}" for k, v in _present(record).items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.getMessage()}" + (f" {pairs}" if pairs else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _timestamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")


def _present(record: logging.LogRecord) -> dict[str, Any]:
    """The record's fields without the empty ones (a line says what is known)."""
    return {k: v for k, v in getattr(record, "fields", {}).items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = ",".join(f"{k}:{v}" for k, v in value.items())
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if (" " in text or not text) else text


def setup(fmt: str = "text", stream: TextIO | None = None, level: int = logging.INFO) -> logging.Logger:
    """The daemon's logger, writing to ``stream`` (stderr) in ``fmt``; replaces earlier handlers so a
    second daemon in the same process (tests) does not log twice."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger
