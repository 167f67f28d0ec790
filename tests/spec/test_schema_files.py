"""The JSON Schemas themselves: valid draft-07, and every field described with examples."""

from __future__ import annotations

import json

import jsonschema
import pytest

from reconciler.spec.schema import load_schema, schema_dir

SCHEMAS = sorted(p.name for p in schema_dir().glob("*.schema.json"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_is_valid_draft_07(name):
    schema = json.loads((schema_dir() / name).read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


def _fields(node, path=()):
    for name, sub in (node.get("properties") or {}).items():
        yield path + (name,), sub
        yield from _fields(sub, path + (name,))
        if isinstance(sub.get("items"), dict):
            yield from _fields(sub["items"], path + (name, "[]"))


@pytest.mark.parametrize("kind", ["Environment", "Customer"])
def test_every_field_has_a_description_and_examples(kind):
    schema = load_schema(kind)
    missing = [".".join(path) for path, sub in _fields(schema)
               if "description" not in sub or ("examples" not in sub and "$ref" not in sub)]
    assert missing == []
    for name, definition in schema.get("definitions", {}).items():
        for path, sub in _fields(definition, (name,)):
            assert "description" in sub and "examples" in sub, ".".join(path)


def test_examples_in_the_schema_validate_as_their_fields():
    schema = load_schema("Environment")
    validator = jsonschema.Draft7Validator(schema)
    full = {"apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
            "metadata": {"name": "a", "customer": "b"},
            "spec": {"product": "protheus", "type": "DEV", "cloud": "aws", "region": "sa-east-1",
                     "version": "12.1.2410", "power": "running"}}
    for name, sub in schema["properties"]["spec"]["properties"].items():
        for example in sub.get("examples", []):
            doc = json.loads(json.dumps(full))
            doc["spec"][name] = example
            errors = [e.message for e in validator.iter_errors(doc)]
            assert errors == [], (name, example, errors)


def test_modelines_point_at_existing_schemas():
    from tests.conftest import EXAMPLES

    for path in EXAMPLES.rglob("*.yaml"):
        if path.name.startswith(".") or "ci" in path.parts:
            continue
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target.is_file(), (path, target)
