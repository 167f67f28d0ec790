"""The reference behaviour of the Intera API contract (``stacks.intera.api``), in memory.

A faithful, strict implementation on ``http.server.ThreadingHTTPServer`` bound to 127.0.0.1 on a
free port: it authenticates, validates every request (unknown fields, enums, digests, extensions
per product), enforces the contract's rules (immutable fields, 409 on deleting a PROD topology,
405 on deleting a backup, idempotency keys, If-Match) and runs every action as a pipeline. Tests
and a future sandbox mode use it; helpers change state out of band (as a portal user would) and
inject faults (503/429 with Retry-After, slow answers, failing pipelines).

    with FakeIntera() as fake:
        client = InteraClient(fake.base_url, fake.token)
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from reconciler.model.capabilities import PRODUCTS, SFTP_PORT, TYPES
from stacks.common.deployment import FORMAT as DEPLOYMENT_FORMAT
from stacks.intera import api

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SITE = re.compile(r"^[a-z]{2,3}\d{1,2}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_BACKUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ARTIFACT_PRODUCTS = {"patch": ("protheus",), "widget": ("fluig",), "fluig-config": ("fluig",)}
PREFIX = "/v1"


class Fail(Exception):
    """An error answer of the contract: ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}


@dataclass
class Fault:
    """Answer the next ``count`` matching requests with ``status`` (after ``delay`` seconds); a
    fault without status only delays."""
    path: re.Pattern
    method: str | None
    status: int | None
    count: int
    retry_after: str | None
    delay: float
    code: str

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and (self.method is None or self.method == method) and bool(self.path.search(path))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the /v1 prefix and the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Validation of request bodies

def _fields(body: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Fail(400, "invalid_request", "the body must be a JSON object")
    details = [{"field": k, "reason": "required"} for k in required if k not in body]
    details += [{"field": k, "reason": "unknown field"} for k in body if k not in required + optional]
    if details:
        raise Fail(422, "validation_failed", "the request does not match the contract", details)
    return body


def _check(checks: list[tuple[str, bool, str]]) -> None:
    """``(field, ok, reason)`` triples; 422 listing every failed one."""
    details = [{"field": name, "reason": reason} for name, ok, reason in checks if not ok]
    if details:
        raise Fail(422, "validation_failed", "; ".join(f"{d['field']}: {d['reason']}" for d in details), details)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_text(value: Any, pattern: re.Pattern | None = None, max_length: int = 256) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length and (pattern is None or bool(pattern.match(value)))


def _labels_ok(value: Any) -> bool:
    return isinstance(value, dict) and len(value) <= 64 and all(
        _is_text(k, max_length=63) and isinstance(v, str) and len(v) <= 256 for k, v in value.items())


def _sftp_ok(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"enabled"} and isinstance(value["enabled"], bool)


def _topology_checks(body: dict[str, Any], product: str) -> list[tuple[str, bool, str]]:
    checks = {
        "version": (lambda v: _is_text(v, max_length=32), "a release such as 12.1.2410"),
        "instances": (lambda v: _is_int(v, 1, 20), "an integer from 1 to 20"),
        "instanceSize": (lambda v: v in api.INSTANCE_SIZES, f"one of {', '.join(api.INSTANCE_SIZES)}"),
        "labels": (_labels_ok, "a map of up to 64 short string labels"),
        "sftp": (_sftp_ok, "{enabled: true|false}"),
    }
    out = [(k, fn(body[k]), why) for k, (fn, why) in checks.items() if k in body]
    if body.get("sftp", {}).get("enabled") and product != "protheus":
        out.append(("sftp", False, "SFTP serves Protheus_Data: Protheus topologies only"))
    return out


# ---------------------------------------------------------------------------------------------

class FakeIntera:
    """The in-memory Intera. Thread-safe; every request is recorded in ``requests``."""

    def __init__(self, token: str = "test-token", *, pipeline_polls: int = 0):
        self.token = token
        self.pipeline_polls = pipeline_polls  # GET /pipelines polls before a pipeline succeeds
        self.requests: list[RecordedRequest] = []
        self.topologies: dict[str, dict[str, Any]] = {}
        self.power: dict[str, str] = {}
        self.configurations: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, dict[str, dict[str, Any]]] = {}  # topology -> sha256 -> artifact
        self.backups: dict[str, list[dict[str, Any]]] = {}  # topology -> backups, oldest first
        self.pipelines: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, tuple[str, _Answer]] = {}
        self._faults: list[Fault] = []
        self._failing: dict[str, tuple[str, str]] = {}  # pipeline action -> (step, message)
        self._counters: dict[str, int] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "FakeIntera":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a delayed answer must not hold the shutdown
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-intera", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeIntera":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeIntera is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    # -- faults and out-of-band changes ------------------------------------------------------------
    def inject(self, status: int | None = 503, *, path: str = ".*", method: str | None = None, count: int = 1,
               retry_after: str | float | None = 1, delay: float = 0.0, code: str | None = None) -> None:
        """The next ``count`` requests whose path (without /v1) matches the regex ``path`` answer
        ``status`` with ``Retry-After`` (and/or after ``delay`` seconds)."""
        code = code or {429: "throttled", 503: "unavailable"}.get(status or 0, "injected")
        with self._lock:
            self._faults.append(Fault(re.compile(path), method, status, count,
                                      None if retry_after is None else str(retry_after), delay, code))

    def fail_next_pipeline(self, action: str, step: str = "apply", message: str = "injected failure") -> None:
        with self._lock:
            self._failing[action] = (step, message)

    def topology(self, name: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.topologies[name])

    def change_topology(self, name: str, **changes: Any) -> None:
        """Out of band (a portal user, an operator): no pipeline, no validation."""
        with self._lock:
            self.topologies[name].update(changes)
            self.topologies[name]["revision"] += 1

    def set_power(self, name: str, state: str) -> None:
        with self._lock:
            self.power[name] = state

    def set_configuration(self, name: str, document: dict[str, Any]) -> None:
        with self._lock:
            current = self.configurations.get(name, {"revision": 0})
            self.configurations[name] = {"document": document, "digest": api.document_digest(document),
                                         "revision": current["revision"] + 1, "appliedAt": _now()}

    def add_backup(self, topology: str, name: str, comment: str = "", type: str = "automatic") -> dict[str, Any]:
        with self._lock:
            backup = self._new_backup(topology, name, comment, type)
            self.backups.setdefault(topology, []).append(backup)
            return copy.deepcopy(backup)

    # -- internals -------------------------------------------------------------------------------
    def _next(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}-{self._counters[prefix]:06d}"

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def _pipeline(self, action: str, topology: str) -> dict[str, Any]:
        """A pipeline for an action; raises nothing, the caller applies the effect only if it did
        not fail (a failed pipeline changes nothing)."""
        failing = self._failing.pop(action, None)
        pipeline = {"id": self._next("pl"), "action": action, "topology": topology,
                    "status": "failed" if failing else ("running" if self.pipeline_polls else "succeeded"),
                    "step": failing[0] if failing else None, "message": failing[1] if failing else None,
                    "pollsLeft": self.pipeline_polls, "requestedAt": _now()}
        self.pipelines[pipeline["id"]] = pipeline
        return pipeline

    @staticmethod
    def _public_pipeline(pipeline: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in pipeline.items() if k != "pollsLeft"}

    def _run(self, action: str, topology: str, effect: Callable[[], None]) -> dict[str, Any]:
        pipeline = self._pipeline(action, topology)
        if pipeline["status"] != "failed":
            effect()
        return self._public_pipeline(pipeline)

    def _topology_or_404(self, name: str) -> dict[str, Any]:
        try:
            return self.topologies[name]
        except KeyError:
            raise Fail(404, "not_found", f"topology {name} does not exist") from None

    def _new_backup(self, topology: str, name: str, comment: str, type: str) -> dict[str, Any]:
        return {"id": self._next("bkp"), "name": name, "comment": comment, "type": type, "status": "completed",
                "createdAt": _now(), "sizeBytes": 1024 * 1024 * 1024}

    # -- topologies ------------------------------------------------------------------------------
    def post_topologies(self, body: Any, **_: Any) -> _Answer:
        body = _fields(body, ("name", "customer", "product", "type", "region", "version"),
                       ("instances", "instanceSize", "labels", "sftp"))
        body = {"instances": 1, "instanceSize": "medium", "labels": {}, "sftp": {"enabled": False}, **body}
        _check([("name", _is_text(body["name"], _DNS_LABEL, 63), "a DNS label"),
                ("customer", _is_text(body["customer"], _DNS_LABEL, 63), "a DNS label"),
                ("product", body["product"] in PRODUCTS, f"one of {', '.join(PRODUCTS)}"),
                ("type", body["type"] in TYPES, f"one of {', '.join(TYPES)}"),
                ("region", _is_text(body["region"], _SITE, 8), "an Intera site such as sp1")]
               + _topology_checks(body, body["product"]))
        name = body["name"]
        if name in self.topologies:
            raise Fail(409, "already_exists", f"topology {name} already exists")
        record = {"id": self._next("top"), **body, "labels": dict(body["labels"]),
                  "sftp": self._sftp(name, body["sftp"]["enabled"]), "status": "active",
                  "url": api.topology_url(name), "revision": 1, "createdAt": _now()}

        def effect() -> None:
            self.topologies[name] = record
            self.power[name] = "running"

        pipeline = self._run("create-topology", name, effect)
        return _Answer(201 if pipeline["status"] != "failed" else 202, {**record, "pipeline": pipeline})

    @staticmethod
    def _sftp(name: str, enabled: bool) -> dict[str, Any]:
        return {"enabled": True, "host": api.sftp_host(name), "port": SFTP_PORT} if enabled else {"enabled": False}

    def get_topology(self, t: str, **_: Any) -> _Answer:
        record = self._topology_or_404(t)
        return _Answer(200, copy.deepcopy(record), {"ETag": f'"{record["revision"]}"'})

    def patch_topology(self, t: str, body: Any, headers: dict[str, str], **_: Any) -> _Answer:
        record = self._topology_or_404(t)
        body = _fields(body, (), api.MUTABLE_TOPOLOGY_FIELDS + api.IMMUTABLE_TOPOLOGY_FIELDS)
        changed_immutable = [k for k in api.IMMUTABLE_TOPOLOGY_FIELDS if k in body and body[k] != record[k]]
        if changed_immutable:
            raise Fail(422, "immutable_field", f"{', '.join(changed_immutable)} cannot change; create a new topology",
                       [{"field": k, "reason": "immutable"} for k in changed_immutable])
        _check(_topology_checks(body, record["product"]))
        expected = headers.get("if-match")
        if expected is not None and expected.strip('"') != str(record["revision"]):
            raise Fail(412, "precondition_failed", f"revision is {record['revision']}, not {expected}")
        changes = {k: body[k] for k in api.MUTABLE_TOPOLOGY_FIELDS if k in body}
        if "sftp" in changes:
            changes["sftp"] = self._sftp(t, changes["sftp"]["enabled"])
        changes = {k: v for k, v in changes.items() if record.get(k) != v}
        if not changes:
            return _Answer(200, copy.deepcopy(record))

        def effect() -> None:
            record.update(copy.deepcopy(changes))
            record["revision"] += 1

        pipeline = self._run("update-topology", t, effect)
        return _Answer(200, {**copy.deepcopy(record), "pipeline": pipeline})

    def delete_topology(self, t: str, **_: Any) -> _Answer:
        record = self._topology_or_404(t)
        if record["type"] == "PROD":
            raise Fail(409, "protected_topology", f"{t} is a PROD topology: production is never removed")

        def effect() -> None:  # removing a topology removes all of its data (the seed's warning)
            for store in (self.topologies, self.power, self.configurations, self.artifacts, self.backups):
                store.pop(t, None)

        return _Answer(202, {"pipeline": self._run("delete-topology", t, effect)})

    # -- power -------------------------------------------------------------------------------------
    def get_power(self, t: str, **_: Any) -> _Answer:
        self._topology_or_404(t)
        return _Answer(200, {"topology": t, "state": self.power[t]})

    def put_power(self, t: str, body: Any, **_: Any) -> _Answer:
        self._topology_or_404(t)
        state = _fields(body, ("state",))["state"]
        _check([("state", state in api.POWER_STATES, "running or stopped")])
        if self.power[t] == state:
            return _Answer(200, {"topology": t, "state": state})
        pipeline = self._run("power-on" if state == "running" else "power-off", t,
                             lambda: self.power.__setitem__(t, state))
        return _Answer(200, {"topology": t, "state": self.power[t], "pipeline": pipeline})

    # -- configuration -------------------------------------------------------------------------------
    def get_configuration(self, t: str, **_: Any) -> _Answer:
        self._topology_or_404(t)
        if t not in self.configurations:
            raise Fail(404, "not_found", f"topology {t} has no configuration yet")
        return _Answer(200, {"topology": t, **copy.deepcopy(self.configurations[t])})

    def put_configuration(self, t: str, body: Any, **_: Any) -> _Answer:
        self._topology_or_404(t)
        body = _fields(body, ("document", "digest"))
        document, digest = body["document"], body["digest"]
        _check([("document", isinstance(document, dict), "a JSON object"),
                ("digest", _is_text(digest, _DIGEST, 80), "sha256:<64 hex digits>")])
        _check([("document.format", document.get("format") == DEPLOYMENT_FORMAT, f"must be {DEPLOYMENT_FORMAT}"),
                ("document.topology", document.get("topology") == t, f"must be {t}")])
        if api.document_digest(document) != digest:
            raise Fail(422, "digest_mismatch", "digest is not the sha256 of the canonical document")
        current = self.configurations.get(t)
        if current and current["digest"] == digest:
            return _Answer(200, {"topology": t, **copy.deepcopy(current)})
        revision = (current or {"revision": 0})["revision"] + 1
        new = {"document": document, "digest": digest, "revision": revision, "appliedAt": _now()}
        pipeline = self._run("apply-configuration", t, lambda: self.configurations.__setitem__(t, new))
        return _Answer(200, {"topology": t, **copy.deepcopy(self.configurations.get(t, new)), "pipeline": pipeline})

    # -- artifacts ---------------------------------------------------------------------------------
    def post_artifacts(self, t: str, body: Any, **_: Any) -> _Answer:
        record = self._topology_or_404(t)
        body = _fields(body, ("kind", "path", "sha256", "size", "content"))
        kind, path, sha = body["kind"], body["path"], body["sha256"]
        _check([("kind", kind in api.ARTIFACT_KINDS, f"one of {', '.join(api.ARTIFACT_KINDS)}"),
                ("path", _is_text(path, max_length=1024), "a repository path"),
                ("sha256", _is_text(sha, _SHA256, 64), "64 lower-case hex digits"),
                ("size", _is_int(body["size"], 0, 2 ** 63), "a byte count")])
        extensions = api.ARTIFACT_KINDS[kind]
        _check([("path", not extensions or path.lower().endswith(extensions),
                 f"a {kind} must be a {', '.join(extensions)} file"),
                ("kind", record["product"] in _ARTIFACT_PRODUCTS[kind],
                 f"{kind} artifacts are for {', '.join(_ARTIFACT_PRODUCTS[kind])} topologies")])
        if body["size"] > api.MAX_ARTIFACT_BYTES:
            raise Fail(413, "payload_too_large", f"artifacts are limited to {api.MAX_ARTIFACT_BYTES} bytes")
        content = self._content(body["content"])
        if len(content) != body["size"] or hashlib.sha256(content).hexdigest() != sha:
            raise Fail(422, "digest_mismatch", "content does not match sha256/size")
        store = self.artifacts.setdefault(t, {})
        artifact = store.get(sha)
        status = 200 if artifact else 201
        if artifact is None:
            artifact = store[sha] = {"sha256": sha, "size": len(content), "references": [], "createdAt": _now()}
        artifact["references"] = sorted([r for r in artifact["references"] if r["path"] != path]
                                        + [{"path": path, "kind": kind}], key=lambda r: r["path"])
        return _Answer(status, copy.deepcopy(artifact))

    @staticmethod
    def _content(text: Any) -> bytes:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Fail(422, "validation_failed", "content: base64 bytes",
                       [{"field": "content", "reason": "base64"}]) from None

    def get_artifacts(self, t: str, **_: Any) -> _Answer:
        self._topology_or_404(t)
        return _Answer(200, {"items": copy.deepcopy(sorted(self.artifacts.get(t, {}).values(),
                                                           key=lambda a: a["sha256"]))})

    def _artifact_or_404(self, t: str, sha: str) -> dict[str, Any]:
        self._topology_or_404(t)
        try:
            return self.artifacts.get(t, {})[sha]
        except KeyError:
            raise Fail(404, "not_found", f"topology {t} has no artifact {sha}") from None

    def get_artifact(self, t: str, sha: str, **_: Any) -> _Answer:
        return _Answer(200, copy.deepcopy(self._artifact_or_404(t, sha)))

    def delete_artifact(self, t: str, sha: str, query: dict[str, str], **_: Any) -> _Answer:
        artifact = self._artifact_or_404(t, sha)
        path = query.get("path")
        if not path:
            raise Fail(400, "invalid_request", "the query parameter path is required")
        remaining = [r for r in artifact["references"] if r["path"] != path]
        if len(remaining) == len(artifact["references"]):
            raise Fail(404, "not_found", f"artifact {sha} has no reference {path}")
        artifact["references"] = remaining
        if not remaining:  # the bytes go away with their last reference
            del self.artifacts[t][sha]
        return _Answer(204)

    # -- backups -----------------------------------------------------------------------------------
    def post_backups(self, t: str, body: Any, **_: Any) -> _Answer:
        self._topology_or_404(t)
        body = _fields(body, ("name", "comment"))
        _check([("name", _is_text(body["name"], _BACKUP_NAME, 64), "letters, digits, _ . - (up to 64)"),
                ("comment", isinstance(body["comment"], str) and len(body["comment"]) <= 500, "up to 500 characters")])
        history = self.backups.setdefault(t, [])
        if any(b["name"] == body["name"] for b in history):
            raise Fail(409, "backup_exists", f"topology {t} already has a backup named {body['name']}")
        backup = self._new_backup(t, body["name"], body["comment"], "manual")
        pipeline = self._run("backup", t, lambda: history.append(backup))
        return _Answer(201 if pipeline["status"] != "failed" else 202, {**backup, "pipeline": pipeline})

    def get_backups(self, t: str, query: dict[str, str], **_: Any) -> _Answer:
        self._topology_or_404(t)
        kind, limit, cursor = query.get("type"), query.get("limit", "50"), query.get("cursor")
        _check([("type", kind is None or kind in api.BACKUP_TYPES, "manual or automatic"),
                ("limit", limit.isdigit() and 1 <= int(limit) <= 100, "1 to 100")])
        items = [b for b in reversed(self.backups.get(t, [])) if kind is None or b["type"] == kind]
        start = self._cursor_offset(cursor)
        page = items[start:start + int(limit)]
        more = start + int(limit) < len(items)
        next_cursor = base64.urlsafe_b64encode(str(start + int(limit)).encode()).decode() if more else None
        return _Answer(200, {"items": copy.deepcopy(page), "nextCursor": next_cursor})

    @staticmethod
    def _cursor_offset(cursor: str | None) -> int:
        if not cursor:
            return 0
        try:
            return int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, binascii.Error):
            raise Fail(400, "invalid_request", "cursor is not one this server gave") from None

    def get_backup(self, t: str, b: str, **_: Any) -> _Answer:
        self._topology_or_404(t)
        for backup in self.backups.get(t, []):
            if backup["name"] == b:
                return _Answer(200, copy.deepcopy(backup))
        raise Fail(404, "not_found", f"topology {t} has no backup {b}")

    def delete_backup(self, t: str, b: str, **_: Any) -> _Answer:
        raise Fail(405, "not_supported", "Intera keeps the backup history: backups cannot be deleted",
                   headers={"Allow": "GET"})

    # -- pipelines ---------------------------------------------------------------------------------
    def get_pipeline(self, p: str, **_: Any) -> _Answer:
        try:
            pipeline = self.pipelines[p]
        except KeyError:
            raise Fail(404, "not_found", f"pipeline {p} does not exist") from None
        if pipeline["status"] == "running":
            pipeline["pollsLeft"] -= 1
            if pipeline["pollsLeft"] <= 0:
                pipeline["status"] = "succeeded"
        return _Answer(200, self._public_pipeline(pipeline))


# (method, path regex, FakeIntera method name); groups are passed by name.
_ROUTES: list[tuple[str, re.Pattern, str]] = [
    (m, re.compile(p), h) for m, p, h in (
        ("POST", r"^/topologies$", "post_topologies"),
        ("GET", r"^/topologies/(?P<t>[^/]+)$", "get_topology"),
        ("PATCH", r"^/topologies/(?P<t>[^/]+)$", "patch_topology"),
        ("DELETE", r"^/topologies/(?P<t>[^/]+)$", "delete_topology"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/power$", "get_power"),
        ("PUT", r"^/topologies/(?P<t>[^/]+)/power$", "put_power"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/configuration$", "get_configuration"),
        ("PUT", r"^/topologies/(?P<t>[^/]+)/configuration$", "put_configuration"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/artifacts$", "get_artifacts"),
        ("POST", r"^/topologies/(?P<t>[^/]+)/artifacts$", "post_artifacts"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/artifacts/(?P<sha>[^/]+)$", "get_artifact"),
        ("DELETE", r"^/topologies/(?P<t>[^/]+)/artifacts/(?P<sha>[^/]+)$", "delete_artifact"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/backups$", "get_backups"),
        ("POST", r"^/topologies/(?P<t>[^/]+)/backups$", "post_backups"),
        ("GET", r"^/topologies/(?P<t>[^/]+)/backups/(?P<b>[^/]+)$", "get_backup"),
        ("DELETE", r"^/topologies/(?P<t>[^/]+)/backups/(?P<b>[^/]+)$", "delete_backup"),
        ("GET", r"^/pipelines/(?P<p>[^/]+)$", "get_pipeline"),
    )
]


def route(method: str, path: str) -> tuple[str, dict[str, str]]:
    """The handler name and path parameters; 404 for an unknown path, 405 for a wrong verb."""
    allowed = []
    for verb, pattern, handler in _ROUTES:
        match = pattern.match(path)
        if match:
            if verb == method:
                return handler, {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            allowed.append(verb)
    if allowed:
        raise Fail(405, "method_not_allowed", f"{method} is not allowed on {path}",
                   headers={"Allow": ", ".join(allowed)})
    raise Fail(404, "not_found", f"no such resource: {path}")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeIntera
    server_version = "FakeIntera/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read ``fake.requests``
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        fake = self.fake
        with fake._lock:
            request_id = fake._next("req")
        try:
            answer = self._answer(fake)
        except Fail as fail:
            answer = _Answer(fail.status, {"error": {"code": fail.code, "message": fail.message,
                                                     **({"details": fail.details} if fail.details else {}),
                                                     "requestId": request_id}}, fail.headers)
        self._write(answer, request_id)

    def _answer(self, fake: FakeIntera) -> _Answer:
        split = urllib.parse.urlsplit(self.path)
        if not split.path.startswith(PREFIX + "/"):
            raise Fail(404, "not_found", f"no such resource: {split.path}")
        path = split.path[len(PREFIX):]
        query = dict(urllib.parse.parse_qsl(split.query))
        headers = {k.lower(): v for k, v in self.headers.items()}
        raw = self.rfile.read(int(headers.get("content-length") or 0))
        body = self._body(raw, headers)
        with fake._lock:
            fake.requests.append(RecordedRequest(self.command, path, query, headers, body))
        self._fault(fake, self.command, path)
        if headers.get("authorization") != f"Bearer {fake.token}":
            raise Fail(401, "unauthorized", "missing or invalid bearer token")
        handler, params = route(self.command, path)
        return self._idempotent(fake, self.command, handler, params, path, query, headers, body, raw)

    @staticmethod
    def _body(raw: bytes, headers: dict[str, str]) -> Any:
        if not raw:
            return None
        if not headers.get("content-type", "").startswith("application/json"):
            raise Fail(415, "unsupported_media_type", "bodies are application/json")
        try:
            return json.loads(raw)
        except ValueError:
            raise Fail(400, "invalid_json", "the body is not JSON") from None

    @staticmethod
    def _fault(fake: FakeIntera, method: str, path: str) -> None:
        fault = fake._take_fault(method, path)
        if fault is None:
            return
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            raise Fail(fault.status, fault.code, "injected fault", headers=headers)

    @staticmethod
    def _idempotent(fake: FakeIntera, method: str, handler: str, params: dict[str, str], path: str,
                    query: dict[str, str], headers: dict[str, str], body: Any, raw: bytes) -> _Answer:
        """Replay the answer of a known Idempotency-Key; refuse the key for another request."""
        key = headers.get("idempotency-key")
        if method == "POST" and not key:
            raise Fail(400, "idempotency_key_required", "POST requires an Idempotency-Key header")
        fingerprint = hashlib.sha256(f"{method} {path}?{sorted(query.items())}\n".encode() + raw).hexdigest()
        with fake._lock:
            if key and key in fake._idempotency:
                seen, answer = fake._idempotency[key]
                if seen != fingerprint:
                    raise Fail(422, "idempotency_key_reused", "this Idempotency-Key was used for another request")
                return _Answer(answer.status, copy.deepcopy(answer.body),
                               {**answer.headers, "Idempotent-Replayed": "true"})
            answer = getattr(fake, handler)(body=body, headers=headers, query=query, **params)
            if key and method != "GET":
                fake._idempotency[key] = (fingerprint, copy.deepcopy(answer))
            return answer

    def _write(self, answer: _Answer, request_id: str) -> None:
        payload = b"" if answer.body is None else json.dumps(answer.body).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("X-Request-Id", request_id)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
