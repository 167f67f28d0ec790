"""Rule 3: power and working-hours schedule (days, times, overnight windows, overlap, time zone)."""

from __future__ import annotations

import functools
import zoneinfo
from typing import Iterator

from reconciler.model.diagnostics import Diagnostic, error
from reconciler.spec.rules import document_rule

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES


@functools.lru_cache(maxsize=1024)
def is_iana_timezone(name: str) -> bool:
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timezone_problem(value, path: tuple) -> Diagnostic | None:
    if is_iana_timezone(value):
        return None
    return error("timezone", f"'{value}' is not an IANA time zone", path,
                 "write a zone of the tz database, such as America/Sao_Paulo or UTC")


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


@document_rule("Environment")
def power_and_schedule(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    power, schedule = spec.get("power"), spec.get("schedule")
    if power == "scheduled" and not schedule:
        yield error("schedule-required", "power is 'scheduled' but there is no schedule", ("spec", "power"),
                    "add spec.schedule with a timezone and windows, or set power to running or stopped")
    if power in ("running", "stopped") and schedule:
        yield error("schedule-forbidden", f"a schedule is set but power is '{power}'", ("spec", "schedule"),
                    "set power: scheduled to use the schedule, or remove it")
    if isinstance(schedule, dict):
        yield from _check_schedule(schedule)


def _check_schedule(schedule: dict) -> Iterator[Diagnostic]:
    problem = timezone_problem(schedule.get("timezone"), ("spec", "schedule", "timezone"))
    if problem:
        yield problem
    windows = schedule.get("windows") or []
    for index, window in enumerate(windows):
        yield from _check_window(window, ("spec", "schedule", "windows", index))
    yield from _overlaps(windows)


def _check_window(window: dict, path: tuple) -> Iterator[Diagnostic]:
    start, end, overnight = window["start"], window["end"], window.get("overnight", False)
    if start == "24:00":
        yield error("schedule-window", "a window cannot start at 24:00", path + ("start",),
                    "start at 00:00 of the next day instead")
    elif overnight and end == "24:00":
        yield error("schedule-window", "an overnight window cannot end at 24:00", path + ("end",),
                    "end at a time of the next day, or drop 'overnight'")
    elif overnight and minutes(end) >= minutes(start):
        yield error("schedule-window", f"the window is marked overnight but {end} is not before {start}",
                    path + ("overnight",), "remove 'overnight: true' for a window within one day")
    elif not overnight and minutes(end) <= minutes(start):
        yield error("schedule-window", f"the window ends ({end}) before it starts ({start})", path + ("end",),
                    "make end later than start, or add 'overnight: true' for a window that crosses midnight")


def _intervals(window: dict) -> list[tuple[int, int, str]]:
    start, end = minutes(window["start"]), minutes(window["end"])
    if window.get("overnight"):
        end += _DAY_MINUTES
    out = []
    for day in window["days"]:
        offset = DAYS.index(day) * _DAY_MINUTES
        begin, finish = offset + start, offset + end
        if finish > _WEEK_MINUTES:  # saturday night runs into sunday morning
            out.append((begin, _WEEK_MINUTES, day))
            out.append((0, finish - _WEEK_MINUTES, day))
        else:
            out.append((begin, finish, day))
    return out


def _overlaps(windows: list) -> Iterator[Diagnostic]:
    spans = []
    for index, window in enumerate(windows):
        try:
            if minutes(window["end"]) <= minutes(window["start"]) and not window.get("overnight"):
                continue  # already reported as an invalid window
            spans += [(b, e, index, day) for b, e, day in _intervals(window)]
        except (KeyError, ValueError, TypeError):
            continue
    spans.sort()
    reported: set[tuple[int, int]] = set()
    for i, (_begin, end, index, day) in enumerate(spans):
        for other_begin, _other_end, other_index, _ in spans[i + 1:]:
            if other_begin >= end:
                break
            pair = (min(index, other_index), max(index, other_index))
            if other_index != index and pair not in reported:
                reported.add(pair)
                yield error("schedule-overlap",
                            f"windows {pair[0] + 1} and {pair[1] + 1} overlap on {day}",
                            ("spec", "schedule", "windows", pair[1]),
                            "windows of the same day must not overlap: merge them or move one")
