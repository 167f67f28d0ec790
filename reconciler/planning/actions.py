"""The domain actions between a recorded and a desired environment (pure).

Each aspect of an environment has one small function that compares the two typed values and
says, in the portal's words, what will happen: turn on, new schedule, patch applied to two
environments, RPO promoted, backup deleted... Comparisons are on typed values, so key order,
reordered lists and defaults written out never show as actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from reconciler.model import capabilities as caps
from reconciler.model.plan import Action
from reconciler.model.spec import Environment, Patch, canonical_form
from reconciler.model.state import BackupRecord
from reconciler.planning.backups import protected_reason


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the environment and what it binds beyond its document."""

    env: Environment
    artifacts: dict[str, str] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)


@dataclass
class Findings:
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


Aspect = Callable[[Side | None, Side, Findings], None]


def compare(old: Side | None, new: Side, *, backups: list[BackupRecord] = (), now: dt.datetime | None = None) -> Findings:
    """Actions to go from ``old`` (None: not created yet) to ``new``."""
    found = Findings()
    if old is None:
        _creation(new, found)
    for aspect in _ASPECTS:
        aspect(old, new, found)
    _backups(old, new, found, list(backups), now or dt.datetime.now(dt.timezone.utc))
    _wrap_in_exclusive_access(old, new, found)
    return found


def removal(old: Side) -> Findings:
    found = Findings()
    env = old.env
    found.actions.append(Action("backup-before-remove", f"back up {env.name} before removing it",
                                {"backup": f"pre-removal-{env.name}"}))
    found.actions.append(Action("remove-topology", f"remove {env.type} topology {env.name} and all its data",
                                {"type": env.type, "cloud": env.cloud}))
    return found


def _creation(new: Side, found: Findings) -> None:
    env = new.env
    if env.clone_from:
        found.actions.append(Action("clone-topology", f"clone {env.clone_from} into {env.name}",
                                    {"source": env.clone_from}))
    else:
        found.actions.append(Action("create-topology", f"create {env.product} {env.type} topology on "
                                    f"{caps.CLOUD_TITLES[env.cloud]} {env.region}",
                                    {"instances": env.instances, "instanceSize": env.instance_size,
                                     "version": env.version}))


def _power(old: Side | None, new: Side, found: Findings) -> None:
    before = old.env.power if old else None
    after = new.env.power
    if before == after:
        return
    if after == "running" and before is not None:
        found.actions.append(Action("power-on", f"turn {new.env.name} on (always running)", {"from": before}))
    if after == "stopped":
        found.actions.append(Action("power-off", f"turn {new.env.name} off", {"from": before}))


def _schedule(old: Side | None, new: Side, found: Findings) -> None:
    before = old.env.schedule if old else None
    after = new.env.schedule
    if before == after or _same(before, after):
        return
    if after is None:
        found.actions.append(Action("schedule-remove", "remove the working-hours schedule"))
    elif before is None:
        found.actions.append(Action("schedule-set", f"run {_windows(after)} ({after.timezone})",
                                    {"timezone": after.timezone, "windows": canonical_form(after.windows)}))
    else:
        found.actions.append(Action("schedule-change", f"new schedule: {_windows(after)} ({after.timezone})",
                                    {"timezone": after.timezone, "windows": canonical_form(after.windows),
                                     "previous": canonical_form(before.windows)}))


def _windows(schedule) -> str:
    return "; ".join(f"{','.join(w.days)} {w.start}-{w.end}{' (overnight)' if w.overnight else ''}"
                     for w in schedule.windows)


def _same(a: Any, b: Any) -> bool:
    return canonical_form(a) == canonical_form(b)


def _resize(old: Side | None, new: Side, found: Findings) -> None:
    if old is None:
        return
    a, b = old.env, new.env
    if (a.instances, a.instance_size) != (b.instances, b.instance_size):
        found.actions.append(Action("resize", f"{a.instances} x {a.instance_size} -> {b.instances} x {b.instance_size}",
                                    {"instances": [a.instances, b.instances],
                                     "instanceSize": [a.instance_size, b.instance_size]}))
    if a.users != b.users:
        found.actions.append(Action("users-change", f"named users {a.users} -> {b.users}", {"users": [a.users, b.users]}))


def _version(old: Side | None, new: Side, found: Findings) -> None:
    if old is None or old.env.version == new.env.version:
        return
    before, after = old.env.version, new.env.version
    if _version_key(after) < _version_key(before):
        found.refusals.append(f"{new.env.name}: version {before} -> {after} is a downgrade, which the platform "
                              "does not do; restore from a backup instead")
        return
    found.actions.append(Action("version-upgrade", f"upgrade {new.env.product} {before} -> {after}",
                                {"from": before, "to": after}))


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("-")[0].split("."))


def _updates(old: Side | None, new: Side, found: Findings) -> None:
    before = old.env.updates if old else None
    after = new.env.updates
    changed = {}
    for component in ("binary", "dbaccess", "ctree"):
        a = getattr(before, component, None) if before else None
        b = getattr(after, component, None) if after else None
        if b and a != b:
            changed[component] = {"from": a, "to": b}
    if changed:
        text = ", ".join(f"{k} {v['to']}" for k, v in changed.items())
        found.actions.append(Action("update-components", f"update {text}", changed))


def _environments(old: Side | None, new: Side, found: Findings) -> None:
    before = {e.name: e for e in (old.env.environments if old else ())}
    after = {e.name: e for e in new.env.environments}
    renamed = {e.renamed_from: e.name for e in new.env.environments if e.renamed_from in before and e.name not in before}
    for name, env in after.items():
        if name in before:
            if before[name].language != env.language:
                found.actions.append(Action("environment-update", f"environment {name}: language "
                                            f"{before[name].language} -> {env.language}", {"name": name}))
        elif name in renamed.values():
            old_name = next(k for k, v in renamed.items() if v == name)
            found.actions.append(Action("environment-rename", f"rename environment {old_name} -> {name}",
                                        {"from": old_name, "to": name}))
        else:
            found.actions.append(Action("environment-create", f"create environment {name} ({env.language})",
                                        {"name": name, "language": env.language}))
    for name in before:
        if name not in after and name not in renamed:
            found.actions.append(Action("environment-delete", f"delete environment {name}", {"name": name}))


def _patch_identity(side: Side, patch: Patch) -> tuple:
    digest = side.artifacts.get(patch.file) if patch.file else None
    return (patch.source, digest, side.env.patch_reach(patch))


def _patches(old: Side | None, new: Side, found: Findings) -> None:
    applied = {_patch_identity(old, p) for p in old.env.patches} if old else set()
    for patch in new.env.patches:
        identity = _patch_identity(new, patch)
        if identity in applied:
            continue
        environments, services = identity[2]
        where = ", ".join(environments) or "no environment"
        found.actions.append(Action(
            "patch-apply", f"apply {patch.source.split(':', 1)[1]} to {len(environments)} environment"
            f"{'s' * (len(environments) != 1)} ({where})",
            {"source": patch.source, "sha256": identity[1], "language": patch.language,
             "environments": list(environments), "services": list(services)}))
    if old:
        desired = {p.source for p in new.env.patches}
        for patch in old.env.patches:
            if patch.source not in desired:
                found.notes.append(f"patch {patch.source} left the spec: patches are not reverted, the RPO keeps it")


def _rpo(old: Side | None, new: Side, found: Findings) -> None:
    source = new.env.rpo_promote_from
    fingerprint = new.derived.get("rpoSource")
    if not source:
        return
    recorded = old.derived.get("rpoSource") if old else None
    if old is not None and old.env.rpo_promote_from == source and recorded == fingerprint:
        return
    found.actions.append(Action("rpo-promote", f"promote the RPO of {source} into {new.env.name}",
                                {"source": source, "languages": sorted({e.language for e in new.env.environments}),
                                 "fingerprint": fingerprint}))


def _wrap_in_exclusive_access(old: Side | None, new: Side, found: Findings) -> None:
    """Patches and promotions change the dictionary: block users around them (rule 10),
    unless the spec asks for exclusive access to stay on anyway."""
    wants = new.env.exclusive_access
    had = old.env.exclusive_access if old else False
    touches_rpo = any(a.kind in ("patch-apply", "rpo-promote") for a in found.actions)
    if wants and not had:
        found.actions.append(Action("exclusive-access-on", "block user connections and jobs (exclusive access)"))
    elif had and not wants:
        found.actions.append(Action("exclusive-access-off", "release exclusive access"))
    elif touches_rpo and not wants and new.env.product == "protheus" and old is not None:
        found.actions.append(Action("exclusive-access-on", "exclusive access while the RPO changes",
                                    {"automatic": True}))
        found.actions.append(Action("exclusive-access-off", "release exclusive access", {"automatic": True}))


def _widgets(old: Side | None, new: Side, found: Findings) -> None:
    before = {w: old.artifacts.get(w) for w in old.env.widgets} if old else {}
    for widget in new.env.widgets:
        digest = new.artifacts.get(widget)
        if before.get(widget) != digest:
            verb = "update" if widget in before else "install"
            found.actions.append(Action("widget-apply", f"{verb} widget {widget.rsplit('/', 1)[-1]}",
                                        {"file": widget, "sha256": digest}))
    for widget in before:
        if widget not in new.env.widgets:
            found.actions.append(Action("widget-remove", f"remove widget {widget.rsplit('/', 1)[-1]}", {"file": widget}))


def _fluig_config(old: Side | None, new: Side, found: Findings) -> None:
    def files(side: Side | None) -> dict[str, str | None]:
        config = side.env.fluig_config if side else None
        if config is None:
            return {}
        paths = {"standalone.xml": config.standalone_xml, "standalone.conf": config.standalone_conf}
        return {name: side.artifacts.get(path) for name, path in paths.items() if path}
    before, after = files(old), files(new)
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    if changed:
        found.actions.append(Action("fluig-config", f"change {' and '.join(changed)} (a wrong change can take "
                                    "Fluig down)", {"files": changed}))


def _services(old: Side | None, new: Side, found: Findings) -> None:
    before = {s.name: s for s in (old.env.services if old else ())}
    after = {s.name: s for s in new.env.services}
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        state_a, state_b = (a.state if a else "running"), (b.state if b else "running")
        if state_a != state_b:
            kind = "service-start" if state_b == "running" else "service-stop"
            found.actions.append(Action(kind, f"{'start' if state_b == 'running' else 'stop'} service {name}",
                                        {"service": name}))
        ini_a, ini_b = (a.ini_dict() if a else {}), (b.ini_dict() if b else {})
        if ini_a != ini_b:
            found.actions.append(Action("ini-change", f"INI of {name}: {_ini_delta(ini_a, ini_b)}",
                                        {"service": name, "ini": ini_b}))
        port_a, port_b = (a.http_port if a else None), (b.http_port if b else None)
        if port_a != port_b:
            found.actions.append(Action("service-port", f"http port of {name}: {port_a or 'default'} -> "
                                        f"{port_b or 'default'}", {"service": name, "port": port_b}))


def _ini_delta(a: dict, b: dict) -> str:
    keys = sorted({(s, k) for s, v in list(a.items()) + list(b.items()) for k in v})
    changed = [f"{s}/{k}" for s, k in keys if a.get(s, {}).get(k) != b.get(s, {}).get(k)]
    return ", ".join(changed)


def _sftp(old: Side | None, new: Side, found: Findings) -> None:
    before = old.env.sftp_enabled if old else False
    if before != new.env.sftp_enabled:
        kind = "sftp-enable" if new.env.sftp_enabled else "sftp-disable"
        found.actions.append(Action(kind, f"{'serve' if new.env.sftp_enabled else 'stop serving'} Protheus_Data "
                                    f"over SFTP (port {caps.SFTP_PORT})", {"port": caps.SFTP_PORT}))


def _domain(old: Side | None, new: Side, found: Findings) -> None:
    before = old.env.domain.fqdn if old and old.env.domain else None
    after = new.env.domain.fqdn if new.env.domain else None
    if before != after:
        text = f"{before or 'no domain'} -> {after or 'no domain'}"
        found.actions.append(Action("domain-change", f"access domain {text}", {"from": before, "to": after}))


def _cost_alert(old: Side | None, new: Side, found: Findings) -> None:
    def active(side: Side | None):
        alert = side.env.cost_alert if side else None
        return alert if alert and alert.enabled else None
    before, after = active(old), active(new)
    if _same(before, after):
        return
    if after is None:
        found.actions.append(Action("cost-alert-remove", "stop the cost alert"))
        return
    text = f"alert at {', '.join(f'{t}%' for t in after.thresholds)} of {after.monthly_limit:g} {after.currency}/month"
    kind = "cost-alert-set" if before is None else "cost-alert-change"
    found.actions.append(Action(kind, text, canonical_form(after)))


def _backup_policy(old: Side | None, new: Side, found: Findings) -> None:
    a = old.env.backup if old else None
    b = new.env.backup
    before = (a.automatic_retention_days, a.manual_retention_days) if a else (None, None)
    after = (b.automatic_retention_days, b.manual_retention_days)
    if before != after and after != (None, None):
        found.actions.append(Action("backup-policy", f"keep automatic backups {after[0] or 'default'} days, "
                                    f"manual {after[1] or 'default'} days",
                                    {"automaticRetentionDays": after[0], "manualRetentionDays": after[1]}))


def _settings(old: Side | None, new: Side, found: Findings) -> None:
    if old is None:
        return
    a, b = old.env, new.env
    if (a.labels, a.drift_policy) != (b.labels, b.drift_policy):
        found.actions.append(Action("settings-change", "labels or drift policy", {"driftPolicy": b.drift_policy}))
    if a.clone_from != b.clone_from and b.clone_from:
        found.notes.append(f"cloneFrom {b.clone_from} only applies when a topology is created; it is ignored here")


def _backups(old: Side | None, new: Side, found: Findings, records: list[BackupRecord], now: dt.datetime) -> None:
    wanted = {m.name: m for m in new.env.backup.manual}
    existing = {r.name: r for r in records if r.kind == "manual"}
    declared_before = {m.name for m in old.env.backup.manual} if old else set()
    # a backup added to an existing topology is taken first: it is the state before this change
    kind = "backup-create" if old is None else "backup-before-change"
    for name, manual in wanted.items():
        if name not in existing:
            found.actions.append(Action(kind, f"back up as {name}: {manual.comment}",
                                        {"name": name, "comment": manual.comment}))
    for name in sorted((declared_before | set(existing)) - set(wanted)):
        record = existing.get(name)
        if record is None:
            continue
        if caps.support("backupDelete", new.env.product, new.env.cloud) is None:
            found.notes.append(f"backup {name} left the spec; {caps.CLOUD_TITLES[new.env.cloud]} keeps its "
                               "backup history, so it is not deleted")
            continue
        reason = protected_reason(record, records, now)
        if reason:
            found.refusals.append(f"{new.env.name}: backup {name} cannot be deleted: {reason} (rule 11); keep it "
                                  "in spec.backup.manual")
        else:
            found.actions.append(Action("backup-delete", f"delete manual backup {name}", {"name": name}))


_ASPECTS: list[Aspect] = [_power, _resize, _version, _updates, _environments, _patches, _rpo, _widgets,
                          _fluig_config, _services, _sftp, _domain, _schedule, _cost_alert, _backup_policy, _settings]


def ordered(actions: list[Action]) -> tuple[Action, ...]:
    """The safe order within one environment (stable for equal ranks)."""
    return tuple(sorted(actions, key=lambda a: a.rank))
