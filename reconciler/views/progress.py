"""Apply progress: a live table on a terminal (rich), one line per event otherwise (CI logs)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import TextIO

from reconciler.model.pipeline import Step


class LineProgress:
    """``<time> <environment> #<pipeline> <event> <step>: <message>``, one per line."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, environment: str, pipeline: int, event: str, step: Step | None, message: str) -> None:
        now = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S")
        name = f" {step.name}" if step else ""
        text = f"{now} {environment} #{pipeline} {event}{name}" + (f": {message}" if message else "")
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        return None


class LiveProgress:
    """A table refreshed in place: each environment's pipeline, current step and status."""

    def __init__(self, stream: TextIO):
        from rich.console import Console

        self.console = Console(file=stream)
        self.rows: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.live = None

    def _table(self):
        from rich.table import Table

        table = Table(show_edge=False, header_style="bold")
        for column in ("environment", "pipeline", "status", "step"):
            table.add_column(column)
        for name in sorted(self.rows):
            table.add_row(name, *self.rows[name])
        return table

    def __call__(self, environment: str, pipeline: int, event: str, step: Step | None, message: str) -> None:
        status = event.replace("pipeline-", "").replace("step-", "")
        colour = {"succeeded": "green", "failed": "red", "interrupted": "red", "retry": "yellow"}.get(status, "cyan")
        with self.lock:
            self.rows[environment] = [f"#{pipeline}", f"[{colour}]{status}[/]",
                                      (step.name if step else message)[:90]]
            if self.live is not None:
                self.live.update(self._table())

    def __enter__(self) -> "LiveProgress":
        from rich.live import Live

        self.live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.update(self._table())
            self.live.__exit__(*exc)
            self.live = None
