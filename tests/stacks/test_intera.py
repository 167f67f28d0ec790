"""The Intera stack: API client against the reference server, dynamic providers called directly,
and the program under Pulumi's mock runtime."""

from __future__ import annotations

import base64
import copy
import hashlib
import http.server
import json
import socket
import threading
import time
import urllib.request
from email.utils import formatdate
from pathlib import Path

import dill
import pytest
import yaml

from reconciler.synth import synthesize
from stacks.common.deployment import deployment_json
from stacks.common.inputs import StackInput
from stacks.intera import api
from stacks.intera import program
from stacks.intera import provider as p
from stacks.intera.fake_server import FakeIntera

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TOKEN_ENV = "INTERA_TEST_TOKEN"
T = p.TYPE_PREFIX


# ---------------------------------------------------------------------------------------------
# Fixtures

@pytest.fixture
def fake():
    with FakeIntera(token="s3cret") as server:
        yield server


@pytest.fixture
def client(fake):
    return api.InteraClient(fake.base_url, fake.token, timeout=5, retries=0)


@pytest.fixture
def settings(fake, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, fake.token)
    return api.ClientSettings(endpoint=fake.base_url, token_env=TOKEN_ENV, timeout=5, retries=0,
                              pipeline_timeout=5, poll_interval=0.001)


def spec(name="acme-protheus-dev", type="DEV", product="protheus", **kw) -> api.TopologySpec:
    return api.TopologySpec(name, "acme", product, type, "sp1", "12.1.2410", **kw)


def document(topology: str, **extra) -> dict:
    return {"format": "cloud.totvs.io/deployment-v1", "topology": topology, "services": [], **extra}


def topology_props(**over) -> dict:
    props = {"name": "acme-protheus-qa", "customer": "acme", "product": "protheus", "type": "QA", "region": "sp1",
             "version": "12.1.2410", "instances": 2, "instanceSize": "large", "labels": {"totvs-type": "QA"},
             "sftpEnabled": True}
    props.update(over)
    return props


def methods(fake, method: str, path_part: str = "") -> list:
    return [r for r in fake.requests if r.method == method and path_part in r.path]


# ---------------------------------------------------------------------------------------------
# Client: every operation

def test_topology_lifecycle(client, fake):
    created = client.create_topology(spec(sftp_enabled=True, labels={"a": "b"}))
    assert (created.id, created.status, created.revision) == ("top-000001", "active", 1)
    assert created.url == "https://acme-protheus-dev.intera.cloudtotvs.com.br"
    assert (created.sftp_host, created.sftp_port) == ("sftp.acme-protheus-dev.intera.cloudtotvs.com.br", 2323)
    assert created.pipeline.action == "create-topology" and created.pipeline.done

    got = client.get_topology("acme-protheus-dev")
    assert got.labels == {"a": "b"} and got.instances == 1 and got.pipeline is None

    updated = client.update_topology("acme-protheus-dev", api.TopologyPatch(instances=3, sftp_enabled=False),
                                     if_match=got.revision)
    assert (updated.instances, updated.sftp_enabled, updated.sftp_host, updated.revision) == (3, False, None, 2)
    assert methods(fake, "PATCH")[-1].body == {"instances": 3, "sftp": {"enabled": False}}

    unchanged = client.update_topology("acme-protheus-dev", api.TopologyPatch(instances=3))
    assert unchanged.pipeline is None and unchanged.revision == 2

    pipeline = client.delete_topology("acme-protheus-dev")
    assert pipeline.action == "delete-topology" and pipeline.status == "succeeded"
    with pytest.raises(api.InteraNotFound):
        client.get_topology("acme-protheus-dev")


def test_stale_if_match_is_a_precondition_failure(client, fake):
    client.create_topology(spec())
    fake.change_topology("acme-protheus-dev", version="12.1.2510")  # someone else changed it
    with pytest.raises(api.InteraPreconditionFailed) as caught:
        client.update_topology("acme-protheus-dev", api.TopologyPatch(instances=2), if_match=1)
    assert caught.value.status == 412 and isinstance(caught.value, api.InteraConflict)


def test_immutable_fields_cannot_be_patched(client):
    client.create_topology(spec())
    with pytest.raises(api.InteraInvalid) as caught:
        client.request("PATCH", "/topologies/acme-protheus-dev", {"region": "rj1"})
    assert caught.value.code == "immutable_field"
    assert caught.value.details == [{"field": "region", "reason": "immutable"}]


def test_server_refuses_to_delete_prod_with_409(client):
    client.create_topology(spec("acme-protheus-prod", "PROD"))
    with pytest.raises(api.InteraConflict) as caught:
        client.delete_topology("acme-protheus-prod")
    assert (caught.value.status, caught.value.code) == (409, "protected_topology")
    assert client.get_topology("acme-protheus-prod").status == "active"


def test_create_validates_every_field(client):
    bad = api.TopologySpec("Bad_Name", "acme", "sap", "PROD", "us-east-1", "12", 0, "huge")
    with pytest.raises(api.InteraInvalid) as caught:
        client.create_topology(bad)
    assert {d["field"] for d in caught.value.details} == {"name", "product", "region", "instances", "instanceSize"}
    with pytest.raises(api.InteraInvalid, match="Protheus topologies only"):
        client.create_topology(spec("acme-fluig-dev", product="fluig", sftp_enabled=True))
    with pytest.raises(api.InteraInvalid) as unknown:
        client.request("POST", "/topologies", {**spec().to_json(), "schedule": {}})
    assert unknown.value.details == [{"field": "schedule", "reason": "unknown field"}]


def test_duplicate_topology_is_a_conflict(client):
    client.create_topology(spec())
    with pytest.raises(api.InteraConflict) as caught:
        client.create_topology(spec())
    assert caught.value.code == "already_exists"


def test_power(client):
    client.create_topology(spec())
    assert client.get_power("acme-protheus-dev").state == "running"
    stopped = client.set_power("acme-protheus-dev", "stopped")
    assert (stopped.state, stopped.pipeline.action) == ("stopped", "power-off")
    assert client.set_power("acme-protheus-dev", "stopped").pipeline is None  # already there: no pipeline
    assert client.set_power("acme-protheus-dev", "running").pipeline.action == "power-on"
    with pytest.raises(api.InteraInvalid):
        client.set_power("acme-protheus-dev", "scheduled")


def test_configuration(client):
    client.create_topology(spec())
    with pytest.raises(api.InteraNotFound):
        client.get_configuration("acme-protheus-dev")
    doc = document("acme-protheus-dev", version="12.1.2410")
    applied = client.put_configuration("acme-protheus-dev", doc)
    assert applied.digest == api.document_digest(doc) == api.document_digest(json.dumps(doc))
    assert (applied.revision, applied.pipeline.action) == (1, "apply-configuration")
    again = client.put_configuration("acme-protheus-dev", doc)
    assert again.revision == 1 and again.pipeline is None
    got = client.get_configuration("acme-protheus-dev")
    assert got.document == doc and got.revision == 1


@pytest.mark.parametrize("body, code", [
    ({"document": document("acme-protheus-dev"), "digest": "sha256:" + "0" * 64}, "digest_mismatch"),
    ({"document": document("other"), "digest": api.document_digest(document("other"))}, "validation_failed"),
    ({"document": {"topology": "acme-protheus-dev"}, "digest": api.document_digest({"topology": "acme-protheus-dev"})},
     "validation_failed"),
])
def test_configuration_is_checked(client, body, code):
    client.create_topology(spec())
    with pytest.raises(api.InteraInvalid) as caught:
        client.request("PUT", "/topologies/acme-protheus-dev/configuration", body)
    assert caught.value.code == code


def test_artifacts_are_content_addressed(client, fake):
    client.create_topology(spec("acme-fluig-dev", product="fluig"))
    war = api.ArtifactUpload("widget", "artifacts/widgets/portal-rh.war", b"PK\x03\x04 widget")
    first = client.upload_artifact("acme-fluig-dev", war)
    assert first.sha256 == hashlib.sha256(b"PK\x03\x04 widget").hexdigest() and first.size == len(war.content)
    copy_ = api.ArtifactUpload("widget", "artifacts/widgets/copy.war", war.content)
    second = client.upload_artifact("acme-fluig-dev", copy_)  # same digest: one blob, two references
    assert [r.path for r in second.references] == ["artifacts/widgets/copy.war", "artifacts/widgets/portal-rh.war"]
    statuses = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/artifacts")]
    assert len(statuses) == 2
    assert [a.sha256 for a in client.list_artifacts("acme-fluig-dev")] == [first.sha256]
    client.delete_artifact("acme-fluig-dev", first.sha256, "artifacts/widgets/copy.war")
    assert client.get_artifact("acme-fluig-dev", first.sha256).reference("artifacts/widgets/portal-rh.war")
    client.delete_artifact("acme-fluig-dev", first.sha256, "artifacts/widgets/portal-rh.war")
    with pytest.raises(api.InteraNotFound):  # the bytes went with the last reference
        client.get_artifact("acme-fluig-dev", first.sha256)


def test_artifacts_are_validated(client):
    client.create_topology(spec())  # a Protheus topology
    with pytest.raises(api.InteraInvalid, match="fluig topologies"):
        client.upload_artifact("acme-protheus-dev", api.ArtifactUpload("widget", "w.war", b"x"))
    with pytest.raises(api.InteraInvalid, match=".ptm"):
        client.upload_artifact("acme-protheus-dev", api.ArtifactUpload("patch", "fix.zip", b"x"))
    lying = api.ArtifactUpload("patch", "fix.ptm", b"x").to_json() | {"sha256": "a" * 64}
    with pytest.raises(api.InteraInvalid) as caught:
        client.request("POST", "/topologies/acme-protheus-dev/artifacts", lying)
    assert caught.value.code == "digest_mismatch"


def test_backups_history_and_pagination(client, fake):
    client.create_topology(spec())
    fake.add_backup("acme-protheus-dev", "auto-1")
    fake.add_backup("acme-protheus-dev", "auto-2")
    made = client.request_backup("acme-protheus-dev",
                                 api.BackupRequest("Backup_11112016_Matriz", "João. Não apague!"))
    assert (made.type, made.status, made.pipeline.action) == ("manual", "completed", "backup")
    client.request_backup("acme-protheus-dev", api.BackupRequest("second", ""))
    client.request_backup("acme-protheus-dev", api.BackupRequest("third", ""))
    history = client.list_backups("acme-protheus-dev", page_size=2)
    assert [b.name for b in history] == ["third", "second", "Backup_11112016_Matriz", "auto-2", "auto-1"]
    assert len([r for r in fake.requests if r.path.endswith("/backups") and r.method == "GET"]) == 3  # 3 pages
    assert [b.name for b in client.list_backups("acme-protheus-dev", type="automatic")] == ["auto-2", "auto-1"]
    assert client.get_backup("acme-protheus-dev", "Backup_11112016_Matriz").comment == "João. Não apague!"
    with pytest.raises(api.InteraConflict) as caught:
        client.request_backup("acme-protheus-dev", api.BackupRequest("second", "again"))
    assert caught.value.code == "backup_exists"


def test_backups_cannot_be_deleted_on_intera(client):
    client.create_topology(spec())
    client.request_backup("acme-protheus-dev", api.BackupRequest("keep", ""))
    with pytest.raises(api.InteraNotSupported) as caught:
        client.request("DELETE", "/topologies/acme-protheus-dev/backups/keep")
    assert caught.value.status == 405 and "history" in str(caught.value)
    assert client.get_backup("acme-protheus-dev", "keep").name == "keep"


def test_slow_pipelines_are_polled_until_done():
    with FakeIntera(pipeline_polls=3) as fake:
        sleeps: list[float] = []
        client = api.InteraClient(fake.base_url, fake.token, retries=0, sleep=sleeps.append)
        pipeline = client.create_topology(spec()).pipeline
        assert pipeline.status == "running"
        done = client.wait_pipeline(pipeline, interval=0.5)
        assert done.status == "succeeded" and sleeps == [0.5, 0.5, 0.5]


def test_a_failed_pipeline_raises_and_changes_nothing(client, fake):
    client.create_topology(spec())
    fake.fail_next_pipeline("power-off", step="stop-instances", message="instance i-1 did not stop")
    power = client.set_power("acme-protheus-dev", "stopped")
    with pytest.raises(api.InteraPipelineFailed) as caught:
        client.wait_pipeline(power.pipeline)
    assert "stop-instances" in str(caught.value) and caught.value.pipeline.message == "instance i-1 did not stop"
    assert client.get_power("acme-protheus-dev").state == "running"


def test_waiting_for_a_pipeline_has_a_deadline():
    with FakeIntera(pipeline_polls=1000) as fake:
        now = [0.0]
        client = api.InteraClient(fake.base_url, fake.token, retries=0, clock=lambda: now[0],
                                  sleep=lambda s: now.__setitem__(0, now[0] + s))
        pipeline = client.create_topology(spec()).pipeline
        with pytest.raises(api.InteraTimeout, match="still running"):
            client.wait_pipeline(pipeline, timeout=10, interval=4)
        assert now[0] == 12


# ---------------------------------------------------------------------------------------------
# Client: errors, retries, idempotency, timeouts

def test_not_found_carries_code_and_request_id(client):
    with pytest.raises(api.InteraNotFound) as caught:
        client.get_topology("nope")
    error = caught.value
    assert (error.status, error.code, error.method, error.path) == (404, "not_found", "GET", "/topologies/nope")
    assert error.request_id and error.request_id in str(error)


def test_wrong_token_is_an_auth_error(fake):
    with pytest.raises(api.InteraAuthError) as caught:
        api.InteraClient(fake.base_url, "wrong", retries=0).get_topology("x")
    assert caught.value.status == 401


@pytest.mark.parametrize("status, kind", [(429, api.InteraThrottled), (503, api.InteraUnavailable)])
def test_throttling_maps_to_retry_after(client, fake, status, kind):
    fake.inject(status, path="^/topologies/x$", retry_after=7)
    with pytest.raises(kind) as caught:
        client.get_topology("x")
    assert isinstance(caught.value, api.InteraThrottled)
    assert caught.value.retry_after == 7 and caught.value.status == status


def test_retries_honour_retry_after_and_keep_the_idempotency_key(fake):
    sleeps: list[float] = []
    client = api.InteraClient(fake.base_url, fake.token, retries=3, sleep=sleeps.append)
    fake.inject(503, path="^/topologies$", method="POST", count=2, retry_after=2)
    created = client.create_topology(spec())
    assert created.name == "acme-protheus-dev" and sleeps == [2.0, 2.0]
    posts = methods(fake, "POST", "/topologies")
    keys = {r.headers["idempotency-key"] for r in posts}
    assert len(posts) == 3 and len(keys) == 1
    assert list(fake.topologies) == ["acme-protheus-dev"]


def test_retries_give_up_and_cap_the_wait(fake):
    sleeps: list[float] = []
    client = api.InteraClient(fake.base_url, fake.token, retries=2, max_retry_wait=30, sleep=sleeps.append)
    fake.inject(429, count=5, retry_after=3600)
    with pytest.raises(api.InteraThrottled):
        client.get_topology("x")
    assert sleeps == [30, 30]


def test_retry_after_as_http_date():
    assert api.parse_retry_after(formatdate(1_000_030, usegmt=True), now=1_000_000) == pytest.approx(30)
    assert api.parse_retry_after("12") == 12
    assert api.parse_retry_after("soon") is None and api.parse_retry_after(None) is None


def test_every_mutation_has_an_idempotency_key_and_reads_none(client, fake):
    client.create_topology(spec())
    client.set_power("acme-protheus-dev", "stopped")
    client.update_topology("acme-protheus-dev", api.TopologyPatch(version="12.1.2510"))
    client.get_topology("acme-protheus-dev")
    for request in fake.requests:
        assert ("idempotency-key" in request.headers) == (request.method != "GET")
        assert request.headers["authorization"] == "Bearer s3cret"
    keys = [r.headers["idempotency-key"] for r in fake.requests if r.method != "GET"]
    assert len(set(keys)) == len(keys)  # one key per logical call


def test_a_replayed_key_returns_the_first_answer(client, fake):
    first = client.create_topology(spec(), idempotency_key="k-1")
    again = client.create_topology(spec(), idempotency_key="k-1")  # a retry after a lost answer
    assert again == first and len(fake.topologies) == 1
    with pytest.raises(api.InteraInvalid) as caught:
        client.create_topology(spec("acme-protheus-qa", "QA"), idempotency_key="k-1")
    assert caught.value.code == "idempotency_key_reused"


def test_post_without_idempotency_key_is_refused(fake):
    request = urllib.request.Request(fake.base_url + "/topologies", method="POST",
                                     data=json.dumps(spec().to_json()).encode(),
                                     headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5)
    assert caught.value.code == 400 and json.loads(caught.value.read())["error"]["code"] == "idempotency_key_required"


def test_slow_answer_times_out(fake):
    fake.inject(None, path="^/topologies/x$", delay=1.0)
    client = api.InteraClient(fake.base_url, fake.token, timeout=0.2, retries=0)
    started = time.monotonic()
    with pytest.raises(api.InteraTimeout):
        client.get_topology("x")
    assert time.monotonic() - started < 0.9


def test_a_server_that_never_answers_times_out():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections (in the backlog) and never answers
    try:
        client = api.InteraClient(f"http://127.0.0.1:{silent.getsockname()[1]}/v1", "t", timeout=0.3, retries=1,
                                  sleep=lambda s: None)
        started = time.monotonic()
        with pytest.raises(api.InteraTimeout):
            client.get_topology("x")
        assert 0.5 <= time.monotonic() - started < 3  # two attempts of 0.3 s
    finally:
        silent.close()


def test_connection_refused_is_unreachable():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(api.InteraUnreachable):
        api.InteraClient(f"http://127.0.0.1:{port}/v1", "t", timeout=1, retries=0).get_topology("x")


class _Oddball(http.server.BaseHTTPRequestHandler):
    """Answers that break the contract: HTML, and a redirect elsewhere."""
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if self.path.endswith("/html"):
            body = b"<html>maintenance</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(302)
            self.send_header("Location", "/v1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()


def test_answers_outside_the_contract_are_protocol_errors():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Oddball)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = api.InteraClient(f"http://127.0.0.1:{server.server_address[1]}/v1", "t", timeout=2, retries=0)
        with pytest.raises(api.InteraProtocolError, match="not JSON"):
            client.request("GET", "/html")
        with pytest.raises(api.InteraProtocolError, match="redirect"):
            client.request("GET", "/moved")
        assert [path for path, _ in _Oddball.seen] == ["/v1/html", "/v1/moved"]  # the redirect was not followed
    finally:
        server.shutdown()
        server.server_close()


def test_missing_fields_in_an_answer_are_protocol_errors():
    with pytest.raises(api.InteraProtocolError, match="'url'"):
        api.Topology.from_json({"id": "t", "name": "n", "customer": "c", "product": "rm", "type": "DEV",
                                "region": "sp1", "version": "1", "instances": 1, "instanceSize": "small",
                                "status": "active"})


def test_client_guards_the_token(monkeypatch):
    with pytest.raises(ValueError, match="https"):
        api.InteraClient("http://api.intera.example/v1", "t")
    client = api.InteraClient("https://api.intera.example/v1", "very-secret")
    assert "very-secret" not in repr(client)
    monkeypatch.delenv("NO_SUCH_TOKEN_VAR", raising=False)
    with pytest.raises(api.InteraAuthError, match="NO_SUCH_TOKEN_VAR"):
        api.ClientSettings(token_env="NO_SUCH_TOKEN_VAR").client()


def test_settings_come_from_the_stack_settings():
    inp_settings = {"endpoint": "https://intera.test/v1", "tokenEnv": "T", "timeout": 5, "pollInterval": 1}
    settings = api.ClientSettings.from_settings(lambda k, d=None: inp_settings.get(k, d))
    assert (settings.endpoint, settings.token_env, settings.timeout, settings.poll_interval) == \
        ("https://intera.test/v1", "T", 5.0, 1.0)
    assert api.ClientSettings.from_settings(lambda k, d=None: d).endpoint == api.DEFAULT_ENDPOINT


# ---------------------------------------------------------------------------------------------
# Dynamic providers, called directly

def _with_provider(outs: dict) -> dict:
    return {**outs, "__provider": "serialized"}  # the engine adds it; diff must ignore it


def test_topology_provider_round_trip(settings, fake):
    provider = p.TopologyProvider(settings)
    props = topology_props(instances=2.0)  # numbers come as floats from the wire
    assert provider.check({}, props).failures == []
    created = provider.create(props)
    assert created.id == "acme-protheus-qa"
    outs = created.outs
    assert {k: outs[k] for k in p.TOPOLOGY_INPUTS} == {**props, "instances": 2}
    assert outs["topologyId"] == "top-000001" and outs["sftpPort"] == 2323 and outs["status"] == "active"
    sent = methods(fake, "POST")[0].body["instances"]
    assert sent == 2 and isinstance(sent, int)

    read = provider.read(created.id, outs)
    assert read.id == created.id and read.outs == outs
    assert provider.diff(created.id, _with_provider(outs), _with_provider(props)).changes is False


@pytest.mark.parametrize("field, value, replace", [
    ("version", "12.1.2510", False), ("instances", 4, False), ("instanceSize", "xlarge", False),
    ("labels", {"totvs-type": "QA", "x": "y"}, False), ("sftpEnabled", False, False),
    ("name", "acme-protheus-qa2", True), ("product", "rm", True), ("region", "rj1", True),
    ("type", "DEV", True), ("customer", "globex", True),
])
def test_topology_diff_replace_or_update(settings, field, value, replace):
    provider = p.TopologyProvider(settings)
    olds = topology_props()
    diff = provider.diff("acme-protheus-qa", olds, topology_props(**{field: value}))
    assert diff.changes is True
    assert diff.replaces == ([field] if replace else [])
    assert diff.delete_before_replace is replace


def test_topology_update_patches_only_what_changed(settings, fake):
    provider = p.TopologyProvider(settings)
    outs = provider.create(topology_props()).outs
    result = provider.update("acme-protheus-qa", outs, topology_props(instances=3, version="12.1.2510"))
    assert methods(fake, "PATCH")[-1].body == {"version": "12.1.2510", "instances": 3}
    assert (result.outs["instances"], result.outs["version"], result.outs["revision"]) == (3, "12.1.2510", 2)


def test_topology_drift_is_visible_on_read(settings, fake):
    provider = p.TopologyProvider(settings)
    desired = topology_props()
    outs = provider.create(desired).outs
    fake.change_topology("acme-protheus-qa", instances=5, instanceSize="small")  # by hand, in the portal
    read = provider.read("acme-protheus-qa", outs)
    assert (read.outs["instances"], read.inputs["instanceSize"]) == (5, "small")
    diff = provider.diff("acme-protheus-qa", read.outs, desired)
    assert diff.changes is True and diff.replaces == []
    provider.update("acme-protheus-qa", read.outs, desired)
    assert fake.topology("acme-protheus-qa")["instances"] == 2


def test_topology_delete_and_gone(settings, fake):
    provider = p.TopologyProvider(settings)
    outs = provider.create(topology_props()).outs
    provider.delete("acme-protheus-qa", outs)
    assert "acme-protheus-qa" not in fake.topologies
    gone = provider.read("acme-protheus-qa", outs)
    assert gone.id == "" and gone.outs == {}
    provider.delete("acme-protheus-qa", outs)  # deleting what is gone is done


def test_topology_provider_never_sends_delete_for_prod(settings, fake):
    provider = p.TopologyProvider(settings)
    outs = provider.create(topology_props(name="acme-protheus-prod", type="PROD")).outs
    with pytest.raises(api.InteraConflict, match="never removed"):
        provider.delete("acme-protheus-prod", outs)
    assert methods(fake, "DELETE") == [] and "acme-protheus-prod" in fake.topologies


def test_topology_check_reports_bad_inputs(settings):
    failures = p.TopologyProvider(settings).check({}, topology_props(product="sap", instances=0, region=None)).failures
    assert {f.property for f in failures} == {"product", "instances"}
    missing = p.TopologyProvider(settings).check({}, {"name": "x"}).failures
    assert {"customer", "product", "type", "region"} <= {f.property for f in missing}


def test_power_provider(settings, fake):
    p.TopologyProvider(settings).create(topology_props())
    provider = p.PowerStateProvider(settings)
    assert [f.property for f in provider.check({}, {"topology": "acme-protheus-qa", "state": "scheduled"}).failures] \
        == ["state"]
    created = provider.create({"topology": "acme-protheus-qa", "state": "stopped"})
    assert created.id == "acme-protheus-qa/power"
    assert created.outs == {"topology": "acme-protheus-qa", "state": "stopped"}
    assert fake.power["acme-protheus-qa"] == "stopped"
    fake.set_power("acme-protheus-qa", "running")  # started by hand
    read = provider.read(created.id, created.outs)
    assert read.outs["state"] == "running"
    diff = provider.diff(created.id, read.outs, {"topology": "acme-protheus-qa", "state": "stopped"})
    assert diff.changes is True and diff.replaces == []
    assert provider.diff(created.id, read.outs, {"topology": "other", "state": "running"}).replaces == ["topology"]
    provider.update(created.id, read.outs, {"topology": "acme-protheus-qa", "state": "stopped"})
    assert fake.power["acme-protheus-qa"] == "stopped"
    before = len(fake.requests)
    provider.delete(created.id, created.outs)
    assert len(fake.requests) == before and fake.power["acme-protheus-qa"] == "stopped"


def test_power_provider_surfaces_a_failed_pipeline(settings, fake):
    p.TopologyProvider(settings).create(topology_props())
    fake.fail_next_pipeline("power-off", "stop", "boom")
    with pytest.raises(api.InteraPipelineFailed, match="boom"):
        p.PowerStateProvider(settings).create({"topology": "acme-protheus-qa", "state": "stopped"})


def test_configuration_provider(settings, fake):
    p.TopologyProvider(settings).create(topology_props())
    provider = p.ConfigurationProvider(settings)
    text = api.canonical_json(document("acme-protheus-qa", version="12.1.2410"))
    props = {"topology": "acme-protheus-qa", "document": text, "digest": api.document_digest(text)}
    bad = provider.check({}, {**props, "digest": "sha256:" + "1" * 64}).failures
    assert [f.property for f in bad] == ["digest"] and provider.check({}, props).failures == []
    created = provider.create(props)
    assert created.outs["document"] == text and created.outs["revision"] == 1
    assert provider.read(created.id, created.outs).outs == created.outs

    fake.set_configuration("acme-protheus-qa", document("acme-protheus-qa", version="hacked"))
    read = provider.read(created.id, created.outs)
    assert json.loads(read.outs["document"])["version"] == "hacked"
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, read.outs, props)
    assert updated.outs["digest"] == props["digest"] and updated.outs["revision"] == 3


def test_artifact_provider(settings, fake, tmp_path):
    p.TopologyProvider(settings).create(topology_props(name="acme-fluig-qa", product="fluig", sftpEnabled=False))
    provider = p.ArtifactProvider(settings)
    war = tmp_path / "portal-rh.war"
    war.write_bytes(b"PK widget v1")
    digest = hashlib.sha256(b"PK widget v1").hexdigest()
    props = {"topology": "acme-fluig-qa", "kind": "widget", "path": "artifacts/widgets/portal-rh.war",
             "sha256": digest, "content": str(war)}
    created = provider.create(props)
    assert created.id == digest and created.outs["size"] == len(b"PK widget v1")
    uploaded = methods(fake, "POST", "/artifacts")[0].body
    assert base64.b64decode(uploaded["content"]) == b"PK widget v1"
    assert provider.read(created.id, created.outs).outs == created.outs

    assert provider.diff(created.id, created.outs, {**props, "kind": "fluig-config"}).replaces == []
    assert provider.diff(created.id, created.outs, {**props, "sha256": "b" * 64}).replaces == ["sha256"]
    assert provider.diff(created.id, created.outs, {**props, "content": "/elsewhere"}).changes is False

    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id == ""


def test_artifact_changed_since_the_plan_is_not_uploaded(settings, fake, tmp_path):
    p.TopologyProvider(settings).create(topology_props(name="acme-fluig-qa", product="fluig", sftpEnabled=False))
    war = tmp_path / "w.war"
    war.write_bytes(b"reviewed")
    props = {"topology": "acme-fluig-qa", "kind": "widget", "path": "w.war",
             "sha256": hashlib.sha256(b"reviewed").hexdigest(), "content": str(war)}
    war.write_bytes(b"edited after the plan")
    with pytest.raises(ValueError, match="changed since it was planned"):
        p.ArtifactProvider(settings).create(props)
    assert methods(fake, "POST", "/artifacts") == []


def test_manual_backup_provider(settings, fake):
    p.TopologyProvider(settings).create(topology_props())
    provider = p.ManualBackupProvider(settings)
    props = {"topology": "acme-protheus-qa", "name": "Pre_Migration", "comment": "before 12.1.2510"}
    created = provider.create(props)
    assert created.id == "bkp-000001" and created.outs["type"] == "manual" and created.outs["status"] == "completed"
    assert provider.read(created.id, created.outs).outs == created.outs

    adopted = provider.create(props)  # the state was lost after the backup was taken
    assert adopted.id == created.id and len(fake.backups["acme-protheus-qa"]) == 1
    with pytest.raises(api.InteraConflict, match="another comment"):
        provider.create({**props, "comment": "something else"})

    failures = provider.check(created.outs, {**props, "comment": "edited"}).failures
    assert [f.property for f in failures] == ["comment"]
    assert provider.check(created.outs, {**props, "name": "Other", "comment": "edited"}).failures == []
    assert provider.diff(created.id, created.outs, {**props, "name": "Other"}).replaces == ["name"]

    before = len(fake.requests)
    provider.delete(created.id, created.outs)  # dropped from the spec: the history keeps it
    assert len(fake.requests) == before
    assert [b["name"] for b in fake.backups["acme-protheus-qa"]] == ["Pre_Migration"]


def test_providers_survive_pickling(settings, fake):
    """Pulumi serialises each provider with dill and runs it in another process."""
    from pulumi.dynamic.dynamic import serialize_provider

    text = serialize_provider(p.TopologyProvider(settings))
    assert fake.token not in base64.b64decode(text).decode("latin-1")
    assert b"stacks.intera.provider" in base64.b64decode(text)  # by reference, not by value
    revived = dill.loads(base64.b64decode(text))
    assert revived.create(topology_props()).id == "acme-protheus-qa"


# ---------------------------------------------------------------------------------------------
# The program under the mock runtime

def _docs(path: str) -> dict:
    return yaml.safe_load((EXAMPLES / path).read_text())


GLOBEX_ENV = _docs("globex/protheus-prod.yaml")
GLOBEX = _docs("customers/globex.yaml")


def _input(env_doc: dict, artifacts: dict | None = None, revision: str | None = None) -> StackInput:
    return StackInput.from_documents(env_doc, GLOBEX, artifacts=artifacts or {}, repo_root=str(EXAMPLES),
                                     revision=revision)


def _fluig_doc(**spec_over) -> dict:
    doc = {"apiVersion": "cloud.totvs.io/v1", "kind": "Environment",
           "metadata": {"name": "globex-fluig-qa", "customer": "globex"},
           "spec": {"product": "fluig", "type": "QA", "cloud": "intera", "region": "sp1", "version": "1.8.2",
                    "power": "stopped", "users": 20,
                    "widgets": [{"file": "artifacts/widgets/portal-rh.war"},
                                {"file": "artifacts/widgets/aprovacoes.jar"}],
                    "fluigConfig": {"standaloneConf": "artifacts/fluig/standalone.conf"}}}
    doc["spec"].update(spec_over)
    return doc


def _digests(*paths: str) -> dict:
    return {path: "sha256:" + hashlib.sha256((EXAMPLES / path).read_bytes()).hexdigest() for path in paths}


FLUIG_FILES = ("artifacts/widgets/portal-rh.war", "artifacts/widgets/aprovacoes.jar", "artifacts/fluig/standalone.conf")


@pytest.fixture(scope="module")
def globex_graph():
    return synthesize(_input(GLOBEX_ENV))


def test_the_intera_example_synthesizes(globex_graph):
    graph = globex_graph
    assert (graph.project, graph.stack) == ("erp-intera", "globex-protheus-prod")
    assert sorted((r.type, r.name) for r in graph.resources) == [
        (T + "Configuration", "globex-protheus-prod-configuration"),
        (T + "ManualBackup", "globex-protheus-prod-backup-pre-migration-2026-" + program._short("Pre_Migration_2026")),
        (T + "PowerState", "globex-protheus-prod-power"),
        (T + "Topology", "globex-protheus-prod-topology"),
    ]
    topology = graph.named("globex-protheus-prod-topology")
    assert {k: v for k, v in topology.inputs.items() if k != "__provider"} == {
        "name": "globex-protheus-prod", "customer": "globex", "product": "protheus", "type": "PROD",
        "region": "sp1", "version": "12.1.2310", "instances": 1, "instanceSize": "xlarge", "sftpEnabled": True,
        "labels": {"managed-by": "erp-gitops-reconciler", "totvs-contract": "intera", "totvs-customer": "globex",
                   "totvs-product": "protheus", "totvs-topology": "globex-protheus-prod", "totvs-type": "PROD"}}
    assert set(topology.inputs["__provider"]) == {"secret"}  # the serialised provider is never in clear
    assert topology.replace_on_changes == tuple(api.IMMUTABLE_TOPOLOGY_FIELDS) and topology.delete_before_replace
    power = graph.named("globex-protheus-prod-power")
    assert power.inputs["state"] == "running" and power.inputs["topology"] == "globex-protheus-prod"
    backup = graph.of_type(T + "ManualBackup")[0]
    assert (backup.inputs["name"], backup.inputs["comment"]) == ("Pre_Migration_2026", "before the 12.1.2410 migration")


def test_prod_topology_is_protected_and_nothing_else_is(globex_graph):
    flags = {r.type[len(T):]: (r.protect, r.retain_on_delete) for r in globex_graph.resources}
    assert flags == {"Topology": (True, True), "Configuration": (False, False), "PowerState": (False, False),
                     "ManualBackup": (False, True)}


def test_non_prod_topology_is_not_protected():
    env = copy.deepcopy(GLOBEX_ENV)
    env["metadata"]["name"], env["spec"]["type"] = "globex-protheus-dev", "DEV"
    topology = synthesize(_input(env)).named("globex-protheus-dev-topology")
    assert (topology.protect, topology.retain_on_delete) == (False, False)


def test_configuration_carries_the_deployment_document(globex_graph):
    inp = _input(GLOBEX_ENV)
    configuration = globex_graph.named("globex-protheus-prod-configuration")
    assert configuration.inputs["document"] == deployment_json(inp)
    assert configuration.inputs["digest"] == api.document_digest(deployment_json(inp))
    # the same digest as the other clouds': sha256 of the document's text as deployment_json writes it
    assert configuration.inputs["digest"] == "sha256:" + hashlib.sha256(deployment_json(inp).encode()).hexdigest()
    topology_urn = globex_graph.named("globex-protheus-prod-topology").urn
    assert configuration.depends_on == (topology_urn,)
    assert globex_graph.named("globex-protheus-prod-power").depends_on == tuple(sorted(
        (configuration.urn, topology_urn)))


def test_no_feature_intera_lacks_is_declared(globex_graph):
    types = {r.type for r in globex_graph.resources}
    assert all(t.startswith(T) for t in types)
    assert not any(word in t.lower() for t in types for word in ("schedule", "budget", "alert", "domain", "dns",
                                                                  "record", "policy", "vault"))


def test_exports(globex_graph):
    inp = _input(GLOBEX_ENV)
    assert globex_graph.outputs == {
        "topologyId": "top-" + program._short("globex-protheus-prod"), "topologyName": "globex-protheus-prod",
        "url": "https://globex-protheus-prod.intera.cloudtotvs.com.br", "power": "running",
        "deploymentDigest": api.document_digest(deployment_json(inp)),
        "sftpEndpoint": "sftp://sftp.globex-protheus-prod.intera.cloudtotvs.com.br:2323", "sftpPort": 2323,
        "manualBackups": ["Pre_Migration_2026"], "artifacts": {}}
    env = copy.deepcopy(GLOBEX_ENV)
    env["spec"]["sftp"] = {"enabled": False}
    assert not {"sftpEndpoint", "sftpPort"} & set(synthesize(_input(env)).outputs)


def test_synthesis_is_deterministic(globex_graph):
    assert synthesize(_input(GLOBEX_ENV)).to_data() == globex_graph.to_data()


def test_fluig_artifacts_by_digest():
    inp = _input(_fluig_doc(), _digests(*FLUIG_FILES))
    graph = synthesize(inp)
    artifacts = {r.inputs["path"]: r for r in graph.of_type(T + "Artifact")}
    assert sorted(artifacts) == sorted(FLUIG_FILES)
    assert {path: r.inputs["kind"] for path, r in artifacts.items()} == {
        "artifacts/widgets/portal-rh.war": "widget", "artifacts/widgets/aprovacoes.jar": "widget",
        "artifacts/fluig/standalone.conf": "fluig-config"}
    for path, resource in artifacts.items():
        assert resource.inputs["sha256"] == inp.artifact_hex(path)
        assert resource.inputs["content"] == {"asset": "file", "path": path}  # relative to the repository
    configuration = graph.named("globex-fluig-qa-configuration")
    assert {r.urn for r in artifacts.values()} <= set(configuration.depends_on)
    assert graph.named("globex-fluig-qa-power").inputs["state"] == "stopped"
    assert graph.outputs["artifacts"] == {path: inp.artifact_digest(path) for path in FLUIG_FILES}
    assert "sftpPort" not in graph.outputs


def test_patch_files_are_artifacts_of_kind_patch():
    env = copy.deepcopy(GLOBEX_ENV)
    env["spec"]["patches"].append({"file": "artifacts/patches/fix-fat-2410.ptm", "language": "pt"})
    graph = synthesize(_input(env, _digests("artifacts/patches/fix-fat-2410.ptm")))
    (artifact,) = graph.of_type(T + "Artifact")
    assert (artifact.inputs["kind"], artifact.inputs["path"]) == ("patch", "artifacts/patches/fix-fat-2410.ptm")


@pytest.mark.parametrize("spec_change, feature", [
    ({"power": "scheduled", "schedule": {"timezone": "America/Sao_Paulo",
                                         "windows": [{"days": ["mon"], "start": "07:00", "end": "20:00"}]}},
     "working-hours schedule"),
    ({"costAlert": {"enabled": True, "monthlyLimit": 100}}, "cost predictability alert"),
    ({"domain": {"subdomain": "globex"}}, "access domain"),
    ({"backup": {"automaticRetentionDays": 30}}, "backup retention settings"),
])
def test_features_intera_lacks_are_refused(spec_change, feature):
    env = copy.deepcopy(GLOBEX_ENV)
    env["spec"].update(spec_change)
    inp = _input(env)
    assert any(feature in problem for problem in program.unsupported(inp.environment))
    with pytest.raises(Exception, match=feature):
        synthesize(inp)


def test_unsupported_follows_the_matrix():
    assert program.unsupported(_input(GLOBEX_ENV).environment) == []
    cloned = StackInput.from_documents(_fluig_doc(cloneFrom="globex-fluig-prod"), GLOBEX).environment
    clone = program.caps.FEATURES["clone"]
    assert program.unsupported(cloned) == [f"{clone.title} ({clone.why})"]


# "A change of each spec field changes exactly the resources it should."

def _changes(base, variant) -> tuple[set, set, set]:
    """(changed, added, removed) resource names between two graphs, diffed by URN (inputs and
    options; the serialised provider is the same code and is left out)."""
    def view(resource):
        data = resource.to_data()
        data["inputs"] = {k: v for k, v in data["inputs"].items() if k != "__provider"}
        data.pop("outputs", None)
        data.pop("id", None)
        return data

    old, new = base.by_urn(), variant.by_urn()
    changed = {new[u].name for u in old.keys() & new.keys() if view(old[u]) != view(new[u])}
    return changed, {new[u].name for u in new.keys() - old.keys()}, {old[u].name for u in old.keys() - new.keys()}


G = "globex-protheus-prod-"
BACKUP = G + "backup-pre-migration-2026-" + program._short("Pre_Migration_2026")


def _set(path: str, value):
    def change(doc):
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return change


@pytest.mark.parametrize("change, changed, added, removed", [
    (_set("spec.version", "12.1.2410"), {G + "topology", G + "configuration"}, set(), set()),
    (_set("spec.instances", 3), {G + "topology"}, set(), set()),
    (_set("spec.instanceSize", "large"), {G + "topology"}, set(), set()),
    (_set("spec.region", "rj1"), {G + "topology"}, set(), set()),
    (_set("metadata.labels", {"team": "fiscal"}), {G + "topology"}, set(), set()),
    (_set("spec.power", "stopped"), {G + "power"}, set(), set()),
    (_set("spec.sftp", {"enabled": False}), {G + "topology", G + "configuration"}, set(), set()),
    (_set("spec.services", [{"name": "ERP", "state": "stopped"}, {"name": "TSS", "state": "running"}]),
     {G + "configuration"}, set(), set()),
    (_set("spec.environments", [{"name": "PROTHEUS", "language": "pt"}]), {G + "configuration"}, set(), set()),
    (_set("spec.patches", []), {G + "configuration"}, set(), set()),
    (_set("spec.updates", {"dbaccess": "23.1.1.6", "binary": "20.3.2.4"}), {G + "configuration"}, set(), set()),
    (_set("spec.exclusiveAccess", True), {G + "configuration"}, set(), set()),
    (_set("spec.rpo", {"promoteFrom": "globex-protheus-qa"}), {G + "configuration"}, set(), set()),
    (_set("spec.backup.manual", [{"name": "Pre_Migration_2026", "comment": "edited"}]), {BACKUP}, set(), set()),
    (_set("spec.backup.manual", [{"name": "Pre_Migration_2026", "comment": "before the 12.1.2410 migration"},
                                 {"name": "Closing_2026", "comment": "year end"}]),
     set(), {G + "backup-closing-2026-" + program._short("Closing_2026")}, set()),
    (_set("spec.backup.manual", []), set(), set(), {BACKUP}),
    (_set("spec.patches", [{"catalog": "12.1.2310-FIS-004512", "language": "pt"},
                           {"file": "artifacts/patches/fix-fat-2410.ptm", "language": "pt"}]),
     {G + "configuration"}, {G + "artifact-fix-fat-2410-ptm-" + program._short("artifacts/patches/fix-fat-2410.ptm")},
     set()),
])
def test_each_field_changes_exactly_its_resources(globex_graph, change, changed, added, removed):
    env = copy.deepcopy(GLOBEX_ENV)
    change(env)
    variant = synthesize(_input(env, _digests("artifacts/patches/fix-fat-2410.ptm")))
    assert _changes(globex_graph, variant) == (changed, added, removed)


def test_a_widget_content_change_replaces_its_artifact_and_updates_the_configuration():
    digests = _digests(*FLUIG_FILES)
    base = synthesize(_input(_fluig_doc(), digests))
    edited = {**digests, "artifacts/widgets/portal-rh.war": "sha256:" + "e" * 64}
    variant = synthesize(_input(_fluig_doc(), edited))
    war = [r for r in variant.of_type(T + "Artifact") if r.inputs["path"].endswith("portal-rh.war")][0]
    assert _changes(base, variant) == ({war.name, "globex-fluig-qa-configuration"}, set(), set())
    assert "sha256" in war.replace_on_changes and war.inputs["sha256"] == "e" * 64


def test_the_revision_tag_touches_only_the_topology(globex_graph):
    variant = synthesize(_input(GLOBEX_ENV, revision="0123456789abcdef"))
    assert _changes(globex_graph, variant) == ({G + "topology"}, set(), set())


@pytest.mark.parametrize("change, op, forcing", [
    (_set("spec.region", "rj1"), "replace", ("region",)),
    (_set("spec.version", "12.1.2410"), "update", ()),
    (_set("spec.instances", 2), "update", ()),
])
def test_the_planner_predicts_what_the_provider_decides(globex_graph, change, op, forcing):
    """Offline, the planner reads replace_on_changes; it must agree with the provider's diff."""
    from reconciler.planning.resources import diff_graphs

    env = copy.deepcopy(GLOBEX_ENV)
    change(env)
    variant = synthesize(_input(env))
    topology = {c.name: c for c in diff_graphs(globex_graph, variant)}[G + "topology"]
    assert (topology.op.value, tuple(topology.replace_keys)) == (op, forcing)
    old, new = globex_graph.named(G + "topology").inputs, variant.named(G + "topology").inputs
    assert p.TopologyProvider(api.ClientSettings()).diff("x", old, new).replaces == list(forcing)
