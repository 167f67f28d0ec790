"""Per-environment locks: who holds it (pid, host, actor), for what, at which revision, since when.

A lock is a row; taking it is an insert that fails when the row exists. Waiting polls until a
timeout, then fails with the holder's details. A lock whose holder died on this host (the pid is
gone, or was reused by another program) is released, and the release is logged: never silently.
Locks held from another host are only released by hand (``reconciler unlock LOCK_ID``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import time
from dataclasses import dataclass

import sqlalchemy as sa

from reconciler.errors import LockError
from reconciler.store import pipelines
from reconciler.store.database import Database
from reconciler.store.tables import locks as L


@dataclass(frozen=True)
class LockInfo:
    environment: str
    lock_id: str
    operation: str
    actor: str
    host: str
    pid: int
    revision: str | None
    acquired_at: dt.datetime

    def describe(self) -> str:
        return (f"{self.environment} is locked by {self.actor} (pid {self.pid} on {self.host}) for {self.operation} "
                f"of revision {self.revision or '-'} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC; lock id "
                f"{self.lock_id}")


def process_identity(pid: int | None = None) -> str:
    """host:pid:start-time: a pid alone may be reused after the process died."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_alive(owner: str | None) -> bool | None:
    """True/False for an owner on this host; None when it cannot be told (another host)."""
    if not owner or owner.count(":") < 2:
        return None
    host, pid, started = owner.rsplit(":", 2)
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    except ValueError:
        return None
    return started == "?" or _start_time(int(pid)) == started


def _info(row) -> LockInfo:
    return LockInfo(row.environment, row.lock_id, row.operation, row.actor, row.host, row.pid, row.revision,
                    row.acquired_at)


def holder(db: Database, environment: str) -> LockInfo | None:
    with db.reading() as connection:
        row = connection.execute(sa.select(L).where(L.c.environment == environment)).first()
    return _info(row) if row else None


def all_locks(db: Database) -> list[LockInfo]:
    with db.reading() as connection:
        return [_info(r) for r in connection.execute(sa.select(L).order_by(L.c.environment))]


def try_acquire(connection: sa.Connection, environment: str, operation: str, actor: str, revision: str | None,
                now: dt.datetime) -> str | None:
    if connection.execute(sa.select(L.c.lock_id).where(L.c.environment == environment)).first():
        return None
    lock_id = secrets.token_hex(8)
    connection.execute(sa.insert(L).values(environment=environment, lock_id=lock_id, operation=operation, actor=actor,
                                           host=socket.gethostname(), pid=os.getpid(), revision=revision,
                                           acquired_at=now))
    return lock_id


def acquire(db: Database, environment: str, operation: str, actor: str, revision: str | None,
            timeout: float, poll: float = 0.2) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with db.transaction() as connection:
                lock_id = try_acquire(connection, environment, operation, actor, revision, db.clock())
        except sa.exc.IntegrityError:
            lock_id = None  # another process inserted it between our read and our write
        if lock_id:
            return lock_id
        current = holder(db, environment)
        if current is not None and release_if_dead(db, current):
            continue
        if time.monotonic() >= deadline:
            detail = current.describe() if current else f"{environment} is locked"
            raise LockError(f"{detail}; waited {timeout:g}s. If that process is gone, run: reconciler unlock "
                            f"{current.lock_id if current else '<lock id>'}", holder=current)
        time.sleep(poll)


def release_if_dead(db: Database, lock: LockInfo) -> bool:
    if owner_alive(f"{lock.host}:{lock.pid}:?") is not False:
        return False
    with db.transaction() as connection:
        gone = connection.execute(sa.delete(L).where(L.c.lock_id == lock.lock_id)).rowcount
        if gone:
            pipelines.log(connection, db.clock(), lock.environment, None, "warning", "lock-recovered",
                          f"released lock {lock.lock_id} of {lock.actor}: its process {lock.pid} on {lock.host} is "
                          "gone", detail={"operation": lock.operation, "revision": lock.revision})
    return bool(gone)


def release(connection: sa.Connection, lock_id: str) -> bool:
    return bool(connection.execute(sa.delete(L).where(L.c.lock_id == lock_id)).rowcount)


def unlock(db: Database, lock_id: str, actor: str) -> LockInfo:
    """Release a lock by its id (by hand: its holder died on another host, or hung)."""
    with db.transaction() as connection:
        row = connection.execute(sa.select(L).where(L.c.lock_id == lock_id)).first()
        if row is None:
            raise LockError(f"no lock with id {lock_id} (list them with: reconciler locks)")
        info = _info(row)
        connection.execute(sa.delete(L).where(L.c.lock_id == lock_id))
        pipelines.log(connection, db.clock(), info.environment, None, "warning", "lock-released",
                      f"lock {lock_id} released by hand by {actor} (was held by {info.actor}, pid {info.pid} on "
                      f"{info.host}, for {info.operation})", actor)
    return info
