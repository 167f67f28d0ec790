"""Rules of Customer documents: the time zone."""

from __future__ import annotations

from typing import Iterator

from reconciler.model.diagnostics import Diagnostic
from reconciler.spec.rules import document_rule
from reconciler.spec.rules.schedule import timezone_problem


@document_rule("Customer")
def customer_timezone(doc: dict) -> Iterator[Diagnostic]:
    timezone = doc["spec"].get("timezone")
    if timezone is not None:
        problem = timezone_problem(timezone, ("spec", "timezone"))
        if problem:
            yield problem
