"""Working-hours windows as start and stop events, for any cloud's scheduler.

A window starts on each of its days at ``start`` and stops at ``end`` the same day, or the next
day when it is overnight (so a Saturday-night window stops on Sunday).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.spec import Schedule, Window

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
AWS_DAYS = {"sun": "SUN", "mon": "MON", "tue": "TUE", "wed": "WED", "thu": "THU", "fri": "FRI", "sat": "SAT"}
LONG_DAYS = {"sun": "Sunday", "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
             "fri": "Friday", "sat": "Saturday"}


@dataclass(frozen=True, slots=True)
class PowerEvent:
    action: str  # "start" or "stop"
    days: tuple[str, ...]  # in week order, sun first
    hour: int
    minute: int
    window: int  # index of the window in the spec


def _next_day(day: str) -> str:
    return DAYS[(DAYS.index(day) + 1) % 7]


def _ordered(days) -> tuple[str, ...]:
    return tuple(sorted(set(days), key=DAYS.index))


def window_events(window: Window, index: int) -> tuple[PowerEvent, PowerEvent]:
    start_h, start_m = map(int, window.start.split(":"))
    end_h, end_m = map(int, window.end.split(":"))
    start_days = _ordered(window.days)
    stop_days = start_days
    if window.overnight:
        stop_days = _ordered(_next_day(d) for d in window.days)
    if (end_h, end_m) == (24, 0):  # a window until midnight stops at 00:00 of the next day
        end_h, end_m = 0, 0
        stop_days = _ordered(_next_day(d) for d in window.days)
    return (PowerEvent("start", start_days, start_h, start_m, index),
            PowerEvent("stop", stop_days, end_h, end_m, index))


def power_events(schedule: Schedule) -> list[PowerEvent]:
    events: list[PowerEvent] = []
    for index, window in enumerate(schedule.windows):
        events.extend(window_events(window, index))
    return events


def aws_cron(event: PowerEvent) -> str:
    """EventBridge Scheduler cron: cron(minutes hours day-of-month month day-of-week year)."""
    days = ",".join(AWS_DAYS[d] for d in event.days)
    return f"cron({event.minute} {event.hour} ? * {days} *)"
