"""An engine decorator that remembers the last error each environment's engine calls raised.

A pipeline records a failure as a message; the daemon needs its *type* to choose between retrying
with backoff (``TemporaryError``) and stalling (``PermanentError``), as kopf decides by the
exception class. Tapping the engine port gets the type without parsing messages.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from reconciler.engines.base import Engine, StackJob


class ErrorTap:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.name = engine.name
        self._errors: dict[str, BaseException] = {}
        self._lock = threading.Lock()  # pipelines of several environments run in threads

    def last_error(self, environment: str) -> BaseException | None:
        with self._lock:
            return self._errors.get(environment)

    def _call(self, job: StackJob, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(job, *args)
        except Exception as exc:
            with self._lock:
                self._errors[job.environment] = exc
            raise

    def preview(self, job, on_event):
        return self._call(job, self.engine.preview, on_event)

    def up(self, job, on_event):
        return self._call(job, self.engine.up, on_event)

    def destroy(self, job, on_event):
        return self._call(job, self.engine.destroy, on_event)

    def refresh(self, job):
        return self._call(job, self.engine.refresh)

    def run_action(self, job, action):
        return self._call(job, self.engine.run_action, action)
