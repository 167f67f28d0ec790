"""A named background thread with a stop event: the shape of the daemon's helpers (lease keeper,
file watcher). Subclasses write ``_run`` and watch ``self._stop``."""

from __future__ import annotations

import threading


class BackgroundWorker:
    name = "worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
