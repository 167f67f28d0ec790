"""Rules 1-2 and the product-only fields: what this product on this cloud may ask for.

Everything is read from the capability matrix (``reconciler.model.capabilities``).
"""

from __future__ import annotations

from typing import Iterator

from reconciler.model import capabilities as caps
from reconciler.model.diagnostics import Diagnostic, error
from reconciler.spec.rules import document_rule


def _unavailable(feature: caps.Feature, product: str, cloud: str, path: tuple) -> Diagnostic:
    field = path[-1]
    if product not in feature.products:
        owners = " and ".join(caps.PRODUCT_TITLES[p] for p in feature.products)
        return error("capability-product",
                     f"'{field}' ({feature.title}) is for {owners} topologies; this one is "
                     f"{caps.PRODUCT_TITLES[product]}", path,
                     f"remove '{field}': {feature.why}")
    clouds = ", ".join(caps.CLOUD_TITLES[c] for c in feature.clouds)
    return error("capability-cloud",
                 f"'{field}' ({feature.title}) is not available for {caps.PRODUCT_TITLES[product]} on "
                 f"{caps.CLOUD_TITLES[cloud]}; it is available on {clouds}", path,
                 f"remove '{field}' or choose a cloud that offers it: {feature.why}")


@document_rule("Environment")
def features_available(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    product, cloud = spec.get("product"), spec.get("cloud")
    if product not in caps.PRODUCTS or cloud not in caps.CLOUDS:
        return  # the schema reports the unknown product or cloud
    for field, feature_name in caps.FIELD_FEATURES.items():
        if field in spec and spec[field] not in (None, False, [], {}):
            feature = caps.FEATURES[feature_name]
            if feature.supported(product, cloud) is None:
                yield _unavailable(feature, product, cloud, ("spec", field))
    yield from _backup_features(spec, product, cloud)


def _backup_features(spec: dict, product: str, cloud: str) -> Iterator[Diagnostic]:
    backup = spec.get("backup") or {}
    policy = caps.FEATURES["backupPolicy"]
    for key in ("automaticRetentionDays", "manualRetentionDays"):
        if key in backup and policy.supported(product, cloud) is None:
            yield error("capability-cloud",
                        f"'{key}' (backup retention) is not available on {caps.CLOUD_TITLES[cloud]}: "
                        f"{policy.why}", ("spec", "backup", key),
                        f"remove '{key}'; {caps.CLOUD_TITLES[cloud]} keeps its own backup history")
