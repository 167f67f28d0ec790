"""``reconciler capabilities``: the capability matrix (product x cloud -> features) as a table."""

from __future__ import annotations

import json

import click

from reconciler.cli import main
from reconciler.cli.common import echo
from reconciler.model import capabilities as caps

_MARK = {"portal": "yes", "stack": "stack", None: "-"}


def render_markdown() -> str:
    columns = [(p, c) for p in caps.PRODUCTS for c in caps.CLOUDS]
    head = "| feature | " + " | ".join(f"{caps.PRODUCT_TITLES[p]} {caps.CLOUD_TITLES[c]}" for p, c in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]
    for feature in caps.FEATURES.values():
        cells = []
        for product, cloud in columns:
            support = feature.supported(product, cloud)
            cells.append(_MARK[support.value if support else None])
        lines.append(f"| {feature.title} (`{feature.field}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@main.command("capabilities")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def capabilities_command(fmt: str) -> None:
    """Which product on which cloud can do which feature ("yes": the portal offers it; "stack":
    the portal does not, but this project's stack for that cloud implements it)."""
    echo(json.dumps(caps.matrix(), indent=2) if fmt == "json" else render_markdown())
