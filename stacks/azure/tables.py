"""Data of the Azure stack, per product and instance size: VM sizes, images, database SKUs, the
ports each product serves and the Windows names of the IANA time zones. Tables only, no resources.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model import capabilities as caps
from reconciler.model.spec import Environment

# Application VMs per product and ``instanceSize``. Fluig (JBoss) is memory-bound, so E-series;
# RM runs its .NET host on Windows, which needs one step more than Protheus for the same load.
APP_VM_SIZES: dict[str, dict[str, str]] = {
    "protheus": {"small": "Standard_D2s_v5", "medium": "Standard_D4s_v5", "large": "Standard_D8s_v5",
                 "xlarge": "Standard_D16s_v5"},
    "fluig": {"small": "Standard_E2s_v5", "medium": "Standard_E4s_v5", "large": "Standard_E8s_v5",
              "xlarge": "Standard_E16s_v5"},
    "rm": {"small": "Standard_D4s_v5", "medium": "Standard_D8s_v5", "large": "Standard_D16s_v5",
           "xlarge": "Standard_D32s_v5"},
}
# The dedicated Fluig Indexer (Solr) of topologies above 30 users: memory-optimised.
INDEXER_VM_SIZES = {"small": "Standard_E4s_v5", "medium": "Standard_E4s_v5", "large": "Standard_E8s_v5",
                    "xlarge": "Standard_E8s_v5"}


@dataclass(frozen=True, slots=True)
class Image:
    definition: str  # image definition in the platform's compute gallery
    os_type: str  # Linux | Windows
    os_disk_gb: int


# Specialized images of the platform's compute gallery, shared with the customer subscriptions:
# product binaries and the deployment agent are baked in, and a specialized image takes no
# os_profile, so no administrator password or key ever passes through the stack or its state.
# The product version is applied by the deployment agent (deployment document), not by the
# image, so a version change never replaces a VM (and its Protheus_Data).
IMAGES: dict[str, Image] = {
    "protheus": Image("protheus-appserver", "Linux", 128),
    "fluig": Image("fluig-platform", "Linux", 128),
    "rm": Image("rm-host", "Windows", 256),
}
INDEXER_IMAGE = Image("fluig-indexer", "Linux", 128)
DEFAULT_IMAGE_GALLERY = "totvscloud-erp-images"  # settings: imageGallery

# Azure SQL (Protheus, RM): vCores of General Purpose Gen5 per instance size.
SQL_VCORES = {"small": 2, "medium": 4, "large": 8, "xlarge": 16}
# DBAccess needs a binary collation; RM is case and accent insensitive.
SQL_COLLATIONS = {"protheus": "Latin1_General_BIN", "rm": "SQL_Latin1_General_CP1_CI_AI"}
SQL_DATABASE_NAMES = {"protheus": "protheus", "rm": "corpore"}


@dataclass(frozen=True, slots=True)
class MySqlSku:
    name: str
    tier: str


# MySQL flexible server (Fluig) per instance size.
MYSQL_SKUS = {"small": MySqlSku("Standard_B2ms", "Burstable"), "medium": MySqlSku("Standard_D2ds_v4", "GeneralPurpose"),
              "large": MySqlSku("Standard_D4ds_v4", "GeneralPurpose"),
              "xlarge": MySqlSku("Standard_D8ds_v4", "GeneralPurpose")}
MYSQL_VERSION = "8.0.21"
MYSQL_STORAGE_GB = 128

# Azure keeps database point-in-time backups 1 to 35 days, VM backups at least 7 days daily.
DB_RETENTION_RANGE = (1, 35)
VM_BACKUP_MIN_DAYS = 7
DEFAULT_AUTOMATIC_RETENTION_DAYS = caps.PROTECTED_RECENT_DAYS
DEFAULT_MANUAL_RETENTION_DAYS = caps.PROTECTED_RECENT_DAYS


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    number: int


FLUIG_DEFAULT_HTTP_PORT = 8080


def app_ports(env: Environment) -> tuple[Port, ...]:
    """The ports the product serves to its users; the first one is the health probe's."""
    if env.product == "protheus":
        ports = [Port("appserver", 1234), Port("webapp", 8080), Port("https", 443)]
    elif env.product == "fluig":
        ports = [Port("http", fluig_http_port(env)), Port("https", 443)]
    else:
        ports = [Port("rm-host", 8051), Port("https", 443)]
    if env.sftp_enabled and caps.support("sftp", env.product, "azure"):
        ports.append(Port("sftp", caps.SFTP_PORT))
    unique: dict[int, Port] = {}
    for port in ports:
        unique.setdefault(port.number, port)
    return tuple(unique.values())


def fluig_http_port(env: Environment) -> int:
    for service in env.services:
        if service.name == "FLUIG" and service.http_port:
            return service.http_port
    return FLUIG_DEFAULT_HTTP_PORT


# IANA -> Windows time zone ids, for DevTest Labs auto-shutdown (which takes Windows ids only).
# A zone missing here is still scheduled, by Automation schedules, which take IANA names.
WINDOWS_TIME_ZONES = {
    "America/Sao_Paulo": "E. South America Standard Time",
    "America/Bahia": "Bahia Standard Time",
    "America/Fortaleza": "SA Eastern Standard Time",
    "America/Recife": "SA Eastern Standard Time",
    "America/Belem": "SA Eastern Standard Time",
    "America/Maceio": "SA Eastern Standard Time",
    "America/Araguaina": "Tocantins Standard Time",
    "America/Manaus": "SA Western Standard Time",
    "America/Cuiaba": "Central Brazilian Standard Time",
    "America/Campo_Grande": "Central Brazilian Standard Time",
    "America/Porto_Velho": "SA Western Standard Time",
    "America/Boa_Vista": "SA Western Standard Time",
    "America/Rio_Branco": "SA Pacific Standard Time",
    "America/Noronha": "UTC-02",
    "America/Argentina/Buenos_Aires": "Argentina Standard Time",
    "America/Montevideo": "Montevideo Standard Time",
    "America/Asuncion": "Paraguay Standard Time",
    "America/Santiago": "Pacific SA Standard Time",
    "America/Bogota": "SA Pacific Standard Time",
    "America/Lima": "SA Pacific Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)",
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Denver": "Mountain Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "Europe/Lisbon": "GMT Standard Time",
    "Europe/London": "GMT Standard Time",
    "Europe/Madrid": "Romance Standard Time",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}

# Built-in role definitions (their ids are the same in every tenant).
ROLE_VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
ROLE_STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
ROLE_BACKUP_OPERATOR = "00c29273-979b-4161-815c-10b084fb9324"
