"""The resource-level diff: a synthesised graph against the recorded one (pure).

Terraform's vocabulary: create ``+``, update ``~``, replace ``-/+``, delete ``-``, with the
input keys that changed. Whether a change forces a replacement is the provider's call; offline we
approximate it with the properties each type cannot change in place (a table, plus the resource's
own ``replaceOnChanges``). The ``pulumi`` engine's preview is authoritative when it runs.
"""

from __future__ import annotations

from reconciler.model.graph import Resource, ResourceGraph
from reconciler.model.plan import Op, ResourceChange

# Input properties that force a new resource, by Pulumi type token (or token prefix).
FORCE_NEW: dict[str, frozenset[str]] = {
    "aws:ec2/instance:Instance": frozenset({"ami", "availabilityZone", "subnetId", "keyName"}),
    "aws:rds/instance:Instance": frozenset({"engine", "identifier", "availabilityZone", "storageEncrypted",
                                            "dbSubnetGroupName", "username"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket"}),
    "aws:s3/bucketObjectv2:BucketObjectv2": frozenset({"bucket", "key"}),
    "aws:route53/record:Record": frozenset({"name", "type", "zoneId"}),
    "aws:acm/certificate:Certificate": frozenset({"domainName", "subjectAlternativeNames", "validationMethod"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"name", "internal", "loadBalancerType"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"name", "port", "protocol", "vpcId", "targetType"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "vpcId", "description"}),
    "aws:budgets/budget:Budget": frozenset({"name", "budgetType", "accountId"}),
    "aws:backup/vault:Vault": frozenset({"name"}),
    "aws:iam/role:Role": frozenset({"name"}),
    "aws:ssm/parameter:Parameter": frozenset({"name"}),
    "aws:scheduler/schedule:Schedule": frozenset({"name"}),
    "aws:ssm/document:Document": frozenset({"name"}),
    "aws:iam/instanceProfile:InstanceProfile": frozenset({"name"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:ec2/eip:Eip": frozenset({"domain"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "role"}),
    "pulumi:providers:": frozenset({"region", "location"}),
}
# azure-native: the resource's own name and its resource group or location never change in place.
AZURE_FORCE_NEW = frozenset({"resourceGroupName", "location"})


def _force_new(resource: Resource) -> frozenset[str]:
    keys = set(resource.replace_on_changes)
    for token, props in FORCE_NEW.items():
        if resource.type == token or (token.endswith(":") and resource.type.startswith(token)):
            keys |= props
    if resource.type.startswith("azure-native:"):
        keys |= AZURE_FORCE_NEW
        keys |= {k for k in resource.inputs if k.endswith("Name") and k != "resourceGroupName" and
                 k.lower().startswith(resource.type.rsplit(":", 1)[-1][:4].lower())}
    # dynamic providers (Intera) declare their immutable inputs as replaceOnChanges themselves
    return frozenset(keys)


def changed_keys(old: Resource, new: Resource) -> tuple[str, ...]:
    """Input keys that differ, except Pulumi's internal ones and those the program told the engine
    to ignore (``ignore_changes``, e.g. a clone's restore source after creation)."""
    keys = (set(old.inputs) | set(new.inputs)) - set(new.ignore_changes)
    return tuple(sorted(k for k in keys if old.inputs.get(k) != new.inputs.get(k) and not k.startswith("__")))


def diff_graphs(old: ResourceGraph | None, new: ResourceGraph | None) -> tuple[ResourceChange, ...]:
    before = old.by_urn() if old else {}
    after = new.by_urn() if new else {}
    changes: list[ResourceChange] = []
    for urn, resource in after.items():
        previous = before.get(urn)
        if previous is None:
            changes.append(ResourceChange(urn, resource.type, resource.name, Op.CREATE))
            continue
        changed = changed_keys(previous, resource)
        if not changed:
            continue
        forcing = tuple(k for k in changed if k in _force_new(resource))
        op = Op.REPLACE if forcing else Op.UPDATE
        changes.append(ResourceChange(urn, resource.type, resource.name, op, changed, forcing))
    for urn, resource in before.items():
        if urn not in after:
            changes.append(ResourceChange(urn, resource.type, resource.name, Op.DELETE))
    return tuple(sorted(changes, key=lambda c: (_op_order(c.op), c.type, c.name)))


def _op_order(op: Op) -> int:
    return {Op.DELETE: 3, Op.REPLACE: 1, Op.UPDATE: 2, Op.CREATE: 0}.get(op, 4)


def protected_losses(old: ResourceGraph | None, changes: tuple[ResourceChange, ...]) -> list[Resource]:
    """Protected resources (PROD data) that the changes would delete or replace."""
    if old is None:
        return []
    protected = {r.urn: r for r in old.resources if r.protect}
    return [protected[c.urn] for c in changes if c.op in (Op.DELETE, Op.REPLACE) and c.urn in protected]
