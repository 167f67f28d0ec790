"""Finding the spec files: ``*.yaml`` and ``*.yml`` under the given paths, hidden folders skipped."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

SPEC_SUFFIXES = (".yaml", ".yml")


class SpecFile(NamedTuple):
    path: str  # absolute (a string: building ten thousand Path objects costs more than the walk)
    rel: str  # relative to the repository root, with '/' (the name diagnostics show)
    key: list | None  # [size, mtime_ns, inode], read during the walk; None if it cannot be read


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def stat_key(path: str) -> list | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def find_spec_files(paths: Iterable[Path], root: Path, exclude: Iterable[str] = ()) -> list[SpecFile]:
    """Spec files under ``paths`` (files named explicitly are always taken), sorted, without repeats."""
    patterns = tuple(exclude)
    root_text = str(root.resolve())
    found: dict[str, SpecFile] = {}
    for given in paths:
        given = given.resolve()
        if given.is_file():
            rel = relative_name(given, root)
            found.setdefault(rel, SpecFile(str(given), rel, stat_key(str(given))))
            continue
        prefix = len(root_text) + 1 if str(given).startswith(root_text) else 0
        for full, key in _walk(str(given)):
            rel = full[prefix:] if os.sep == "/" else full[prefix:].replace(os.sep, "/")
            if not patterns or not any(fnmatch.fnmatch(rel, pattern) for pattern in patterns):
                found.setdefault(rel, SpecFile(full, rel, key))
    return [found[rel] for rel in sorted(found)]


def _walk(folder: str) -> Iterator[tuple[str, list | None]]:
    """(path, stat key) of each spec file, by scandir: the stat comes with the listing."""
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif name.endswith(SPEC_SUFFIXES):
                try:
                    stat = entry.stat()
                    yield entry.path, [stat.st_size, stat.st_mtime_ns, stat.st_ino]
                except OSError:
                    yield entry.path, None
