"""The ``pulumi`` engine: settings, the Automation API objects it builds, engine-event translation
(from recorded event streams), error mapping (from recorded CLI output), the deployment -> graph
conversion, and the engine's orchestration with a stand-in at its own seam (``opener``: the
Automation API stack). The Pulumi CLI is not installed here: the tests that drive the real CLI are
marked ``pulumi_cli`` and skipped without it; nothing imitates the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import create_command_error

from reconciler.config import RepoConfig
from reconciler.engines.base import EngineEvent, StackJob, make_engine
from reconciler.engines.pulumi_engine import (ACTION_CARRIERS, NOT_CARRIED, PulumiEngine, PulumiSettings,
                                              inline_program)
from reconciler.engines.pulumi_errors import LOCK_DELAY, THROTTLE_DELAY, map_error
from reconciler.engines.pulumi_events import (EventTranslator, PreviewCollector, clean_message,
                                              is_default_provider, simple_urn, urn_type)
from reconciler.engines.pulumi_settings import (CODE_ROOT, ConfigEntry, PluginPin, cli_environment,
                                                config_changes, config_map, project_settings, stack_config,
                                                workspace_options)
from reconciler.engines.pulumi_state import decode_secrets, graph_from_deployment, provider_name
from reconciler.errors import ConfigError, EngineBusy, EngineError, InterruptedRun, TemporaryError
from reconciler.model.graph import ResourceGraph
from reconciler.model.plan import ACTION_KINDS, Action, Op, ResourceChange
from reconciler.synth.mock_runtime import normalize
from stacks.common.inputs import StackInput

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSPHRASE = {"PULUMI_CONFIG_PASSPHRASE": "correct horse battery staple"}
AWS_STACK = "urn:pulumi:acme-protheus-dev::erp-aws::"
APP1 = AWS_STACK + "aws:ec2/instance:Instance::app-1"
OBJECT = AWS_STACK + "aws:s3/bucketObjectv2:BucketObjectv2::artifact-artifacts/patches/dev-fin-hotfix.ptm"
PARAM = AWS_STACK + "aws:ssm/parameter:Parameter::deployment"
BUDGET = AWS_STACK + "aws:budgets/budget:Budget::cost-alert"
SIG, SECRET = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def recorded(name: str) -> list[auto.EngineEvent]:
    """A recorded engine-event stream, parsed by the SDK exactly as it parses the CLI's."""
    return [auto.EngineEvent.from_json(data) for data in json.loads((DATA / name).read_text())]


def deployment() -> dict[str, Any]:
    return json.loads((DATA / "deployment_aws.json").read_text())


def settings_for(tmp_path: Path, pulumi: dict | None = None, environ: dict | None = None) -> PulumiSettings:
    config = RepoConfig(root=tmp_path, pulumi=pulumi or {})
    return PulumiSettings.from_config(config, environ=PASSPHRASE if environ is None else environ)


def translate(name: str, events: list[auto.EngineEvent] | None = None) -> tuple[list[EngineEvent], EventTranslator]:
    translator = EventTranslator()
    out = [e for event in (events if events is not None else recorded(name)) for e in translator.translate(event)]
    return out, translator


def steps(events: list[EngineEvent]) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.op, e.name) for e in events if e.kind != "diagnostic"]


def command_error(stderr: str = "", stdout: str = "", code: int = 255) -> auto.CommandError:
    """The exception the SDK raises for a failed CLI command, classified by the SDK itself."""
    return create_command_error(CommandResult(stdout=stdout, stderr=stderr, code=code))


# ---------------------------------------------------------------------------------------------
# Settings

def test_defaults_put_a_local_backend_under_the_state_folder(tmp_path):
    settings = settings_for(tmp_path)
    assert settings.backend_url == f"file://{tmp_path}/.reconciler/pulumi"
    assert (tmp_path / ".reconciler" / "pulumi").is_dir()  # the CLI refuses a missing folder
    assert settings.work_dir == tmp_path / ".reconciler" / "pulumi-work"
    assert (settings.secrets_provider, settings.refresh, settings.parallel, settings.plugins) == \
           ("passphrase", True, None, ())
    assert settings.passphrase_file is None and settings.repo_root == tmp_path


def test_the_passphrase_is_checked_but_never_kept(tmp_path):
    settings = settings_for(tmp_path)
    assert PASSPHRASE["PULUMI_CONFIG_PASSPHRASE"] not in repr(settings)
    options = workspace_options(settings, "erp-aws", "acme-protheus-dev", None, environ=PASSPHRASE)
    assert PASSPHRASE["PULUMI_CONFIG_PASSPHRASE"] not in repr(options.__dict__)


def test_a_missing_passphrase_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError, match="PULUMI_CONFIG_PASSPHRASE") as caught:
        settings_for(tmp_path, environ={})
    assert "secretsProvider" in str(caught.value)


def test_an_explicitly_empty_passphrase_is_accepted_as_the_cli_does(tmp_path):
    assert settings_for(tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE": ""}).secrets_provider == "passphrase"


def test_a_passphrase_file_is_passed_on_as_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "phrase.txt").write_text("s3cret\n")
    monkeypatch.chdir(tmp_path)  # a relative path means relative to where the reconciler runs
    settings = settings_for(tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE_FILE": "phrase.txt"})
    assert settings.passphrase_file == str(tmp_path / "phrase.txt")
    assert cli_environment(settings, {})["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(tmp_path / "phrase.txt")
    with pytest.raises(ConfigError, match="not a readable file"):
        settings_for(tmp_path, environ={"PULUMI_CONFIG_PASSPHRASE_FILE": "missing.txt"})


@pytest.mark.parametrize("provider", ["awskms://alias/erp-pulumi?region=sa-east-1",
                                      "azurekeyvault://erp-vault.vault.azure.net/keys/pulumi"])
def test_a_key_service_needs_no_passphrase(tmp_path, provider):
    settings = settings_for(tmp_path, {"secretsProvider": provider}, environ={})
    assert settings.secrets_provider == provider


def test_default_secrets_need_a_passphrase_except_on_the_pulumi_cloud(tmp_path):
    cloud = {"secretsProvider": "default", "backendUrl": "https://api.pulumi.com"}
    assert settings_for(tmp_path, cloud, environ={}).backend_url == "https://api.pulumi.com"
    with pytest.raises(ConfigError, match="passphrase"):
        settings_for(tmp_path, {"secretsProvider": "default"}, environ={})


def test_backend_url_from_the_file_and_from_the_environment(tmp_path):
    assert settings_for(tmp_path, {"backendUrl": "s3://erp-state?region=sa-east-1"}).backend_url == \
           "s3://erp-state?region=sa-east-1"
    env = {**PASSPHRASE, "PULUMI_BACKEND_URL": "azblob://erp-state"}
    assert settings_for(tmp_path, {"backendUrl": "s3://erp-state"}, environ=env).backend_url == "azblob://erp-state"
    assert not (tmp_path / ".reconciler").exists()  # no local folder for a bucket backend


def test_a_relative_file_backend_is_taken_from_the_repository_root(tmp_path):
    settings = settings_for(tmp_path, {"backendUrl": "file://state/pulumi?no_tmp_dir=true"})
    assert settings.backend_url == f"file://{tmp_path}/state/pulumi?no_tmp_dir=true"
    assert (tmp_path / "state" / "pulumi").is_dir()


@pytest.mark.parametrize("section, message", [
    ({"backendUrl": "/var/state"}, "backendUrl must be a URL"),
    ({"secretsProvider": "vault"}, "secretsProvider"),
    ({"backend": "s3://x"}, "unknown pulumi setting"),
    ({"parallel": 0}, "parallel"),
    ({"parallel": True}, "parallel"),
    ({"refresh": "yes"}, "refresh must be true or false"),
    ({"plugins": {"aws": "latest"}}, "not a version"),
    ({"plugins": {"aws": {"version": "7.51.1", "server": "mirror"}}}, "server must be a URL"),
    ({"plugins": ["aws"]}, "plugins must map"),
    ({"config": {"gcp": {"gcp:project": "x"}}}, "unknown cloud"),
    ({"config": {"aws": {"aws:region": "us-east-1"}}}, "spec.region"),
    ({"config": {"azure": {"azure-native:location": "brazilsouth"}}}, "spec.region"),
    ({"config": {"aws": {"profile": "erp"}}}, "needs a namespace"),
    ({"config": {"aws": {"aws:profile": {"secret": True}}}}, "plain value"),
])
def test_bad_settings_are_config_errors(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path, section)


def test_overrides(tmp_path):
    settings = settings_for(tmp_path, {
        "workDir": "build/pulumi", "parallel": 8, "refresh": False,
        "plugins": {"aws": "7.51.1", "azure-native": {"version": "v3.29.0", "server": "https://mirror.example/"},
                    "random": "v4.16.0"},
        "config": {"aws": {"aws:profile": "erp", "aws:skipMetadataApiCheck": True, "aws:maxRetries": 25,
                           "aws:defaultTags": {"tags": {"owner": "erp"}},
                           "aws:accessKey": {"value": "AKIAEXAMPLE", "secret": True}}}})
    assert settings.work_dir == tmp_path / "build" / "pulumi"
    assert (settings.parallel, settings.refresh) == (8, False)
    assert settings.plugins == (PluginPin("aws", "v7.51.1"),
                                PluginPin("azure-native", "v3.29.0", "https://mirror.example/"),
                                PluginPin("random", "v4.16.0"))
    assert settings.stack_config["aws"] == {
        "aws:profile": ConfigEntry("erp"), "aws:skipMetadataApiCheck": ConfigEntry("true"),
        "aws:maxRetries": ConfigEntry("25"), "aws:defaultTags": ConfigEntry('{"tags": {"owner": "erp"}}'),
        "aws:accessKey": ConfigEntry("AKIAEXAMPLE", secret=True)}


def test_pinned_plugins_are_installed_only_for_their_cloud(tmp_path):
    settings = settings_for(tmp_path, {"plugins": {"aws": "v7.51.1", "azure-native": "v3.29.0", "random": "v4.16.0"}})
    assert [p.name for p in settings.plugins_for("aws")] == ["aws", "random"]
    assert [p.name for p in settings.plugins_for("azure")] == ["azure-native", "random"]
    assert [p.name for p in settings.plugins_for("intera")] == ["random"]


def test_make_engine_builds_the_pulumi_engine_from_the_repository_config(tmp_path, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    engine = make_engine("pulumi", RepoConfig(root=tmp_path, pulumi={"parallel": 3}), db=None)
    assert isinstance(engine, PulumiEngine) and engine.name == "pulumi"
    assert engine.settings.parallel == 3 and engine.settings.backend_url.startswith(f"file://{tmp_path}")


# ---------------------------------------------------------------------------------------------
# The Automation API objects the engine builds

def test_project_settings_pin_the_backend_and_the_runtime(tmp_path):
    project = project_settings(settings_for(tmp_path), "erp-aws")
    assert isinstance(project, auto.ProjectSettings)
    assert (project.name, project.runtime, project.main) == ("erp-aws", "python", str(tmp_path))
    assert isinstance(project.backend, auto.ProjectBackend)
    assert project.backend.url == f"file://{tmp_path}/.reconciler/pulumi"
    assert project.to_dict()["backend"] == {"url": f"file://{tmp_path}/.reconciler/pulumi"}


def test_workspace_options_give_each_stack_its_own_work_dir(tmp_path):
    settings = settings_for(tmp_path, {"secretsProvider": "awskms://alias/erp"})

    def program() -> None:
        pass

    options = workspace_options(settings, "erp-intera", "globex-protheus-prod", program,
                                environ={"PYTHONPATH": "/opt/site"})
    assert isinstance(options, auto.LocalWorkspaceOptions)
    assert options.work_dir == str(tmp_path / ".reconciler" / "pulumi-work" / "erp-intera" / "globex-protheus-prod")
    assert options.program is program and options.secrets_provider == "awskms://alias/erp"
    assert options.project_settings.name == "erp-intera"
    assert options.env_vars == {
        "PULUMI_BACKEND_URL": settings.backend_url, "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_PYTHON_CMD": sys.executable, "PYTHONPATH": f"{CODE_ROOT}{os.pathsep}/opt/site"}
    assert (CODE_ROOT / "stacks" / "intera" / "provider.py").is_file()  # what dynamic providers import


@pytest.mark.parametrize("cloud, expected", [
    ("aws", {"aws:region": ConfigEntry("sa-east-1"), "aws:profile": ConfigEntry("erp")}),
    ("azure", {"azure-native:location": ConfigEntry("sa-east-1")}),
    ("intera", {}),
])
def test_stack_config_takes_the_region_from_the_spec(tmp_path, cloud, expected):
    settings = settings_for(tmp_path, {"config": {"aws": {"aws:profile": "erp"}}})
    assert stack_config(settings, cloud, "sa-east-1") == expected


def test_stack_config_without_a_spec_has_no_region(tmp_path):
    assert stack_config(settings_for(tmp_path), "aws", None) == {}


def test_config_changes_make_the_stack_config_exact():
    current = {"aws:region": auto.ConfigValue("us-east-1"), "aws:profile": auto.ConfigValue("erp"),
               "aws:accessKey": auto.ConfigValue("AKIA", secret=False), "aws:stale": auto.ConfigValue("1")}
    desired = {"aws:region": ConfigEntry("sa-east-1"), "aws:profile": ConfigEntry("erp"),
               "aws:accessKey": ConfigEntry("AKIA", secret=True)}
    to_set, to_remove = config_changes(current, desired)
    assert to_set == {"aws:region": ConfigEntry("sa-east-1"), "aws:accessKey": ConfigEntry("AKIA", secret=True)}
    assert to_remove == ["aws:stale"]
    assert config_changes({k: auto.ConfigValue(v.value, v.secret) for k, v in desired.items()}, desired) == ({}, [])
    values = config_map(to_set)
    assert isinstance(values["aws:accessKey"], auto.ConfigValue)
    assert (values["aws:accessKey"].value, values["aws:accessKey"].secret) == ("AKIA", True)


def test_the_inline_program_builds_the_job_input_with_its_cloud_program(monkeypatch):
    built = []
    fake_module = SimpleNamespace(PROJECT="erp-intera", build=built.append)
    monkeypatch.setattr("reconciler.engines.pulumi_engine.program_for", lambda cloud: fake_module)
    program = inline_program("intera", "the-input")
    assert built == []  # nothing runs until the SDK calls it
    program()
    assert built == ["the-input"]


def test_an_unknown_cloud_fails_before_any_cli_runs():
    with pytest.raises(ValueError, match="no stack program for cloud 'gcp'"):
        inline_program("gcp", None)


# ---------------------------------------------------------------------------------------------
# Engine events (recorded streams)

def test_an_up_stream_becomes_one_step_per_changed_resource():
    events, translator = translate("events_up_aws.json")
    assert steps(events) == [
        ("resource-pre", "update", "app-1"), ("resource-done", "update", "app-1"),
        ("resource-pre", "replace", "artifact-artifacts/patches/dev-fin-hotfix.ptm"),
        ("resource-pre", "update", "deployment"), ("resource-done", "update", "deployment"),
        ("resource-pre", "delete", "cost-alert"), ("resource-done", "delete", "cost-alert"),
        # the replacement finishes with the deletion of the old object, at the end of the update
        ("resource-done", "replace", "artifact-artifacts/patches/dev-fin-hotfix.ptm"),
    ]
    assert translator.finish() == []


def test_step_events_carry_urn_type_and_diff():
    events, _ = translate("events_up_aws.json")
    first = events[0]
    assert (first.urn, first.type, first.step_name) == (APP1, "aws:ec2/instance:Instance",
                                                        "update aws:ec2/instance:Instance app-1")
    assert first.detail == {"diffs": ["instanceType"]}
    replace = next(e for e in events if e.op == "replace")
    assert replace.detail == {"diffs": ["key", "source", "sourceHash"], "replace_keys": ["key"]}


def test_diagnostics_keep_warnings_and_drop_progress_messages():
    events, _ = translate("events_up_aws.json")
    diagnostics = [e for e in events if e.kind == "diagnostic"]
    assert len(diagnostics) == 1  # the ephemeral "stopping instance (10s)" is not kept
    assert (diagnostics[0].severity, diagnostics[0].urn, diagnostics[0].name) == ("warning", APP1, "app-1")
    assert diagnostics[0].message.startswith("warning: aws:ec2/instance:Instance resource 'app-1' has a problem")


def test_a_failed_resource_carries_the_error_pulumi_reported_before():
    events, translator = translate("events_up_failed_aws.json")
    assert steps(events) == [("resource-pre", "update", "app-1"), ("resource-pre", "update", "deployment"),
                             ("resource-done", "update", "deployment"), ("resource-failed", "update", "app-1")]
    failed = next(e for e in events if e.kind == "resource-failed")
    assert failed.severity == "error" and failed.detail == {"status": 1}
    assert failed.message.startswith("error: updating EC2 Instance (i-0c1f2e3d4b5a69788)")
    assert "IncorrectInstanceState" in failed.message and "<{%" not in failed.message
    assert translator.error_messages()[-1] == "error: update failed"


def test_a_delete_before_replace_is_one_replace_step_and_internals_make_none():
    events, _ = translate("events_up_intera_replace.json")
    assert steps(events) == [
        ("resource-pre", "replace", "globex-protheus-qa-topology"),
        ("resource-done", "replace", "globex-protheus-qa-topology"),
        ("resource-pre", "update", "globex-protheus-qa-configuration"),
        ("resource-done", "update", "globex-protheus-qa-configuration"),
    ]  # no step for the root stack, the default pulumi-python provider or the unchanged power state
    diagnostics = [e for e in events if e.kind == "diagnostic"]
    assert [(d.severity, d.message) for d in diagnostics] == [
        ("info", "waiting for pipeline pl-000042 (delete-topology)")]  # info#err kept as info; debug dropped


def test_finish_closes_steps_pulumi_reports_no_outputs_for():
    events = recorded("events_up_aws.json")
    cut = next(i for i, e in enumerate(events)
               if e.res_outputs_event and e.res_outputs_event.metadata.op.value == "delete-replaced")
    out, translator = translate("", events[:cut])
    assert ("resource-done", "replace", "artifact-artifacts/patches/dev-fin-hotfix.ptm") not in steps(out)
    assert steps(translator.finish()) == [("resource-done", "replace", "artifact-artifacts/patches/dev-fin-hotfix.ptm")]


def test_a_preview_stream_becomes_resource_changes():
    collector = PreviewCollector()
    forwarded = [e for event in recorded("events_preview_aws.json") for e in collector.translate(event)]
    assert collector.changes() == [
        ResourceChange(AWS_STACK + "aws:ec2/eip:Eip::public-ip", "aws:ec2/eip:Eip", "public-ip", Op.CREATE),
        ResourceChange(OBJECT, "aws:s3/bucketObjectv2:BucketObjectv2", "artifact-artifacts/patches/dev-fin-hotfix.ptm",
                       Op.REPLACE, ("key", "source", "sourceHash"), ("key",)),
        ResourceChange(APP1, "aws:ec2/instance:Instance", "app-1", Op.UPDATE, ("instanceType",)),
        ResourceChange(PARAM, "aws:ssm/parameter:Parameter", "deployment", Op.UPDATE, ("insecureValue",)),
        ResourceChange(BUDGET, "aws:budgets/budget:Budget", "cost-alert", Op.DELETE),
    ]  # not the root stack, the engine's default provider, the data read or the unchanged resources
    assert [(e.kind, e.severity) for e in forwarded] == [("diagnostic", "warning")]


def test_a_preview_notices_a_broken_event_stream():
    events = recorded("events_preview_aws.json")
    summary = events[-2].summary_event.resource_changes
    complete = PreviewCollector()
    for event in events:
        complete.translate(event)
    assert not complete.missed_events(summary)
    broken = PreviewCollector()
    broken.translate(events[-2])  # only the summary arrived
    assert broken.missed_events(summary)
    assert not broken.missed_events({"same": 21})


def test_urn_helpers():
    mock_form = "urn:pulumi:dev::erp-aws::pulumi:pulumi:Stack$aws:ec2/instance:Instance::app-1"
    assert simple_urn(mock_form) == "urn:pulumi:dev::erp-aws::aws:ec2/instance:Instance::app-1"
    assert urn_type("urn:pulumi:dev::p::my:comp:Comp$aws:s3/bucket:Bucket::b") == "aws:s3/bucket:Bucket"
    assert is_default_provider("pulumi:providers:aws", "urn:pulumi:dev::p::pulumi:providers:aws::default_7_51_1")
    assert is_default_provider("pulumi:providers:pulumi-python",
                               "urn:pulumi:dev::p::pulumi:providers:pulumi-python::default")
    assert not is_default_provider("pulumi:providers:aws", "urn:pulumi:dev::p::pulumi:providers:aws::aws")
    assert clean_message("\x1b[31m<{%fg 1%}>error:<{%reset%}> boom\x1b[0m\n") == "error: boom"


# ---------------------------------------------------------------------------------------------
# Errors (recorded CLI output)

DIY_LOCK = ("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or "
            "delete the lock file with `pulumi cancel`.\n  file:///srv/gitops/acme/.reconciler/pulumi/.pulumi/locks/"
            "organization/erp-aws/acme-protheus-dev/8c4c5c2e-3b0e-4d4f-9a41-0f5f3b1d7a11.json: created by "
            "reconciler@ci-runner-7 (pid 4182) at 2025-11-04T17:02:55Z")


def test_a_locked_local_backend_is_busy_and_names_the_holder():
    exc = command_error(DIY_LOCK)
    assert isinstance(exc, auto.ConcurrentUpdateError)  # the SDK's own classification
    error = map_error(exc, "up", "acme-protheus-dev")
    assert isinstance(error, EngineBusy) and isinstance(error, TemporaryError) and error.delay == LOCK_DELAY
    assert "reconciler@ci-runner-7, pid 4182, since 2025-11-04T17:02:55Z" in str(error)
    assert "8c4c5c2e-3b0e-4d4f-9a41-0f5f3b1d7a11.json" in str(error)


def test_an_update_in_progress_on_the_service_is_busy():
    error = map_error(command_error("error: [409] Conflict: Another update is currently in progress.\n"),
                      "up", "acme-protheus-dev")
    assert isinstance(error, EngineBusy) and "another update in progress" in str(error)


@pytest.mark.parametrize("stderr", [
    "error: creating Budget (acme-protheus-dev-cost): operation error Budgets: CreateBudget, exceeded maximum number "
    "of attempts, 25, https response error StatusCode: 400, RequestID: 6a0d, "
    "api error ThrottlingException: Rate exceeded",
    "error: reading EC2 Instance (i-0c1f2e3d4b5a69788): operation error EC2: DescribeInstances, https response error "
    "StatusCode: 503, RequestID: 1f2e, api error RequestLimitExceeded: Request limit exceeded.",
    "error: autorest/azure: Service returned an error. Status=429 Code=\"TooManyRequests\" Message=\"Number of write "
    "requests for subscription '00000000-0000-0000-0000-000000000000' exceeded the limit of '1200' for time interval "
    "'01:00:00'.\"",
    "error: POST /topologies/globex-protheus-qa/backups: HTTP 429 (request req-000042)",
    "error: https response error StatusCode: 429, RequestID: 77aa",
])
def test_throttling_is_busy(stderr):
    error = map_error(command_error(stderr), "up", "acme-protheus-dev")
    assert isinstance(error, EngineBusy) and error.delay == THROTTLE_DELAY
    assert "throttling" in str(error)


def test_throttling_reported_only_as_a_diagnostic_is_busy_too():
    error = map_error(command_error("error: update failed"), "up", "s",
                      diagnostics=["error: creating Budget: api error ThrottlingException: Rate exceeded"])
    assert isinstance(error, EngineBusy)


def test_a_number_429_elsewhere_is_not_throttling():
    error = map_error(command_error("error: instance i-0429abc: volume vol-429 is in use\nerror: update failed"),
                      "up", "s")
    assert type(error) is EngineError


@pytest.mark.parametrize("stderr", [
    "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or "
    "PULUMI_CONFIG_PASSPHRASE_FILE environment variables",
    "error: constructing secrets manager of type \"passphrase\": unable to find either `PULUMI_CONFIG_PASSPHRASE` or "
    "`PULUMI_CONFIG_PASSPHRASE_FILE` when trying to access the Passphrase Secrets Provider; please ensure one of these "
    "environment variables is set to allow the operation to continue",
])
def test_a_missing_passphrase_is_a_config_error(stderr):
    error = map_error(command_error(stderr), "preview", "acme-protheus-dev")
    assert isinstance(error, ConfigError) and "export PULUMI_CONFIG_PASSPHRASE" in str(error)


def test_a_wrong_passphrase_is_a_config_error():
    stderr = ("error: failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct "
              "passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase")
    error = map_error(command_error(stderr), "preview", "acme-protheus-dev")
    assert isinstance(error, ConfigError) and "does not unlock" in str(error)


@pytest.mark.parametrize("exc", [
    FileNotFoundError(2, "No such file or directory", "pulumi"),
    command_error("/bin/sh: 1: pulumi: not found", code=127),
    RuntimeError("Could not find the pulumi CLI: install it or set the path"),
])
def test_a_missing_cli_says_how_to_get_one(exc):
    error = map_error(exc, "preview", "acme-protheus-dev")
    assert type(error) is EngineError
    assert "install the Pulumi CLI" in str(error) and "--engine sandbox" in str(error)


def test_another_missing_file_is_not_a_missing_cli():
    error = map_error(FileNotFoundError(2, "No such file or directory", "/tmp/w/Pulumi.yaml"), "up", "s")
    assert type(error) is EngineError and "install the Pulumi CLI" not in str(error)


def test_an_old_cli_is_an_engine_error():
    error = map_error(auto.InvalidVersionError("Minimum version requirement failed. The minimum CLI version "
                                               "requirement is 3.1.0, your current CLI version is 2.25.2."), "up", "s")
    assert type(error) is EngineError and "2.25.2" in str(error)


PROGRAM_STDOUT = """Updating (globex-protheus-prod):

    pulumi:pulumi:Stack erp-intera-globex-protheus-prod running
    pulumi:pulumi:Stack erp-intera-globex-protheus-prod **failed** 1 error
Diagnostics:
  pulumi:pulumi:Stack (erp-intera-globex-protheus-prod):
    error: python inline source runtime error: globex-protheus-prod: Intera does not offer Working-hours schedule (AWS only in the portal)
    Traceback (most recent call last):
      File "/work/main/.venv/lib/python3.11/site-packages/pulumi/automation/_server.py", line 104, in run
        loop.run_until_complete(run_in_stack(self.program))
    ValueError: globex-protheus-prod: Intera does not offer Working-hours schedule (AWS only in the portal)

Resources:
    1 unchanged

Duration: 1s"""


def test_a_failing_program_is_an_engine_error_with_its_message():
    exc = command_error("", stdout=PROGRAM_STDOUT)
    assert isinstance(exc, auto.InlineSourceRuntimeError)
    error = map_error(exc, "up", "globex-protheus-prod")
    assert type(error) is EngineError
    assert str(error) == ("the stack program of globex-protheus-prod failed: globex-protheus-prod: Intera does not "
                          "offer Working-hours schedule (AWS only in the portal)")


def test_anything_else_carries_the_tail_of_stderr_and_the_errors_seen():
    stderr = "\n".join(f"log line {n}" for n in range(40)) + "\nerror: update failed"
    error = map_error(command_error(stderr, code=255), "up", "acme-protheus-dev",
                      diagnostics=["error: updating EC2 Instance (i-0c1f): IncorrectInstanceState"])
    message = str(error)
    assert type(error) is EngineError and "pulumi up of stack acme-protheus-dev failed (exit 255)" in message
    assert message.splitlines()[-2:] == ["error: update failed",
                                         "error: updating EC2 Instance (i-0c1f): IncorrectInstanceState"]
    assert "log line 39" in message and "log line 10\n" not in message


def test_errors_that_are_not_commands_and_reconciler_errors():
    lost = map_error(RuntimeError("summary event never found"), "preview", "s")
    assert type(lost) is EngineError and "summary event never found" in str(lost)
    mine = ConfigError("already mapped")
    assert map_error(mine, "up", "s") is mine


# ---------------------------------------------------------------------------------------------
# The recorded deployment -> ResourceGraph

ROOT = "/srv/gitops/acme"


def test_the_deployment_graph_leaves_out_the_engine_internals():
    graph = graph_from_deployment(deployment()["deployment"], "erp-aws", "acme-protheus-dev", ROOT)
    assert (graph.project, graph.stack) == ("erp-aws", "acme-protheus-dev")
    assert [r.urn for r in graph.resources] == [
        AWS_STACK + "aws:ec2/instance:Instance::app-1",
        AWS_STACK + "aws:ec2/securityGroup:SecurityGroup::sg",
        OBJECT,
        AWS_STACK + "pulumi:providers:aws::aws",
    ]  # no root stack, no default provider, not the app-2 left pending deletion by a replacement


def test_an_instance_reads_back_as_the_mock_runtime_records_it():
    app1 = graph_from_deployment(deployment()["deployment"], "erp-aws", "acme-protheus-dev", ROOT).named("app-1")
    assert (app1.type, app1.id, app1.provider, app1.parent, app1.custom) == \
           ("aws:ec2/instance:Instance", "i-0c1f2e3d4b5a69788", "aws", None, True)
    assert app1.inputs["rootBlockDevice"] == {"encrypted": True, "volumeSize": 100, "volumeType": "gp3"}
    assert type(app1.inputs["rootBlockDevice"]["volumeSize"]) is int
    assert app1.inputs["instanceType"] == "m6i.large" and app1.inputs["metadataOptions"] == {"httpTokens": "required"}
    assert app1.depends_on == (AWS_STACK + "aws:ec2/securityGroup:SecurityGroup::sg",
                               AWS_STACK + "aws:iam/instanceProfile:InstanceProfile::agent-profile")
    assert app1.outputs["arn"] == "arn:aws:ec2:sa-east-1:123456789012:instance/i-0c1f2e3d4b5a69788"
    assert "__meta" not in app1.outputs and "instanceType" not in app1.outputs  # only what the cloud added


def test_the_explicit_provider_keeps_only_the_program_inputs():
    provider = graph_from_deployment(deployment()["deployment"], "erp-aws", "s", ROOT).named("aws")
    assert provider.inputs == {"region": "sa-east-1", "skipCredentialsValidation": "false",
                               "skipRegionValidation": "true"}  # as synthesised; version is the engine's
    assert provider.outputs == {"version": "7.51.1"}  # the plugin version, kept; __internal is Pulumi's own
    assert provider.id == "3f2b6c1e-8d4a-4e0f-9a57-2c61d0b7e9a4" and provider.provider is None


def test_assets_are_relative_to_the_repository():
    item = graph_from_deployment(deployment()["deployment"], "erp-aws", "s", ROOT).by_urn()[OBJECT]
    assert item.inputs["source"] == {"asset": "file", "path": "artifacts/patches/dev-fin-hotfix.ptm"}


def test_stack_outputs_are_the_graph_outputs_with_secrets_digested_as_the_mock_runtime_does():
    graph = graph_from_deployment(deployment()["deployment"], "erp-aws", "s", ROOT)
    arn = "arn:aws:secretsmanager:sa-east-1:123456789012:secret:rds!acme-protheus-dev-db-32d5b3"
    assert graph.outputs["sftpPort"] == 2323 and type(graph.outputs["sftpPort"]) is int
    assert graph.outputs["dbMasterSecret"] == normalize({SIG: SECRET, "value": arn})  # the wire form's digest
    assert graph.outputs["dbMasterSecret"]["secret"].startswith("sha256:")
    assert arn not in json.dumps(graph.to_data())  # never in clear


def test_the_graph_is_plain_data():
    graph = graph_from_deployment(deployment()["deployment"], "erp-aws", "s", ROOT)
    assert ResourceGraph.from_data(json.loads(json.dumps(graph.to_data()))) == graph


def test_a_stack_that_never_ran_is_an_empty_graph():
    assert graph_from_deployment(None, "erp-aws", "s") == ResourceGraph("erp-aws", "s", ())
    assert graph_from_deployment({"manifest": {}}, "erp-aws", "s").resources == ()


def test_provider_references_and_secrets_without_plaintext():
    assert provider_name("urn:pulumi:s::p::pulumi:providers:aws::aws::3f2b6c1e-8d4a") == "aws"
    assert provider_name("urn:pulumi:s::p::pulumi:providers:aws::default_7_51_1::04da6b54") is None
    assert provider_name("") is None
    assert decode_secrets({"a": [{SIG: SECRET, "ciphertext": "AAAA"}]}) == \
           {"a": [{SIG: SECRET, "value": {"ciphertext": "AAAA"}}]}


# ---------------------------------------------------------------------------------------------
# The engine, with the Automation API stack stood in for at the engine's seam (``opener``)

class StandInStack:
    """What the engine calls on ``auto.Stack``; operations replay a recorded event stream."""

    def __init__(self, events: list[auto.EngineEvent] = (), *, config: dict | None = None,
                 failure: BaseException | None = None, summary: dict | None = None):
        self.events, self.failure, self.calls = list(events), failure, []
        self.config = dict(config or {})
        self.summary = summary if summary is not None else self._summary()
        self.workspace = SimpleNamespace(install_plugin=lambda *a: self.calls.append(("install_plugin", a)),
                                         install_plugin_from_server=lambda *a: self.calls.append(("install_from", a)))

    def _summary(self) -> dict:
        found = [e.summary_event.resource_changes for e in self.events if e.summary_event]
        return found[0] if found else {}

    def _run(self, name: str, on_event=None, **options):
        self.calls.append((name, options))
        for event in self.events:
            if on_event is not None:
                on_event(event)
        if self.failure is not None:
            raise self.failure
        return auto.PreviewResult("", "", self.summary)

    def preview(self, **kw):
        return self._run("preview", **kw)

    def preview_destroy(self, **kw):
        return self._run("preview_destroy", **kw)

    def up(self, **kw):
        self._run("up", **kw)

    def destroy(self, **kw):
        self._run("destroy", **kw)

    def refresh(self, **kw):
        self._run("refresh", **kw)

    def get_all_config(self):
        self.calls.append(("get_all_config", ()))
        return {k: auto.ConfigValue(v) for k, v in self.config.items()}

    def set_all_config(self, values):
        self.calls.append(("set_all_config", {k: (v.value, v.secret) for k, v in values.items()}))

    def remove_all_config(self, keys):
        self.calls.append(("remove_all_config", list(keys)))

    def export_stack(self):
        self.calls.append(("export_stack", ()))
        return auto.Deployment(version=3, deployment=deployment()["deployment"])

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class Opener:
    def __init__(self, stack: StandInStack | None):
        self.stack, self.opened = stack, []

    def __call__(self, stack_name, project, opts, create):
        self.opened.append(SimpleNamespace(stack=stack_name, project=project, opts=opts, create=create))
        return self.stack


def aws_job(revision: str | None = "4f1c2ab", with_input: bool = True) -> StackJob:
    env = yaml.safe_load((EXAMPLES / "acme" / "protheus-dev.yaml").read_text())
    customer = yaml.safe_load((EXAMPLES / "customers" / "acme.yaml").read_text())
    inp = StackInput.from_documents(env, customer, repo_root=ROOT) if with_input else None
    return StackJob("acme-protheus-dev", "aws", "erp-aws", inp, ResourceGraph.empty("erp-aws", "acme-protheus-dev"),
                    revision)


def engine_with(tmp_path, stack: StandInStack | None, pulumi: dict | None = None) -> tuple[PulumiEngine, Opener]:
    opener = Opener(stack)
    return PulumiEngine(settings_for(tmp_path, pulumi), opener=opener), opener


def test_preview_runs_the_inline_program_with_the_stack_config_in_place(tmp_path):
    stack = StandInStack(recorded("events_preview_aws.json"), config={"aws:region": "us-east-1", "aws:old": "x"})
    engine, opener = engine_with(tmp_path, stack, {"parallel": 4})
    seen: list[EngineEvent] = []
    changes = engine.preview(aws_job(), seen.append)
    assert [c.op for c in changes] == [Op.CREATE, Op.REPLACE, Op.UPDATE, Op.UPDATE, Op.DELETE]
    assert [e.severity for e in seen] == ["warning"]
    (opened,) = opener.opened
    assert (opened.stack, opened.project, opened.create) == ("acme-protheus-dev", "erp-aws", True)
    assert callable(opened.opts.program) and Path(opened.opts.work_dir).is_dir()
    assert ("remove_all_config", ["aws:old"]) in stack.calls
    assert ("set_all_config", {"aws:region": ("sa-east-1", False)}) in stack.calls  # the spec's region
    name, options = stack.calls[-1]
    assert name == "preview" and options == {"refresh": True, "color": "never", "parallel": 4,
                                             "message": "erp-gitops-reconciler: acme-protheus-dev at 4f1c2ab"}


def test_preview_of_a_removal_is_a_destroy_preview_without_a_program(tmp_path):
    stack = StandInStack(recorded("events_preview_aws.json"))
    engine, opener = engine_with(tmp_path, stack)
    engine.preview(aws_job(with_input=False), lambda e: None)
    assert opener.opened[0].opts.program is None and opener.opened[0].create is False
    assert stack.names() == ["preview_destroy"]  # no config is touched without a spec
    engine_none, _ = engine_with(tmp_path, None)
    assert engine_none.preview(aws_job(with_input=False), lambda e: None) == []


def test_a_preview_whose_events_were_lost_is_an_error(tmp_path):
    stack = StandInStack([], summary={"same": 10, "update": 2})
    engine, _ = engine_with(tmp_path, stack)
    with pytest.raises(EngineError, match="event stream carried none"):
        engine.preview(aws_job(), lambda e: None)


def test_up_reports_each_step_and_returns_the_exported_graph(tmp_path):
    stack = StandInStack(recorded("events_up_aws.json"), config={"aws:region": "sa-east-1"})
    engine, _ = engine_with(tmp_path, stack)
    seen: list[EngineEvent] = []
    graph = engine.up(aws_job(), seen.append)
    assert steps(seen)[0] == ("resource-pre", "update", "app-1") and len(steps(seen)) == 8
    assert graph.named("app-1").id == "i-0c1f2e3d4b5a69788" and graph.stack == "acme-protheus-dev"
    assert "set_all_config" not in stack.names()  # the config already matched
    assert stack.names()[-2:] == ["up", "export_stack"]


def test_pinned_plugins_are_installed_once_per_engine(tmp_path):
    stack = StandInStack(recorded("events_up_aws.json"), config={"aws:region": "sa-east-1"})
    engine, _ = engine_with(tmp_path, stack, {"plugins": {"aws": "7.51.1", "azure-native": "v3.29.0",
                                                          "tls": {"version": "v5.0.0", "server": "https://mirror/"}}})
    engine.up(aws_job(), lambda e: None)
    engine.up(aws_job(), lambda e: None)
    installs = [c for c in stack.calls if c[0].startswith("install")]
    assert installs == [("install_plugin", ("aws", "v7.51.1")), ("install_from", ("tls", "v5.0.0", "https://mirror/"))]


def test_a_failed_up_reports_the_failed_step_and_raises_an_engine_error(tmp_path):
    failure = command_error("error: update failed", stdout="Updating (acme-protheus-dev):\n...", code=255)
    stack = StandInStack(recorded("events_up_failed_aws.json"), config={"aws:region": "sa-east-1"}, failure=failure)
    engine, _ = engine_with(tmp_path, stack)
    seen: list[EngineEvent] = []
    with pytest.raises(EngineError) as caught:
        engine.up(aws_job(), seen.append)
    assert ("resource-failed", "update", "app-1") in steps(seen)
    assert "IncorrectInstanceState" in str(caught.value)  # the cause, from the event stream
    assert caught.value.__cause__ is failure


def test_a_locked_stack_makes_up_busy(tmp_path):
    stack = StandInStack([], config={"aws:region": "sa-east-1"}, failure=command_error(DIY_LOCK))
    engine, _ = engine_with(tmp_path, stack)
    with pytest.raises(EngineBusy, match="locked by another Pulumi operation"):
        engine.up(aws_job(), lambda e: None)


def test_a_stop_asked_through_on_event_is_raised_once_the_operation_ends(tmp_path):
    stack = StandInStack(recorded("events_up_aws.json"), config={"aws:region": "sa-east-1"})
    engine, _ = engine_with(tmp_path, stack)
    seen: list[EngineEvent] = []

    def sink(event: EngineEvent) -> None:
        seen.append(event)
        if event.kind == "resource-pre":
            raise InterruptedRun("SIGTERM")

    with pytest.raises(InterruptedRun):
        engine.up(aws_job(), sink)
    assert stack.names()[-2:] == ["up", "export_stack"]  # the Pulumi operation was not cut in the middle
    assert len(steps(seen)) == 8  # and its steps were all still reported


def test_up_needs_the_spec(tmp_path):
    engine, opener = engine_with(tmp_path, StandInStack())
    with pytest.raises(EngineError, match="no stack input"):
        engine.up(aws_job(with_input=False), lambda e: None)
    assert opener.opened == []


def test_destroy_runs_without_a_program_and_skips_a_stack_that_does_not_exist(tmp_path):
    stack = StandInStack(recorded("events_up_aws.json"))
    engine, opener = engine_with(tmp_path, stack, {"refresh": False})
    seen: list[EngineEvent] = []
    engine.destroy(aws_job(with_input=False), seen.append)
    assert opener.opened[0].opts.program is None and opener.opened[0].create is False
    assert stack.names() == ["destroy"] and stack.calls[0][1]["refresh"] is False
    assert steps(seen)  # its events reached the caller
    engine_none, _ = engine_with(tmp_path, None)
    assert engine_none.destroy(aws_job(with_input=False), seen.append) is None


def test_refresh_returns_what_exists(tmp_path):
    stack = StandInStack()
    engine, opener = engine_with(tmp_path, stack)
    graph = engine.refresh(aws_job())
    assert stack.names() == ["refresh", "export_stack"] and opener.opened[0].create is False
    assert len(graph.resources) == 4
    engine_none, _ = engine_with(tmp_path, None)
    assert engine_none.refresh(aws_job()) == ResourceGraph.empty("erp-aws", "acme-protheus-dev")


def test_every_domain_action_has_a_carrier_or_is_refused(tmp_path):
    assert set(ACTION_CARRIERS) | NOT_CARRIED == set(ACTION_KINDS) and not set(ACTION_CARRIERS) & NOT_CARRIED
    engine, opener = engine_with(tmp_path, StandInStack())
    assert engine.run_action(aws_job(), Action("patch-apply", "apply patch")) == {"carried_by": "deployment document"}
    assert engine.run_action(aws_job(), Action("power-off", "turn off")) == {"carried_by": "stack resources"}
    assert engine.run_action(aws_job(), Action("remove-topology", "remove")) == {"carried_by": "stack destroy"}
    assert engine.run_action(aws_job(), Action("backup-before-change", "back up", {"name": "b"})) == \
           {"carried_by": "stack resources", "taken": "during up, together with the other changes"}
    assert opener.opened == []  # reporting a carrier runs nothing


def test_a_backup_before_removal_is_refused_before_anything_is_deleted(tmp_path):
    engine, _ = engine_with(tmp_path, StandInStack())
    with pytest.raises(EngineError, match="nothing was deleted"):
        engine.run_action(aws_job(with_input=False), Action("backup-before-remove", "back up", {"backup": "pre"}))


@pytest.mark.skipif(shutil.which("pulumi") is not None, reason="the Pulumi CLI is installed here")
def test_without_the_cli_every_operation_says_how_to_get_it(tmp_path):
    engine = PulumiEngine(settings_for(tmp_path))  # the real Automation API, no stand-in
    for run in (lambda: engine.preview(aws_job(), lambda e: None), lambda: engine.refresh(aws_job()),
                lambda: engine.destroy(aws_job(with_input=False), lambda e: None)):
        with pytest.raises(EngineError, match="install the Pulumi CLI"):
            run()


# ---------------------------------------------------------------------------------------------
# With the real Pulumi CLI (skipped when it is not on PATH): the Intera program against the
# reference Intera server, in a file:// backend in tmp_path

INTERA_TOKEN_ENV = "INTERA_API_TOKEN_RECONCILER_TEST"


@pytest.fixture
def intera(tmp_path, monkeypatch):
    """The reference Intera server, a passphrase, and a QA variant of examples/globex (QA: it may
    be destroyed; the PROD example is protected)."""
    from stacks.intera.fake_server import FakeIntera

    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "integration-test")
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    with FakeIntera(token="integration-token") as fake:
        monkeypatch.setenv(INTERA_TOKEN_ENV, fake.token)
        env = yaml.safe_load((EXAMPLES / "globex" / "protheus-prod.yaml").read_text())
        env["metadata"]["name"], env["spec"]["type"] = "globex-protheus-qa", "QA"
        customer = yaml.safe_load((EXAMPLES / "customers" / "globex.yaml").read_text())
        program_settings = {"endpoint": fake.base_url, "tokenEnv": INTERA_TOKEN_ENV, "pollInterval": 0.01,
                            "retries": 0, "timeout": 10}
        inp = StackInput.from_documents(env, customer, repo_root=str(tmp_path), settings=program_settings)
        job = StackJob("globex-protheus-qa", "intera", "erp-intera", inp, ResourceGraph.empty())
        engine = PulumiEngine(PulumiSettings.from_config(RepoConfig(root=tmp_path)))
        yield SimpleNamespace(fake=fake, job=job, engine=engine, root=tmp_path)


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH (not installed here)")
def test_cli_preview_of_the_intera_example_against_the_reference_server(intera):
    changes = intera.engine.preview(intera.job, lambda e: None)
    types = {c.type.rsplit(":", 1)[-1]: c.op for c in changes}
    assert types["Topology"] is Op.CREATE and types["Configuration"] is Op.CREATE
    assert types["PowerState"] is Op.CREATE and types["ManualBackup"] is Op.CREATE
    assert intera.fake.topologies == {}  # a preview creates nothing


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH (not installed here)")
def test_cli_up_refresh_destroy_against_the_reference_intera_server(intera):
    seen: list[EngineEvent] = []
    graph = intera.engine.up(intera.job, seen.append)
    assert "globex-protheus-qa" in intera.fake.topologies
    assert {r.type.rsplit(":", 1)[-1] for r in graph.resources} >= {"Topology", "Configuration", "PowerState"}
    assert {e.kind for e in seen} >= {"resource-pre", "resource-done"}
    again = intera.engine.refresh(intera.job)
    assert [r.urn for r in again.resources] == [r.urn for r in graph.resources]
    assert intera.engine.preview(intera.job, lambda e: None) == []  # converged
    intera.engine.destroy(intera.job, lambda e: None)
    assert "globex-protheus-qa" not in intera.fake.topologies
    assert intera.engine.refresh(intera.job).resources == ()


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH (not installed here)")
def test_cli_without_the_passphrase_is_a_config_error(intera, monkeypatch):
    intera.engine.up(intera.job, lambda e: None)  # the stack now has encrypted config state
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    with pytest.raises(ConfigError, match="passphrase"):
        intera.engine.preview(intera.job, lambda e: None)


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH (not installed here)")
def test_cli_a_lock_left_in_the_file_backend_makes_the_engine_busy(intera):
    intera.engine.up(intera.job, lambda e: None)
    locks = intera.root / ".reconciler" / "pulumi" / ".pulumi" / "locks" / "organization" / "erp-intera" / \
        "globex-protheus-qa"
    locks.mkdir(parents=True, exist_ok=True)
    (locks / f"{uuid.uuid4()}.json").write_text(json.dumps(
        {"pid": 4182, "username": "reconciler", "hostname": "ci-runner-7", "timestamp": "2025-11-04T17:02:55Z"}))
    with pytest.raises(EngineBusy, match="reconciler@ci-runner-7"):
        intera.engine.up(intera.job, lambda e: None)
