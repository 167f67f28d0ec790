"""Planning with its I/O: validate, read the recorded state, find what moved, load and
synthesise only that, then hand everything to the pure planner.

Cost grows with the change, not with the repository: every environment costs a digest
comparison (from the validation cache and one indexed query), and only environments whose
inputs moved are read, typed and synthesised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from reconciler.config import RepoConfig
from reconciler.errors import SpecError
from reconciler.gitinfo import Revision, revision_of
from reconciler.model.spec import Environment, spec_digest
from reconciler.model.state import RecordedSummary
from reconciler.planning.planner import Desired, PlanningInput, make_plan
from reconciler.spec.documents import read_documents
from reconciler.spec.repository import DocumentInfo
from reconciler.spec.validate import ValidationResult, validate
from reconciler.store import Database
from reconciler.store import backups as backup_store
from reconciler.store import environments as env_store
from stacks import PROJECTS


@dataclass
class PlanResult:
    plan: "Plan"  # noqa: F821 - reconciler.model.plan.Plan
    validation: ValidationResult
    revision: Revision


def plan_repository(paths: list[Path], config: RepoConfig, db: Database, *, only: Iterable[str] = (),
                    allow_destroy: bool = False, engine: str = "sandbox", now: dt.datetime | None = None,
                    use_cache: bool = True, workers: int | None = None) -> PlanResult:
    """``workers``: validation processes (None: decided by the number of files; the daemon passes 1,
    since forking a pool from a process with threads is unsafe)."""
    result = validate(paths, config.root, exclude=config.exclude, use_cache=use_cache, workers=workers)
    if not result.valid:
        raise SpecError(f"{len(result.errors)} error(s) in the specs; nothing is planned", result.diagnostics)
    revision = revision_of(config.root)
    inputs = _planning_input(result, db, set(only), allow_destroy or config.allow_destroy, config, revision, engine,
                             now or db.clock())
    return PlanResult(make_plan(inputs), result, revision)


def _planning_input(result: ValidationResult, db: Database, only: set[str], allow_destroy: bool, config: RepoConfig,
                    revision: Revision, engine: str, now: dt.datetime) -> PlanningInput:
    envs = {d.name: d for d in result.environments()}
    customers = {d.name: d for d in result.customers()}
    recorded = env_store.summaries(db)
    digests = _SourceDigests(envs, customers, result)
    in_scope = (lambda name: name in only) if only else (lambda name: True)
    moved = [n for n in envs if in_scope(n) and _moved(recorded.get(n), digests.of(n))]
    removed = tuple(sorted(n for n in recorded if n not in envs and in_scope(n)))
    records = env_store.get_many(db, moved + list(removed))
    desired = _desired(result, envs, customers, moved, records, digests, config)
    return PlanningInput(
        desired=desired, recorded=records, removed=removed, desired_count=len(envs), recorded_count=len(recorded),
        unchanged=sum(1 for n in envs if in_scope(n)) - len(moved),
        backups=backup_store.for_environments(db, moved), revision=revision.label, now=now,
        allow_destroy=allow_destroy, max_destroy_fraction=config.max_destroy_fraction, engine=engine,
        root=str(config.root), projects=dict(PROJECTS))


def _moved(summary: RecordedSummary | None, source_digest: str) -> bool:
    return summary is None or summary.source_digest != source_digest


class _SourceDigests:
    """The quick fingerprint of everything an environment's desired state depends on: its text,
    its customer's text, its artifacts' contents, and its RPO source's own fingerprint."""

    def __init__(self, envs: dict[str, DocumentInfo], customers: dict[str, DocumentInfo], result: ValidationResult):
        self.envs, self.customers, self.result = envs, customers, result
        self.memo: dict[str, str] = {}

    def artifacts(self, name: str) -> dict[str, str]:
        return self.result.artifacts.digests_for(file for _, file in self.envs[name].artifacts)

    def of(self, name: str, seen: frozenset = frozenset()) -> str:
        if name in self.memo:
            return self.memo[name]
        info = self.envs[name]
        customer = self.customers.get(info.customer)
        parts = [info.spec_digest or "", customer.spec_digest if customer else ""]
        parts += [f"{k}={v}" for k, v in sorted(self.artifacts(name).items())]
        if info.promote_from in self.envs and info.promote_from not in seen:
            parts.append("rpo=" + self.of(info.promote_from, seen | {name}))
        digest = "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
        self.memo[name] = digest
        return digest


def rpo_fingerprint(env: Environment, artifacts: dict[str, str]) -> str:
    """What an RPO holds: the product version and the patches applied (with their contents)."""
    parts = [env.version] + sorted(f"{p.source}@{artifacts.get(p.file, '') if p.file else ''}:{p.language}:"
                                   f"{','.join(env.patch_reach(p)[0])}" for p in env.patches)
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _desired(result: ValidationResult, envs: dict[str, DocumentInfo], customers: dict[str, DocumentInfo],
             moved: list[str], records: dict, digests: _SourceDigests, config: RepoConfig) -> dict[str, Desired]:
    sources = {envs[n].promote_from for n in moved if envs[n].promote_from in envs}
    wanted = [envs[n] for n in set(moved) | sources]
    wanted += [customers[d.customer] for d in wanted if d.customer in customers]
    data = read_documents(result.root, wanted)
    typed = {d.name: Environment.from_document(data[d.file, d.index]) for d in wanted if d.kind == "Environment"}
    desired: dict[str, Desired] = {}
    for name in moved:
        info, env = envs[name], typed[name]
        customer = customers.get(info.customer)
        artifacts = digests.artifacts(name)
        derived: dict[str, Any] = {}
        if env.rpo_promote_from in typed:
            source = typed[env.rpo_promote_from]
            derived["rpoSource"] = rpo_fingerprint(source, digests.artifacts(source.name))
        customer_doc = data[customer.file, customer.index] if customer else None
        desired[name] = Desired(name, env, data[info.file, info.index], customer_doc, spec_digest(env),
                                digests.of(name), artifacts, derived, None)
    return _with_graphs(desired, records, result, config)


def _with_graphs(desired: dict[str, Desired], records: dict, result: ValidationResult,
                 config: RepoConfig) -> dict[str, Desired]:
    """Synthesise the environments that can differ; the rest only need their digests recorded."""
    from dataclasses import replace

    to_build = [n for n, d in desired.items() if _differs(d, records.get(n))]
    if not to_build:
        return desired
    from reconciler.synth.parallel import synthesize_many  # imports Pulumi: only when there is work
    from stacks.common.inputs import StackInput

    settings = (config.pulumi or {}).get("settings", {})
    inputs = {n: StackInput.from_documents(desired[n].document, desired[n].customer_document,
                                           artifacts=desired[n].artifacts, repo_root=str(result.root),
                                           settings=dict(settings.get(desired[n].env.cloud, {})))
              for n in to_build}
    graphs = synthesize_many(inputs)
    return {n: (replace(d, graph=graphs[n]) if n in graphs else d) for n, d in desired.items()}


def _differs(desired: Desired, record) -> bool:
    if record is None:
        return True
    customer_same = (record.customer_document or {}) == (desired.customer_document or {})
    return not (record.spec_digest == desired.spec_digest and record.artifacts == desired.artifacts and
                record.derived == desired.derived and customer_same)


def current_source_digests(paths: list[Path], config: RepoConfig) -> tuple[dict[str, str], ValidationResult]:
    """The quick digest of every environment of the repository now (to test a saved plan)."""
    result = validate(paths, config.root, exclude=config.exclude)
    if not result.valid:
        raise SpecError(f"{len(result.errors)} error(s) in the specs", result.diagnostics)
    envs = {d.name: d for d in result.environments()}
    digests = _SourceDigests(envs, {d.name: d for d in result.customers()}, result)
    return {name: digests.of(name) for name in envs}, result
