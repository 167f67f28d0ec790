"""The access domain (seed "Alterar Domínio", AWS): a Route 53 record and, behind a load balancer,
the TLS certificate.

- A subdomain ``acme`` is ``acme.cloudtotvs.com.br`` in the platform's zone (setting
  ``platformZoneId``); a custom domain is a record in the customer's zone delegated to the platform
  (setting ``customZoneId``).
- The record is an A record: an alias of the load balancer when there is one (an alias, not a
  CNAME, so that a custom domain may be a zone apex and the answer follows the balancer's
  addresses), else the single instance's Elastic IP.
- A custom domain behind a load balancer gets an ACM certificate validated by DNS (validation
  record in the customer's zone) for the balancer's HTTPS listener. ACM certificates cannot be
  installed on an instance, so a single-instance topology gets none: its agent serves TLS. A
  subdomain uses the platform's wildcard certificate (setting ``platformCertificateArn``) when set.
"""

from __future__ import annotations

import pulumi
import pulumi_aws.acm as acm
import pulumi_aws.ec2 as ec2
import pulumi_aws.lb as lb
import pulumi_aws.route53 as route53

from stacks.aws.context import Stack
from stacks.aws.network import has_load_balancer

RECORD_TTL = 300
VALIDATION_TTL = 60


def fqdn(st: Stack) -> str | None:
    return st.env.domain.fqdn if st.env.domain and st.has("domain") else None


def is_custom(st: Stack) -> bool:
    return bool(fqdn(st) and st.env.domain.custom)


def zone_id(st: Stack) -> str:
    return st.settings.custom_zone_id if is_custom(st) else st.settings.platform_zone_id


def certificate_arn(st: Stack) -> pulumi.Input[str] | None:
    """The certificate of the balancer's HTTPS listener, or None for no HTTPS listener."""
    if not (fqdn(st) and has_load_balancer(st)):
        return None
    if is_custom(st):
        return _validated_certificate(st)
    return st.settings.platform_certificate_arn


def _validated_certificate(st: Stack) -> pulumi.Output[str]:
    cert = acm.Certificate("certificate", domain_name=fqdn(st), validation_method="DNS",
                           tags=st.tags(Name=fqdn(st)), opts=st.opts())
    option = cert.domain_validation_options[0]
    record = route53.Record("certificate-validation", zone_id=zone_id(st), name=option.resource_record_name,
                            type=option.resource_record_type, records=[option.resource_record_value],
                            ttl=VALIDATION_TTL, allow_overwrite=True, opts=st.opts())
    validation = acm.CertificateValidation("certificate-validated", certificate_arn=cert.arn,
                                           validation_record_fqdns=[record.fqdn], opts=st.opts())
    return validation.certificate_arn


def record(st: Stack, balancer: lb.LoadBalancer | None, address: ec2.Eip | None) -> route53.Record | None:
    name = fqdn(st)
    if name is None:
        return None
    if balancer is not None:
        alias = route53.RecordAliasArgs(name=balancer.dns_name, zone_id=balancer.zone_id, evaluate_target_health=True)
        return route53.Record("domain", zone_id=zone_id(st), name=name, type="A", aliases=[alias], opts=st.opts())
    return route53.Record("domain", zone_id=zone_id(st), name=name, type="A", ttl=RECORD_TTL,
                          records=[address.public_ip], opts=st.opts())
