"""``reconciler apply``: make the plan real (a saved plan as is, or a fresh plan after a yes)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from reconciler.cli import main
from reconciler.cli.common import (color_option, echo, open_store, render_spec_error, resolve_repo, root_option,
                                   state_option)
from reconciler.errors import ConfigError, PlanRefused, SpecError, StalePlanError
from reconciler.gitinfo import actor as resolve_actor, revision_of
from reconciler.model.plan import Plan


def engine_options(fn):
    for option in reversed([
        click.option("--engine", default=None, help="sandbox (default, offline) | pulumi. Also RECONCILER_ENGINE."),
        click.option("--actor", default=None, help="Login recorded on pipelines (default: RECONCILER_ACTOR, the "
                                                   "commit's author, else the OS user)."),
        click.option("--lock-timeout", type=float, default=None, help="Seconds to wait for a locked environment."),
        state_option, root_option, color_option,
    ]):
        fn = option(fn)
    return fn


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM: finish the running step, then stop cleanly (locks released, pipelines
    marked interrupted). A second SIGINT stops at once (locks are still released)."""
    previous = {}

    def handle(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write(f"\n{signal.Signals(signum).name}: finishing the running step, then stopping...\n")

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def progress_for(stream):
    from reconciler.views.progress import LineProgress, LiveProgress

    return LiveProgress(stream) if getattr(stream, "isatty", lambda: False)() else LineProgress(stream)


def _load_saved_plan(path: Path) -> Plan | None:
    if path.is_dir() or path.suffix != ".json":
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path} is not a saved plan: {exc}") from exc
    if not isinstance(data, dict) or "format_version" not in data:
        raise click.BadParameter(f"{path} is not a saved plan (no format_version)")
    try:
        return Plan.from_data(data)
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from exc


@main.command("apply")
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--allow-destroy", is_flag=True, help="Allow removing QA/DEV topologies absent from the specs.")
@click.option("--parallel", type=click.IntRange(1, 64), default=None, help="Environments applied at once.")
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Apply only these environments.")
@engine_options
def apply_command(target: Path | None, auto_approve: bool, allow_destroy: bool, parallel: int | None,
                  envs: tuple[str, ...], engine: str | None, actor: str | None, lock_timeout: float | None,
                  state: str | None, root: Path | None, color: bool | None) -> None:
    """Apply TARGET: a saved plan file (exactly that plan, refused if stale), or a path (default:
    .) planned now, shown, and applied after confirmation."""
    saved = _load_saved_plan(target) if target else None
    repo_path = Path(saved.root) if saved and saved.root else target
    targets, config = resolve_repo((repo_path,) if repo_path else (), root)
    db = open_store(config, state)
    revision = revision_of(config.root)
    who = resolve_actor(actor or config.actor, revision)
    try:
        plan = _saved_plan_checked(saved, targets, config, db, revision) if saved else \
            _fresh_plan(targets, config, db, envs, allow_destroy, engine, auto_approve, color)
        if plan is None:
            return
        engine_name = config.engine_name(engine or (plan.engine if saved else None))
        ok = _run(plan, config, db, engine_name, who, revision.label, lock_timeout, parallel)
    except SpecError as exc:
        render_spec_error(exc, "text")
        sys.exit(1)
    except (StalePlanError, PlanRefused, ConfigError) as exc:
        echo(f"error: {exc}", err=True)
        for reason in getattr(exc, "reasons", [])[1:] if isinstance(exc, PlanRefused) else []:
            echo(f"  ! {reason}", err=True)
        sys.exit(1)
    sys.exit(0 if ok else 1)


def _saved_plan_checked(plan: Plan, targets, config, db, revision) -> Plan:
    from reconciler.apply.staleness import check_fresh
    from reconciler.planning.service import current_source_digests
    from reconciler.store import environments

    digests, _ = current_source_digests(targets, config)
    check_fresh(plan, revision, digests, environments.summaries(db))
    return plan


def _fresh_plan(targets, config, db, envs, allow_destroy, engine, auto_approve, color) -> Plan | None:
    from reconciler.planning.service import plan_repository
    from reconciler.views import plan as view
    from reconciler.views.style import Style, wants_color

    result = plan_repository(targets, config, db, only=envs, allow_destroy=allow_destroy,
                             engine=config.engine_name(engine))
    plan = result.plan
    echo(view.render_text(plan, Style(wants_color(sys.stdout, color))))
    if plan.refused:
        raise PlanRefused("the plan was refused by its protections; nothing was applied", list(plan.refusals))
    if not plan.has_changes:
        if any(c.state_serial for c in plan.changes):
            return plan  # only digests to record
        echo("Nothing to apply.")
        return None
    if not auto_approve:
        if not sys.stdin.isatty():
            raise ConfigError("refusing to apply without confirmation: stdin is not a terminal. Review the plan "
                              "and run again with --auto-approve, or save it with 'reconciler plan --out' and apply "
                              "the file")
        if not click.confirm("\nApply these changes?", default=False):
            echo("Apply cancelled.")
            return None
    return plan


def _run(plan: Plan, config, db, engine_name: str, who: str, revision: str | None, lock_timeout, parallel) -> bool:
    from reconciler.apply.orchestrator import apply_plan, job_builder
    from reconciler.apply.runner import RunContext
    from reconciler.engines import make_engine

    engine = make_engine(engine_name, config, db)
    stop = threading.Event()
    settings = (config.pulumi or {}).get("settings", {})
    with progress_for(sys.stdout) as progress, stop_on_signals(stop):
        ctx = RunContext(db, engine, who, plan.revision or revision,
                         lock_timeout=lock_timeout if lock_timeout is not None else config.lock_timeout,
                         stop=stop, progress=progress, job_for=job_builder(plan, settings))
        report = apply_plan(plan, ctx, parallel or config.parallel)
    for pipeline_id in report.recovered:
        echo(f"recovered pipeline {pipeline_id}: left running by a process that died; now 'interrupted' "
             f"(reconciler retry {pipeline_id})", err=True)
    failed = sorted(name for name, status in report.statuses.items() if status.value != "succeeded")
    done = len(report.statuses) - len(failed)
    echo(f"\nApplied {done} of {len(report.statuses)} environment(s) with engine {engine_name}"
         + (f"; failed: {', '.join(f'{n} (pipeline {report.pipelines[n]})' for n in failed)}" if failed else ".")
         + (f" Recorded {len(report.recorded_only)} unchanged document(s)." if report.recorded_only else ""))
    if failed:
        echo("See the failed steps with: reconciler events show <pipeline>; retry with: reconciler retry <pipeline>")
    return not failed
