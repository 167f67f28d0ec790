"""Rendering pipelines (the portal's "Eventos" screen): a table, JSON rows, CSV, one pipeline's steps."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from reconciler.model.pipeline import Pipeline, StepStatus
from reconciler.views.style import Style

_STATUS_STYLE = {"succeeded": "green", "failed": "red", "interrupted": "red", "running": "cyan", "queued": "dim",
                 "skipped": "dim"}


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def pipeline_row(p: Pipeline) -> dict[str, Any]:
    failed = p.failed_step
    return {
        "id": p.id, "environment": p.environment, "action": p.action, "actions": list(p.actions),
        "status": p.status.value, "login": p.login, "revision": p.revision,
        "requested_at": p.requested_at.isoformat() if p.requested_at else None,
        "started_at": p.started_at.isoformat() if p.started_at else None,
        "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        "finished_at": p.finished_at.isoformat() if p.finished_at else None,
        "cost_impact": p.cost_impact, "message": p.message, "retry_of": p.retry_of,
        "failed_step": failed.name if failed else None,
        "steps": [{"seq": s.seq, "name": s.name, "kind": s.kind, "status": s.status.value, "message": s.message,
                   "attempts": s.attempts, "started_at": s.started_at.isoformat() if s.started_at else None,
                   "ended_at": s.ended_at.isoformat() if s.ended_at else None} for s in p.steps],
    }


def render_json(pipelines: list[Pipeline], total: int, page: int, page_size: int) -> str:
    return json.dumps({"format_version": "1", "total": total, "page": page, "page_size": page_size,
                       "pipelines": [pipeline_row(p) for p in pipelines]}, indent=2, ensure_ascii=False)


CSV_COLUMNS = ("id", "environment", "action", "status", "login", "requested_at", "started_at", "updated_at",
               "cost_impact", "failed_step", "message")


def render_csv(pipelines: list[Pipeline]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for p in pipelines:
        writer.writerow(pipeline_row(p))
    return out.getvalue()


def _progress(p: Pipeline) -> str:
    done = sum(1 for s in p.steps if s.status is StepStatus.SUCCEEDED)
    failed = p.failed_step
    text = f"{done}/{len(p.steps)}"
    return text + (f", failed at '{failed.name[:40]}'" if failed else "")


def render_text(pipelines: list[Pipeline], total: int, page: int, page_size: int, style: Style) -> str:
    if not pipelines:
        return "No pipelines match."
    rows = [("#", "requested", "environment", "action", "status", "steps", "login", "cost")]
    for p in pipelines:
        rows.append((str(p.id), _time(p.requested_at), p.environment, p.action[:44], p.status.value, _progress(p),
                     p.login[:28], "$" if p.cost_impact else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row, widths)]
        if index == 0:
            lines.append(style("  ".join(cells), "bold"))
        else:
            cells[4] = style(cells[4], _STATUS_STYLE.get(row[4], ""))
            lines.append("  ".join(cells).rstrip())
    pages = max(1, -(-total // page_size))
    lines.append(f"page {page} of {pages} ({total} pipelines)")
    return "\n".join(lines)


def render_pipeline(p: Pipeline, style: Style) -> str:
    lines = [style(f"Pipeline {p.id}: {p.action}", "bold"),
             f"  environment  {p.environment}", f"  status       {style(p.status.value, _STATUS_STYLE.get(p.status.value, ''))}",
             f"  login        {p.login}", f"  revision     {p.revision or '-'}",
             f"  requested    {_time(p.requested_at)}", f"  started      {_time(p.started_at)}",
             f"  last status  {_time(p.updated_at)}", f"  cost impact  {'yes' if p.cost_impact else 'no'}"]
    if p.retry_of:
        lines.append(f"  retry of     {p.retry_of}")
    if p.message:
        lines.append(f"  message      {p.message}")
    lines.append("  steps:")
    for step in p.steps:
        mark = {"succeeded": "✓", "failed": "✗", "skipped": "-", "running": "▶", "queued": "·"}[step.status.value]
        attempts = f" (attempts: {step.attempts})" if step.attempts > 1 else ""
        text = f"    {mark} {step.seq:>3} {step.name}{attempts}"
        lines.append(style(text, _STATUS_STYLE.get(step.status.value, "")))
        if step.message and step.status in (StepStatus.FAILED, StepStatus.RUNNING):
            lines.append(f"          {step.message}")
    failed = p.failed_step
    if failed:
        lines.append(style(f"  failed at step {failed.seq}: {failed.name}", "red"))
        lines.append(f"  retry it from there with: reconciler retry {p.id}")
    return "\n".join(lines)
