"""Pipelines and steps: the record of an action run on one environment (the portal's "Eventos")."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


class StepStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class PipelineStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died or was stopped mid-way; retry resumes it

    @property
    def finished(self) -> bool:
        return self in (PipelineStatus.SUCCEEDED, PipelineStatus.FAILED, PipelineStatus.INTERRUPTED)


@dataclass(frozen=True)
class Step:
    seq: int
    name: str
    kind: str  # lock | backup | preview | resource | action | verify | unlock
    status: StepStatus
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    attempts: int = 0
    message: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pipeline:
    id: int
    environment: str
    action: str
    actions: tuple[str, ...]
    status: PipelineStatus
    revision: str | None
    login: str
    cost_impact: bool
    requested_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    message: str | None = None
    retry_of: int | None = None
    owner: str | None = None
    steps: tuple[Step, ...] = ()
    change: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)
