"""Engines: the port through which the reconciler changes clouds, and its two implementations.

``sandbox`` (the default) runs the real stack programs under Pulumi's mock runtime and keeps the
resulting resources in the state store as its "cloud"; ``pulumi`` drives the real Pulumi CLI
through the Automation API. ``make_engine`` picks one by name.
"""

from reconciler.engines.base import Engine, EngineEvent, StackJob, make_engine  # noqa: F401
