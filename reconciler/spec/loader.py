"""Reading spec files safely: bytes in, documents and load diagnostics out.

Two parsers, one meaning. Values always come from ``yaml-rs`` (a Rust YAML 1.2 parser: fast,
never runs code, refuses duplicate keys, caps alias expansion). The position-tracking composer of
PyYAML's C loader runs only on files that need it (an error to place, an explicit tag, a
directive), and only for structure and positions, never for values; see ``positions``.

Guards, in order: file size, binary content (NUL byte), UTF-8, document markers, alias expansion,
nesting depth, mapping keys that are not strings, explicit tags (``!!python/...`` or any other:
specs never need one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml_rs

from reconciler.model.diagnostics import Diagnostic, error

# A line that starts a new document ('---') or ends one ('...'), always at column 0 (YAML 1.2).
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
# An explicit tag ('!foo', '!!python/...'): the fast parser would silently drop it.
_TAG = re.compile(r"(?:^|[\s\[{,:-])!")
_DIRECTIVE = re.compile(r"^%", re.M)
# An unquoted time such as 20:00, which YAML 1.1 tools read as a base-60 number (1200). The
# search starts at the literal ':' (fast), then looks around the candidate.
_TIME_TAIL = re.compile(r":[0-5]\d")
_TIME_HEAD = re.compile(r"(?:^|[\s\[{,])[1-9]\d?$")  # 07:00 is a string even in YAML 1.1
_TIME_END = frozenset(" \t\r\n,]}#")
_ERROR_AT = re.compile(r"line (\d+), column (\d+)")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one spec file may cost. Defaults fit any real spec with a wide margin."""

    max_file_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_alias_events: int = 20_000
    max_documents: int = 500


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One YAML document of a file: its value and where it starts (``line`` is 1-based)."""

    file: str
    index: int
    line: int
    end_line: int
    data: Any


@dataclass(slots=True)
class LoadedFile:
    file: str
    text: str = ""
    documents: list[SourceDocument] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    needs_exact_pass: bool = False  # tags or directives: the position-tracking pass must look


def load_bytes(file: str, raw: bytes, limits: Limits = DEFAULT_LIMITS) -> LoadedFile:
    """Parse one file's bytes. Never raises for bad content: problems become diagnostics."""
    result = LoadedFile(file)
    text = _decode(file, raw, limits, result)
    if text is None:
        return result
    result.text = text
    result.needs_exact_pass = (
        ("!" in text and bool(_TAG.search(text))) or ("%" in text and bool(_DIRECTIVE.search(text)))
        or _has_unquoted_time(text))
    chunks = _split_documents(text)
    if len(chunks) > limits.max_documents:
        result.diagnostics.append(_file_error(
            "yaml-limits", f"the file holds {len(chunks)} documents, over the limit of {limits.max_documents}",
            "split the documents across several files").at(file, 0))
        return result
    for index, (first_line, end_line, chunk) in enumerate(chunks):
        _load_chunk(result, index, first_line, end_line, chunk, limits)
    return result


def _has_unquoted_time(text: str) -> bool:
    for match in _TIME_TAIL.finditer(text):
        begin, end = match.span()
        if (end == len(text) or text[end] in _TIME_END) and _TIME_HEAD.search(text, max(0, begin - 3), begin):
            return True
    return False


def _decode(file: str, raw: bytes, limits: Limits, result: LoadedFile) -> str | None:
    if len(raw) > limits.max_file_bytes:
        result.diagnostics.append(file_too_large(len(raw), limits).at(file, 0))
        return None
    nul = raw.find(b"\x00")
    if nul >= 0:
        result.diagnostics.append(_file_error(
            "file-binary", f"binary content (a NUL byte at offset {nul}); spec files are UTF-8 text",
            "keep binary artifacts out of *.yaml files and reference them with 'file:'").at(file, 0))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_col(raw, exc.start)
        result.diagnostics.append(_file_error(
            "file-encoding", f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} cannot be decoded",
            "save the file as UTF-8 (editors call it 'UTF-8', without BOM is best)"
        ).located(line, column).at(file, 0))
        return None
    return text[1:] if text.startswith("\ufeff") else text


def file_too_large(size: int, limits: Limits) -> Diagnostic:
    return _file_error(
        "file-too-large",
        f"the file has {size:,} bytes, over the limit of {limits.max_file_bytes:,} bytes for a spec file",
        "split it into several files, or keep large data in artifacts referenced with 'file:'")


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, column


def _split_documents(text: str) -> list[tuple[int, int, str]]:
    """Cut at document markers: (first line, end line, text) per document.

    A '---' or '...' at column 0 always starts or ends a document in YAML (a block scalar's
    content is indented and a quoted scalar may not hold one), so the cut is exact. The marker
    line stays in its chunk so that line numbers inside the chunk stay true.
    """
    starts = [m.start() for m in _DOC_MARKER.finditer(text)]
    if not starts:
        return [(1, text.count("\n") + 1, text)]
    bounds = ([0] if starts[0] != 0 else []) + starts + [len(text)]
    chunks, line = [], 1
    for begin, end in zip(bounds, bounds[1:]):
        chunk = text[begin:end]
        lines = chunk.count("\n")
        chunks.append((line, line + lines, chunk))
        line += lines
    return chunks


def _load_chunk(result: LoadedFile, index: int, first_line: int, end_line: int, chunk: str,
                limits: Limits) -> None:
    body = chunk
    if body.startswith("..."):
        body = body[3:]  # an end marker closes the previous document; what follows is new
    try:
        data = yaml_rs.loads(
            body, parse_datetime=False,
            alias_limits=yaml_rs.AliasLimits(max_total_replayed_events=limits.max_alias_events),
        )
    except (yaml_rs.YAMLDecodeError, RecursionError, ValueError) as exc:
        result.diagnostics.append(_parse_error(str(exc) or type(exc).__name__, first_line, limits)
                                  .at(result.file, index))
        return
    if data is None:
        return  # empty document (comments only): nothing to validate
    result.documents.append(SourceDocument(result.file, index, first_line, end_line, data))


def _parse_error(message: str, first_line: int, limits: Limits) -> Diagnostic:
    reason = message.strip().splitlines()[-1] if message.strip() else "invalid YAML"
    where = _ERROR_AT.search(message)
    line, column = (int(where.group(1)) + first_line - 1, int(where.group(2))) if where else (first_line, 1)
    if "duplicate mapping key" in message:
        return _file_error("yaml-duplicate-key", reason,
                           "remove or rename one of the two keys: YAML keeps only one of them"
                           ).located(line, column)
    if "alias replay limit" in message:
        return _file_error(
            "yaml-limits", f"aliases expand to more than {limits.max_alias_events:,} nodes (an alias bomb?)",
            "write the repeated values out, or use fewer nested aliases").located(line, column)
    if "recursion" in message:
        return _file_error("yaml-limits", f"nesting deeper than {limits.max_depth} levels",
                           "flatten the document").located(line, column)
    hint = "fix the YAML syntax at this position"
    if "tab" in reason.lower():
        hint = "indent with spaces: YAML does not allow tabs for indentation"
    return _file_error("yaml-syntax", f"invalid YAML: {reason}", hint).located(line, column)


def shape_problem(data: Any, limits: Limits = DEFAULT_LIMITS) -> Diagnostic | None:
    """Depth and key types, walked without recursion (the data may be adversarial).

    Only documents that fail the schema need this walk: the schema bounds the depth of a valid
    document and admits only string keys.
    """
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limits.max_depth:
            return _file_error("yaml-limits", f"nesting deeper than {limits.max_depth} levels",
                               "flatten the document; no spec field nests this deep")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return _file_error("yaml-key-type", f"mapping key {key!r} is not a string",
                                       "quote the key, or write a plain name")
                if isinstance(item, (dict, list)):
                    stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value if isinstance(item, (dict, list)))
    return None


def _file_error(rule: str, message: str, hint: str) -> Diagnostic:
    return error(rule, message, (), hint).located(1, 1)
