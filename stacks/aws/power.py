"""Power of the topology's instances: always running, always stopped, or on a working-hours schedule.

- ``running``/``stopped``: one ``ec2transitgateway.InstanceState`` per instance holds the state.
- ``scheduled`` (seed "Configuração do Ambiente"): EventBridge Scheduler calls EC2 directly
  through its universal targets (``aws-sdk:ec2:startInstances``/``stopInstances``), one schedule
  per start and per stop event of each window (``stacks.common.schedule``), in the spec's
  timezone, under a role that may start and stop exactly the topology's instances. No
  InstanceState then: the schedules own the state, and a declared state would fight them.
"""

from __future__ import annotations

import pulumi
import pulumi_aws.ec2 as ec2
import pulumi_aws.ec2transitgateway as ec2transitgateway
import pulumi_aws.iam as iam
import pulumi_aws.scheduler as scheduler

from stacks.aws.compute import Nodes, assume_role_policy
from stacks.aws.context import Stack
from stacks.common.schedule import PowerEvent, aws_cron, power_events

ACTIONS = {"start": "ec2:StartInstances", "stop": "ec2:StopInstances"}
TARGETS = {"start": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
           "stop": "arn:aws:scheduler:::aws-sdk:ec2:stopInstances"}


def power(st: Stack, nodes: Nodes) -> None:
    if st.env.power in ("running", "stopped"):
        _fixed_state(st, nodes)
    elif st.env.power == "scheduled" and st.env.schedule and st.has("schedule"):
        _schedules(st, nodes.all)


def _fixed_state(st: Stack, nodes: Nodes) -> None:
    for node in nodes.named:
        ec2transitgateway.InstanceState(f"{node.logical}-power", instance_id=node.instance.id, state=st.env.power,
                                        opts=st.opts())


def _scheduler_role(st: Stack, instances: tuple[ec2.Instance, ...]) -> iam.Role:
    role = iam.Role("power-role", name=st.name("power"),
                    assume_role_policy=assume_role_policy("scheduler.amazonaws.com"),
                    description=f"starts and stops the instances of {st.env.name}", tags=st.tags(), opts=st.opts())
    policy = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": sorted(ACTIONS.values()), "Resource": [i.arn for i in instances]}]})
    iam.RolePolicy("power-policy", role=role.id, name="start-stop-instances", policy=policy, opts=st.opts())
    return role


def _schedule(st: Stack, event: PowerEvent, role: iam.Role, instances: tuple[ec2.Instance, ...]) -> None:
    number = str(event.window + 1)
    target = scheduler.ScheduleTargetArgs(
        arn=TARGETS[event.action], role_arn=role.arn,
        input=pulumi.Output.json_dumps({"InstanceIds": [i.id for i in instances]}))
    scheduler.Schedule(
        f"power-{event.action}-{number}", name=st.name(event.action, number), schedule_expression=aws_cron(event),
        schedule_expression_timezone=st.env.schedule.timezone,
        flexible_time_window=scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"), target=target,
        description=f"{event.action} {st.env.name}: window {number}", opts=st.opts())


def _schedules(st: Stack, instances: tuple[ec2.Instance, ...]) -> None:
    role = _scheduler_role(st, instances)
    for event in power_events(st.env.schedule):
        _schedule(st, event, role, instances)
