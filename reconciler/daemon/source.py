"""The git source of the daemon: a clone of one branch in the work dir, fetched on each trigger.

The clone is ours (``<workdir>/checkout``): the daemon checks the fetched commit out there,
detached and clean, and plans from it, so a file being edited in the source's own work tree is
never applied; only commits on the branch are. The source may be a URL or a local path (then the
daemon also watches it, see ``watch``).

Safety checks on a fetched commit, both raising permanent errors (retrying the same commit cannot
help; a new commit can):

- ``HistoryRewritten``: the commit does not descend from the last one applied (a force-push);
- ``UnverifiedRevision``: signature checking is on and the commit is not signed by a key of the
  allowed keyring (``git verify-commit`` against a GnuPG home holding only those keys).

A source that cannot be reached raises ``SourceUnavailable`` (temporary: the next trigger tries
again).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import git

from reconciler.errors import PermanentError, TemporaryError


class SourceUnavailable(TemporaryError):
    """The source could not be cloned or fetched (network, missing branch, bad URL)."""


class HistoryRewritten(PermanentError):
    def __init__(self, message: str, base: str, head: str):
        super().__init__(message)
        self.base, self.head = base, head


class UnverifiedRevision(PermanentError):
    """The commit is not signed by an allowed key."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    summary: str

    @property
    def short(self) -> str:
        return self.sha[:12]


def local_path(url: str) -> Path | None:
    """The folder of a local source (a path or a file:// URL), else None."""
    text = url.removeprefix("file://")
    path = Path(text).expanduser()
    return path.resolve() if path.is_dir() else None


def local_worktree(url: str) -> Path | None:
    """The top of a local source's work tree (None for a remote or a bare repository)."""
    path = local_path(url)
    if path is None:
        return None
    try:
        tree = git.Repo(path).working_tree_dir
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return Path(tree).resolve() if tree else None


class GitSource:
    def __init__(self, url: str, branch: str, checkout: Path, keyring: Path | None = None,
                 gnupg_home: Path | None = None):
        self.url, self.branch, self.path = url, branch, checkout
        self.keyring = keyring
        self.gnupg_home = gnupg_home or checkout.parent / "gnupg"
        self.repo: git.Repo | None = None
        self.fetches = 0  # how many fetches ran (readiness, tests)
        self.last: Commit | None = None
        self._keys_loaded = False

    @property
    def remote_url(self) -> str:
        local = local_path(self.url)
        return str(local) if local else self.url

    # -- fetching ---------------------------------------------------------------------------
    def fetch(self) -> Commit:
        """Clone on first use, else fetch the branch; the commit at its tip."""
        try:
            repo = self._repository()
            repo.remote("origin").fetch(f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}")
            tip = repo.commit(f"refs/remotes/origin/{self.branch}")
        except (git.GitCommandError, git.BadName, ValueError) as exc:
            raise SourceUnavailable(f"cannot fetch branch {self.branch!r} of {self.url}: {_first_line(exc)}",
                                    delay=1.0) from exc
        self.fetches += 1
        self.last = Commit(tip.hexsha, f"{tip.author.name} <{tip.author.email}>", tip.summary)
        return self.last

    def _repository(self) -> git.Repo:
        if self.repo is None:
            self.repo = self._open_or_clone()
        return self.repo

    def _open_or_clone(self) -> git.Repo:
        if (self.path / ".git").exists():
            repo = git.Repo(self.path)
            if repo.remote("origin").url == self.remote_url:
                return repo
            repo.close()  # the work dir belonged to another source: start again
            shutil.rmtree(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return git.Repo.clone_from(self.remote_url, self.path, no_checkout=True)
        except git.GitCommandError as exc:
            shutil.rmtree(self.path, ignore_errors=True)
            raise SourceUnavailable(f"cannot clone {self.url}: {_first_line(exc)}", delay=1.0) from exc

    # -- checks -----------------------------------------------------------------------------
    def descends_from(self, base: str, head: str) -> bool:
        """True when ``head`` is ``base`` or one of its descendants. A base the clone does not know
        (history rewritten and the old commits gone) counts as not an ancestor."""
        if base == head:
            return True
        try:
            return self._repository().is_ancestor(base, head)
        except (git.GitCommandError, ValueError):
            return False

    def verify(self, sha: str) -> None:
        """Refuse ``sha`` unless a key of the allowed keyring signed it (no-op without a keyring)."""
        if self.keyring is None:
            return
        self._load_keys()
        repo = self._repository()
        try:
            with repo.git.custom_environment(GNUPGHOME=str(self.gnupg_home)):
                repo.git.verify_commit(sha)
        except git.GitCommandError as exc:
            detail = _first_line(exc) or "no signature"
            raise UnverifiedRevision(f"commit {sha[:12]} is not signed by a key of {self.keyring}: {detail}") from exc

    def _load_keys(self) -> None:
        """A GnuPG home holding only the allowed keys, built once per daemon (a key removed from the
        keyring file is gone after a restart)."""
        if self._keys_loaded:
            return
        shutil.rmtree(self.gnupg_home, ignore_errors=True)
        self.gnupg_home.mkdir(parents=True, mode=0o700)
        proc = subprocess.run(["gpg", "--batch", "--quiet", "--homedir", str(self.gnupg_home), "--import",
                               str(self.keyring)], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise UnverifiedRevision(f"cannot load the keyring {self.keyring}: {proc.stderr.strip()}")
        self._keys_loaded = True

    # -- the tree planned from ---------------------------------------------------------------
    def checkout(self, sha: str) -> Path:
        """The work tree at ``sha``, detached, with nothing left over from another commit."""
        repo = self._repository()
        repo.git.checkout("--force", "--detach", sha)
        repo.git.clean("-ffdx")
        return self.path

    def close(self) -> None:
        if self.repo is not None:
            self.repo.close()  # gitpython keeps `git cat-file` helpers running otherwise
            self.repo = None


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "stderr", None) or str(exc)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1].removeprefix("stderr: ").strip("' ") if lines else str(exc)
