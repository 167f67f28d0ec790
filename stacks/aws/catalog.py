"""Data of the AWS stack: sizes, images, ports and database engines per product, and the settings.

Tables, not logic: a new size or product is a line here. Settings come from the repository's
``.reconciler.yaml`` (``pulumi.settings.aws``) through ``StackInput.settings``; every one has a
documented default so that an example repository synthesises without any:

=========================  ==================================================================
setting                    meaning (default)
=========================  ==================================================================
``vpcId``                  VPC of the platform's shared network (``vpc-0123456789abcdef0``)
``subnetIds``              public subnets, at least two zones for RDS and the load balancer
                           (``subnet-0aaaaaaaaaaaaaaa1``, ``subnet-0bbbbbbbbbbbbbbb2``)
``allowedCidrs``           who may reach the product ports and SFTP (``0.0.0.0/0``)
``amiIds``                 ``{product: ami}`` overriding ``AMIS`` (the platform's golden images,
                           which carry the deployment agent ``/opt/totvs/agent``)
``platformZoneId``         Route 53 zone of cloudtotvs.com.br (``Z00000CLOUDTOTVSCOMBR``)
``customZoneId``           Route 53 zone of a customer's own domain, delegated to the platform's
                           account (``Z00000CUSTOMERDOMAIN``)
``platformCertificateArn`` wildcard certificate of ``*.cloudtotvs.com.br``; when set, a load
                           balancer of a subdomain topology gets an HTTPS listener (none)
``accountId``              appended to the artifact bucket's name, which must be unique in all
                           of S3 (none)
=========================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stacks.common.inputs import StackInput

# EC2 instance type per product and instanceSize. Protheus AppServers are memory-bound (the RPO
# and the per-connection threads), hence the r-family from "large"; RM runs on Windows/.NET.
INSTANCE_TYPES: dict[str, dict[str, str]] = {
    "protheus": {"small": "m6i.large", "medium": "m6i.xlarge", "large": "r6i.2xlarge", "xlarge": "r6i.4xlarge"},
    "fluig": {"small": "t3.large", "medium": "m6i.large", "large": "m6i.xlarge", "xlarge": "m6i.2xlarge"},
    "rm": {"small": "t3.xlarge", "medium": "m6i.xlarge", "large": "m6i.2xlarge", "xlarge": "m6i.4xlarge"},
}

# The dedicated Fluig Indexer (Solr) instance, used above INDEXER_CORE_MAX_USERS named users.
INDEXER_INSTANCE_TYPES = {"small": "r6i.large", "medium": "r6i.large", "large": "r6i.xlarge", "xlarge": "r6i.2xlarge"}

# Root volume (gp3, encrypted) per size: Protheus_Data, the RPO, Fluig's volume live there.
VOLUME_GB = {"small": 100, "medium": 200, "large": 400, "xlarge": 800}

# Golden images in sa-east-1 (placeholders of the platform's image pipeline; override with the
# ``amiIds`` setting). Protheus and Fluig run on Linux, RM on Windows Server.
AMIS = {"protheus": "ami-0protheus00000001", "fluig": "ami-0fluig0000000001", "rm": "ami-0rm000000000001"}
PLATFORMS = {"protheus": "linux", "fluig": "linux", "rm": "windows"}


@dataclass(frozen=True, slots=True)
class Engine:
    """An RDS engine as one product uses it."""

    engine: str
    version: str  # a major version prefix: RDS picks the latest minor (auto minor upgrades on)
    port: int
    db_name: str | None  # SQL Server takes no initial database name
    license_model: str | None = None


# Database engine per product. Protheus: PostgreSQL (supported by DBAccess since 12.1.2210, no
# licence cost); RM supports only SQL Server and Oracle: SQL Server Standard, licence included;
# Fluig: MySQL 8.
ENGINES: dict[str, Engine] = {
    "protheus": Engine("postgres", "16", 5432, "protheus"),
    "fluig": Engine("mysql", "8.0", 3306, "fluig"),
    "rm": Engine("sqlserver-se", "16.00", 1433, None, "license-included"),
}

# RDS instance class per engine and size (SQL Server SE has no burstable class in the sizes used).
_GRAVITON_CLASSES = {"small": "db.t4g.medium", "medium": "db.m6g.large", "large": "db.r6g.xlarge",
                     "xlarge": "db.r6g.2xlarge"}
DB_CLASSES: dict[str, dict[str, str]] = {
    "postgres": _GRAVITON_CLASSES,
    "mysql": _GRAVITON_CLASSES,
    "sqlserver-se": {"small": "db.m6i.large", "medium": "db.m6i.xlarge", "large": "db.r6i.xlarge",
                     "xlarge": "db.r6i.2xlarge"},
}
DB_STORAGE_GB = {"small": 50, "medium": 100, "large": 250, "xlarge": 500}
DB_STORAGE_GROWTH = 4  # storage autoscaling up to this multiple of the initial size
DB_USERNAME = "erpadmin"  # the password is generated and kept by RDS in Secrets Manager

# RDS's own automated backups: the point-in-time window that cloning (cloneFrom) restores from.
# AWS Backup keeps the retention the customer asked for.
DB_PITR_DAYS = {"PROD": 7, "QA": 1, "DEV": 1}


@dataclass(frozen=True, slots=True)
class Ports:
    """TCP ports a product's instance listens on."""

    web: int  # the HTTP(S) port the load balancer forwards to
    web_protocol: str  # HTTP or HTTPS, for the target group
    others: tuple[tuple[int, str], ...] = ()  # (port, what) reached directly, not through the LB


DEFAULT_FLUIG_HTTP_PORT = 8080


def product_ports(product: str, fluig_http_port: int | None = None) -> Ports:
    """Protheus: webapp 8080 and the AppServer's SmartClient port 1234. Fluig: the http port of
    its FLUIG service. RM: the portal on 443 and RM.Host's 8051."""
    if product == "protheus":
        return Ports(8080, "HTTP", ((1234, "Protheus AppServer (SmartClient)"),))
    if product == "fluig":
        return Ports(fluig_http_port or DEFAULT_FLUIG_HTTP_PORT, "HTTP")
    return Ports(443, "HTTPS", ((8051, "RM.Host"),))


# Nightly AWS Backup window, in the customer's timezone (UTC when it has none).
BACKUP_SCHEDULE = "cron(0 2 * * ? *)"
BACKUP_START_WINDOW_MINUTES = 60
BACKUP_COMPLETION_WINDOW_MINUTES = 360
# "não é possível excluir o backup automático após 30 dias ou mais (conforme configuração)": the
# seed's default retention when the spec sets none.
DEFAULT_AUTOMATIC_RETENTION_DAYS = 30

# AWS Budgets limits: notifications per budget and e-mail subscribers per notification.
BUDGET_MAX_NOTIFICATIONS = 5
BUDGET_MAX_EMAILS = 10

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
AGENT_COMMAND = "/opt/totvs/agent/bin/totvs-agent"


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """The ``pulumi.settings.aws`` of the repository, with the defaults of the table above."""

    vpc_id: str = "vpc-0123456789abcdef0"
    subnet_ids: tuple[str, ...] = ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2")
    allowed_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    ami_ids: tuple[tuple[str, str], ...] = ()
    platform_zone_id: str = "Z00000CLOUDTOTVSCOMBR"
    custom_zone_id: str = "Z00000CUSTOMERDOMAIN"
    platform_certificate_arn: str | None = None
    account_id: str | None = None

    @classmethod
    def of(cls, inp: StackInput) -> "AwsSettings":
        d = cls()
        settings = cls(
            vpc_id=inp.setting("vpcId", d.vpc_id),
            subnet_ids=tuple(inp.setting("subnetIds", d.subnet_ids)),
            allowed_cidrs=tuple(inp.setting("allowedCidrs", d.allowed_cidrs)),
            ami_ids=tuple(sorted(_mapping(inp.setting("amiIds")).items())),
            platform_zone_id=inp.setting("platformZoneId", d.platform_zone_id),
            custom_zone_id=inp.setting("customZoneId", d.custom_zone_id),
            platform_certificate_arn=inp.setting("platformCertificateArn"),
            account_id=_optional_str(inp.setting("accountId")),
        )
        if len(settings.subnet_ids) < 2:  # an RDS subnet group and an ALB both need two zones
            raise ValueError("AWS setting subnetIds needs at least two subnets, in different availability zones")
        return settings

    def ami(self, product: str) -> str:
        return dict(self.ami_ids).get(product, AMIS[product])

    def subnet(self, index: int) -> str:
        """Instances spread over the subnets (and so the zones) in turn."""
        return self.subnet_ids[index % len(self.subnet_ids)]


def _mapping(value: Any) -> dict[str, str]:
    return dict(value or {})


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
