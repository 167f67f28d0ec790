"""Settings of the ``pulumi`` engine, and the pure builders of what the Automation API is given.

``PulumiSettings.from_config`` resolves, once per engine, the ``pulumi:`` section of
``.reconciler.yaml`` and the environment into a frozen value::

    pulumi:
      backendUrl: file://.reconciler/pulumi   # default; or s3://..., azblob://..., https://api.pulumi.com
      secretsProvider: passphrase             # default; or awskms://..., azurekeyvault://..., gcpkms://...
      workDir: .reconciler/pulumi-work        # default: one sub-folder per project and stack
      parallel: 10                            # resource operations at once (default: Pulumi's own)
      refresh: true                           # refresh the stack before each preview and up (default)
      plugins: {aws: v7.51.1, azure-native: {version: v3.29.0, server: https://mirror.example/}}
      config: {aws: {aws:skipMetadataApiCheck: true, aws:profile: erp}}   # extra stack config per cloud
      settings: {intera: {endpoint: ...}}     # program settings: StackInput.settings (not read here)

By priority: environment variable (``PULUMI_BACKEND_URL``), the file, the default. The
passphrase of the ``passphrase`` secrets provider is *never* read into these settings or written
anywhere: it stays in ``PULUMI_CONFIG_PASSPHRASE`` (or the file ``PULUMI_CONFIG_PASSPHRASE_FILE``
names), which the CLI inherits; only its presence is checked, so that a missing passphrase is a
clear ``ConfigError`` before any stack is touched instead of a CLI failure halfway.

The builders below (project settings, workspace options, stack config, CLI environment) are
pure: tests assert on the exact Automation API objects the engine hands to Pulumi.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from reconciler.errors import ConfigError
from stacks import PROGRAMS

if TYPE_CHECKING:
    from pulumi import automation as auto

    from reconciler.config import RepoConfig

KNOWN_KEYS = ("backendUrl", "secretsProvider", "workDir", "parallel", "refresh", "plugins", "config", "settings")
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"
BACKEND_ENV = "PULUMI_BACKEND_URL"
SECRETS_SCHEMES = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://")
# The stack config key each cloud's region goes to; it always comes from the spec (spec.region).
REGION_KEYS = {"aws": "aws:region", "azure": "azure-native:location"}
# Which cloud each provider plugin serves: pinned plugins are installed only for the jobs of their
# cloud (azure-native alone is hundreds of megabytes); a plugin named here for no cloud is
# installed for every job.
PLUGIN_CLOUDS = {"aws": "aws", "azure-native": "azure"}
# The folder holding the ``stacks`` package: dynamic providers (Intera) are unpickled by
# reference in a separate Python process, which must be able to import ``stacks.intera.provider``.
CODE_ROOT = Path(__file__).resolve().parents[2]
_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")


@dataclass(frozen=True)
class ConfigEntry:
    """One stack config value as the CLI takes it: text, possibly secret (encrypted in the stack)."""

    value: str
    secret: bool = False


@dataclass(frozen=True)
class PluginPin:
    name: str
    version: str  # always "v" + semver
    server: str | None = None  # a plugin mirror (pulumi plugin install --server)


@dataclass(frozen=True)
class PulumiSettings:
    backend_url: str
    work_dir: Path
    repo_root: Path
    secrets_provider: str = "passphrase"
    passphrase_file: str | None = None  # absolute path of PULUMI_CONFIG_PASSPHRASE_FILE, when used
    stack_config: Mapping[str, Mapping[str, ConfigEntry]] = field(default_factory=dict)  # cloud -> key -> value
    plugins: tuple[PluginPin, ...] = ()
    parallel: int | None = None
    refresh: bool = True
    code_root: Path = CODE_ROOT
    python: str = sys.executable  # the interpreter dynamic providers run with

    @classmethod
    def from_config(cls, config: "RepoConfig", environ: Mapping[str, str] | None = None) -> "PulumiSettings":
        env = os.environ if environ is None else environ
        section = dict(config.pulumi or {})
        _check_keys(section)
        backend = resolve_backend_url(config.root, config.state_dir, section.get("backendUrl"), env)
        provider = _secrets_provider(section.get("secretsProvider"))
        passphrase_file = check_passphrase(env) if needs_passphrase(provider, backend) else None
        ensure_local_backend(backend)
        return cls(backend_url=backend, work_dir=_work_dir(config, section.get("workDir")), repo_root=config.root,
                   secrets_provider=provider, passphrase_file=passphrase_file,
                   stack_config=parse_stack_config(section.get("config")),
                   plugins=parse_plugins(section.get("plugins")),
                   parallel=_parallel(section.get("parallel")), refresh=_flag(section.get("refresh", True), "refresh"))

    def stack_work_dir(self, project: str, stack: str) -> Path:
        """One folder per stack: its ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` (config and the
        passphrase salt) are never written by two jobs at once."""
        return self.work_dir / project / stack

    def plugins_for(self, cloud: str) -> tuple[PluginPin, ...]:
        return tuple(p for p in self.plugins if PLUGIN_CLOUDS.get(p.name, cloud) == cloud)


# ---------------------------------------------------------------------------------------------
# Resolution of single settings

def _check_keys(section: Mapping[str, Any]) -> None:
    unknown = sorted(set(section) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f".reconciler.yaml: unknown pulumi setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(KNOWN_KEYS)}")


def resolve_backend_url(root: Path, state_dir: Path, configured: Any, environ: Mapping[str, str]) -> str:
    """``PULUMI_BACKEND_URL``, else ``pulumi.backendUrl``, else a local backend under ``.reconciler``.
    A relative ``file://`` path is taken from the repository root, not from wherever the
    reconciler (or the CLI, which runs in the work dir) happens to be started."""
    raw = environ.get(BACKEND_ENV) or configured
    if not raw:
        return f"file://{state_dir / 'pulumi'}"
    if not isinstance(raw, str) or "://" not in raw:
        raise ConfigError(f"pulumi.backendUrl must be a URL such as file://<folder>, s3://<bucket> or "
                          f"https://api.pulumi.com, not {raw!r}")
    if raw.startswith("file://"):
        path, sep, query = raw[len("file://"):].partition("?")
        if path and not path.startswith(("/", "~")):
            return f"file://{root / path}{sep}{query}"
    return raw


def local_backend_dir(url: str) -> Path | None:
    """The folder of a ``file://`` backend (None for any other backend)."""
    if not url.startswith("file://"):
        return None
    path = url[len("file://"):].partition("?")[0]
    return Path(path).expanduser() if path else None


def ensure_local_backend(url: str) -> None:
    """The CLI refuses to log in to a ``file://`` folder that does not exist."""
    folder = local_backend_dir(url)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the Pulumi state folder {folder}: {exc}") from exc


def _secrets_provider(value: Any) -> str:
    provider = value or "passphrase"
    if not isinstance(provider, str) or not (provider in ("passphrase", "default")
                                             or provider.startswith(SECRETS_SCHEMES)):
        raise ConfigError(f"pulumi.secretsProvider must be passphrase, default or a URL starting with "
                          f"{', '.join(SECRETS_SCHEMES)}; not {provider!r}")
    return provider


def needs_passphrase(provider: str, backend_url: str) -> bool:
    """``default`` means the Pulumi Cloud's own encryption on its backend, a passphrase elsewhere."""
    if provider == "passphrase":
        return True
    return provider == "default" and not backend_url.startswith(("https://", "http://"))


def check_passphrase(environ: Mapping[str, str]) -> str | None:
    """Check, as the CLI does, that a passphrase is available; return the absolute path of the
    passphrase file when that is how it is given (the CLI runs in another folder)."""
    if PASSPHRASE_ENV in environ:
        return None  # set, even to "": the CLI accepts an empty passphrase when it is explicit
    file = environ.get(PASSPHRASE_FILE_ENV)
    if file:
        path = Path(file).expanduser().resolve()
        if not path.is_file() or not os.access(path, os.R_OK):
            raise ConfigError(f"{PASSPHRASE_FILE_ENV} names {path}, which is not a readable file")
        return str(path)
    raise ConfigError(
        "the pulumi engine encrypts stack secrets with a passphrase, and none is set: export "
        f"{PASSPHRASE_ENV} (or {PASSPHRASE_FILE_ENV} naming a file that holds it) before running, or set "
        "pulumi.secretsProvider in .reconciler.yaml to a key service (awskms://..., azurekeyvault://...). "
        "The passphrase is never written to .reconciler.yaml.")


def _work_dir(config: "RepoConfig", configured: Any) -> Path:
    if configured is None:
        return config.state_dir / "pulumi-work"
    path = Path(str(configured)).expanduser()
    return path if path.is_absolute() else config.root / path


def _parallel(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"pulumi.parallel must be a whole number of at least 1, not {value!r}")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"pulumi.{key} must be true or false, not {value!r}")
    return value


def parse_plugins(value: Any) -> tuple[PluginPin, ...]:
    """``{name: version}`` or ``{name: {version, server}}``, versions with or without the "v"."""
    if not value:
        return ()
    if not isinstance(value, Mapping):
        raise ConfigError("pulumi.plugins must map plugin names to versions, e.g. {aws: v7.51.1}")
    return tuple(_plugin(str(name), spec) for name, spec in sorted(value.items()))


def _plugin(name: str, spec: Any) -> PluginPin:
    version, server = (spec.get("version"), spec.get("server")) if isinstance(spec, Mapping) else (spec, None)
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ConfigError(f"pulumi.plugins.{name}: {version!r} is not a version such as v7.51.1")
    if server is not None and not (isinstance(server, str) and "://" in server):
        raise ConfigError(f"pulumi.plugins.{name}.server must be a URL, not {server!r}")
    return PluginPin(name, version if version.startswith("v") else f"v{version}", server)


def parse_stack_config(value: Any) -> dict[str, dict[str, ConfigEntry]]:
    """``{cloud: {key: value | {value, secret}}}``. The region keys are refused here: the region
    of a stack is its environment's ``spec.region``, never a repository-wide setting."""
    if not value:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise ConfigError("pulumi.config must map each cloud to its stack config, e.g. {aws: {aws:profile: erp}}")
    unknown = sorted(set(value) - set(PROGRAMS))
    if unknown:
        raise ConfigError(f"pulumi.config: unknown cloud(s) {', '.join(unknown)}; known: {', '.join(PROGRAMS)}")
    return {cloud: {str(k): _config_entry(cloud, str(k), v) for k, v in entries.items()}
            for cloud, entries in value.items()}


def _config_entry(cloud: str, key: str, value: Any) -> ConfigEntry:
    if ":" not in key:  # the CLI would store "<project>:key", and the stack would never match
        raise ConfigError(f"pulumi.config.{cloud}: {key!r} needs a namespace, such as aws:{key}")
    if key == REGION_KEYS.get(cloud):
        raise ConfigError(f"pulumi.config.{cloud}: {key} comes from each environment's spec.region; remove it")
    secret = False
    if isinstance(value, Mapping) and set(value) <= {"value", "secret"}:  # else: a structured value
        if "value" not in value:
            raise ConfigError(f"pulumi.config.{cloud}.{key}: use a plain value or {{value: ..., secret: true}}")
        value, secret = value["value"], _flag(value.get("secret", False), f"config.{cloud}.{key}.secret")
    return ConfigEntry(config_text(value), secret)


def config_text(value: Any) -> str:
    """Pulumi config values are text: booleans as true/false, structures as JSON (which
    ``pulumi.Config.get_object`` reads back)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# Pure builders of the Automation API objects

def stack_config(settings: PulumiSettings, cloud: str, region: str | None) -> dict[str, ConfigEntry]:
    """The whole config of a stack: the repository's extra config for its cloud, and the region of
    its spec (aws:region, azure-native:location; Intera's programs take none)."""
    config = dict(settings.stack_config.get(cloud, {}))
    if region and cloud in REGION_KEYS:
        config[REGION_KEYS[cloud]] = ConfigEntry(region)
    return config


def config_changes(current: Mapping[str, "auto.ConfigValue"],
                   desired: Mapping[str, ConfigEntry]) -> tuple[dict[str, ConfigEntry], list[str]]:
    """What to set and what to remove so that a stack's config is exactly ``desired`` (a key
    dropped from .reconciler.yaml must not linger in the stack)."""
    to_set = {k: v for k, v in desired.items()
              if k not in current or (current[k].value, bool(current[k].secret)) != (v.value, v.secret)}
    to_remove = sorted(k for k in current if k not in desired)
    return to_set, to_remove


def config_map(entries: Mapping[str, ConfigEntry]) -> dict[str, "auto.ConfigValue"]:
    from pulumi import automation as auto

    return {k: auto.ConfigValue(value=v.value, secret=v.secret) for k, v in entries.items()}


def cli_environment(settings: PulumiSettings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables added to every CLI command (on top of the inherited environment,
    which is where the passphrase and cloud credentials come from)."""
    env = os.environ if environ is None else environ
    path = os.pathsep.join(p for p in (str(settings.code_root), env.get("PYTHONPATH", "")) if p)
    out = {
        BACKEND_ENV: settings.backend_url,  # the resolved backend wins over any other login
        "PULUMI_SKIP_UPDATE_CHECK": "true",  # no network call to pulumi.com on every command
        "PULUMI_PYTHON_CMD": settings.python,  # dynamic providers: the interpreter that has `stacks`
        "PYTHONPATH": path,
    }
    if settings.passphrase_file:
        out[PASSPHRASE_FILE_ENV] = settings.passphrase_file
    return out


def project_settings(settings: PulumiSettings, project: str) -> "auto.ProjectSettings":
    """``Pulumi.yaml`` of an inline program: the backend is pinned in the project itself, so no
    ``pulumi login`` state of the machine decides where stacks live. ``main`` is the GitOps
    repository: relative artifact paths resolve there."""
    from pulumi import automation as auto

    return auto.ProjectSettings(name=project, runtime="python", main=str(settings.repo_root),
                                description=f"{project}: ERP environments managed by erp-gitops-reconciler",
                                backend=auto.ProjectBackend(url=settings.backend_url))


def workspace_options(settings: PulumiSettings, project: str, stack: str,
                      program: Callable[[], None] | None,
                      environ: Mapping[str, str] | None = None) -> "auto.LocalWorkspaceOptions":
    from pulumi import automation as auto

    return auto.LocalWorkspaceOptions(
        work_dir=str(settings.stack_work_dir(project, stack)), program=program,
        project_settings=project_settings(settings, project), secrets_provider=settings.secrets_provider,
        env_vars=cli_environment(settings, environ))
