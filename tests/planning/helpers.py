"""Typed environments for planning tests, built from the shared test documents."""

from __future__ import annotations

import copy
import datetime as dt

from reconciler.model.graph import Resource, ResourceGraph
from reconciler.model.spec import Environment
from reconciler.model.state import BackupRecord, RecordedEnvironment
from reconciler.planning.actions import Side
from tests.conftest import PROTHEUS

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
ARTIFACTS = {"artifacts/fix.ptm": "sha256:aaa"}


def doc(**spec) -> dict:
    data = copy.deepcopy(PROTHEUS)
    for key, value in spec.items():
        if value is None:
            data["spec"].pop(key, None)
        else:
            data["spec"][key] = value
    return data


def side(data: dict | None = None, artifacts=None, derived=None, **spec) -> Side:
    return Side(Environment.from_document(data or doc(**spec)), dict(ARTIFACTS if artifacts is None else artifacts),
                dict(derived or {}))


def graph(*resources: tuple[str, str, dict], stack="acme-protheus-prod", protect: set[str] = frozenset()) -> ResourceGraph:
    return ResourceGraph("erp-aws", stack, tuple(
        Resource(f"urn:pulumi:{stack}::erp-aws::{t}::{n}", t, n, inputs, protect=n in protect)
        for t, n, inputs in resources))


def recorded(data: dict, g: ResourceGraph, serial=1, artifacts=None, derived=None) -> RecordedEnvironment:
    meta, spec = data["metadata"], data["spec"]
    from reconciler.model.spec import spec_digest

    return RecordedEnvironment(meta["name"], meta["customer"], spec["product"], spec["type"], spec["cloud"], data,
                               None, spec_digest(Environment.from_document(data)), "sha256:old",
                               dict(ARTIFACTS if artifacts is None else artifacts), dict(derived or {}), "abc",
                               g, g.outputs, serial, NOW - dt.timedelta(days=1))


def backup(name: str, days_ago: float, kind="manual", env="acme-protheus-prod") -> BackupRecord:
    return BackupRecord(env, name, kind, "c", NOW - dt.timedelta(days=days_ago))
