"""Cross-document rules (DOMAIN.md rule 20, and the cross-document parts of rules 7 and 12)."""

from __future__ import annotations

import pytest

from tests.conftest import CUSTOMER, FLUIG, PROTHEUS, line_of, mutated


def _env(base: dict, name: str, **spec) -> dict:
    def change(doc):
        doc["metadata"]["name"] = name
        for key, value in spec.items():
            if value is None:
                doc["spec"].pop(key, None)
            else:
                doc["spec"][key] = value
    return mutated(base, change)


QA = dict(type="QA", domain={"subdomain": "acme-qa"}, backup={"automaticRetentionDays": 15})
DEV = dict(type="DEV", domain=None, power="running", schedule=None, patches=None, backup=None)


def _rules(result):
    return {d.rule for d in result.diagnostics if d.is_error}


def test_valid_repository_with_promotion_chain(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("prod.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": "acme-qa"}))
    repo.write_docs("qa.yaml", _env(PROTHEUS, "acme-qa", rpo={"promoteFrom": "acme-dev"}, **QA))
    repo.write_docs("dev.yaml", _env(PROTHEUS, "acme-dev", **DEV))
    result = repo.validate()
    assert result.valid, [(d.rule, d.message) for d in result.diagnostics]
    assert result.diagnostics == []


def test_duplicate_names_point_at_the_second(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("a.yaml", PROTHEUS)
    text = repo.write_docs("b.yaml", _env(PROTHEUS, "acme-protheus-prod", **QA))
    found = [d for d in repo.validate().diagnostics if d.rule == "name-unique"]
    assert len(found) == 1 and found[0].file == "b.yaml" and found[0].line == line_of(text, "name: acme-protheus-prod")
    assert "a.yaml:" in found[0].message


def test_customer_must_exist(repo):
    text = repo.write_docs("a.yaml", PROTHEUS)
    found = [d for d in repo.validate().diagnostics if d.rule == "customer-missing"]
    assert found and found[0].line == line_of(text, "customer: acme")


def test_one_prod_per_customer_and_product(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("a.yaml", PROTHEUS)
    text = repo.write_docs("b.yaml", _env(PROTHEUS, "acme-protheus-prod2", domain={"subdomain": "acme2"}))
    repo.write_docs("c.yaml", _env(FLUIG, "acme-fluig"))  # another product: a PROD of its own is fine
    found = [d for d in repo.validate().diagnostics if d.rule == "prod-unique"]
    assert len(found) == 1 and found[0].file == "b.yaml" and found[0].line == line_of(text, "type: PROD")


def test_domains_are_unique(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("a.yaml", PROTHEUS)
    text = repo.write_docs("b.yaml", _env(PROTHEUS, "acme-qa", **{**QA, "domain": {"subdomain": "acme"}}))
    found = [d for d in repo.validate().diagnostics if d.rule == "domain-unique"]
    assert found and found[0].file == "b.yaml" and found[0].line == line_of(text, "domain:")


@pytest.mark.parametrize("source,expected", [
    ("acme-nowhere", "is not a topology"),
    ("acme-fluig", "is fluig of customer"),
])
def test_rpo_source_must_exist_with_same_product(repo, source, expected):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("f.yaml", _env(FLUIG, "acme-fluig"))
    text = repo.write_docs("a.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": source}))
    found = [d for d in repo.validate().diagnostics if d.rule == "rpo-source"]
    assert found and expected in found[0].message and found[0].line == line_of(text, "promoteFrom")


def test_rpo_source_of_another_customer(repo):
    other = mutated(CUSTOMER, lambda d: d["metadata"].update(name="globex"))
    repo.write_docs("customers.yaml", CUSTOMER, other)
    qa = _env(PROTHEUS, "globex-qa", **QA)
    qa["metadata"]["customer"] = "globex"
    repo.write_docs("q.yaml", qa)
    repo.write_docs("a.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": "globex-qa"}))
    found = [d for d in repo.validate().diagnostics if d.rule == "rpo-source"]
    assert found and "of customer 'globex'" in found[0].message


def test_rpo_destination_must_be_active(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("q.yaml", _env(PROTHEUS, "acme-qa", **QA))
    text = repo.write_docs("a.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": "acme-qa"}, power="stopped",
                                          schedule=None))
    found = [d for d in repo.validate().diagnostics if d.rule == "rpo-destination"]
    assert found and found[0].line == line_of(text, "power: stopped")


def test_rpo_cycle(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("q.yaml", _env(PROTHEUS, "acme-qa", rpo={"promoteFrom": "acme-prod"}, **QA))
    repo.write_docs("a.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": "acme-qa"}))
    assert "rpo-cycle" in _rules(repo.validate())


def test_rpo_languages_warning(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("q.yaml", _env(PROTHEUS, "acme-qa", **QA))
    repo.write_docs("a.yaml", _env(PROTHEUS, "acme-prod", rpo={"promoteFrom": "acme-qa"},
                                   environments=[{"name": "P12", "language": "pt"}]))
    result = repo.validate()
    warnings = [d for d in result.diagnostics if d.rule == "rpo-languages"]
    assert result.valid and warnings and "es" in warnings[0].message


@pytest.mark.parametrize("source,expected", [("acme-nowhere", "is not a topology"), ("acme-p", "is protheus")])
def test_clone_source(repo, source, expected):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("p.yaml", _env(PROTHEUS, "acme-p"))
    text = repo.write_docs("f.yaml", _env(FLUIG, "acme-fluig-dev", type="DEV", cloneFrom=source, domain=None))
    found = [d for d in repo.validate().diagnostics if d.rule == "clone-source"]
    assert found and expected in found[0].message and found[0].line == line_of(text, "cloneFrom")


def test_clone_from_existing_fluig_passes(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write_docs("f.yaml", FLUIG)
    repo.write_docs("d.yaml", _env(FLUIG, "acme-fluig-dev", type="DEV", cloneFrom="acme-fluig-prod", domain=None))
    assert repo.validate().valid


def test_contract_and_cloud_warning(repo):
    intera = mutated(CUSTOMER, lambda d: d["spec"].update(contract="intera"))
    repo.write_docs("customers.yaml", intera)
    text = repo.write_docs("f.yaml", FLUIG)
    found = [d for d in repo.validate().diagnostics if d.rule == "contract-cloud"]
    assert found and not found[0].is_error and found[0].line == line_of(text, "cloud: aws")
