"""The validation cache: per file, what checking it found, keyed by its size, mtime and inode.

Stored as JSON (never pickle: a cache is data and must not be able to run code) outside the
repository, in the user's cache folder (``RECONCILER_CACHE_DIR`` overrides), one file per
repository root, so a pull request cannot ship a poisoned cache. The whole cache is dropped when
the reconciler's validation code or the schemas change (a fingerprint of their files).
"""

from __future__ import annotations

import hashlib
import orjson
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.model.diagnostics import Diagnostic, Severity
from reconciler.spec.repository import DocumentInfo

FORMAT = 2


@dataclass
class FileEntry:
    key: list
    documents: list[DocumentInfo]
    diagnostics: list[Diagnostic]


def cache_dir() -> Path:
    explicit = os.environ.get("RECONCILER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "erp-reconciler"


def _fingerprint() -> str:
    package = Path(__file__).resolve().parents[1]
    from reconciler.spec.schema import schema_dir

    parts = [__version__, str(FORMAT)]
    for folder in (package / "spec", package / "spec" / "rules", package / "model", schema_dir()):
        for path in sorted(folder.glob("*.*")):
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class ValidationCache:
    def __init__(self, path: Path | None, root: str, fingerprint: str, entries: dict[str, Any],
                 artifacts: dict[str, list]):
        self.path = path
        self.root = root
        self.fingerprint = fingerprint
        self.raw_entries = entries
        self.artifact_digests = artifacts
        self.misses = 0
        self._initial_artifacts = orjson.dumps(artifacts, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def empty(cls, root: Path) -> "ValidationCache":
        return cls(None, str(root.resolve()), "", {}, {})

    @classmethod
    def load(cls, root: Path) -> "ValidationCache":
        root_text = str(root.resolve())
        name = hashlib.sha256(root_text.encode()).hexdigest()[:20]
        path = cache_dir() / f"validate-{name}.json"
        fingerprint = _fingerprint()
        try:
            data = orjson.loads(path.read_bytes())
            if data.get("fingerprint") == fingerprint and data.get("root") == root_text:
                return cls(path, root_text, fingerprint, data.get("files", {}), data.get("artifacts", {}))
        except (OSError, ValueError, AttributeError, orjson.JSONDecodeError):
            pass  # no cache yet, or unreadable: start over
        return cls(path, root_text, fingerprint, {}, {})

    def get(self, rel: str, key: list) -> FileEntry | None:
        raw = self.raw_entries.get(rel)
        if raw is None or raw.get("key") != key:
            self.misses += 1
            return None
        try:
            return FileEntry(key, [_info(d) for d in raw["documents"]], [_diagnostic(d) for d in raw["diagnostics"]])
        except (KeyError, TypeError, ValueError):
            self.misses += 1
            return None

    def save(self, entries: dict[str, FileEntry]) -> None:
        if self.path is None:
            return
        if self.misses == 0 and set(entries) == set(self.raw_entries) and \
                orjson.dumps(self.artifact_digests, option=orjson.OPT_SORT_KEYS) == self._initial_artifacts:
            return  # nothing new to write
        files = {rel: self._raw(rel, e) for rel, e in entries.items() if e.key}
        payload = {"fingerprint": self.fingerprint, "root": self.root, "files": files,
                   "artifacts": self.artifact_digests}
        _write_atomically(self.path, orjson.dumps(payload))


    def _raw(self, rel: str, entry: FileEntry) -> dict:
        raw = self.raw_entries.get(rel)
        if raw is not None and raw.get("key") == entry.key:
            return raw  # unchanged: keep the stored form, no need to serialise it again
        return {"key": entry.key, "documents": [_info_data(d) for d in entry.documents],
                "diagnostics": [_diagnostic_data(d) for d in entry.diagnostics]}


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs speed next time


def _diagnostic_data(d: Diagnostic) -> list:
    return [d.severity.value, d.rule, d.message, d.hint, d.file, d.document, list(d.path), d.line, d.column,
            d.at_key]


def _diagnostic(data: list) -> Diagnostic:
    severity, rule, message, hint, file, document, path, line, column, at_key = data
    return Diagnostic(Severity(severity), rule, message, hint, file, document, tuple(path), line, column, at_key)


def _info_data(info: DocumentInfo) -> list:
    return list(info)


_LANGUAGES = DocumentInfo._fields.index("languages")
_ARTIFACTS = DocumentInfo._fields.index("artifacts")


def _info(row: list) -> DocumentInfo:
    # JSON gives lists; give back the tuples a fresh check makes (only where there is something)
    row[_LANGUAGES] = tuple(row[_LANGUAGES] or ())
    row[_ARTIFACTS] = tuple((tuple(path), file) for path, file in row[_ARTIFACTS] or ())
    return DocumentInfo._make(row)
