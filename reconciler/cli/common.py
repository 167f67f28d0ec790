"""Options and helpers shared by the commands (root discovery, output streams, formats)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.config import RepoConfig, find_root, load_config
from reconciler.errors import ConfigError


def resolve_repo(paths: tuple[Path, ...], root: Path | None) -> tuple[list[Path], RepoConfig]:
    targets = list(paths) or [Path(".")]
    for target in targets:
        if not target.exists():
            raise click.BadParameter(f"'{target}' does not exist", param_hint="PATH")
    repo_root = (root or find_root(targets[0])).resolve()
    try:
        return targets, load_config(repo_root)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def echo(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Root of the GitOps repository (default: nearest folder with .reconciler.yaml, "
                                "else the git work tree).")
color_option = click.option("--color/--no-color", default=None, help="Force colour on or off (default: on a terminal, "
                                                                    "unless NO_COLOR is set).")


state_option = click.option("--state", default=None, metavar="URL",
                            help="State store URL (default: RECONCILER_STATE, .reconciler.yaml, else SQLite in "
                                 ".reconciler/state.db of the repository).")


def open_store(config: RepoConfig, state: str | None):
    from reconciler.errors import StateError
    from reconciler.store import open_database

    try:
        return open_database(config.state_url(state))
    except StateError as exc:
        raise click.ClickException(str(exc)) from exc


def render_spec_error(exc, fmt: str) -> None:
    """Specs that do not validate: show the diagnostics the way ``validate`` does."""
    from reconciler.views import diagnostics as view
    from reconciler.views.style import Style, wants_color

    if fmt == "json":
        echo(view.render_json(exc.diagnostics, 0, 0))
    else:
        echo(view.render_text(exc.diagnostics, 0, 0, Style(wants_color(sys.stderr))), err=True)
        echo(f"error: {exc}", err=True)


def write_file_atomically(path: Path, text: str) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
