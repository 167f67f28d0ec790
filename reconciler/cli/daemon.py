"""``reconciler daemon``: keep every environment equal to what a git branch says (see
``reconciler.daemon``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.common import echo
from reconciler.errors import ConfigError, LockError, StateError


def _duration(ctx, param, value):
    from reconciler.daemon.settings import parse_duration

    try:
        seconds = parse_duration(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc
    if seconds <= 0:
        raise click.BadParameter("must be longer than zero (a zero interval would spin)")
    return seconds


def _listen(ctx, param, value):
    from reconciler.daemon.settings import parse_listen

    try:
        return parse_listen(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from exc


def _secret(name: str | None) -> str | None:
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise click.BadParameter(f"the environment variable {name} is not set (or empty)",
                                 param_hint="--webhook-secret-env")
    return value


@main.command("daemon")
@click.option("--source", required=True, metavar="URL_OR_PATH", help="The GitOps repository: a git URL or a local "
                                                                       "path (a local work tree is also watched).")
@click.option("--branch", default="main", show_default=True)
@click.option("--interval", default="60s", show_default=True, callback=_duration,
              help="Fetch the branch this often (a local source is also watched, a remote one woken by webhooks).")
@click.option("--drift-interval", default="1h", show_default=True, callback=_duration,
              help="Check each settled environment for drift this often.")
@click.option("--listen", default="127.0.0.1:9464", show_default=True, callback=_listen,
              help="HOST:PORT of /healthz, /readyz, /metrics, /status and /hooks/git (port 0: any; 'off': none).")
@click.option("--engine", default=None, help="sandbox | pulumi (default: RECONCILER_ENGINE, the repository's "
                                             "config, sandbox).")
@click.option("--state", default=None, metavar="URL", help="State store URL (default: RECONCILER_STATE, the "
                                                          "repository's config, SQLite next to the work dir).")
@click.option("--webhook-secret-env", default=None, metavar="NAME",
              help="Environment variable holding the webhook secret (without it, /hooks/git is off).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the clone lives (default: .reconciler/daemon of a local work tree, else under "
                   "$XDG_STATE_HOME/erp-reconciler).")
@click.option("--once", is_flag=True, help="One reconcile (and a drift check when due), then exit: 0 when it "
                                           "succeeded, 1 otherwise.")
@click.option("--verify-signatures", "keyring", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, metavar="KEYRING", help="Apply only commits signed by a key of this keyring (an "
                                                    "exported GnuPG public keyring).")
@click.option("--accept-revision", default=None, metavar="SHA",
              help="After a deliberate force-push: accept SHA as the new base the branch must descend from.")
@click.option("--actor", default=None, help="Login recorded on pipelines (default: RECONCILER_ACTOR, the commit's "
                                            "author).")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Watch a local work tree: a commit is applied at once rather than at the next interval.")
@click.option("-v", "--verbose", is_flag=True, help="Log every step, not only pipelines and passes.")
def daemon_command(source, branch, interval, drift_interval, listen, engine, state, webhook_secret_env, log_format,
                   workdir, once, keyring, accept_revision, actor, watch, verbose) -> None:
    """Reconcile continuously: fetch SOURCE's branch on each trigger, validate, plan and apply what
    changed; check drift; serve health, metrics and status. SIGTERM finishes the running steps and
    exits 0."""
    import logging

    from reconciler.daemon.logging import setup
    from reconciler.daemon.service import Daemon
    from reconciler.daemon.settings import DaemonSettings

    settings = DaemonSettings(source=source, branch=branch, interval=interval, drift_interval=drift_interval,
                              listen=listen, engine=engine, state=state, webhook_secret=_secret(webhook_secret_env),
                              workdir=workdir, once=once, keyring=keyring.resolve() if keyring else None,
                              accept_revision=accept_revision, actor=actor, watch=watch)
    log = setup(log_format, level=logging.DEBUG if verbose else logging.INFO)
    try:
        code = Daemon(settings, log).run()
    except (LockError, ConfigError, StateError) as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)
