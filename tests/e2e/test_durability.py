"""Killing real apply processes: kill -9 leaves every pipeline finished or visibly interrupted
(after the next run), loses no record; SIGTERM stops cleanly with locks released."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from reconciler.config import load_config
from reconciler.model.pipeline import PipelineStatus
from reconciler.store import locks, open_database
from reconciler.store import pipelines as store
from tests.e2e.conftest import cli


def _start_apply(repo, delay="0.04"):
    env = {**os.environ, "RECONCILER_SANDBOX_DELAY": delay, "RECONCILER_RETRY_BASE": "0.01"}
    return subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(repo), "--auto-approve",
                             "--parallel", "3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def _wait_until_midway(repo, proc, timeout=120.0):
    db = open_database(load_config(repo).state_url())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode()
        try:
            running = [p for p in store.running(db) if p.status is PipelineStatus.RUNNING]
            if running:
                full = store.get(db, running[0].id)
                if sum(1 for s in full.steps if s.status.value == "succeeded") >= 4:
                    return db
        except Exception:  # the store may still be being created by the child
            pass
        time.sleep(0.05)
    raise AssertionError("the apply never got midway")


def test_kill_9_mid_apply_loses_nothing_and_the_next_apply_recovers(gitops):
    proc = _start_apply(gitops)
    db = _wait_until_midway(gitops, proc)
    proc.kill()
    proc.wait(timeout=10)
    left_running = [p.id for p in store.running(db)]
    assert left_running, "pipelines of the killed process are still marked running (not silently finished)"
    assert locks.all_locks(db), "its locks are still there"
    result = cli("apply", gitops, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "recovered pipeline" in result.output
    for pipeline_id in left_running:
        recovered = store.get(db, pipeline_id)
        assert recovered.status in (PipelineStatus.INTERRUPTED, PipelineStatus.SUCCEEDED)
        if recovered.status is PipelineStatus.INTERRUPTED:
            assert "died" in recovered.message
            assert not [s for s in recovered.steps if s.status.value == "running"]
    assert store.running(db) == [] and locks.all_locks(db) == []
    assert cli("plan", gitops, "--detailed-exitcode").exit_code == 0
    log = [e["description"] for e in store.log_entries(db, limit=5000)]
    assert sum("died before finishing" in line for line in log) == len(left_running)


def test_an_interrupted_pipeline_can_be_retried(gitops):
    proc = _start_apply(gitops)
    db = _wait_until_midway(gitops, proc)
    proc.kill()
    proc.wait(timeout=10)
    from reconciler.apply.recovery import recover_interrupted

    interrupted = recover_interrupted(db)
    assert interrupted
    result = cli("retry", str(interrupted[0]), "--path", gitops)
    assert result.exit_code == 0, result.output
    assert store.get(db, interrupted[0]).status is PipelineStatus.SUCCEEDED


def test_sigterm_finishes_the_step_and_stops_cleanly(gitops):
    proc = _start_apply(gitops, delay="0.03")
    db = _wait_until_midway(gitops, proc)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 1, output
    assert "SIGTERM: finishing the running step" in output
    assert store.running(db) == [], "no pipeline is left running after a clean stop"
    assert locks.all_locks(db) == [], "every lock was released"
    stopped = [p for p in store.query(db, store.PipelineQuery(page_size=50))[0]
               if p.status is PipelineStatus.INTERRUPTED]
    assert stopped and all("signal" in (p.message or "") or "SIGTERM" in (p.message or "") for p in stopped)
    assert json.loads(cli("events", "--path", gitops, "--format", "json", "--status", "interrupted").output)["total"]
