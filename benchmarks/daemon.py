"""Benchmark of the reconcile daemon on a local copy of ``examples/``: the latency from a commit to
its pipeline starting and finishing, and the daemon's CPU use while idle.

    python benchmarks/daemon.py [--commits 8] [--idle 10] [--interval 60s]

A real daemon process watches the repository (``--listen off``, state in the repository's
``.reconciler/``). After it applied the seven environments and warmed up, each round commits a
change to one environment (resizing it, in turn) and reads the pipeline the daemon ran for that
commit from the store: ``started_at`` and ``finished_at`` minus the moment just before ``git
commit`` ran. Then the daemon is left alone for ``--idle`` seconds and its CPU time is read from
``/proc/<pid>/stat``. Last, it is stopped with SIGTERM and started again on the applied store,
and one more commit is timed (the case of a daemon that had nothing to apply since its start).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (file, text to toggle): environments whose size can change back and forth
TARGETS = (("acme/protheus-dev.yaml", "instances: 1", "instances: 2"),
           ("globex/protheus-prod.yaml", "instances: 1", "instances: 2"),
           ("acme/fluig-dev.yaml", "instances: 1", "instances: 2"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(where: Path) -> Path:
    repo = where / "gitops"
    shutil.copytree(ROOT / "examples", repo, ignore=shutil.ignore_patterns(".reconciler"))
    (repo / ".gitignore").write_text(".reconciler/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Bench")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def wait_for(predicate, limit: float = 300.0, poll: float = 0.02):
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(poll)


def pipeline_for(db, revision: str):
    """The finished pipeline of ``revision``, once there is one."""
    from reconciler.store import pipelines as store

    found, _ = store.query(db, store.PipelineQuery(page_size=20))
    done = [p for p in found if p.revision == revision and p.finished_at is not None]
    return done[0] if done else None


def all_applied(db, revision: str, count: int) -> bool:
    from reconciler.store import environments

    records = environments.all_recorded(db)
    return len(records) == count and all(r.revision == revision for r in records)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def commit_round(repo: Path, db, index: int) -> tuple[float, float, float]:
    rel, small, large = TARGETS[index % len(TARGETS)]
    path = repo / rel
    text = path.read_text()
    path.write_text(text.replace(small, large, 1) if small in text else text.replace(large, small, 1))
    git(repo, "add", "-A")
    before = dt.datetime.now(dt.timezone.utc)
    git(repo, "commit", "-qm", f"round {index}")
    pipeline = wait_for(lambda: pipeline_for(db, git(repo, "rev-parse", "HEAD")))
    return ((pipeline.requested_at - before).total_seconds(), (pipeline.started_at - before).total_seconds(),
            (pipeline.finished_at - before).total_seconds())


def start_daemon(repo: Path, interval: str, env: dict, log_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reconciler", "daemon", "--source", str(repo), "--listen", "off",
                             "--interval", interval, "--log-format", "json"],
                            stdout=log_path.open("w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def stop_daemon(daemon: subprocess.Popen) -> tuple[int, float]:
    began = time.perf_counter()
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(timeout=60), time.perf_counter() - began


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<22} median {statistics.median(values) * 1000:7.0f} ms   min {min(values) * 1000:7.0f} ms   "
            f"max {max(values) * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=8)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    parser.add_argument("--interval", default="60s", help="the daemon's fetch interval")
    args = parser.parse_args()
    from reconciler.store import open_database

    with tempfile.TemporaryDirectory(prefix="daemon-bench-") as tmp:
        repo = make_repo(Path(tmp))
        env = {**os.environ, "RECONCILER_CACHE_DIR": str(Path(tmp) / "cache")}
        started = time.perf_counter()
        daemon = start_daemon(repo, args.interval, env, Path(tmp) / "daemon.log")
        try:
            state = repo / ".reconciler" / "state.db"
            wait_for(state.exists)
            db = open_database(f"sqlite:///{state}")
            wait_for(lambda: all_applied(db, git(repo, "rev-parse", "HEAD"), 7))
            print(f"initial apply of 7 environments: {time.perf_counter() - started:.2f} s from process start")
            time.sleep(5)  # the warm-up after the first pass
            rounds = [commit_round(repo, db, i) for i in range(args.commits)]
            for i, (requested, begun, finished) in enumerate(rounds):
                print(f"commit {i + 1}: pipeline requested {requested * 1000:6.0f} ms, started {begun * 1000:6.0f} ms,"
                      f" finished {finished * 1000:6.0f} ms after the commit")
            print(summary("commit -> requested", [r[0] for r in rounds]))
            print(summary("commit -> started", [r[1] for r in rounds]))
            print(summary("commit -> finished", [r[2] for r in rounds]))
            time.sleep(2)
            before = cpu_seconds(daemon.pid)
            time.sleep(args.idle)
            used = cpu_seconds(daemon.pid) - before
            print(f"idle CPU: {used:.3f} s of CPU in {args.idle:.0f} s = {100 * used / args.idle:.2f} % of one core "
                  f"(interval {args.interval}, watching the work tree); RSS {rss_mb(daemon.pid):.0f} MB")
            code, took = stop_daemon(daemon)
            print(f"SIGTERM: exit code {code} after {took * 1000:.0f} ms")
            log = Path(tmp) / "restarted.log"
            daemon = start_daemon(repo, args.interval, env, log)
            wait_for(lambda: "reconcile-finished" in log.read_text())
            time.sleep(5)  # the warm-up after the first pass
            requested, begun, finished = commit_round(repo, db, args.commits)
            print(f"after a restart with nothing to apply: pipeline started {begun * 1000:.0f} ms, finished "
                  f"{finished * 1000:.0f} ms after the commit")
            stop_daemon(daemon)
        finally:
            if daemon.poll() is None:
                daemon.kill()


if __name__ == "__main__":
    main()
