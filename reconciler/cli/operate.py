"""Operator commands: retry a failed pipeline, release a dead process's lock, list locks,
suspend and resume an environment."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.apply import engine_options, progress_for, stop_on_signals
from reconciler.cli.common import echo, open_store, resolve_repo, root_option, state_option
from reconciler.errors import LockError, ReconcilerError, StalePlanError
from reconciler.gitinfo import actor as resolve_actor, revision_of

path_option = click.option("--path", type=click.Path(path_type=Path), default=None,
                           help="The GitOps repository (default: .).")


def _repo(path, state, root):
    _, config = resolve_repo((path,) if path else (), root)
    return config, open_store(config, state)


@main.command("retry")
@click.argument("pipeline_id", type=int)
@path_option
@engine_options
def retry_command(pipeline_id: int, path, engine, actor, lock_timeout, state, root, color) -> None:
    """Re-run a failed (or interrupted) pipeline from its failed step, at the same revision."""
    from reconciler.apply.orchestrator import job_builder
    from reconciler.apply.recovery import recover_interrupted
    from reconciler.apply.retry_pipeline import prepare_retry
    from reconciler.apply.runner import PipelineRun, RunContext
    from reconciler.engines import make_engine
    from reconciler.model.plan import Plan

    config, db = _repo(path, state, root)
    recover_interrupted(db)
    who = resolve_actor(actor or config.actor, revision_of(config.root))
    try:
        pipeline = prepare_retry(db, pipeline_id, who)
    except (StalePlanError, ReconcilerError) as exc:
        raise click.ClickException(str(exc)) from exc
    plan = Plan(revision=pipeline.revision, created_at="", changes=(), root=str(config.root))
    stop = threading.Event()
    with progress_for(sys.stdout) as progress, stop_on_signals(stop):
        ctx = RunContext(db, make_engine(config.engine_name(engine), config, db), who, pipeline.revision,
                         lock_timeout=lock_timeout if lock_timeout is not None else config.lock_timeout, stop=stop,
                         progress=progress, job_for=job_builder(plan, (config.pulumi or {}).get("settings", {})))
        status = PipelineRun(ctx, pipeline_id).run()
    echo(f"\nPipeline {pipeline_id} {status.value}.")
    sys.exit(0 if status.value == "succeeded" else 1)


@main.command("unlock")
@click.argument("lock_id")
@path_option
@click.option("--actor", default=None)
@state_option
@root_option
def unlock_command(lock_id: str, path, actor, state, root) -> None:
    """Release the lock LOCK_ID left by a process that died (the release is recorded as an event)."""
    from reconciler.store import locks

    config, db = _repo(path, state, root)
    who = resolve_actor(actor or config.actor, None)
    try:
        info = locks.unlock(db, lock_id, who)
    except LockError as exc:
        raise click.ClickException(str(exc)) from exc
    echo(f"Released lock {lock_id} of {info.environment} (held by {info.actor}, pid {info.pid} on {info.host}, "
         f"for {info.operation} since {info.acquired_at:%Y-%m-%d %H:%M:%S} UTC).")


@main.command("locks")
@path_option
@state_option
@root_option
def locks_command(path, state, root) -> None:
    """The environments locked right now, and by whom."""
    from reconciler.store import locks

    _, db = _repo(path, state, root)
    held = locks.all_locks(db)
    if not held:
        echo("No environment is locked.")
    for info in held:
        echo(info.describe())


def _set_suspended(suspended: bool, names, path, actor, state, root) -> None:
    from reconciler.store import controls, environments
    from reconciler.store import pipelines as store

    config, db = _repo(path, state, root)
    who = resolve_actor(actor or config.actor, None)
    known = set(environments.summaries(db))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.ClickException(f"not recorded (apply it first): {', '.join(unknown)}")
    now = db.clock()
    with db.transaction() as connection:
        for name in names:
            controls.update(connection, name, suspended=suspended, suspended_by=who if suspended else None,
                            suspended_at=now if suspended else None)
            word = "suspended" if suspended else "resumed"
            store.log(connection, now, name, None, "info", f"environment-{word}", f"{name} {word} by {who}", who)
    echo(f"{'Suspended' if suspended else 'Resumed'}: {', '.join(names)}")


@main.command("suspend")
@click.argument("names", nargs=-1, required=True)
@path_option
@click.option("--actor", default=None)
@state_option
@root_option
def suspend_command(names, path, actor, state, root) -> None:
    """Stop reconciling these environments (the daemon leaves them alone) until resumed."""
    _set_suspended(True, names, path, actor, state, root)


@main.command("resume")
@click.argument("names", nargs=-1, required=True)
@path_option
@click.option("--actor", default=None)
@state_option
@root_option
def resume_command(names, path, actor, state, root) -> None:
    """Reconcile these environments again."""
    _set_suspended(False, names, path, actor, state, root)
