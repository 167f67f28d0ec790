"""Drift made behind the daemon's back with the sandbox's OutOfBand: reported by default,
remediated under ``driftPolicy: remediate``, checked on its interval. (That a schedule's power
changes are not drift is ``check_drift``'s rule, tested with it.)"""

from __future__ import annotations

import datetime as dt

from reconciler.engines.sandbox import OutOfBand, cloud_graph
from reconciler.planning.drift import power_state_keys
from reconciler.store import controls
from tests.daemon.conftest import DEV, PROD, conditions, events, pipelines, reconcile


def power(daemon, environment: str) -> set:
    return {r.inputs[k] for r in cloud_graph(daemon.db, environment).resources for k in power_state_keys(r)}


def test_drift_is_reported_and_left_alone_by_default(gitops, make_daemon):
    daemon = make_daemon(gitops.root, drift_interval=0.001)
    reconcile(daemon)
    assert events(daemon, "drift-found") == []  # just applied: the cloud is what was recorded

    OutOfBand(daemon.db).set_power(PROD, "stopped")
    reconcile(daemon)

    found = events(daemon, "drift-found")
    assert [e["environment"] for e in found] == [PROD]
    ready = conditions(daemon, PROD)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "DriftDetected")
    assert conditions(daemon, DEV)["Ready"]["status"] == "True"
    assert power(daemon, PROD) == {"stopped"}  # reported only
    assert controls.get(daemon.db, PROD).drift
    assert 'reconciler_drift_found_total{environment="globex-protheus-prod",policy="report"} 1.0' in \
        daemon.metrics.render().decode()


def test_drift_is_remediated_when_the_policy_says_so(gitops, make_daemon):
    gitops.edit("globex/protheus-prod.yaml", "power: running", "power: running\n  driftPolicy: remediate")
    gitops.commit("remediate drift in PROD")
    daemon = make_daemon(gitops.root, drift_interval=0.001)
    reconcile(daemon)
    OutOfBand(daemon.db).set_power(PROD, "stopped")

    reconcile(daemon)

    assert power(daemon, PROD) == {"running"}
    last = pipelines(daemon, PROD)[-1]
    assert last.actions == ("remediate-drift",) and last.status.value == "succeeded"
    ready = conditions(daemon, PROD)["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "DriftRemediated")
    assert controls.get(daemon.db, PROD).drift == []


def test_drift_checks_wait_for_their_interval(gitops, make_daemon):
    daemon = make_daemon(gitops.root)  # one hour
    reconcile(daemon)
    OutOfBand(daemon.db).set_power(PROD, "stopped")
    reconcile(daemon)
    assert events(daemon, "drift-found") == []
    assert daemon.drift.seconds_to_next() > 3000


def test_a_failed_check_waits_for_the_next_interval_too(gitops, make_daemon, monkeypatch):
    from reconciler.apply.drift import DriftReport
    from reconciler.store.tables import environments as table

    daemon = make_daemon(gitops.root, drift_interval=60)
    reconcile(daemon)
    with daemon.db.transaction() as connection:  # applied two hours ago: a check is due
        connection.execute(table.update().values(applied_at=daemon.db.clock() - dt.timedelta(hours=2)))
    assert daemon.drift.seconds_to_next() == 0
    checked = []
    monkeypatch.setattr("reconciler.daemon.driftcheck.check_drift", lambda db, engine, names: checked.extend(names)
                        or [DriftReport(n, error="the cloud API is down") for n in names])

    daemon.step(max_wait=0)

    assert sorted(checked) == sorted([DEV, PROD])
    assert daemon.drift.seconds_to_next() > 30  # not due again at once: the loop would spin
