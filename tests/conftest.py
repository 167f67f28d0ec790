"""Shared fixtures: a private validation cache per test session, and a GitOps repo builder."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["RECONCILER_CACHE_DIR"] = str(tmp_path_factory.mktemp("reconciler-cache"))
    os.environ.pop("NO_COLOR", None)


CUSTOMER = {"apiVersion": "cloud.totvs.io/v1", "kind": "Customer", "metadata": {"name": "acme"},
            "spec": {"contract": "consumption", "timezone": "America/Sao_Paulo", "contacts": ["ti@acme.com.br"]}}

PROTHEUS = {
    "apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
    "metadata": {"name": "acme-protheus-prod", "customer": "acme"},
    "spec": {
        "product": "protheus", "type": "PROD", "cloud": "aws", "region": "sa-east-1", "version": "12.1.2410",
        "instances": 2, "instanceSize": "large", "power": "scheduled",
        "schedule": {"timezone": "America/Sao_Paulo", "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "20:00"},
            {"days": ["sat"], "start": "08:00", "end": "13:00"}]},
        "costAlert": {"enabled": True, "monthlyLimit": 4500, "currency": "BRL", "thresholds": [80, 100]},
        "domain": {"subdomain": "acme"},
        "environments": [{"name": "P12", "language": "pt"}, {"name": "P12ES", "language": "es"}],
        "services": [{"name": "ERP", "state": "running", "ini": {"General": {"MaxStringSize": "10"}}}],
        "patches": [{"file": "artifacts/fix.ptm", "language": "pt"}],
        "updates": {"binary": "20.3.2.4", "dbaccess": "23.1.1.5", "ctree": "13.0.1"},
        "backup": {"automaticRetentionDays": 30, "manualRetentionDays": 90,
                   "manual": [{"name": "Backup_1", "comment": "before closing"}]},
        "sftp": {"enabled": True},
    },
}

FLUIG = {
    "apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
    "metadata": {"name": "acme-fluig-prod", "customer": "acme"},
    "spec": {"product": "fluig", "type": "PROD", "cloud": "aws", "region": "sa-east-1", "version": "1.8.2",
             "power": "running", "domain": {"custom": "fluig.acme.com.br"},
             "widgets": [{"file": "artifacts/portal.war"}],
             "services": [{"name": "FLUIG", "httpPort": 8080}]},
}


def dump(*docs: dict) -> str:
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)


class Repo:
    """A GitOps repository in a temporary folder."""

    def __init__(self, root: Path):
        self.root = root
        (root / ".reconciler.yaml").write_text("engine: sandbox\n")
        (root / "artifacts").mkdir()
        (root / "artifacts/fix.ptm").write_bytes(b"TOTVS-PTM\x01")
        (root / "artifacts/portal.war").write_bytes(b"PK\x05\x06" + b"\x00" * 18)

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def write_docs(self, rel: str, *docs: dict) -> str:
        text = dump(*docs)
        self.write(rel, text)
        return text

    def validate(self, **kwargs: Any):
        from reconciler.spec.validate import validate

        return validate([self.root], self.root, use_cache=kwargs.pop("use_cache", False), **kwargs)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


def mutated(base: dict, change: Callable[[dict], Any]) -> dict:
    doc = copy.deepcopy(base)
    change(doc)
    return doc


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")
