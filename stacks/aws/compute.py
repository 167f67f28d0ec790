"""The topology's EC2 instances, the role they run under, and their public address.

- ``app-<n>``: ``spec.instances`` instances of the product, type from ``catalog.INSTANCE_TYPES``
  by product and ``instanceSize``, image from the ``amiIds`` setting or ``catalog.AMIS``, spread
  over the subnets in turn; encrypted gp3 root volume; IMDSv2 only.
- ``indexer``: Fluig only, above 30 named users: the Fluig Indexer (Solr) gets its own instance
  (up to 30 it runs on the core instance, seed rule 17).
- ``agent-role``/``agent-profile``: the instance role the deployment agent runs under (SSM
  managed instance; what else it may read is granted by ``stacks.aws.agent``).
- ``public-ip``: an Elastic IP on the first instance when the topology is reached at one
  instance (a single instance) or serves SFTP: the address survives scheduled stops, so the
  domain's A record and the SFTP endpoint stay valid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi_aws.ec2 as ec2
import pulumi_aws.iam as iam

from reconciler.model import capabilities as caps
from stacks.aws import catalog
from stacks.aws.context import Stack
from stacks.aws.network import has_load_balancer, sftp_enabled

SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


@dataclass(frozen=True)
class Node:
    logical: str  # the Pulumi name, which names the resources that serve one instance
    instance: ec2.Instance


@dataclass(frozen=True)
class Nodes:
    named_app: tuple[Node, ...]
    named_indexer: Node | None = None

    @property
    def named(self) -> tuple[Node, ...]:
        return self.named_app + ((self.named_indexer,) if self.named_indexer else ())

    @property
    def app(self) -> tuple[ec2.Instance, ...]:
        return tuple(n.instance for n in self.named_app)

    @property
    def indexer(self) -> ec2.Instance | None:
        return self.named_indexer.instance if self.named_indexer else None

    @property
    def all(self) -> tuple[ec2.Instance, ...]:
        return tuple(n.instance for n in self.named)

    @property
    def primary(self) -> ec2.Instance:
        """The core instance: holds Protheus_Data / the Fluig volume, runs topology-wide jobs."""
        return self.app[0]


def assume_role_policy(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def agent_role(st: Stack) -> iam.Role:
    role = iam.Role("agent-role", name=st.name("agent"), assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
                    description=f"deployment agent of {st.env.name}", tags=st.tags(), opts=st.opts())
    iam.RolePolicyAttachment("agent-ssm", role=role.name, policy_arn=SSM_CORE_POLICY, opts=st.opts())
    return role


def agent_profile(st: Stack, role: iam.Role) -> iam.InstanceProfile:
    return iam.InstanceProfile("agent-profile", name=st.name("agent"), role=role.name, tags=st.tags(),
                               opts=st.opts())


def needs_indexer_instance(st: Stack) -> bool:
    return st.env.product == "fluig" and st.has("users") and (st.env.users or 0) > caps.INDEXER_CORE_MAX_USERS


def _instance(st: Stack, logical: str, role: str, index: int, instance_type: str, sg: ec2.SecurityGroup,
              profile: iam.InstanceProfile) -> Node:
    name = st.name(logical)
    size = st.env.instance_size
    return Node(logical, ec2.Instance(
        logical, ami=st.settings.ami(st.env.product), instance_type=instance_type,
        subnet_id=st.settings.subnet(index), vpc_security_group_ids=[sg.id], associate_public_ip_address=True,
        iam_instance_profile=profile.name,
        root_block_device=ec2.InstanceRootBlockDeviceArgs(volume_size=catalog.VOLUME_GB[size], volume_type="gp3",
                                                          encrypted=True),
        metadata_options=ec2.InstanceMetadataOptionsArgs(http_tokens="required"),
        tags=st.tags(Name=name, **{"totvs-role": role}), volume_tags=st.tags(Name=name), opts=st.opts()))


def instances(st: Stack, sg: ec2.SecurityGroup, profile: iam.InstanceProfile) -> Nodes:
    instance_type = catalog.INSTANCE_TYPES[st.env.product][st.env.instance_size]
    app = tuple(_instance(st, f"app-{n}", "app", n - 1, instance_type, sg, profile)
                for n in range(1, st.env.instances + 1))
    indexer = None
    if needs_indexer_instance(st):
        indexer = _instance(st, "indexer", "indexer", st.env.instances,
                            catalog.INDEXER_INSTANCE_TYPES[st.env.instance_size], sg, profile)
    return Nodes(app, indexer)


def needs_public_ip(st: Stack) -> bool:
    return not has_load_balancer(st) or sftp_enabled(st)


def public_ip(st: Stack, nodes: Nodes) -> ec2.Eip | None:
    if not needs_public_ip(st):
        return None
    return ec2.Eip("public-ip", domain="vpc", instance=nodes.primary.id, tags=st.tags(Name=st.name("ip")),
                   opts=st.opts())
