"""``reconciler validate``: every problem of the repository's documents, at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.common import color_option, echo, resolve_repo, root_option
from reconciler.spec.validate import validate
from reconciler.views import diagnostics as view
from reconciler.views.style import Style, wants_color


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Check every file again, ignoring the validation cache.")
@root_option
@color_option
def validate_command(paths: tuple[Path, ...], fmt: str, no_cache: bool, root: Path | None, color: bool | None) -> None:
    """Validate Environment and Customer documents under PATHS (default: the current folder).

    Walks *.yaml and *.yml files (hidden folders skipped). Exit 0 when there is no error
    (warnings allowed), 1 when there are errors, 2 on a usage error.
    """
    targets, config = resolve_repo(paths, root)
    result = validate(targets, config.root, exclude=config.exclude, use_cache=not no_cache)
    if fmt == "json":
        echo(view.render_json(result.diagnostics, len(result.files), len(result.documents)))
    else:
        style = Style(wants_color(sys.stdout, color))
        echo(view.render_text(result.diagnostics, len(result.files), len(result.documents), style))
    sys.exit(0 if result.valid else 1)
