"""Rendering a plan: terminal text (Terraform's symbols), a pull-request comment in Markdown, and
versioned JSON. Views only format; the plan already holds every decision."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model.plan import EnvironmentChange, Op, Plan
from reconciler.views.style import Style

MARKER = "<!-- erp-gitops-reconciler:plan -->"
MARKDOWN_LIMIT = 65_000  # GitHub refuses comments over 65,536 characters
_OPERATION_WORDS = {Op.CREATE: "will be created", Op.UPDATE: "will be updated in place", Op.DELETE: "will be REMOVED",
                    Op.NOOP: "has no changes"}
_OP_STYLE = {Op.CREATE: "green", Op.UPDATE: "yellow", Op.REPLACE: "magenta", Op.DELETE: "red", Op.NOOP: "dim"}


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."


def actions_line(plan: Plan) -> str:
    s = plan.summary()
    cost = sum(1 for c in plan.changes for a in c.actions if a.cost_impact)
    return (f"Actions: {s['actions']} ({cost} impacting cost) in {s['environments']} environment"
            f"{'s' * (s['environments'] != 1)}; {plan.unchanged} unchanged.")


def _resource_line(change, style: Style) -> str:
    symbol = change.op.symbol
    detail = ""
    if change.op is Op.REPLACE:
        detail = f" ({', '.join(change.replace_keys)} forces replacement)"
    elif change.changed:
        detail = f" ({', '.join(change.changed)})"
    return style(f"{symbol:>3} {change.type} {change.name}", _OP_STYLE[change.op]) + detail


def _environment_text(change: EnvironmentChange, style: Style) -> list[str]:
    head = f"# {change.environment} ({change.cloud}) {_OPERATION_WORDS[change.operation]}"
    if change.after:
        head += f", after {', '.join(change.after)}"
    lines = [style(head, "bold")]
    for action in change.actions:
        cost = style("  [cost]", "cyan") if action.cost_impact else ""
        lines.append(f"    {action.kind}: {action.summary}{cost}")
    if change.resources:
        counts = change.counts()
        lines.append(f"  resources (+{counts['add']} ~{counts['change']} -{counts['destroy']}):")
        lines += ["  " + _resource_line(r, style) for r in change.resources]
    lines += [f"  note: {note}" for note in change.notes]
    return lines


def render_text(plan: Plan, style: Style) -> str:
    lines = [f"Reconciler plan for revision {plan.revision or '(not a git repository)'} (engine: {plan.engine})", ""]
    for change in plan.changes:
        if change.has_changes or change.notes:
            lines += _environment_text(change, style) + [""]
    if plan.refusals:
        lines.append(style("Refused:", "red", "bold"))
        lines += [style(f"  ! {reason}", "red") for reason in plan.refusals]
        lines.append("")
    if not plan.has_changes and not plan.refusals:
        lines.append(style("No changes. The environments match the specs.", "green"))
    lines.append(style(summary_line(plan), "bold"))
    lines.append(actions_line(plan))
    return "\n".join(lines)


def _markdown_details(change: EnvironmentChange) -> str:
    counts = change.counts()
    title = (f"<b>{change.environment}</b>: {change.operation.value} &middot; {len(change.actions)} action"
             f"{'s' * (len(change.actions) != 1)} &middot; +{counts['add']} ~{counts['change']} -{counts['destroy']}")
    body = [f"<details><summary>{title}</summary>", ""]
    if change.after:
        body.append(f"Runs after {', '.join(f'`{a}`' for a in change.after)}.\n")
    body += [f"- {'💲 ' if a.cost_impact else ''}**{a.kind}**: {_escape(a.summary)}" for a in change.actions]
    if change.resources:
        body += ["", "```diff"]
        for r in change.resources:
            sign = {"create": "+", "delete": "-", "replace": "!", "update": "~"}[r.op.value]
            extra = f" ({', '.join(r.replace_keys or r.changed)})" if (r.replace_keys or r.changed) else ""
            body.append(f"{sign} {r.op.symbol:>3} {r.type} {r.name}{extra}")
        body.append("```")
    body += [f"> {_escape(n)}" for n in change.notes]
    body += ["", "</details>", ""]
    return "\n".join(body)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(plan: Plan, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: summary first, a table, then details folded per environment. What
    does not fit under ``limit`` is left out, from the end, with a line that says so."""
    s = plan.summary()
    parts = [MARKER, f"### {'⛔ ' if plan.refusals else ''}Reconciler plan: {s['add']} to add, {s['change']} to "
                     f"change, {s['destroy']} to destroy", "",
             f"{actions_line(plan)} Revision `{(plan.revision or 'none')[:12]}`, engine `{plan.engine}`.", ""]
    if plan.refusals:
        parts += ["**Refused** (the plan cannot be applied):", ""] + [f"- ⛔ {_escape(r)}" for r in plan.refusals]
        parts.append("")
    changed = [c for c in plan.changes if c.has_changes or c.notes]
    if not changed:
        return "\n".join(parts + ["No changes: the environments match the specs."])
    budget = limit - 300  # room for the closing line
    text = "\n".join(parts + ["| Environment | Cloud | Operation | Actions | Resources | Cost |",
                              "|---|---|---|---|---|---|"])
    rows = [_markdown_row(c) for c in changed]
    shown = _fit(rows, budget - len(text))
    text += "\n" + "\n".join(rows[:shown]) + "\n"
    if shown < len(rows):
        return text + f"\n_{len(rows) - shown} more environments change; see the JSON plan for all of them._\n"
    blocks = [_markdown_details(c) for c in changed]
    fitted = _fit(blocks, budget - len(text))
    text += "\n" + "\n".join(blocks[:fitted])
    if fitted < len(blocks):
        text += f"\n_Details of the remaining {len(blocks) - fitted} environments are left out to fit a comment; " \
                "see the JSON plan._\n"
    return text


def _markdown_row(c: EnvironmentChange) -> str:
    n = c.counts()
    return (f"| `{c.environment}` | {c.cloud} | {c.operation.value} | {len(c.actions)} | "
            f"+{n['add']} ~{n['change']} -{n['destroy']} | {'💲' if c.cost_impact else ''} |")


def _fit(pieces: list[str], room: int) -> int:
    """How many of ``pieces`` (joined by newlines) fit in ``room`` characters."""
    used = 0
    for index, piece in enumerate(pieces):
        used += len(piece) + 1
        if used > room:
            return index
    return len(pieces)


def plan_data(plan: Plan, full: bool = False) -> dict[str, Any]:
    """The JSON form; without ``full``, the bulky desired documents and graphs are left out."""
    data = plan.to_data()
    if not full:
        for change in data["changes"]:
            change.pop("graph", None)
            change.pop("desired", None)
    return data


def render_json(plan: Plan) -> str:
    return json.dumps(plan_data(plan), indent=2, ensure_ascii=False)
