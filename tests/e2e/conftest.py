"""End-to-end fixtures: a copy of examples/ as a real git repository, and the CLI in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.conftest import EXAMPLES

AUTHOR = {"GIT_AUTHOR_NAME": "Ana Souza", "GIT_AUTHOR_EMAIL": "ana@acme.com.br",
          "GIT_COMMITTER_NAME": "Ana Souza", "GIT_COMMITTER_EMAIL": "ana@acme.com.br"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **AUTHOR}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    repo = tmp_path / "gitops"
    shutil.copytree(EXAMPLES, repo, ignore=shutil.ignore_patterns(".reconciler"))
    (repo / ".gitignore").write_text(".reconciler/\n")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "initial environments")
    return repo


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setenv("RECONCILER_RETRY_BASE", "0.01")
    monkeypatch.delenv("RECONCILER_SANDBOX_FAULTS", raising=False)
    monkeypatch.delenv("RECONCILER_ACTOR", raising=False)
    monkeypatch.delenv("RECONCILER_STATE", raising=False)


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return result
