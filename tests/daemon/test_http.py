"""The HTTP endpoints of a running daemon: health, readiness, metrics, status and the webhook."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request

import pytest

from reconciler.daemon.webhook import sign
from tests.daemon.conftest import PROD, git, reconcile

SECRET = "s3cret-for-tests"
PUSH = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()


def get(daemon, path: str) -> tuple[int, bytes, str]:
    host, port = daemon.http.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def post(daemon, body: bytes, headers: dict[str, str]) -> int:
    host, port = daemon.http.address
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.putrequest("POST", "/hooks/git")
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def served(gitops, make_daemon, tmp_path):
    """A daemon serving HTTP on a free port, its source a bare remote (not watched: only hooks wake it)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(gitops.root), str(remote))
    return make_daemon(remote, listen=("127.0.0.1", 0), webhook_secret=SECRET)


def test_health_readiness_metrics_and_status(served):
    assert get(served, "/healthz")[0] == 200
    code, body, _ = get(served, "/readyz")
    assert code == 503 and json.loads(body)["source_fetched"] is False  # nothing fetched yet

    reconcile(served)

    code, body, _ = get(served, "/readyz")
    assert code == 200 and json.loads(body) == {"ready": True, "source_fetched": True, "store_reachable": True,
                                                "lease_held": True}
    code, body, content_type = get(served, "/metrics")
    text = body.decode()
    assert code == 200 and content_type.startswith("text/plain")
    for name in ("reconciler_reconciles_total{result=\"succeeded\"} 1.0", "reconciler_reconcile_duration_seconds",
                 "reconciler_drift_found_total", "reconciler_queue_depth", "reconciler_environment_ready",
                 f'reconciler_last_applied_revision_info{{environment="{PROD}"'):
        assert name in text
    code, body, content_type = get(served, "/status")
    document = json.loads(body)
    assert code == 200 and content_type == "application/json"
    prod = next(e for e in document["environments"] if e["name"] == PROD)
    assert [c["type"] for c in prod["conditions"]] == ["Ready", "Reconciling", "Stalled"]
    assert prod["conditions"][0]["reason"] == "ReconciliationSucceeded"
    assert prod["lastAppliedRevision"] == document["source"]["revision"]
    assert get(served, "/nowhere")[0] == 404


def test_a_webhook_without_a_good_signature_is_refused_and_fetches_nothing(served):
    reconcile(served)
    fetches = served.source.fetches
    assert post(served, PUSH, {}) == 401
    assert post(served, PUSH, {"X-Hub-Signature-256": sign(PUSH, "another secret")}) == 401
    assert post(served, PUSH, {"X-Hub-Signature-256": sign(PUSH + b" ", SECRET)}) == 401
    assert post(served, PUSH, {"X-Gitlab-Token": "guess"}) == 401
    assert served.wake.pending == 0
    served.step(max_wait=0)  # nothing pending, the (hour-long) interval not due: no pass
    assert served.source.fetches == fetches


def test_an_oversized_webhook_is_refused_unread(served):
    host, port = served.http.address
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", "/hooks/git")
    connection.putheader("Content-Length", str(served.settings.webhook_body_limit + 1))
    connection.putheader("X-Hub-Signature-256", "sha256=" + "0" * 64)
    connection.endheaders()  # the body is never sent: the answer must not wait for it
    assert connection.getresponse().status == 413
    connection.close()
    assert served.wake.pending == 1  # only the start request of the daemon


def test_a_burst_of_deliveries_is_one_reconcile(served):
    reconcile(served)
    passes, fetches = served.reconciler.passes, served.source.fetches
    codes = [post(served, PUSH, {"X-Hub-Signature-256": sign(PUSH, SECRET)}) for _ in range(9)]
    codes.append(post(served, PUSH, {"X-Gitlab-Token": SECRET}))
    assert codes == [202] * 10
    assert served.wake.pending == 10

    served.step()

    assert served.reconciler.passes == passes + 1
    assert served.source.fetches == fetches + 1
    assert served.wake.pending == 0
    text = served.metrics.render().decode()
    assert 'reconciler_triggers_total{merged="false",origin="webhook"} 1.0' in text
    assert 'reconciler_triggers_total{merged="true",origin="webhook"} 9.0' in text


def test_webhooks_are_off_without_a_secret(gitops, make_daemon):
    daemon = make_daemon(gitops.root, listen=("127.0.0.1", 0))
    assert post(daemon, PUSH, {"X-Hub-Signature-256": sign(PUSH, "")}) == 404
