"""Domain actions between a recorded and a desired environment: every kind, in the portal's words."""

from __future__ import annotations

import pytest

from reconciler.model.plan import ACTION_KINDS
from reconciler.planning.actions import compare as _compare, ordered, removal
from tests.planning.helpers import NOW, backup, doc, side


def compare(old, new, backups=None, now=NOW):
    """As the planner calls it: by default the old side's manual backups exist (taken long ago)."""
    if backups is None:
        backups = [backup(m.name, 400) for m in old.env.backup.manual] if old else []
    return _compare(old, new, backups=backups, now=now)


def kinds(found):
    return [a.kind for a in ordered(found.actions)]


def test_same_environment_has_no_actions():
    assert compare(side(), side(), now=NOW).actions == []


def test_creation_lists_what_the_new_topology_gets():
    found = compare(None, side(), now=NOW)
    assert kinds(found)[0] == "create-topology"
    assert {"environment-create", "patch-apply", "schedule-set", "cost-alert-set", "domain-change", "sftp-enable",
            "backup-policy", "backup-create", "update-components", "ini-change"} <= set(kinds(found))
    assert "power-on" not in kinds(found)  # a new topology starts as its spec says


def test_clone_on_creation():
    found = compare(None, side(doc(cloneFrom="acme-src")), now=NOW)
    assert kinds(found)[0] == "clone-topology" and found.actions[0].details == {"source": "acme-src"}


@pytest.mark.parametrize("before,after,expected", [
    (dict(power="stopped", schedule=None), dict(power="running", schedule=None), ["power-on"]),
    (dict(power="running", schedule=None), dict(power="stopped", schedule=None), ["power-off"]),
    (dict(power="running", schedule=None), dict(), ["schedule-set"]),
    (dict(), dict(power="running", schedule=None), ["power-on", "schedule-remove"]),
    (dict(), dict(power="stopped", schedule=None), ["schedule-remove", "power-off"]),
])
def test_power_and_schedule(before, after, expected):
    assert kinds(compare(side(**before), side(**after), now=NOW)) == expected


def test_schedule_change_and_reordered_windows():
    base = side()
    windows = list(reversed(doc()["spec"]["schedule"]["windows"]))
    reordered = side(schedule={"timezone": "America/Sao_Paulo", "windows": windows})
    assert kinds(compare(base, reordered, now=NOW)) == []
    moved = side(schedule={"timezone": "America/Sao_Paulo", "windows": [{"days": ["mon"], "start": "08:00",
                                                                         "end": "18:00"}]})
    found = compare(base, moved, now=NOW)
    assert kinds(found) == ["schedule-change"] and "mon 08:00-18:00" in found.actions[0].summary


def test_cost_alert_set_change_remove():
    assert kinds(compare(side(costAlert=None), side(), now=NOW)) == ["cost-alert-set"]
    changed = side(costAlert={"enabled": True, "monthlyLimit": 5000, "thresholds": [100, 80]})
    assert kinds(compare(side(), changed, now=NOW)) == ["cost-alert-change"]
    assert kinds(compare(side(), side(costAlert={"enabled": False}), now=NOW)) == ["cost-alert-remove"]


def test_environments_create_rename_delete():
    before = side(environments=[{"name": "P12", "language": "pt"}, {"name": "P12ES", "language": "es"}])
    after = side(environments=[{"name": "P12", "language": "pt"}, {"name": "P12SPA", "language": "es",
                                                                   "renamedFrom": "P12ES"},
                               {"name": "P12EN", "language": "en"}])
    found = compare(before, after, now=NOW)
    assert sorted(kinds(found)) == ["environment-create", "environment-rename"]
    rename = next(a for a in found.actions if a.kind == "environment-rename")
    assert rename.details == {"from": "P12ES", "to": "P12SPA"}
    removed = side(environments=[{"name": "P12", "language": "pt"}], patches=[{"file": "artifacts/fix.ptm",
                                                                              "language": "pt"}])
    assert kinds(compare(before, removed, now=NOW)) == ["environment-delete"]


def test_patch_reach_on_prod_is_by_language():
    before = side(patches=[])
    after = side(environments=[{"name": "P12", "language": "pt"}, {"name": "P12ES", "language": "es"}],
                 patches=[{"file": "artifacts/fix.ptm", "language": "pt"}])
    found = compare(before, after, now=NOW)
    patch = next(a for a in found.actions if a.kind == "patch-apply")
    assert patch.details["environments"] == ["P12"]
    assert patch.details["services"] == ["ERP", "SCHEDULER", "PORTAIS", "WEBSERVICES", "COLETORES"]
    assert "1 environment (P12)" in patch.summary


def test_patch_on_dev_targets_chosen_environments_and_services():
    envs = [{"name": f"D{i}", "language": "pt"} for i in range(3)]
    before = side(type="DEV", environments=envs, patches=[])
    after = side(type="DEV", environments=envs, patches=[{"file": "artifacts/fix.ptm", "environments": ["D1", "D2"],
                                                          "services": ["ERP"]}])
    patch = next(a for a in compare(before, after, now=NOW).actions if a.kind == "patch-apply")
    assert patch.details["environments"] == ["D1", "D2"] and patch.details["services"] == ["ERP"]
    assert "2 environments" in patch.summary


def test_patch_content_change_reapplies_and_removal_is_a_note():
    found = compare(side(), side(artifacts={"artifacts/fix.ptm": "sha256:bbb"}), now=NOW)
    assert "patch-apply" in kinds(found)
    found = compare(side(), side(patches=[]), now=NOW)
    assert "patch-apply" not in kinds(found) and any("not reverted" in n for n in found.notes)


def test_exclusive_access_wraps_patches_on_protheus():
    order = kinds(compare(side(patches=[]), side(), now=NOW))
    assert order.index("exclusive-access-on") < order.index("patch-apply") < order.index("exclusive-access-off")


def test_exclusive_access_declared():
    assert kinds(compare(side(), side(exclusiveAccess=True), now=NOW)) == ["exclusive-access-on"]
    assert kinds(compare(side(exclusiveAccess=True), side(), now=NOW)) == ["exclusive-access-off"]


def test_rpo_promotion_when_the_source_moves():
    a = side(rpo={"promoteFrom": "acme-qa"}, derived={"rpoSource": "sha256:1"})
    assert kinds(compare(a, a, now=NOW)) == []
    b = side(rpo={"promoteFrom": "acme-qa"}, derived={"rpoSource": "sha256:2"})
    order = kinds(compare(a, b, now=NOW))
    assert order == ["exclusive-access-on", "rpo-promote", "exclusive-access-off"]


def test_updates_version_resize_users():
    found = compare(side(), side(updates={"binary": "20.3.2.5", "dbaccess": "23.1.1.5", "ctree": "13.0.1"},
                                 version="12.1.2510", instances=3), now=NOW)
    assert kinds(found) == ["resize", "version-upgrade", "update-components"]
    assert next(a for a in found.actions if a.kind == "update-components").details == {
        "binary": {"from": "20.3.2.4", "to": "20.3.2.5"}}


def test_downgrade_is_refused():
    found = compare(side(), side(version="12.1.2310"), now=NOW)
    assert found.refusals and "downgrade" in found.refusals[0]


def test_services_ini_port_sftp_domain():
    after = side(services=[{"name": "ERP", "state": "stopped", "ini": {"General": {"MaxStringSize": "20"}}}],
                 sftp={"enabled": False}, domain={"subdomain": "acme2"})
    assert sorted(kinds(compare(side(), after, now=NOW))) == ["domain-change", "ini-change", "service-stop",
                                                              "sftp-disable"]


def test_widgets_and_fluig_config():
    from tests.conftest import FLUIG

    base = dict(FLUIG)
    before = side(base, artifacts={"artifacts/portal.war": "sha256:1"})
    changed = side(base, artifacts={"artifacts/portal.war": "sha256:2"})
    assert kinds(compare(before, changed, now=NOW)) == ["widget-apply"]
    import copy
    with_config = copy.deepcopy(base)
    with_config["spec"]["fluigConfig"] = {"standaloneConf": "artifacts/standalone.conf"}
    with_config["spec"]["widgets"] = []
    after = side(with_config, artifacts={"artifacts/standalone.conf": "sha256:3"})
    assert sorted(kinds(compare(before, after, now=NOW))) == ["fluig-config", "widget-remove"]


def test_manual_backups_create_and_delete_with_rule_11():
    before = side()
    after = side(backup={"automaticRetentionDays": 30, "manualRetentionDays": 90, "manual": []})
    old = [backup("First_of_August", 100), backup("Backup_1", 95)]  # both in August 2026
    found = compare(before, after, backups=old, now=NOW)
    assert kinds(found) == ["backup-delete"] and found.actions[0].details == {"name": "Backup_1"}
    recent = compare(before, after, backups=[backup("Backup_1", 3)], now=NOW)
    assert recent.refusals and "30 days" in recent.refusals[0]
    added = side(backup={"manual": [{"name": "Backup_1", "comment": "c"}, {"name": "New", "comment": "n"}]})
    found = compare(before, added, backups=[backup("Backup_1", 3)], now=NOW)
    assert "backup-before-change" in kinds(found)
    assert kinds(found).index("backup-before-change") == 0  # taken before anything else changes


def test_intera_does_not_delete_manual_backups():
    intera = dict(cloud="intera", region="sp1", schedule=None, power="running", costAlert=None, domain=None)
    before = side(**intera, backup={"manual": [{"name": "B", "comment": "x"}]})
    after = side(**intera, backup={"manual": []})
    found = compare(before, after, backups=[backup("B", 400)], now=NOW)
    assert kinds(found) == [] and "keeps its backup history" in found.notes[0]


def test_removal_backs_up_first():
    assert [a.kind for a in removal(side(type="QA")).actions] == ["backup-before-remove", "remove-topology"]


def test_every_action_kind_is_exercised_and_ranked():
    """A guard: every kind has a title and a rank, and the safe order puts creation first and
    removal last."""
    ranks = {k: v.rank for k, v in ACTION_KINDS.items()}
    assert min(ranks, key=ranks.get) == "backup-before-remove" and max(ranks, key=ranks.get) == "remove-topology"
    assert ranks["environment-create"] < ranks["patch-apply"] < ranks["rpo-promote"]
    assert ranks["exclusive-access-on"] < ranks["patch-apply"] < ranks["exclusive-access-off"]
