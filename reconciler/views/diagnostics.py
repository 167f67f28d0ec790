"""Rendering validation results: compiler-style text, and versioned JSON for machines."""

from __future__ import annotations

import json
from typing import Iterable

from reconciler.model.diagnostics import Diagnostic
from reconciler.views.style import Style

JSON_FORMAT_VERSION = "1"


def counts(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    items = list(diagnostics)
    errors = sum(1 for d in items if d.is_error)
    return errors, len(items) - errors


def render_text(diagnostics: list[Diagnostic], files: int, documents: int, style: Style) -> str:
    lines = []
    for d in diagnostics:
        colour = "red" if d.is_error else "yellow"
        where = style(f"{d.file}:{d.line}:{d.column}:", "bold")
        lines.append(f"{where} {style(d.severity.value, colour, 'bold')}[{d.rule}]: {d.message}")
        lines.append(f"    at {d.json_path}" + (f"; hint: {d.hint}" if d.hint else ""))
    errors, warnings = counts(diagnostics)
    summary = (f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
               f"in {files} file{'s' * (files != 1)} ({documents} document{'s' * (documents != 1)})")
    lines.append(style(summary, "red" if errors else ("yellow" if warnings else "green")))
    return "\n".join(lines)


def diagnostic_data(d: Diagnostic) -> dict:
    return {"severity": d.severity.value, "file": d.file, "line": d.line, "column": d.column,
            "path": d.json_path, "rule": d.rule, "message": d.message, "hint": d.hint}


def render_json(diagnostics: list[Diagnostic], files: int, documents: int) -> str:
    errors, warnings = counts(diagnostics)
    return json.dumps({
        "format_version": JSON_FORMAT_VERSION,
        "valid": errors == 0,
        "summary": {"errors": errors, "warnings": warnings, "files": files, "documents": documents},
        "diagnostics": [diagnostic_data(d) for d in diagnostics],
    }, indent=2, ensure_ascii=False)
