"""Fixtures of the daemon tests: a real git repository made from ``examples/``, daemons wired to
it in this process (driven one step at a time), and helpers to read the store."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from reconciler.daemon.logging import setup
from reconciler.daemon.service import Daemon
from reconciler.daemon.settings import DaemonSettings
from reconciler.store import pipelines as store

POSTGRES = os.environ.get("RECONCILER_TEST_POSTGRES_URL")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Two environments on two clouds keep each test to a second or so; one test runs all of examples/.
SUBSET = ("customers/acme.yaml", "customers/globex.yaml", "acme/protheus-dev.yaml", "globex/protheus-prod.yaml")
DEV, PROD = "acme-protheus-dev", "globex-protheus-prod"


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


class GitOpsRepo:
    """A GitOps repository with its own history, made in the test."""

    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def from_examples(cls, root: Path, files: tuple[str, ...] | None = SUBSET) -> GitOpsRepo:
        if files is None:
            shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".reconciler"))
        else:
            root.mkdir(parents=True)
            shutil.copy(EXAMPLES / ".reconciler.yaml", root)
            shutil.copytree(EXAMPLES / "artifacts", root / "artifacts")
            for rel in files:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(EXAMPLES / rel, root / rel)
        (root / ".gitignore").write_text(".reconciler/\n")
        git(root, "init", "-q", "-b", "main")
        for key, value in (("user.name", "Ana Operator"), ("user.email", "ana@acme.com.br"),
                           ("commit.gpgsign", "false")):
            git(root, "config", key, value)
        repo = cls(root)
        repo.commit("initial")
        return repo

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text)

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def commit(self, message: str, *extra: str, env: dict | None = None) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", *extra, "-m", message, env=env)
        return self.head

    @property
    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD")


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast retries, no faults or overrides leaking in from the shell running the tests."""
    for name in ("RECONCILER_SANDBOX_FAULTS", "RECONCILER_SANDBOX_DELAY", "RECONCILER_STATE", "RECONCILER_ENGINE",
                 "RECONCILER_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECONCILER_RETRY_BASE", "0.01")
    monkeypatch.setenv("RECONCILER_RETRY_CAP", "0.05")
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "2")


def clean_postgres() -> str:
    """The test PostgreSQL, emptied (skips without one)."""
    import sqlalchemy as sa

    from reconciler.store.tables import metadata

    if not POSTGRES:
        pytest.skip("set RECONCILER_TEST_POSTGRES_URL (.ci/run starts a throwaway PostgreSQL) to test it")
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return POSTGRES


@pytest.fixture
def gitops(tmp_path: Path) -> GitOpsRepo:
    return GitOpsRepo.from_examples(tmp_path / "repo")


@pytest.fixture
def make_daemon(tmp_path: Path) -> Callable[..., Daemon]:
    """Daemons wired to a source and opened (store, lease, recovery), not looping: the test drives
    them with ``step``. Closed at the end of the test."""
    opened: list[Daemon] = []

    def make(source: str | Path, **overrides) -> Daemon:
        values = dict(source=str(source), workdir=tmp_path / f"work{len(opened)}", listen=None, watch=False,
                      interval=3600.0, drift_interval=3600.0, state=f"sqlite:///{tmp_path / 'state.db'}",
                      warm_up=False)  # the warm-up freezes the heap: not in the test process
        values.update(overrides)
        daemon = Daemon(DaemonSettings(**values), setup("json", stream=io.StringIO()))
        daemon.open()
        opened.append(daemon)
        return daemon

    yield make
    for daemon in opened:
        daemon.close()


def reconcile(daemon: Daemon):
    """One pass now (as a trigger would ask)."""
    daemon.wake.request("test")
    return daemon.step()


def pipelines(daemon: Daemon, environment: str | None = None) -> list:
    """The pipelines run so far, oldest first."""
    query = store.PipelineQuery(environments=(environment,) if environment else (), page_size=1000)
    return list(reversed(store.query(daemon.db, query)[0]))


def events(daemon: Daemon, kind: str) -> list[dict]:
    """The events of one kind, oldest first."""
    return [e for e in reversed(store.log_entries(daemon.db, limit=5000)) if e["kind"] == kind]


def conditions(daemon: Daemon, environment: str) -> dict[str, dict]:
    document = daemon.status()
    env = next(e for e in document["environments"] if e["name"] == environment)
    return {c["type"]: c for c in env["conditions"]}


def source_conditions(daemon: Daemon) -> dict[str, dict]:
    return {c["type"]: c for c in daemon.status()["source"]["conditions"]}


def daemon_command(source: Path | str, workdir: Path, state: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "reconciler", "daemon", "--source", str(source), "--workdir", str(workdir),
            "--state", state, "--log-format", "json", *extra]


def subprocess_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") or k == "RECONCILER_CACHE_DIR"}
    env.update(RECONCILER_RETRY_BASE="0.01", RECONCILER_RETRY_ATTEMPTS="2", PYTHONPATH=str(ROOT), **values)
    return env
