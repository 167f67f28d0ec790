"""Rules 5, 6, 7 (in-document part), 9 and 10: Protheus environments, patches, RPO, exclusive access."""

from __future__ import annotations

import re
from typing import Iterator

from reconciler.model import capabilities as caps
from reconciler.model.diagnostics import Diagnostic, error, warning
from reconciler.spec.rules import document_rule

_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,29}$")


def _is_protheus(doc: dict) -> bool:
    return doc["spec"].get("product") == "protheus"


@document_rule("Environment")
def protheus_environments(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    if not _is_protheus(doc):
        return
    envs = spec.get("environments") or []
    if not envs:
        yield warning("environment-none", "this Protheus topology declares no environment",
                      ("spec",), "add spec.environments, e.g. [{name: P12, language: pt}]")
    yield from _names(envs)
    if spec.get("type") in ("PROD", "QA"):
        yield from _one_per_language(envs, spec["type"])


def _names(envs: list) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    names = {str(e.get("name", "")).upper() for e in envs}
    for index, env in enumerate(envs):
        name, path = env["name"], ("spec", "environments", index)
        if not _ENV_NAME.match(name):
            yield error("environment-name", f"'{name}' is not a valid Protheus environment name",
                        path + ("name",), "start with a letter; then letters, digits or '_' (30 at most)")
        key = name.upper()  # the AppServer INI is case-insensitive
        if key in seen:
            yield error("environment-unique", f"environment '{name}' is declared twice (also item {seen[key] + 1})",
                        path + ("name",), "environment names are case-insensitive; rename one")
        seen.setdefault(key, index)
        old = env.get("renamedFrom")
        if old is not None and str(old).upper() in names:
            yield error("environment-rename", f"'{name}' is renamed from '{old}', which is still declared",
                        path + ("renamedFrom",), f"remove the environment '{old}' or the renamedFrom")


def _one_per_language(envs: list, kind: str) -> Iterator[Diagnostic]:
    first: dict[str, str] = {}
    for index, env in enumerate(envs):
        language = env["language"]
        if language in first:
            yield error("environment-per-language",
                        f"a {kind} topology allows one environment per language; '{env['name']}' "
                        f"repeats language '{language}' of '{first[language]}'",
                        ("spec", "environments", index, "language"),
                        "use one environment per language (pt, es, en) on PROD and QA; DEV allows many")
        first.setdefault(language, env["name"])


@document_rule("Environment")
def patches(doc: dict) -> Iterator[Diagnostic]:
    spec = doc["spec"]
    if not _is_protheus(doc):
        return
    envs = {e["name"]: e["language"] for e in spec.get("environments") or []}
    languages = set(envs.values())
    for index, patch in enumerate(spec.get("patches") or []):
        path = ("spec", "patches", index)
        yield from _patch_source(patch, path)
        if spec.get("type") == "DEV":
            yield from _dev_target(patch, path, envs)
        else:
            yield from _by_language_target(patch, path, languages, spec.get("type"))


def _patch_source(patch: dict, path: tuple) -> Iterator[Diagnostic]:
    has_file, has_catalog = "file" in patch, "catalog" in patch
    if has_file == has_catalog:
        yield error("patch-source", "a patch needs exactly one source: 'file' or 'catalog'", path,
                    "write file: <path of a .ptm in the repo>, or catalog: <id of the portal's catalog>")
    if has_file and not str(patch["file"]).lower().endswith(caps.PATCH_EXTENSIONS):
        yield error("patch-extension", f"'{patch['file']}' is not a .ptm patch file", path + ("file",),
                    "Protheus patches are .ptm files")


def _by_language_target(patch: dict, path: tuple, languages: set, kind: str) -> Iterator[Diagnostic]:
    for key in ("environments", "services"):
        if key in patch:
            yield error("patch-target",
                        f"on {kind} a patch reaches every service of its language; '{key}' cannot choose",
                        path + (key,), f"remove '{key}' and set 'language'; targeting is for DEV topologies")
    language = patch.get("language")
    if language is None:
        yield error("patch-language", f"a patch on {kind} must say its language", path,
                    "add language: pt, es or en")
    elif language not in languages:
        yield error("patch-language", f"no environment of this topology has language '{language}'",
                    path + ("language",), "add an environment in that language, or change the patch's language")


def _dev_target(patch: dict, path: tuple, envs: dict[str, str]) -> Iterator[Diagnostic]:
    targets = patch.get("environments")
    if not targets:
        yield error("patch-target", "on DEV a patch must name the environments it targets", path,
                    "add environments: [<name>, ...] naming environments of this topology")
        return
    for index, name in enumerate(targets):
        if name not in envs:
            known = ", ".join(sorted(envs)) or "none"
            yield error("patch-target", f"patch targets environment '{name}', which is not declared",
                        path + ("environments", index), f"declared environments: {known}")
        elif patch.get("language") and envs[name] != patch["language"]:
            yield error("patch-language",
                        f"environment '{name}' has language '{envs[name]}', not '{patch['language']}'",
                        path + ("language",), "drop 'language' on DEV or make it match the environments")


@document_rule("Environment")
def rpo_and_access(doc: dict) -> Iterator[Diagnostic]:
    spec, name = doc["spec"], doc["metadata"].get("name")
    if (spec.get("rpo") or {}).get("promoteFrom") == name:
        yield error("rpo-source", "a topology cannot promote the RPO from itself", ("spec", "rpo", "promoteFrom"),
                    "name the source topology (for example the QA one)")
    if spec.get("exclusiveAccess") is True:
        yield warning("exclusive-access", "exclusive access is on: user connections and job threads are blocked",
                      ("spec", "exclusiveAccess"), "set it back to false once the dictionary change is done")
