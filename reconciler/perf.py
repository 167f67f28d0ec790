"""Helpers for the hot paths (validation of thousands of files, synthesis of many resources)."""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a burst of many small, short-lived objects.

    Validation builds tens of thousands of acyclic summaries and the Pulumi SDKs build many
    objects per resource; the collector kept walking them all for nothing (it doubled a warm
    validate and tripled a synthesis). It runs again, as before, when the burst is over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
