"""Property: whatever the bytes, validation returns diagnostics and never raises."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.spec.repository import check_repository
from reconciler.spec.validate import check_file
from tests.conftest import CUSTOMER, FLUIG, PROTHEUS

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["on", "off", "yes", "PROD", "aws", "pt", "07:00", "25:99",
                                                           "scheduled", "America/Sao_Paulo", "../x", "/etc/passwd"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=20)


def _check(raw: bytes) -> None:
    entry = check_file("fuzz.yaml", raw)
    list(check_repository(entry.documents))
    for diagnostic in entry.diagnostics:
        assert diagnostic.rule and diagnostic.message and diagnostic.line >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes(raw):
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    _check(text.encode("utf-8", "surrogatepass"))


FIELDS = [("spec",), ("metadata",), ("spec", "schedule"), ("spec", "schedule", "windows"), ("spec", "environments"),
          ("spec", "patches"), ("spec", "services"), ("spec", "backup"), ("spec", "domain"), ("spec", "costAlert"),
          ("spec", "power"), ("spec", "type"), ("spec", "product"), ("spec", "cloud"), ("spec", "rpo"),
          ("spec", "widgets"), ("spec", "version"), ("metadata", "name"), ("spec", "fluigConfig")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([PROTHEUS, FLUIG, CUSTOMER]), st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=4))
def test_valid_documents_with_arbitrary_parts(base, replacements):
    doc = copy.deepcopy(base)
    for path, value in replacements:
        node = doc
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = value
    _check(yaml.safe_dump(doc, allow_unicode=True).encode())
