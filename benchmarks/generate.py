"""Synthetic GitOps repositories for the benchmarks: N realistic Environment documents.

Each customer gets a Customer document and up to six topologies (Protheus PROD/QA/DEV, Fluig
PROD/DEV, RM PROD) spread over the clouds the capability matrix allows, so the documents look
like the examples and exercise every rule.
"""

from __future__ import annotations

import shutil
from pathlib import Path

_PATCH = b"TOTVS-PTM\x01\x00" + b"MATA410.PRX;" * 20

_PROTHEUS = """\
# yaml-language-server: $schema=../../schemas/environment.schema.json
apiVersion: cloud.totvs.io/v1
kind: Environment
metadata:
  name: {name}
  customer: {customer}
  labels: {{cost-center: ti-erp}}
spec:
  product: protheus
  type: {type}
  cloud: aws
  region: sa-east-1
  version: "12.1.2410"
  instances: {instances}
  instanceSize: large
  power: scheduled
  schedule:
    timezone: America/Sao_Paulo
    windows:
      - {{days: [mon, tue, wed, thu, fri], start: "07:00", end: "20:00"}}
      - {{days: [sat], start: "08:00", end: "13:00"}}
  costAlert: {{enabled: true, monthlyLimit: {limit}, currency: BRL, thresholds: [80, 100], notify: [ti@{customer}.com.br]}}
  domain: {{subdomain: {name}}}
  environments:
    - {{name: P12, language: pt}}
    - {{name: P12ES, language: es}}
  services:
    - {{name: ERP, state: running, ini: {{General: {{MaxStringSize: "10"}}}}}}
    - {{name: SCHEDULER, state: running}}
  patches:
    - {{file: artifacts/patches/fix.ptm, {target}}}
  updates: {{binary: "20.3.2.4", dbaccess: "23.1.1.5", ctree: "13.0.1"}}
  backup:
    automaticRetentionDays: 30
    manualRetentionDays: 90
    manual:
      - {{name: Backup_{index}, comment: "before the fiscal year closing"}}
  sftp: {{enabled: true}}
"""

_FLUIG = """\
# yaml-language-server: $schema=../../schemas/environment.schema.json
apiVersion: cloud.totvs.io/v1
kind: Environment
metadata:
  name: {name}
  customer: {customer}
spec:
  product: fluig
  type: {type}
  cloud: aws
  region: sa-east-1
  version: "1.8.2"
  instances: {instances}
  users: 40
  power: running
  domain: {{custom: {name}.example.com.br}}
  services:
    - {{name: FLUIG, state: running, httpPort: 8080}}
  widgets:
    - {{file: artifacts/widgets/portal.war}}
  backup: {{automaticRetentionDays: 30}}
"""

_RM = """\
# yaml-language-server: $schema=../../schemas/environment.schema.json
apiVersion: cloud.totvs.io/v1
kind: Environment
metadata:
  name: {name}
  customer: {customer}
spec:
  product: rm
  type: {type}
  cloud: azure
  region: brazilsouth
  version: "12.1.2406"
  instances: {instances}
  power: running
  costAlert: {{enabled: true, monthlyLimit: {limit}}}
  services:
    - {{name: RM, state: running}}
    - {{name: RM_JOB_SERVER, state: running}}
"""

_CUSTOMER = """\
# yaml-language-server: $schema=../../schemas/customer.schema.json
apiVersion: cloud.totvs.io/v1
kind: Customer
metadata: {{name: {customer}}}
spec: {{contract: consumption, timezone: America/Sao_Paulo, contacts: [ti@{customer}.com.br]}}
"""

_SHAPES = [("protheus", "PROD", _PROTHEUS), ("protheus", "QA", _PROTHEUS), ("protheus", "DEV", _PROTHEUS),
           ("fluig", "PROD", _FLUIG), ("fluig", "DEV", _FLUIG), ("rm", "PROD", _RM)]


def environment_text(index: int, variant: int = 0) -> tuple[str, str, str]:
    """(customer, environment name, YAML text) of the index-th environment."""
    customer = f"cust{index // len(_SHAPES):05d}"
    product, kind, template = _SHAPES[index % len(_SHAPES)]
    name = f"{customer}-{product}-{kind.lower()}"
    target = "environments: [P12]" if kind == "DEV" else "language: pt"
    text = template.format(name=name, customer=customer, type=kind, instances=1 + index % 3, target=target,
                           limit=1000 + variant * 10 + index % 7 * 100, index=index)
    return customer, name, text


def make_repo(root: Path, count: int) -> list[Path]:
    """Write a repository of ``count`` environments; returns the environment files."""
    if root.exists():
        shutil.rmtree(root)
    (root / "artifacts/patches").mkdir(parents=True)
    (root / "artifacts/widgets").mkdir(parents=True)
    (root / "artifacts/patches/fix.ptm").write_bytes(_PATCH)
    (root / "artifacts/widgets/portal.war").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (root / ".reconciler.yaml").write_text("engine: sandbox\n")
    files, customers = [], set()
    for index in range(count):
        customer, name, text = environment_text(index)
        folder = root / "customers" / customer
        if customer not in customers:
            folder.mkdir(parents=True)
            (folder / "customer.yaml").write_text(_CUSTOMER.format(customer=customer))
            customers.add(customer)
        path = folder / f"{name}.yaml"
        path.write_text(text)
        files.append(path)
    return files
