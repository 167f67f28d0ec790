"""Property: a plan of the desired state against its own applied state is empty, and writing the
same state differently (reordered lists, defaults written out) changes nothing."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.model.spec import Environment, spec_digest
from reconciler.planning.actions import Side, compare
from reconciler.planning.planner import Desired, PlanningInput, make_plan
from reconciler.planning.resources import diff_graphs
from reconciler.synth import synthesize
from stacks.common.inputs import StackInput
from tests.conftest import CUSTOMER
from tests.planning.helpers import ARTIFACTS, NOW, backup, doc, recorded

WINDOWS = [{"days": ["mon", "tue"], "start": "07:00", "end": "12:00"},
           {"days": ["wed", "thu", "fri"], "start": "08:00", "end": "18:00"},
           {"days": ["sat"], "start": "22:00", "end": "02:00", "overnight": True}]


@st.composite
def specs(draw):
    power = draw(st.sampled_from(["running", "stopped", "scheduled"]))
    windows = draw(st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=3, unique_by=lambda w: w["start"]))
    envs = draw(st.lists(st.sampled_from([{"name": "P12", "language": "pt"}, {"name": "P12ES", "language": "es"},
                                          {"name": "P12EN", "language": "en"}]), min_size=1, max_size=3,
                         unique_by=lambda e: e["name"]))
    data = doc(power=power, schedule={"timezone": "America/Sao_Paulo", "windows": windows}
               if power == "scheduled" else None,
               instances=draw(st.integers(1, 3)), instanceSize=draw(st.sampled_from(["small", "medium", "large"])),
               environments=envs, patches=[{"file": "artifacts/fix.ptm", "language": envs[0]["language"]}],
               costAlert={"enabled": True, "monthlyLimit": draw(st.integers(100, 9000)),
                          "thresholds": draw(st.lists(st.sampled_from([50, 80, 100]), min_size=1, unique=True))}
               if draw(st.booleans()) else None,
               sftp={"enabled": draw(st.booleans())}, exclusiveAccess=draw(st.booleans()))
    return data


def shuffled(data: dict, seed: int) -> dict:
    """The same state written differently: lists reversed, defaults written out, keys reordered."""
    out = copy.deepcopy(data)
    spec = out["spec"]
    for key in ("environments", "services", "patches"):
        spec[key] = list(reversed(spec.get(key) or [])) or spec.get(key)
    if spec.get("schedule"):
        spec["schedule"]["windows"] = list(reversed(spec["schedule"]["windows"]))
        for window in spec["schedule"]["windows"]:
            window["days"] = list(reversed(window["days"]))
            window.setdefault("overnight", False)
    if spec.get("costAlert"):
        spec["costAlert"]["thresholds"] = sorted(spec["costAlert"]["thresholds"], reverse=bool(seed % 2))
        spec["costAlert"].setdefault("currency", "BRL")
    out["spec"] = dict(reversed(list(spec.items())))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.integers(0, 3))
def test_plan_against_its_own_applied_state_is_empty(data, seed):
    env = Environment.from_document(data)
    graph = synthesize(StackInput.from_documents(data, CUSTOMER, artifacts=ARTIFACTS))
    applied = recorded(data, graph)
    manual = [backup(m.name, 400) for m in env.backup.manual]
    again = shuffled(data, seed)
    env_again = Environment.from_document(again)
    assert spec_digest(env_again) == spec_digest(env)
    graph_again = synthesize(StackInput.from_documents(again, CUSTOMER, artifacts=ARTIFACTS))
    assert diff_graphs(graph, graph_again) == ()
    desired = Desired(env.name, env_again, again, None, spec_digest(env_again), "sha256:new", dict(ARTIFACTS), {},
                      graph_again)
    plan = make_plan(PlanningInput(desired={env.name: desired}, recorded={env.name: applied}, removed=(),
                                   desired_count=1, recorded_count=1, backups={env.name: manual}, now=NOW))
    assert not plan.has_changes and not plan.refused
    assert compare(Side(env, dict(ARTIFACTS)), Side(env_again, dict(ARTIFACTS)), backups=manual, now=NOW).actions == []
