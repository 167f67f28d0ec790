"""``reconciler synth``: run the stack programs offline and print each environment's resource graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli import main
from reconciler.cli.common import echo, render_spec_error, resolve_repo, root_option


@main.command("synth")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--env", "envs", multiple=True, metavar="NAME", help="Only these environments (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--workers", type=int, default=None, help="Worker processes (default: automatic).")
@root_option
def synth_command(path: Path | None, envs: tuple[str, ...], fmt: str, workers: int | None, root: Path | None) -> None:
    """Synthesise the Pulumi programs of the environments under PATH under Pulumi's mock runtime
    (no cloud, no CLI) and print what each declares. Same specs, same output."""
    from reconciler.errors import SpecError
    from reconciler.spec.validate import validate
    from reconciler.synth.inputs import stack_inputs
    from reconciler.synth.parallel import synthesize_many

    targets, config = resolve_repo((path,) if path else (), root)
    result = validate(targets, config.root, exclude=config.exclude)
    if not result.valid:
        render_spec_error(SpecError("the specs do not validate; nothing synthesised", result.diagnostics), fmt)
        sys.exit(1)
    known = {d.name for d in result.environments()}
    unknown = sorted(set(envs) - known)
    if unknown:
        raise click.UsageError(f"unknown environment(s): {', '.join(unknown)}")
    settings = (config.pulumi or {}).get("settings", {})
    inputs = stack_inputs(result, envs or None, settings=settings)
    graphs = synthesize_many(inputs, workers)
    if fmt == "json":
        data = {"format_version": "1", "environments": [
            {"name": name, "cloud": inputs[name].environment.cloud, "project": graph.project, "stack": graph.stack,
             "resources": [r.to_data() for r in graph.resources], "outputs": graph.outputs}
            for name, graph in sorted(graphs.items())]}
        echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
        return
    for name, graph in sorted(graphs.items()):
        echo(f"# {name}  (project {graph.project}, stack {graph.stack}, {len(graph.resources)} resources)")
        for resource in graph.resources:
            flags = " [protect]" if resource.protect else ""
            echo(f"    {resource.type} {resource.name}{flags}")
