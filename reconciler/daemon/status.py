"""Status as Flux reports it: per environment the conditions ``Ready``, ``Reconciling`` and
``Stalled``, each with a CamelCase reason and a message, plus the last applied and last attempted
revisions; the same for the source (fetch, validation, history, signature).

One ``Status`` value decides all three conditions, so they never contradict each other:

=================  =======  ===========  =======
state              Ready    Reconciling  Stalled
=================  =======  ===========  =======
ready               True     False        False
progressing         Unknown  True         False
retrying            False    True         False
stalled             False    False        True
not ready (other)   False    False        False
=================  =======  ===========  =======

The board keeps, per environment, the status the last pass left and when it last changed; the
``/status`` document merges it with what the store records (applied revision, suspension,
drift, the cockpit's row).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reconciler.store import Database, controls
from reconciler.store.tables import environments as E


@dataclass(frozen=True)
class Status:
    ready: bool | None  # None: Unknown
    reconciling: bool
    stalled: bool
    reason: str  # CamelCase, e.g. ReconciliationSucceeded, ProgressingWithRetry, EngineError
    message: str

    def conditions(self, since: dt.datetime) -> list[dict[str, str]]:
        at = since.isoformat(timespec="seconds")
        ready = {True: "True", False: "False", None: "Unknown"}[self.ready]
        return [_condition("Ready", ready, self.reason, self.message, at),
                _condition("Reconciling", _flag(self.reconciling), self.reason if self.reconciling else "",
                           self.message if self.reconciling else "", at),
                _condition("Stalled", _flag(self.stalled), self.reason if self.stalled else "",
                           self.message if self.stalled else "", at)]


def _flag(value: bool) -> str:
    return "True" if value else "False"


def _condition(kind: str, status: str, reason: str, message: str, at: str) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": at}


def ready(message: str, reason: str = "ReconciliationSucceeded") -> Status:
    return Status(True, False, False, reason, message)


def progressing(message: str) -> Status:
    return Status(None, True, False, "Progressing", message)


def retrying(message: str, reason: str = "ProgressingWithRetry") -> Status:
    return Status(False, True, False, reason, message)


def stalled(reason: str, message: str) -> Status:
    return Status(False, False, True, reason, message)


def not_ready(reason: str, message: str) -> Status:
    return Status(False, False, False, reason, message)


class Board:
    """The statuses the daemon's passes left, shared with the HTTP threads."""

    def __init__(self, clock=lambda: dt.datetime.now(dt.timezone.utc)):
        self._clock = clock
        self._lock = threading.Lock()
        self._envs: dict[str, tuple[Status, dt.datetime]] = {}
        self._source: tuple[Status, dt.datetime] = (Status(None, True, False, "Progressing", "not fetched yet"),
                                                    clock())
        self.source_info: dict[str, Any] = {}

    def set(self, name: str, status: Status) -> None:
        with self._lock:
            self._envs[name] = _transition(self._envs.get(name), status, self._clock())

    def get(self, name: str) -> Status | None:
        with self._lock:
            entry = self._envs.get(name)
        return entry[0] if entry else None

    def keep_only(self, names: set[str]) -> None:
        """Forget environments neither in the specs nor recorded any more (removed)."""
        with self._lock:
            for name in set(self._envs) - names:
                del self._envs[name]

    def set_source(self, status: Status, **info: Any) -> None:
        with self._lock:
            self._source = _transition(self._source, status, self._clock())
            self.source_info.update(info)

    def note_source(self, **info: Any) -> None:
        """Facts about the source (revision fetched, when) that change no condition."""
        with self._lock:
            self.source_info.update(info)

    @property
    def source(self) -> Status:
        with self._lock:
            return self._source[0]

    def snapshot(self) -> tuple[dict[str, tuple[Status, dt.datetime]], tuple[Status, dt.datetime], dict]:
        with self._lock:
            return dict(self._envs), self._source, dict(self.source_info)


def _transition(previous: tuple[Status, dt.datetime] | None, status: Status,
                now: dt.datetime) -> tuple[Status, dt.datetime]:
    """The transition time moves only when a condition's status does (Kubernetes' rule)."""
    if previous is not None and _polarity(previous[0]) == _polarity(status):
        return status, previous[1]
    return status, now


def _polarity(status: Status) -> tuple:
    return status.ready, status.reconciling, status.stalled


def document(board: Board, db: Database, retry_in: dict[str, float], extra: dict[str, Any]) -> dict[str, Any]:
    """The /status JSON: the source, then every environment known to the board or the store."""
    from reconciler.status import cockpit

    envs, (source, source_since), source_info = board.snapshot()
    switches = controls.all_controls(db)
    rows = {row["name"]: row for row in cockpit(db)}
    names = sorted(set(envs) | set(rows))
    return {"format_version": "1", **extra,
            "source": {**source_info, "conditions": source.conditions(source_since)},
            "environments": [_environment(n, envs.get(n), rows.get(n), switches.get(n), retry_in.get(n))
                             for n in names]}


def _environment(name: str, entry, row: dict | None, control, retry_in: float | None) -> dict[str, Any]:
    status, since = entry if entry else (_from_store(row, control), dt.datetime.now(dt.timezone.utc))
    return {"name": name, "conditions": status.conditions(since),
            "lastAppliedRevision": row["revision"] if row else None,
            "lastAttemptedRevision": control.last_attempted_revision if control else None,
            "suspended": bool(control and control.suspended),
            "drift": list(control.drift or []) if control else [],
            "nextRetrySeconds": round(retry_in, 3) if retry_in is not None else None,
            "cockpit": row}


def _from_store(row: dict | None, control) -> Status:
    """Before the first pass: what the store says (stalled, drifted, applied)."""
    if control is not None and control.stalled_reason:
        return stalled(stall_reason(control.stalled_reason), control.stalled_reason)
    if control is not None and control.drift:
        return not_ready("DriftDetected", f"{len(control.drift)} resource(s) drifted at the last check")
    if row is not None:
        return Status(None, False, False, "Pending", f"recorded at revision {row['revision'] or '-'}; "
                                                     "not reconciled by this daemon yet")
    return Status(None, False, False, "Pending", "not reconciled yet")


def stall_reason(recorded: str) -> str:
    """The CamelCase reason at the head of a recorded stall ("EngineError: ..."), else Stalled."""
    head = recorded.split(":", 1)[0]
    return head if head.isidentifier() and head[:1].isupper() else "Stalled"


def applied_revisions(db: Database) -> dict[str, str | None]:
    """Environment -> the revision it was last applied at (one light query: no documents, no graphs)."""
    with db.reading() as connection:
        return dict(connection.execute(sa.select(E.c.name, E.c.revision)).all())
