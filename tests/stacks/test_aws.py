"""The AWS program under Pulumi's mock runtime: resource by resource, and change by change.

Each test synthesises a StackInput (from documents, or a ``dataclasses.replace`` of its
Environment) and reads the ResourceGraph: types, names, inputs, protection, exports. The
"changes" tests synthesise a base and a variant with one spec field changed and assert exactly
which resources appeared, disappeared or changed inputs.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from reconciler.model import capabilities as caps
from reconciler.model.graph import ResourceGraph
from reconciler.model.spec import Patch, Window
from reconciler.synth import synthesize
from stacks import program_for
from stacks.aws import catalog, outputs, program
from stacks.common.deployment import deployment_json
from stacks.common.inputs import StackInput
from stacks.common.naming import standard_tags

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROOT = "/repo"
PTM = "artifacts/patches/fix.ptm"
WAR = "artifacts/widgets/portal.war"
JAR = "artifacts/widgets/approvals.jar"
CONF = "artifacts/fluig/standalone.conf"


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


ARTIFACTS = {PTM: _digest("ptm"), WAR: _digest("war"), JAR: _digest("jar"), CONF: _digest("conf")}

CUSTOMER = {"apiVersion": "cloud.totvs.io/v1", "kind": "Customer", "metadata": {"name": "acme"},
            "spec": {"contract": "consumption", "timezone": "America/Sao_Paulo",
                     "contacts": ["ti@acme.com.br", "financeiro@acme.com.br"]}}

PROTHEUS = {
    "apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
    "metadata": {"name": "acme-protheus-prod", "customer": "acme", "labels": {"cost-center": "ti-erp"}},
    "spec": {
        "product": "protheus", "type": "PROD", "cloud": "aws", "region": "sa-east-1", "version": "12.1.2410",
        "instances": 2, "instanceSize": "large", "power": "scheduled",
        "schedule": {"timezone": "America/Sao_Paulo", "windows": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "end": "20:00"},
            {"days": ["sat"], "start": "08:00", "end": "13:00"}]},
        "costAlert": {"enabled": True, "monthlyLimit": 4500, "currency": "BRL", "thresholds": [80, 100],
                      "notify": ["ti@acme.com.br"]},
        "domain": {"subdomain": "acme"},
        "environments": [{"name": "P12", "language": "pt"}, {"name": "P12ES", "language": "es"}],
        "services": [{"name": "ERP", "state": "running", "ini": {"General": {"MaxStringSize": "10"}}}],
        "patches": [{"file": PTM, "language": "pt"}],
        "updates": {"binary": "20.3.2.4", "dbaccess": "23.1.1.5", "ctree": "13.0.1"},
        "exclusiveAccess": False,
        "backup": {"automaticRetentionDays": 30, "manualRetentionDays": 90,
                   "manual": [{"name": "Backup_1", "comment": "before closing"}]},
        "sftp": {"enabled": True},
    },
}

FLUIG = {
    "apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
    "metadata": {"name": "acme-fluig-prod", "customer": "acme"},
    "spec": {"product": "fluig", "type": "PROD", "cloud": "aws", "region": "sa-east-1", "version": "1.8.2",
             "instances": 2, "instanceSize": "medium", "users": 20, "power": "running",
             "domain": {"custom": "fluig.acme.com.br"},
             "services": [{"name": "FLUIG", "httpPort": 8090}],
             "widgets": [{"file": WAR}, {"file": JAR}], "fluigConfig": {"standaloneConf": CONF}},
}

RM = {
    "apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
    "metadata": {"name": "acme-rm-dev", "customer": "acme"},
    "spec": {"product": "rm", "type": "DEV", "cloud": "aws", "region": "us-east-1", "version": "12.1.2406",
             "instances": 1, "instanceSize": "small", "power": "stopped"},
}


# ---------------------------------------------------------------------------------------------
# helpers

def stack_input(env_doc: dict, change: Callable[[dict], Any] | None = None, customer: dict | None = CUSTOMER,
                **extra: Any) -> StackInput:
    doc = copy.deepcopy(env_doc)
    if change:
        change(doc["spec"])
    extra.setdefault("artifacts", ARTIFACTS)
    extra.setdefault("repo_root", ROOT)
    return StackInput.from_documents(doc, customer, **extra)


def with_env(inp: StackInput, **fields: Any) -> StackInput:
    return dataclasses.replace(inp, environment=dataclasses.replace(inp.environment, **fields))


def diff(base: ResourceGraph, variant: ResourceGraph) -> dict[str, set[str]]:
    """Names of the resources that appeared, disappeared, or whose inputs changed."""
    a, b = base.by_urn(), variant.by_urn()
    return {"added": {b[u].name for u in b.keys() - a.keys()},
            "removed": {a[u].name for u in a.keys() - b.keys()},
            "changed": {a[u].name for u in a.keys() & b.keys() if a[u].inputs != b[u].inputs}}


def names(graph: ResourceGraph, type_token: str) -> set[str]:
    return {r.name for r in graph.of_type(type_token)}


def policy(resource) -> dict:
    return json.loads(resource.inputs["policy"])


INSTANCE = "aws:ec2/instance:Instance"
DB = "aws:rds/instance:Instance"
SCHEDULE = "aws:scheduler/schedule:Schedule"
STATE = "aws:ec2transitgateway/instanceState:InstanceState"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
LISTENER = "aws:lb/listener:Listener"
BUDGET = "aws:budgets/budget:Budget"


@pytest.fixture(scope="module")
def protheus() -> StackInput:
    return stack_input(PROTHEUS)


@pytest.fixture(scope="module")
def protheus_graph(protheus: StackInput) -> ResourceGraph:
    return synthesize(protheus)


@pytest.fixture(scope="module")
def fluig_graph() -> ResourceGraph:
    return synthesize(stack_input(FLUIG))


@pytest.fixture(scope="module")
def rm_graph() -> ResourceGraph:
    return synthesize(stack_input(RM))


# ---------------------------------------------------------------------------------------------
# the program contract, the examples, determinism

def test_program_contract_and_project_files() -> None:
    root = Path(program.__file__).parent
    assert program_for("aws") is program and program.PROJECT == "erp-aws"
    pulumi_yaml = (root / "Pulumi.yaml").read_text()
    assert re.search(r"^name: erp-aws$", pulumi_yaml, re.M) and re.search(r"^runtime: python$", pulumi_yaml, re.M)
    main = (root / "__main__.py").read_text()
    assert "build(input_from_pulumi_config())" in main and "from stacks.aws.program import build" in main


def test_every_aws_example_synthesises() -> None:
    from reconciler.spec.validate import validate
    from reconciler.synth.inputs import stack_inputs

    result = validate([EXAMPLES], EXAMPLES, exclude=["ci/**"], use_cache=False)
    assert result.valid, result.errors
    inputs = {n: i for n, i in stack_inputs(result).items() if i.environment.cloud == "aws"}
    assert {"acme-protheus-prod", "acme-protheus-qa", "acme-protheus-dev", "acme-fluig-prod",
            "acme-fluig-dev"} <= set(inputs)
    for name, inp in inputs.items():
        graph = synthesize(inp)
        assert graph.project == "erp-aws" and graph.stack == name
        assert len(graph.of_type(INSTANCE)) >= inp.environment.instances
        assert len(graph.of_type(DB)) == 1
        assert graph.outputs["deploymentDigest"] == _digest(deployment_json(inp))
        for path in inp.environment.artifact_paths():  # artifact paths are relative to the repository
            obj = graph.named(f"artifact-{path}")
            assert obj.inputs["source"] == {"asset": "file", "path": path}


def test_same_input_same_graph(protheus: StackInput, protheus_graph: ResourceGraph) -> None:
    assert synthesize(protheus).to_data() == protheus_graph.to_data()


def test_logical_names_are_unique(protheus_graph, fluig_graph, rm_graph) -> None:
    for graph in (protheus_graph, fluig_graph, rm_graph):
        all_names = [r.name for r in graph.resources]
        assert len(all_names) == len(set(all_names))


def test_one_explicit_provider_in_the_region_for_every_resource(protheus_graph, rm_graph) -> None:
    for graph, region in ((protheus_graph, "sa-east-1"), (rm_graph, "us-east-1")):
        providers = graph.of_type("pulumi:providers:aws")
        assert [p.name for p in providers] == ["aws"] and providers[0].inputs["region"] == region
        assert all(r.provider == "aws" for r in graph.resources if r.type != "pulumi:providers:aws")


def _sdk_class(type_token: str):
    """The SDK class of a type token: aws:ec2/instance:Instance -> pulumi_aws.ec2.Instance."""
    _, module_path, cls = type_token.split(":")
    return getattr(importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}"), cls)


def _takes_tags(type_token: str) -> bool:
    return "tags" in inspect.signature(_sdk_class(type_token)._internal_init).parameters


def test_every_taggable_resource_has_the_standard_tags(protheus: StackInput, protheus_graph) -> None:
    tags = standard_tags(protheus.environment, protheus.customer, protheus.revision)
    assert tags["label-cost-center"] == "ti-erp"
    untagged = set()
    for r in protheus_graph.resources:
        if r.type == "pulumi:providers:aws":
            continue
        if not _takes_tags(r.type):
            untagged.add(r.type)
            continue
        expected = tags if r.type != OBJECT else {k: v for k, v in tags.items() if not k.startswith("label-")}
        assert expected.items() <= r.inputs["tags"].items(), r.name
    assert untagged == {"aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                        "aws:lb/targetGroupAttachment:TargetGroupAttachment", "aws:route53/record:Record",
                        "aws:scheduler/schedule:Schedule", "aws:backup/selection:Selection"}


# ---------------------------------------------------------------------------------------------
# network

def _ingress(graph: ResourceGraph) -> dict[int, dict]:
    return {rule["fromPort"]: rule for rule in graph.named("sg").inputs["ingress"]}


def test_security_group_ports_per_product(protheus_graph, fluig_graph, rm_graph) -> None:
    assert set(_ingress(protheus_graph)) == {80, 443, 1234, 2323, 5432, 8080}
    assert set(_ingress(fluig_graph)) == {80, 443, 3306, 8090}  # the FLUIG service's httpPort
    assert set(_ingress(rm_graph)) == {443, 1433, 8051}  # one instance, no domain: no port 80
    sg = protheus_graph.named("sg")
    assert sg.type == "aws:ec2/securityGroup:SecurityGroup"
    assert sg.inputs["vpcId"] == catalog.AwsSettings().vpc_id and sg.inputs["name"] == "acme-protheus-prod-sg"
    assert _ingress(protheus_graph)[5432] == {"description": "database", "fromPort": 5432, "protocol": "tcp",
                                              "self": True, "toPort": 5432}
    assert _ingress(protheus_graph)[2323]["cidrBlocks"] == ["0.0.0.0/0"]


def test_fluig_port_defaults_to_8080_and_settings_are_read() -> None:
    inp = stack_input(FLUIG, lambda s: s.pop("services"),
                      settings={"vpcId": "vpc-1", "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
                                "allowedCidrs": ["10.0.0.0/8"], "amiIds": {"fluig": "ami-custom"}})
    graph = synthesize(inp)
    assert 8080 in _ingress(graph) and _ingress(graph)[8080]["cidrBlocks"] == ["10.0.0.0/8"]
    assert graph.named("sg").inputs["vpcId"] == "vpc-1"
    assert graph.named("web").inputs["port"] == 8080 and graph.named("web").inputs["vpcId"] == "vpc-1"
    assert [graph.named(f"app-{n}").inputs["subnetId"] for n in (1, 2)] == ["subnet-a", "subnet-b"]
    assert graph.named("app-1").inputs["ami"] == "ami-custom"
    assert graph.named("db-subnets").inputs["subnetIds"] == ["subnet-a", "subnet-b", "subnet-c"]


# ---------------------------------------------------------------------------------------------
# compute

def test_instances_sized_per_product(protheus_graph, fluig_graph, rm_graph) -> None:
    assert names(protheus_graph, INSTANCE) == {"app-1", "app-2"}
    app = protheus_graph.named("app-1")
    assert app.inputs["instanceType"] == "r6i.2xlarge" and app.inputs["ami"] == catalog.AMIS["protheus"]
    assert app.inputs["rootBlockDevice"] == {"encrypted": True, "volumeSize": 400, "volumeType": "gp3"}
    assert app.inputs["metadataOptions"] == {"httpTokens": "required"}
    assert app.inputs["iamInstanceProfile"] == "acme-protheus-prod-agent"
    assert app.inputs["tags"]["Name"] == "acme-protheus-prod-app-1"
    assert [protheus_graph.named(f"app-{n}").inputs["subnetId"] for n in (1, 2)] == list(catalog.AwsSettings().subnet_ids)
    assert fluig_graph.named("app-1").inputs["instanceType"] == "m6i.large"
    assert rm_graph.named("app-1").inputs["instanceType"] == "t3.xlarge"
    assert rm_graph.named("app-1").inputs["rootBlockDevice"]["volumeSize"] == 100
    role = protheus_graph.named("agent-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert protheus_graph.named("agent-ssm").inputs["policyArn"].endswith("AmazonSSMManagedInstanceCore")


@pytest.mark.parametrize("users, indexer", [(None, False), (30, False), (31, True)])
def test_fluig_indexer_gets_an_instance_above_30_users(users, indexer) -> None:
    inp = with_env(stack_input(FLUIG), users=users)
    graph = synthesize(inp)
    assert ("indexer" in names(graph, INSTANCE)) is indexer
    assert ("indexerInstanceId" in graph.outputs) is indexer
    if indexer:
        assert graph.named("indexer").inputs["instanceType"] == catalog.INDEXER_INSTANCE_TYPES["medium"]
        assert graph.named("indexer-power").inputs["state"] == "running"
        assert {"web-app-1", "web-app-2"} == names(graph, "aws:lb/targetGroupAttachment:TargetGroupAttachment")


def test_users_do_nothing_for_products_without_the_feature(protheus: StackInput) -> None:
    graph = synthesize(with_env(protheus, users=500))
    assert names(graph, INSTANCE) == {"app-1", "app-2"}


def test_elastic_ip_for_a_single_instance_or_sftp(protheus_graph, fluig_graph, rm_graph) -> None:
    eip = protheus_graph.named("public-ip")  # two instances, but SFTP
    assert eip.type == "aws:ec2/eip:Eip" and eip.inputs["domain"] == "vpc"
    assert eip.inputs["instance"] == protheus_graph.named("app-1").id
    assert "public-ip" not in {r.name for r in fluig_graph.resources}  # behind the LB, no SFTP
    assert rm_graph.named("public-ip").inputs["instance"] == rm_graph.named("app-1").id


# ---------------------------------------------------------------------------------------------
# database

def test_database_engine_and_size_per_product(protheus_graph, fluig_graph, rm_graph) -> None:
    pg, my, ms = (g.named("db").inputs for g in (protheus_graph, fluig_graph, rm_graph))
    assert (pg["engine"], pg["engineVersion"], pg["port"], pg["instanceClass"], pg["allocatedStorage"]) == \
        ("postgres", "16", 5432, "db.r6g.xlarge", 250)
    assert (my["engine"], my["port"], my["instanceClass"], my["dbName"]) == ("mysql", 3306, "db.m6g.large", "fluig")
    assert (ms["engine"], ms["licenseModel"], ms["instanceClass"]) == ("sqlserver-se", "license-included", "db.m6i.large")
    assert "dbName" not in ms
    assert pg["maxAllocatedStorage"] == 1000 and pg["storageEncrypted"] is True
    assert pg["manageMasterUserPassword"] is True and "password" not in pg
    assert pg["publiclyAccessible"] is False and pg["dbSubnetGroupName"] == "acme-protheus-prod-db"
    assert pg["vpcSecurityGroupIds"] == [protheus_graph.named("sg").id]


def test_prod_data_is_protected_and_non_prod_is_not(protheus_graph, rm_graph) -> None:
    protected = {"db", "backup-vault", "backup-plan"}
    for name in protected:
        r = protheus_graph.named(name)
        assert r.protect and r.retain_on_delete, name
        r = rm_graph.named(name)
        assert not r.protect and not r.retain_on_delete, name
    assert {r.name for r in protheus_graph.resources if r.protect or r.retain_on_delete} == protected
    assert not any(r.protect or r.retain_on_delete for r in rm_graph.resources)
    prod, dev = protheus_graph.named("db").inputs, rm_graph.named("db").inputs
    assert (prod["deletionProtection"], prod["skipFinalSnapshot"], prod["multiAz"]) == (True, False, True)
    assert prod["finalSnapshotIdentifier"] == "acme-protheus-prod-db-final" and prod["backupRetentionPeriod"] == 7
    assert (dev["deletionProtection"], dev["skipFinalSnapshot"], dev["multiAz"]) == (False, True, False)
    assert "finalSnapshotIdentifier" not in dev
    assert rm_graph.named("backup-vault").inputs["forceDestroy"] is True
    assert protheus_graph.named("backup-vault").inputs["forceDestroy"] is False


def test_qa_is_not_protected(protheus: StackInput) -> None:
    graph = synthesize(with_env(protheus, type="QA"))
    assert not any(r.protect or r.retain_on_delete for r in graph.resources)


def test_clone_restores_the_source_database_at_creation_only() -> None:
    base = stack_input(FLUIG)
    graph = synthesize(with_env(base, clone_from="acme-fluig-qa"))
    db = graph.named("db")
    assert db.inputs["restoreToPointInTime"] == {"sourceDbInstanceIdentifier": "acme-fluig-qa-db",
                                                 "useLatestRestorableTime": True}
    assert db.ignore_changes == ("restoreToPointInTime",)
    assert diff(synthesize(base), graph) == {"added": set(), "removed": set(), "changed": {"db"}}
    # cloning is a Fluig feature: the matrix gives it to no other product
    protheus = synthesize(with_env(stack_input(PROTHEUS), clone_from="acme-protheus-qa"))
    assert "restoreToPointInTime" not in protheus.named("db").inputs


# ---------------------------------------------------------------------------------------------
# load balancer

def test_load_balancer_only_with_more_than_one_instance(protheus_graph, rm_graph) -> None:
    assert rm_graph.of_type("aws:lb/loadBalancer:LoadBalancer") == []
    lb = protheus_graph.named("lb")
    assert lb.type == "aws:lb/loadBalancer:LoadBalancer"
    assert lb.inputs["loadBalancerType"] == "application" and lb.inputs["internal"] is False
    assert lb.inputs["name"] == "acme-protheus-prod-lb" and lb.inputs["securityGroups"] == [protheus_graph.named("sg").id]
    tg = protheus_graph.named("web")
    assert (tg.inputs["port"], tg.inputs["protocol"], tg.inputs["stickiness"]["enabled"]) == (8080, "HTTP", True)
    attachments = protheus_graph.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
    assert sorted(a.inputs["targetId"] for a in attachments) == sorted(
        protheus_graph.named(f"app-{n}").id for n in (1, 2))
    assert {a.inputs["targetGroupArn"] for a in attachments} == {tg.outputs["arn"]}
    # a subdomain without the platform's certificate: HTTP only, forwarding
    http = protheus_graph.named("http")
    assert names(protheus_graph, LISTENER) == {"http"}
    assert http.inputs["port"] == 80 and http.inputs["defaultActions"][0]["type"] == "forward"
    assert protheus_graph.outputs["lbDnsName"] == lb.outputs["dnsName"]


def test_rm_balances_its_https_portal() -> None:
    graph = synthesize(stack_input(RM, lambda s: s.update(instances=2)))
    assert (graph.named("web").inputs["port"], graph.named("web").inputs["protocol"]) == (443, "HTTPS")
    assert set(_ingress(graph)) == {80, 443, 1433, 8051}


def test_custom_domain_gets_a_validated_certificate_and_https(fluig_graph) -> None:
    cert = fluig_graph.named("certificate")
    assert cert.type == "aws:acm/certificate:Certificate"
    assert (cert.inputs["domainName"], cert.inputs["validationMethod"]) == ("fluig.acme.com.br", "DNS")
    option = cert.outputs["domainValidationOptions"][0]
    validation = fluig_graph.named("certificate-validation")
    assert validation.inputs["zoneId"] == catalog.AwsSettings().custom_zone_id
    assert (validation.inputs["name"], validation.inputs["type"], validation.inputs["records"]) == \
        (option["resourceRecordName"], "CNAME", [option["resourceRecordValue"]])
    validated = fluig_graph.named("certificate-validated")
    assert validated.inputs["certificateArn"] == cert.outputs["arn"]
    assert validated.inputs["validationRecordFqdns"] == [option["resourceRecordName"].rstrip(".")]
    https = fluig_graph.named("https")
    assert (https.inputs["port"], https.inputs["protocol"], https.inputs["certificateArn"]) == \
        (443, "HTTPS", cert.outputs["arn"])
    assert https.inputs["sslPolicy"] == catalog.TLS_POLICY
    assert fluig_graph.named("http").inputs["defaultActions"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}]


def test_subdomain_uses_the_platform_certificate_when_configured() -> None:
    arn = "arn:aws:acm:sa-east-1:123456789012:certificate/wildcard"
    graph = synthesize(stack_input(PROTHEUS, settings={"platformCertificateArn": arn}))
    assert graph.named("https").inputs["certificateArn"] == arn
    assert graph.of_type("aws:acm/certificate:Certificate") == []


def test_custom_domain_on_one_instance_has_no_certificate() -> None:
    graph = synthesize(stack_input(FLUIG, lambda s: s.update(instances=1)))
    assert graph.of_type("aws:acm/certificate:Certificate") == [] and graph.of_type(LISTENER) == []
    record = graph.named("domain")
    assert record.inputs == {"name": "fluig.acme.com.br", "type": "A", "ttl": 300, "zoneId": "Z00000CUSTOMERDOMAIN",
                             "records": [graph.named("public-ip").outputs["publicIp"]]}


# ---------------------------------------------------------------------------------------------
# domain

def test_subdomain_alias_to_the_load_balancer(protheus_graph) -> None:
    record, lb = protheus_graph.named("domain"), protheus_graph.named("lb")
    assert record.type == "aws:route53/record:Record"
    assert record.inputs == {"name": "acme.cloudtotvs.com.br", "type": "A", "zoneId": "Z00000CLOUDTOTVSCOMBR",
                             "aliases": [{"name": lb.outputs["dnsName"], "zoneId": lb.outputs["zoneId"],
                                          "evaluateTargetHealth": True}]}
    assert protheus_graph.outputs["url"] == "https://acme.cloudtotvs.com.br"


def test_zone_ids_come_from_settings() -> None:
    graph = synthesize(stack_input(PROTHEUS, settings={"platformZoneId": "ZPLATFORM"}))
    assert graph.named("domain").inputs["zoneId"] == "ZPLATFORM"
    graph = synthesize(stack_input(FLUIG, settings={"customZoneId": "ZACME"}))
    assert graph.named("domain").inputs["zoneId"] == graph.named("certificate-validation").inputs["zoneId"] == "ZACME"


def test_no_domain_no_record(rm_graph) -> None:
    assert rm_graph.of_type("aws:route53/record:Record") == []
    assert rm_graph.outputs["url"] == f"https://{rm_graph.named('public-ip').outputs['publicIp']}:443"


# ---------------------------------------------------------------------------------------------
# power

@pytest.mark.parametrize("power", ["running", "stopped"])
def test_fixed_power_is_an_instance_state_per_instance(power) -> None:
    graph = synthesize(stack_input(FLUIG, lambda s: s.update(power=power, users=40)))
    states = {r.name: r.inputs for r in graph.of_type(STATE)}
    assert states == {f"{n}-power": {"instanceId": graph.named(n).id, "state": power}
                      for n in ("app-1", "app-2", "indexer")}
    assert graph.of_type(SCHEDULE) == [] and "power-role" not in {r.name for r in graph.resources}


def test_schedule_is_one_schedule_per_start_and_stop(protheus_graph) -> None:
    schedules = {r.name: r.inputs for r in protheus_graph.of_type(SCHEDULE)}
    assert {n: (s["scheduleExpression"], s["scheduleExpressionTimezone"]) for n, s in schedules.items()} == {
        "power-start-1": ("cron(0 7 ? * MON,TUE,WED,THU,FRI *)", "America/Sao_Paulo"),
        "power-stop-1": ("cron(0 20 ? * MON,TUE,WED,THU,FRI *)", "America/Sao_Paulo"),
        "power-start-2": ("cron(0 8 ? * SAT *)", "America/Sao_Paulo"),
        "power-stop-2": ("cron(0 13 ? * SAT *)", "America/Sao_Paulo"),
    }
    ids = [protheus_graph.named(n).id for n in ("app-1", "app-2")]
    role = protheus_graph.named("power-role")
    for name, s in schedules.items():
        action = name.split("-")[1]
        assert s["target"]["arn"] == f"arn:aws:scheduler:::aws-sdk:ec2:{action}Instances"
        assert json.loads(s["target"]["input"]) == {"InstanceIds": ids}
        assert s["target"]["roleArn"] == role.outputs["arn"]
        assert s["flexibleTimeWindow"] == {"mode": "OFF"}
        assert s["name"] == f"acme-protheus-prod-{action}-{name[-1]}"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    statement = policy(protheus_graph.named("power-policy"))["Statement"]
    assert statement == [{"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                          "Resource": [protheus_graph.named(n).outputs["arn"] for n in ("app-1", "app-2")]}]
    assert protheus_graph.of_type(STATE) == []


def test_overnight_window_stops_the_next_day(protheus: StackInput) -> None:
    schedule = dataclasses.replace(protheus.environment.schedule,
                                   windows=(Window(("fri", "sat"), "22:00", "06:30", overnight=True),))
    graph = synthesize(with_env(protheus, schedule=schedule))
    assert {r.name: r.inputs["scheduleExpression"] for r in graph.of_type(SCHEDULE)} == {
        "power-start-1": "cron(0 22 ? * FRI,SAT *)", "power-stop-1": "cron(30 6 ? * SUN,SAT *)"}


# ---------------------------------------------------------------------------------------------
# cost alert

def test_budget_per_cost_alert(protheus_graph) -> None:
    budget = protheus_graph.named("cost")
    assert budget.type == BUDGET
    i = budget.inputs
    assert (i["budgetType"], i["timeUnit"], i["limitAmount"], i["limitUnit"]) == ("COST", "MONTHLY", "4500", "BRL")
    assert i["costFilters"] == [{"name": "TagKeyValue", "values": ["user:totvs-topology$acme-protheus-prod"]}]
    assert i["notifications"] == [
        {"comparisonOperator": "GREATER_THAN", "notificationType": "ACTUAL", "threshold": t,
         "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": ["ti@acme.com.br"]} for t in (80, 100)]


def test_budget_recipients_default_to_the_customer_contacts() -> None:
    graph = synthesize(stack_input(PROTHEUS, lambda s: s["costAlert"].pop("notify")))
    for n in graph.named("cost").inputs["notifications"]:
        assert n["subscriberEmailAddresses"] == sorted(CUSTOMER["spec"]["contacts"])  # one order: sorted


def test_budget_limits_of_aws(protheus: StackInput) -> None:
    alert = dataclasses.replace(protheus.environment.cost_alert, thresholds=(10, 20, 30, 40, 50, 60, 70),
                                monthly_limit=1234.5, currency="USD")
    graph = synthesize(with_env(protheus, cost_alert=alert))
    assert names(graph, BUDGET) == {"cost", "cost-2"}
    assert [n["threshold"] for n in graph.named("cost").inputs["notifications"]] == [10, 20, 30, 40, 50]
    assert [n["threshold"] for n in graph.named("cost-2").inputs["notifications"]] == [60, 70]
    assert {(r.inputs["limitAmount"], r.inputs["limitUnit"]) for r in graph.of_type(BUDGET)} == {("1234.5", "USD")}
    many = dataclasses.replace(alert, notify=tuple(f"u{n}@acme.com.br" for n in range(11)))
    with pytest.raises(Exception, match="at most 10 addresses"):
        synthesize(with_env(protheus, cost_alert=many))


def test_no_budget_when_the_alert_is_off(protheus: StackInput) -> None:
    off = dataclasses.replace(protheus.environment.cost_alert, enabled=False)
    assert synthesize(with_env(protheus, cost_alert=off)).of_type(BUDGET) == []
    assert synthesize(with_env(protheus, cost_alert=None)).of_type(BUDGET) == []


# ---------------------------------------------------------------------------------------------
# backups

def test_automatic_backups(protheus_graph) -> None:
    vault, plan, selection = (protheus_graph.named(n) for n in ("backup-vault", "backup-plan", "backup-selection"))
    assert vault.type == "aws:backup/vault:Vault" and vault.inputs["name"] == "acme-protheus-prod-backup"
    (rule,) = plan.inputs["rules"]
    assert rule["lifecycle"] == {"deleteAfter": 30} and rule["targetVaultName"] == "acme-protheus-prod-backup"
    assert (rule["schedule"], rule["scheduleExpressionTimezone"]) == ("cron(0 2 * * ? *)", "America/Sao_Paulo")
    assert selection.inputs["planId"] == plan.id
    assert selection.inputs["iamRoleArn"] == protheus_graph.named("backup-role").outputs["arn"]
    assert selection.inputs["resources"] == [protheus_graph.named(n).outputs["arn"] for n in ("app-1", "app-2", "db")]
    trust = json.loads(protheus_graph.named("backup-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}
    assert protheus_graph.named("backup-role-policy").inputs["policyArn"].endswith("AWSBackupServiceRolePolicyForBackup")


def test_retention_defaults_to_30_days_and_utc_without_customer_timezone(rm_graph) -> None:
    (rule,) = rm_graph.named("backup-plan").inputs["rules"]
    assert rule["lifecycle"] == {"deleteAfter": catalog.DEFAULT_AUTOMATIC_RETENTION_DAYS} == {"deleteAfter": 30}
    customer = copy.deepcopy(CUSTOMER)
    del customer["spec"]["timezone"]
    (rule,) = synthesize(stack_input(RM, customer=customer)).named("backup-plan").inputs["rules"]
    assert rule["scheduleExpressionTimezone"] == "UTC"


def test_manual_backups_are_a_record_for_the_agent(protheus_graph) -> None:
    parameter = protheus_graph.named("manual-backups")
    assert parameter.type == "aws:ssm/parameter:Parameter"
    assert parameter.inputs["name"] == "/totvs/acme-protheus-prod/manual-backups"
    record = json.loads(parameter.inputs["insecureValue"])
    assert record["backups"] == [{"name": "Backup_1", "comment": "before closing"}]
    assert (record["retentionDays"], record["vault"], record["role"]) == \
        (90, "acme-protheus-prod-backup", "acme-protheus-prod-backup")
    assert record["protected"] == {"recentDays": caps.PROTECTED_RECENT_DAYS,
                                   "monthlyMonths": caps.PROTECTED_MONTHLY_MONTHS,
                                   "yearlyYears": caps.PROTECTED_YEARLY_YEARS}
    params = protheus_graph.named("deploy").inputs["parameters"]
    assert params["manualBackupsParameter"] == parameter.inputs["name"]
    assert params["manualBackupsDigest"] == _digest(parameter.inputs["insecureValue"])
    assert params["coordinator"] == protheus_graph.named("app-1").id


# ---------------------------------------------------------------------------------------------
# artifacts and the deployment agent

def test_artifacts_uploaded_under_their_content_hash(fluig_graph) -> None:
    bucket = fluig_graph.named("artifacts")
    assert bucket.type == "aws:s3/bucket:Bucket" and bucket.inputs["bucket"] == "acme-fluig-prod-artifacts"
    objects = {r.name: r.inputs for r in fluig_graph.of_type(OBJECT)}
    assert set(objects) == {f"artifact-{p}" for p in (WAR, JAR, CONF)}
    for path in (WAR, JAR, CONF):
        obj, hex_digest = objects[f"artifact-{path}"], ARTIFACTS[path].split(":")[1]
        folder, file = path.rsplit("/", 1)
        assert obj["key"] == f"{folder}/{hex_digest}/{file}" and obj["sourceHash"] == hex_digest
        assert obj["source"] == {"asset": "file", "path": path}  # relative to the repository root
        assert obj["bucket"] == "acme-fluig-prod-artifacts" and obj["checksumAlgorithm"] == "SHA256"


def test_bucket_name_takes_the_account_id() -> None:
    graph = synthesize(stack_input(RM, settings={"accountId": "210987654321"}))
    assert graph.named("artifacts").inputs["bucket"] == "acme-rm-dev-artifacts-210987654321"


def test_artifacts_only_for_features_of_the_product(protheus: StackInput) -> None:
    graph = synthesize(with_env(protheus, widgets=(WAR,)))  # widgets are Fluig only
    assert names(graph, OBJECT) == {f"artifact-{PTM}"}
    fluig = with_env(stack_input(FLUIG), patches=(Patch(file=PTM, language="pt"),), sftp_enabled=True)
    graph = synthesize(fluig)  # patches and SFTP are Protheus only
    assert f"artifact-{PTM}" not in names(graph, OBJECT)
    assert caps.SFTP_PORT not in _ingress(graph) and "sftpEndpoint" not in graph.outputs


def test_deployment_document_in_ssm(protheus: StackInput, protheus_graph) -> None:
    parameter = protheus_graph.named("deployment")
    assert parameter.inputs["name"] == "/totvs/acme-protheus-prod/deployment"
    assert parameter.inputs["insecureValue"] == deployment_json(protheus)
    assert (parameter.inputs["type"], parameter.inputs["tier"]) == ("String", "Standard")


@pytest.mark.parametrize("patches, tier, pointer", [(40, "Advanced", False), (60, "Standard", True)])
def test_large_deployment_documents(protheus: StackInput, patches, tier, pointer) -> None:
    many = tuple(Patch(catalog=f"12.1.2410-FIS-{n:06d}", language="pt") for n in range(patches))
    inp = with_env(protheus, patches=many)
    text = deployment_json(inp)
    graph = synthesize(inp)
    parameter = graph.named("deployment")
    assert parameter.inputs["tier"] == tier
    if not pointer:
        assert 4096 < len(text) <= 8192 and parameter.inputs["insecureValue"] == text
        return
    hex_digest = _digest(text).split(":")[1]
    assert json.loads(parameter.inputs["insecureValue"]) == {
        "format": "cloud.totvs.io/deployment-pointer-v1", "bucket": "acme-protheus-prod-artifacts",
        "key": f"deployment/{hex_digest}.json", "sha256": hex_digest}
    document = graph.named("deployment-document")
    assert document.inputs["key"] == f"deployment/{hex_digest}.json" and document.inputs["content"] == text
    assert document.urn in graph.named("deploy").depends_on


def test_agent_document_and_association(protheus: StackInput, protheus_graph) -> None:
    document = protheus_graph.named("agent")
    assert document.type == "aws:ssm/document:Document"
    assert (document.inputs["documentType"], document.inputs["name"]) == ("Command", "acme-protheus-prod-deploy")
    content = json.loads(document.inputs["content"])
    assert content["mainSteps"][0]["action"] == "aws:runShellScript"
    association = protheus_graph.named("deploy")
    assert association.type == "aws:ssm/association:Association"
    params = association.inputs["parameters"]
    assert set(params) == set(content["parameters"])  # every parameter declared, every declared one given
    assert all(f"{{{{ {p} }}}}" in content["mainSteps"][0]["inputs"]["runCommand"][0] for p in params)
    assert params["deploymentDigest"] == _digest(deployment_json(protheus)) == protheus_graph.outputs["deploymentDigest"]
    assert params["deploymentParameter"] == "/totvs/acme-protheus-prod/deployment"
    assert params["artifactsBucket"] == "acme-protheus-prod-artifacts"
    db = protheus_graph.named("db")
    assert params["databaseEndpoint"] == db.outputs["endpoint"]
    assert params["databaseSecretArn"] == db.outputs["masterUserSecrets"][0]["secretArn"]
    assert association.inputs["targets"] == [
        {"key": "InstanceIds", "values": [protheus_graph.named(n).id for n in ("app-1", "app-2")]}]
    assert association.inputs["name"] == document.inputs["name"]
    # the agent runs only once it may read its inputs and the artifacts are uploaded
    needed = {protheus_graph.named(n).urn for n in ("agent-policy", f"artifact-{PTM}")}
    assert needed <= set(association.depends_on)


def test_windows_agent_for_rm(rm_graph) -> None:
    content = json.loads(rm_graph.named("agent").inputs["content"])
    assert content["mainSteps"][0]["action"] == "aws:runPowerShellScript"


def test_agent_document_name_avoids_reserved_prefixes() -> None:
    doc = copy.deepcopy(RM)
    doc["metadata"]["name"] = "amazonia-rm-dev"
    graph = synthesize(stack_input(doc))
    assert graph.named("agent").inputs["name"] == "totvs-amazonia-rm-dev-deploy"


def test_agent_policy_grants_what_the_agent_reads(protheus_graph) -> None:
    statements = policy(protheus_graph.named("agent-policy"))["Statement"]
    by_action = {a: s for s in statements for a in s["Action"]}
    g = protheus_graph.named
    assert by_action["ssm:GetParameter"]["Resource"] == [g("deployment").outputs["arn"], g("manual-backups").outputs["arn"]]
    assert by_action["s3:GetObject"]["Resource"] == [g("artifacts").outputs["arn"] + "/*"]
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == [g("db").outputs["masterUserSecrets"][0]["secretArn"]]
    assert by_action["backup:StartBackupJob"]["Resource"] == [g("backup-vault").outputs["arn"]]
    assert by_action["backup:DeleteRecoveryPoint"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/totvs-topology": "acme-protheus-prod"}}
    assert by_action["iam:PassRole"]["Resource"] == [g("backup-role").outputs["arn"]]


# ---------------------------------------------------------------------------------------------
# exports and computed outputs

def test_exports(protheus_graph, fluig_graph) -> None:
    g = protheus_graph
    assert g.outputs == {
        "instanceIds": [g.named("app-1").id, g.named("app-2").id],
        "publicIp": g.named("public-ip").outputs["publicIp"],
        "dbEndpoint": g.named("db").outputs["endpoint"],
        "lbDnsName": g.named("lb").outputs["dnsName"],
        "url": "https://acme.cloudtotvs.com.br",
        "sftpEndpoint": f"sftp://{g.named('public-ip').outputs['publicIp']}:2323",
        "sftpPort": 2323,
        "deploymentDigest": g.named("deploy").inputs["parameters"]["deploymentDigest"],
    }
    assert set(fluig_graph.outputs) == {"instanceIds", "dbEndpoint", "lbDnsName", "url", "deploymentDigest"}


def test_sftp_on_a_single_instance_uses_the_domain() -> None:
    graph = synthesize(stack_input(PROTHEUS, lambda s: s.update(instances=1)))
    assert graph.outputs["sftpEndpoint"] == "sftp://acme.cloudtotvs.com.br:2323"


def _output_properties(cls) -> set[str]:
    """Wire names of a resource class's output properties (``@pulumi.getter(name="dnsName")``)."""
    source = inspect.getsource(cls)
    found = re.findall(r'@pulumi\.getter(?:\(name="(\w+)"\))?\s*\n\s*def (\w+)\(self\) -> pulumi\.Output', source)
    return {wire or python for wire, python in found}


def test_computed_outputs_use_the_sdk_wire_names() -> None:
    for type_token, compute in outputs._COMPUTED.items():
        keys = set(compute("x", {"name": "x", "bucket": "x", "associatePublicIpAddress": True,
                                 "manageMasterUserPassword": True}, "id-1"))
        assert keys and keys <= _output_properties(_sdk_class(type_token)), type_token
    assert outputs.computed_outputs("aws:iam/rolePolicy:RolePolicy", "x", {}, "id") == {}
    assert outputs.computed_outputs(INSTANCE, "x", {}, "i-1") == outputs.computed_outputs(INSTANCE, "x", {}, "i-1")


# ---------------------------------------------------------------------------------------------
# a change of one field changes exactly the resources it should

SCHEDULES = {"power-start-1", "power-stop-1", "power-start-2", "power-stop-2"}
CONFIG = {"deployment", "deploy"}


def _windows(*windows: Window):
    return lambda e: {"schedule": dataclasses.replace(e.schedule, windows=windows)}


CHANGES: dict[str, tuple[Callable, dict[str, set[str]]]] = {
    "instanceSize": (lambda e: {"instance_size": "xlarge"}, {"changed": {"app-1", "app-2", "db"}}),
    "instances+1": (lambda e: {"instances": 3}, {
        "added": {"app-3", "web-app-3"},
        "changed": SCHEDULES | {"power-policy", "backup-selection", "deploy"}}),
    "instances=1": (lambda e: {"instances": 1}, {
        "removed": {"app-2", "lb", "web", "http", "web-app-1", "web-app-2"},
        "changed": SCHEDULES | {"power-policy", "backup-selection", "deploy", "domain"}}),
    "power running": (lambda e: {"power": "running", "schedule": None}, {
        "added": {"app-1-power", "app-2-power"}, "removed": SCHEDULES | {"power-role", "power-policy"}}),
    "schedule timezone": (lambda e: {"schedule": dataclasses.replace(e.schedule, timezone="America/Manaus")},
                          {"changed": SCHEDULES}),
    "schedule window start": (_windows(Window(("mon", "tue", "wed", "thu", "fri"), "06:30", "20:00"),
                                       Window(("sat",), "08:00", "13:00")), {"changed": {"power-start-1"}}),
    "schedule window removed": (_windows(Window(("mon", "tue", "wed", "thu", "fri"), "07:00", "20:00")),
                                {"removed": {"power-start-2", "power-stop-2"}}),
    "cost thresholds": (lambda e: {"cost_alert": dataclasses.replace(e.cost_alert, thresholds=(50, 100))},
                        {"changed": {"cost"}}),
    "cost limit": (lambda e: {"cost_alert": dataclasses.replace(e.cost_alert, monthly_limit=5000)},
                   {"changed": {"cost"}}),
    "cost off": (lambda e: {"cost_alert": dataclasses.replace(e.cost_alert, enabled=False)}, {"removed": {"cost"}}),
    "subdomain": (lambda e: {"domain": dataclasses.replace(e.domain, subdomain="acme2")}, {"changed": {"domain"}}),
    "custom domain": (lambda e: {"domain": dataclasses.replace(e.domain, subdomain=None, custom="erp.acme.com.br")}, {
        "added": {"certificate", "certificate-validation", "certificate-validated", "https"},
        "changed": {"domain", "http"}}),
    "domain removed": (lambda e: {"domain": None}, {"removed": {"domain"}}),
    "automatic retention": (lambda e: {"backup": dataclasses.replace(e.backup, automatic_retention_days=45)},
                            {"changed": {"backup-plan"}}),
    "manual backup": (lambda e: {"backup": dataclasses.replace(e.backup, manual=())},
                      {"changed": {"manual-backups", "deploy"}}),
    "manual retention": (lambda e: {"backup": dataclasses.replace(e.backup, manual_retention_days=120)},
                         {"changed": {"manual-backups", "deploy"}}),
    "ini": (lambda e: {"services": (dataclasses.replace(e.services[0], ini=(("General", (("MaxStringSize", "20"),)),)),)},
            {"changed": CONFIG}),
    "service stopped": (lambda e: {"services": (dataclasses.replace(e.services[0], state="stopped"),)},
                        {"changed": CONFIG}),
    "updates": (lambda e: {"updates": dataclasses.replace(e.updates, binary="20.3.2.5")}, {"changed": CONFIG}),
    "exclusive access": (lambda e: {"exclusive_access": True}, {"changed": CONFIG}),
    "version": (lambda e: {"version": "12.1.2510"}, {"changed": CONFIG}),
    "patch removed": (lambda e: {"patches": ()}, {"removed": {f"artifact-{PTM}"}, "changed": CONFIG}),
    "sftp off": (lambda e: {"sftp_enabled": False}, {"removed": {"public-ip"}, "changed": {"sg"} | CONFIG}),
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_a_change_of_one_field_changes_exactly_its_resources(protheus: StackInput, protheus_graph, field) -> None:
    change, expected = CHANGES[field]
    variant = with_env(protheus, **change(protheus.environment))
    assert diff(protheus_graph, synthesize(variant)) == {"added": set(), "removed": set(), "changed": set(),
                                                         **expected}


def test_artifact_content_change_changes_its_object_and_the_configuration(protheus, protheus_graph) -> None:
    variant = dataclasses.replace(protheus, artifacts={**ARTIFACTS, PTM: _digest("ptm v2")})
    graph = synthesize(variant)
    assert diff(protheus_graph, graph) == {"added": set(), "removed": set(), "changed": {f"artifact-{PTM}"} | CONFIG}
    assert graph.named(f"artifact-{PTM}").inputs["sourceHash"] == _digest("ptm v2").split(":")[1]


def test_label_change_changes_exactly_the_taggable_resources(protheus, protheus_graph) -> None:
    variant = with_env(protheus, labels=(("cost-center", "ti-fin"),))
    changed = diff(protheus_graph, synthesize(variant))
    taggable = {r.name for r in protheus_graph.resources
                if r.type not in ("pulumi:providers:aws", OBJECT) and _takes_tags(r.type)}
    # objects carry no labels (10 tags per S3 object); the plan's recovery point tags carry them
    assert changed == {"added": set(), "removed": set(), "changed": taggable}


def test_fluig_changes() -> None:
    base = stack_input(FLUIG)
    graph = synthesize(base)
    more_users = diff(graph, synthesize(with_env(base, users=31)))
    assert more_users == {"added": {"indexer", "indexer-power"}, "removed": set(),
                          "changed": {"backup-selection", "deploy", "deployment"}}
    widget_removed = diff(graph, synthesize(with_env(base, widgets=(WAR,))))
    assert widget_removed == {"added": set(), "removed": {f"artifact-{JAR}"}, "changed": CONFIG}
    port = diff(graph, synthesize(with_env(base, services=(dataclasses.replace(base.environment.services[0],
                                                                                http_port=8180),))))
    assert port == {"added": set(), "removed": set(),
                    "changed": {"sg", "web", "web-app-1", "web-app-2"} | CONFIG}


def test_one_subnet_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="at least two subnets"):
        synthesize(stack_input(RM, settings={"subnetIds": ["subnet-a"]}))
