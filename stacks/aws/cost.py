"""The cost predictability alert (seed "Configuração do Ambiente", AWS): an AWS Budget.

A monthly COST budget of ``costAlert.monthlyLimit`` filtered to the topology's resources by the
``totvs-topology`` tag (the platform activates it as a cost allocation tag), with one ACTUAL,
GREATER_THAN, PERCENTAGE notification per threshold, e-mailed to ``costAlert.notify`` or else to
the customer's contacts. Only when the alert is enabled.

Currency: the limit unit is the spec's currency as given (BRL by default). AWS Budgets compares it
with the account's billing currency: an account billed in BRL takes BRL; one billed in USD needs
the spec to say USD (converting here would make the alert move with the exchange rate).

AWS allows at most 5 notifications per budget: more thresholds are spread over further budgets
(``cost-2``, ...) with the same limit. At most 10 e-mail subscribers per notification: more is
refused with a clear error rather than silently dropping recipients.
"""

from __future__ import annotations

import pulumi_aws.budgets as budgets

from stacks.aws import catalog
from stacks.aws.context import Stack


def limit_amount(value: float) -> str:
    """4500 -> "4500", 4500.5 -> "4500.5" (the API's decimal string, no float noise)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def recipients(st: Stack) -> list[str]:
    alert = st.env.cost_alert
    emails = list(alert.notify) or list(st.inp.customer.contacts if st.inp.customer else ())
    if not emails:
        raise ValueError(f"{st.env.name}: costAlert has no recipient: set costAlert.notify or the customer's contacts")
    if len(emails) > catalog.BUDGET_MAX_EMAILS:
        raise ValueError(f"{st.env.name}: AWS Budgets e-mails at most {catalog.BUDGET_MAX_EMAILS} addresses per "
                         f"alert; costAlert has {len(emails)}")
    return emails


def _notification(threshold: int, emails: list[str]) -> budgets.BudgetNotificationArgs:
    return budgets.BudgetNotificationArgs(comparison_operator="GREATER_THAN", notification_type="ACTUAL",
                                          threshold=threshold, threshold_type="PERCENTAGE",
                                          subscriber_email_addresses=emails)


def threshold_groups(thresholds: tuple[int, ...]) -> list[list[int]]:
    ordered = sorted(set(thresholds))
    size = catalog.BUDGET_MAX_NOTIFICATIONS
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def cost_alert(st: Stack) -> list[budgets.Budget]:
    alert = st.env.cost_alert
    if not (alert and alert.enabled and st.has("costAlert")):
        return []
    emails = recipients(st)
    made = []
    for n, group in enumerate(threshold_groups(alert.thresholds), 1):
        suffix = () if n == 1 else (str(n),)
        made.append(budgets.Budget(
            "cost" if n == 1 else f"cost-{n}", name=st.name("cost", *suffix), budget_type="COST", time_unit="MONTHLY",
            limit_amount=limit_amount(alert.monthly_limit), limit_unit=alert.currency,
            cost_filters=[budgets.BudgetCostFilterArgs(name="TagKeyValue",
                                                       values=[f"user:totvs-topology${st.env.name}"])],
            notifications=[_notification(t, emails) for t in group], tags=st.tags(), opts=st.opts()))
    return made
