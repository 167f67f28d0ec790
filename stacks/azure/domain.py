"""The topology's access domain as an Azure DNS record set. The portal changes domains only on AWS;
on Azure this stack implements it (``domain`` is ``Support.STACK``).

- ``subdomain``: an alias A record in the platform zone ``cloudtotvs.com.br`` (resource group
  ``settings.dnsZoneResourceGroup``) that targets the topology's public IP resource, so it follows
  the address if it ever changes.
- ``custom``: a CNAME in the customer's zone (the domain without its first label; the customer
  delegates it to Azure DNS in ``settings.customerDnsZoneResourceGroup``) to the public IP's Azure
  name, which works even where an alias cannot reach the IP.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native.dns as dns

from reconciler.model.capabilities import CLOUDTOTVS_ZONE
from stacks.azure.context import AzureStack
from stacks.azure.networking import Network

DEFAULT_ZONE_GROUP = "cloudtotvs-dns"
TTL_SECONDS = 300


def build_domain(stack: AzureStack, net: Network) -> dns.RecordSet | None:
    domain = stack.env.domain
    if domain is None or not stack.supports("domain"):
        return None
    platform_group = stack.inp.setting("dnsZoneResourceGroup", DEFAULT_ZONE_GROUP)
    if domain.subdomain:
        return dns.RecordSet(
            "dns-record", record_type="A", zone_name=CLOUDTOTVS_ZONE, resource_group_name=platform_group,
            relative_record_set_name=domain.subdomain, ttl=TTL_SECONDS,
            target_resource=dns.SubResourceArgs(id=net.public_ip.id), metadata=stack.tags(), opts=stack.opts())
    label, zone = split_custom(domain.custom)
    return dns.RecordSet(
        "dns-record", record_type="CNAME", zone_name=zone,
        resource_group_name=stack.inp.setting("customerDnsZoneResourceGroup", platform_group),
        relative_record_set_name=label, ttl=TTL_SECONDS,
        cname_record=dns.CnameRecordArgs(cname=net.public_ip.dns_settings.apply(lambda s: s.fqdn if s else None)),
        metadata=stack.tags(), opts=stack.opts())


def split_custom(fqdn: str) -> tuple[str, str]:
    """``erp.acme.com.br`` -> (``erp``, ``acme.com.br``)."""
    label, _, zone = fqdn.rstrip(".").partition(".")
    return label, zone


def public_url(stack: AzureStack) -> str | None:
    domain = stack.env.domain
    return f"https://{domain.fqdn}" if domain and stack.supports("domain") else None


def public_host(stack: AzureStack, net: Network) -> pulumi.Input[str]:
    """The name users reach the topology by: its domain, or the public IP's Azure name."""
    domain = stack.env.domain
    if domain and stack.supports("domain"):
        return domain.fqdn
    return net.public_ip.dns_settings.apply(lambda s: s.fqdn if s else None)
