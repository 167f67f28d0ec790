"""Watching a local source: a commit (a ref moving under ``.git``) or a saved file wakes the loop
at once instead of at the next interval.

Events are debounced by watchfiles (a commit touches several files within milliseconds; they
arrive as one batch). Inside the git directory only the refs matter (``refs/``, ``packed-refs``,
``HEAD``): object writes are noise. The state folder ``.reconciler/`` is ignored, or the daemon's
own writes to a store kept there would wake it forever.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import watchfiles

from reconciler.config import STATE_DIR
from reconciler.daemon.logging import fields
from reconciler.daemon.worker import BackgroundWorker

_GIT_TRIGGERS = ("refs", "packed-refs", "HEAD")


class SourceFilter(watchfiles.DefaultFilter):
    """watchfiles' default filter (editor swap files, caches), plus the git and state rules."""

    def __init__(self, root: Path, git_dir: Path):
        super().__init__()
        self.root, self.git_dir = root.resolve(), git_dir.resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        target = Path(path)
        if target.is_relative_to(self.git_dir):
            rel = target.relative_to(self.git_dir).parts
            return bool(rel) and rel[0] in _GIT_TRIGGERS
        if target.is_relative_to(self.root / STATE_DIR):
            return False
        return super().__call__(change, path)


class Watcher(BackgroundWorker):
    """A thread turning file events under ``root`` into calls of ``on_change(paths)``."""

    name = "watch"

    def __init__(self, root: Path, git_dir: Path, on_change: Callable[[list[str]], None], log: logging.Logger,
                 debounce_ms: int = 50):
        self.root, self.on_change, self.log = root, on_change, log
        self.filter = SourceFilter(root, git_dir)
        self.debounce_ms = debounce_ms
        super().__init__()

    def _run(self) -> None:
        try:
            # step: the quiet time that ends a batch; debounce: the longest a batch may grow
            for changes in watchfiles.watch(self.root, watch_filter=self.filter, step=self.debounce_ms,
                                            debounce=max(self.debounce_ms * 10, 500), stop_event=self._stop,
                                            rust_timeout=60_000, raise_interrupt=False):
                self.on_change(sorted(path for _, path in changes))
        except Exception as exc:  # the folder went away, inotify limits: the interval still fetches
            self.log.error("watch-stopped", extra=fields(root=str(self.root), error=f"{type(exc).__name__}: {exc}"))
