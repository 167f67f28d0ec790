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
