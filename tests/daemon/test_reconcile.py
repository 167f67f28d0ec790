"""The level-based reconcile pass against real git repositories and the sandbox engine."""

from __future__ import annotations

import json

from click.testing import CliRunner

from reconciler.cli import main
from reconciler.model.pipeline import PipelineStatus
from reconciler.store import controls, environments
from tests.daemon.conftest import (
    DEV,
    PROD,
    GitOpsRepo,
    clean_postgres,
    conditions,
    events,
    git,
    pipelines,
    reconcile,
    source_conditions,
)

DEV_FILE, PROD_FILE = "acme/protheus-dev.yaml", "globex/protheus-prod.yaml"


def test_applies_the_repository_then_only_what_a_new_commit_changed(gitops, make_daemon):
    daemon = make_daemon(gitops.root)
    first = gitops.head
    outcome = reconcile(daemon)
    assert outcome.result == "succeeded"
    assert outcome.statuses == {DEV: PipelineStatus.SUCCEEDED, PROD: PipelineStatus.SUCCEEDED}
    assert conditions(daemon, PROD)["Ready"]["status"] == "True"

    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    second = gitops.commit("globex: two instances")
    outcome = reconcile(daemon)

    assert outcome.result == "succeeded" and set(outcome.statuses) == {PROD}  # the DEV spec did not change
    assert [p.revision for p in pipelines(daemon, PROD)] == [first, second]
    assert environments.get(daemon.db, PROD).revision == second
    assert environments.get(daemon.db, DEV).revision == first
    status = daemon.status()
    assert status["source"]["lastAppliedRevision"] == second
    prod = next(e for e in status["environments"] if e["name"] == PROD)
    assert prod["lastAppliedRevision"] == prod["lastAttemptedRevision"] == second


def test_the_daemon_keeps_its_state_in_postgresql_too(gitops, make_daemon):
    daemon = make_daemon(gitops.root, state=clean_postgres())
    assert reconcile(daemon).result == "succeeded"
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    head = gitops.commit("two instances")
    assert reconcile(daemon).statuses == {PROD: PipelineStatus.SUCCEEDED}
    assert daemon.status()["source"]["baseRevision"] == environments.get(daemon.db, PROD).revision == head


def test_a_pass_without_a_new_commit_applies_nothing(gitops, make_daemon):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    outcome = reconcile(daemon)
    assert outcome.result == "noop" and outcome.statuses == {}
    assert len(pipelines(daemon)) == 2


def test_an_invalid_revision_applies_nothing_and_the_last_good_one_stays(gitops, make_daemon):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    good = gitops.head
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    gitops.edit(DEV_FILE, "power: running", "power: on")  # YAML 1.1 boolean: refused by the schema
    bad = gitops.commit("broken")

    outcome = reconcile(daemon)
    again = reconcile(daemon)

    assert outcome.result == again.result == "invalid"
    assert len(pipelines(daemon)) == 2  # neither the valid PROD change nor anything else ran
    assert environments.get(daemon.db, PROD).revision == good
    reported = events(daemon, "revision-invalid")
    assert len(reported) == 1 and reported[0]["detail"]["revision"] == bad  # once, not at every pass
    assert any("protheus-dev.yaml" in e for e in reported[0]["detail"]["errors"])
    stalled = source_conditions(daemon)["Stalled"]
    assert stalled["status"] == "True" and stalled["reason"] == "ValidationFailed"
    source = daemon.status()["source"]
    assert (source["lastAppliedRevision"], source["lastAttemptedRevision"]) == (good, bad)

    gitops.edit(DEV_FILE, "power: on", "power: running")
    fixed = gitops.commit("fixed")
    outcome = reconcile(daemon)
    assert outcome.result == "succeeded" and set(outcome.statuses) == {PROD}
    assert environments.get(daemon.db, PROD).revision == fixed
    assert source_conditions(daemon)["Ready"]["status"] == "True"


def test_a_force_push_that_rewrites_history_stops_applying_until_accepted(tmp_path, make_daemon):
    work = GitOpsRepo.from_examples(tmp_path / "work-tree")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work.root), str(remote))
    git(work.root, "remote", "add", "origin", str(remote))
    daemon = make_daemon(remote)  # a bare repository: a remote, fetched, not watched
    reconcile(daemon)
    work.edit(PROD_FILE, "instances: 1", "instances: 2")
    applied = work.commit("two instances")
    git(work.root, "push", "-q", "origin", "main")
    assert reconcile(daemon).result == "succeeded"

    git(work.root, "reset", "-q", "--hard", "HEAD~1")
    work.edit(PROD_FILE, "instances: 1", "instances: 3")
    rewritten = work.commit("three instances, history rewritten")
    git(work.root, "push", "-q", "--force", "origin", "main")
    outcome = reconcile(daemon)

    assert outcome.result == "rewritten"
    assert environments.get(daemon.db, PROD).revision == applied
    assert daemon.status()["source"]["baseRevision"] == applied
    assert [e["detail"]["revision"] for e in events(daemon, "history-rewritten")] == [rewritten]
    assert source_conditions(daemon)["Stalled"]["reason"] == "HistoryRewritten"
    daemon.close()

    accepted = make_daemon(remote, accept_revision=rewritten)
    assert reconcile(accepted).result == "succeeded"
    assert environments.get(accepted.db, PROD).revision == rewritten


def test_suspended_environments_are_left_alone_until_resumed(gitops, make_daemon, tmp_path):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    state = ["--path", str(gitops.root), "--state", daemon.settings.state]
    assert CliRunner().invoke(main, ["suspend", PROD, *state]).exit_code == 0
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    gitops.edit(DEV_FILE, "instances: 1", "instances: 2")
    gitops.commit("both change")

    outcome = reconcile(daemon)
    assert set(outcome.statuses) == {DEV}
    ready = conditions(daemon, PROD)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "Suspended")
    assert [e["environment"] for e in events(daemon, "environment-held")] == [PROD]

    assert CliRunner().invoke(main, ["resume", PROD, *state]).exit_code == 0
    outcome = reconcile(daemon)
    assert set(outcome.statuses) == {PROD}
    assert conditions(daemon, PROD)["Ready"]["status"] == "True"


def test_temporary_faults_back_off_then_succeed(gitops, make_daemon, monkeypatch):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    # each pipeline tries a step twice (RECONCILER_RETRY_ATTEMPTS); three failures outlast one pipeline
    monkeypatch.setenv("RECONCILER_SANDBOX_FAULTS", json.dumps(
        {"faults": [{"match": "resize", "environment": PROD, "times": 3, "error": "temporary"}]}))
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    gitops.commit("two instances")

    first = reconcile(daemon)
    assert first.result == "failed"
    reconciling = conditions(daemon, PROD)["Reconciling"]
    assert (reconciling["status"], reconciling["reason"]) == ("True", "ProgressingWithRetry")
    assert daemon.reconciler.backoff.attempts(PROD) == 1
    assert next(e for e in daemon.status()["environments"] if e["name"] == PROD)["nextRetrySeconds"] is not None

    second = daemon.step()  # no trigger: the step sleeps until the retry is due
    assert second.result == "succeeded" and second.statuses == {PROD: PipelineStatus.SUCCEEDED}
    assert [p.status for p in pipelines(daemon, PROD)][-2:] == [PipelineStatus.FAILED, PipelineStatus.SUCCEEDED]
    assert len(daemon.reconciler.backoff) == 0
    assert conditions(daemon, PROD)["Ready"]["status"] == "True"


def test_a_permanent_error_stalls_the_environment_until_its_spec_changes(gitops, make_daemon, monkeypatch):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    monkeypatch.setenv("RECONCILER_SANDBOX_FAULTS", json.dumps(
        {"faults": [{"match": "resize", "environment": PROD, "error": "permanent", "message": "quota exceeded"}]}))
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    gitops.commit("two instances")

    assert reconcile(daemon).result == "failed"
    control = controls.get(daemon.db, PROD)
    assert control.stalled_reason.startswith("EngineError: quota exceeded")
    stalled = conditions(daemon, PROD)["Stalled"]
    assert (stalled["status"], stalled["reason"]) == ("True", "EngineError")
    count = len(pipelines(daemon, PROD))
    assert reconcile(daemon).statuses == {}  # same spec: not tried again
    assert len(pipelines(daemon, PROD)) == count and len(daemon.reconciler.backoff) == 0

    gitops.edit(PROD_FILE, "instances: 2", "instances: 3")
    gitops.commit("three instances")
    outcome = reconcile(daemon)  # the fault fired its one time: this attempt goes through
    assert outcome.statuses == {PROD: PipelineStatus.SUCCEEDED}
    assert controls.get(daemon.db, PROD).stalled_reason is None
    assert [e["environment"] for e in events(daemon, "environment-unstalled")] == [PROD]
    assert conditions(daemon, PROD)["Stalled"]["status"] == "False"


def test_a_refused_destroy_holds_only_that_environment(gitops, make_daemon):
    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    gitops.remove(DEV_FILE)
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    gitops.commit("drop the DEV topology, grow PROD")

    outcome = reconcile(daemon)
    assert outcome.result == "refused" and outcome.statuses == {PROD: PipelineStatus.SUCCEEDED}
    assert environments.get(daemon.db, DEV) is not None  # allowDestroy is false in .reconciler.yaml
    stalled = conditions(daemon, DEV)["Stalled"]
    assert (stalled["status"], stalled["reason"]) == ("True", "PlanRefused")

    gitops.edit(".reconciler.yaml", "allowDestroy: false", "allowDestroy: true")
    gitops.commit("allow the removal")
    outcome = reconcile(daemon)
    assert outcome.statuses == {DEV: PipelineStatus.SUCCEEDED}
    assert environments.get(daemon.db, DEV) is None
    assert DEV not in {e["name"] for e in daemon.status()["environments"]}


def test_the_whole_examples_repository_is_applied(tmp_path, make_daemon):
    repo = GitOpsRepo.from_examples(tmp_path / "examples", files=None)
    daemon = make_daemon(repo.root)
    outcome = reconcile(daemon)
    assert outcome.result == "succeeded", outcome.message
    assert len(outcome.statuses) == 7 and all(s is PipelineStatus.SUCCEEDED for s in outcome.statuses.values())
    assert all(c["Ready"]["status"] == "True"
               for c in (conditions(daemon, e["name"]) for e in daemon.status()["environments"]))


def test_a_retry_the_pass_could_not_take_does_not_spin_the_loop(tmp_path, make_daemon, monkeypatch):
    work = GitOpsRepo.from_examples(tmp_path / "work-tree")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work.root), str(remote))
    daemon = make_daemon(remote)
    reconcile(daemon)
    monkeypatch.setenv("RECONCILER_SANDBOX_FAULTS", json.dumps(
        {"faults": [{"match": "resize", "environment": PROD, "times": 9, "error": "temporary"}]}))
    git(work.root, "remote", "add", "origin", str(remote))
    work.edit(PROD_FILE, "instances: 1", "instances: 2")
    work.commit("two instances")
    git(work.root, "push", "-q", "origin", "main")
    assert reconcile(daemon).result == "failed" and len(daemon.reconciler.backoff) == 1
    git(remote, "update-ref", "-d", "refs/heads/main")  # the source goes away

    assert daemon.step().result == "unavailable"  # the retry's pass

    assert daemon._seconds_to_next() > 1000  # the hour-long interval, not the (past) retry time
