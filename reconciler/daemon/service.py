"""The daemon's wiring: where its files go, the threads it runs, its timers, and a clean stop.

The main thread runs the loop: it sleeps on the wake-up until a trigger (watch, webhook, start)
or a timer (the fetch interval, the earliest retry, the next drift check) is due, then runs one
reconcile pass and, when due, one drift check. Other threads only *ask* for a pass: the HTTP
server, the watcher of a local source, and the lease keeper (which stops the daemon if the lease
is lost).

SIGTERM or SIGINT sets the stop event that the running pipelines watch (``RunContext.stop``): the
running steps finish, the pipelines end ``interrupted`` with their locks released, the lease is
released and the process exits 0. After a kill -9 nothing of that runs; the next start takes
the lease over from the dead process and ``recover_interrupted`` closes its pipelines, and the
first pass plans and applies what is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from reconciler.apply.recovery import recover_interrupted
from reconciler.config import RepoConfig, load_config
from reconciler.daemon import history, warmup
from reconciler.daemon import status as st
from reconciler.daemon.driftcheck import DriftChecker
from reconciler.daemon.http import Endpoints, Server
from reconciler.daemon.lease import Keeper, Lease
from reconciler.daemon.lease import current as current_lease
from reconciler.daemon.logging import fields, setup
from reconciler.daemon.loop import PassResult, Reconciler
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.settings import DaemonSettings
from reconciler.daemon.source import GitSource, local_worktree
from reconciler.daemon.trigger import Wakeup
from reconciler.daemon.watch import Watcher
from reconciler.errors import ConfigError, LockError
from reconciler.gitinfo import actor as resolve_actor
from reconciler.store import Database, open_database


def safe_url(url: str) -> str:
    """The store's URL for a log line: no password."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid URL>"


def default_workdir(source: str) -> Path:
    """Next to the state of a local work tree (``.reconciler/daemon``, as the CLI keeps its state
    there); for any other source, a folder per source under the user's state directory."""
    worktree = local_worktree(source)
    if worktree is not None:
        return worktree / ".reconciler" / "daemon"
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", source.rsplit("/", 1)[-1]).strip("-")[:40] or "source"
    return base / "erp-reconciler" / f"{slug}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"


class Daemon:
    def __init__(self, settings: DaemonSettings, log=None):
        self.settings = settings
        self.workdir = (settings.workdir or default_workdir(settings.source)).resolve()
        self.log = log or setup()
        self.stop, self.wake = threading.Event(), Wakeup()
        self.board, self.metrics = st.Board(), Metrics()
        self.source = GitSource(settings.source, settings.branch, self.workdir / "checkout", settings.keyring,
                                self.workdir / "gnupg")
        self.db: Database | None = None
        self.lease: Lease | None = None
        self.reconciler: Reconciler | None = None
        self.drift: DriftChecker | None = None
        self.http: Server | None = None
        self._threads: list[Any] = []
        self._workdir_lock: int | None = None
        self._last_pass = float("-inf")
        self._warmed = False  # the stack programs' first run paid (see warmup)
        self.lost_lease = False
        self.started_at = time.time()

    # -- start --------------------------------------------------------------------------------
    def open(self) -> None:
        """Everything before the first pass: the work dir, the store, the lease, recovery, the
        HTTP server and the watcher. LockError when another daemon holds the store."""
        self._lock_workdir()
        self.db = open_database(self._state_url())
        self.lease = Lease(self.db, self.settings.lease_ttl)
        previous = self.lease.acquire()
        recovered = recover_interrupted(self.db)
        if self.settings.accept_revision:
            history.record(self.db, self.settings.accept_revision, self.settings.branch,
                           resolve_actor(self.settings.actor), accepted=True)
        self.reconciler = Reconciler(self.source, self.db, board=self.board, metrics=self.metrics, log=self.log,
                                     stop=self.stop, engine=self.settings.engine, actor=self.settings.actor)
        self.drift = DriftChecker(self.db, self.settings.drift_interval, board=self.board, metrics=self.metrics,
                                  log=self.log, stop=self.stop)
        if not self.settings.once:
            self._start_threads()
        self.log.info("daemon-started", extra=fields(
            source=self.settings.source, branch=self.settings.branch, workdir=str(self.workdir),
            state=safe_url(self.db.url), pid=os.getpid(), recovered=recovered or None,
            lease_taken_over=previous.holder if previous else None))
        self.wake.request("start")

    def _start_threads(self) -> None:
        keeper = Keeper(self.lease, self._lease_lost, self.log)
        self._threads.append(keeper)
        if self.settings.listen is not None:
            self.http = Server(*self.settings.listen, self._endpoints())
            self._threads.append(self.http)
            host, port = self.http.address
            self.log.info("http-listening", extra=fields(host=host, port=port, url=f"http://{host}:{port}"))
        worktree = local_worktree(self.settings.source) if self.settings.watch else None
        if worktree is not None:
            self._threads.append(Watcher(worktree, worktree / ".git", self._watched, self.log,
                                         self.settings.debounce_ms))
        for thread in self._threads:
            thread.start()

    def _state_url(self) -> str:
        """--state, RECONCILER_STATE, the repository's ``state:``, else SQLite: for a local work tree
        the very store the CLI uses there (so ``reconciler suspend`` run in it reaches the daemon),
        for a remote one in the work dir."""
        if self.settings.state or os.environ.get("RECONCILER_STATE"):
            return RepoConfig(root=self.workdir).state_url(self.settings.state)
        worktree = local_worktree(self.settings.source)
        if worktree is not None:
            return load_config(worktree).state_url()
        try:
            config = load_config(self.source.checkout(self.source.fetch().sha))
        except Exception as exc:
            raise ConfigError(f"cannot read the source's configuration to find the state store ({exc}); "
                              "pass --state to start without it") from exc
        return RepoConfig(root=self.workdir, state=config.state).state_url()

    def _lock_workdir(self) -> None:
        """Two daemons on one work dir would check out over each other: refuse the second."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.workdir / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.read(fd, 100).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LockError(f"another daemon (pid {holder}) uses the work dir {self.workdir}") from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._workdir_lock = fd

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> int:
        """Start, loop until stopped, stop cleanly. The exit code: 0, or 1 (lease lost, --once failed)."""
        with self._signals():
            try:
                self.open()
                if self.settings.once:
                    return self.run_once()
                while not self.stop.is_set():
                    self.step()
                return 1 if self.lost_lease else 0
            finally:
                self.close()

    def run_once(self) -> int:
        self.wake.wait(0)
        outcome = self._pass(Counter(once=1))
        if outcome.ok and not self.stop.is_set():
            self._drift_check()
        return 0 if outcome.ok else 1

    def step(self, max_wait: float | None = None) -> PassResult | None:
        """Sleep until a trigger or a timer is due (at most ``max_wait`` seconds), then run what is due."""
        wait = self._seconds_to_next()
        reasons = self.wake.wait(wait if max_wait is None else min(wait, max_wait))
        if self.stop.is_set():
            return None
        now = time.monotonic()
        if now - self._last_pass >= self.settings.interval:
            reasons["interval"] += 1
        due = self._retry_due()
        if due is not None and due <= now:
            reasons["retry"] += 1
        outcome = self._pass(reasons) if reasons else None
        if not self.stop.is_set():
            self._drift_check()
        return outcome

    def _pass(self, reasons: Counter) -> PassResult:
        self._last_pass = time.monotonic()
        outcome = self.reconciler.run(reasons)
        if not self._warmed and self.settings.warm_up and not self.settings.once and self.reconciler.config is not None:
            self._warmed = True
            warmup.start(self.db, self.source.path, (self.reconciler.config.pulumi or {}).get("settings", {}),
                         self.log)
        return outcome

    def _retry_due(self) -> float | None:
        """When the earliest retry falls due, if that is after the last pass began: a retry due
        earlier was for that pass to take, and if it could not (the source was unreachable, say),
        waking again at once would spin; the next trigger or interval takes it."""
        due = self.reconciler.backoff.next_due()
        return due if due is not None and due > self._last_pass else None

    def _seconds_to_next(self) -> float:
        now = time.monotonic()
        waits = [self._last_pass + self.settings.interval - now]
        due = self._retry_due()
        if due is not None:
            waits.append(due - now)
        try:
            drift = self.drift.seconds_to_next()
        except Exception:  # the store is down: the interval brings the next look
            drift = None
        if drift is not None:
            waits.append(drift)
        return max(0.0, min(waits))

    def _drift_check(self) -> None:
        config = self.reconciler.config
        if config is None:
            return  # no revision planned yet: nothing is known to be settled
        try:
            self.drift.run(config, config.engine_name(self.settings.engine),
                           resolve_actor(self.settings.actor or config.actor), self.reconciler.progress)
        except Exception as exc:  # like a pass: reported, and the daemon goes on
            self.log.exception("drift-check-error", extra=fields(error=f"{type(exc).__name__}: {exc}"))

    # -- triggers from other threads ------------------------------------------------------------
    def _watched(self, paths: list[str]) -> None:
        merged = self.wake.request("watch")
        self.metrics.triggers.labels("watch", str(merged).lower()).inc()
        self.log.debug("source-changed", extra=fields(paths=paths[:10], merged=merged))

    def _hooked(self) -> bool:
        merged = self.wake.request("webhook")
        self.metrics.triggers.labels("webhook", str(merged).lower()).inc()
        return merged

    def _lease_lost(self, why: str) -> None:
        self.log.error("lease-lost", extra=fields(error=why))
        self.lost_lease = True
        self.stop.set()
        self.wake.close()

    # -- HTTP -------------------------------------------------------------------------------------
    def _endpoints(self) -> Endpoints:
        return Endpoints(health=self._health, readiness=self._readiness,
                         metrics=lambda: (self.metrics.render(), self.metrics.content_type), status=self.status,
                         hook=self._hooked, count_hook=lambda code: self.metrics.webhooks.labels(str(int(code))).inc(),
                         webhook_secret=self.settings.webhook_secret, body_limit=self.settings.webhook_body_limit,
                         log=self.log)

    def _health(self) -> tuple[bool, dict[str, Any]]:
        alive = not self.stop.is_set()
        return alive, {"status": "ok" if alive else "stopping", "passes": self.reconciler.passes}

    def _readiness(self) -> tuple[bool, dict[str, Any]]:
        checks = {"source_fetched": self.source.fetches > 0, "store_reachable": self.db.ping(),
                  "lease_held": bool(self.lease and self.lease.held)}
        return all(checks.values()), {"ready": all(checks.values()), **checks}

    def status(self) -> dict[str, Any]:
        lease = current_lease(self.db)
        extra = {"daemon": {"pid": os.getpid(), "source": self.settings.source, "branch": self.settings.branch,
                            "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at)),
                            "passes": self.reconciler.passes,
                            "lease": {"holder": lease.holder, "expiresAt": lease.expires_at.isoformat()}
                            if lease else None}}
        document = st.document(self.board, self.db, self.reconciler.backoff.retry_in(), extra)
        document["source"]["baseRevision"] = history.base(self.db)  # what a new tip must descend from
        return document

    # -- stop -------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """First SIGTERM/SIGINT: finish the running steps, then stop; a second SIGINT: at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum, frame):
            if self.stop.is_set() and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.stop.set()
            self.wake.close()
            self.log.info("stopping", extra=fields(signal=signal.Signals(signum).name))

        previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def close(self) -> None:
        self.stop.set()
        self.wake.close()
        for thread in reversed(self._threads):
            thread.stop()
        self._threads.clear()
        if self.lease is not None:
            self.lease.release()
        self.source.close()
        if self.db is not None:
            self.db.dispose()
        if self._workdir_lock is not None:
            os.close(self._workdir_lock)
            self._workdir_lock = None
        self.log.info("daemon-stopped", extra=fields(passes=self.reconciler.passes if self.reconciler else 0))
