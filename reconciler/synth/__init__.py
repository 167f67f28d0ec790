"""Synthesis: running the real stack programs under Pulumi's mock runtime, offline.

``synthesize(inp)`` returns the ``ResourceGraph`` a program declares for one environment;
``synthesize_many`` runs many environments, in parallel processes when that pays.
"""

from reconciler.synth.mock_runtime import synthesize  # noqa: F401
