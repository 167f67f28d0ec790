"""Benchmark of ``apply`` in the sandbox: time per environment for the examples, and the cost of a
second apply that has nothing to do.

    python benchmarks/apply.py [--repeat 3]

Prints wall time of a whole apply of the seven example environments (fresh state each round),
the median pipeline duration per environment (from the recorded pipelines), its steps, and the
time of the no-op second apply.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _run(repo: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "reconciler", "apply", str(repo), "--auto-approve"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from reconciler.config import load_config
    from reconciler.store import open_database
    from reconciler.store import pipelines as store

    walls, durations, steps, noops = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RECONCILER_CACHE_DIR"] = str(Path(tmp) / "cache")
        for round_ in range(args.repeat):
            repo = Path(tmp) / f"repo-{round_}"
            shutil.copytree(ROOT / "examples", repo, ignore=shutil.ignore_patterns(".reconciler"))
            walls.append(_run(repo))
            noops.append(_run(repo))
            db = open_database(load_config(repo).state_url())
            pipelines, _ = store.query(db, store.PipelineQuery(page_size=50))
            durations += [(p.finished_at - p.started_at).total_seconds() for p in pipelines]
            steps += [len(p.steps) for p in pipelines]
    count = len(durations) // args.repeat
    wall = statistics.median(walls)
    print(f"apply of {count} example environments (fresh state, one CLI process, parallel 4): {wall:.2f} s wall, "
          f"{wall / count:.2f} s per environment")
    print(f"pipeline duration per environment: median {statistics.median(durations):.2f} s, "
          f"max {max(durations):.2f} s; {statistics.median(steps):.0f} steps per pipeline (median)")
    print(f"second apply (nothing to do): {statistics.median(noops):.2f} s")


if __name__ == "__main__":
    main()
