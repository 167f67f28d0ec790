"""The validation cache: reuse, invalidation by content, and never trusting a foreign cache."""

from __future__ import annotations

import json
import os

from reconciler.spec.cache import cache_dir
from tests.conftest import CUSTOMER, PROTHEUS, mutated


def test_second_run_parses_nothing_and_finds_the_same(repo):
    repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(type="PRD")))
    repo.write_docs("customers.yaml", CUSTOMER)
    first = repo.validate(use_cache=True)
    second = repo.validate(use_cache=True)
    assert first.stats["parsed"] == 2 and second.stats["parsed"] == 0
    assert first.diagnostics == second.diagnostics and first.documents == second.documents


def test_an_edit_is_seen(repo):
    path = repo.root / "env.yaml"
    repo.write_docs("env.yaml", PROTHEUS)
    repo.write_docs("customers.yaml", CUSTOMER)
    assert repo.validate(use_cache=True).valid
    repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(type="PRD")))
    os.utime(path, ns=(1, 1))  # even with an old mtime, the size or inode moved
    result = repo.validate(use_cache=True)
    assert result.stats["parsed"] == 1 and not result.valid


def test_artifact_removal_is_seen_although_specs_are_cached(repo):
    repo.write_docs("env.yaml", PROTHEUS)
    repo.write_docs("customers.yaml", CUSTOMER)
    assert repo.validate(use_cache=True).valid
    (repo.root / "artifacts/fix.ptm").unlink()
    result = repo.validate(use_cache=True)
    assert result.stats["parsed"] == 0 and [d.rule for d in result.errors] == ["artifact-missing"]


def test_cross_document_rules_run_on_cached_documents(repo):
    repo.write_docs("env.yaml", PROTHEUS)
    repo.write_docs("customers.yaml", CUSTOMER)
    assert repo.validate(use_cache=True).valid
    (repo.root / "customers.yaml").unlink()
    result = repo.validate(use_cache=True)
    assert [d.rule for d in result.errors] == ["customer-missing"] and result.errors[0].line == 5


def test_cache_lives_outside_the_repository(repo):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.validate(use_cache=True)
    assert not any(p.name.startswith("validate-") for p in repo.root.rglob("*"))
    assert any(cache_dir().glob("validate-*.json"))


def test_corrupt_or_foreign_cache_is_ignored(repo):
    repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(type="PRD")))
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.validate(use_cache=True)
    for path in cache_dir().glob("validate-*.json"):
        data = json.loads(path.read_text())
        if data.get("root") == str(repo.root.resolve()):
            for entry in data["files"].values():
                entry["diagnostics"] = []  # a poisoned cache claiming the file is clean...
            data["fingerprint"] = "forged"  # ...but written by another version of the code
            path.write_text(json.dumps(data))
    assert not repo.validate(use_cache=True).valid
    for path in cache_dir().glob("validate-*.json"):
        path.write_bytes(b"\x00garbage")
    assert not repo.validate(use_cache=True).valid
