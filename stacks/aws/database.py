"""The topology's database: one RDS instance (engine per product, see ``catalog.ENGINES``).

Sized by ``instanceSize`` (class and storage, with storage autoscaling), encrypted, private (only
members of the topology's security group reach it), the master password generated and kept by
RDS in Secrets Manager. PROD: Multi-AZ, deletion protection, a final snapshot, and the Pulumi
resource protected and retained; QA/DEV: no final snapshot, so removing the topology removes its
data (seed rule 4).

Cloning (``cloneFrom``, Fluig on AWS, only when the topology is created): the database is a
point-in-time restore of the source topology's database at its latest restorable time. The
restore is a creation-time argument, ignored afterwards, so dropping ``cloneFrom`` from the spec
later never replaces the database.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi_aws.ec2 as ec2
import pulumi_aws.rds as rds

from stacks.aws import catalog
from stacks.aws.context import Stack
from stacks.common.naming import physical_name


def identifier(st: Stack) -> str:
    return st.name("db")


def source_identifier(st: Stack) -> str | None:
    """The RDS identifier of the ``cloneFrom`` topology's database (same naming, other topology)."""
    if not (st.env.clone_from and st.has("clone")):
        return None
    return physical_name(replace(st.env, name=st.env.clone_from), "db")


def subnet_group(st: Stack) -> rds.SubnetGroup:
    return rds.SubnetGroup("db-subnets", name=st.name("db"), subnet_ids=list(st.settings.subnet_ids),
                           description=f"database of {st.env.name}", tags=st.tags(), opts=st.opts())


def _restore(st: Stack) -> rds.InstanceRestoreToPointInTimeArgs | None:
    source = source_identifier(st)
    if source is None:
        return None
    return rds.InstanceRestoreToPointInTimeArgs(source_db_instance_identifier=source, use_latest_restorable_time=True)


def database(st: Stack, sg: ec2.SecurityGroup) -> rds.Instance:
    env, engine, size = st.env, catalog.ENGINES[st.env.product], st.env.instance_size
    group = subnet_group(st)
    prod = env.is_prod
    return rds.Instance(
        "db", identifier=identifier(st), engine=engine.engine, engine_version=engine.version,
        license_model=engine.license_model, db_name=engine.db_name, port=engine.port,
        instance_class=catalog.DB_CLASSES[engine.engine][size],
        allocated_storage=catalog.DB_STORAGE_GB[size],
        max_allocated_storage=catalog.DB_STORAGE_GB[size] * catalog.DB_STORAGE_GROWTH,
        storage_type="gp3", storage_encrypted=True, multi_az=prod,
        username=catalog.DB_USERNAME, manage_master_user_password=True,
        db_subnet_group_name=group.name, vpc_security_group_ids=[sg.id], publicly_accessible=False,
        backup_retention_period=catalog.DB_PITR_DAYS[env.type], copy_tags_to_snapshot=True,
        auto_minor_version_upgrade=True, restore_to_point_in_time=_restore(st),
        deletion_protection=prod, skip_final_snapshot=not prod,
        final_snapshot_identifier=st.name("db", "final") if prod else None,
        tags=st.tags(Name=identifier(st)),
        opts=st.opts(data=True, ignore_changes=["restoreToPointInTime"]))
