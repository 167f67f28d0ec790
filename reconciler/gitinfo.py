"""What git says about the repository being reconciled: its revision and the commit's author.

Plain ``git`` subprocesses: a few milliseconds, and no import of gitpython on the hot path of
``plan`` (the daemon, which clones and fetches, uses gitpython).
"""

from __future__ import annotations

import getpass
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Revision:
    commit: str | None  # None outside a git work tree
    dirty: bool = False
    author: str | None = None

    @property
    def label(self) -> str | None:
        if self.commit is None:
            return None
        return self.commit + ("-dirty" if self.dirty else "")


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def revision_of(root: Path, paths: list[Path] | None = None) -> Revision:
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return Revision(None)
    scope = [str(p) for p in (paths or [root])]
    status = _git(root, "status", "--porcelain", "--untracked-files=normal", "--", *scope)
    author = _git(root, "log", "-1", "--format=%an <%ae>")
    return Revision(commit, bool(status), author)


def actor(explicit: str | None, revision: Revision | None = None) -> str:
    """Who acts: --actor, RECONCILER_ACTOR, the commit's author, else the OS user."""
    if explicit:
        return explicit
    if os.environ.get("RECONCILER_ACTOR"):
        return os.environ["RECONCILER_ACTOR"]
    if revision is not None and revision.author:
        return revision.author
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
