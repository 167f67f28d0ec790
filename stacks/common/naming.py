"""Names and tags, the same on every cloud: who owns a resource and which topology it serves."""

from __future__ import annotations

import hashlib
import re

from reconciler.model.spec import Customer, Environment

MANAGED_BY = "erp-gitops-reconciler"
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def physical_name(env: Environment, *parts: str, max_length: int = 63) -> str:
    """``<topology>-<part>-...`` in lowercase, shortened with a stable hash when too long."""
    name = _UNSAFE.sub("-", "-".join((env.name, *parts)).lower()).strip("-")
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:max_length - 9].rstrip('-')}-{digest}"


def standard_tags(env: Environment, customer: Customer | None = None, revision: str | None = None) -> dict[str, str]:
    """Tags every taggable resource carries. Keys avoid ':' and '/' so that Azure accepts them too."""
    tags = {
        "totvs-customer": env.customer,
        "totvs-topology": env.name,
        "totvs-product": env.product,
        "totvs-type": env.type,
        "managed-by": MANAGED_BY,
    }
    if customer is not None and customer.contract:
        tags["totvs-contract"] = customer.contract
    if revision:
        tags["totvs-revision"] = revision[:40]
    for key, value in env.labels:
        tags[f"label-{_UNSAFE.sub('-', key.lower()).strip('-')}"] = value
    return tags
