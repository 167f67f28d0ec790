"""Frozen values shared by every layer: diagnostics, specs, plans, pipelines, state.

This package imports nothing else of the reconciler, so every layer can depend on it.
"""
