"""Rule 11: recent, monthly and yearly backups are protected from manual deletion."""

from __future__ import annotations

from reconciler.planning.backups import protected_reason
from tests.planning.helpers import NOW, backup


def reason(target, others=()):
    records = [target, *others]
    return protected_reason(target, records, NOW)


def test_last_30_days():
    assert "days" in reason(backup("a", 29))


def test_monthly_of_the_last_12_months():
    first, second = backup("first", 60), backup("second", 58)  # same month (October 2026)
    assert "monthly" in reason(first, [second])
    assert reason(second, [first]) is None


def test_yearly_of_the_last_five_years():
    first_of_2023, later_2023 = backup("y", 3 * 365 + 200), backup("z", 3 * 365 + 100)
    assert "yearly" in reason(first_of_2023, [later_2023])
    assert reason(later_2023, [first_of_2023]) is None


def test_old_enough_is_deletable():
    assert reason(backup("old", 6 * 365)) is None


def test_automatic_backups_never_by_hand():
    assert "retention" in reason(backup("auto", 1000, kind="automatic"))
