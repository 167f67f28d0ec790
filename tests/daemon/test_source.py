"""The git source: a local work tree watched, commit signatures checked against a keyring, and a
source that cannot be fetched."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from reconciler.model.pipeline import PipelineStatus
from reconciler.store import environments
from tests.daemon.conftest import PROD, events, git, reconcile, source_conditions

PROD_FILE = "globex/protheus-prod.yaml"


def test_a_commit_to_a_watched_work_tree_wakes_the_daemon(gitops, make_daemon):
    daemon = make_daemon(gitops.root, watch=True)
    reconcile(daemon)
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    head = gitops.commit("two instances")

    applied = None
    for _ in range(5):  # saving the file and committing may wake it twice; the interval is an hour
        outcome = daemon.step(max_wait=30)
        if outcome is not None and outcome.statuses:
            applied = outcome
            break
    assert applied is not None and applied.statuses == {PROD: PipelineStatus.SUCCEEDED}
    assert environments.get(daemon.db, PROD).revision == head
    assert 'reconciler_triggers_total{merged="false",origin="watch"}' in daemon.metrics.render().decode()


def test_the_state_folder_and_git_objects_do_not_wake_the_daemon(gitops, tmp_path):
    from watchfiles import Change

    from reconciler.daemon.watch import SourceFilter

    keep = SourceFilter(gitops.root, gitops.root / ".git")
    assert keep(Change.modified, str(gitops.root / ".git/refs/heads/main"))
    assert keep(Change.modified, str(gitops.root / PROD_FILE))
    assert not keep(Change.added, str(gitops.root / ".git/objects/ab/cdef"))
    assert not keep(Change.modified, str(gitops.root / ".reconciler/state.db-wal"))
    assert not keep(Change.added, str(gitops.root / "acme/.protheus-dev.yaml.swp"))


def gpg(home, *args: str) -> str:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", *args], capture_output=True, text=True,
                          check=True).stdout


def new_key(tmp_path, name: str) -> tuple[dict, str]:
    """A GnuPG home with one fresh signing key: (environment for git, fingerprint)."""
    home = tmp_path / f"gnupg-{name}"
    home.mkdir(mode=0o700)
    gpg(home, "--passphrase", "", "--quick-gen-key", f"{name} <{name}@acme.com.br>", "ed25519", "sign", "never")
    fingerprint = next(line.split(":")[9] for line in gpg(home, "--list-keys", "--with-colons").splitlines()
                       if line.startswith("fpr:"))
    return {**os.environ, "GNUPGHOME": str(home)}, fingerprint


@pytest.mark.skipif(shutil.which("gpg") is None, reason="needs gpg")
def test_only_commits_signed_by_an_allowed_key_are_applied(gitops, make_daemon, tmp_path):
    allowed_env, allowed = new_key(tmp_path, "release")
    other_env, other = new_key(tmp_path, "intruder")
    keyring = tmp_path / "allowed.asc"
    keyring.write_text(gpg(allowed_env["GNUPGHOME"], "--armor", "--export", allowed))
    gitops.edit(PROD_FILE, "instances: 1", "instances: 2")
    signed = gitops.commit("signed", f"-S{allowed}", env=allowed_env)
    daemon = make_daemon(gitops.root, keyring=keyring)

    assert reconcile(daemon).result == "succeeded"
    assert environments.get(daemon.db, PROD).revision == signed

    gitops.edit(PROD_FILE, "instances: 2", "instances: 3")
    foreign = gitops.commit("signed by a key not in the keyring", f"-S{other}", env=other_env)
    assert reconcile(daemon).result == "unverified"
    gitops.edit(PROD_FILE, "instances: 3", "instances: 4")
    unsigned = gitops.commit("not signed")
    assert reconcile(daemon).result == "unverified"

    assert environments.get(daemon.db, PROD).revision == signed
    assert [e["detail"]["revision"] for e in events(daemon, "revision-unverified")] == [foreign, unsigned]
    assert source_conditions(daemon)["Stalled"]["reason"] == "UnverifiedRevision"


def test_a_source_that_cannot_be_fetched_is_reported_and_tried_again(gitops, make_daemon, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(gitops.root), str(remote))
    daemon = make_daemon(remote, branch="release")  # no such branch (yet)

    assert reconcile(daemon).result == "unavailable"
    reconciling = source_conditions(daemon)["Reconciling"]
    assert (reconciling["status"], reconciling["reason"]) == ("True", "FetchFailed")
    assert len(events(daemon, "source-unavailable")) == 1

    git(remote, "branch", "release", "main")
    assert reconcile(daemon).result == "succeeded"
    assert source_conditions(daemon)["Ready"]["status"] == "True"


def test_the_warm_up_runs_one_recorded_environment_per_cloud_then_freezes_the_heap(gitops, make_daemon, monkeypatch):
    import logging

    from reconciler.daemon import warmup

    daemon = make_daemon(gitops.root)
    reconcile(daemon)
    clouds, frozen = [], []
    monkeypatch.setattr("reconciler.synth.mock_runtime.synthesize", lambda inp: clouds.append(inp.environment.cloud))
    monkeypatch.setattr("gc.freeze", lambda: frozen.append(True))

    warmup._warm(daemon.db, daemon.source.path, {}, logging.getLogger("test"))

    assert sorted(clouds) == ["aws", "intera"] and frozen == [True]
