"""The daemon's settings as one frozen value, and the parsing of its durations and address.

Durations read as Go's and Flux's do: ``500ms``, ``30s``, ``5m``, ``1h``, ``1h30m``; a bare number
is seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError

_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")

WEBHOOK_BODY_LIMIT = 1 << 20  # GitHub caps payloads at 25 MB; a push event is a few kB


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ConfigError when it is not a duration."""
    value = text.strip().lower()
    try:
        return float(value)
    except ValueError:
        pass
    parts = _PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ConfigError(f"{text!r} is not a duration (e.g. 500ms, 30s, 5m, 1h30m)")
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


def parse_listen(text: str) -> tuple[str, int] | None:
    """``host:port`` (port 0: any free port); ``off`` or an empty value: no HTTP server."""
    if text.strip().lower() in ("", "off", "none"):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9464")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclass(frozen=True)
class DaemonSettings:
    source: str  # a URL git understands, or a local path
    branch: str = "main"
    interval: float = 60.0  # seconds between fetches (a local source is also watched)
    drift_interval: float = 3600.0
    listen: tuple[str, int] | None = ("127.0.0.1", 9464)
    engine: str | None = None  # None: RECONCILER_ENGINE, the repository's config, sandbox
    state: str | None = None  # None: RECONCILER_STATE, the repository's config, SQLite in the work dir
    webhook_secret: str | None = None  # None: POST /hooks/git answers 404
    workdir: Path | None = None  # None: see service.default_workdir
    once: bool = False
    keyring: Path | None = None  # public keys allowed to sign commits; None: signatures not checked
    accept_revision: str | None = None  # a rewritten head the operator accepts as the new base
    actor: str | None = None
    webhook_body_limit: int = WEBHOOK_BODY_LIMIT
    lease_ttl: float = 30.0
    debounce_ms: int = 50  # quiet time that ends a burst of file events
    watch: bool = True  # watch a local work tree (off: fetch on the interval and webhooks only)
    warm_up: bool = True  # see warmup; it freezes the heap, so off for daemons sharing a process (tests)
