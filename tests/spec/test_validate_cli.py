"""``reconciler validate``: exit codes, text and JSON output, colour, paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from reconciler.cli import main
from tests.conftest import CUSTOMER, EXAMPLES, PROTHEUS, line_of, mutated


def _run(*args, env=None):
    return CliRunner().invoke(main, ["validate", *args], env=env)


def test_examples_validate_clean():
    result = _run(str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_errors_exit_1_with_compiler_style_lines(repo):
    text = repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(type="PRD")))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = _run(str(repo.root))
    assert result.exit_code == 1
    line = line_of(text, "type: PRD")
    assert f"env.yaml:{line}:9: error[schema-enum]: the string 'PRD' is not one of: PROD, QA, DEV" in result.output
    assert "hint: write one of: PROD, QA, DEV" in result.output
    assert "\x1b[" not in result.output  # not a terminal: no colour


def test_warnings_alone_exit_0(repo):
    repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(exclusiveAccess=True)))
    repo.write_docs("customers.yaml", CUSTOMER)
    result = _run(str(repo.root))
    assert result.exit_code == 0 and "warning[exclusive-access]" in result.output


def test_json_output(repo):
    text = repo.write_docs("env.yaml", mutated(PROTHEUS, lambda d: d["spec"].update(instances=0)))
    result = _run(str(repo.root), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False and data["format_version"] == "1"
    by_rule = {d["rule"]: d for d in data["diagnostics"]}
    assert set(by_rule) == {"schema-range", "customer-missing"}
    instances = by_rule["schema-range"]
    assert instances == {"severity": "error", "file": "env.yaml", "line": line_of(text, "instances: 0"),
                         "column": 14, "path": "$.spec.instances", "rule": "schema-range",
                         "message": instances["message"], "hint": instances["hint"]}


def test_usage_error_exits_2(tmp_path):
    assert _run(str(tmp_path / "missing")).exit_code == 2
    assert _run("--format", "xml").exit_code == 2


def test_several_paths_and_a_single_file(repo):
    repo.write_docs("a/customers.yaml", CUSTOMER)
    repo.write_docs("b/env.yaml", PROTHEUS)
    assert _run(str(repo.root / "a"), str(repo.root / "b" / "env.yaml")).exit_code == 0
    assert _run(str(repo.root / "b")).exit_code == 1  # the customer is not among the validated files


def test_hidden_folders_are_skipped(repo):
    repo.write(".git/bad.yaml", "a: [")
    repo.write("hidden/.bad.yaml", "a: [")
    repo.write_docs("customers.yaml", CUSTOMER)
    assert _run(str(repo.root)).exit_code == 0


def test_exclude_from_repository_config(repo):
    repo.write(".reconciler.yaml", "exclude: ['drafts/**']\n")
    repo.write("drafts/x.yaml", "a: [")
    repo.write_docs("customers.yaml", CUSTOMER)
    assert _run(str(repo.root)).exit_code == 0


def test_bad_repository_config_is_a_usage_error(repo):
    repo.write(".reconciler.yaml", "enigne: sandbox\n")
    result = _run(str(repo.root))
    assert result.exit_code == 2 and "unknown setting(s) enigne" in result.output


def test_colour_on_a_terminal_and_no_color(repo):
    repo.write_docs("env.yaml", PROTHEUS)
    forced = _run(str(repo.root), "--color")
    assert "\x1b[" in forced.output
    # a real pseudo-terminal: colour by default, none with NO_COLOR
    script = ("import pty, os, sys; os.environ.pop('NO_COLOR', None) if len(sys.argv) < 2 else "
              "os.environ.__setitem__('NO_COLOR', '1'); "
              f"pty.spawn([sys.executable, '-m', 'reconciler', 'validate', {str(repo.root)!r}])")
    coloured = subprocess.run([sys.executable, "-c", script], capture_output=True)
    plain = subprocess.run([sys.executable, "-c", script, "no-color"], capture_output=True)
    assert b"\x1b[" in coloured.stdout
    assert b"\x1b[" not in plain.stdout and b"customer-missing" in plain.stdout


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "reconciler", "validate", str(EXAMPLES)], capture_output=True,
                          text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stdout + proc.stderr
