"""``reconciler synth``: every example environment with its resources, deterministic."""

from __future__ import annotations

import json

from tests.conftest import EXAMPLES
from tests.e2e.conftest import cli


def test_synth_json_lists_every_example_with_its_resources():
    first = cli("synth", EXAMPLES, "--format", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    by_name = {e["name"]: e for e in data["environments"]}
    assert len(by_name) == 7
    assert by_name["acme-rm-prod"]["project"] == "erp-azure" and by_name["acme-rm-prod"]["stack"] == "acme-rm-prod"
    for env in data["environments"]:
        assert env["resources"], env["name"]
        assert all({"type", "name", "inputs"} <= set(r) for r in env["resources"])
    types = {r["type"] for r in by_name["acme-protheus-prod"]["resources"]}
    assert {"aws:ec2/instance:Instance", "aws:rds/instance:Instance", "aws:scheduler/schedule:Schedule",
            "aws:budgets/budget:Budget", "aws:route53/record:Record", "aws:backup/vault:Vault"} <= types
    assert cli("synth", EXAMPLES, "--format", "json").output == first.output  # same spec, same output


def test_synth_one_environment_text():
    result = cli("synth", EXAMPLES, "--env", "globex-protheus-prod")
    assert result.exit_code == 0 and "pulumi-python:dynamic/intera:Topology" in result.output
    assert "[protect]" in result.output
    assert cli("synth", EXAMPLES, "--env", "nope").exit_code == 2
