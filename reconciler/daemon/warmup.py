"""Paying the stack programs' first-run cost at start rather than on the first commit after it.

The first synthesis of a cloud's program in a process imports that provider's SDK modules and
primes Pulumi's runtime: about a second for AWS, several for Azure, against some 50 ms once warm.
A daemon that just started with nothing to apply would pay it on the first commit, and miss the
"applied within a second" goal there. So, once after the first pass, a background thread
synthesises one recorded environment per cloud and throws the graph away. It changes nothing,
and any failure only costs the warm-up (synthesis is serialised by the mock runtime's own lock,
so a commit arriving meanwhile waits at most what it would have paid anyway).

Then the objects alive (mostly the provider SDKs' modules: hundreds of MB for Azure) are frozen
out of the cyclic garbage collector (``gc.freeze``): they live as long as the process, and every
full collection would walk them again for nothing; so would the final one at exit, which made a
SIGTERM take two seconds after the daemon had already released everything.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from pathlib import Path

from reconciler.daemon.logging import fields
from reconciler.store import Database
from reconciler.store import environments as env_store


def start(db: Database, root: Path, settings: dict, log: logging.Logger) -> threading.Thread:
    thread = threading.Thread(target=_warm, args=(db, root, settings, log), name="warmup", daemon=True)
    thread.start()
    return thread


def _warm(db: Database, root: Path, settings: dict, log: logging.Logger) -> None:
    from reconciler.synth.mock_runtime import synthesize
    from stacks.common.inputs import StackInput

    one_per_cloud = {summary.cloud: name for name, summary in sorted(env_store.summaries(db).items())}
    for cloud, name in sorted(one_per_cloud.items()):
        started = time.monotonic()
        try:
            record = env_store.get(db, name)
            synthesize(StackInput.from_documents(record.document, record.customer_document,
                                                 artifacts=record.artifacts, repo_root=str(root),
                                                 settings=dict(settings.get(cloud, {}))))
        except Exception as exc:  # only an optimisation: never a reason to stop
            log.debug("warmup-failed", extra=fields(cloud=cloud, error=f"{type(exc).__name__}: {exc}"))
            continue
        log.debug("warmed-up", extra=fields(cloud=cloud, seconds=round(time.monotonic() - started, 3)))
    gc.collect()  # what is garbage now must not be frozen with the rest
    gc.freeze()
