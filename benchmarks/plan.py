"""Benchmark of ``plan`` on big repositories where one environment changed.

Builds repositories of 1,000 and 10,000 environments, records every environment as applied (the
state rows are written directly, as an apply would leave them; the changed environment also gets
its real synthesised graph), then changes one environment and times a warm plan (validation cache
warm, Pulumi imported). Cost must follow the change, not the repository: the ratio of the two
plan times should stay near 1, far from 10.

    python benchmarks/plan.py [--sizes 1000 10000] [--repeat 3]

Target (issue #4): 10,000 environments, one changed, under 1 s warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import environment_text, make_repo  # noqa: E402


def _record_all(repo: Path, db, config, changed_name: str) -> None:
    """Write the state an apply of every environment would leave (one transaction)."""
    from reconciler.model.graph import ResourceGraph
    from reconciler.planning import service
    from reconciler.spec.documents import read_documents
    from reconciler.spec.validate import validate
    from reconciler.store import environments
    from reconciler.synth import synthesize
    from reconciler.synth.inputs import stack_inputs

    result = validate([repo], repo)
    envs = {d.name: d for d in result.environments()}
    digests = service._SourceDigests(envs, {d.name: d for d in result.customers()}, result)
    data = read_documents(repo, envs.values())
    graph = synthesize(stack_inputs(result, [changed_name])[changed_name])
    now = dt.datetime.now(dt.timezone.utc)
    from reconciler.model.spec import Environment, spec_digest

    with db.transaction() as connection:
        for name, info in envs.items():
            document = data[info.file, info.index]
            values = environments.record_values(
                document=document, customer_document=None, spec_digest=spec_digest(Environment.from_document(document)),
                source_digest=digests.of(name), artifacts=digests.artifacts(name), derived={}, revision="bench",
                graph=graph if name == changed_name else ResourceGraph.empty("erp-aws", name), applied_by="bench",
                pipeline_id=None)
            environments.save(connection, name=name, expected_serial=0, values=values, applied_at=now)


def _time_plan(repo: Path, count: int, repeat: int) -> tuple[float, float, int]:
    from reconciler.config import load_config
    from reconciler.planning.service import plan_repository
    from reconciler.store import open_database

    files = make_repo(repo, count)
    config = load_config(repo)
    db = open_database(config.state_url())
    changed_index = count // 2
    changed_name = environment_text(changed_index)[1]
    _record_all(repo, db, config, changed_name)
    start = time.perf_counter()
    first = plan_repository([repo], config, db)
    cold = time.perf_counter() - start
    assert not first.plan.has_changes, "the recorded state should match the repository"
    times = []
    for round_ in range(repeat):
        files[changed_index].write_text(environment_text(changed_index, variant=round_ + 1)[2])
        start = time.perf_counter()
        result = plan_repository([repo], config, db)
        times.append(time.perf_counter() - start)
        changed = [c.environment for c in result.plan.changes if c.has_changes]
        assert changed == [changed_name], changed
    return cold, statistics.median(times), len(result.plan.changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from reconciler.synth import synthesize  # noqa: F401 - import Pulumi once, outside the timings

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RECONCILER_CACHE_DIR"] = str(Path(tmp) / "cache")
        for count in args.sizes:
            cold, warm, _ = _time_plan(Path(tmp) / f"repo-{count}", count, args.repeat)
            results[count] = warm
            print(f"{count:>6} environments: first plan (nothing changed) {cold:.2f} s | "
                  f"one changed, warm: {warm:.3f} s")
    if len(args.sizes) >= 2:
        small, big = min(args.sizes), max(args.sizes)
        print(f"ratio {big:,} vs {small:,} environments (one changed, warm): {results[big] / results[small]:.2f}x "
              f"for {big / small:.0f}x the repository   (target: 10,000 under 1 s)")


if __name__ == "__main__":
    main()
