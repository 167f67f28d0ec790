"""Every domain rule: a passing case and a failing case that names the right rule, file and line."""

from __future__ import annotations

import os

import pytest

from tests.conftest import CUSTOMER, FLUIG, PROTHEUS, dump, line_of, mutated


def _set(path: str, value):
    def change(doc):
        *parents, last = path.split(".")
        node = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list) and int(last) == len(node):
            node.append(value)
        else:
            node[int(last) if last.isdigit() else last] = value
    return change


_DELETE = object()


def _combine(*changes):
    def change(doc):
        for c in changes:
            c(doc)
    return change


# (case id, base document, change, rule, text of the line the diagnostic must point at [, occurrence])
SINGLE_DOCUMENT_FAILURES = [
    ("schedule-on-intera", PROTHEUS, _combine(_set("spec.cloud", "intera"), _set("spec.region", "sp1")),
     "capability-cloud", "schedule:"),
    ("cost-alert-on-intera", PROTHEUS, _combine(_set("spec.cloud", "intera"), _set("spec.region", "sp1")),
     "capability-cloud", "costAlert:"),
    ("domain-on-intera", PROTHEUS, _combine(_set("spec.cloud", "intera"), _set("spec.region", "sp1")),
     "capability-cloud", "domain:"),
    ("retention-on-intera", PROTHEUS, _combine(_set("spec.cloud", "intera"), _set("spec.region", "sp1")),
     "capability-cloud", "automaticRetentionDays:"),
    ("widgets-on-protheus", PROTHEUS, _set("spec.widgets", [{"file": "artifacts/portal.war"}]),
     "capability-product", "widgets:"),
    ("environments-on-fluig", FLUIG, _set("spec.environments", [{"name": "P12", "language": "pt"}]),
     "capability-product", "environments:"),
    ("sftp-on-fluig", FLUIG, _set("spec.sftp", {"enabled": True}), "capability-product", "sftp:"),
    ("clone-on-azure", FLUIG, _combine(_set("spec.cloud", "azure"), _set("spec.region", "brazilsouth"),
                                       _set("spec.cloneFrom", "acme-fluig-prod2"), _set("spec.type", "DEV"),
                                       _set("spec.domain", {"subdomain": "f"})), "capability-cloud", "cloneFrom:"),
    ("clone-on-protheus", PROTHEUS, _set("spec.cloneFrom", "other"), "capability-product", "cloneFrom:"),
    ("schedule-missing", PROTHEUS, _set("spec.schedule", _DELETE), "schedule-required", "power: scheduled"),
    ("schedule-forbidden", PROTHEUS, _set("spec.power", "running"), "schedule-forbidden", "schedule:"),
    ("bad-timezone", PROTHEUS, _set("spec.schedule.timezone", "America/Atlantis"), "timezone", "America/Atlantis"),
    ("window-backwards", PROTHEUS, _set("spec.schedule.windows.1.end", "06:00"), "schedule-window", "06:00"),
    ("window-fake-overnight", PROTHEUS, _set("spec.schedule.windows.1.overnight", True), "schedule-window",
     "overnight: true"),
    ("window-overlap", PROTHEUS, _set("spec.schedule.windows.2", {"days": ["mon"], "start": "19:00", "end": "21:00"}),
     "schedule-overlap", "- days:", 3),
    ("overnight-overlap", PROTHEUS, _set("spec.schedule.windows.2", {"days": ["fri"], "start": "22:00", "end": "09:00",
                                                                     "overnight": True}),
     "schedule-overlap", "- days:", 3),
    ("two-pt-on-prod", PROTHEUS, _set("spec.environments.1.language", "pt"), "environment-per-language",
     "language: pt", 2),
    ("bad-env-name", PROTHEUS, _set("spec.environments.1.name", "1BAD"), "environment-name", "1BAD"),
    ("duplicate-env", PROTHEUS, _set("spec.environments.1.name", "p12"), "environment-unique", "name: p12"),
    ("rename-still-declared", PROTHEUS, _set("spec.environments.1.renamedFrom", "P12"), "environment-rename",
     "renamedFrom: P12"),
    ("patch-targets-on-prod", PROTHEUS, _set("spec.patches.0.environments", ["P12"]), "patch-target",
     "environments:", 2),
    ("patch-without-language", PROTHEUS, _set("spec.patches.0.language", _DELETE), "patch-language",
     "- file: artifacts/fix.ptm"),
    ("patch-language-absent", PROTHEUS, _set("spec.patches.0.language", "en"), "patch-language", "language: en"),
    ("patch-two-sources", PROTHEUS, _set("spec.patches.0.catalog", "12.1.2410-FAT-1"), "patch-source",
     "- file: artifacts/fix.ptm"),
    ("patch-extension", PROTHEUS, _set("spec.patches.0.file", "artifacts/portal.war"), "patch-extension",
     "file: artifacts/portal.war"),
    ("dev-patch-untargeted", PROTHEUS, _combine(_set("spec.type", "DEV"), _set("spec.backup.automaticRetentionDays", 7)),
     "patch-target", "- file: artifacts/fix.ptm"),
    ("dev-patch-unknown-env", PROTHEUS, _combine(_set("spec.type", "DEV"), _set("spec.patches.0.language", _DELETE),
                                                 _set("spec.patches.0.environments", ["NOPE"])),
     "patch-target", "- NOPE"),
    ("widget-extension", FLUIG, _set("spec.widgets.0.file", "artifacts/fix.ptm"), "widget-extension",
     "file: artifacts/fix.ptm"),
    ("protheus-version", PROTHEUS, _set("spec.version", "12.1"), "version-format", "version:"),
    ("fluig-version", FLUIG, _set("spec.version", "v1"), "version-format", "version: v1"),
    ("aws-region", PROTHEUS, _set("spec.region", "saopaulo"), "region-format", "region: saopaulo"),
    ("custom-domain-syntax", FLUIG, _set("spec.domain.custom", "fluig_acme.com"), "domain-syntax", "fluig_acme.com"),
    ("custom-domain-in-platform-zone", FLUIG, _set("spec.domain.custom", "x.cloudtotvs.com.br"), "domain-syntax",
     "x.cloudtotvs.com.br"),
    ("prod-retention", PROTHEUS, _set("spec.backup.automaticRetentionDays", 10), "backup-retention",
     "automaticRetentionDays: 10"),
    ("duplicate-manual-backup", PROTHEUS, _set("spec.backup.manual", [{"name": "B", "comment": "x"},
                                                                      {"name": "B", "comment": "y"}]),
     "backup-unique", "name: B", 2),
    ("service-of-other-product", PROTHEUS, _set("spec.services.0.name", "FLUIG"), "service-product", "name: FLUIG"),
    ("service-twice", PROTHEUS, _set("spec.services", [{"name": "ERP"}, {"name": "ERP"}]), "service-unique",
     "name: ERP", 2),
    ("ini-on-license-server", PROTHEUS, _set("spec.services.0.name", "LICENSE_SERVER"), "ini-service", "ini:"),
    ("ini-parameter", PROTHEUS, _set("spec.services.0.ini", {"General": {"SourcePath": "/x"}}), "ini-parameter",
     "SourcePath"),
    ("ini-section", PROTHEUS, _set("spec.services.0.ini", {"Drivers": {"Active": "TCP"}}), "ini-parameter",
     "Drivers:"),
    ("port-on-erp", PROTHEUS, _set("spec.services.0.httpPort", 8080), "service-port", "httpPort: 8080"),
    ("port-sftp", FLUIG, _set("spec.services.0.httpPort", 2323), "service-port", "httpPort: 2323"),
    ("alert-without-limit", PROTHEUS, _set("spec.costAlert.monthlyLimit", _DELETE), "cost-alert-limit", "costAlert:"),
    ("unknown-field", PROTHEUS, _set("spec.powr", "running"), "schema-unknown-field", "powr:"),
    ("wrong-enum", PROTHEUS, _set("spec.type", "PRD"), "schema-enum", "type: PRD"),
    ("missing-field", PROTHEUS, _set("spec.version", _DELETE), "schema-required", "spec:"),
    ("wrong-type", PROTHEUS, _set("spec.instances", "two"), "schema-type", "instances: two"),
    ("artifact-missing", PROTHEUS, _set("spec.patches.0.file", "artifacts/nope.ptm"), "artifact-missing",
     "artifacts/nope.ptm"),
    ("artifact-absolute", PROTHEUS, _set("spec.patches.0.file", "/etc/hosts.ptm"), "artifact-path", "/etc/hosts.ptm"),
    ("artifact-traversal", PROTHEUS, _set("spec.patches.0.file", "artifacts/../../x.ptm"), "artifact-path",
     "../../x.ptm"),
    ("artifact-backslash", PROTHEUS, _set("spec.patches.0.file", "artifacts\\fix.ptm"), "artifact-path", "fix.ptm"),
    ("widget-twice", FLUIG, _set("spec.widgets", [{"file": "artifacts/portal.war"}, {"file": "artifacts/portal.war"}]),
     "widget-unique", "- file: artifacts/portal.war", 2),
    ("fluig-config-extension", FLUIG, _set("spec.fluigConfig", {"standaloneConf": "artifacts/portal.war"}),
     "fluig-config", "standaloneConf:"),
    ("too-many-recipients-on-aws", PROTHEUS, _set("spec.costAlert.notify", [f"p{i}@acme.com.br" for i in range(11)]),
     "cost-alert-recipients", "notify:"),
    ("rpo-from-itself", PROTHEUS, _set("spec.rpo", {"promoteFrom": "acme-protheus-prod"}), "rpo-source",
     "promoteFrom: acme-protheus-prod"),
]


@pytest.mark.parametrize("case", SINGLE_DOCUMENT_FAILURES, ids=[c[0] for c in SINGLE_DOCUMENT_FAILURES])
def test_failing_case_names_rule_file_and_line(repo, case):
    _, base, change, rule, needle, *occurrence = case
    text = repo.write_docs("specs/env.yaml", mutated(base, change))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    matching = [d for d in result.diagnostics if d.rule == rule]
    assert matching, f"no {rule} in {[(d.rule, d.message) for d in result.diagnostics]}"
    expected_line = line_of(text, needle, *(occurrence or [1]))
    assert any(d.file == "specs/env.yaml" and d.line == expected_line for d in matching), \
        [(d.line, d.column, d.message) for d in matching]
    assert all(d.column >= 1 for d in matching)
    assert not result.valid


@pytest.mark.parametrize("base", [PROTHEUS, FLUIG], ids=["protheus", "fluig"])
def test_base_documents_pass(repo, base):
    repo.write_docs("env.yaml", base)
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    assert result.valid, [(d.rule, d.message) for d in result.diagnostics]


PASSING_VARIANTS = [
    ("overnight-window", PROTHEUS, _set("spec.schedule.windows.1", {"days": ["sat"], "start": "22:00", "end": "02:00",
                                                                    "overnight": True})),
    ("until-midnight", PROTHEUS, _set("spec.schedule.windows.1.end", "24:00")),
    ("dev-many-per-language", PROTHEUS, _combine(
        _set("spec.type", "DEV"), _set("spec.backup.automaticRetentionDays", 7),
        _set("spec.environments", [{"name": "D1", "language": "pt"}, {"name": "D2", "language": "pt"},
                                   {"name": "D3", "language": "pt"}]),
        _set("spec.services.0.ini", {"D2": {"FWTraceLog": "1"}}),
        _set("spec.patches", [{"file": "artifacts/fix.ptm", "environments": ["D2"], "services": ["ERP"]}]))),
    ("catalog-patch", PROTHEUS, _set("spec.patches", [{"catalog": "12.1.2410-FAT-1", "language": "es"}])),
    ("three-languages", PROTHEUS, _set("spec.environments.2", {"name": "P12EN", "language": "en"})),
    ("rename", PROTHEUS, _set("spec.environments.1", {"name": "P12SPA", "language": "es", "renamedFrom": "P12ES"})),
    ("azure-schedule-by-stack", PROTHEUS, _combine(_set("spec.cloud", "azure"), _set("spec.region", "brazilsouth"))),
    ("intera-manual-backup", PROTHEUS, _combine(
        _set("spec.cloud", "intera"), _set("spec.region", "sp1"), _set("spec.schedule", _DELETE),
        _set("spec.power", "running"), _set("spec.costAlert", _DELETE), _set("spec.domain", _DELETE),
        _set("spec.backup", {"manual": [{"name": "B1", "comment": "before migration"}]}))),
    ("fluig-xml-config", FLUIG, _set("spec.fluigConfig", {"standaloneXml": "artifacts/standalone.xml"})),
    ("custom-domain", FLUIG, _set("spec.domain.custom", "portal.acme.com")),
    ("rm-on-azure", PROTHEUS, _combine(
        _set("spec.product", "rm"), _set("spec.version", "12.1.2406"), _set("spec.cloud", "azure"),
        _set("spec.region", "brazilsouth"), _set("spec.environments", _DELETE), _set("spec.patches", _DELETE),
        _set("spec.updates", _DELETE), _set("spec.sftp", _DELETE), _set("spec.services", [{"name": "RM_JOB_SERVER"}]))),
]


@pytest.mark.parametrize("case", PASSING_VARIANTS, ids=[c[0] for c in PASSING_VARIANTS])
def test_passing_variant(repo, case):
    _, base, change = case
    repo.write("artifacts/standalone.xml", "<server xmlns='urn:jboss:domain:20.0'><profile/></server>\n")
    repo.write_docs("env.yaml", mutated(base, change))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    assert result.valid, [(d.rule, d.message, d.json_path) for d in result.diagnostics]


def test_yaml11_boolean_power_gets_a_targeted_hint(repo):
    text = dump(PROTHEUS).replace("power: scheduled", "power: on").replace("  schedule:", "  xschedule:")
    repo.write("env.yaml", text)
    repo.write_docs("customers.yaml", CUSTOMER)
    power = [d for d in repo.validate().diagnostics if d.json_path == "$.spec.power"]
    assert power and "running" in power[0].hint and "YAML 1.1" in power[0].hint
    assert power[0].line == line_of(text, "power: on") and power[0].column == len("  power: ") + 1


def test_yaml11_yes_for_a_boolean(repo):
    text = dump(PROTHEUS).replace("enabled: true", "enabled: yes", 1)
    repo.write("env.yaml", text)
    repo.write_docs("customers.yaml", CUSTOMER)
    found = [d for d in repo.validate().diagnostics if d.rule == "schema-type"]
    assert found and "write true" in found[0].hint


def test_unquoted_time_warns_but_passes(repo):
    text = dump(PROTHEUS).replace("end: '20:00'", "end: 20:00")
    assert "end: 20:00" in text
    repo.write("env.yaml", text)
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    assert result.valid
    warning = [d for d in result.diagnostics if d.rule == "yaml11-time"]
    assert warning and warning[0].line == line_of(text, "end: 20:00") and not warning[0].is_error


def test_unknown_field_suggests_the_right_name(repo):
    repo.write_docs("env.yaml", mutated(PROTHEUS, _set("spec.instanceSzie", "large")))
    repo.write_docs("customers.yaml", CUSTOMER)
    found = [d for d in repo.validate().diagnostics if d.rule == "schema-unknown-field"]
    assert found[0].hint == "did you mean 'instanceSize'?"


def test_exclusive_access_on_is_a_warning(repo):
    repo.write_docs("env.yaml", mutated(PROTHEUS, _set("spec.exclusiveAccess", True)))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    assert result.valid and [d.rule for d in result.diagnostics] == ["exclusive-access"]


def test_malformed_standalone_xml(repo):
    repo.write("artifacts/standalone.xml", "<server><profile></server>")
    text = repo.write_docs("env.yaml", mutated(FLUIG, _set("spec.fluigConfig", {"standaloneXml": "artifacts/standalone.xml"})))
    repo.write_docs("customers.yaml", CUSTOMER)
    found = [d for d in repo.validate().diagnostics if d.rule == "fluig-config"]
    assert found and found[0].line == line_of(text, "standaloneXml")


def test_artifact_symlink_out_of_the_repo(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.ptm"
    outside.write_bytes(b"x")
    os.symlink(outside, repo.root / "artifacts/link.ptm")
    text = repo.write_docs("env.yaml", mutated(PROTHEUS, _set("spec.patches.0.file", "artifacts/link.ptm")))
    repo.write_docs("customers.yaml", CUSTOMER)
    found = [d for d in repo.validate().diagnostics if d.rule == "artifact-path"]
    assert found and "outside the repository" in found[0].message and found[0].line == line_of(text, "link.ptm")


def test_artifact_symlink_inside_the_repo_is_fine(repo):
    os.symlink(repo.root / "artifacts/fix.ptm", repo.root / "artifacts/alias.ptm")
    repo.write_docs("env.yaml", mutated(PROTHEUS, _set("spec.patches.0.file", "artifacts/alias.ptm")))
    repo.write_docs("customers.yaml", CUSTOMER)
    assert repo.validate().valid


def test_customer_timezone(repo):
    text = repo.write_docs("customers.yaml", mutated(CUSTOMER, _set("spec.timezone", "Sao Paulo")))
    repo.write_docs("env.yaml", PROTHEUS)
    found = [d for d in repo.validate().diagnostics if d.rule == "timezone"]
    assert found and found[0].file == "customers.yaml" and found[0].line == line_of(text, "timezone")


def test_unknown_kind(repo):
    repo.write("x.yaml", "apiVersion: cloud.totvs.io/v1\nkind: Topology\nmetadata: {name: a}\n")
    found = [d for d in repo.validate().diagnostics if d.rule == "unknown-kind"]
    assert found and found[0].line == 2


def test_other_tools_yaml_is_ignored(repo):
    repo.write(".github/workflows/ci.yml", "on: [push]\njobs: {}\n")
    repo.write("ci/gitlab.yml", "stages: [plan]\nplan: {script: [reconciler plan]}\n")
    repo.write("compose.yaml", "- just\n- a list\n")
    repo.write_docs("env.yaml", PROTHEUS)
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    assert result.valid and len(result.documents) == 2


def test_protheus_without_environments_is_a_warning(repo):
    text = repo.write_docs("env.yaml", mutated(PROTHEUS, _combine(_set("spec.environments", []),
                                                                 _set("spec.patches", []))))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = repo.validate()
    found = [d for d in result.diagnostics if d.rule == "environment-none"]
    assert result.valid and found and not found[0].is_error and found[0].line == line_of(text, "spec:")
