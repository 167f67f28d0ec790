"""The domain rules of DOMAIN.md, as small functions over one validated-shape document.

A rule is ``rule(doc, ctx) -> iterable of Diagnostic`` registered for a kind with
``@document_rule(kind)``. Rules are pure: they read the document's plain data (never files; the
artifact checks live in ``artifacts`` because they read the file system, and the cross-document
rules in ``repository``). A rule that meets a shape the schema already refused may fail; such a
failure is dropped, because the schema diagnostic already says what is wrong. A rule that fails
on a document that passed the schema is a bug, reported as an ``internal`` diagnostic.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from reconciler.model.diagnostics import Diagnostic, error

DocumentRule = Callable[[dict[str, Any]], Iterable[Diagnostic]]
_RULES: dict[str, list[DocumentRule]] = {"Environment": [], "Customer": []}


def document_rule(kind: str) -> Callable[[DocumentRule], DocumentRule]:
    def register(fn: DocumentRule) -> DocumentRule:
        _RULES[kind].append(fn)
        return fn
    return register


def run_document_rules(kind: str, doc: dict[str, Any], schema_ok: bool) -> list[Diagnostic]:
    _load_rule_modules()
    found: list[Diagnostic] = []
    for rule in _RULES.get(kind, ()):
        try:
            found.extend(rule(doc))
        except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
            if schema_ok:
                found.append(error("internal", f"rule {rule.__name__} failed: {exc!r}", (),
                                   "this is a bug of the reconciler; please report it with the document"))
    return found


_loaded = False


def _load_rule_modules() -> None:
    global _loaded
    if not _loaded:
        from reconciler.spec.rules import (  # noqa: F401  (registration by import)
            capability, customer, environment, protheus, fluig, schedule,
        )
        _loaded = True
