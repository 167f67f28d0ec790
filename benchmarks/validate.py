"""Benchmark of ``reconciler validate`` on a generated repository.

Prints: the cold full validate (no cache), a warm re-validate (nothing changed), a re-validate
after one file changed, the peak RSS of each, and the ratio to merely parsing the same files with
PyYAML's C loader. Each figure is measured twice: in-process (the library call, as the daemon or
an editor integration makes it) and as a fresh CLI process (what CI pays, imports included).

    python benchmarks/validate.py [--count 10000] [--repeat 3]

Targets (issue #2, 2-core machine): cold under 3 s, re-validate after one change under 0.3 s,
under 300 MB RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.generate import environment_text, make_repo  # noqa: E402


def _cli(repo: Path, *extra: str) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one CLI run in a fresh process."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "reconciler", "validate", str(repo), *extra],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"validate failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def _touch_one(files: list[Path], round_: int) -> None:
    """Change one spec for real (its cost alert), as an edit in a pull request would."""
    target = files[len(files) // 2]
    _, _, text = environment_text(len(files) // 2, variant=round_ + 1)
    target.write_text(text)


def _pyyaml_parse(files: list[Path]) -> float:
    import yaml

    start = time.perf_counter()
    for path in files:
        list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))
    return time.perf_counter() - start


def _in_process(repo: Path, files: list[Path], repeat: int) -> dict[str, float]:
    from reconciler.spec.validate import validate

    cold, warm, changed = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        validate([repo], repo, use_cache=False)
        cold.append(time.perf_counter() - start)
    validate([repo], repo)  # fill the cache
    for round_ in range(repeat):
        start = time.perf_counter()
        validate([repo], repo)
        warm.append(time.perf_counter() - start)
        _touch_one(files, round_)
        start = time.perf_counter()
        result = validate([repo], repo)
        changed.append(time.perf_counter() - start)
        assert result.valid and result.stats["parsed"] == 1, result.stats
    return {"cold": statistics.median(cold), "warm": statistics.median(warm), "changed": statistics.median(changed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["RECONCILER_CACHE_DIR"] = str(Path(tmp) / "cache")
        repo = Path(tmp) / "repo"
        files = make_repo(repo, args.count)
        all_files = sorted(p for p in repo.rglob("*.yaml") if not p.name.startswith("."))
        print(f"repository: {args.count:,} environments, {len(all_files):,} files, "
              f"{sum(p.stat().st_size for p in all_files) / 1e6:.1f} MB")

        parse = _pyyaml_parse(all_files)
        print(f"baseline  PyYAML CSafeLoader parse only: {parse:.2f} s ({parse / len(all_files) * 1e3:.3f} ms/file)")

        cli_cold, rss_cold = _cli(repo, "--no-cache")
        _cli(repo)  # fill the cache
        cli_warm, rss_warm = _cli(repo)
        _touch_one(files, 99)
        cli_changed, rss_changed = _cli(repo)
        inproc = _in_process(repo, files, args.repeat)

        print(f"cold full validate       in-process {inproc['cold']:.2f} s | CLI {cli_cold:.2f} s "
              f"| ratio to PyYAML parse {inproc['cold'] / parse:.2f}x   (target < 3 s)")
        print(f"warm re-validate         in-process {inproc['warm']:.3f} s | CLI {cli_warm:.3f} s")
        print(f"after one file changed   in-process {inproc['changed']:.3f} s | CLI {cli_changed:.3f} s "
              f"  (target < 0.3 s)")
        print(f"peak RSS (CLI)           cold {rss_cold / 1024:.0f} MB | warm {rss_warm / 1024:.0f} MB | "
              f"changed {rss_changed / 1024:.0f} MB   (target < 300 MB; the cold run's pool workers are "
              f"counted separately by the OS, each below this peak)")
        print(f"per file (cold, in-process): {inproc['cold'] / len(all_files) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
