"""The Azure program under Pulumi's mock runtime: resource by resource, and change by change.

Inputs come from the example GitOps repo (``examples/``): ``acme-rm-prod`` is the Azure example;
the AWS examples moved to Azure (cloud and region changed, ``cloneFrom`` removed) give the
Protheus and Fluig topologies. Variants change one spec field with ``dataclasses.replace`` on the
Environment; the "changes" tests diff the graphs by URN and assert exactly which resources
changed inputs, appeared or disappeared.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import importlib
import inspect
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from reconciler.model import capabilities as caps
from reconciler.model.graph import Resource, ResourceGraph
from reconciler.model.spec import CostAlert, Domain, ManualBackup, Schedule, Service, Window
from reconciler.spec.validate import validate
from reconciler.synth import synthesize
from reconciler.synth.inputs import stack_inputs
from stacks import program_for
from stacks.azure import outputs, program
from stacks.common.deployment import deployment_json
from stacks.common.inputs import StackInput
from stacks.common.naming import standard_tags

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STACK_DIR = Path(program.__file__).parent
MYSQL = {"mysqlAdminPassword": "fluig-admin-secret"}
T = "azure-native:"


# ----------------------------------------------------------------------------------------------
# inputs and graphs


@pytest.fixture(scope="module")
def examples() -> dict[str, StackInput]:
    result = validate([EXAMPLES], EXAMPLES, use_cache=False)
    assert result.valid, [str(d) for d in result.errors]
    return stack_inputs(result)


def on_azure(inp: StackInput, **settings) -> StackInput:
    """An AWS example moved to Azure: cloud and region changed, the AWS-only cloneFrom removed."""
    env = copy.deepcopy(inp.documents["environment"])
    env["spec"].update(cloud="azure", region="brazilsouth")
    env["spec"].pop("cloneFrom", None)
    return StackInput.from_documents(env, inp.documents["customer"], artifacts=inp.artifacts,
                                     repo_root=inp.repo_root, settings=settings)


@pytest.fixture(scope="module")
def inputs(examples) -> dict[str, StackInput]:
    """Every topology the tests start from, all on Azure."""
    found = {"rm": examples["acme-rm-prod"],
             "protheus-prod": on_azure(examples["acme-protheus-prod"]),
             "protheus-qa": on_azure(examples["acme-protheus-qa"]),
             "protheus-dev": on_azure(examples["acme-protheus-dev"]),
             "fluig-prod": on_azure(examples["acme-fluig-prod"], **MYSQL),
             "fluig-dev": on_azure(examples["acme-fluig-dev"], **MYSQL)}
    assert all(i.environment.cloud == "azure" for i in found.values())
    return found


@pytest.fixture(scope="module")
def graphs(inputs) -> dict[str, ResourceGraph]:
    return {key: synthesize(inp) for key, inp in inputs.items()}


def env_variant(inp: StackInput, **changes) -> StackInput:
    return dataclasses.replace(inp, environment=dataclasses.replace(inp.environment, **changes))


def by_name(graph: ResourceGraph) -> dict[str, Resource]:
    return {r.name: r for r in graph.resources}


def of_type(graph: ResourceGraph, kind: str) -> list[Resource]:
    return sorted(graph.of_type(T + kind), key=lambda r: r.name)


def one(graph: ResourceGraph, kind: str) -> Resource:
    found = of_type(graph, kind)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def diff(base: ResourceGraph, variant: ResourceGraph) -> tuple[set[str], set[str], set[str]]:
    """(changed, added, removed) logical names, compared by URN."""
    old, new = base.by_urn(), variant.by_urn()
    changed = {old[u].name for u in old.keys() & new.keys() if old[u].inputs != new[u].inputs}
    return changed, {new[u].name for u in new.keys() - old.keys()}, {old[u].name for u in old.keys() - new.keys()}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def tcp_ports(graph: ResourceGraph) -> set[int]:
    rules = one(graph, "network:NetworkSecurityGroup").inputs["securityRules"]
    return {int(rule["destinationPortRange"]) for rule in rules}




# ----------------------------------------------------------------------------------------------
# the program contract


def test_the_program_contract():
    assert program_for("azure") is program
    assert program.PROJECT == "erp-azure"
    project = yaml.safe_load((STACK_DIR / "Pulumi.yaml").read_text())
    assert (project["name"], project["runtime"]) == ("erp-azure", "python")
    main = (STACK_DIR / "__main__.py").read_text()
    assert "from stacks.common.inputs import input_from_pulumi_config" in main
    assert "build(input_from_pulumi_config())" in main


def test_a_topology_of_another_cloud_is_refused(examples):
    with pytest.raises(ValueError, match="not azure"):
        program.build(examples["acme-protheus-prod"])


@pytest.mark.parametrize("key", ["rm", "protheus-prod", "protheus-qa", "protheus-dev", "fluig-prod", "fluig-dev"])
def test_every_topology_synthesises_with_one_provider_in_its_region(graphs, inputs, key):
    graph, env = graphs[key], inputs[key].environment
    provider = [r for r in graph.resources if r.type == "pulumi:providers:azure-native"]
    assert len(provider) == 1 and provider[0].inputs["location"] == env.region == "brazilsouth"
    custom = [r for r in graph.resources if r.type.startswith(T)]
    assert custom and all(r.provider == "azure" for r in custom)
    names = [r.name for r in graph.resources]
    assert len(names) == len(set(names))  # logical names are unique across types
    for r in custom:
        if "location" in r.inputs:
            assert r.inputs["location"] in ("brazilsouth", "global"), r.name


def test_the_azure_example_declares_exactly_its_resources(graphs):
    kinds: dict[str, int] = {}
    for r in graphs["rm"].resources:
        kinds[r.type] = kinds.get(r.type, 0) + 1
    assert kinds == {
        "pulumi:providers:azure-native": 1, T + "resources:ResourceGroup": 1, T + "network:VirtualNetwork": 1,
        T + "network:Subnet": 1, T + "network:NetworkSecurityGroup": 1, T + "network:PublicIPAddress": 1,
        T + "network:LoadBalancer": 1, T + "network:NetworkInterface": 2, T + "compute:VirtualMachine": 2,
        T + "managedidentity:UserAssignedIdentity": 1, T + "sql:Server": 1, T + "sql:VirtualNetworkRule": 1,
        T + "sql:Database": 1, T + "sql:BackupShortTermRetentionPolicy": 1, T + "storage:StorageAccount": 1,
        T + "storage:BlobContainer": 1, T + "storage:Blob": 2, T + "authorization:RoleAssignment": 3,
        T + "compute:VirtualMachineRunCommandByVirtualMachine": 2, T + "recoveryservices:Vault": 1,
        T + "recoveryservices:ProtectionPolicy": 1, T + "recoveryservices:ProtectedItem": 2,
        T + "automation:AutomationAccount": 1, T + "automation:Runbook": 1, T + "automation:Variable": 1,
        T + "consumption:Budget": 1, T + "dns:RecordSet": 1}


def test_the_same_input_gives_the_same_graph(inputs, graphs):
    assert synthesize(inputs["protheus-prod"]).to_data() == graphs["protheus-prod"].to_data()


def test_provider_subscription_comes_from_the_settings(inputs):
    inp = dataclasses.replace(inputs["rm"], settings={"subscriptionId": "0f0e0d0c-1111-2222-3333-444455556666"})
    provider = by_name(synthesize(inp))["azure"]
    assert provider.inputs["subscriptionId"] == "0f0e0d0c-1111-2222-3333-444455556666"
    assert "subscriptionId" not in by_name(synthesize(inputs["protheus-dev"]))["azure"].inputs


# ----------------------------------------------------------------------------------------------
# tags and names


def taggable(type_token: str) -> str | None:
    """The input that takes tags, read from the SDK's own Args class (RecordSet calls it metadata)."""
    _, module, name = type_token.split(":")
    args = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), f"{name}Args")
    parameters = inspect.signature(args.__init__).parameters
    return "tags" if "tags" in parameters else "metadata" if name == "RecordSet" else None


@pytest.mark.parametrize("key", ["rm", "protheus-prod", "fluig-prod", "protheus-qa"])
def test_every_taggable_resource_carries_the_standard_tags(graphs, inputs, key):
    inp = inputs[key]
    expected = standard_tags(inp.environment, inp.customer, inp.revision)
    tagged = 0
    for r in graphs[key].resources:
        if not r.type.startswith(T) or taggable(r.type) is None:
            continue
        tags = r.inputs.get(taggable(r.type))
        assert tags is not None, r.name
        tagged += 1
        assert {k: tags[k] for k in expected} == expected, r.name
    assert tagged >= 15  # the graph has taggable resources at all


def test_labels_become_tags(graphs):
    group = by_name(graphs["protheus-prod"])["group"]
    assert group.inputs["tags"]["label-cost-center"] == "ti-erp"
    assert group.inputs["resourceGroupName"] == "acme-protheus-prod-rg"


def test_storage_account_name_is_compact_and_short(inputs):
    long = env_variant(inputs["rm"], name="acme-very-long-topology-name-for-rm-prod")
    accounts = [one(synthesize(i), "storage:StorageAccount").inputs["accountName"] for i in (inputs["rm"], long)]
    assert accounts[0] == "acmermprodst"
    assert len(accounts[1]) == 24 and accounts[1].isalnum() and accounts[1].islower()


# ----------------------------------------------------------------------------------------------
# network


def test_security_group_opens_the_ports_of_each_product(graphs):
    assert tcp_ports(graphs["rm"]) == {8051, 443}
    assert tcp_ports(graphs["protheus-prod"]) == {1234, 8080, 443, caps.SFTP_PORT}
    assert tcp_ports(graphs["protheus-qa"]) == {1234, 8080, 443}  # no SFTP there
    assert tcp_ports(graphs["fluig-prod"]) == {8080, 443}
    rules = one(graphs["rm"], "network:NetworkSecurityGroup").inputs["securityRules"]
    assert all(r["direction"] == "Inbound" and r["access"] == "Allow" and r["protocol"] == "Tcp" for r in rules)
    assert len({r["priority"] for r in rules}) == len(rules)


def test_fluig_http_port_comes_from_the_fluig_service(inputs):
    inp = env_variant(inputs["fluig-dev"], services=(Service("FLUIG", http_port=9090),))
    graph = synthesize(inp)
    assert tcp_ports(graph) == {9090, 443}
    assert 8080 not in tcp_ports(graph)


def test_sftp_only_for_products_that_have_it(inputs):
    # RM has no SFTP in the matrix: even a spec asking for it opens nothing.
    graph = synthesize(env_variant(inputs["rm"], sftp_enabled=True))
    assert caps.SFTP_PORT not in tcp_ports(graph) and "sftp" not in graph.outputs


def test_subnets_and_service_endpoints(graphs):
    app = by_name(graphs["rm"])["subnet-app"]
    assert app.inputs["addressPrefix"] == "10.20.1.0/24"
    assert {e["service"] for e in app.inputs["serviceEndpoints"]} == {"Microsoft.Storage", "Microsoft.Sql"}
    assert app.inputs["networkSecurityGroup"]["id"] == one(graphs["rm"], "network:NetworkSecurityGroup").id
    fluig = by_name(graphs["fluig-prod"])
    assert fluig["subnet-db"].inputs["delegations"][0]["serviceName"] == "Microsoft.DBforMySQL/flexibleServers"
    assert fluig["subnet-app"].urn in fluig["subnet-db"].depends_on  # one subnet write at a time
    assert "subnet-db" not in by_name(graphs["rm"])


def test_load_balancer_only_with_more_than_one_instance(graphs):
    lb = one(graphs["rm"], "network:LoadBalancer")
    pip = one(graphs["rm"], "network:PublicIPAddress")
    assert lb.inputs["sku"]["name"] == "Standard"
    assert lb.inputs["frontendIPConfigurations"][0]["publicIPAddress"]["id"] == pip.id
    assert [p["port"] for p in lb.inputs["probes"]] == [8051]
    assert {r["frontendPort"]: r["backendPort"] for r in lb.inputs["loadBalancingRules"]} == {8051: 8051, 443: 443}
    pool = lb.inputs["loadBalancingRules"][0]["backendAddressPool"]["id"]
    assert pool.endswith("/providers/Microsoft.Network/loadBalancers/acme-rm-prod-lb/backendAddressPools/backend")
    for nic in of_type(graphs["rm"], "network:NetworkInterface"):
        config = nic.inputs["ipConfigurations"][0]
        assert config["loadBalancerBackendAddressPools"] == [{"id": pool}]
        assert "publicIPAddress" not in config and lb.urn in nic.depends_on
    assert graphs["rm"].outputs["lbIp"] == graphs["rm"].outputs["publicIp"] == pip.outputs["ipAddress"]
    # one instance: no balancer, the public IP sits on the VM's interface
    single = graphs["protheus-dev"]
    assert not of_type(single, "network:LoadBalancer") and "lbIp" not in single.outputs
    nic = one(single, "network:NetworkInterface")
    assert nic.inputs["ipConfigurations"][0]["publicIPAddress"]["id"] == one(single, "network:PublicIPAddress").id


def test_sftp_endpoint_is_exported_on_port_2323(graphs):
    assert graphs["protheus-prod"].outputs["sftp"] == {"host": "acme.cloudtotvs.com.br", "port": 2323}
    assert graphs["protheus-dev"].outputs["sftp"] == {
        "host": "acme-protheus-dev.brazilsouth.cloudapp.azure.com", "port": 2323}
    assert "sftp" not in graphs["protheus-qa"].outputs and "sftp" not in graphs["rm"].outputs


# ----------------------------------------------------------------------------------------------
# compute


@pytest.mark.parametrize("key,size,image,os_type", [
    ("rm", "Standard_D8s_v5", "rm-host", "Windows"),
    ("protheus-prod", "Standard_D8s_v5", "protheus-appserver", "Linux"),
    ("protheus-dev", "Standard_D2s_v5", "protheus-appserver", "Linux"),
    ("fluig-dev", "Standard_E2s_v5", "fluig-platform", "Linux"),
])
def test_one_vm_per_instance_with_the_products_size_and_image(graphs, inputs, key, size, image, os_type):
    vms = [vm for vm in of_type(graphs[key], "compute:VirtualMachine") if vm.inputs["tags"]["totvs-role"] == "app"]
    env = inputs[key].environment
    assert [vm.inputs["vmName"] for vm in vms] == [f"{env.name}-vm-{i}" for i in range(1, env.instances + 1)]
    identity = one(graphs[key], "managedidentity:UserAssignedIdentity")
    nics = {n.id: n for n in of_type(graphs[key], "network:NetworkInterface")}
    for vm in vms:
        assert vm.inputs["hardwareProfile"] == {"vmSize": size}
        assert vm.inputs["storageProfile"]["imageReference"] == {
            "sharedGalleryImageId": f"/SharedGalleries/totvscloud-erp-images/Images/{image}/Versions/latest"}
        assert vm.inputs["storageProfile"]["osDisk"]["osType"] == os_type
        assert "osProfile" not in vm.inputs  # specialized image: no administrator secret in the stack
        assert vm.inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.id]}
        assert vm.inputs["networkProfile"]["networkInterfaces"][0]["id"] in nics
    disk = vms[0].inputs["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]
    assert disk == ("Premium_LRS" if env.is_prod else "StandardSSD_LRS")


def test_image_gallery_comes_from_the_settings(inputs):
    inp = dataclasses.replace(inputs["protheus-dev"], settings={"imageGallery": "PLATFORM-GALLERY"})
    vm = one(synthesize(inp), "compute:VirtualMachine")
    assert vm.inputs["storageProfile"]["imageReference"]["sharedGalleryImageId"].startswith(
        "/SharedGalleries/PLATFORM-GALLERY/Images/protheus-appserver/")


def test_fluig_above_30_users_gets_a_dedicated_indexer(graphs, inputs):
    vms = by_name(graphs["fluig-prod"])  # 120 users
    indexer = vms["indexer"]
    assert indexer.inputs["vmName"] == "acme-fluig-prod-indexer"
    assert indexer.inputs["tags"]["totvs-role"] == "indexer"
    assert indexer.inputs["hardwareProfile"]["vmSize"] == "Standard_E8s_v5"
    assert "fluig-indexer" in indexer.inputs["storageProfile"]["imageReference"]["sharedGalleryImageId"]
    nic = vms["indexer-nic"].inputs["ipConfigurations"][0]
    assert "loadBalancerBackendAddressPools" not in nic and "publicIPAddress" not in nic
    assert "indexer" not in by_name(graphs["fluig-dev"])  # 10 users: indexer on the core instance
    at_limit = synthesize(env_variant(inputs["fluig-dev"], users=30))
    assert "indexer" not in by_name(at_limit)
    # users is a Fluig feature: a Protheus topology never gets an indexer
    assert "indexer" not in by_name(synthesize(env_variant(inputs["protheus-dev"], users=500)))


# ----------------------------------------------------------------------------------------------
# database


def test_rm_and_protheus_use_azure_sql_with_entra_only_authentication(graphs):
    rm = by_name(graphs["rm"])
    server, identity = rm["sql-server"], rm["identity"]
    admin = server.inputs["administrators"]
    assert admin["azureADOnlyAuthentication"] is True and "administratorLoginPassword" not in server.inputs
    assert admin["sid"] == identity.outputs["clientId"] and admin["tenantId"] == identity.outputs["tenantId"]
    assert admin["login"] == "acme-rm-prod-identity"
    assert server.inputs["minimalTlsVersion"] == "1.2"
    assert rm["sql-vnet-rule"].inputs["virtualNetworkSubnetId"] == rm["subnet-app"].id
    db = rm["sql-database"]
    assert db.inputs["sku"] == {"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": 4}
    assert db.inputs["collation"] == "SQL_Latin1_General_CP1_CI_AI"
    assert db.inputs["requestedBackupStorageRedundancy"] == "Geo"
    assert rm["sql-retention"].inputs["retentionDays"] == 35
    assert graphs["rm"].outputs["dbFqdn"] == "acme-rm-prod-sql.database.windows.net"
    protheus = by_name(graphs["protheus-dev"])
    assert protheus["sql-database"].inputs["collation"] == "Latin1_General_BIN"  # DBAccess needs binary
    assert protheus["sql-database"].inputs["sku"]["capacity"] == 2
    assert protheus["sql-database"].inputs["requestedBackupStorageRedundancy"] == "Local"
    assert protheus["sql-retention"].inputs["retentionDays"] == 7
    assert not of_type(graphs["rm"], "dbformysql:Server")


def test_fluig_uses_a_private_mysql_flexible_server(graphs):
    fluig = by_name(graphs["fluig-prod"])
    server = fluig["mysql-server"]
    assert server.inputs["sku"] == {"name": "Standard_D4ds_v4", "tier": "GeneralPurpose"}
    assert server.inputs["network"] == {
        "delegatedSubnetResourceId": fluig["subnet-db"].id, "privateDnsZoneResourceId": fluig["mysql-zone"].id,
        "publicNetworkAccess": "Disabled"}
    assert server.inputs["administratorLoginPassword"] == {"secret": "sha256:" + sha(repr("fluig-admin-secret"))}
    assert server.inputs["backup"] == {"backupRetentionDays": 30, "geoRedundantBackup": "Enabled"}
    assert server.inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    assert fluig["mysql-zone"].inputs["privateZoneName"] == "acme-fluig-prod-mysql.private.mysql.database.azure.com"
    assert fluig["mysql-zone-link"].urn in server.depends_on
    assert fluig["mysql-database"].inputs["databaseName"] == "fluig"
    assert graphs["fluig-prod"].outputs["dbFqdn"] == "acme-fluig-prod-mysql.mysql.database.azure.com"
    dev = by_name(graphs["fluig-dev"])["mysql-server"]
    assert dev.inputs["sku"]["tier"] == "Burstable" and dev.inputs["highAvailability"] == {"mode": "Disabled"}
    assert not of_type(graphs["fluig-prod"], "sql:Server")


def test_fluig_without_the_mysql_password_setting_is_refused(inputs):
    with pytest.raises(Exception, match="mysqlAdminPassword"):
        synthesize(dataclasses.replace(inputs["fluig-dev"], settings={}))


# ----------------------------------------------------------------------------------------------
# protection of production data

PROTECTED = {"group", "sql-server", "sql-database", "sql-retention", "backup-vault", "backup-policy"}


def test_prod_data_is_protected_and_retained(graphs):
    for key, data in (("rm", PROTECTED), ("protheus-prod", PROTECTED),
                      ("fluig-prod", {"group", "mysql-server", "mysql-database", "backup-vault", "backup-policy"})):
        protected = {r.name for r in graphs[key].resources if r.protect}
        retained = {r.name for r in graphs[key].resources if r.retain_on_delete}
        assert protected == data, key
        items = {r.name for r in of_type(graphs[key], "recoveryservices:ProtectedItem")}
        assert retained == data | items, key  # scaling in keeps a VM's recovery points


@pytest.mark.parametrize("key", ["protheus-qa", "protheus-dev", "fluig-dev"])
def test_non_prod_data_is_not_protected(graphs, key):
    assert not [r.name for r in graphs[key].resources if r.protect or r.retain_on_delete]


def test_the_same_topology_as_qa_loses_its_protection(inputs):
    graph = synthesize(env_variant(inputs["rm"], type="QA"))
    assert not [r.name for r in graph.resources if r.protect or r.retain_on_delete]


# ----------------------------------------------------------------------------------------------
# power


def test_running_topology_has_no_schedule_but_a_desired_state(graphs):
    rm = by_name(graphs["rm"])
    assert not of_type(graphs["rm"], "automation:Schedule") and not of_type(graphs["rm"], "devtestlab:GlobalSchedule")
    assert rm["power-desired-state"].inputs["value"] == '"running"'
    runbook = rm["power-runbook"]
    assert runbook.inputs["runbookName"] == "Set-ErpPower" and runbook.inputs["runbookType"] == "PowerShell"
    assert runbook.inputs["publishContentLink"]["uri"].endswith("/Set-ErpPower.ps1")
    role = rm["automation-vm-contributor"]
    account = rm["automation"]
    computed = outputs.computed_outputs(account.type, account.name, account.inputs, account.id)
    assert role.inputs["principalId"] == computed["identity"]["principalId"]
    assert account.inputs["identity"] == {"type": "SystemAssigned"}
    assert role.inputs["scope"] == rm["group"].id
    assert role.inputs["roleDefinitionId"].endswith("/roleDefinitions/9980e02c-c2be-4d73-94e8-173b1dc7cf3c")
    assert graphs["rm"].outputs["power"] == {"desired": "running", "automationAccount": "acme-rm-prod-automation",
                                             "runbook": "Set-ErpPower", "variable": "DesiredPowerState"}


def test_stopped_is_a_desired_state_not_a_schedule(inputs, graphs):
    base = graphs["rm"]
    stopped = synthesize(env_variant(inputs["rm"], power="stopped"))
    assert diff(base, stopped) == ({"power-desired-state"}, set(), set())
    assert by_name(stopped)["power-desired-state"].inputs["value"] == '"stopped"'
    assert stopped.outputs["power"]["desired"] == "stopped"


def test_one_daily_stop_time_uses_auto_shutdown_per_vm(graphs):
    qa = graphs["protheus-qa"]  # mon-fri 08:00-19:00
    vm = one(qa, "compute:VirtualMachine")
    shutdown = one(qa, "devtestlab:GlobalSchedule")
    assert shutdown.inputs["name"] == "shutdown-computevm-acme-protheus-qa-vm-1"
    assert shutdown.inputs["targetResourceId"] == vm.id
    assert shutdown.inputs["dailyRecurrence"] == {"time": "1900"}
    assert shutdown.inputs["timeZoneId"] == "E. South America Standard Time"
    assert shutdown.inputs["taskType"] == "ComputeVmShutdownTask" and shutdown.inputs["status"] == "Enabled"
    start = one(qa, "automation:Schedule")
    assert start.inputs["scheduleName"] == "start-mon-tue-wed-thu-fri-0800"
    assert start.inputs["frequency"] == "Week" and start.inputs["interval"] == 1
    assert start.inputs["advancedSchedule"] == {"weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]}
    assert start.inputs["timeZone"] == "America/Sao_Paulo"
    assert start.inputs["startTime"] == "2026-01-06T08:00:00-03:00"
    assert "startTime" in start.ignore_changes
    job = one(qa, "automation:JobSchedule")
    assert job.inputs["schedule"] == {"name": "start-mon-tue-wed-thu-fri-0800"}
    assert job.inputs["runbook"] == {"name": "Set-ErpPower"}
    assert job.inputs["parameters"] == {"Action": "start", "ResourceGroupName": "acme-protheus-qa-rg",
                                        "Topology": "acme-protheus-qa"}


def test_windows_with_different_stop_times_stop_by_automation(graphs):
    prod = graphs["protheus-prod"]  # mon-fri 07:00-20:00, sat 08:00-13:00
    assert not of_type(prod, "devtestlab:GlobalSchedule")
    schedules = {s.inputs["scheduleName"]: s for s in of_type(prod, "automation:Schedule")}
    assert set(schedules) == {"start-mon-tue-wed-thu-fri-0700", "stop-mon-tue-wed-thu-fri-2000",
                              "start-sat-0800", "stop-sat-1300"}
    assert schedules["stop-sat-1300"].inputs["advancedSchedule"] == {"weekDays": ["Saturday"]}
    assert schedules["stop-sat-1300"].inputs["startTime"] == "2026-01-06T13:00:00-03:00"
    actions = {j.inputs["schedule"]["name"]: j.inputs["parameters"]["Action"]
               for j in of_type(prod, "automation:JobSchedule")}
    assert actions == {name: name.split("-")[0] for name in schedules}
    assert len({j.inputs["jobScheduleId"] for j in of_type(prod, "automation:JobSchedule")}) == 4


def test_same_stop_time_on_different_days_still_uses_auto_shutdown(inputs):
    schedule = Schedule("America/Sao_Paulo", (Window(("mon", "tue", "wed", "thu", "fri"), "07:00", "20:00"),
                                              Window(("sat",), "10:00", "20:00")))
    graph = synthesize(env_variant(inputs["protheus-prod"], schedule=schedule))
    assert {s.inputs["dailyRecurrence"]["time"] for s in of_type(graph, "devtestlab:GlobalSchedule")} == {"2000"}
    assert len(of_type(graph, "devtestlab:GlobalSchedule")) == 2  # one per VM
    assert [s.inputs["scheduleName"] for s in of_type(graph, "automation:Schedule")] == [
        "start-mon-tue-wed-thu-fri-0700", "start-sat-1000"]


def test_overnight_window_and_a_zone_without_windows_id(inputs):
    schedule = Schedule("Asia/Tokyo", (Window(("fri",), "22:00", "06:00", overnight=True),))
    graph = synthesize(env_variant(inputs["protheus-qa"], schedule=schedule))
    assert not of_type(graph, "devtestlab:GlobalSchedule")  # auto-shutdown takes Windows ids only
    schedules = {s.inputs["scheduleName"]: s.inputs for s in of_type(graph, "automation:Schedule")}
    assert set(schedules) == {"start-fri-2200", "stop-sat-0600"}
    assert schedules["stop-sat-0600"]["timeZone"] == "Asia/Tokyo"
    assert schedules["stop-sat-0600"]["startTime"] == "2026-01-06T06:00:00+09:00"


def test_schedule_start_follows_the_apply_date_and_its_offset(inputs):
    inp = dataclasses.replace(inputs["protheus-qa"], settings={"applyDate": "2026-07-14"})
    start = one(synthesize(inp), "automation:Schedule").inputs["startTime"]
    expected = datetime(2026, 7, 15, 8, 0, tzinfo=ZoneInfo("America/Sao_Paulo")).isoformat()
    assert start == expected == "2026-07-15T08:00:00-03:00"


def test_no_schedule_resource_when_the_matrix_denies_it(inputs, monkeypatch):
    feature = caps.FEATURES["schedule"]
    monkeypatch.setitem(caps.FEATURES, "schedule", dataclasses.replace(feature, clouds={"aws": caps.Support.PORTAL}))
    graph = synthesize(inputs["protheus-qa"])
    assert not of_type(graph, "automation:Schedule") and not of_type(graph, "devtestlab:GlobalSchedule")


# ----------------------------------------------------------------------------------------------
# cost alert


def test_cost_alert_is_a_monthly_budget_on_the_group(graphs):
    rm = by_name(graphs["rm"])
    budget = rm["budget"]
    assert budget.inputs["scope"] == rm["group"].id
    assert (budget.inputs["amount"], budget.inputs["timeGrain"], budget.inputs["category"]) == (2500, "Monthly", "Cost")
    assert budget.inputs["timePeriod"] == {"startDate": "2026-01-01T00:00:00Z"}
    assert "timePeriod" in budget.ignore_changes
    notes = budget.inputs["notifications"]
    assert {n["threshold"] for n in notes.values()} == {50, 80, 100}
    for note in notes.values():
        assert note["operator"] == "GreaterThan" and note["enabled"] is True and note["thresholdType"] == "Actual"
        # no notify list: the customer's contacts
        assert note["contactEmails"] == ["financeiro@acme.com.br", "ti@acme.com.br"]  # one order: sorted
    prod = one(graphs["protheus-prod"], "consumption:Budget")
    assert {n["contactEmails"][0] for n in prod.inputs["notifications"].values()} == {"ti@acme.com.br"}


def test_more_than_five_thresholds_split_into_two_budgets(inputs):
    alert = CostAlert(True, 1000, "BRL", (10, 20, 30, 40, 50, 60, 70))
    budgets = of_type(synthesize(env_variant(inputs["rm"], cost_alert=alert)), "consumption:Budget")
    assert [b.inputs["budgetName"] for b in budgets] == ["acme-rm-prod-budget", "acme-rm-prod-budget-2"]
    assert [sorted(n["threshold"] for n in b.inputs["notifications"].values()) for b in budgets] == [
        [10, 20, 30, 40, 50], [60, 70]]


def test_disabled_or_absent_cost_alert_has_no_budget(inputs, graphs):
    assert not of_type(graphs["protheus-qa"], "consumption:Budget")
    disabled = synthesize(env_variant(inputs["rm"], cost_alert=CostAlert(False, 2500)))
    assert diff(graphs["rm"], disabled) == (set(), set(), {"budget"})


# ----------------------------------------------------------------------------------------------
# domain


def test_subdomain_is_an_alias_record_in_the_platform_zone(graphs):
    rm = by_name(graphs["rm"])
    record = rm["dns-record"]
    assert record.inputs["zoneName"] == "cloudtotvs.com.br" and record.inputs["relativeRecordSetName"] == "acme-rm"
    assert record.inputs["recordType"] == "A" and record.inputs["ttl"] == 300
    assert record.inputs["targetResource"] == {"id": rm["public-ip"].id}
    assert record.inputs["resourceGroupName"] == "cloudtotvs-dns"
    assert record.outputs["fqdn"] == "acme-rm.cloudtotvs.com.br."
    assert graphs["rm"].outputs["url"] == "https://acme-rm.cloudtotvs.com.br"


def test_custom_domain_is_a_cname_in_the_customers_zone(graphs, inputs):
    record = one(graphs["fluig-prod"], "dns:RecordSet")
    assert (record.inputs["zoneName"], record.inputs["relativeRecordSetName"]) == ("acme.com.br", "fluig")
    assert record.inputs["recordType"] == "CNAME"
    assert record.inputs["cnameRecord"] == {"cname": "acme-fluig-prod.brazilsouth.cloudapp.azure.com"}
    assert graphs["fluig-prod"].outputs["url"] == "https://fluig.acme.com.br"
    inp = dataclasses.replace(inputs["fluig-prod"], settings={**MYSQL, "dnsZoneResourceGroup": "dns-platform",
                                                              "customerDnsZoneResourceGroup": "dns-customers"})
    assert one(synthesize(inp), "dns:RecordSet").inputs["resourceGroupName"] == "dns-customers"


def test_no_domain_no_record_and_no_url(graphs):
    assert not of_type(graphs["protheus-dev"], "dns:RecordSet") and "url" not in graphs["protheus-dev"].outputs


# ----------------------------------------------------------------------------------------------
# backups


def test_backup_policy_keeps_the_automatic_retention(graphs):
    rm = by_name(graphs["rm"])
    vault, policy = rm["backup-vault"], rm["backup-policy"]
    assert vault.inputs["sku"] == {"name": "RS0", "tier": "Standard"}
    assert vault.inputs["properties"]["redundancySettings"]["standardTierStorageRedundancy"] == "GeoRedundant"
    props = policy.inputs["properties"]
    assert props["backupManagementType"] == "AzureIaasVM"
    assert props["schedulePolicy"]["scheduleRunFrequency"] == "Daily"
    assert props["retentionPolicy"]["dailySchedule"]["retentionDuration"] == {"count": 35, "durationType": "Days"}
    assert policy.inputs["vaultName"] == vault.inputs["vaultName"] == "acme-rm-prod-rsv"
    # Azure keeps daily VM backups at least 7 days; DEV asks for 7, QA for 15
    qa = one(graphs["protheus-qa"], "recoveryservices:ProtectionPolicy")
    assert qa.inputs["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == 15
    assert one(graphs["protheus-qa"], "recoveryservices:Vault").inputs["properties"]["redundancySettings"][
        "standardTierStorageRedundancy"] == "LocallyRedundant"


def test_retention_below_azures_minimum_and_default(inputs):
    short = synthesize(env_variant(inputs["protheus-dev"], backup=dataclasses.replace(
        inputs["protheus-dev"].environment.backup, automatic_retention_days=2)))
    count = one(short, "recoveryservices:ProtectionPolicy").inputs["properties"]["retentionPolicy"]["dailySchedule"]
    assert count["retentionDuration"]["count"] == 7
    assert by_name(short)["sql-retention"].inputs["retentionDays"] == 2
    none = synthesize(env_variant(inputs["fluig-dev"], backup=dataclasses.replace(
        inputs["fluig-dev"].environment.backup, automatic_retention_days=None)))
    policy = one(none, "recoveryservices:ProtectionPolicy").inputs["properties"]
    assert policy["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] == caps.PROTECTED_RECENT_DAYS


def test_every_vm_is_a_protected_item_of_the_policy(graphs):
    fluig = by_name(graphs["fluig-prod"])
    items = of_type(graphs["fluig-prod"], "recoveryservices:ProtectedItem")
    assert {i.name for i in items} == {"vm-1-backup", "vm-2-backup", "indexer-backup"}
    item = fluig["vm-2-backup"]
    assert item.inputs["properties"] == {"protectedItemType": "Microsoft.Compute/virtualMachines",
                                         "policyId": fluig["backup-policy"].id, "sourceResourceId": fluig["vm-2"].id}
    assert item.inputs["containerName"] == "iaasvmcontainer;iaasvmcontainerv2;acme-fluig-prod-rg;acme-fluig-prod-vm-2"
    assert item.inputs["protectedItemName"] == "vm;iaasvmcontainerv2;acme-fluig-prod-rg;acme-fluig-prod-vm-2"
    assert item.inputs["fabricName"] == "Azure"


def test_manual_backups_are_data_for_the_agent(graphs):
    rm = by_name(graphs["rm"])
    expected = json.dumps({
        "backups": [{"comment": "before the November payroll run", "name": "Before_Payroll_2026_11"}],
        "deleteRemoved": True, "format": "cloud.totvs.io/manual-backups-v1",
        "protected": {"monthlyMonths": 12, "recentDays": 30, "yearlyYears": 5},
        "retentionDays": 90, "topology": "acme-rm-prod", "vault": "acme-rm-prod-rsv"},
        sort_keys=True, separators=(",", ":"))
    blob = rm["manual-backups"]
    assert blob.inputs["source"]["sha256"] == blob.inputs["metadata"]["sha256"] == sha(expected)
    assert graphs["rm"].outputs["manualBackupsDigest"] == "sha256:" + sha(expected)
    params = {p["name"]: p["value"] for p in rm["vm-1-agent"].inputs["parameters"]}
    assert params["ManualBackupsDigest"] == "sha256:" + sha(expected)
    assert params["ManualBackupsUrl"] == "https://acmermprodst.blob.core.windows.net/deployment/manual-backups.json"
    operator = rm["agent-backup-operator"]
    assert operator.inputs["scope"] == rm["backup-vault"].id
    assert operator.inputs["principalId"] == rm["identity"].outputs["principalId"]
    # no manual backups: the (empty) list is still published, and the agent may not take backups
    assert "agent-backup-operator" not in by_name(graphs["protheus-qa"])
    assert "manual-backups" in by_name(graphs["protheus-qa"])


# ----------------------------------------------------------------------------------------------
# artifacts, deployment document and the agent


def test_artifacts_are_content_addressed_blobs(graphs, inputs):
    inp = inputs["fluig-prod"]
    blobs = {b.inputs["metadata"].get("path"): b for b in of_type(graphs["fluig-prod"], "storage:Blob")}
    for path, kind in (("artifacts/widgets/portal-rh.war", "widget"), ("artifacts/widgets/aprovacoes.jar", "widget"),
                       ("artifacts/fluig/standalone.conf", "fluig-config")):
        blob, hex_digest = blobs[path], inp.artifact_hex(path)
        assert blob.inputs["blobName"] == f"sha256-{hex_digest}/{path}"
        assert blob.inputs["metadata"]["sha256"] == hex_digest and blob.inputs["metadata"]["kind"] == kind
        assert blob.inputs["source"] == {"asset": "file", "path": path}
        assert blob.inputs["containerName"] == "deployment"
    assert blobs["artifacts/widgets/portal-rh.war"].inputs["contentType"] == "application/java-archive"
    patch = [b for b in of_type(graphs["protheus-prod"], "storage:Blob") if b.inputs["metadata"].get("kind") == "patch"]
    assert [b.inputs["metadata"]["path"] for b in patch] == ["artifacts/patches/fix-fat-2410.ptm"]


def test_artifacts_of_features_the_product_lacks_are_not_uploaded(inputs):
    graph = synthesize(env_variant(inputs["protheus-dev"], widgets=("artifacts/widgets/portal-rh.war",)))
    assert not [b for b in of_type(graph, "storage:Blob") if b.inputs["metadata"].get("kind") == "widget"]


def test_storage_is_private_and_the_agent_may_use_its_container(graphs):
    rm = by_name(graphs["rm"])
    account = rm["storage"].inputs
    assert account["allowBlobPublicAccess"] is False and account["minimumTlsVersion"] == "TLS1_2"
    assert account["sku"] == {"name": "Standard_ZRS"} and account["kind"] == "StorageV2"
    assert rm["container"].inputs["publicAccess"] == "None"
    access = rm["agent-blob-access"]
    assert access.inputs["scope"] == rm["container"].id
    assert access.inputs["principalId"] == rm["identity"].outputs["principalId"]
    assert access.inputs["roleDefinitionId"].endswith("/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe")


@pytest.mark.parametrize("key", ["rm", "protheus-prod", "fluig-prod"])
def test_deployment_document_blob_and_one_agent_run_per_vm(graphs, inputs, key):
    graph, inp = graphs[key], inputs[key]
    text = deployment_json(inp)
    document = by_name(graph)["deployment-document"]
    assert document.inputs["blobName"] == "deployment.json"
    assert document.inputs["source"]["sha256"] == document.inputs["metadata"]["sha256"] == sha(text)
    assert graph.outputs["deploymentDigest"] == "sha256:" + sha(text)
    vms = {vm.inputs["vmName"]: vm for vm in of_type(graph, "compute:VirtualMachine")}
    runs = of_type(graph, "compute:VirtualMachineRunCommandByVirtualMachine")
    assert sorted(r.inputs["vmName"] for r in runs) == sorted(vms)
    for run in runs:
        params = {p["name"]: p["value"] for p in run.inputs["parameters"]}
        assert params["DocumentDigest"] == "sha256:" + sha(text)
        assert params["DocumentUrl"].endswith("/deployment/deployment.json")
        assert params["DatabaseHost"] == graph.outputs["dbFqdn"]
        assert params["Topology"] == inp.environment.name
        assert vms[run.inputs["vmName"]].urn in run.depends_on and document.urn in run.depends_on
        script = run.inputs["source"]["script"]
        windows = vms[run.inputs["vmName"]].inputs["storageProfile"]["osDisk"]["osType"] == "Windows"
        assert script.startswith("param(") if windows else script.startswith("#!/bin/bash")
        assert all(name in script for name in params)
        assert run.inputs["treatFailureAsDeploymentFailure"] is True and run.inputs["asyncExecution"] is False


def test_exports(graphs):
    out = graphs["rm"].outputs
    vms = {vm.inputs["vmName"]: vm.id for vm in of_type(graphs["rm"], "compute:VirtualMachine")}
    assert out["vmIds"] == vms and len(vms) == 2
    assert out["resourceGroup"] == "acme-rm-prod-rg"
    assert set(out) == {"resourceGroup", "vmIds", "dbFqdn", "publicIp", "lbIp", "url", "deploymentDigest",
                        "manualBackupsDigest", "power"}


# ----------------------------------------------------------------------------------------------
# computed outputs


def test_computed_outputs_are_realistic_and_deterministic():
    ip = outputs.computed_outputs(T + "network:PublicIPAddress", "public-ip",
                                  {"publicIpAddressName": "x-pip", "location": "brazilsouth",
                                   "dnsSettings": {"domainNameLabel": "x"}}, "id")
    assert ip["name"] == "x-pip" and ip["dnsSettings"]["fqdn"] == "x.brazilsouth.cloudapp.azure.com"
    a, b, c, d = (int(p) for p in ip["ipAddress"].split("."))
    assert a == 191 and 232 <= b <= 235 and 0 <= c <= 255 and 1 <= d <= 254
    identity = outputs.computed_outputs(T + "managedidentity:UserAssignedIdentity", "identity",
                                        {"resourceName": "x-identity"}, "id")
    assert identity == outputs.computed_outputs(T + "managedidentity:UserAssignedIdentity", "identity",
                                                {"resourceName": "x-identity"}, "other-id")
    assert len({identity["principalId"], identity["clientId"]}) == 2
    blob = outputs.computed_outputs(T + "storage:Blob", "b", {"blobName": "d.json", "accountName": "st",
                                                             "containerName": "c"}, "id")
    assert blob["url"] == "https://st.blob.core.windows.net/c/d.json"
    assert outputs.computed_outputs("pulumi:providers:azure-native", "azure", {}, "id") == {}


# ----------------------------------------------------------------------------------------------
# a change of each spec field changes exactly the resources it should

AGENTS_RM = {"vm-1-agent", "vm-2-agent"}


def _changes(inputs, graphs, key, **changes):
    return diff(graphs[key], synthesize(env_variant(inputs[key], **changes)))


def test_change_instance_size(inputs, graphs):
    assert _changes(inputs, graphs, "rm", instance_size="large") == ({"vm-1", "vm-2", "sql-database"}, set(), set())


def test_change_instances(inputs, graphs):
    assert _changes(inputs, graphs, "rm", instances=3) == (
        set(), {"vm-3", "vm-3-nic", "vm-3-agent", "vm-3-backup"}, set())
    # scheduled with auto-shutdown: the new VM gets its shutdown too
    assert _changes(inputs, graphs, "protheus-qa", instances=2) == (
        {"vm-1-nic"}, {"vm-2", "vm-2-nic", "vm-2-agent", "vm-2-backup", "vm-2-shutdown", "lb"}, set())


def test_change_thresholds(inputs, graphs):
    alert = dataclasses.replace(inputs["rm"].environment.cost_alert, thresholds=(75, 100))
    assert _changes(inputs, graphs, "rm", cost_alert=alert) == ({"budget"}, set(), set())


def test_change_domain(inputs, graphs):
    assert _changes(inputs, graphs, "rm", domain=Domain(subdomain="rh-acme")) == ({"dns-record"}, set(), set())
    assert _changes(inputs, graphs, "rm", domain=None) == (set(), set(), {"dns-record"})


def test_change_automatic_retention(inputs, graphs):
    backup = dataclasses.replace(inputs["rm"].environment.backup, automatic_retention_days=20)
    assert _changes(inputs, graphs, "rm", backup=backup) == ({"backup-policy", "sql-retention"}, set(), set())


def test_change_manual_backups(inputs, graphs):
    env = inputs["rm"].environment
    more = dataclasses.replace(env.backup, manual=env.backup.manual + (ManualBackup("Before_13th", "13th salary"),))
    assert _changes(inputs, graphs, "rm", backup=more) == ({"manual-backups"} | AGENTS_RM, set(), set())
    none = dataclasses.replace(env.backup, manual=())
    assert _changes(inputs, graphs, "rm", backup=none) == (
        {"manual-backups"} | AGENTS_RM, set(), {"agent-backup-operator"})


def test_change_services(inputs, graphs):
    services = inputs["rm"].environment.services[:1]
    assert _changes(inputs, graphs, "rm", services=services) == ({"deployment-document"} | AGENTS_RM, set(), set())


def test_change_exclusive_access_and_ini(inputs, graphs):
    agents = {"vm-1-agent", "vm-2-agent"}
    assert _changes(inputs, graphs, "protheus-prod", exclusive_access=True) == (
        {"deployment-document"} | agents, set(), set())
    ini = (Service("ERP", "running", (("General", (("MaxStringSize", "20"),)),)),)
    assert _changes(inputs, graphs, "protheus-prod", services=ini) == ({"deployment-document"} | agents, set(), set())


def test_change_of_an_artifacts_content(inputs, graphs):
    path = "artifacts/patches/fix-fat-2410.ptm"
    inp = inputs["protheus-prod"]
    changed = dataclasses.replace(inp, artifacts={**inp.artifacts, path: "sha256:" + "ab" * 32})
    assert diff(graphs["protheus-prod"], synthesize(changed)) == (
        {f"artifact-{path}", "deployment-document", "vm-1-agent", "vm-2-agent"}, set(), set())


def test_change_of_a_windows_start_replaces_its_schedule(inputs, graphs):
    schedule = Schedule("America/Sao_Paulo", (Window(("mon", "tue", "wed", "thu", "fri"), "09:00", "19:00"),))
    assert _changes(inputs, graphs, "protheus-qa", schedule=schedule) == (
        set(), {"schedule-start-mon-tue-wed-thu-fri-0900", "job-start-mon-tue-wed-thu-fri-0900"},
        {"schedule-start-mon-tue-wed-thu-fri-0800", "job-start-mon-tue-wed-thu-fri-0800"})


def test_change_of_a_windows_end_changes_the_auto_shutdown(inputs, graphs):
    schedule = Schedule("America/Sao_Paulo", (Window(("mon", "tue", "wed", "thu", "fri"), "08:00", "18:30"),))
    assert _changes(inputs, graphs, "protheus-qa", schedule=schedule) == ({"vm-1-shutdown"}, set(), set())


def test_change_power_to_running_drops_the_schedules(inputs, graphs):
    changed, added, removed = _changes(inputs, graphs, "protheus-qa", power="running", schedule=None)
    assert (changed, added) == ({"power-desired-state"}, set())
    assert removed == {"schedule-start-mon-tue-wed-thu-fri-0800", "job-start-mon-tue-wed-thu-fri-0800",
                       "vm-1-shutdown"}


def test_change_sftp(inputs, graphs):
    assert _changes(inputs, graphs, "protheus-qa", sftp_enabled=True) == (
        {"nsg", "deployment-document", "vm-1-agent"}, set(), set())


def test_change_labels_retags_exactly_the_tagged_resources(inputs, graphs):
    base = graphs["rm"]
    tagged = {r.name for r in base.resources if "tags" in r.inputs or r.type == T + "dns:RecordSet"}
    changed, added, removed = _changes(inputs, graphs, "rm", labels=(("cost-center", "rh"),))
    assert (changed, added, removed) == (tagged, set(), set())
    assert {"vm-1", "sql-database", "budget"} - changed == {"budget"}  # budgets take no tags


# ----------------------------------------------------------------------------------------------
# ids and dates built by the program


def test_role_definitions_are_scoped_to_the_groups_subscription():
    from stacks.azure.context import _subscription_of

    assert _subscription_of("/subscriptions/0f0e/resourceGroups/acme-rm-prod-rg") == "/subscriptions/0f0e"
    assert _subscription_of("resourcegrou-0b44db") == "resourcegrou-0b44db"  # mock ids pass through


def test_budget_starts_on_the_first_day_of_the_apply_month(inputs):
    inp = dataclasses.replace(inputs["rm"], settings={"applyDate": "2026-12-04"})
    assert one(synthesize(inp), "consumption:Budget").inputs["timePeriod"] == {"startDate": "2026-12-01T00:00:00Z"}
