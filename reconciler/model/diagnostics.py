"""Diagnostics: one finding about the documents, with where it is and how to fix it.

A diagnostic carries its position twice: a JSON path inside its document (always known) and the
file, line and column (resolved lazily, because only files with findings need a
position-tracking parse).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Iterable

PathPart = str | int
JsonPath = tuple[PathPart, ...]


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding. ``line`` and ``column`` are 1-based; 0 means "not resolved yet"."""

    severity: Severity
    rule: str
    message: str
    hint: str = ""
    file: str = ""
    document: int = 0
    path: JsonPath = ()
    line: int = 0
    column: int = 0
    at_key: bool = False  # the finding is about the key at ``path``, not about its value

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def json_path(self) -> str:
        return format_json_path(self.path)

    def at(self, file: str, document: int) -> "Diagnostic":
        return replace(self, file=file, document=document)

    def located(self, line: int, column: int) -> "Diagnostic":
        return replace(self, line=line, column=column)

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.message)


def error(rule: str, message: str, path: JsonPath = (), hint: str = "") -> Diagnostic:
    return Diagnostic(Severity.ERROR, rule, message, hint, path=tuple(path))


def warning(rule: str, message: str, path: JsonPath = (), hint: str = "") -> Diagnostic:
    return Diagnostic(Severity.WARNING, rule, message, hint, path=tuple(path))


def format_json_path(path: Iterable[PathPart]) -> str:
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
