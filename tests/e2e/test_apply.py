"""``reconciler apply`` end to end in the sandbox: pipelines with steps, no-op second run, stale
saved plans refused, faults retried, removals protected, locks, drift."""

from __future__ import annotations

import json

import pytest

from reconciler.config import load_config
from reconciler.store import environments, locks, open_database
from reconciler.store import pipelines as store
from tests.e2e.conftest import cli, commit_all, git


def db_of(repo):
    return open_database(load_config(repo).state_url())


def events(repo, *args):
    result = cli("events", "--path", repo, "--format", "json", "--since", "1d", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def applied(gitops):
    result = cli("apply", gitops, "--auto-approve")
    assert result.exit_code == 0, result.output
    return gitops


def test_apply_records_pipelines_with_steps_and_a_second_run_changes_nothing(applied):
    data = events(applied, "--page-size", "25")
    assert data["total"] == 7
    for row in data["pipelines"]:
        assert row["status"] == "succeeded" and row["login"] == "Ana Souza <ana@acme.com.br>"
        names = [s["name"] for s in row["steps"]]
        assert names[0] == "lock" and names[1] == "preview" and names[-2:] == ["verify", "unlock"]
        assert all(s["status"] == "succeeded" for s in row["steps"])
        assert {"id", "environment", "action", "requested_at", "started_at", "updated_at", "cost_impact"} <= set(row)
    again = cli("apply", applied, "--auto-approve")
    assert again.exit_code == 0 and "Nothing to apply." in again.output
    assert events(applied)["total"] == 7
    assert cli("plan", applied, "--detailed-exitcode").exit_code == 0


def test_state_records_revision_serial_and_graph(applied):
    db = db_of(applied)
    record = environments.get(db, "acme-protheus-prod")
    assert record.revision == git(applied, "rev-parse", "HEAD") and record.serial == 1
    assert any(r.type == "aws:rds/instance:Instance" and r.protect for r in record.graph.resources)
    assert record.artifacts == {"artifacts/patches/fix-fat-2410.ptm": record.artifacts[
        "artifacts/patches/fix-fat-2410.ptm"]}


def test_a_change_applies_only_what_moved(applied):
    spec = applied / "acme/protheus-dev.yaml"
    spec.write_text(spec.read_text().replace("instanceSize: small", "instanceSize: medium"))
    commit_all(applied, "bigger dev")
    plan = json.loads(cli("plan", applied, "--format", "json").output)
    assert [c["environment"] for c in plan["changes"] if c["actions"]] == ["acme-protheus-dev"]
    [change] = [c for c in plan["changes"] if c["actions"]]
    assert [a["kind"] for a in change["actions"]] == ["resize"] and change["actions"][0]["cost_impact"]
    assert {r["op"] for r in change["resources"]} == {"update"}
    assert cli("apply", applied, "--auto-approve").exit_code == 0
    latest = events(applied, "--env", "acme-protheus-dev")["pipelines"][0]
    assert latest["action"] == "change instances or size" and latest["cost_impact"] is True


def test_formatting_only_change_is_recorded_without_a_pipeline(applied):
    spec = applied / "acme/protheus-dev.yaml"
    spec.write_text("# reviewed by the DBA team\n" + spec.read_text().replace("instances: 1\n", "instances: 1  # one\n"))
    commit_all(applied, "comments")
    assert cli("plan", applied, "--detailed-exitcode").exit_code == 0
    result = cli("apply", applied, "--auto-approve")
    assert result.exit_code == 0 and events(applied)["total"] == 7
    assert environments.get(db_of(applied), "acme-protheus-dev").serial == 2  # new digest recorded


def test_stale_saved_plans_are_refused(applied, tmp_path):
    spec = applied / "acme/protheus-dev.yaml"
    spec.write_text(spec.read_text().replace("instanceSize: small", "instanceSize: medium"))
    commit_all(applied, "bigger dev")
    saved = tmp_path / "plan.json"
    assert cli("plan", applied, "--out", saved).exit_code == 0
    # 1. the repository moved on
    (applied / "NOTES.md").write_text("x")
    commit_all(applied, "docs")
    result = cli("apply", saved)
    assert result.exit_code == 1 and "stale" in result.output and "git revision" in result.output
    # 2. a fresh plan applies; then the state serial moves under the old one
    fresh = tmp_path / "fresh.json"
    assert cli("plan", applied, "--out", fresh).exit_code == 0
    assert cli("apply", fresh).exit_code == 0
    result = cli("apply", fresh)
    assert result.exit_code == 1 and "recorded state moved" in result.output


def test_saved_plan_refused_when_a_spec_changed_after_it(applied, tmp_path):
    spec = applied / "acme/protheus-dev.yaml"
    spec.write_text(spec.read_text().replace("instanceSize: small", "instanceSize: medium"))
    saved = tmp_path / "plan.json"
    assert cli("plan", applied, "--out", saved).exit_code == 0
    spec.write_text(spec.read_text().replace("instanceSize: medium", "instanceSize: large"))
    result = cli("apply", saved)
    assert result.exit_code == 1 and "acme-protheus-dev: its document" in result.output


def test_no_prompt_without_a_terminal(gitops):
    result = cli("apply", gitops)
    assert result.exit_code == 1 and "stdin is not a terminal" in result.output
    assert not (gitops / ".reconciler/state.db").exists() or events(gitops)["total"] == 0


def test_injected_fault_fails_one_step_and_retry_completes_it(gitops):
    fault = json.dumps({"faults": [{"match": "create aws:rds/instance:Instance *", "environment": "acme-fluig-prod",
                                    "error": "permanent", "message": "InsufficientDBInstanceCapacity"}]})
    result = cli("apply", gitops, "--auto-approve", env={"RECONCILER_SANDBOX_FAULTS": fault})
    assert result.exit_code == 1
    failed = events(gitops, "--status", "failed")["pipelines"]
    assert [p["environment"] for p in failed] == ["acme-fluig-prod"]
    assert failed[0]["failed_step"] == "create aws:rds/instance:Instance db"
    others = events(gitops, "--status", "succeeded", "--page-size", "10")["total"]
    assert others == 6  # the other environments still finished
    assert locks.all_locks(db_of(gitops)) == []  # released on the failure path too
    shown = cli("events", "--path", gitops, "show", str(failed[0]["id"]))
    assert "InsufficientDBInstanceCapacity" in shown.output and "reconciler retry" in shown.output
    retried = cli("retry", str(failed[0]["id"]), "--path", gitops, env={"RECONCILER_SANDBOX_FAULTS": fault})
    assert retried.exit_code == 0, retried.output
    row = json.loads(cli("events", "--path", gitops, "--format", "json", "show", str(failed[0]["id"])).output)
    assert row["status"] == "succeeded"
    db_step = next(s for s in row["steps"] if s["name"] == "create aws:rds/instance:Instance db")
    assert db_step["attempts"] == 2
    assert cli("plan", gitops, "--detailed-exitcode").exit_code == 0


def test_temporary_faults_retry_automatically(gitops):
    fault = json.dumps({"faults": [{"match": "patch-apply", "times": 2, "error": "temporary"}]})
    result = cli("apply", gitops, "--auto-approve", "--env", "acme-protheus-dev",
                 env={"RECONCILER_SANDBOX_FAULTS": fault})
    assert result.exit_code == 0 and result.output.count("step-retry") == 2
    step = next(s for s in events(gitops)["pipelines"][0]["steps"] if s["name"].startswith("patch-apply"))
    assert step["attempts"] == 3 and step["status"] == "succeeded"


def test_removing_qa_needs_allow_destroy_and_prod_never(applied):
    (applied / "acme/fluig-dev.yaml").unlink()
    commit_all(applied, "drop the fluig sandbox")
    refused = cli("plan", applied)
    assert refused.exit_code == 1 and "--allow-destroy" in refused.output
    result = cli("apply", applied, "--auto-approve", "--allow-destroy")
    assert result.exit_code == 0, result.output
    removal = events(applied, "--env", "acme-fluig-dev")["pipelines"][0]
    assert removal["action"] == "remove topology"
    assert [s["name"].split(":")[0] for s in removal["steps"]][:2] == ["lock", "backup-before-remove"]
    assert environments.get(db_of(applied), "acme-fluig-dev") is None
    from reconciler.engines.sandbox import cloud_graph

    assert cloud_graph(db_of(applied), "acme-fluig-dev").resources == ()
    (applied / "acme/rm-prod.yaml").unlink()
    result = cli("plan", applied, "--allow-destroy")
    assert result.exit_code == 1 and "PROD topology is never removed" in result.output


def test_a_locked_environment_waits_then_fails_with_the_holder(applied):
    db = db_of(applied)
    with db.transaction() as connection:
        lock_id = locks.try_acquire(connection, "acme-protheus-dev", "apply", "joao@acme", "abc", db.clock())
    spec = applied / "acme/protheus-dev.yaml"
    spec.write_text(spec.read_text().replace("instanceSize: small", "instanceSize: medium"))
    result = cli("apply", applied, "--auto-approve", "--lock-timeout", "0.3")
    assert result.exit_code == 1
    failed = events(applied, "--status", "failed")["pipelines"][0]
    assert failed["steps"][0]["status"] == "failed" and "joao@acme" in failed["steps"][0]["message"]
    assert lock_id in failed["steps"][0]["message"]
    unlocked = cli("unlock", lock_id, "--path", applied, "--actor", "ops")
    assert unlocked.exit_code == 0 and "joao@acme" in unlocked.output
    log = cli("events", "--path", applied, "--log", "--since", "1d").output
    assert f"lock {lock_id} released by hand by ops" in log
    assert cli("apply", applied, "--auto-approve").exit_code == 0


def test_drift_is_reported_and_remediated(applied):
    stopped = cli("sandbox", "stop", "acme-protheus-dev", "--path", applied)
    assert stopped.exit_code == 0
    report = cli("drift", applied, "--detailed-exitcode")
    assert report.exit_code == 2 and "state: \"running\" -> \"stopped\"" in report.output
    fixed = cli("drift", applied, "--remediate")
    assert fixed.exit_code == 0 and "Remediated 1 of 1" in fixed.output
    assert cli("drift", applied, "--detailed-exitcode").exit_code == 0


def test_schedule_driven_power_is_not_drift(applied):
    db = db_of(applied)
    from reconciler.engines.sandbox import OutOfBand, cloud_graph

    record = environments.get(db, "acme-rm-prod")
    variable = next(r for r in cloud_graph(db, "acme-rm-prod").resources if r.name == "power-desired-state")
    OutOfBand(db).set_input("acme-rm-prod", variable.urn, "value", '"stopped"')
    assert record.document["spec"]["power"] == "running"
    assert cli("drift", applied, "--detailed-exitcode", "--env", "acme-rm-prod").exit_code == 2
    from reconciler.planning.drift import find_drift

    actual = cloud_graph(db, "acme-rm-prod")
    assert find_drift(record.graph, actual, scheduled=True) == []


def test_status_is_the_cockpit(applied):
    data = json.loads(cli("status", "--path", applied, "--format", "json").output)
    rows = {r["name"]: r for r in data["environments"]}
    assert set(rows) >= {"acme-protheus-prod", "globex-protheus-prod"}
    assert rows["acme-rm-prod"]["status"] == "active" and rows["acme-rm-prod"]["instances"] == 2
    assert rows["acme-protheus-prod"]["status"].endswith("(scheduled)")
    assert rows["globex-protheus-prod"]["last_pipeline"].endswith("succeeded")


def test_events_filters_pages_and_formats(applied):
    assert events(applied, "--cost-only")["total"] == 7
    page = events(applied, "--page-size", "10", "--page", "1", "--sort", "action")
    assert [p["action"] for p in page["pipelines"]] == sorted(p["action"] for p in page["pipelines"])
    assert events(applied, "--env", "acme-rm-prod")["total"] == 1
    assert events(applied, "--since", "2000-01-01", "--until", "2000-01-02")["total"] == 0
    csv_text = cli("events", "--path", applied, "--format", "csv").output
    assert csv_text.splitlines()[0].startswith("id,environment,action,status,login")
    assert cli("events", "--path", applied, "--page-size", "11").exit_code == 2


def test_pipelines_survive_in_store_queries(applied):
    found, total = store.query(db_of(applied), store.PipelineQuery(page_size=50))
    assert total == 7 and all(p.steps for p in found)
