"""The input of every stack program: a validated Environment and what it needs around it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Mapping

from reconciler.model.spec import Customer, Environment


@dataclass(frozen=True)
class StackInput:
    """Everything a program reads. Programs never read files, clocks or Pulumi config directly,
    so the same input always declares the same resources."""

    environment: Environment
    customer: Customer | None = None
    artifacts: Mapping[str, str] = field(default_factory=dict)  # repo-relative path -> "sha256:<hex>"
    repo_root: str = "."  # where artifact files are read from when a real engine uploads them
    settings: Mapping[str, Any] = field(default_factory=dict)  # per-cloud settings (.reconciler.yaml: pulumi.settings)
    revision: str | None = None  # git commit of the specs, recorded as a tag
    documents: Mapping[str, Any] = field(default_factory=dict, compare=False)  # raw documents, for to_config

    @classmethod
    def from_documents(cls, environment: Mapping[str, Any], customer: Mapping[str, Any] | None = None,
                       **extra: Any) -> "StackInput":
        """From validated Environment (and Customer) documents as written in the repository."""
        return cls(Environment.from_document(environment),
                   Customer.from_document(customer) if customer else None,
                   documents={"environment": environment, "customer": customer}, **extra)

    def to_config(self) -> str:
        """The JSON a CLI-driven ``pulumi up`` in ``stacks/<cloud>`` reads from config ``erp:input``."""
        if not self.documents:
            raise ValueError("to_config needs a StackInput built with from_documents")
        return json.dumps({"environment": self.documents["environment"], "customer": self.documents.get("customer"),
                           "artifacts": dict(self.artifacts), "repoRoot": self.repo_root,
                           "settings": dict(self.settings), "revision": self.revision}, sort_keys=True)

    @classmethod
    def from_config(cls, text: str) -> "StackInput":
        data = json.loads(text)
        return cls.from_documents(data["environment"], data.get("customer"), artifacts=data.get("artifacts", {}),
                                  repo_root=data.get("repoRoot", "."), settings=data.get("settings", {}),
                                  revision=data.get("revision"))

    def artifact_digest(self, path: str) -> str:
        try:
            return self.artifacts[path]
        except KeyError:
            raise KeyError(f"artifact {path!r} of {self.environment.name} has no digest; "
                           "the reconciler hashes every artifact before running a program") from None

    def artifact_hex(self, path: str) -> str:
        return self.artifact_digest(path).split(":", 1)[-1]

    def artifact_file(self, path: str) -> str:
        return str(PurePosixPath(self.repo_root) / path)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)


def input_from_pulumi_config() -> StackInput:
    """For a stack's ``__main__.py`` run by the pulumi CLI: the input from config ``erp:input``."""
    import pulumi

    return StackInput.from_config(pulumi.Config("erp").require("input"))
