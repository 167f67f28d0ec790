"""The Azure stack (pulumi-azure-native 3.x): one stack per topology whose ``spec.cloud`` is azure.

``program.build`` wires the feature modules of this package; each module owns one feature:

- ``context``: the provider, the resource group and what every module shares (names, tags, options);
- ``tables``: data per product and instance size (VM sizes, images, database SKUs, ports, time zones);
- ``networking``: virtual network, subnets, security group rules, public IP and load balancer;
- ``machines``: the managed identity, network interfaces and virtual machines (Fluig indexer too);
- ``database``: Azure SQL for Protheus and RM, MySQL flexible server for Fluig;
- ``deployment``: storage for artifacts and the deployment document, and the run command that
  makes the deployment agent apply it;
- ``power``: running / stopped / scheduled (auto-shutdown and Automation schedules);
- ``cost``: the cost alert as a consumption budget;
- ``domain``: the DNS record of the topology's domain;
- ``backup``: Recovery Services vault, policy, protected VMs and the manual backups' data;
- ``outputs``: what Azure computes for each resource, for the mock runtime and the sandbox engine.

The portal offers schedule, costAlert, domain, backupPolicy and backupDelete only on AWS; the
capability matrix marks them ``Support.STACK`` on Azure because this stack implements them.
"""
