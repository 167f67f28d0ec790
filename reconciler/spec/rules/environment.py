"""Rules every Environment obeys whatever its product: version and region formats, domain syntax
(rule 12), cost alert, backup policy (rule 11), and services with their INI (rules 15 and 17)."""

from __future__ import annotations

import re
from typing import Iterator

from reconciler.model import capabilities as caps
from reconciler.model.diagnostics import Diagnostic, error
from reconciler.spec.rules import document_rule

VERSION_FORMATS = {
    "protheus": (re.compile(r"^12\.1\.(\d{2}|\d{4})$"), "12.1.NNNN, such as 12.1.2410"),
    "rm": (re.compile(r"^12\.1\.\d{4}(\.\d{1,4})?$"), "12.1.NNNN, such as 12.1.2406"),
    "fluig": (re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$"), "MAJOR.MINOR.PATCH, such as 1.8.2"),
}
REGION_FORMATS = {
    "aws": (re.compile(r"^[a-z]{2}(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$"),
            "an AWS region such as sa-east-1"),
    "azure": (re.compile(r"^[a-z][a-z0-9]{2,30}$"), "an Azure location such as brazilsouth"),
    "intera": (re.compile(r"^[a-z]{2,3}\d{1,2}$"), "an Intera site such as sp1"),
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,63}$")
PROD_MIN_AUTOMATIC_RETENTION = caps.PROTECTED_RECENT_DAYS


@document_rule("Environment")
def formats(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    version_format = VERSION_FORMATS.get(spec.get("product"))
    version = spec.get("version")
    if version_format and isinstance(version, str) and not version_format[0].match(version):
        yield error("version-format", f"'{version}' is not a {spec['product']} version",
                    ("spec", "version"), f"write {version_format[1]} (quoted)")
    region_format = REGION_FORMATS.get(spec.get("cloud"))
    region = spec.get("region")
    if region_format and isinstance(region, str) and not region_format[0].match(region):
        yield error("region-format", f"'{region}' is not a region of {caps.CLOUD_TITLES[spec['cloud']]}",
                    ("spec", "region"), f"write {region_format[1]}")


def fqdn_problem(name: str) -> str | None:
    """Why ``name`` is not a fully qualified domain name we can serve, or None."""
    if name != name.lower():
        return "domain names are written in lowercase"
    if len(name) > 253 or name.endswith("."):
        return "too long, or ends with a dot"
    labels = name.split(".")
    if len(labels) < 2 or not all(_DNS_LABEL.match(label) for label in labels):
        return "each dot-separated label must be 1-63 letters, digits or '-', not starting or ending with '-'"
    if not _TLD.match(labels[-1]):
        return f"'{labels[-1]}' is not a top-level domain"
    return None


@document_rule("Environment")
def domain(doc: dict) -> Iterator[Diagnostic]:
    custom = (doc["spec"].get("domain") or {}).get("custom")
    if not isinstance(custom, str):
        return
    path = ("spec", "domain", "custom")
    problem = fqdn_problem(custom)
    if problem:
        yield error("domain-syntax", f"'{custom}' is not a valid domain name: {problem}", path,
                    "write the customer's own domain, such as erp.acme.com.br")
    elif custom == caps.CLOUDTOTVS_ZONE or custom.endswith("." + caps.CLOUDTOTVS_ZONE):
        label = custom.removesuffix("." + caps.CLOUDTOTVS_ZONE)
        yield error("domain-syntax", f"'{custom}' is under {caps.CLOUDTOTVS_ZONE}, which is not a custom domain", path,
                    f"write domain: {{subdomain: {label.split('.')[0]}}}")


AWS_BUDGET_MAX_SUBSCRIBERS = 10  # AWS Budgets: at most 10 e-mail subscribers per notification


@document_rule("Environment")
def cost_alert(doc: dict) -> Iterator[Diagnostic]:
    alert = doc["spec"].get("costAlert")
    if not isinstance(alert, dict):
        return
    if alert.get("enabled") is True and "monthlyLimit" not in alert:
        yield error("cost-alert-limit", "the cost alert is enabled but has no monthly limit",
                    ("spec", "costAlert"), "add monthlyLimit: the expected monthly cost, such as 4500")
    notify = alert.get("notify") or []
    if doc["spec"].get("cloud") == "aws" and len(notify) > AWS_BUDGET_MAX_SUBSCRIBERS:
        yield error("cost-alert-recipients", f"{len(notify)} recipients, but an AWS budget notifies at most "
                    f"{AWS_BUDGET_MAX_SUBSCRIBERS}", ("spec", "costAlert", "notify"),
                    "use a distribution list address instead of many individual addresses")


@document_rule("Environment")
def backup_policy(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    backup = spec.get("backup") or {}
    days = backup.get("automaticRetentionDays")
    if spec.get("type") == "PROD" and isinstance(days, int) and days < PROD_MIN_AUTOMATIC_RETENTION:
        yield error("backup-retention",
                    f"a PROD topology keeps automatic backups at least {PROD_MIN_AUTOMATIC_RETENTION} days, not {days}",
                    ("spec", "backup", "automaticRetentionDays"),
                    f"backups of the last {PROD_MIN_AUTOMATIC_RETENTION} days are protected; set 30 or more")
    seen: set[str] = set()
    for index, manual in enumerate(backup.get("manual") or []):
        name = manual["name"]
        if name in seen:
            yield error("backup-unique", f"manual backup '{name}' is declared twice",
                        ("spec", "backup", "manual", index, "name"), "give each manual backup its own name")
        seen.add(name)


@document_rule("Environment")
def services(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    product = spec.get("product")
    allowed = caps.SERVICES.get(product, ())
    env_names = {e["name"] for e in spec.get("environments") or []}
    seen: set[str] = set()
    for index, service in enumerate(spec.get("services") or []):
        name, path = service["name"], ("spec", "services", index)
        if product in caps.SERVICES and name not in allowed:
            yield error("service-product", f"{caps.PRODUCT_TITLES[product]} has no service '{name}'",
                        path + ("name",), f"services of {caps.PRODUCT_TITLES[product]}: {', '.join(allowed)}")
        if name in seen:
            yield error("service-unique", f"service '{name}' is declared twice", path + ("name",),
                        "merge the two entries")
        seen.add(name)
        yield from _ini(service, path, env_names)
        yield from _port(service, path)


def _ini(service: dict, path: tuple, env_names: set[str]) -> Iterator[Diagnostic]:
    ini = service.get("ini")
    if not ini:
        return
    if service["name"] not in caps.INI_SERVICES:
        yield error("ini-service", f"the INI editor does not edit service '{service['name']}'",
                    path + ("ini",), f"INI parameters can be set on: {', '.join(caps.INI_SERVICES)}")
        return
    for section, values in ini.items():
        allowed = caps.INI_ALLOWED.get("$environment" if section in env_names else section)
        if allowed is None:
            yield error("ini-parameter", f"INI section [{section}] cannot be edited", path + ("ini", section),
                        f"editable sections: {', '.join(s for s in caps.INI_ALLOWED if s[0] != '$')} "
                        "and one named after each environment")
            continue
        for key in values:
            if key not in allowed:
                yield error("ini-parameter", f"INI parameter {section}/{key} is not editable",
                            path + ("ini", section, key),
                            f"the operations team allows in [{section}]: {', '.join(sorted(allowed))}")


def _port(service: dict, path: tuple) -> Iterator[Diagnostic]:
    port = service.get("httpPort")
    if port is None:
        return
    if service["name"] != "FLUIG":
        yield error("service-port", "only the FLUIG service has an http port to set", path + ("httpPort",),
                    "remove httpPort from this service")
    elif port == caps.SFTP_PORT:
        yield error("service-port", f"port {caps.SFTP_PORT} is reserved for SFTP", path + ("httpPort",),
                    "choose another port, such as 8080")
