"""What every module of the Azure stack shares: the explicit provider, the topology's resource
group, physical names, tags, resource options, deterministic GUIDs and ARM ids built from outputs.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import resources

from reconciler.model import capabilities as caps
from reconciler.model.spec import Environment
from stacks.common.inputs import StackInput
from stacks.common.naming import physical_name, standard_tags

# Synthesis default of settings.applyDate (see AzureStack.apply_date).
DEFAULT_APPLY_DATE = "2026-01-05"
# Namespace of the GUIDs this stack must name itself (role assignments, job schedules).
_GUID_NAMESPACE = uuid.UUID("8f4c7a52-2d0e-4f43-9d1a-6b0f3c1e2a77")


@dataclass(frozen=True)
class AzureStack:
    inp: StackInput
    provider: pulumi.ProviderResource
    group: resources.ResourceGroup

    @property
    def env(self) -> Environment:
        return self.inp.environment

    @property
    def location(self) -> str:
        return self.env.region

    @property
    def group_name(self) -> pulumi.Output[str]:
        # The output (not the plain name) so that every resource depends on the group.
        return self.group.name

    def tags(self, **extra: str) -> dict[str, str]:
        return {**standard_tags(self.env, self.inp.customer, self.inp.revision), **extra}

    def name(self, *parts: str, max_length: int = 63) -> str:
        return physical_name(self.env, *parts, max_length=max_length)

    def compact_name(self, *parts: str, max_length: int = 24) -> str:
        """Lowercase letters and digits only (storage accounts): hyphens dropped, a stable hash
        replaces the tail when too long."""
        full = physical_name(self.env, *parts, max_length=255).replace("-", "")
        if len(full) <= max_length:
            return full
        return full[:max_length - 8] + hashlib.sha256(full.encode()).hexdigest()[:8]

    def apply_date(self) -> date:
        """The day of the apply, from ``settings.applyDate`` (the reconciler passes it): Azure wants
        a schedule's first run in the future and a budget's start in the current month. The
        program never reads a clock; resources that take it ignore later changes of it."""
        return date.fromisoformat(self.inp.setting("applyDate", DEFAULT_APPLY_DATE))

    def supports(self, feature: str) -> bool:
        return caps.support(feature, self.env.product, "azure") is not None

    def opts(self, *, data: bool = False, depends_on: Sequence[pulumi.Resource] = (),
             ignore_changes: Sequence[str] = ()) -> pulumi.ResourceOptions:
        """Options of every resource: the explicit provider; ``data=True`` for databases, backup
        vaults and policies, which a PROD topology protects and retains (rule 4: never removed)."""
        keep = data and self.env.is_prod
        return pulumi.ResourceOptions(provider=self.provider, protect=keep, retain_on_delete=keep,
                                      depends_on=list(depends_on) or None,
                                      ignore_changes=list(ignore_changes) or None)

    def guid(self, *parts: str) -> str:
        return str(uuid.uuid5(_GUID_NAMESPACE, "/".join((self.env.name, *parts))))

    def subscription_scope(self) -> pulumi.Output[str]:
        """``/subscriptions/<id>`` from the group's ARM id (``/subscriptions/<id>/resourceGroups/<name>``)."""
        return self.group.id.apply(_subscription_of)

    def role_definition(self, role_guid: str) -> pulumi.Output[str]:
        return self.subscription_scope().apply(
            lambda scope: f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}")


def _subscription_of(group_id: str) -> str:
    match = re.match(r"^(/subscriptions/[^/]+)/resourceGroups/", group_id or "", flags=re.IGNORECASE)
    # The mock runtime's ids are not ARM ids: keep them, the graph stays deterministic.
    return match.group(1) if match else group_id


def create(inp: StackInput) -> AzureStack:
    """The provider (location = region, subscription from ``settings.subscriptionId``) and the group."""
    env = inp.environment
    provider_args: dict[str, Any] = {"location": env.region}
    if inp.setting("subscriptionId"):
        provider_args["subscription_id"] = inp.setting("subscriptionId")
    provider = azure_native.Provider("azure", **provider_args)
    keep = env.is_prod  # rule 4: a PROD topology is never removed; deleting the group would delete its data
    group = resources.ResourceGroup(
        "group", resource_group_name=physical_name(env, "rg", max_length=90), location=env.region,
        tags=standard_tags(env, inp.customer, inp.revision),
        opts=pulumi.ResourceOptions(provider=provider, protect=keep, retain_on_delete=keep))
    return AzureStack(inp, provider, group)
