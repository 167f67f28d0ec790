"""The cost predictability alert as a consumption budget on the topology's resource group. The
portal offers it only on AWS; on Azure this stack implements it (``costAlert`` is ``Support.STACK``).

Monthly budget of ``monthlyLimit``, one notification per threshold (actual cost greater than the
threshold's percentage), sent to ``notify`` or else to the customer's contacts (or else to the
subscription's owners). Only when the alert is enabled. Azure allows five notifications per
budget, so more thresholds (the schema allows ten) make a second budget of the same amount.

Azure budgets count in the billing account's currency and have no currency field: ``monthlyLimit``
is taken as that currency's amount (BRL for the platform's Brazilian billing accounts).
"""

from __future__ import annotations

import pulumi_azure_native.consumption as consumption

from stacks.azure.context import AzureStack

MAX_NOTIFICATIONS = 5  # per budget, an Azure limit


def build_cost_alert(stack: AzureStack) -> list[consumption.Budget]:
    alert = stack.env.cost_alert
    if not (alert and alert.enabled and stack.supports("costAlert")):
        return []
    thresholds = sorted(set(alert.thresholds))
    chunks = [thresholds[i:i + MAX_NOTIFICATIONS] for i in range(0, len(thresholds), MAX_NOTIFICATIONS)]
    return [_budget(stack, index, chunk) for index, chunk in enumerate(chunks)]


def recipients(stack: AzureStack) -> list[str]:
    alert, customer = stack.env.cost_alert, stack.inp.customer
    return list(alert.notify) if alert and alert.notify else list(customer.contacts if customer else ())


def _notification(threshold: int, emails: list[str]) -> consumption.NotificationArgs:
    return consumption.NotificationArgs(
        enabled=True, operator="GreaterThan", threshold=threshold, threshold_type="Actual",
        contact_emails=emails or None, contact_roles=None if emails else ["Owner"])


def _budget(stack: AzureStack, index: int, thresholds: list[int]) -> consumption.Budget:
    suffix = () if index == 0 else (str(index + 1),)
    emails = recipients(stack)
    # Azure wants a past start inside the current month: the first day of the apply's month,
    # ignored afterwards (the budget renews monthly by itself).
    start = stack.apply_date().replace(day=1).isoformat() + "T00:00:00Z"
    return consumption.Budget(
        "budget" if index == 0 else f"budget-{index + 1}", budget_name=stack.name("budget", *suffix),
        scope=stack.group.id, amount=stack.env.cost_alert.monthly_limit, category="Cost", time_grain="Monthly",
        time_period=consumption.BudgetTimePeriodArgs(start_date=start),
        notifications={f"actual-greater-than-{t}": _notification(t, emails) for t in thresholds},
        opts=stack.opts(ignore_changes=["time_period"]))
