"""The JSON Schemas of ``schemas/``: loading them, and checking a document against its kind's.

The schema files are the single source of field shapes. A document is first checked by a
``fastjsonschema`` validator (compiled once per process, stops at the first error); only a
document that fails is checked again by ``jsonschema``'s Draft-07 validator, which lists every
error. Each error becomes a diagnostic with a message and a hint written for people.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.util
import json
import marshal
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

import fastjsonschema

from reconciler.model.diagnostics import Diagnostic, error

API_VERSION = "cloud.totvs.io/v1"
API_GROUP = "cloud.totvs.io"
KINDS = {"Environment": "environment.schema.json", "Customer": "customer.schema.json"}
_YAML11_WORDS = {"on": True, "off": False, "yes": True, "no": False, "y": True, "n": False}


def schema_dir() -> Path:
    """``schemas/`` of the source tree, or the copy bundled in an installed wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "schemas", here.parents[1] / "_bundled" / "schemas"):
        if (candidate / "environment.schema.json").is_file():
            return candidate
    raise FileNotFoundError("the JSON Schemas (schemas/*.schema.json) are missing from the installation")


@functools.cache
def load_schema(kind: str) -> dict:
    return json.loads((schema_dir() / KINDS[kind]).read_text(encoding="utf-8"))


@functools.cache
def _fast_validator(kind: str) -> Callable[[Any], Any]:
    """The compiled validator. Generating and compiling its source costs more than a whole warm
    validate, so its bytecode is kept in the user's cache folder, as ``__pycache__`` keeps a
    module's, keyed by the schema, the generator's version and the interpreter's magic number."""
    schema = load_schema(kind)
    key = hashlib.sha256(json.dumps(schema, sort_keys=True).encode() + importlib.util.MAGIC_NUMBER
                         + fastjsonschema.VERSION.encode()).hexdigest()[:20]
    from reconciler.spec.cache import cache_dir

    path = cache_dir() / f"schema-{kind.lower()}-{key}.bytecode"
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        code = compile(fastjsonschema.compile_to_code(schema, use_default=False), f"<schema {kind}>", "exec")
        _store(path, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - generated from our own schema file
    names = [n for n in namespace if n.startswith("validate") and callable(namespace[n])]
    return namespace[min(names, key=len)]  # the entry point; the longer names are its definitions


def _store(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass  # without the cache the next run compiles again; nothing else is lost


@functools.cache
def _full_validator(kind: str):
    import jsonschema  # slow to import; needed only for documents that fail the fast check

    return jsonschema.Draft7Validator(load_schema(kind))


def conforms(kind: str, data: Any) -> bool:
    """The fast check: does the document match its schema? (No detail; see ``check``.)"""
    try:
        _fast_validator(kind)(data)
        return True
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError, RecursionError):
        return False


def check(kind: str, data: Any) -> list[Diagnostic]:
    """Every schema problem of one document (empty when it conforms)."""
    if conforms(kind, data):
        return []
    errors = sorted(_full_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    found = [d for e in errors for d in _to_diagnostics(kind, e)]
    return _dedupe(found) or [error("schema", "the document does not match its schema")]


def field_description(kind: str, path: tuple) -> str:
    """The schema's description of the field at ``path`` (for hints)."""
    node = _subschema(load_schema(kind), path)
    return (node or {}).get("description", "")


def _subschema(schema: dict, path: tuple) -> dict | None:
    node = schema
    for part in path:
        node = _deref(schema, node)
        if isinstance(part, int):
            node = node.get("items")
        else:
            node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return _deref(schema, node)


def _deref(root: dict, node: dict) -> dict:
    ref = node.get("$ref", "")
    if ref.startswith("#/definitions/"):
        merged = dict(root["definitions"][ref.rsplit("/", 1)[1]])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for item in items:
        key = (item.path, item.message)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _to_diagnostics(kind: str, err) -> Iterator[Diagnostic]:
    path = tuple(err.absolute_path)
    keyword = err.validator
    if keyword == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        for extra in _extra_keys(err):
            yield _unknown_field(path, extra, allowed)
        return
    if keyword == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        description = field_description(kind, path + (missing,))
        yield error("schema-required", f"missing required field '{missing}'", path,
                    f"add '{missing}': {description}" if description else f"add '{missing}'")
        return
    yield error(f"schema-{_RULE_SUFFIX.get(keyword, 'invalid')}", _message(err), path,
                _hint(kind, path, err))


_RULE_SUFFIX = {
    "enum": "enum", "const": "const", "type": "type", "pattern": "format", "minimum": "range",
    "maximum": "range", "exclusiveMinimum": "range", "minItems": "size", "maxItems": "size",
    "minLength": "size", "maxLength": "size", "uniqueItems": "unique", "minProperties": "size",
    "maxProperties": "size", "propertyNames": "format",
}
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number",
               "boolean": "a boolean (true or false)", "object": "a mapping", "array": "a list"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    return "a list"


def _message(err) -> str:
    value, keyword, expected = err.instance, err.validator, err.validator_value
    if keyword == "enum":
        return f"{_describe(value)} is not one of: {', '.join(map(str, expected))}"
    if keyword == "const":
        return f"{_describe(value)} must be {expected!r}"
    if keyword == "type":
        wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        return f"expected {wanted}, got {_describe(value)}"
    if keyword == "pattern":
        return f"{_describe(value)} is not in the expected format"
    if keyword == "uniqueItems":
        return "the list has repeated items"
    if keyword == "maxProperties" and expected == 1:
        return f"choose one of {', '.join(sorted(value))}, not several"
    return err.message


def _hint(kind: str, path: tuple, err) -> str:
    trap = _yaml11_hint(err)
    if trap:
        return trap
    description = field_description(kind, path)
    if err.validator == "enum":
        return f"write one of: {', '.join(map(str, err.validator_value))}"
    return description


def _yaml11_hint(err) -> str:
    """Targeted help for YAML 1.1 booleans: on/off/yes/no written where they do not belong."""
    value = err.instance
    word = value.lower() if isinstance(value, str) else None
    if err.validator == "type" and err.validator_value == "boolean" and word in _YAML11_WORDS:
        return (f"'{value}' is a boolean only in YAML 1.1 and reads differently across tools; "
                f"write {str(_YAML11_WORDS[word]).lower()}")
    if err.validator == "enum" and (isinstance(value, bool) or word in _YAML11_WORDS):
        options = list(map(str, err.validator_value))
        if "running" in options:
            on = value is True or _YAML11_WORDS.get(word) is True
            return (f"'{value}' is a YAML 1.1 boolean, not a power state: write "
                    f"{'running' if on else 'stopped'} (or scheduled with a schedule)")
        return f"YAML 1.1 tools read '{value}' as a boolean; write one of: {', '.join(options)}"
    return ""


def _extra_keys(err) -> list[str]:
    allowed = set(err.schema.get("properties", {}))
    return sorted(k for k in err.instance if k not in allowed) if isinstance(err.instance, dict) else []


def _unknown_field(path: tuple, extra: str, allowed: list[str]) -> Diagnostic:
    close = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"allowed fields here: {', '.join(allowed)}"
    return replace(error("schema-unknown-field", f"unknown field '{extra}'", path + (extra,), hint),
                   at_key=True)
