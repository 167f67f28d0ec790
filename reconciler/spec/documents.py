"""Reading whole documents back, for the few environments a command needs in full.

Validation keeps only summaries (``DocumentInfo``); planning, synthesis and apply re-read the
files of the documents they work on (a handful, usually) and get the parsed data by position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from reconciler.errors import SpecError
from reconciler.spec.loader import load_bytes
from reconciler.spec.repository import DocumentInfo


def read_documents(root: Path, infos: Iterable[DocumentInfo]) -> dict[tuple[str, int], dict[str, Any]]:
    """The parsed data of each document, keyed by (file, index in file)."""
    wanted: dict[str, set[int]] = {}
    for info in infos:
        wanted.setdefault(info.file, set()).add(info.index)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for rel, indexes in wanted.items():
        loaded = load_bytes(rel, (root / rel).read_bytes())
        for doc in loaded.documents:
            if doc.index in indexes:
                found[rel, doc.index] = doc.data
        missing = indexes - {i for (f, i) in found if f == rel}
        if missing:
            raise SpecError(f"{rel} changed while it was being read (documents {sorted(missing)} are gone); run again")
    return found
