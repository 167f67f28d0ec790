"""The Pulumi programs of the reconciler: one project per cloud, one stack per Environment.

``program_for(cloud)`` returns the module of that cloud's program. Each module exposes:

- ``PROJECT``: the Pulumi project name (also in its ``Pulumi.yaml``);
- ``build(inp: StackInput) -> None``: declares the stack's resources and exports its outputs;
- ``computed_outputs(type_token, name, inputs, resource_id) -> dict``: what the cloud would
  compute for a resource (ARNs, addresses), so the mock runtime and the sandbox engine return
  realistic outputs to programs that read them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROGRAMS = {"aws": "stacks.aws.program", "azure": "stacks.azure.program", "intera": "stacks.intera.program"}
# The Pulumi project of each cloud (each program's PROJECT and Pulumi.yaml say the same; a test
# checks it), known here without importing Pulumi.
PROJECTS = {"aws": "erp-aws", "azure": "erp-azure", "intera": "erp-intera"}


def program_for(cloud: str) -> ModuleType:
    try:
        return importlib.import_module(PROGRAMS[cloud])
    except KeyError:
        raise ValueError(f"no stack program for cloud {cloud!r}; known: {', '.join(PROGRAMS)}") from None
