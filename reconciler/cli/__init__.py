"""The ``reconciler`` command line: one group, one module per command, no logic of its own.

Exit codes: 0 success, 1 failure (errors found, apply failed), 2 usage error (click's own), and
for ``plan``/``drift --detailed-exitcode``: 0 no changes, 2 changes, 1 error.
"""

from __future__ import annotations

import click

from reconciler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reconciler")
def main() -> None:
    """GitOps reconciler for ERP cloud environments (Protheus, Fluig, RM on AWS, Azure, Intera)."""


def _register() -> None:
    from reconciler.cli import (  # noqa: F401  (commands register themselves on import)
        apply, capabilities, daemon, events, operate, plan, status, synth, validate,
    )


_register()
