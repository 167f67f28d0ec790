"""``reconciler plan``: what apply would do, for people, pull requests and machines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.common import (color_option, echo, open_store, render_spec_error, resolve_repo, root_option,
                                   state_option, write_file_atomically)
from reconciler.errors import SpecError, StateError
from reconciler.views.style import Style, wants_color


@main.command("plan")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Plan only these environments (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan to apply it later, as is.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--allow-destroy", is_flag=True, help="Plan the removal of QA/DEV topologies absent from the specs.")
@click.option("--engine", default=None, help="Engine the plan is for (sandbox | pulumi).")
@state_option
@root_option
@color_option
def plan_command(path: Path | None, envs: tuple[str, ...], fmt: str, out: Path | None, detailed_exitcode: bool,
                 allow_destroy: bool, engine: str | None, state: str | None, root: Path | None,
                 color: bool | None) -> None:
    """Plan the changes that make the environments under PATH (default: .) match their specs."""
    from reconciler.planning.service import plan_repository  # the store's imports: only for this command
    from reconciler.views import plan as view

    targets, config = resolve_repo((path,) if path else (), root)
    db = open_store(config, state)
    try:
        result = plan_repository(targets, config, db, only=envs, allow_destroy=allow_destroy,
                                 engine=config.engine_name(engine))
    except SpecError as exc:
        render_spec_error(exc, fmt)
        sys.exit(1)
    except StateError as exc:
        raise click.ClickException(str(exc)) from exc
    plan = result.plan
    unknown = sorted(set(envs) - {c.environment for c in plan.changes} - {d.name for d in result.validation.environments()})
    if unknown:
        raise click.UsageError(f"unknown environment(s): {', '.join(unknown)}")
    if out is not None:
        write_file_atomically(out, json.dumps(view.plan_data(plan, full=True), indent=1, ensure_ascii=False))
    if fmt == "json":
        echo(view.render_json(plan))
    elif fmt == "markdown":
        echo(view.render_markdown(plan))
    else:
        echo(view.render_text(plan, Style(wants_color(sys.stdout, color))))
        if out is not None:
            echo(f"\nSaved the plan to {out}. Apply exactly this plan with: reconciler apply {out}")
    if plan.refused:
        sys.exit(1)
    sys.exit(2 if detailed_exitcode and plan.has_changes else 0)
