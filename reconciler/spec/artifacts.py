"""Artifact files (patches, widgets, Fluig configuration): paths that must stay inside the repo.

An artifact path is relative to the repository root, written with '/', and may not be absolute,
climb with '..', or pass through a symlink that leads out of the repository. The file must exist
and be a regular file. Content digests (sha256) are what a plan binds; they are cached by the
file's size, modification time and inode, as git's index does.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from reconciler.model.diagnostics import Diagnostic, JsonPath, error

_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True, slots=True)
class ArtifactRef:
    path: JsonPath  # where the document names it
    file: str  # as written


def references(doc: dict[str, Any]) -> list[ArtifactRef]:
    """Every artifact an Environment document names (shapes may be wrong: be lenient)."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if not isinstance(spec, dict):
        return []
    refs: list[ArtifactRef] = []
    for key in ("patches", "widgets"):
        items = spec.get(key)
        for index, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                refs.append(ArtifactRef(("spec", key, index, "file"), item["file"]))
    config = spec.get("fluigConfig")
    if isinstance(config, dict):
        for key in ("standaloneXml", "standaloneConf"):
            if isinstance(config.get(key), str):
                refs.append(ArtifactRef(("spec", "fluigConfig", key), config[key]))
    return refs


def path_problem(file: str) -> str | None:
    """Why ``file`` is not an acceptable repository-relative path (pure; no file system)."""
    if not file or file.strip() != file:
        return "the path is empty or has surrounding spaces"
    if file.startswith(("/", "\\")) or _WINDOWS_ABSOLUTE.match(file):
        return "absolute paths are not allowed"
    if "\\" in file:
        return "use '/' to separate folders"
    parts = file.split("/")
    if ".." in parts:
        return "'..' would leave the repository"
    if any(part in ("", ".") for part in parts[:-1]) or parts[-1] in ("", "."):
        return "the path has empty or '.' segments"
    return None


class ArtifactStore:
    """File-system side of artifacts for one repository root."""

    def __init__(self, root: Path, digests: dict[str, list] | None = None):
        self.root = root.resolve()
        self._root_prefix = str(self.root) + os.sep
        self.digests: dict[str, list] = digests if digests is not None else {}  # rel -> [key, sha]
        self._this_run: dict[str, str] = {}  # many environments share an artifact: stat it once

    def check(self, ref: ArtifactRef) -> Diagnostic | None:
        problem = path_problem(ref.file)
        if problem:
            return error("artifact-path", f"artifact path '{ref.file}': {problem}", ref.path,
                         "write a path relative to the repository root, such as artifacts/widgets/portal.war")
        full = self.root / ref.file
        real = os.path.realpath(full)
        if real != str(self.root) and not real.startswith(self._root_prefix):
            return error("artifact-path", f"artifact '{ref.file}' resolves outside the repository (symlink?)",
                         ref.path, "artifacts must be files of the repository itself; copy the file in")
        if not os.path.isfile(real):
            what = "is a folder, not a file" if os.path.isdir(real) else "does not exist"
            return error("artifact-missing", f"artifact '{ref.file}' {what}", ref.path,
                         f"add the file to the repository at {ref.file} (paths are relative to the repository root)")
        return None

    def digest(self, file: str) -> str:
        """sha256 of an artifact, recomputed only when its stat key moved."""
        known = self._this_run.get(file)
        if known is not None:
            return known
        full = self.root / file
        stat = full.stat()
        key = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        cached = self.digests.get(file)
        if cached and cached[0] == key:
            self._this_run[file] = cached[1]
            return cached[1]
        sha = hashlib.sha256()
        with open(full, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        value = "sha256:" + sha.hexdigest()
        self.digests[file] = [key, value]
        self._this_run[file] = value
        return value

    def digests_for(self, files: Iterator[str] | tuple[str, ...]) -> dict[str, str]:
        return {file: self.digest(file) for file in files}

    def xml_problem(self, ref: ArtifactRef) -> Diagnostic | None:
        """A standalone.xml must at least be well-formed XML (a broken one takes Fluig down)."""
        import defusedxml.ElementTree as SafeET  # lazy: only Fluig configurations need it

        try:
            SafeET.parse(self.root / ref.file)
        except (SafeET.ParseError, ValueError) as exc:
            return error("fluig-config", f"'{ref.file}' is not well-formed XML: {exc}", ref.path,
                         "fix the file: a broken standalone.xml keeps JBoss, and so Fluig, from starting")
        except Exception as exc:  # defusedxml refuses entities and DTDs with its own errors
            return error("fluig-config", f"'{ref.file}' is refused: {exc}", ref.path,
                         "remove DTDs and entity declarations from standalone.xml")
        return None
