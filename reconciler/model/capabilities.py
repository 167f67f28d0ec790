"""The capability matrix: which product on which cloud can do which feature. Data, in one place.

The seed manual offers some screens only to AWS customers ("Configuração do Ambiente", "Alterar
Domínio", "Clonar Ambiente", "Gerenciar Backup" with retention) and some only to one product
(widgets for Fluig; environments, patches, RPO, updates, exclusive access and SFTP for Protheus).
Where our Azure stack really implements a feature the portal does not offer, the matrix says so
with ``Support.STACK``; validation, planning and the stacks all read this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

PRODUCTS = ("protheus", "fluig", "rm")
CLOUDS = ("aws", "azure", "intera")
TYPES = ("PROD", "QA", "DEV")


class Support(str, enum.Enum):
    PORTAL = "portal"  # offered by the portal (the seed manual)
    STACK = "stack"  # not in the portal, implemented by this project's stack for that cloud


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    title: str
    field: str  # top-level spec field that asks for the feature
    products: tuple[str, ...]
    clouds: dict[str, Support]
    why: str  # what the seed says, for the error message

    def supported(self, product: str, cloud: str) -> Support | None:
        if product not in self.products:
            return None
        return self.clouds.get(cloud)


_ALL_CLOUDS = {"aws": Support.PORTAL, "azure": Support.PORTAL, "intera": Support.PORTAL}
_AWS_PLUS_AZURE_STACK = {"aws": Support.PORTAL, "azure": Support.STACK}

FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("schedule", "working-hours schedule", "schedule", PRODUCTS, _AWS_PLUS_AZURE_STACK,
                "the environment configuration screen is for AWS customers; the Azure stack "
                "implements it with auto-shutdown and an automation start schedule"),
        Feature("costAlert", "cost predictability alert", "costAlert", PRODUCTS, _AWS_PLUS_AZURE_STACK,
                "the environment configuration screen is for AWS customers; the Azure stack "
                "implements it with a consumption budget"),
        Feature("domain", "access domain", "domain", PRODUCTS, _AWS_PLUS_AZURE_STACK,
                "'Alterar Domínio' is available only on AWS; the Azure stack implements it with "
                "DNS record sets"),
        Feature("clone", "clone from another topology", "cloneFrom", ("fluig",), {"aws": Support.PORTAL},
                "'Clonar Ambiente' is a Fluig action available only on AWS"),
        Feature("backupPolicy", "backup retention settings", "backup.retention", PRODUCTS,
                _AWS_PLUS_AZURE_STACK,
                "'Gerenciar Backup' sets retention on AWS; Intera shows the history only; the "
                "Azure stack implements retention with a Recovery Services policy"),
        Feature("backupDelete", "deleting manual backups", "backup.manual", PRODUCTS, _AWS_PLUS_AZURE_STACK,
                "manual backups can be deleted on AWS; Intera shows the history only"),
        Feature("manualBackup", "manual backups", "backup.manual", PRODUCTS, _ALL_CLOUDS,
                "'Realizar Backup' is available to every topology"),
        Feature("environments", "Protheus environments", "environments", ("protheus",), _ALL_CLOUDS,
                "'Gerenciar Environment' is a Protheus action"),
        Feature("patches", "patches", "patches", ("protheus",), _ALL_CLOUDS,
                "'Aplicar Patch' is a Protheus action"),
        Feature("updates", "Protheus updates", "updates", ("protheus",), _ALL_CLOUDS,
                "'Atualização do Protheus' updates DBAccess, CTree Server and the binary"),
        Feature("rpo", "RPO promotion", "rpo", ("protheus",), _ALL_CLOUDS,
                "'Promover RPO' is a Protheus action"),
        Feature("exclusiveAccess", "exclusive access", "exclusiveAccess", ("protheus",), _ALL_CLOUDS,
                "'Acesso Exclusivo' is a Protheus action"),
        Feature("sftp", "SFTP access to Protheus_Data", "sftp", ("protheus",), _ALL_CLOUDS,
                "SFTP serves the Protheus_Data folder"),
        Feature("widgets", "widgets", "widgets", ("fluig",), _ALL_CLOUDS,
                "'Aplicar Widget' is a Fluig action"),
        Feature("fluigConfig", "Fluig configuration files", "fluigConfig", ("fluig",), _ALL_CLOUDS,
                "'Configuração do Fluig' edits standalone.xml and standalone.conf"),
        Feature("users", "Fluig named users", "users", ("fluig",), _ALL_CLOUDS,
                "the Fluig Indexer runs on the core instance up to 30 users"),
    )
}

# Top-level spec fields that belong to one feature (for the "field not available" rule).
FIELD_FEATURES: dict[str, str] = {
    "schedule": "schedule",
    "costAlert": "costAlert",
    "domain": "domain",
    "cloneFrom": "clone",
    "environments": "environments",
    "patches": "patches",
    "updates": "updates",
    "rpo": "rpo",
    "exclusiveAccess": "exclusiveAccess",
    "sftp": "sftp",
    "widgets": "widgets",
    "fluigConfig": "fluigConfig",
    "users": "users",
}

# Services of each product's topology view (seed: "Ver Topologia").
SERVICES: dict[str, tuple[str, ...]] = {
    "protheus": ("ERP", "SCHEDULER", "PORTAIS", "WEBSERVICES", "COLETORES", "LICENSE_SERVER", "TSS"),
    "fluig": ("FLUIG", "FLUIG_CACHE", "FLUIG_INDEXER", "FLUIG_REALTIME", "LICENSE_SERVER"),
    "rm": ("RM", "RM_JOB_SERVER"),
}

# Protheus services whose AppServer INI can be edited (seed: "Editor de INI").
INI_SERVICES = ("ERP", "SCHEDULER", "PORTAIS", "WEBSERVICES", "COLETORES")

# Protheus services that share Protheus_Data and the RPO, so a PROD/QA patch reaches them.
# License Server and TSS OFFLINE 3.0 have their own structure and are left alone (rule 6).
RPO_SERVICES = INI_SERVICES

# INI parameters the operations team allows (rule 15). The section "$environment" stands for the
# section named after each Protheus environment of the topology.
INI_ALLOWED: dict[str, frozenset[str]] = {
    "General": frozenset({"MaxStringSize", "MaxQuerySize", "InactiveTimeout", "ConsoleLog",
                          "ConsoleMaxSize", "LogTimeStamp", "CtreeRootPath"}),
    "OnStart": frozenset({"RefreshRate"}),
    "WebApp": frozenset({"Enable", "WebSocket"}),
    "$environment": frozenset({"TopMemoMega", "RegionalLanguage", "DateFormat", "PictFormat",
                               "FWTraceLog", "SpecialKey", "TopDataBase"}),
}

WIDGET_EXTENSIONS = (".war", ".ear", ".jar")
PATCH_EXTENSIONS = (".ptm",)

# How the portal names each cloud in messages.
CLOUD_TITLES = {"aws": "AWS", "azure": "Azure", "intera": "Intera"}
PRODUCT_TITLES = {"protheus": "Protheus", "fluig": "Fluig", "rm": "RM"}

# Retention the seed protects from manual deletion (rule 11).
PROTECTED_RECENT_DAYS = 30
PROTECTED_MONTHLY_MONTHS = 12
PROTECTED_YEARLY_YEARS = 5

CLOUDTOTVS_ZONE = "cloudtotvs.com.br"  # the platform's own zone for subdomains
SFTP_PORT = 2323
INDEXER_CORE_MAX_USERS = 30


def support(feature: str, product: str, cloud: str) -> Support | None:
    return FEATURES[feature].supported(product, cloud)


def matrix() -> dict[str, dict[str, dict[str, str | None]]]:
    """The whole matrix as plain data (for docs and ``reconciler capabilities``)."""
    return {
        name: {p: {c: (lambda s: s.value if s else None)(f.supported(p, c)) for c in CLOUDS}
               for p in PRODUCTS}
        for name, f in FEATURES.items()
    }
