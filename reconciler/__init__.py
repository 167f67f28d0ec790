"""GitOps reconciler for ERP cloud environments.

Customers declare their Protheus, Fluig and RM topologies in versioned YAML; the reconciler
validates the documents, plans the difference against the recorded state and applies it through
Pulumi stacks per cloud, recording every step as an event.

Public surface (kept small; see ``tests/test_public_surface.py``): ``__version__``.
"""

__version__ = "0.1.0"
