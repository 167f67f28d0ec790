"""One daemon per state store: a lease row (``leases``, name ``daemon``) with an expiry.

Taking it is a transaction: free, expired, or held by a process that died on this host (kill -9)
-> ours, and taking it over from someone else is logged as an event (never silently). Otherwise
the daemon refuses to start with the holder's identity and times. The holder renews it every
third of its lifetime from a thread; a renewal that finds the row no longer ours (an operator
deleted it, or we were paused past the expiry and another daemon took over) stops the daemon.
Released on every clean exit.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from reconciler.daemon.worker import BackgroundWorker
from reconciler.errors import LockError
from reconciler.store import Database
from reconciler.store import pipelines as events
from reconciler.store.locks import owner_alive, process_identity
from reconciler.store.tables import leases as T

NAME = "daemon"


@dataclass(frozen=True)
class LeaseInfo:
    holder: str  # host:pid:start-time (see store.locks.process_identity)
    expires_at: dt.datetime
    renewed_at: dt.datetime
    token: str = ""

    def describe(self) -> str:
        host, pid, _ = (self.holder.rsplit(":", 2) + ["?", "?"])[:3]
        return (f"another daemon holds this state store: pid {pid} on {host}, lease renewed "
                f"{self.renewed_at:%Y-%m-%d %H:%M:%S} UTC, expires {self.expires_at:%Y-%m-%d %H:%M:%S} UTC")


class LeaseLost(Exception):
    """The lease is no longer ours."""


class Lease:
    def __init__(self, db: Database, ttl: float = 30.0, holder: str | None = None):
        self.db, self.ttl = db, ttl
        self.holder = holder or process_identity()
        self.token = secrets.token_hex(8)
        self.held = False

    def acquire(self) -> LeaseInfo | None:
        """Take the lease; returns the previous holder when one was taken over. LockError (with
        the holder) when another live daemon holds it."""
        now = self.db.clock()
        try:
            with self.db.transaction() as connection:
                current = _read(connection)
                if current is not None and not _takeable(current, now):
                    raise LockError(current.describe(), holder=current, delay=self.ttl)
                if not _write(connection, self, now, replacing=current):
                    raise LockError("another daemon took the lease of this state store at the same moment")
                if current is not None:
                    events.log(connection, now, None, None, "warning", "lease-taken-over",
                               f"daemon lease taken over from {current.holder} (expired or its process is gone)",
                               detail={"previous": current.holder, "expired_at": current.expires_at.isoformat()})
        except sa.exc.IntegrityError as exc:  # both inserted; the other one won
            raise LockError("another daemon took the lease of this state store at the same moment") from exc
        self.held = True
        return current

    def renew(self) -> None:
        now = self.db.clock()
        with self.db.transaction() as connection:
            done = connection.execute(sa.update(T).where(T.c.name == NAME, T.c.token == self.token).values(
                expires_at=now + dt.timedelta(seconds=self.ttl), renewed_at=now)).rowcount
        if not done:
            self.held = False
            raise LeaseLost("the daemon lease of this state store is no longer ours")

    def release(self) -> None:
        if not self.held:
            return
        with self.db.transaction() as connection:
            connection.execute(sa.delete(T).where(T.c.name == NAME, T.c.token == self.token))
        self.held = False


def current(db: Database) -> LeaseInfo | None:
    with db.reading() as connection:
        return _read(connection)


def _read(connection: sa.Connection) -> LeaseInfo | None:
    row = connection.execute(sa.select(T).where(T.c.name == NAME)).first()
    return LeaseInfo(row.holder, row.expires_at, row.renewed_at, row.token) if row else None


def _takeable(lease: LeaseInfo, now: dt.datetime) -> bool:
    return lease.expires_at <= now or owner_alive(lease.holder) is False


def _write(connection: sa.Connection, lease: Lease, now: dt.datetime, replacing: LeaseInfo | None) -> bool:
    """Insert the row, or replace the one read only if it is still that one (compare and swap on
    its token): two daemons taking over an expired lease at once cannot both win."""
    values = dict(holder=lease.holder, token=lease.token, expires_at=now + dt.timedelta(seconds=lease.ttl),
                  renewed_at=now)
    if replacing is None:
        connection.execute(sa.insert(T).values(name=NAME, **values))
        return True
    return bool(connection.execute(sa.update(T).where(T.c.name == NAME, T.c.token == replacing.token)
                                   .values(**values)).rowcount)


class Keeper(BackgroundWorker):
    """Renews the lease from a thread; calls ``on_lost`` once if it is lost."""

    name = "lease"

    def __init__(self, lease: Lease, on_lost: Callable[[str], None], log: logging.Logger):
        self.lease, self.on_lost, self.log = lease, on_lost, log
        super().__init__()

    def _run(self) -> None:
        while not self._stop.wait(self.lease.ttl / 3):
            try:
                self.lease.renew()
            except LeaseLost as exc:
                self.on_lost(str(exc))
                return
            except sa.exc.SQLAlchemyError as exc:  # the store is down for a moment: try again next tick
                self.log.warning("lease-renewal-failed", extra={"fields": {"error": str(exc).splitlines()[0]}})
