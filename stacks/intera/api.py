"""The Intera HTTP API contract, in one module: resources, verbs, wire shapes, errors and the client.

Intera (the vendor's own cloud) has no public Pulumi provider; the stack drives this API through
dynamic providers (``stacks.intera.provider``), and ``stacks.intera.fake_server`` implements the
same contract in memory as its reference behaviour. Everything a caller may rely on is here.

Transport
    JSON over HTTPS (plain HTTP is refused except to a loopback host, so a bearer token never
    crosses a network in clear). Base URL from the stack setting ``endpoint`` (default
    ``DEFAULT_ENDPOINT``). ``Authorization: Bearer <token>``; the token is read at *apply time*
    from the environment variable named by the setting ``tokenEnv`` (``ClientSettings.client``),
    never at build time, so it is in no state file and no program input. Redirects are not
    followed (they would carry the token elsewhere). Every response carries ``X-Request-Id``.

Resources and verbs (paths relative to the base URL; ``{t}`` is the topology name)
    POST   /topologies                       TopologySpec                -> 201 Topology (+pipeline)
    GET    /topologies/{t}                                               -> 200 Topology, ETag "<revision>"
    PATCH  /topologies/{t}                   TopologyPatch [If-Match]    -> 200 Topology (+pipeline)
    DELETE /topologies/{t}                                               -> 202 {pipeline}; 409 for PROD
    GET    /topologies/{t}/power                                         -> 200 PowerState
    PUT    /topologies/{t}/power             {state}                     -> 200 PowerState (+pipeline)
    GET    /topologies/{t}/configuration                                 -> 200 Configuration; 404 if none
    PUT    /topologies/{t}/configuration     {document, digest}          -> 200 Configuration (+pipeline)
    POST   /topologies/{t}/artifacts         ArtifactUpload              -> 201 new / 200 known digest
    GET    /topologies/{t}/artifacts                                     -> 200 {items: [Artifact]}
    GET    /topologies/{t}/artifacts/{sha256}                            -> 200 Artifact
    DELETE /topologies/{t}/artifacts/{sha256}?path=<path>                -> 204 (drops one reference)
    POST   /topologies/{t}/backups           {name, comment}             -> 201 Backup; 409 backup_exists
    GET    /topologies/{t}/backups[?type=manual|automatic&limit=&cursor=] -> 200 {items, nextCursor}
    GET    /topologies/{t}/backups/{name}                                -> 200 Backup
    DELETE /topologies/{t}/backups/{name}                                -> 405: Intera keeps the history
    GET    /pipelines/{id}                                               -> 200 Pipeline

Semantics
    * Immutable topology fields (``IMMUTABLE_TOPOLOGY_FIELDS``) cannot be PATCHed (422
      ``immutable_field``); changing them means a new topology.
    * Every action runs a pipeline (the portal's "Eventos"): mutating responses carry
      ``pipeline`` {id, action, status, step, message}; poll ``GET /pipelines/{id}`` until
      ``succeeded`` or ``failed`` (``InteraClient.wait_pipeline``).
    * Idempotency: POST requires an ``Idempotency-Key`` header, other mutations accept one. The
      server replays the stored response of a key (``Idempotent-Replayed: true``) and refuses
      the same key with a different request (422 ``idempotency_key_reused``). The client sends
      one fresh key per logical call and reuses it across its retries.
    * Artifacts are content-addressed: identified by the sha256 of their bytes; uploading a known
      digest only adds a (path, kind) reference; the bytes go away with the last reference.
    * Configuration digest: ``document_digest(document)``, sha256 of the canonical JSON (sorted
      keys, no whitespace, ASCII escapes); the server recomputes it (422 ``digest_mismatch``).
    * Errors: ``{"error": {"code", "message", "details"?, "requestId"}}``, mapped by status to the
      exception classes below. 429 and 503 carry ``Retry-After`` (seconds or an HTTP date) and
      mean "not processed": the client retries them, and transport failures, since every
      mutation it sends carries an idempotency key.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping

from reconciler.model.capabilities import CLOUDTOTVS_ZONE

DEFAULT_ENDPOINT = "https://api.intera.cloudtotvs.com.br/v1"
DEFAULT_TOKEN_ENV = "INTERA_API_TOKEN"
DEFAULT_TIMEOUT = 30.0
USER_AGENT = "erp-gitops-reconciler/0.1 (intera-client)"

INSTANCE_SIZES = ("small", "medium", "large", "xlarge")
POWER_STATES = ("running", "stopped")
ARTIFACT_KINDS = {"patch": (".ptm",), "widget": (".war", ".ear", ".jar"), "fluig-config": ()}
BACKUP_TYPES = ("manual", "automatic")
PIPELINE_TERMINAL = ("succeeded", "failed")
IMMUTABLE_TOPOLOGY_FIELDS = ("name", "customer", "product", "type", "region")
MUTABLE_TOPOLOGY_FIELDS = ("version", "instances", "instanceSize", "labels", "sftp")
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
MAX_RETRY_WAIT = 60.0  # never sleep longer than this on one Retry-After


# ---------------------------------------------------------------------------------------------
# Addresses the platform assigns (Intera offers no domain change: the names are the platform's).

def topology_url(name: str) -> str:
    return f"https://{name}.intera.{CLOUDTOTVS_ZONE}"


def sftp_host(name: str) -> str:
    return f"sftp.{name}.intera.{CLOUDTOTVS_ZONE}"


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def document_digest(document: Any) -> str:
    """The digest the configuration endpoint expects: of a parsed document or its JSON text."""
    text = canonical_json(json.loads(document) if isinstance(document, str) else document)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Errors

class InteraError(Exception):
    """Any failure talking to Intera. ``status`` is None when no HTTP answer came back."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: Any = None, request_id: str | None = None, method: str = "", path: str = ""):
        where = f"{method} {path}: " if method else ""
        rid = f" (request {request_id})" if request_id else ""
        super().__init__(f"{where}{message}{rid}")
        self.status, self.code, self.details = status, code, details
        self.request_id, self.method, self.path = request_id, method, path
        self.reason = message


class InteraInvalid(InteraError):
    """400/422: the request broke the contract; ``details`` lists the fields."""


class InteraAuthError(InteraError):
    """401/403, or no token in the environment at apply time."""


class InteraNotFound(InteraError):
    """404."""


class InteraNotSupported(InteraError):
    """405: Intera does not offer this action (e.g. deleting a manual backup)."""


class InteraConflict(InteraError):
    """409: the state forbids it (already exists, PROD topology, ...)."""


class InteraPreconditionFailed(InteraConflict):
    """412: the If-Match revision is no longer current."""


class InteraTooLarge(InteraError):
    """413."""


class InteraThrottled(InteraError):
    """429 (or 503, see InteraUnavailable): not processed; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class InteraUnavailable(InteraThrottled):
    """503: the service is unavailable; not processed."""


class InteraServerError(InteraError):
    """Other 5xx: the outcome is unknown."""


class InteraProtocolError(InteraError):
    """An answer that does not follow the contract (not JSON, missing fields, a redirect)."""


class InteraTransportError(InteraError):
    """No HTTP answer at all."""


class InteraTimeout(InteraTransportError):
    """The server did not answer within the timeout."""


class InteraUnreachable(InteraTransportError):
    """Connection refused, DNS failure, TLS failure."""


class InteraPipelineFailed(InteraError):
    """The action was accepted but its pipeline failed (``pipeline.step``, ``pipeline.message``)."""

    def __init__(self, pipeline: "Pipeline"):
        super().__init__(f"pipeline {pipeline.id} ({pipeline.action}) failed at step "
                         f"{pipeline.step!r}: {pipeline.message}", code="pipeline_failed")
        self.pipeline = pipeline


_STATUS_ERRORS: dict[int, type[InteraError]] = {
    400: InteraInvalid, 401: InteraAuthError, 403: InteraAuthError, 404: InteraNotFound,
    405: InteraNotSupported, 409: InteraConflict, 412: InteraPreconditionFailed, 413: InteraTooLarge,
    422: InteraInvalid, 429: InteraThrottled, 503: InteraUnavailable,
}


def error_class(status: int) -> type[InteraError]:
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    return InteraServerError if status >= 500 else InteraProtocolError if status < 400 else InteraInvalid


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


# ---------------------------------------------------------------------------------------------
# Wire shapes. Requests render with ``to_json``; responses parse with ``from_json``, which ignores
# fields it does not know (the API may add fields) and raises InteraProtocolError on missing ones.

def _require(data: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return data[key]
    except (KeyError, TypeError):
        raise InteraProtocolError(f"{what} without {key!r} in the answer") from None


@dataclass(frozen=True)
class Pipeline:
    id: str
    action: str
    status: str  # queued | running | succeeded | failed
    step: str | None = None
    message: str | None = None

    @property
    def done(self) -> bool:
        return self.status in PIPELINE_TERMINAL

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "Pipeline | None":
        if not data:
            return None
        return cls(_require(data, "id", "pipeline"), data.get("action", ""), _require(data, "status", "pipeline"),
                   data.get("step"), data.get("message"))


@dataclass(frozen=True)
class TopologySpec:
    """POST /topologies."""
    name: str
    customer: str
    product: str
    type: str
    region: str
    version: str
    instances: int = 1
    instance_size: str = "medium"
    labels: Mapping[str, str] = field(default_factory=dict)
    sftp_enabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "customer": self.customer, "product": self.product, "type": self.type,
                "region": self.region, "version": self.version, "instances": self.instances,
                "instanceSize": self.instance_size, "labels": dict(self.labels),
                "sftp": {"enabled": self.sftp_enabled}}


@dataclass(frozen=True)
class TopologyPatch:
    """PATCH /topologies/{t}: only the fields given (not None) change."""
    version: str | None = None
    instances: int | None = None
    instance_size: str | None = None
    labels: Mapping[str, str] | None = None
    sftp_enabled: bool | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"version": self.version, "instances": self.instances, "instanceSize": self.instance_size,
                "labels": dict(self.labels) if self.labels is not None else None,
                "sftp": {"enabled": self.sftp_enabled} if self.sftp_enabled is not None else None}
        return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class Topology:
    id: str
    name: str
    customer: str
    product: str
    type: str
    region: str
    version: str
    instances: int
    instance_size: str
    labels: Mapping[str, str]
    sftp_enabled: bool
    status: str  # provisioning | active | updating | deleting | failed
    url: str
    revision: int
    sftp_host: str | None = None
    sftp_port: int | None = None
    created_at: str | None = None
    pipeline: Pipeline | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Topology":
        sftp = data.get("sftp") or {}
        return cls(
            id=_require(data, "id", "topology"), name=_require(data, "name", "topology"),
            customer=_require(data, "customer", "topology"), product=_require(data, "product", "topology"),
            type=_require(data, "type", "topology"), region=_require(data, "region", "topology"),
            version=_require(data, "version", "topology"), instances=int(_require(data, "instances", "topology")),
            instance_size=_require(data, "instanceSize", "topology"), labels=dict(data.get("labels") or {}),
            sftp_enabled=bool(sftp.get("enabled", False)), status=_require(data, "status", "topology"),
            url=_require(data, "url", "topology"), revision=int(data.get("revision", 0)),
            sftp_host=sftp.get("host"), sftp_port=sftp.get("port"), created_at=data.get("createdAt"),
            pipeline=Pipeline.from_json(data.get("pipeline")),
        )


@dataclass(frozen=True)
class PowerState:
    topology: str
    state: str
    pipeline: Pipeline | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PowerState":
        return cls(_require(data, "topology", "power state"), _require(data, "state", "power state"),
                   Pipeline.from_json(data.get("pipeline")))


@dataclass(frozen=True)
class Configuration:
    topology: str
    document: Mapping[str, Any]
    digest: str
    revision: int
    applied_at: str | None = None
    pipeline: Pipeline | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Configuration":
        return cls(_require(data, "topology", "configuration"), _require(data, "document", "configuration"),
                   _require(data, "digest", "configuration"), int(data.get("revision", 0)),
                   data.get("appliedAt"), Pipeline.from_json(data.get("pipeline")))


@dataclass(frozen=True)
class ArtifactUpload:
    """POST /topologies/{t}/artifacts: the bytes travel base64-encoded with their digest."""
    kind: str
    path: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256, "size": len(self.content),
                "content": base64.b64encode(self.content).decode("ascii")}


@dataclass(frozen=True)
class ArtifactRef:
    path: str
    kind: str


@dataclass(frozen=True)
class Artifact:
    sha256: str
    size: int
    references: tuple[ArtifactRef, ...]
    created_at: str | None = None

    def reference(self, path: str) -> ArtifactRef | None:
        return next((r for r in self.references if r.path == path), None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Artifact":
        refs = tuple(ArtifactRef(_require(r, "path", "artifact reference"), _require(r, "kind", "artifact reference"))
                     for r in data.get("references") or ())
        return cls(_require(data, "sha256", "artifact"), int(data.get("size", 0)), refs, data.get("createdAt"))


@dataclass(frozen=True)
class BackupRequest:
    """POST /topologies/{t}/backups ("Realizar Backup": a name and a comment)."""
    name: str
    comment: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "comment": self.comment}


@dataclass(frozen=True)
class Backup:
    id: str
    name: str
    comment: str
    type: str  # manual | automatic
    status: str  # requested | running | completed | failed
    created_at: str | None = None
    size_bytes: int | None = None
    pipeline: Pipeline | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Backup":
        return cls(_require(data, "id", "backup"), _require(data, "name", "backup"), data.get("comment") or "",
                   _require(data, "type", "backup"), _require(data, "status", "backup"), data.get("createdAt"),
                   data.get("sizeBytes"), Pipeline.from_json(data.get("pipeline")))


@dataclass(frozen=True)
class Response:
    """One HTTP answer, decoded."""
    status: int
    headers: Mapping[str, str]
    body: Any


# ---------------------------------------------------------------------------------------------
# The client

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would resend the bearer token to wherever it points: refuse it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        return None


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class InteraClient:
    """One method per operation of the contract. Retries 429/503 (honouring Retry-After, capped at
    ``max_retry_wait``) and transport failures up to ``retries`` times with the same idempotency
    key; raises the mapped InteraError otherwise. ``sleep`` and ``clock`` are injectable for tests."""

    def __init__(self, base_url: str, token: str, timeout: float = DEFAULT_TIMEOUT, *, retries: int = 3,
                 max_retry_wait: float = MAX_RETRY_WAIT, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "https" and not (parsed.scheme == "http" and _is_loopback(parsed.hostname)):
            raise ValueError(f"Intera endpoint {base_url!r} must use https (plain http only to a loopback host)")
        if not token:
            raise InteraAuthError("no Intera API token")
        self.base_url = base_url.rstrip("/")
        self.timeout, self.retries, self.max_retry_wait = timeout, retries, max_retry_wait
        self._token, self._sleep, self._clock = token, sleep, clock
        proxies = urllib.request.ProxyHandler({}) if _is_loopback(parsed.hostname) else urllib.request.ProxyHandler()
        self._opener = urllib.request.build_opener(proxies, _NoRedirect())

    def __repr__(self) -> str:  # never show the token
        return f"InteraClient({self.base_url!r}, timeout={self.timeout})"

    # -- topologies ---------------------------------------------------------------------------
    def create_topology(self, spec: TopologySpec, *, idempotency_key: str | None = None) -> Topology:
        return Topology.from_json(self._call("POST", "/topologies", spec.to_json(), key=idempotency_key).body)

    def get_topology(self, name: str) -> Topology:
        return Topology.from_json(self._call("GET", f"/topologies/{_quote(name)}").body)

    def update_topology(self, name: str, patch: TopologyPatch, *, if_match: int | None = None) -> Topology:
        headers = {"If-Match": f'"{if_match}"'} if if_match is not None else {}
        return Topology.from_json(self._call("PATCH", f"/topologies/{_quote(name)}", patch.to_json(),
                                             headers=headers).body)

    def delete_topology(self, name: str) -> Pipeline | None:
        return Pipeline.from_json((self._call("DELETE", f"/topologies/{_quote(name)}").body or {}).get("pipeline"))

    # -- power ----------------------------------------------------------------------------------
    def get_power(self, name: str) -> PowerState:
        return PowerState.from_json(self._call("GET", f"/topologies/{_quote(name)}/power").body)

    def set_power(self, name: str, state: str) -> PowerState:
        return PowerState.from_json(self._call("PUT", f"/topologies/{_quote(name)}/power", {"state": state}).body)

    # -- configuration ----------------------------------------------------------------------------
    def get_configuration(self, name: str) -> Configuration:
        return Configuration.from_json(self._call("GET", f"/topologies/{_quote(name)}/configuration").body)

    def put_configuration(self, name: str, document: Mapping[str, Any], digest: str | None = None) -> Configuration:
        body = {"document": document, "digest": digest or document_digest(document)}
        return Configuration.from_json(self._call("PUT", f"/topologies/{_quote(name)}/configuration", body).body)

    # -- artifacts --------------------------------------------------------------------------------
    def upload_artifact(self, name: str, upload: ArtifactUpload, *, idempotency_key: str | None = None) -> Artifact:
        return Artifact.from_json(self._call("POST", f"/topologies/{_quote(name)}/artifacts", upload.to_json(),
                                             key=idempotency_key).body)

    def get_artifact(self, name: str, sha256: str) -> Artifact:
        return Artifact.from_json(self._call("GET", f"/topologies/{_quote(name)}/artifacts/{_quote(sha256)}").body)

    def list_artifacts(self, name: str) -> list[Artifact]:
        body = self._call("GET", f"/topologies/{_quote(name)}/artifacts").body
        return [Artifact.from_json(item) for item in _require(body, "items", "artifact list")]

    def delete_artifact(self, name: str, sha256: str, path: str) -> None:
        query = urllib.parse.urlencode({"path": path})
        self._call("DELETE", f"/topologies/{_quote(name)}/artifacts/{_quote(sha256)}?{query}")

    # -- backups ----------------------------------------------------------------------------------
    def request_backup(self, name: str, request: BackupRequest, *, idempotency_key: str | None = None) -> Backup:
        return Backup.from_json(self._call("POST", f"/topologies/{_quote(name)}/backups", request.to_json(),
                                           key=idempotency_key).body)

    def get_backup(self, name: str, backup: str) -> Backup:
        return Backup.from_json(self._call("GET", f"/topologies/{_quote(name)}/backups/{_quote(backup)}").body)

    def list_backups(self, name: str, type: str | None = None, page_size: int = 100) -> list[Backup]:
        """The whole history (every page), newest first as the server orders it."""
        items: list[Backup] = []
        cursor: str | None = None
        while True:
            query = {k: v for k, v in {"type": type, "limit": page_size, "cursor": cursor}.items() if v}
            body = self._call("GET", f"/topologies/{_quote(name)}/backups?{urllib.parse.urlencode(query)}").body
            items += [Backup.from_json(item) for item in _require(body, "items", "backup list")]
            cursor = body.get("nextCursor")
            if not cursor:
                return items

    # -- pipelines --------------------------------------------------------------------------------
    def get_pipeline(self, pipeline_id: str) -> Pipeline:
        pipeline = Pipeline.from_json(self._call("GET", f"/pipelines/{_quote(pipeline_id)}").body)
        if pipeline is None:
            raise InteraProtocolError(f"pipeline {pipeline_id} answered with an empty body")
        return pipeline

    def wait_pipeline(self, pipeline: Pipeline | None, *, timeout: float = 3600.0,
                      interval: float = 5.0) -> Pipeline | None:
        """Poll until the pipeline ends; InteraPipelineFailed if it failed, InteraTimeout if slow."""
        deadline = self._clock() + timeout
        while pipeline is not None and not pipeline.done:
            if self._clock() >= deadline:
                raise InteraTimeout(f"pipeline {pipeline.id} ({pipeline.action}) still {pipeline.status} "
                                    f"after {timeout:g}s", code="pipeline_timeout")
            self._sleep(interval)
            pipeline = self.get_pipeline(pipeline.id)
        if pipeline is not None and pipeline.status == "failed":
            raise InteraPipelineFailed(pipeline)
        return pipeline

    # -- transport ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None,
                key: str | None = None) -> Response:
        """Any call of the contract, with its retries; for operations without a method here."""
        return self._call(method, path, body, headers=headers, key=key)

    def _call(self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None,
              key: str | None = None) -> Response:
        headers = dict(headers or {})
        if method != "GET":  # one key per logical call, the same on every retry
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        attempt = 0
        while True:
            try:
                return self._send(method, path, body, headers)
            except (InteraThrottled, InteraTransportError) as exc:
                if attempt >= self.retries:
                    raise
                attempt += 1
                self._sleep(self._backoff(exc, attempt))

    def _backoff(self, exc: InteraError, attempt: int) -> float:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.max_retry_wait)
        # Exponential with jitter so that many stacks do not retry in step.
        return min(0.5 * 2 ** (attempt - 1) * (1 + random.random()), self.max_retry_wait)

    def _send(self, method: str, path: str, body: Any, headers: Mapping[str, str]) -> Response:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Accept": "application/json", "User-Agent": USER_AGENT,
            **({"Content-Type": "application/json"} if data is not None else {}), **headers})
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                status, answer_headers, raw = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as answer:
            status, answer_headers, raw = answer.code, answer.headers, _read_quietly(answer)
        except (socket.timeout, TimeoutError) as exc:
            raise InteraTimeout(f"no answer within {self.timeout:g}s", method=method, path=path) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                raise InteraTimeout(f"no answer within {self.timeout:g}s", method=method, path=path) from exc
            raise InteraUnreachable(f"cannot reach {self.base_url}: {exc.reason}", method=method, path=path) from exc
        except (ConnectionError, OSError) as exc:
            raise InteraUnreachable(f"connection to {self.base_url} failed: {exc}", method=method, path=path) from exc
        return _decode(status, dict(answer_headers.items()), raw, method, path)


def _read_quietly(answer) -> bytes:
    try:
        return answer.read()
    except (OSError, socket.timeout):
        return b""


def _decode(status: int, headers: Mapping[str, str], raw: bytes, method: str, path: str) -> Response:
    """The body of a 2xx, or the mapped InteraError."""
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = lower.get("x-request-id")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
        if 200 <= status < 300:
            raise InteraProtocolError(f"answer {status} is not JSON", status=status, request_id=request_id,
                                      method=method, path=path) from None
    if 200 <= status < 300:
        return Response(status, lower, body)
    error = (body or {}).get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    kind = error_class(status)
    kw: dict[str, Any] = {"status": status, "code": error.get("code"), "details": error.get("details"),
                          "request_id": error.get("requestId") or request_id, "method": method, "path": path}
    if issubclass(kind, InteraThrottled):
        kw["retry_after"] = parse_retry_after(lower.get("retry-after"))
    message = error.get("message") or (f"unexpected redirect {status}" if 300 <= status < 400 else f"HTTP {status}")
    raise kind(message, **kw)


# ---------------------------------------------------------------------------------------------
# Settings of a stack -> a client at apply time

@dataclass(frozen=True)
class ClientSettings:
    """What a provider needs to build a client. Picklable and secret-free: the token is read from
    the environment variable ``token_env`` only when an operation runs."""
    endpoint: str = DEFAULT_ENDPOINT
    token_env: str = DEFAULT_TOKEN_ENV
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 3
    pipeline_timeout: float = 3600.0
    poll_interval: float = 5.0

    @classmethod
    def from_settings(cls, get: Callable[[str, Any], Any]) -> "ClientSettings":
        """From a stack's settings accessor (``StackInput.setting``)."""
        return cls(endpoint=get("endpoint", DEFAULT_ENDPOINT), token_env=get("tokenEnv", DEFAULT_TOKEN_ENV),
                   timeout=float(get("timeout", DEFAULT_TIMEOUT)), retries=int(get("retries", 3)),
                   pipeline_timeout=float(get("pipelineTimeout", 3600.0)),
                   poll_interval=float(get("pollInterval", 5.0)))

    def client(self, environ: Mapping[str, str] | None = None) -> InteraClient:
        token = (os.environ if environ is None else environ).get(self.token_env, "")
        if not token:
            raise InteraAuthError(f"the environment variable {self.token_env} holding the Intera API token "
                                  "is not set (setting tokenEnv)")
        return InteraClient(self.endpoint, token, self.timeout, retries=self.retries)

