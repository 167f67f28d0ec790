"""The cockpit (the portal's "Ambientes" tab): each recorded environment at a glance.

Status follows the portal: *active* (running) or *inactive* (off). For a scheduled topology it
is computed from its windows at this moment, in its own time zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from reconciler.model.spec import Environment, Schedule
from reconciler.store import Database, controls, environments
from reconciler.store import pipelines as store

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order


def in_window(schedule: Schedule, now: dt.datetime) -> bool:
    local = now.astimezone(zoneinfo.ZoneInfo(schedule.timezone))
    minute = local.hour * 60 + local.minute
    today, yesterday = _DAYS[local.weekday()], _DAYS[(local.weekday() - 1) % 7]
    for window in schedule.windows:
        start = _minutes(window.start)
        end = _minutes(window.end)
        if not window.overnight and today in window.days and start <= minute < end:
            return True
        if window.overnight and ((today in window.days and minute >= start) or
                                 (yesterday in window.days and minute < end)):
            return True
    return False


def _minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def power_status(env: Environment, now: dt.datetime) -> str:
    if env.power == "running":
        return "active"
    if env.power == "stopped":
        return "inactive"
    return ("active" if env.schedule and in_window(env.schedule, now) else "inactive") + " (scheduled)"


def cockpit(db: Database) -> list[dict[str, Any]]:
    now = db.clock()
    records = environments.all_recorded(db)
    last = store.last_for(db, [r.name for r in records])
    switches = controls.all_controls(db)
    rows = []
    for record in records:
        env = Environment.from_document(record.document)
        pipeline = last.get(record.name)
        control = switches.get(record.name)
        status = power_status(env, now)
        if control and control.suspended:
            status += ", suspended"
        rows.append({
            "name": record.name, "customer": record.customer, "status": status, "type": env.type,
            "product": env.product, "version": env.version, "cloud": env.cloud, "region": env.region,
            "instances": env.instances, "revision": record.revision, "applied_at": record.applied_at.isoformat(),
            "applied_by": record.applied_by, "serial": record.serial,
            "last_pipeline": f"#{pipeline.id} {pipeline.status.value}" if pipeline else "-",
            "drift": len(control.drift or []) if control else 0,
        })
    return rows
