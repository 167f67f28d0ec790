"""What AWS would compute for the resources of this stack, for the mock runtime and sandbox engine.

Keyed by the wire (camelCase) names of the output properties: ``arn``, ``dnsName``, ``publicIp``,
``endpoint``, ``domainValidationOptions``... Values are derived from the resource id and its
inputs only, so the same resource always gets the same outputs. The account is the documentation
account 123456789012; addresses come from the documentation ranges (203.0.113.0/24, 10.0.0.0/16).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Mapping

ACCOUNT = "123456789012"
MOCK_REGION = "sa-east-1"
ALB_ZONE_ID = "Z2P70J7HTTTPLU"  # Route 53 zone of Application Load Balancers in sa-east-1
RDS_ZONE_ID = "Z2FBB2HJGLFB7D"

Inputs = Mapping[str, Any]


def _n(resource_id: str, modulo: int) -> int:
    return int(hashlib.sha256(resource_id.encode()).hexdigest()[:8], 16) % modulo


def _hex(resource_id: str, length: int) -> str:
    return hashlib.sha256(resource_id.encode()).hexdigest()[:length]


def _region(inputs: Inputs) -> str:
    return inputs.get("region") or MOCK_REGION


def _arn(service: str, inputs: Inputs, resource: str) -> str:
    return f"arn:aws:{service}:{_region(inputs)}:{ACCOUNT}:{resource}"


def _public_ip(resource_id: str) -> str:
    return f"203.0.113.{1 + _n(resource_id, 254)}"


def _instance(name: str, inputs: Inputs, rid: str) -> dict:
    private = f"10.0.{_n(rid + 'a', 256)}.{1 + _n(rid + 'b', 254)}"
    public = _public_ip(rid) if inputs.get("associatePublicIpAddress") else ""
    return {"arn": _arn("ec2", inputs, f"instance/{rid}"), "privateIp": private, "publicIp": public,
            "privateDns": f"ip-{private.replace('.', '-')}.{_region(inputs)}.compute.internal",
            "publicDns": f"ec2-{public.replace('.', '-')}.{_region(inputs)}.compute.amazonaws.com" if public else "",
            "instanceState": "running", "primaryNetworkInterfaceId": f"eni-{_hex(rid, 17)}"}


def _eip(name: str, inputs: Inputs, rid: str) -> dict:
    ip = _public_ip(rid + "eip")
    return {"publicIp": ip, "allocationId": f"eipalloc-{_hex(rid, 17)}",
            "publicDns": f"ec2-{ip.replace('.', '-')}.{_region(inputs)}.compute.amazonaws.com",
            "arn": _arn("ec2", inputs, f"elastic-ip/eipalloc-{_hex(rid, 17)}")}


def _load_balancer(name: str, inputs: Inputs, rid: str) -> dict:
    lb_name = inputs.get("name") or name
    suffix = f"app/{lb_name}/{_hex(rid, 16)}"
    return {"arn": _arn("elasticloadbalancing", inputs, f"loadbalancer/{suffix}"), "arnSuffix": suffix,
            "dnsName": f"{lb_name}-{_n(rid, 10 ** 9)}.{_region(inputs)}.elb.amazonaws.com", "zoneId": ALB_ZONE_ID}


def _target_group(name: str, inputs: Inputs, rid: str) -> dict:
    suffix = f"targetgroup/{inputs.get('name') or name}/{_hex(rid, 16)}"
    return {"arn": _arn("elasticloadbalancing", inputs, suffix), "arnSuffix": suffix}


def _listener(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": _arn("elasticloadbalancing", inputs, f"listener/app/{name}/{_hex(rid, 16)}")}


def _database(name: str, inputs: Inputs, rid: str) -> dict:
    ident = inputs.get("identifier") or name
    address = f"{ident}.c{_hex(rid, 11)}.{_region(inputs)}.rds.amazonaws.com"
    port = int(inputs.get("port") or 5432)
    out = {"arn": _arn("rds", inputs, f"db:{ident}"), "address": address, "endpoint": f"{address}:{port}",
           "port": port, "hostedZoneId": RDS_ZONE_ID, "resourceId": f"db-{_hex(rid, 26).upper()}",
           "status": "available"}
    if inputs.get("manageMasterUserPassword"):
        secret = _arn("secretsmanager", inputs, f"secret:rds!{ident}-{_hex(rid, 6)}")
        out["masterUserSecrets"] = [{"secretArn": secret, "secretStatus": "active",
                                     "kmsKeyId": _arn("kms", inputs, "alias/aws/secretsmanager")}]
    return out


def _certificate(name: str, inputs: Inputs, rid: str) -> dict:
    domain = inputs.get("domainName") or name
    token = _hex(rid, 32)
    return {"arn": _arn("acm", inputs, f"certificate/{rid}"), "status": "ISSUED", "domainValidationOptions": [{
        "domainName": domain, "resourceRecordName": f"_{token}.{domain}.", "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{_hex(rid + 'v', 32)}.acm-validations.aws."}]}


def _record(name: str, inputs: Inputs, rid: str) -> dict:
    return {"fqdn": str(inputs.get("name") or name).rstrip(".")}


def _named_arn(service: str, pattern: str) -> Callable[[str, Inputs, str], dict]:
    """An output of just the ARN, ``pattern`` formatted with the resource's name and id."""
    def outputs(name: str, inputs: Inputs, rid: str) -> dict:
        return {"arn": _arn(service, inputs, pattern.format(name=inputs.get("name") or name, id=rid))}
    return outputs


def _bucket(name: str, inputs: Inputs, rid: str) -> dict:
    bucket = inputs.get("bucket") or name
    return {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket, "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{_region(inputs)}.amazonaws.com"}


def _role(name: str, inputs: Inputs, rid: str) -> dict:
    role = inputs.get("name") or name
    return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "uniqueId": f"AROA{_hex(rid, 17).upper()}", "name": role}


def _instance_profile(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{inputs.get('name') or name}",
            "uniqueId": f"AIPA{_hex(rid, 17).upper()}"}


def _parameter(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": _arn("ssm", inputs, f"parameter{inputs.get('name') or name}"), "version": 1}


def _association(name: str, inputs: Inputs, rid: str) -> dict:
    uuid = _hex(rid, 32)
    association_id = f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    return {"associationId": association_id, "arn": _arn("ssm", inputs, f"association/{association_id}")}


def _budget(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": f"arn:aws:budgets::{ACCOUNT}:budget/{inputs.get('name') or name}", "accountId": ACCOUNT}


def _vault(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": _arn("backup", inputs, f"backup-vault:{inputs.get('name') or name}"), "recoveryPoints": 0}


def _plan(name: str, inputs: Inputs, rid: str) -> dict:
    return {"arn": _arn("backup", inputs, f"backup-plan:{rid}"), "version": _hex(rid, 32)}


_COMPUTED: dict[str, Callable[[str, Inputs, str], dict]] = {
    "aws:ec2/instance:Instance": _instance,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/securityGroup:SecurityGroup": _named_arn("ec2", "security-group/{id}"),
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:rds/instance:Instance": _database,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp:{name}"),
    "aws:acm/certificate:Certificate": _certificate,
    "aws:route53/record:Record": _record,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:iam/role:Role": _role,
    "aws:iam/instanceProfile:InstanceProfile": _instance_profile,
    "aws:ssm/parameter:Parameter": _parameter,
    "aws:ssm/document:Document": _named_arn("ssm", "document/{name}"),
    "aws:ssm/association:Association": _association,
    "aws:scheduler/schedule:Schedule": _named_arn("scheduler", "schedule/default/{name}"),
    "aws:budgets/budget:Budget": _budget,
    "aws:backup/vault:Vault": _vault,
    "aws:backup/plan:Plan": _plan,
}


def computed_outputs(type_token: str, name: str, inputs: Inputs, resource_id: str) -> dict:
    compute = _COMPUTED.get(type_token)
    return compute(name, dict(inputs), resource_id) if compute else {}
