"""Retrying temporary errors with capped exponential backoff and full jitter."""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass
from typing import Callable, TypeVar

from reconciler.errors import TemporaryError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    base: float = 0.5  # seconds before the second try
    cap: float = 30.0  # never wait longer than this

    @classmethod
    def from_env(cls) -> "RetryPolicy":
        return cls(attempts=int(os.environ.get("RECONCILER_RETRY_ATTEMPTS", 5)),
                   base=float(os.environ.get("RECONCILER_RETRY_BASE", 0.5)),
                   cap=float(os.environ.get("RECONCILER_RETRY_CAP", 30.0)))

    def delay(self, attempt: int, hint: float = 0.0, rng: random.Random | None = None) -> float:
        """Wait before try ``attempt + 1`` (attempt counts from 1): full jitter up to the capped
        exponential, never less than the error's own hint (e.g. a Retry-After)."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return max(min(hint, self.cap), (rng or random).uniform(0, ceiling))


def call_with_retry(fn: Callable[[], T], policy: RetryPolicy, on_retry: Callable[[int, TemporaryError, float], None],
                    stop: threading.Event | None = None) -> T:
    attempt = 1
    while True:
        try:
            return fn()
        except TemporaryError as exc:
            if attempt >= policy.attempts:
                raise
            wait = policy.delay(attempt, exc.delay)
            on_retry(attempt, exc, wait)
            if stop is not None and stop.wait(wait):
                raise
            if stop is None:
                threading.Event().wait(wait)
            attempt += 1
