"""Rule 11: which backups may not be deleted by hand (pure).

Manual backups may be deleted except: those of the last 30 days; the monthly backups (the first
backup of each calendar month) of the last 12 months; the yearly backups (the first of each
calendar year) of the last five years. Automatic backups are never deleted by hand.
"""

from __future__ import annotations

import datetime as dt

from reconciler.model import capabilities as caps
from reconciler.model.state import BackupRecord


def _months_between(earlier: dt.datetime, later: dt.datetime) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def protected_reason(record: BackupRecord, all_records: list[BackupRecord], now: dt.datetime) -> str | None:
    """Why ``record`` is protected from deletion, or None when it may be deleted."""
    if record.kind != "manual":
        return "automatic backups are deleted only by their retention"
    age = now - record.created_at
    if age < dt.timedelta(days=caps.PROTECTED_RECENT_DAYS):
        return f"it is {age.days} days old; backups of the last {caps.PROTECTED_RECENT_DAYS} days are kept"
    same_month = [r for r in all_records if (r.created_at.year, r.created_at.month) ==
                  (record.created_at.year, record.created_at.month)]
    if min(same_month, key=lambda r: r.created_at) is record and \
            _months_between(record.created_at, now) < caps.PROTECTED_MONTHLY_MONTHS:
        return f"it is the monthly backup of {record.created_at:%Y-%m}; monthly backups of the last " \
               f"{caps.PROTECTED_MONTHLY_MONTHS} months are kept"
    same_year = [r for r in all_records if r.created_at.year == record.created_at.year]
    if min(same_year, key=lambda r: r.created_at) is record and now.year - record.created_at.year < \
            caps.PROTECTED_YEARLY_YEARS:
        return f"it is the yearly backup of {record.created_at:%Y}; yearly backups of the last " \
               f"{caps.PROTECTED_YEARLY_YEARS} years are kept"
    return None
