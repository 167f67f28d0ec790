"""Every exception of the reconciler, in one tree. The type decides what happens next.

ReconcilerError
├── PermanentError            retrying cannot help: stall, report, wait for a new spec
│   ├── ConfigError           .reconciler.yaml or an option is wrong
│   ├── SpecError             the documents do not validate (carries the diagnostics)
│   ├── PlanRefused           a protection refused the plan (PROD removal, mass destroy, ...)
│   ├── StalePlanError        a saved plan no longer matches revision, specs or state
│   ├── EngineError           the engine failed for a reason a retry will not fix
│   └── StateError            the state store is unusable (schema too new, corrupt row)
└── TemporaryError(delay)     retry later with backoff
    ├── LockError             another apply holds the environment's lock (carries the holder)
    └── EngineBusy            the cloud or engine is throttling, or a stack is locked

``InterruptedRun`` (a BaseException, like KeyboardInterrupt) marks a run stopped by a signal.
"""

from __future__ import annotations

from typing import Any


class ReconcilerError(Exception):
    """Base of every error the reconciler raises on purpose."""


class PermanentError(ReconcilerError):
    """Retrying will not help."""


class ConfigError(PermanentError):
    pass


class SpecError(PermanentError):
    def __init__(self, message: str, diagnostics: list | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


class PlanRefused(PermanentError):
    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.reasons = reasons or [message]


class StalePlanError(PermanentError):
    def __init__(self, message: str, moved: list[str] | None = None):
        super().__init__(message)
        self.moved = moved or []


class EngineError(PermanentError):
    pass


class StateError(PermanentError):
    pass


class TemporaryError(ReconcilerError):
    """Retry after ``delay`` seconds (a hint; the caller's backoff may wait longer)."""

    def __init__(self, message: str, delay: float = 1.0):
        super().__init__(message)
        self.delay = delay


class LockError(TemporaryError):
    def __init__(self, message: str, holder: Any = None, delay: float = 1.0):
        super().__init__(message, delay)
        self.holder = holder


class EngineBusy(TemporaryError):
    pass


class InterruptedRun(BaseException):
    """Raised inside a run when SIGINT or SIGTERM asks it to stop."""

    def __init__(self, signal_name: str = "SIGINT"):
        super().__init__(signal_name)
        self.signal_name = signal_name
