"""``reconciler plan`` on the examples: every environment created on an empty state, exit codes,
the three renderers, and the saved plan."""

from __future__ import annotations

import json

from reconciler.views.plan import MARKER
from tests.e2e.conftest import cli

EXAMPLE_ENVIRONMENTS = {"acme-protheus-prod", "acme-protheus-qa", "acme-protheus-dev", "acme-fluig-prod",
                        "acme-fluig-dev", "acme-rm-prod", "globex-protheus-prod"}


def test_empty_state_plans_every_example_as_created(gitops):
    result = cli("plan", gitops, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    for name in EXAMPLE_ENVIRONMENTS:
        assert f"# {name} (" in result.output and "will be created" in result.output
    assert "Plan: " in result.output and " to add, 0 to change, 0 to destroy." in result.output
    assert cli("plan", gitops).exit_code == 0  # without --detailed-exitcode: 0 unless error


def test_json_plan(gitops):
    data = json.loads(cli("plan", gitops, "--format", "json").output)
    assert data["format_version"] == "1"
    assert {c["environment"] for c in data["changes"]} == EXAMPLE_ENVIRONMENTS
    for change in data["changes"]:
        assert change["operation"] == "create"
        assert all({"kind", "cost_impact"} <= set(a) for a in change["actions"])
        assert all({"type", "name", "op"} <= set(r) for r in change["resources"])
    assert set(data["summary"]) >= {"add", "change", "destroy"} and data["summary"]["add"] > 100
    prod = next(c for c in data["changes"] if c["environment"] == "acme-protheus-prod")
    assert prod["after"] == ["acme-protheus-qa"]  # the RPO promotion waits for its source
    assert any(r["type"] == "aws:ec2/instance:Instance" for r in prod["resources"])


def test_markdown_plan_is_a_sticky_pull_request_comment(gitops):
    text = cli("plan", gitops, "--format", "markdown").output
    assert text.startswith(MARKER) and "### Reconciler plan:" in text.splitlines()[1]
    assert text.count("<details>") == len(EXAMPLE_ENVIRONMENTS) and "| Environment |" in text
    assert len(text) < 65_000


def test_env_filter_and_unknown_env(gitops):
    data = json.loads(cli("plan", gitops, "--format", "json", "--env", "acme-rm-prod").output)
    assert [c["environment"] for c in data["changes"]] == ["acme-rm-prod"]
    assert cli("plan", gitops, "--env", "nope").exit_code == 2


def test_invalid_specs_exit_1_with_diagnostics(gitops):
    spec = gitops / "acme/protheus-dev.yaml"
    spec.write_text(spec.read_text().replace("power: running", "power: on"))
    result = cli("plan", gitops, "--detailed-exitcode")
    assert result.exit_code == 1 and "schema-enum" in result.output


def test_saved_plan_binds_revision_digests_and_serials(gitops, tmp_path):
    out = tmp_path / "plan.json"
    assert cli("plan", gitops, "--out", out).exit_code == 0
    data = json.loads(out.read_text())
    assert data["revision"] and len(data["revision"]) == 40
    for change in data["changes"]:
        assert change["source_digest"].startswith("sha256:") and change["state_serial"] == 0
        assert change["desired"]["environment"]["metadata"]["name"] == change["environment"]
        assert change["graph"]["resources"]
