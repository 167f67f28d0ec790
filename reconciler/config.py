"""The repository's configuration file, ``.reconciler.yaml``, and how the repository root is found.

The root of a GitOps repository is the nearest folder, from the given path upwards, that holds
``.reconciler.yaml``; failing that, the top of the git work tree; failing that, the path itself.
Artifact paths of the specs are relative to that root, and state lives under ``.reconciler/``.

Settings come, by priority: command-line option, environment variable (``RECONCILER_*``), this
file, built-in default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml_rs

from reconciler.errors import ConfigError

CONFIG_FILE = ".reconciler.yaml"
STATE_DIR = ".reconciler"
_KEYS = {"engine", "state", "allowDestroy", "maxDestroyFraction", "exclude", "sandbox", "pulumi",
         "actor", "lockTimeout", "parallel"}


@dataclass(frozen=True)
class RepoConfig:
    root: Path
    engine: str = "sandbox"
    state: str | None = None
    allow_destroy: bool = False
    max_destroy_fraction: float = 0.5
    exclude: tuple[str, ...] = ()
    sandbox: dict[str, Any] = field(default_factory=dict)
    pulumi: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    lock_timeout: float = 30.0
    parallel: int = 4

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def state_url(self, override: str | None = None) -> str:
        """The state store URL: option, RECONCILER_STATE, config file, else SQLite under .reconciler/."""
        value = override or os.environ.get("RECONCILER_STATE") or self.state
        if not value:
            return f"sqlite:///{self.state_dir / 'state.db'}"
        if "://" not in value:  # a plain path, relative to the repository root
            path = Path(value)
            return f"sqlite:///{path if path.is_absolute() else self.root / path}"
        return value

    def engine_name(self, override: str | None = None) -> str:
        return override or os.environ.get("RECONCILER_ENGINE") or self.engine


def find_root(start: Path) -> Path:
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
        if (candidate / ".git").exists():
            return candidate
    return folder


def load_config(root: Path) -> RepoConfig:
    path = root / CONFIG_FILE
    if not path.is_file():
        return RepoConfig(root=root)
    try:
        data = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False) or {}
    except (yaml_rs.YAMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    return _from_mapping(root, data, path)


def _from_mapping(root: Path, data: dict, path: Path) -> RepoConfig:
    try:
        return RepoConfig(
            root=root, engine=str(data.get("engine", "sandbox")), state=data.get("state"),
            allow_destroy=_bool(data.get("allowDestroy", False), "allowDestroy", path),
            max_destroy_fraction=float(data.get("maxDestroyFraction", 0.5)),
            exclude=tuple(str(x) for x in data.get("exclude", ()) or ()),
            sandbox=dict(data.get("sandbox") or {}), pulumi=dict(data.get("pulumi") or {}),
            actor=data.get("actor"), lock_timeout=float(data.get("lockTimeout", 30.0)),
            parallel=int(data.get("parallel", 4)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _bool(value: Any, key: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: '{key}' must be true or false, not {value!r}")
    return value
