"""The topology's security group: who may reach which port of its instances, load balancer and
database.

One group serves the whole topology (instances, load balancer and database): the product ports,
HTTP/HTTPS when there is a load balancer or a domain, SFTP (2323) when enabled; the database port
is open only to members of the group itself (``self``), never to the internet. The VPC is the
platform's (setting ``vpcId``), not created per topology.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws.ec2 as ec2

from reconciler.model import capabilities as caps
from stacks.aws import catalog
from stacks.aws.context import Stack


@dataclass(frozen=True, slots=True)
class Rule:
    port: int
    what: str
    members_only: bool = False  # reachable only from resources in the same group


def fluig_http_port(st: Stack) -> int | None:
    """The http port of the FLUIG service, when the spec sets one."""
    return next((s.http_port for s in st.env.services if s.name == "FLUIG" and s.http_port), None)


def ports(st: Stack) -> catalog.Ports:
    return catalog.product_ports(st.env.product, fluig_http_port(st))


def has_load_balancer(st: Stack) -> bool:
    """A load balancer spreads users over the instances only when there is more than one."""
    return st.env.instances > 1


def sftp_enabled(st: Stack) -> bool:
    return st.env.sftp_enabled and st.has("sftp")


def rules(st: Stack) -> list[Rule]:
    product = ports(st)
    found = [Rule(product.web, f"{st.env.product} web"), *(Rule(p, what) for p, what in product.others)]
    if has_load_balancer(st) or (st.env.domain and st.has("domain")):
        found += [Rule(80, "HTTP"), Rule(443, "HTTPS")]
    if sftp_enabled(st):
        found.append(Rule(caps.SFTP_PORT, "SFTP (Protheus_Data)"))
    found.append(Rule(catalog.ENGINES[st.env.product].port, "database", members_only=True))
    unique = {r.port: r for r in found}  # RM's web port is 443 already
    return sorted(unique.values(), key=lambda r: r.port)


def _ingress(st: Stack, rule: Rule) -> ec2.SecurityGroupIngressArgs:
    if rule.members_only:
        return ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=rule.port, to_port=rule.port,
                                            self=True, description=rule.what)
    return ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=rule.port, to_port=rule.port,
                                        cidr_blocks=list(st.settings.allowed_cidrs), description=rule.what)


def security_group(st: Stack) -> ec2.SecurityGroup:
    return ec2.SecurityGroup(
        "sg", name=st.name("sg"), description=f"ERP topology {st.env.name}", vpc_id=st.settings.vpc_id,
        ingress=[_ingress(st, r) for r in rules(st)],
        egress=[ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"],
                                            description="updates, S3, SSM and the AWS APIs")],
        tags=st.tags(Name=st.name("sg")), opts=st.opts())
