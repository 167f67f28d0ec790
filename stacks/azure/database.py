"""The topology's database: Azure SQL (server, database, point-in-time retention) for Protheus and
RM, a MySQL flexible server with private access for Fluig.

Production data is protected: on PROD the servers, databases and retention policies are
``protect`` and ``retain_on_delete`` (rule 4: a PROD topology is never removed).

Azure SQL uses Microsoft Entra authentication only: its administrator is the topology's
user-assigned identity (the VMs carry it), so there is no SQL password anywhere. Fluig's JDBC
datasource needs a MySQL password: it comes from ``settings.mysqlAdminPassword`` (a secret of the
platform) and never from the stack itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.network as network

from stacks.azure.context import AzureStack
from stacks.azure.machines import Machines
from stacks.azure.networking import Network
from stacks.azure.tables import (DB_RETENTION_RANGE, DEFAULT_AUTOMATIC_RETENTION_DAYS, MYSQL_SKUS, MYSQL_STORAGE_GB,
                                 MYSQL_VERSION, SQL_COLLATIONS, SQL_DATABASE_NAMES, SQL_VCORES)

MYSQL_ADMIN_LOGIN = "fluigadmin"
MYSQL_ZONE_SUFFIX = "private.mysql.database.azure.com"


@dataclass(frozen=True)
class Database:
    server: pulumi.CustomResource
    database: pulumi.CustomResource
    fqdn: pulumi.Output[str]


def build_database(stack: AzureStack, net: Network, machines: Machines) -> Database:
    if stack.env.product == "fluig":
        return _mysql(stack, net)
    return _azure_sql(stack, net, machines)


def retention_days(stack: AzureStack) -> int:
    """Point-in-time retention of the database: the automatic backup retention, within Azure's 1-35."""
    days = stack.env.backup.automatic_retention_days or DEFAULT_AUTOMATIC_RETENTION_DAYS
    low, high = DB_RETENTION_RANGE
    return max(low, min(high, days))


def _azure_sql(stack: AzureStack, net: Network, machines: Machines) -> Database:
    # Imported here: a topology uses one database engine, and each SDK module costs ~0.1 s to load.
    from pulumi_azure_native import sql

    env, identity = stack.env, machines.identity
    server = sql.Server(
        "sql-server", server_name=stack.name("sql"), resource_group_name=stack.group_name,
        location=stack.location, version="12.0", minimal_tls_version="1.2", public_network_access="Enabled",
        administrators=sql.ServerExternalAdministratorArgs(
            administrator_type="ActiveDirectory", azure_ad_only_authentication=True, principal_type="Application",
            login=identity.name, sid=identity.client_id, tenant_id=identity.tenant_id),
        tags=stack.tags(), opts=stack.opts(data=True))
    # No firewall rule: only the application subnet (service endpoint) reaches the server.
    sql.VirtualNetworkRule(
        "sql-vnet-rule", virtual_network_rule_name="app-subnet", server_name=server.name,
        resource_group_name=stack.group_name, virtual_network_subnet_id=net.app_subnet.id, opts=stack.opts())
    database = sql.Database(
        "sql-database", database_name=SQL_DATABASE_NAMES[env.product], server_name=server.name,
        resource_group_name=stack.group_name, location=stack.location,
        sku=sql.SkuArgs(name="GP_Gen5", tier="GeneralPurpose", family="Gen5", capacity=SQL_VCORES[env.instance_size]),
        collation=SQL_COLLATIONS[env.product],
        requested_backup_storage_redundancy="Geo" if env.is_prod else "Local",
        tags=stack.tags(), opts=stack.opts(data=True))
    sql.BackupShortTermRetentionPolicy(
        "sql-retention", policy_name="default", database_name=database.name, server_name=server.name,
        resource_group_name=stack.group_name, retention_days=retention_days(stack),
        diff_backup_interval_in_hours=12, opts=stack.opts(data=True))
    return Database(server, database, server.fully_qualified_domain_name)


def _mysql_password(stack: AzureStack) -> pulumi.Output[str]:
    password = stack.inp.setting("mysqlAdminPassword")
    if not password:
        raise ValueError(f"{stack.env.name}: Fluig on Azure needs the platform setting 'mysqlAdminPassword' "
                         "(pulumi.settings.azure in .reconciler.yaml, from the platform's secret store)")
    return pulumi.Output.secret(password)


def _mysql(stack: AzureStack, net: Network) -> Database:
    # Imported here: a topology uses one database engine, and each SDK module costs ~0.1 s to load.
    from pulumi_azure_native import dbformysql, privatedns

    env = stack.env
    password = _mysql_password(stack)
    server_name = stack.name("mysql")
    zone = privatedns.PrivateZone(
        "mysql-zone", private_zone_name=f"{server_name}.{MYSQL_ZONE_SUFFIX}", resource_group_name=stack.group_name,
        location="global", tags=stack.tags(), opts=stack.opts())
    link = privatedns.VirtualNetworkLink(
        "mysql-zone-link", virtual_network_link_name=stack.name("vnet-link"), private_zone_name=zone.name,
        resource_group_name=stack.group_name, location="global", registration_enabled=False,
        virtual_network=network.SubResourceArgs(id=net.vnet.id), tags=stack.tags(), opts=stack.opts())
    sku = MYSQL_SKUS[env.instance_size]
    zone_redundant = env.is_prod and sku.tier != "Burstable"  # Burstable has no high availability
    server = dbformysql.Server(
        "mysql-server", server_name=server_name, resource_group_name=stack.group_name, location=stack.location,
        version=MYSQL_VERSION, sku=dbformysql.SkuArgs(name=sku.name, tier=sku.tier),
        administrator_login=MYSQL_ADMIN_LOGIN, administrator_login_password=password,
        storage=dbformysql.StorageArgs(storage_size_gb=MYSQL_STORAGE_GB, auto_grow="Enabled"),
        backup=dbformysql.BackupArgs(backup_retention_days=retention_days(stack),
                                     geo_redundant_backup="Enabled" if env.is_prod else "Disabled"),
        high_availability=dbformysql.HighAvailabilityArgs(mode="ZoneRedundant" if zone_redundant else "Disabled"),
        network=dbformysql.NetworkArgs(delegated_subnet_resource_id=net.db_subnet.id,
                                       private_dns_zone_resource_id=zone.id, public_network_access="Disabled"),
        tags=stack.tags(), opts=stack.opts(data=True, depends_on=[link]))
    database = dbformysql.Database(
        "mysql-database", database_name="fluig", server_name=server.name, resource_group_name=stack.group_name,
        charset="utf8mb4", collation="utf8mb4_general_ci", opts=stack.opts(data=True))
    return Database(server, database, server.fully_qualified_domain_name)
