"""Typed, frozen views of validated documents: what stacks and planning read.

Built only from documents that passed validation (``from_document``), so constructors trust the
shapes. Defaults of the schema are applied here once, and lists whose order means nothing
(environments, services, patches, widgets, windows, days, thresholds, recipients, manual backups)
are put in one order here, so that the stacks, the digests and the diffs never see a reordered
list as a change. ``canonical()`` gives the plain-data form used for digests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from reconciler.model.capabilities import CLOUDTOTVS_ZONE


def _pairs(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((mapping or {}).items()))


@dataclass(frozen=True, slots=True)
class Window:
    days: tuple[str, ...]
    start: str
    end: str
    overnight: bool = False


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class CostAlert:
    enabled: bool
    monthly_limit: float | None = None
    currency: str = "BRL"
    thresholds: tuple[int, ...] = (80, 100)
    notify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Domain:
    subdomain: str | None = None
    custom: str | None = None

    @property
    def fqdn(self) -> str:
        return self.custom if self.custom else f"{self.subdomain}.{CLOUDTOTVS_ZONE}"


@dataclass(frozen=True, slots=True)
class ProtheusEnvironment:
    name: str
    language: str
    renamed_from: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    state: str = "running"
    ini: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    http_port: int | None = None

    def ini_dict(self) -> dict[str, dict[str, Any]]:
        return {section: dict(values) for section, values in self.ini}


@dataclass(frozen=True, slots=True)
class Patch:
    file: str | None = None
    catalog: str | None = None
    language: str | None = None
    environments: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return f"file:{self.file}" if self.file else f"catalog:{self.catalog}"


@dataclass(frozen=True, slots=True)
class Updates:
    binary: str | None = None
    dbaccess: str | None = None
    ctree: str | None = None


@dataclass(frozen=True, slots=True)
class ManualBackup:
    name: str
    comment: str


@dataclass(frozen=True, slots=True)
class Backup:
    automatic_retention_days: int | None = None
    manual_retention_days: int | None = None
    manual: tuple[ManualBackup, ...] = ()


@dataclass(frozen=True, slots=True)
class FluigConfig:
    standalone_xml: str | None = None
    standalone_conf: str | None = None


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    customer: str
    product: str
    type: str
    cloud: str
    region: str
    version: str
    power: str
    instances: int = 1
    instance_size: str = "medium"
    users: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    schedule: Schedule | None = None
    cost_alert: CostAlert | None = None
    domain: Domain | None = None
    environments: tuple[ProtheusEnvironment, ...] = ()
    services: tuple[Service, ...] = ()
    patches: tuple[Patch, ...] = ()
    updates: Updates | None = None
    rpo_promote_from: str | None = None
    exclusive_access: bool = False
    widgets: tuple[str, ...] = ()
    fluig_config: FluigConfig | None = None
    backup: Backup = field(default_factory=Backup)
    clone_from: str | None = None
    sftp_enabled: bool = False
    drift_policy: str = "report"

    @property
    def is_prod(self) -> bool:
        return self.type == "PROD"

    def patch_reach(self, patch: Patch) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(environments, services) a patch updates (rule 6): on PROD and QA every service of the
        environments in its language (they share Protheus_Data and the RPO); on DEV the chosen
        environments and services. License Server and TSS are never reached."""
        from reconciler.model.capabilities import RPO_SERVICES

        if self.type == "DEV":
            targets = tuple(e.name for e in self.environments if e.name in patch.environments)
            return targets, tuple(patch.services) or RPO_SERVICES
        return tuple(e.name for e in self.environments if e.language == patch.language), RPO_SERVICES

    def artifact_paths(self) -> tuple[str, ...]:
        """Repository files this environment deploys (their content is part of its state)."""
        paths = [p.file for p in self.patches if p.file] + list(self.widgets)
        if self.fluig_config:
            paths += [p for p in (self.fluig_config.standalone_xml, self.fluig_config.standalone_conf) if p]
        return tuple(sorted(set(paths)))

    def canonical(self) -> dict[str, Any]:
        return canonical_form(self)

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> "Environment":
        meta, spec = data["metadata"], data["spec"]
        return cls(
            name=meta["name"], customer=meta["customer"], labels=_pairs(meta.get("labels")),
            product=spec["product"], type=spec["type"], cloud=spec["cloud"], region=spec["region"],
            version=spec["version"], power=spec["power"], instances=spec.get("instances", 1),
            instance_size=spec.get("instanceSize", "medium"), users=spec.get("users"),
            schedule=_schedule(spec.get("schedule")), cost_alert=_cost_alert(spec.get("costAlert")),
            domain=Domain(**spec["domain"]) if spec.get("domain") else None,
            environments=tuple(sorted((ProtheusEnvironment(e["name"], e["language"], e.get("renamedFrom"))
                                       for e in spec.get("environments", ())), key=lambda e: e.name)),
            services=tuple(sorted((_service(s) for s in spec.get("services", ())), key=lambda s: s.name)),
            patches=tuple(sorted((_patch(p) for p in spec.get("patches", ())), key=_patch_key)),
            updates=Updates(**spec["updates"]) if spec.get("updates") else None,
            rpo_promote_from=(spec.get("rpo") or {}).get("promoteFrom"),
            exclusive_access=spec.get("exclusiveAccess", False),
            widgets=tuple(sorted(w["file"] for w in spec.get("widgets", ()))),
            fluig_config=_fluig_config(spec.get("fluigConfig")),
            backup=_backup(spec.get("backup")), clone_from=spec.get("cloneFrom"),
            sftp_enabled=(spec.get("sftp") or {}).get("enabled", False),
            drift_policy=spec.get("driftPolicy", "report"),
        )


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    contract: str
    timezone: str | None = None
    contacts: tuple[str, ...] = ()
    display_name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> "Customer":
        meta, spec = data["metadata"], data["spec"]
        return cls(name=meta["name"], contract=spec["contract"], timezone=spec.get("timezone"),
                   contacts=tuple(sorted(spec.get("contacts", ()))), display_name=spec.get("displayName"),
                   labels=_pairs(meta.get("labels")))


_WEEK = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _window(raw: Mapping) -> Window:
    days = tuple(sorted(raw["days"], key=lambda d: _WEEK.index(d) if d in _WEEK else 7))
    return Window(days, raw["start"], raw["end"], raw.get("overnight", False))


def _schedule(raw: Mapping | None) -> Schedule | None:
    if not raw:
        return None
    windows = sorted((_window(w) for w in raw["windows"]),
                     key=lambda w: (min((_WEEK.index(d) for d in w.days if d in _WEEK), default=7), w.start, w.end))
    return Schedule(raw["timezone"], tuple(windows))


def _cost_alert(raw: Mapping | None) -> CostAlert | None:
    if not raw:
        return None
    return CostAlert(raw["enabled"], raw.get("monthlyLimit"), raw.get("currency", "BRL"),
                     tuple(sorted(raw.get("thresholds", (80, 100)))), tuple(sorted(raw.get("notify", ()))))


def _service(raw: Mapping) -> Service:
    ini = tuple(sorted((section, _pairs(values)) for section, values in (raw.get("ini") or {}).items()))
    return Service(raw["name"], raw.get("state", "running"), ini, raw.get("httpPort"))


def _patch_key(patch: Patch) -> tuple:
    return (patch.source, patch.language or "", patch.environments, patch.services)


def _patch(raw: Mapping) -> Patch:
    return Patch(raw.get("file"), raw.get("catalog"), raw.get("language"),
                 tuple(raw.get("environments", ())), tuple(raw.get("services", ())))


def _backup(raw: Mapping | None) -> Backup:
    raw = raw or {}
    manual = tuple(sorted((ManualBackup(m["name"], m["comment"]) for m in raw.get("manual", ())),
                          key=lambda m: m.name))
    return Backup(raw.get("automaticRetentionDays"), raw.get("manualRetentionDays"), manual)


def _fluig_config(raw: Mapping | None) -> FluigConfig | None:
    return FluigConfig(raw.get("standaloneXml"), raw.get("standaloneConf")) if raw else None


# Lists whose order carries no meaning; they are sorted in the canonical form.
_UNORDERED = {"days", "thresholds", "notify", "windows", "environments", "services", "patches",
              "widgets", "manual", "labels", "ini"}


def canonical_form(value: Any, key: str = "") -> Any:
    """Plain data with sorted keys, and sorted lists where order means nothing."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: canonical_form(v, k) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: canonical_form(v, k) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        items = [canonical_form(v) for v in value]
        if key in _UNORDERED:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def spec_digest(value: Any) -> str:
    """sha256 of the canonical form of a spec value (an Environment or a Customer)."""
    return "sha256:" + hashlib.sha256(canonical_json(canonical_form(value)).encode("utf-8")).hexdigest()
