"""The exact pass: positions of nodes, and the checks that need the YAML node tree.

PyYAML's C composer gives every node a start mark. It runs only on files that need it: files
with findings to place, and files whose text shows an explicit tag, a directive or an unquoted
time. It builds nodes and never constructs Python objects, so no tag can ever run code; aliases
are shared nodes, walked once each, so an alias bomb costs nothing here.

Checks made here: explicit tags (refused), duplicate and merge ('<<') keys (positioned), unquoted
times that YAML 1.1 tools read as base-60 numbers (warning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.model.diagnostics import Diagnostic, JsonPath, error, warning

try:  # the C composer; the pure-Python one is a fallback for odd platforms
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_STANDARD_TAG = "tag:yaml.org,2002:"
# YAML 1.1 base-60 integers start with 1-9: 20:00 is 1200 there, while 07:00 stays a string.
_TIME_LIKE = re.compile(r"^[1-9]\d?:[0-5]\d$")
_ANCHOR = re.compile(r"&[^\s,\[\]{}]*\s*")


@dataclass(frozen=True, slots=True)
class _Doc:
    first_line: int  # 1-based line of the root node
    root: Node


class PositionIndex:
    """Node positions of one file. ``problems`` holds what the exact checks found."""

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.docs: list[_Doc] = []
        self.problems: list[tuple[int, Diagnostic]] = []  # (document line, diagnostic)
        try:
            for root in yaml.compose_all(text, Loader=_Loader):
                if root is not None:
                    self.docs.append(_Doc(root.start_mark.line + 1, root))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            reason = exc.problem or exc.context or "invalid YAML"
            self.problems.append((line, error("yaml-syntax", f"invalid YAML: {reason}", (),
                                              "fix the YAML syntax at this position")
                                  .located(line, column).at(file, 0)))
        except yaml.YAMLError as exc:  # pragma: no cover - reader errors are caught before
            self.problems.append((1, error("yaml-syntax", f"invalid YAML: {exc}").located(1, 1)))
        for doc in self.docs:
            self._check(doc)

    # -- lookups ----------------------------------------------------------------------------
    def doc_for_line(self, first_line: int, end_line: int) -> _Doc | None:
        for doc in self.docs:
            if first_line <= doc.first_line <= max(first_line, end_line):
                return doc
        return None

    def locate(self, first_line: int, end_line: int, path: JsonPath, at_key: bool) -> tuple[int, int]:
        """(line, column) of the node at ``path``: the deepest existing node on the way."""
        doc = self.doc_for_line(first_line, end_line)
        if doc is None:
            return first_line, 1
        node, key_node = doc.root, None
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
        target = key_node if (at_key or not isinstance(node, ScalarNode)) and key_node else node
        return target.start_mark.line + 1, target.start_mark.column + 1

    # -- checks -----------------------------------------------------------------------------
    def _check(self, doc: _Doc) -> None:
        seen: set[int] = set()
        stack: list[tuple[Node, JsonPath]] = [(doc.root, ())]
        while stack:
            node, path = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            self._check_tag(doc, node, path)
            if isinstance(node, MappingNode):
                self._check_mapping(doc, node, path, stack)
            elif isinstance(node, SequenceNode):
                stack.extend((item, path + (i,)) for i, item in enumerate(node.value))
            elif isinstance(node, ScalarNode) and not node.style and _TIME_LIKE.match(node.value):
                self._add(doc, node, warning(
                    "yaml11-time", f"unquoted time {node.value} is read as a base-60 number by YAML 1.1 tools",
                    path, f'quote it: "{node.value}"'))

    def _check_tag(self, doc: _Doc, node: Node, path: JsonPath) -> None:
        if _is_explicit(self.text, node):
            shown = (node.tag or "!").replace(_STANDARD_TAG, "!!")
            self._add(doc, node, error(
                "yaml-tag", f"explicit YAML tag '{shown}' is not allowed in specs",
                path, "remove the tag: spec values are plain strings, numbers, booleans, lists and maps"))

    def _check_mapping(self, doc: _Doc, node: MappingNode, path: JsonPath, stack: list) -> None:
        keys: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key == "<<" and not key_node.style:
                self._add(doc, key_node, error(
                    "yaml-merge-key", "merge keys ('<<') are not supported", path,
                    "write the fields out; YAML 1.2 has no merge keys"))
            elif key is not None and key in keys:
                first = keys[key].start_mark.line + 1
                self._add(doc, key_node, error(
                    "yaml-duplicate-key", f"duplicate key '{key}' (first defined on line {first})",
                    path + (key,), "remove or rename one of the two keys: YAML keeps only one of them"))
            if key is not None:
                keys.setdefault(key, key_node)
            stack.append((value_node, path + ((key if key is not None else "?"),)))

    def _add(self, doc: _Doc, node: Node, diagnostic: Diagnostic) -> None:
        mark = node.start_mark
        self.problems.append((doc.first_line, diagnostic.located(mark.line + 1, mark.column + 1)
                              .at(self.file, 0)))


def _is_explicit(text: str, node: Node) -> bool:
    """Whether the source writes a tag on this node: its properties then start with '!'.

    The composer resolves implicit and explicit standard tags to the same value, so the source is
    the only witness. A node's mark is where its properties begin: an anchor, then the tag.
    """
    index = node.start_mark.index
    if text.startswith("&", index):
        match = _ANCHOR.match(text, index)
        index = match.end() if match else index
    return text.startswith("!", index)


def _child(node: Node, part) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode) and isinstance(part, str):
        found = None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == part:
                found = (key_node, value_node)  # last one wins, as in the loaded value
        return found
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None
