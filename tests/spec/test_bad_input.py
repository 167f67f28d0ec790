"""The bad-input corpus: every hostile or broken file is refused with a clear, placed message,
quickly, and without losing the findings of the other files."""

from __future__ import annotations

import time

import pytest

from tests.conftest import CUSTOMER, PROTHEUS

BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
) + "\n"


def _only(result, file):
    return [d for d in result.diagnostics if d.file == file]


def _check(repo, rel, content, rule, text_in_message, line=None):
    repo.write_docs("customers.yaml", CUSTOMER)
    repo.write(rel, content)
    start = time.perf_counter()
    result = repo.validate()
    elapsed = time.perf_counter() - start
    found = [d for d in _only(result, rel) if d.rule == rule]
    assert found, [(d.rule, d.message) for d in result.diagnostics]
    assert text_in_message in found[0].message
    assert found[0].hint, "every refusal says how to fix it"
    assert found[0].line >= 1 and found[0].column >= 1
    if line is not None:
        assert found[0].line == line
    assert not result.valid
    assert any(d.name == "acme" for d in result.documents), "the other files still load"
    return found[0], elapsed


def test_billion_laughs_fails_fast(repo):
    diagnostic, elapsed = _check(repo, "bomb.yaml", BOMB, "yaml-limits", "alias")
    assert elapsed < 1.0  # "well under a second" (generous: shared machines)


def test_python_tag_is_refused_and_never_run(repo, tmp_path):
    marker = tmp_path / "pwned"
    text = (f"apiVersion: cloud.totvs.io/v1\nkind: Customer\nmetadata: {{name: acme}}\n"
            f"spec: !!python/object/apply:os.system ['touch {marker}']\n")
    diagnostic, _ = _check(repo, "tag.yaml", text, "yaml-tag", "!!python/object/apply:os.system", line=4)
    assert not marker.exists()


def test_custom_tag_is_refused(repo):
    _check(repo, "tag.yaml", "apiVersion: cloud.totvs.io/v1\nkind: Customer\nmetadata: !include x.yaml\n",
           "yaml-tag", "!include", line=3)


def test_ten_megabyte_file_is_refused_without_reading_it(repo):
    _check(repo, "big.yaml", "a: " + "x" * (10 * 1024 * 1024) + "\n", "file-too-large", "bytes")


def test_binary_file(repo):
    _check(repo, "bin.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file-binary", "NUL byte")


def test_non_utf8_file_points_at_the_byte(repo):
    diagnostic, _ = _check(repo, "latin1.yaml", "apiVersion: cloud.totvs.io/v1\nkind: Customer\n# caf\xe9\n"
                           .encode("latin-1"), "file-encoding", "0xe9", line=3)
    assert diagnostic.column == 6


def test_ten_thousand_deep_nesting(repo):
    _check(repo, "deep.yaml", "a: " + "[" * 10_000 + "]" * 10_000 + "\n", "yaml-limits", "deeper")


def test_deep_block_nesting_within_size_limit(repo):
    text = "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v\n"
    _check(repo, "deep.yaml", "apiVersion: cloud.totvs.io/v1\nkind: Customer\n" + text, "yaml-limits", "deeper")


def test_duplicate_keys_point_at_the_second(repo):
    text = "apiVersion: cloud.totvs.io/v1\nkind: Customer\nmetadata:\n  name: a\n  name: b\nspec: {contract: fixed}\n"
    diagnostic, _ = _check(repo, "dup.yaml", text, "yaml-duplicate-key", "duplicate key 'name'", line=5)
    assert "line 4" in diagnostic.message


def test_tabs(repo):
    diagnostic, _ = _check(repo, "tabs.yaml", "apiVersion: cloud.totvs.io/v1\nkind: Customer\nmetadata:\n\tname: a\n",
                           "yaml-syntax", "tab")
    assert "spaces" in diagnostic.hint


def test_merge_keys_are_refused(repo):
    text = ("apiVersion: cloud.totvs.io/v1\nkind: Customer\nbase: &b {name: a}\nmetadata:\n  <<: *b\n"
            "spec: {contract: fixed}\n")
    _check(repo, "merge.yaml", text, "yaml-merge-key", "merge keys", line=5)


def test_non_string_keys(repo):
    text = "apiVersion: cloud.totvs.io/v1\nkind: Customer\nmetadata: {name: a, labels: {1: x}}\nspec: {contract: fixed}\n"
    _check(repo, "keys.yaml", text, "yaml-key-type", "not a string")


def test_path_traversal_artifact(repo):
    import yaml

    doc = yaml.safe_load(yaml.safe_dump(PROTHEUS))
    doc["spec"]["patches"][0]["file"] = "../../../etc/passwd.ptm"
    _check(repo, "trav.yaml", yaml.safe_dump(doc, sort_keys=False), "artifact-path", "leave the repository")


def test_syntax_error_in_one_document_keeps_the_others(repo):
    import yaml

    text = yaml.safe_dump(CUSTOMER, sort_keys=False) + "---\nkind: Environment\nspec: [unclosed\n"
    repo.write("mixed.yaml", text)
    result = repo.validate()
    assert [d.name for d in result.documents] == ["acme"]
    assert any(d.rule == "yaml-syntax" and d.line >= 7 for d in result.diagnostics)


def test_bad_files_do_not_hide_other_findings(repo):
    repo.write("bomb.yaml", BOMB)
    repo.write("bin.yaml", b"\x00\x01")
    import yaml

    doc = yaml.safe_load(yaml.safe_dump(PROTHEUS))
    doc["spec"]["type"] = "PRODUCTION"
    repo.write("env.yaml", yaml.safe_dump(doc))
    repo.write_docs("customers.yaml", CUSTOMER)
    rules = {(d.file, d.rule) for d in repo.validate().diagnostics}
    assert {("bomb.yaml", "yaml-limits"), ("bin.yaml", "file-binary"), ("env.yaml", "schema-enum")} <= rules


@pytest.mark.parametrize("content", ["", "# just a comment\n", "---\n---\n", "...\n"])
def test_empty_files_are_fine(repo, content):
    repo.write("empty.yaml", content)
    assert repo.validate().valid
