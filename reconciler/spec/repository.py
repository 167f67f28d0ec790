"""Rule 20 and the cross-document parts of rules 7 and 12: what no single document can tell.

Works on ``DocumentInfo`` summaries (cheap, cacheable), never on whole documents: unique names
and domains, customers that exist, one PROD per customer and product, RPO promotion and clone
sources of the same customer and product, an RPO destination that is not stopped, promotion
cycles, and contracts that match the cloud.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from reconciler.model.diagnostics import Diagnostic, error, warning


class DocumentInfo(NamedTuple):
    """What validation keeps of one document of ours (also what the cache stores).

    A named tuple, not a dataclass: ten thousand of them are rebuilt from the cache on every run.
    """

    file: str
    index: int
    line: int
    end_line: int
    kind: str
    name: str | None
    schema_ok: bool
    customer: str | None = None
    product: str | None = None
    type: str | None = None
    cloud: str | None = None
    power: str | None = None
    fqdn: str | None = None
    promote_from: str | None = None
    clone_from: str | None = None
    languages: tuple[str, ...] | list = ()
    contract: str | None = None
    spec_digest: str | None = None
    artifacts: tuple | list = ()  # ((json path, file as written), ...)

    def where(self, diagnostic: Diagnostic) -> Diagnostic:
        return diagnostic.at(self.file, self.index)


def check_repository(docs: list[DocumentInfo]) -> Iterator[Diagnostic]:
    envs = [d for d in docs if d.kind == "Environment" and d.name]
    customers = {d.name: d for d in docs if d.kind == "Customer" and d.name}
    yield from _unique_names(docs)
    yield from _unique_domains(envs)
    yield from _customers_exist(envs, customers)
    yield from _one_prod(envs)
    by_name = {d.name: d for d in envs}
    yield from _promotion(envs, by_name)
    yield from _clone(envs, by_name)
    yield from _contracts(envs, customers)


def _duplicates(docs: list[DocumentInfo], key) -> Iterator[tuple[DocumentInfo, DocumentInfo]]:
    first: dict = {}
    for doc in docs:
        value = key(doc)
        if value is None:
            continue
        if value in first:
            yield first[value], doc
        else:
            first[value] = doc


def _unique_names(docs: list[DocumentInfo]) -> Iterator[Diagnostic]:
    for kind in ("Environment", "Customer"):
        same_kind = [d for d in docs if d.kind == kind]
        for first, again in _duplicates(same_kind, lambda d: d.name):
            yield again.where(error("name-unique", f"{kind} '{again.name}' is also defined in "
                                    f"{first.file}:{first.line}", ("metadata", "name"),
                                    "names are unique in the repository: rename one of the two"))


def _unique_domains(envs: list[DocumentInfo]) -> Iterator[Diagnostic]:
    for first, again in _duplicates(envs, lambda d: d.fqdn):
        yield again.where(error("domain-unique", f"domain {again.fqdn} is already used by '{first.name}' "
                                f"({first.file}:{first.line})", ("spec", "domain"),
                                "each topology needs its own access domain"))


def _customers_exist(envs: list[DocumentInfo], customers: dict) -> Iterator[Diagnostic]:
    for env in envs:
        if env.customer and env.customer not in customers:
            known = ", ".join(sorted(customers)) or "none"
            yield env.where(error("customer-missing", f"customer '{env.customer}' has no Customer document",
                                  ("metadata", "customer"), f"add a Customer document named {env.customer} "
                                  f"(customers defined: {known})"))


def _one_prod(envs: list[DocumentInfo]) -> Iterator[Diagnostic]:
    prods = [e for e in envs if e.type == "PROD"]
    for first, again in _duplicates(prods, lambda d: (d.customer, d.product) if d.customer and d.product else None):
        yield again.where(error("prod-unique", f"customer '{again.customer}' already has a PROD {again.product} "
                                f"topology: '{first.name}' ({first.file}:{first.line})", ("spec", "type"),
                                "a customer has at most one PROD topology per product; make this one QA or DEV"))


def _related(env: DocumentInfo, source_name: str, by_name: dict, rule: str, field: tuple,
             what: str) -> Iterator[Diagnostic]:
    source = by_name.get(source_name)
    if source is None:
        yield env.where(error(rule, f"{what} '{source_name}' is not a topology of the repository", field,
                              "name an existing Environment of the same customer and product"))
    elif (source.customer, source.product) != (env.customer, env.product):
        yield env.where(error(rule, f"{what} '{source_name}' is {source.product} of customer "
                              f"'{source.customer}'; this topology is {env.product} of '{env.customer}'", field,
                              "the source must belong to the same customer and product"))


def _promotion(envs: list[DocumentInfo], by_name: dict) -> Iterator[Diagnostic]:
    for env in envs:
        if not env.promote_from or env.promote_from == env.name:
            continue
        field = ("spec", "rpo", "promoteFrom")
        problems = list(_related(env, env.promote_from, by_name, "rpo-source", field, "RPO source"))
        yield from problems
        if env.power == "stopped":
            yield env.where(error("rpo-destination", "the RPO is promoted into a stopped topology",
                                  ("spec", "power"), "promotion needs an active destination: set power to "
                                  "running or scheduled, or remove spec.rpo"))
        if not problems:
            yield from _promotion_languages(env, by_name[env.promote_from], field)
    yield from _promotion_cycles(envs, by_name)


def _promotion_languages(env: DocumentInfo, source: DocumentInfo, field: tuple) -> Iterator[Diagnostic]:
    missing = sorted(set(source.languages) - set(env.languages))
    if missing:
        yield env.where(warning("rpo-languages", f"the source has RPOs in {', '.join(missing)} with no "
                                f"environment here; they are not promoted", field,
                                "add environments in those languages, or ignore this warning"))


def _promotion_cycles(envs: list[DocumentInfo], by_name: dict) -> Iterator[Diagnostic]:
    for env in envs:
        seen, current = {env.name}, env
        while current.promote_from and current.promote_from in by_name:
            current = by_name[current.promote_from]
            if current.name == env.name:
                yield env.where(error("rpo-cycle", f"RPO promotion forms a cycle through '{env.name}'",
                                      ("spec", "rpo", "promoteFrom"), "promotion flows one way, e.g. DEV -> QA -> PROD"))
                break
            if current.name in seen:
                break
            seen.add(current.name)


def _clone(envs: list[DocumentInfo], by_name: dict) -> Iterator[Diagnostic]:
    for env in envs:
        if env.clone_from and env.clone_from == env.name:
            yield env.where(error("clone-source", "a topology cannot be cloned from itself",
                                  ("spec", "cloneFrom"), "name the topology to copy"))
        elif env.clone_from:
            yield from _related(env, env.clone_from, by_name, "clone-source", ("spec", "cloneFrom"), "clone source")


def _contracts(envs: list[DocumentInfo], customers: dict) -> Iterator[Diagnostic]:
    for env in envs:
        customer = customers.get(env.customer)
        if customer is None or not customer.contract or not env.cloud:
            continue
        if (env.cloud == "intera") != (customer.contract == "intera"):
            yield env.where(warning(
                "contract-cloud", f"customer '{customer.name}' has a {customer.contract} contract and this "
                f"topology is on {env.cloud}", ("spec", "cloud"),
                "the Intera model runs on the Intera cloud; consumption and fixed contracts on AWS or Azure"))
