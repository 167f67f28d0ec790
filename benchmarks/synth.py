"""Benchmark of offline synthesis: ms per environment (and per resource) for every example
environment, warm, in one process; and the speed-up of worker processes on many environments.

    python benchmarks/synth.py [--repeat 5] [--many 48]

The first synthesis in a process also pays the import of Pulumi and the provider SDKs; it is
printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--many", type=int, default=48, help="environments for the parallel comparison")
    args = parser.parse_args()

    from reconciler.spec.validate import validate
    from reconciler.synth import synthesize
    from reconciler.synth.inputs import stack_inputs
    from reconciler.synth.parallel import synthesize_many

    inputs = stack_inputs(validate([EXAMPLES], EXAMPLES, use_cache=False))
    start = time.perf_counter()
    synthesize(next(iter(inputs.values())))
    print(f"first synthesis in a process (imports included): {(time.perf_counter() - start) * 1e3:.0f} ms")
    totals = []
    print(f"{'environment':<22} {'cloud':<7} {'resources':>9} {'ms/env':>8} {'ms/resource':>12}")
    for name, inp in sorted(inputs.items()):
        synthesize(inp)  # warm this cloud's modules
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            graph = synthesize(inp)
            times.append(time.perf_counter() - start)
        ms = statistics.median(times) * 1e3
        totals.append(ms)
        print(f"{name:<22} {inp.environment.cloud:<7} {len(graph.resources):>9} {ms:>8.1f} "
              f"{ms / len(graph.resources):>12.2f}")
    print(f"median over the examples: {statistics.median(totals):.1f} ms per environment")

    many = {f"{name}-{i}": inp for i in range(args.many // len(inputs) + 1) for name, inp in inputs.items()}
    many = dict(list(many.items())[:args.many])
    start = time.perf_counter()
    synthesize_many(many, workers=1)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    synthesize_many(many)
    parallel = time.perf_counter() - start
    print(f"{len(many)} environments: one process {serial:.2f} s, worker processes {parallel:.2f} s "
          f"(ratio {serial / parallel:.2f}x)")


if __name__ == "__main__":
    main()
