"""``reconciler events``: the portal's Eventos screen (pipelines, filters, pages, one pipeline's steps,
the actions that impact cost, and the informational log)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.common import color_option, echo, open_store, resolve_repo, root_option, state_option
from reconciler.views.style import Style, wants_color

_RELATIVE = re.compile(r"^(\d+)([dhm])$")
STATUSES = ("queued", "running", "succeeded", "failed", "interrupted")


def parse_when(value: str | None, now: dt.datetime, end_of_day: bool = False) -> dt.datetime | None:
    """7d, 15d, 12h, 30m (ago) or an ISO date/time (UTC unless it says otherwise)."""
    if not value:
        return None
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - {"d": dt.timedelta(days=amount), "h": dt.timedelta(hours=amount),
                      "m": dt.timedelta(minutes=amount)}[unit]
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: write 7d, 15d, 12h, or a date such as 2026-12-01") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    if end_of_day and len(value) == 10:
        parsed += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return parsed


@main.group("events", invoke_without_command=True)
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Only these environments (repeatable).")
@click.option("--since", default="7d", show_default=True, help="7d, 15d, a number of days/hours, or a date.")
@click.option("--until", default=None, help="A date or time (default: now).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Only these statuses.")
@click.option("--cost-only", is_flag=True, help="Only the actions that impact cost.")
@click.option("--sort", type=click.Choice(["date", "action"]), default="date", show_default=True)
@click.option("--page-size", type=click.Choice(["10", "25", "50"]), default="10", show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("--log", "show_log", is_flag=True, help="The informational log (every event) instead of pipelines.")
@click.option("--path", type=click.Path(path_type=Path), default=None, help="The GitOps repository (default: .).")
@state_option
@root_option
@color_option
@click.pass_context
def events_group(ctx, envs, since, until, statuses, cost_only, sort, page_size, page, fmt, show_log, path, state,
                 root, color) -> None:
    """Pipelines of the environments, newest first: what ran, who ran it, which step failed."""
    ctx.ensure_object(dict)
    ctx.obj.update(path=path, state=state, root=root, color=color, fmt=fmt)
    if ctx.invoked_subcommand is not None:
        return
    from reconciler.store import pipelines
    from reconciler.views import events as view

    db = _store(path, state, root)
    now = db.clock()
    if show_log:
        entries = pipelines.log_entries(db, tuple(envs), parse_when(since, now), int(page_size) * page)
        _print_log(entries[(page - 1) * int(page_size):], fmt)
        return
    query = pipelines.PipelineQuery(environments=tuple(envs), since=parse_when(since, now),
                                    until=parse_when(until, now, end_of_day=True), statuses=tuple(statuses),
                                    cost_only=cost_only, sort=sort, page_size=int(page_size), page=page)
    found, total = pipelines.query(db, query)
    if fmt == "json":
        echo(view.render_json(found, total, page, int(page_size)))
    elif fmt == "csv":
        sys.stdout.write(view.render_csv(found))
    else:
        echo(view.render_text(found, total, page, int(page_size), Style(wants_color(sys.stdout, color))))


def _store(path, state, root):
    _, config = resolve_repo((path,) if path else (), root)
    return open_store(config, state)


def _print_log(entries: list[dict], fmt: str) -> None:
    if fmt == "json":
        echo(json.dumps([{**e, "at": e["at"].isoformat()} for e in entries], indent=2, default=str))
        return
    for e in entries:
        where = f" {e['environment']}" if e["environment"] else ""
        pipeline = f" #{e['pipeline_id']}" if e["pipeline_id"] else ""
        echo(f"{e['at']:%Y-%m-%d %H:%M:%S} {e['level']:<7}{where}{pipeline} {e['description']}")


@events_group.command("show")
@click.argument("pipeline_id", type=int)
@click.pass_context
def events_show(ctx, pipeline_id: int) -> None:
    """One pipeline: its steps, which one failed and why."""
    from reconciler.store import pipelines
    from reconciler.views import events as view

    o = ctx.obj
    db = _store(o["path"], o["state"], o["root"])
    pipeline = pipelines.get(db, pipeline_id)
    if pipeline is None:
        raise click.ClickException(f"no pipeline {pipeline_id}")
    if o["fmt"] == "json":
        echo(json.dumps(view.pipeline_row(pipeline), indent=2, ensure_ascii=False))
    else:
        echo(view.render_pipeline(pipeline, Style(wants_color(sys.stdout, o["color"]))))
