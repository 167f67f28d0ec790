"""The plan's renderers against stored snapshots (set UPDATE_SNAPSHOTS=1 to rewrite them after an
intended change, then review the diff)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.model.plan import Action, EnvironmentChange, Op, Plan, ResourceChange
from reconciler.views import plan as view
from reconciler.views.style import Style

SNAPSHOTS = Path(__file__).parent / "snapshots"


def sample_plan() -> Plan:
    prod = EnvironmentChange(
        environment="acme-protheus-prod", cloud="aws", project="erp-aws", operation=Op.UPDATE,
        actions=(Action("exclusive-access-on", "exclusive access while the RPO changes", {"automatic": True}),
                 Action("patch-apply", "apply fix-fat-2410.ptm to 1 environment (P12)", {"environments": ["P12"]}),
                 Action("exclusive-access-off", "release exclusive access", {"automatic": True}),
                 Action("schedule-change", "new schedule: mon,tue 07:00-20:00 (America/Sao_Paulo)")),
        resources=(ResourceChange("urn:a", "aws:s3/bucketObjectv2:BucketObjectv2", "artifact-fix", Op.CREATE),
                   ResourceChange("urn:b", "aws:ssm/parameter:Parameter", "deployment", Op.UPDATE, ("value",)),
                   ResourceChange("urn:c", "aws:scheduler/schedule:Schedule", "power-start-1", Op.REPLACE,
                                  ("name", "scheduleExpression"), ("name",)),
                   ResourceChange("urn:d", "aws:s3/bucketObjectv2:BucketObjectv2", "artifact-old", Op.DELETE)),
        after=("acme-protheus-qa",), notes=("patch old.ptm left the spec: patches are not reverted",), state_serial=3)
    qa = EnvironmentChange(
        environment="acme-protheus-qa", cloud="aws", project="erp-aws", operation=Op.DELETE,
        actions=(Action("backup-before-remove", "back up acme-protheus-qa before removing it"),
                 Action("remove-topology", "remove QA topology acme-protheus-qa and all its data")),
        resources=(ResourceChange("urn:e", "aws:ec2/instance:Instance", "app-1", Op.DELETE),), state_serial=7)
    return Plan(revision="0123456789abcdef0123456789abcdef01234567", created_at="2026-12-04T12:00:00+00:00",
                changes=(prod, qa), refusals=("acme-rm-prod: a PROD topology is never removed (rule 4)",),
                allow_destroy=True, unchanged=5)


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"snapshot {name} was missing and has been written; review it and run again")
    assert text == path.read_text(encoding="utf-8")


def test_text():
    check("plan.txt", view.render_text(sample_plan(), Style(False)) + "\n")


def test_markdown():
    check("plan.md", view.render_markdown(sample_plan()) + "\n")


def test_json():
    check("plan.json", view.render_json(sample_plan()) + "\n")


def test_summary_line_is_terraforms():
    assert view.summary_line(sample_plan()) == "Plan: 2 to add, 1 to change, 3 to destroy."


def test_markdown_stays_under_the_comment_limit():
    big = sample_plan()
    many = tuple(EnvironmentChange(**{**big.changes[0].__dict__, "environment": f"env-{i:04d}"}) for i in range(2000))
    text = view.render_markdown(Plan(big.revision, big.created_at, many))
    assert len(text) < view.MARKDOWN_LIMIT and "see the JSON plan" in text and text.startswith(view.MARKER)


def test_json_is_versioned_and_complete():
    data = json.loads(view.render_json(sample_plan()))
    assert data["format_version"] == "1" and data["summary"] == {"add": 2, "change": 1, "destroy": 3, "actions": 6,
                                                                 "environments": 2}
    assert data["changes"][0]["actions"][0] == {"kind": "exclusive-access-on", "summary":
                                                "exclusive access while the RPO changes", "cost_impact": False,
                                                "details": {"automatic": True}}
