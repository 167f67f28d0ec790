"""Validation of a repository: files in, every diagnostic and a summary of each document out.

Per file (cached by size, mtime and inode): load, schema, document rules, local positions.
Per run: artifact checks (the file system may have moved), cross-document rules, and positions
for the findings of those two, then one sorted list. Nothing here raises for bad content.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from reconciler.model.diagnostics import Diagnostic, error, has_errors
from reconciler.perf import collector_paused
from reconciler.spec import schema
from reconciler.spec.artifacts import ArtifactRef, ArtifactStore, references
from reconciler.spec.cache import FileEntry, ValidationCache
from reconciler.spec.loader import (DEFAULT_LIMITS, Limits, LoadedFile, SourceDocument, file_too_large, load_bytes,
                                    shape_problem)
from reconciler.spec.repository import DocumentInfo, check_repository
from reconciler.spec.rules import run_document_rules
from reconciler.spec.walk import SpecFile, find_spec_files

if TYPE_CHECKING:
    from reconciler.spec.positions import PositionIndex


@dataclass
class ValidationResult:
    root: Path
    files: list[str]
    documents: list[DocumentInfo]
    diagnostics: list[Diagnostic]
    artifacts: ArtifactStore
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def environments(self) -> list[DocumentInfo]:
        return [d for d in self.documents if d.kind == "Environment"]

    def customers(self) -> list[DocumentInfo]:
        return [d for d in self.documents if d.kind == "Customer"]

    def invalid_documents(self) -> set[tuple[str, int]]:
        return {(d.file, d.document) for d in self.diagnostics if d.is_error}


def validate(paths: Sequence[Path], root: Path, *, exclude: Iterable[str] = (),
             limits: Limits = DEFAULT_LIMITS, use_cache: bool = True, workers: int | None = None) -> ValidationResult:
    """Validate the spec files under ``paths`` of the repository at ``root``."""
    with collector_paused():
        return _validate(paths, root, exclude, limits, use_cache, workers)


def _validate(paths: Sequence[Path], root: Path, exclude: Iterable[str], limits: Limits, use_cache: bool,
              workers: int | None) -> ValidationResult:
    files = find_spec_files(paths, root, exclude)
    cache = ValidationCache.load(root) if use_cache else ValidationCache.empty(root)
    entries = _check_files(files, cache, limits, workers)
    documents = [doc for entry in entries.values() for doc in entry.documents]
    diagnostics = [d for entry in entries.values() for d in entry.diagnostics]
    artifacts = ArtifactStore(root, cache.artifact_digests)
    late = list(_artifact_findings(documents, artifacts)) + list(check_repository(documents))
    diagnostics += _place(late, {f.rel: f for f in files}, documents)
    if use_cache:
        cache.save(entries)
    stats = {"files": len(files), "documents": len(documents), "parsed": cache.misses}
    return ValidationResult(root, [f.rel for f in files], documents,
                            sorted(diagnostics, key=Diagnostic.sort_key), artifacts, stats)


# Below this many files to parse, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 1500


def _check_files(files: list[SpecFile], cache: ValidationCache, limits: Limits,
                 workers: int | None) -> dict[str, FileEntry]:
    entries: dict[str, FileEntry] = {}
    todo: list[tuple[SpecFile, list]] = []
    for spec_file in files:
        key = spec_file.key
        cached = cache.get(spec_file.rel, key) if key else None
        if cached is not None:
            entries[spec_file.rel] = cached
        else:
            todo.append((spec_file, key))
    workers = _worker_count(len(todo)) if workers is None else workers
    if workers > 1:
        fresh = _check_in_pool(todo, limits, workers)
    else:
        fresh = [_read_and_check(spec_file, key, limits) for spec_file, key in todo]
    entries.update((spec_file.rel, entry) for (spec_file, _), entry in zip(todo, fresh))
    return {f.rel: entries[f.rel] for f in files}


def _worker_count(todo: int) -> int:
    # fork is only safe while this process runs no other thread (the CLI, not the daemon)
    if todo < PARALLEL_THRESHOLD or threading.active_count() > 1 or sys.platform != "linux":
        return 1
    return min(os.cpu_count() or 1, 8)


def _check_in_pool(todo: list[tuple[SpecFile, list]], limits: Limits, workers: int) -> list[FileEntry]:
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(todo) // (workers * 4))
    with context.Pool(workers) as pool:
        return pool.starmap(_read_and_check, [(f, key, limits) for f, key in todo], chunksize=chunk)


def _read_and_check(spec_file: SpecFile, key: list | None, limits: Limits) -> FileEntry:
    if key is None or key[0] > limits.max_file_bytes:
        if key is None:
            return FileEntry([], [], [error("file-unreadable", "cannot read the file").at(spec_file.rel, 0)
                                      .located(1, 1)])
        return FileEntry(key, [], [file_too_large(key[0], limits).at(spec_file.rel, 0)])  # never read it
    try:
        with open(spec_file.path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return FileEntry([], [], [error("file-unreadable", f"cannot read the file: {exc.strerror}")
                                  .at(spec_file.rel, 0).located(1, 1)])
    return check_file(spec_file.rel, raw, limits, key)


def check_file(rel: str, raw: bytes, limits: Limits = DEFAULT_LIMITS, key: list | None = None) -> FileEntry:
    """Load and check one file's content on its own (no artifacts, no other documents)."""
    loaded = load_bytes(rel, raw, limits)
    diagnostics = list(loaded.diagnostics)
    infos: list[DocumentInfo] = []
    for doc in loaded.documents:
        info, found = check_document(doc, _chunk_digest(loaded.text, doc))
        if info is not None:
            infos.append(info)
            diagnostics += [d.at(rel, doc.index) for d in found]
    positions = _exact_pass(loaded, diagnostics)
    if positions is not None:
        infos = _refuse_tagged(infos, diagnostics)
        diagnostics = [_locate(d, positions, loaded.documents) for d in diagnostics]
    return FileEntry(key or [], infos, diagnostics)


def _exact_pass(loaded: LoadedFile, diagnostics: list[Diagnostic]) -> "PositionIndex | None":
    needs = loaded.needs_exact_pass or any(d.line == 0 or d.rule == "yaml-duplicate-key" for d in diagnostics)
    if not needs or not loaded.text:
        return None
    from reconciler.spec.positions import PositionIndex  # PyYAML: only files that need it pay

    positions = PositionIndex(loaded.file, loaded.text)
    if any(d.rule == "yaml-duplicate-key" for _, d in positions.problems):
        diagnostics[:] = [d for d in diagnostics if d.rule != "yaml-duplicate-key"]
    if any(d.rule == "yaml-syntax" for _, d in positions.problems):
        # the fast parser already reported the syntax error of this file, with its position
        positions.problems = [(line, d) for line, d in positions.problems if d.rule != "yaml-syntax"]
    for line, problem in positions.problems:
        index = next((doc.index for doc in loaded.documents if doc.line <= line <= doc.end_line), 0)
        diagnostics.append(problem.at(loaded.file, index))
    return positions


def _refuse_tagged(infos: list[DocumentInfo], diagnostics: list[Diagnostic]) -> list[DocumentInfo]:
    """A document with an explicit tag is refused whole: its value is not what was written."""
    tagged = {d.document for d in diagnostics if d.rule == "yaml-tag"}
    return [i._replace(schema_ok=False) if i.index in tagged else i for i in infos]


def _locate(diagnostic: Diagnostic, positions: "PositionIndex", docs: list[SourceDocument]) -> Diagnostic:
    if diagnostic.line:
        return diagnostic
    doc = next((d for d in docs if d.index == diagnostic.document), None)
    if doc is None:
        return diagnostic.located(1, 1)
    line, column = positions.locate(doc.line, doc.end_line, diagnostic.path, diagnostic.at_key)
    return diagnostic.located(line, column)


def _chunk_digest(text: str, doc: SourceDocument) -> str:
    lines = text.split("\n")[doc.line - 1:doc.end_line] if doc.line > 1 or doc.end_line < text.count("\n") + 1 \
        else [text]
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def check_document(doc: SourceDocument, text_digest: str | None = None) -> tuple[DocumentInfo | None, list[Diagnostic]]:
    """Schema and document rules for one document; None when the document is not ours."""
    data = doc.data
    if not isinstance(data, dict):
        return None, []
    api, kind = data.get("apiVersion"), data.get("kind")
    ours = (isinstance(api, str) and api.startswith(schema.API_GROUP + "/")) or kind in schema.KINDS
    if not ours:
        return None, []  # another tool's YAML (a CI workflow, a compose file): not ours to judge
    if kind not in schema.KINDS:
        found = [error("unknown-kind", f"unknown kind {kind!r}", ("kind",),
                       f"write one of: {', '.join(schema.KINDS)}")]
        return DocumentInfo(doc.file, doc.index, doc.line, doc.end_line, str(kind), None, False), found
    if schema.conforms(kind, data):
        return summarize(doc, kind, data, True, text_digest), run_document_rules(kind, data, True)
    problem = shape_problem(data)
    if problem is not None:  # too deep or odd keys: do not walk it any further
        return DocumentInfo(doc.file, doc.index, doc.line, doc.end_line, kind, None, False), [problem]
    found = schema.check(kind, data) + run_document_rules(kind, data, False)
    return summarize(doc, kind, data, False), found


def summarize(doc: SourceDocument, kind: str, data: dict, schema_ok: bool,
              text_digest: str | None = None) -> DocumentInfo:
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    name = _text(meta.get("name"))
    base = dict(file=doc.file, index=doc.index, line=doc.line, end_line=doc.end_line, kind=kind, name=name,
                schema_ok=schema_ok)
    digest = (text_digest or raw_digest(data)) if schema_ok else None
    if kind == "Customer":
        return DocumentInfo(**base, contract=_text(spec.get("contract")), spec_digest=digest)
    return DocumentInfo(
        **base, customer=_text(meta.get("customer")), product=_text(spec.get("product")),
        type=_text(spec.get("type")), cloud=_text(spec.get("cloud")), power=_text(spec.get("power")),
        fqdn=_fqdn(spec.get("domain")), promote_from=_text((_dict(spec.get("rpo"))).get("promoteFrom")),
        clone_from=_text(spec.get("cloneFrom")), languages=_languages(spec.get("environments")),
        spec_digest=digest,
        artifacts=tuple((ref.path, ref.file) for ref in references(data)),
    )


def raw_digest(data: dict) -> str:
    """sha256 of a document's data (key order aside). The usual ``spec_digest`` is cheaper still:
    the sha256 of the document's text. Either is only the quick test of "did it change?":
    planning trusts an equal digest, and settles a different one on the typed canonical form (so a
    comment, a reordered list or a default written out is not a change)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _fqdn(domain: Any) -> str | None:
    domain = _dict(domain)
    if isinstance(domain.get("custom"), str):
        return domain["custom"].lower()
    if isinstance(domain.get("subdomain"), str):
        return f"{domain['subdomain']}.cloudtotvs.com.br"
    return None


def _languages(envs: Any) -> tuple[str, ...]:
    items = envs if isinstance(envs, list) else []
    return tuple(sorted({e["language"] for e in items if isinstance(e, dict) and isinstance(e.get("language"), str)}))


def _artifact_findings(documents: list[DocumentInfo], artifacts: ArtifactStore) -> Iterator[Diagnostic]:
    verdicts: dict[tuple[str, bool], Diagnostic | None] = {}  # many documents share an artifact
    for doc in documents:
        for path, file in doc.artifacts:
            is_xml = path[-1] == "standaloneXml"
            if (file, is_xml) not in verdicts:
                ref = ArtifactRef((), file)
                problem = artifacts.check(ref)
                verdicts[file, is_xml] = problem if problem or not is_xml else artifacts.xml_problem(ref)
            problem = verdicts[file, is_xml]
            if problem is not None:
                yield replace(problem, path=tuple(path)).at(doc.file, doc.index)


def _place(found: list[Diagnostic], files: dict[str, SpecFile], documents: list[DocumentInfo]) -> list[Diagnostic]:
    """Positions for run-level findings: one exact pass per file that has any."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in found:
        by_file.setdefault(diagnostic.file, []).append(diagnostic)
    placed: list[Diagnostic] = []
    for rel, items in by_file.items():
        spec_file = files.get(rel)
        text = Path(spec_file.path).read_text(encoding="utf-8", errors="replace") if spec_file else ""
        from reconciler.spec.positions import PositionIndex

        positions = PositionIndex(rel, text)
        docs = [SourceDocument(d.file, d.index, d.line, d.end_line, None) for d in documents if d.file == rel]
        placed += [_locate(d, positions, docs) for d in items]
    return placed
