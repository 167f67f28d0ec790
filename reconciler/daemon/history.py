"""The commit the daemon last started applying: the base every new head must descend from.

Kept as events in the store (``revision-applying``, or ``revision-accepted`` when an operator
accepts a rewritten history with ``--accept-revision``), so the guard survives restarts, a new
work dir, and a second host taking over the lease. Recorded *before* the apply starts: after a
crash half-way, parts of that commit are in the cloud, and a force-push dropping it must still be
caught.
"""

from __future__ import annotations

import sqlalchemy as sa

from reconciler.store import Database
from reconciler.store import pipelines as events
from reconciler.store.tables import events as E

KINDS = ("revision-applying", "revision-accepted")


def base(db: Database) -> str | None:
    query = (sa.select(E.c.detail).where(E.c.kind.in_(KINDS), E.c.environment.is_(None))
             .order_by(E.c.id.desc()).limit(1))
    with db.reading() as connection:
        detail = connection.execute(query).scalar()
    return (detail or {}).get("revision")


def record(db: Database, revision: str, branch: str, actor: str, accepted: bool = False) -> None:
    kind = KINDS[1] if accepted else KINDS[0]
    text = (f"revision {revision[:12]} of {branch} accepted by {actor} as the new base (history rewritten)"
            if accepted else f"applying revision {revision[:12]} of {branch}")
    with db.transaction() as connection:
        events.log(connection, db.clock(), None, None, "warning" if accepted else "info", kind, text, actor,
                   {"revision": revision, "branch": branch})
