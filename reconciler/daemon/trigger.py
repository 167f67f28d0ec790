"""The wake-up every trigger goes through: a commit seen by the watcher, a webhook, a signal.

Requests that arrive before the loop looks are merged: a burst of ten webhook deliveries while a
reconcile runs (or before the loop wakes) leads to one more reconcile, not ten. Since reconcile
is level-based (it reads the branch and the state again), nothing a trigger carried is lost by
merging.
"""

from __future__ import annotations

import threading
from collections import Counter


class Wakeup:
    def __init__(self) -> None:
        self._cond = threading.Condition()  # re-entrant: a signal handler may request while we hold it
        self._reasons: Counter[str] = Counter()
        self._closed = False

    def request(self, reason: str) -> bool:
        """Ask for a reconcile; True when it merged into one already pending."""
        with self._cond:
            merged = bool(self._reasons)
            self._reasons[reason] += 1
            self._cond.notify_all()
        return merged

    def wait(self, timeout: float | None) -> Counter[str]:
        """The requests pending (empty after ``timeout`` seconds without any), taken."""
        with self._cond:
            if not self._reasons and not self._closed:
                self._cond.wait(timeout)
            reasons, self._reasons = self._reasons, Counter()
        return reasons

    def close(self) -> None:
        """Wake the loop for good (shutting down): ``wait`` no longer blocks."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return sum(self._reasons.values())
