"""The load balancer, only when the topology has more than one instance.

An internet-facing Application Load Balancer in the topology's security group and subnets, one
target group on the product's web port (sticky: ERP web sessions live on one AppServer), one
attachment per application instance (the Fluig indexer serves no users), an HTTP listener on 80
and, when there is a certificate (``stacks.aws.dns.certificate_arn``), an HTTPS listener on 443
with the HTTP listener redirecting to it.
"""

from __future__ import annotations

import pulumi
import pulumi_aws.ec2 as ec2
import pulumi_aws.lb as lb

from stacks.aws import catalog
from stacks.aws.compute import Nodes
from stacks.aws.context import Stack
from stacks.aws.network import has_load_balancer, ports

NAME_MAX = 32  # ELB names (load balancers and target groups)
STICKY_SECONDS = 8 * 3600  # a working day's session


def _target_group(st: Stack) -> lb.TargetGroup:
    web = ports(st)
    return lb.TargetGroup(
        "web", name=st.name("web", max_length=NAME_MAX), port=web.web, protocol=web.web_protocol,
        target_type="instance", vpc_id=st.settings.vpc_id,
        health_check=lb.TargetGroupHealthCheckArgs(path="/", protocol=web.web_protocol, matcher="200-399"),
        stickiness=lb.TargetGroupStickinessArgs(type="lb_cookie", enabled=True, cookie_duration=STICKY_SECONDS),
        tags=st.tags(), opts=st.opts())


def _forward(group: lb.TargetGroup) -> lb.ListenerDefaultActionArgs:
    return lb.ListenerDefaultActionArgs(type="forward", target_group_arn=group.arn)


def _to_https() -> lb.ListenerDefaultActionArgs:
    return lb.ListenerDefaultActionArgs(type="redirect", redirect=lb.ListenerDefaultActionRedirectArgs(
        port="443", protocol="HTTPS", status_code="HTTP_301"))


def _listeners(st: Stack, balancer: lb.LoadBalancer, group: lb.TargetGroup,
               certificate: pulumi.Input[str] | None) -> None:
    http_action = _to_https() if certificate else _forward(group)
    lb.Listener("http", load_balancer_arn=balancer.arn, port=80, protocol="HTTP", default_actions=[http_action],
                tags=st.tags(), opts=st.opts())
    if certificate:
        lb.Listener("https", load_balancer_arn=balancer.arn, port=443, protocol="HTTPS",
                    ssl_policy=catalog.TLS_POLICY, certificate_arn=certificate, default_actions=[_forward(group)],
                    tags=st.tags(), opts=st.opts())


def load_balancer(st: Stack, sg: ec2.SecurityGroup, nodes: Nodes,
                  certificate: pulumi.Input[str] | None) -> lb.LoadBalancer | None:
    if not has_load_balancer(st):
        return None
    balancer = lb.LoadBalancer(
        "lb", name=st.name("lb", max_length=NAME_MAX), load_balancer_type="application", internal=False,
        security_groups=[sg.id], subnets=list(st.settings.subnet_ids), tags=st.tags(), opts=st.opts())
    group = _target_group(st)
    for node in nodes.named_app:
        lb.TargetGroupAttachment(f"web-{node.logical}", target_group_arn=group.arn, target_id=node.instance.id,
                                 port=ports(st).web, opts=st.opts())
    _listeners(st, balancer, group, certificate)
    return balancer
