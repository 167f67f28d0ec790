"""Power: ``running``, ``stopped`` or ``scheduled``. The portal offers working-hours schedules only
on AWS; on Azure this stack implements them (``schedule`` is ``Support.STACK``).

The actor is an Automation account (system identity, Virtual Machine Contributor on the group) with
the runbook ``Set-ErpPower``, which starts or deallocates the topology's VMs (tag
``totvs-topology``): ``-Action start``, ``-Action stop``, or ``-Action converge``, which applies the
desired state kept in the account's variable ``DesiredPowerState``.

- running / stopped: the desired state is data, the variable; no schedule keeps a topology stopped
  or running. After an apply that changes it, the reconciler runs the runbook once with
  ``-Action converge`` (the ``power`` export names the account, runbook and desired state). The
  account exists in every power state, so that a stopped topology can always be started again.
- scheduled: every window gives a start and a stop event (``stacks.common.schedule``). Starts are
  Automation schedules (weekly on the event's days, at its time in the spec's IANA time zone),
  each linked to the runbook by a job schedule with ``Action=start``. Stops use the VMs' own
  auto-shutdown (DevTest Labs ``shutdown-computevm-<vm>``) when that is exact: auto-shutdown is
  daily only, at one time, so it is used when every stop event happens at the same time of day
  (on days without a window the VMs are already off, so a daily stop changes nothing) and the
  time zone has a Windows id. Otherwise (e.g. 20:00 on weekdays but 13:00 on Saturdays) each stop
  event is an Automation schedule with ``Action=stop`` too.

Schedules are named after their action, days and time: Azure cannot change a schedule's
recurrence in place, so a new time is a new schedule. Their ``startTime`` (first possible run,
which Azure wants in the future) is the day after ``settings.applyDate`` at the event's time,
ignored after creation so that a later apply date never churns the schedules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.automation as automation
import pulumi_azure_native.devtestlab as devtestlab

from reconciler.model.spec import Schedule
from stacks.azure.context import AzureStack
from stacks.azure.machines import Machines, Vm
from stacks.azure.tables import ROLE_VM_CONTRIBUTOR, WINDOWS_TIME_ZONES
from stacks.common.schedule import LONG_DAYS, PowerEvent, power_events

RUNBOOK = "Set-ErpPower"
RUNBOOK_VERSION = "1.0.0"
# The runbook is platform code, published by the platform (settings: powerRunbookUri).
DEFAULT_RUNBOOK_URI = ("https://cloudtotvsplatform.blob.core.windows.net/runbooks/"
                       f"{RUNBOOK}/{RUNBOOK_VERSION}/{RUNBOOK}.ps1")
DESIRED_STATE_VARIABLE = "DesiredPowerState"


@dataclass(frozen=True)
class Power:
    account: automation.AutomationAccount
    runbook: automation.Runbook
    schedules: tuple[automation.Schedule, ...]
    shutdowns: tuple[devtestlab.GlobalSchedule, ...]

    def export(self, stack: AzureStack) -> dict:
        return {"desired": stack.env.power, "automationAccount": self.account.name, "runbook": RUNBOOK,
                "variable": DESIRED_STATE_VARIABLE}


def build_power(stack: AzureStack, machines: Machines) -> Power:
    account = _account(stack)
    _may_start_and_stop_vms(stack, account)
    runbook = _runbook(stack, account)
    _desired_state(stack, account)
    schedules: list[automation.Schedule] = []
    shutdowns: list[devtestlab.GlobalSchedule] = []
    schedule = stack.env.schedule
    if stack.env.power == "scheduled" and schedule and stack.supports("schedule"):
        events = power_events(schedule)
        daily_stop = auto_shutdown_time(schedule)
        for event in events:
            if event.action == "start" or daily_stop is None:
                schedules.append(_scheduled_run(stack, account, runbook, event, schedule.timezone))
        if daily_stop is not None:
            shutdowns = [_auto_shutdown(stack, vm, daily_stop, WINDOWS_TIME_ZONES[schedule.timezone])
                         for vm in machines.vms]
    return Power(account, runbook, tuple(schedules), tuple(shutdowns))


def auto_shutdown_time(schedule: Schedule) -> str | None:
    """``HHmm`` of the daily auto-shutdown, or None when it cannot express the stops exactly."""
    stops = {(e.hour, e.minute) for e in power_events(schedule) if e.action == "stop"}
    if len(stops) != 1 or schedule.timezone not in WINDOWS_TIME_ZONES:
        return None
    hour, minute = stops.pop()
    return f"{hour:02d}{minute:02d}"


def _account(stack: AzureStack) -> automation.AutomationAccount:
    return automation.AutomationAccount(
        "automation", automation_account_name=stack.name("automation", max_length=50),
        resource_group_name=stack.group_name, location=stack.location, sku=automation.SkuArgs(name="Basic"),
        identity=automation.IdentityArgs(type="SystemAssigned"), tags=stack.tags(), opts=stack.opts())


def _may_start_and_stop_vms(stack: AzureStack, account: automation.AutomationAccount) -> authorization.RoleAssignment:
    """The account's identity may start and deallocate the group's VMs (Virtual Machine Contributor)."""
    return authorization.RoleAssignment(
        "automation-vm-contributor", role_assignment_name=stack.guid("automation-vm-contributor"),
        scope=stack.group.id, principal_id=account.identity.apply(lambda identity: identity.principal_id),
        principal_type="ServicePrincipal", role_definition_id=stack.role_definition(ROLE_VM_CONTRIBUTOR),
        description=f"power runbook of {stack.env.name} starts and deallocates its VMs", opts=stack.opts())


def _runbook(stack: AzureStack, account: automation.AutomationAccount) -> automation.Runbook:
    return automation.Runbook(
        "power-runbook", runbook_name=RUNBOOK, automation_account_name=account.name,
        resource_group_name=stack.group_name, location=stack.location, runbook_type="PowerShell",
        publish_content_link=automation.ContentLinkArgs(uri=stack.inp.setting("powerRunbookUri", DEFAULT_RUNBOOK_URI),
                                                        version=RUNBOOK_VERSION),
        description="Starts, deallocates or converges the topology's VMs", log_progress=False, log_verbose=False,
        tags=stack.tags(), opts=stack.opts())


def _desired_state(stack: AzureStack, account: automation.AutomationAccount) -> automation.Variable:
    # Automation variables hold JSON: a string value is quoted.
    return automation.Variable(
        "power-desired-state", variable_name=DESIRED_STATE_VARIABLE, name=DESIRED_STATE_VARIABLE,
        automation_account_name=account.name, resource_group_name=stack.group_name,
        value=json.dumps(stack.env.power), is_encrypted=False,
        description="running | stopped | scheduled: what Set-ErpPower -Action converge applies", opts=stack.opts())


def schedule_name(event: PowerEvent) -> str:
    return f"{event.action}-{'-'.join(event.days)}-{event.hour:02d}{event.minute:02d}"


def start_time(stack: AzureStack, event: PowerEvent, timezone: str) -> str:
    """The first possible run: the day after the apply at the event's time, with the zone's offset."""
    day = stack.apply_date() + timedelta(days=1)
    return datetime.combine(day, time(event.hour, event.minute), tzinfo=ZoneInfo(timezone)).isoformat()


def _scheduled_run(stack: AzureStack, account: automation.AutomationAccount, runbook: automation.Runbook,
                   event: PowerEvent, timezone: str) -> automation.Schedule:
    name = schedule_name(event)
    schedule = automation.Schedule(
        f"schedule-{name}", schedule_name=name, name=name, automation_account_name=account.name,
        resource_group_name=stack.group_name, frequency="Week", interval=1,
        start_time=start_time(stack, event, timezone), time_zone=timezone,
        advanced_schedule=automation.AdvancedScheduleArgs(week_days=[LONG_DAYS[d] for d in event.days]),
        description=f"{event.action} the topology's VMs ({timezone})",
        opts=stack.opts(ignore_changes=["start_time"]))
    automation.JobSchedule(
        f"job-{name}", job_schedule_id=stack.guid("job", name), automation_account_name=account.name,
        resource_group_name=stack.group_name, runbook=automation.RunbookAssociationPropertyArgs(name=runbook.name),
        schedule=automation.ScheduleAssociationPropertyArgs(name=schedule.name),
        parameters={"ResourceGroupName": stack.group_name, "Topology": stack.env.name, "Action": event.action},
        opts=stack.opts())
    return schedule


def _auto_shutdown(stack: AzureStack, vm: Vm, hhmm: str, windows_zone: str) -> devtestlab.GlobalSchedule:
    return devtestlab.GlobalSchedule(
        f"{vm.key}-shutdown", name=f"shutdown-computevm-{vm.name}", resource_group_name=stack.group_name,
        location=stack.location, status="Enabled", task_type="ComputeVmShutdownTask",
        daily_recurrence=devtestlab.DayDetailsArgs(time=hhmm), time_zone_id=windows_zone,
        target_resource_id=vm.resource.id,
        notification_settings=devtestlab.NotificationSettingsArgs(status="Disabled"),
        tags=stack.tags(), opts=stack.opts())
