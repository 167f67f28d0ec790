"""Real daemon processes (``python -m reconciler daemon``): a second one refused by the lease,
SIGTERM finishing the running steps and exiting 0, and a restart after kill -9 recovering."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from reconciler.daemon.lease import current
from reconciler.model.pipeline import PipelineStatus, StepStatus
from reconciler.store import environments, locks, open_database
from reconciler.store import pipelines as store
from tests.daemon.conftest import DEV, PROD, daemon_command, subprocess_env

SLOW = subprocess_env(RECONCILER_SANDBOX_DELAY="0.15")  # each resource takes a while: time to signal mid-apply


def wait_for(predicate: Callable[[], bool], what: str, limit: float = 90.0) -> None:
    """Poll until ``predicate`` holds (a bounded wait, not a measurement)."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def all_pipelines(db) -> list:
    return list(reversed(store.query(db, store.PipelineQuery(page_size=1000))[0]))


def running(db) -> bool:
    return any(p.status is PipelineStatus.RUNNING for p in all_pipelines(db))


@pytest.fixture
def state(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


def start(gitops, tmp_path: Path, state: str, env: dict) -> subprocess.Popen:
    log = (tmp_path / "daemon.log").open("w")
    command = daemon_command(gitops.root, tmp_path / "work", state, "--listen", "off", "--interval", "1h")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def run_once(gitops, tmp_path: Path, state: str, workdir: str = "work") -> subprocess.CompletedProcess:
    command = daemon_command(gitops.root, tmp_path / workdir, state, "--once")
    return subprocess.run(command, capture_output=True, text=True, env=subprocess_env(), timeout=120)


def test_sigterm_finishes_the_running_steps_and_exits_cleanly(gitops, tmp_path, state):
    daemon = start(gitops, tmp_path, state, SLOW)
    db = open_database(state)
    try:
        wait_for(lambda: running(db), "a pipeline to start")
        second = run_once(gitops, tmp_path, state, workdir="other-work")
        assert second.returncode == 1
        assert f"another daemon holds this state store: pid {daemon.pid}" in second.stderr

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        daemon.kill()
    statuses = [p.status for p in all_pipelines(db)]
    assert PipelineStatus.INTERRUPTED in statuses and PipelineStatus.RUNNING not in statuses
    assert locks.all_locks(db) == [] and current(db) is None  # locks and the lease released
    interrupted = store.get(db, next(p.id for p in all_pipelines(db) if p.status is PipelineStatus.INTERRUPTED))
    assert "SIGTERM" in interrupted.message
    steps = [s.status for s in interrupted.steps]
    assert StepStatus.SUCCEEDED in steps and StepStatus.FAILED not in steps  # the running step finished

    logged = [json.loads(line) for line in (tmp_path / "daemon.log").read_text().splitlines()]  # JSON lines only
    assert {"daemon-started", "pipeline-started", "stopping", "daemon-stopped"} <= {e["event"] for e in logged}
    assert next(e for e in logged if e["event"] == "stopping")["signal"] == "SIGTERM"

    assert run_once(gitops, tmp_path, state).returncode == 0  # the next start finishes the job
    assert {environments.get(db, n).revision for n in (DEV, PROD)} == {gitops.head}


def test_a_restart_after_kill_9_recovers_and_goes_on(gitops, tmp_path, state):
    daemon = start(gitops, tmp_path, state, SLOW)
    db = open_database(state)
    try:
        wait_for(lambda: running(db), "a pipeline to start")
    finally:
        daemon.kill()  # SIGKILL: no handler runs, nothing is released
        daemon.wait(timeout=30)
    left = [p for p in all_pipelines(db) if p.status is PipelineStatus.RUNNING]
    assert left and str(daemon.pid) in current(db).holder

    restarted = run_once(gitops, tmp_path, state)

    assert restarted.returncode == 0, restarted.stderr
    assert all(store.get(db, p.id).status is PipelineStatus.INTERRUPTED for p in left)
    assert any(e["kind"] == "lease-taken-over" for e in store.log_entries(db, limit=1000))
    assert {environments.get(db, n).revision for n in (DEV, PROD)} == {gitops.head}
    assert current(db) is None and locks.all_locks(db) == []
