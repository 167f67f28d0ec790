"""``reconciler status`` (the cockpit), ``reconciler drift`` (what moved behind our back) and
``reconciler sandbox`` (change the sandbox's fake cloud by hand, to exercise drift)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.apply import engine_options, progress_for, stop_on_signals
from reconciler.cli.common import echo, open_store, resolve_repo, root_option, state_option
from reconciler.cli.operate import path_option
from reconciler.errors import ConfigError
from reconciler.gitinfo import actor as resolve_actor, revision_of


def _repo(path, state, root):
    _, config = resolve_repo((path,) if path else (), root)
    return config, open_store(config, state)


@main.command("status")
@path_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@state_option
@root_option
def status_command(path, fmt, state, root) -> None:
    """The cockpit: each environment's state, type, version, cloud, instances, last apply and pipeline."""
    from reconciler.status import cockpit

    config, db = _repo(path, state, root)
    rows = cockpit(db)
    if fmt == "json":
        echo(json.dumps({"format_version": "1", "environments": rows}, indent=2, default=str))
        return
    if not rows:
        echo("No environment is recorded yet: run 'reconciler apply'.")
        return
    header = ("environment", "status", "type", "product", "version", "cloud", "inst", "applied", "revision",
              "last pipeline")
    table = [header] + [(r["name"], r["status"], r["type"], r["product"], r["version"], r["cloud"],
                         str(r["instances"]), r["applied_at"][:16].replace("T", " "), (r["revision"] or "-")[:10],
                         r["last_pipeline"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@main.command("drift")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--env", "envs", multiple=True, metavar="NAME")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 without drift, 2 with drift, 1 on error.")
@click.option("--remediate", is_flag=True, help="Put drifted environments back (also done for driftPolicy: remediate).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@engine_options
def drift_command(path, envs, detailed_exitcode, remediate, fmt, engine, actor, lock_timeout, state, root,
                  color) -> None:
    """Refresh the real state of the recorded environments and report what differs from the last
    apply. A power state that a working-hours schedule moves is not drift."""
    from reconciler.apply.drift import check_drift
    from reconciler.engines import make_engine

    config, db = _repo(path, state, root)
    engine_impl = make_engine(config.engine_name(engine), config, db)
    reports = check_drift(db, engine_impl, list(envs) or None)
    errors = [r for r in reports if r.error]
    drifted = [r for r in reports if r.drifted]
    if fmt == "json":
        echo(json.dumps({"format_version": "1", "environments": [
            {"environment": r.environment, "drifted": r.drifted, "policy": r.policy, "error": r.error,
             "items": [i.to_data() for i in r.items]} for r in reports]}, indent=2))
    else:
        for report in reports:
            if report.error:
                echo(f"{report.environment}: cannot refresh: {report.error}")
            elif report.drifted:
                echo(f"{report.environment}: {len(report.items)} drifted resource(s) (policy: {report.policy})")
                for item in report.items:
                    echo(f"  ~ {item.describe()}")
        echo(f"Drift: {len(drifted)} of {len(reports)} environment(s) drifted" + (f", {len(errors)} could not be "
                                                                                   "read." if errors else "."))
    to_fix = [r.environment for r in drifted if remediate or r.policy == "remediate"]
    ok = _remediate(config, db, engine_impl, to_fix, actor, lock_timeout) if to_fix else True
    if errors or not ok:
        sys.exit(1)
    sys.exit(2 if detailed_exitcode and drifted else 0)


def _remediate(config, db, engine_impl, names, actor, lock_timeout) -> bool:
    from reconciler.apply.drift import remediation_for
    from reconciler.apply.orchestrator import apply_plan, job_builder
    from reconciler.apply.runner import RunContext
    from reconciler.model.plan import Plan

    changes = [c for c in (remediation_for(db, engine_impl, n) for n in names) if c is not None]
    if not changes:
        return True
    plan = Plan(revision=None, created_at=db.clock().isoformat(timespec="seconds"), changes=tuple(changes),
                root=str(config.root), engine=engine_impl.name)
    who = resolve_actor(actor or config.actor, revision_of(config.root))
    stop = threading.Event()
    with progress_for(sys.stdout) as progress, stop_on_signals(stop):
        ctx = RunContext(db, engine_impl, who, None, lock_timeout=lock_timeout or config.lock_timeout, stop=stop,
                         progress=progress, job_for=job_builder(plan, (config.pulumi or {}).get("settings", {})))
        report = apply_plan(plan, ctx, config.parallel)
    echo(f"Remediated {sum(1 for s in report.statuses.values() if s.value == 'succeeded')} of {len(changes)}.")
    return report.ok


@main.group("sandbox")
def sandbox_group() -> None:
    """Change the sandbox engine's fake cloud by hand, behind the reconciler's back (for drift)."""


def _out_of_band(path, state, root):
    from reconciler.engines.sandbox import OutOfBand

    config, db = _repo(path, state, root)
    return OutOfBand(db)


@sandbox_group.command("stop")
@click.argument("environment")
@path_option
@state_option
@root_option
def sandbox_stop(environment, path, state, root) -> None:
    """Turn an environment off by hand (as someone clicking in a cloud console would)."""
    _power(environment, "stopped", path, state, root)


@sandbox_group.command("start")
@click.argument("environment")
@path_option
@state_option
@root_option
def sandbox_start(environment, path, state, root) -> None:
    """Turn an environment on by hand."""
    _power(environment, "running", path, state, root)


def _by_hand(change):
    """Run an out-of-band change; a wrong environment or URN is a clear command error."""
    try:
        return change()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _power(environment, value, path, state, root) -> None:
    touched = _by_hand(lambda: _out_of_band(path, state, root).set_power(environment, value))
    echo(f"{environment}: set {len(touched)} power-state resource(s) to {value} in the sandbox cloud.")


@sandbox_group.command("set")
@click.argument("environment")
@click.argument("urn")
@click.argument("assignment", metavar="KEY=JSON_VALUE")
@path_option
@state_option
@root_option
def sandbox_set(environment, urn, assignment, path, state, root) -> None:
    """Change one input of one resource (value as JSON, or a plain string)."""
    key, _, raw = assignment.partition("=")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    _by_hand(lambda: _out_of_band(path, state, root).set_input(environment, urn, key, value))
    echo(f"{environment}: {urn} {key} = {value!r} (out of band).")


@sandbox_group.command("delete")
@click.argument("environment")
@click.argument("urn")
@path_option
@state_option
@root_option
def sandbox_delete(environment, urn, path, state, root) -> None:
    """Delete one resource from the fake cloud."""
    _by_hand(lambda: _out_of_band(path, state, root).delete(environment, urn))
    echo(f"{environment}: deleted {urn} (out of band).")


@sandbox_group.command("list")
@click.argument("environment")
@path_option
@state_option
@root_option
def sandbox_list(environment, path, state, root) -> None:
    """The resources of an environment in the fake cloud."""
    from reconciler.engines.sandbox import cloud_graph

    _, db = _repo(path, state, root)
    for resource in cloud_graph(db, environment).resources:
        echo(f"{resource.urn}  id={resource.id}")
