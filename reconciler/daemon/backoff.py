"""Capped exponential backoff per environment, across reconcile passes.

A pipeline already retries a temporary error within a step (``apply.retry``); when it still
fails, the environment waits here before the daemon plans and applies it again: the first wait
about ``base`` seconds, doubling up to ``cap`` (``RetryPolicy.delay``, full jitter). The wait
is tied to the environment's source digest: a new spec for it is tried at once, as Flux
reconciles a new revision without waiting for the retry interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from reconciler.apply.retry import RetryPolicy


@dataclass(frozen=True)
class Waiting:
    attempts: int
    due: float  # monotonic time of the next attempt
    digest: str | None  # the source digest that failed
    message: str


class Backoff:
    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic):
        self.policy, self.clock = policy, clock
        self._entries: dict[str, Waiting] = {}

    def failed(self, name: str, digest: str | None, message: str) -> float:
        """Record a failed attempt; the seconds until the next one."""
        attempts = self._entries[name].attempts + 1 if name in self._entries else 1
        delay = self.policy.delay(attempts)
        self._entries[name] = Waiting(attempts, self.clock() + delay, digest, message)
        return delay

    def forget(self, name: str) -> None:
        self._entries.pop(name, None)

    def retain(self, names: set[str]) -> None:
        """Keep only these environments' waits (the others succeeded, changed, or wait for another
        reason: a due wait nobody acts on would wake the loop again and again)."""
        for name in set(self._entries) - names:
            del self._entries[name]

    def blocking(self) -> dict[str, tuple[str | None, str]]:
        """Environments whose next attempt is not due yet: name -> (failed digest, message)."""
        now = self.clock()
        return {n: (w.digest, f"attempt {w.attempts} failed: {w.message}; next attempt in {w.due - now:.2f}s")
                for n, w in self._entries.items() if w.due > now}

    def next_due(self) -> float | None:
        return min((w.due for w in self._entries.values()), default=None)

    def retry_in(self) -> dict[str, float]:
        now = self.clock()
        return {n: max(0.0, w.due - now) for n, w in self._entries.items()}

    def attempts(self, name: str) -> int:
        return self._entries[name].attempts if name in self._entries else 0

    def __len__(self) -> int:
        return len(self._entries)
