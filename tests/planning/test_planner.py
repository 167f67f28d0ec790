"""Assembling plans: operations, protections that refuse, ordering across environments."""

from __future__ import annotations

import dataclasses

from reconciler.model.plan import Op
from reconciler.model.spec import Environment, spec_digest
from reconciler.planning.planner import Desired, PlanningInput, make_plan
from tests.planning.helpers import ARTIFACTS, NOW, backup, doc, graph, recorded

G1 = graph(("aws:ec2/instance:Instance", "app-1", {"instanceType": "m6i.large", "ami": "ami-1"}),
           ("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.m6g.large"}),
           protect={"db"})


def desired(data=None, g=G1, derived=None, name=None, **spec) -> Desired:
    data = data or doc(**spec)
    if name:
        data["metadata"]["name"] = name
    env = Environment.from_document(data)
    return Desired(env.name, env, data, None, spec_digest(env), "sha256:new", dict(ARTIFACTS), derived or {}, g)


def planning(**kwargs) -> PlanningInput:
    base = dict(desired={}, recorded={}, removed=(), desired_count=1, recorded_count=1, now=NOW, revision="abc")
    base.update(kwargs)
    return PlanningInput(**base)


def test_create_counts_and_operation():
    d = desired()
    plan = make_plan(planning(desired={d.name: d}, recorded_count=0))
    change = plan.changes[0]
    assert change.operation is Op.CREATE and change.counts() == {"add": 2, "change": 0, "destroy": 0}
    assert plan.summary()["add"] == 2 and not plan.refused and plan.has_changes


def test_same_state_plans_nothing():
    d = desired()
    plan = make_plan(planning(desired={d.name: d}, recorded={d.name: recorded(d.document, G1)},
                              backups={d.name: [backup("Backup_1", 400)]}))
    assert not plan.has_changes and plan.unchanged == 1


def test_bookkeeping_only_when_nothing_synthesised():
    d = dataclasses.replace(desired(), graph=None)
    plan = make_plan(planning(desired={d.name: d}, recorded={d.name: recorded(d.document, G1)}))
    assert not plan.has_changes and plan.changes[0].operation is Op.NOOP and plan.changes[0].state_serial == 1


def test_update_replace_and_protected_data():
    bigger = graph(("aws:ec2/instance:Instance", "app-1", {"instanceType": "m6i.xlarge", "ami": "ami-1"}),
                   ("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.m6g.large"}),
                   protect={"db"})
    d = desired(g=bigger, instanceSize="xlarge")
    plan = make_plan(planning(desired={d.name: d}, recorded={d.name: recorded(doc(), G1)}))
    [resource] = plan.changes[0].resources
    assert resource.op is Op.UPDATE and resource.changed == ("instanceType",) and not plan.refused
    new_engine = graph(("aws:ec2/instance:Instance", "app-1", {"instanceType": "m6i.large", "ami": "ami-1"}),
                       ("aws:rds/instance:Instance", "db", {"engine": "mysql", "instanceClass": "db.m6g.large"}),
                       protect={"db"})
    d = desired(g=new_engine)
    plan = make_plan(planning(desired={d.name: d}, recorded={d.name: recorded(doc(), G1)}))
    assert plan.changes[0].resources[0].op is Op.REPLACE
    assert plan.refused and "protected production data" in plan.refusals[0]


def test_prod_removal_is_refused_even_with_allow_destroy():
    r = recorded(doc(), G1)
    plan = make_plan(planning(removed=(r.name,), recorded={r.name: r}, desired_count=3, recorded_count=4,
                              allow_destroy=True))
    assert plan.refused and "never removed" in plan.refusals[0] and not plan.changes


def test_qa_removal_needs_allow_destroy_and_backs_up_first():
    r = recorded(doc(type="QA"), G1)
    refused = make_plan(planning(removed=(r.name,), recorded={r.name: r}, desired_count=3, recorded_count=4))
    assert refused.refused and "--allow-destroy" in refused.refusals[0]
    plan = make_plan(planning(removed=(r.name,), recorded={r.name: r}, desired_count=3, recorded_count=4,
                              allow_destroy=True))
    change = plan.changes[0]
    assert not plan.refused and change.operation is Op.DELETE
    assert [a.kind for a in change.actions] == ["backup-before-remove", "remove-topology"]
    assert {r.op for r in change.resources} == {Op.DELETE}


def test_empty_desired_set_fails_closed():
    r = recorded(doc(type="DEV"), G1)
    plan = make_plan(planning(removed=(r.name,), recorded={r.name: r}, desired_count=0, recorded_count=1,
                              allow_destroy=True))
    assert plan.refused and "declares no environment" in plan.refusals[0]


def test_removing_more_than_the_allowed_share_fails_closed():
    records = {f"dev-{i}": dataclasses.replace(recorded(doc(type="DEV"), G1), name=f"dev-{i}") for i in range(3)}
    plan = make_plan(planning(removed=tuple(records), recorded=records, desired_count=2, recorded_count=5,
                              allow_destroy=True, max_destroy_fraction=0.5))
    assert plan.refused and "3 of 5" in plan.refusals[-1]
    small = make_plan(planning(removed=("dev-0",), recorded=records, desired_count=4, recorded_count=5,
                               allow_destroy=True))
    assert not small.refused


def test_promotion_runs_after_its_source():
    qa = desired(name="acme-qa", type="QA", patches=[{"file": "artifacts/fix.ptm", "language": "pt"}],
                 domain={"subdomain": "qa"})
    prod = desired(rpo={"promoteFrom": "acme-qa"}, derived={"rpoSource": "sha256:x"})
    plan = make_plan(planning(desired={qa.name: qa, prod.name: prod}, desired_count=2, recorded_count=0))
    by_name = {c.environment: c for c in plan.changes}
    assert by_name["acme-protheus-prod"].after == ("acme-qa",) and by_name["acme-qa"].after == ()


def test_plan_round_trips_through_json():
    import json

    from reconciler.model.plan import Plan

    d = desired()
    plan = make_plan(planning(desired={d.name: d}, recorded_count=0))
    again = Plan.from_data(json.loads(json.dumps(plan.to_data())))
    assert again == plan
