"""Synthesising many environments: in this process for a few, in worker processes for many.

A worker pays about a second to import Pulumi and the provider SDKs, so processes pay only from
a few dozen environments on. Workers are spawned, not forked: the parent may already hold gRPC
and asyncio state that a fork would copy half-alive.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from typing import Mapping

from reconciler.model.graph import ResourceGraph
from reconciler.synth.mock_runtime import synthesize
from stacks.common.inputs import StackInput

PARALLEL_FROM = 60


def synthesize_many(inputs: Mapping[str, StackInput], workers: int | None = None) -> dict[str, ResourceGraph]:
    names = sorted(inputs)
    workers = workers if workers is not None else (min(os.cpu_count() or 1, 4) if len(names) >= PARALLEL_FROM else 1)
    if workers <= 1 or len(names) < 2:
        return {name: synthesize(inputs[name]) for name in names}
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        graphs = pool.map(synthesize, [inputs[n] for n in names], chunksize=max(1, len(names) // (workers * 4)))
        return dict(zip(names, graphs))
