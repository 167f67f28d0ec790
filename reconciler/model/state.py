"""What the state store records of one environment after an apply (a frozen value)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.graph import ResourceGraph


@dataclass(frozen=True, slots=True)
class RecordedSummary:
    """The few columns planning reads for every environment (ten thousand of them, fast)."""

    name: str
    source_digest: str
    spec_digest: str
    serial: int
    type: str
    cloud: str


@dataclass(frozen=True)
class RecordedEnvironment:
    name: str
    customer: str
    product: str
    type: str
    cloud: str
    document: dict[str, Any]
    customer_document: dict[str, Any] | None
    spec_digest: str
    source_digest: str
    artifacts: dict[str, str]
    derived: dict[str, Any]
    revision: str | None
    graph: ResourceGraph
    outputs: dict[str, Any]
    serial: int
    applied_at: dt.datetime
    applied_by: str | None = None
    last_pipeline_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BackupRecord:
    environment: str
    name: str
    kind: str  # manual | automatic | pre-removal
    comment: str | None
    created_at: dt.datetime
    deleted_at: dt.datetime | None = None
