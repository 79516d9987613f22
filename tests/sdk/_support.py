"""Shared machinery for the official-SDK acceptance suite.

- ``Server`` starts ``orgadmin serve`` on a free port with a fresh database and a known admin
  key, and hands out official ``openai`` clients pointed at it. The backend comes from
  ``ORGADMIN_TEST_BACKEND``: ``sqlite`` (the default, an in-memory database) or ``postgres`` (a
  database of its own, ``orgadmin_test_<random>``, created with ``psql`` on the server
  ``ORGADMIN_TEST_POSTGRES_URL`` names, default ``postgres://postgres@127.0.0.1:5432/postgres``,
  and dropped when the server stops). ``ORGADMIN_TEST_RUN_ID`` (letters and digits), if set, goes
  into the database name so a test run can check afterwards that it left nothing behind.
- Every response any client of the suite receives is also checked against the authoritative
  OpenAPI document (``../shared/openapi/openai-admin-identity.yaml``, or ``ORGADMIN_OPENAPI``):
  SPEC §1 says every body must validate against it, which is stricter than the SDK's own models
  (the SDK marks as optional many fields the spec marks as required, e.g. ``next`` on role lists).
  Violations are collected and reported by an autouse fixture at the end of each test.
- ``raw`` sends exact bytes (plain ``emails=a&emails=b`` queries, malformed JSON, oversized
  bodies, missing auth), which the SDK cannot.
- ``expect_error`` asserts the OpenAI error envelope of SPEC §4.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

import openai
import pytest
from openai.types.admin.organization import OrganizationUser

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent.parent
OWNER_EMAIL = "owner@example.com"
DEFAULT_PROJECT_NAME = "Default Project"

ORG_OWNER = "role-api-organization-owner"
ORG_READER = "role-api-organization-reader"
PROJ_OWNER = "role-api-project-owner"
PROJ_MEMBER = "role-api-project-member"
PROJ_VIEWER = "role-api-project-viewer"

# SPEC §6, the permission catalogue (with the project API key permissions of the official spec).
ORG_PERMISSIONS = {
    "api.organization.read",
    "api.organization.users.read",
    "api.organization.users.write",
    "api.organization.roles.read",
    "api.organization.roles.write",
    "api.organization.invites.read",
    "api.organization.invites.write",
    "api.organization.projects.read",
    "api.organization.projects.write",
    "api.organization.projects.users.read",
    "api.organization.projects.users.write",
    "api.groups.read",
    "api.groups.write",
    "api.organization.admin_api_keys.read",
    "api.organization.admin_api_keys.write",
    "api.organization.audit_logs.read",
    "api.organization.projects.api_keys.read",
    "api.organization.projects.api_keys.write",
}
ORG_READER_PERMISSIONS = {
    p
    for p in ORG_PERMISSIONS
    if p.endswith(".read") and "admin_api_keys" not in p and "audit_logs" not in p
}
# The project API key permissions fit both scopes (core::permission), so a project owner has them.
PROJECT_PERMISSIONS = {
    "api.organization.projects.api_keys.read",
    "api.organization.projects.api_keys.write",
    "api.project.read",
    "api.project.users.read",
    "api.project.users.write",
    "api.project.roles.read",
    "api.project.roles.write",
    "api.model.request",
    "api.responses.write",
    "api.files.read",
    "api.files.write",
    "api.vector_stores.read",
    "api.vector_stores.write",
    "api.fine_tuning.jobs.read",
    "api.fine_tuning.jobs.write",
    "api.batches.read",
    "api.batches.write",
}
PROJECT_VIEWER_PERMISSIONS = {
    "api.project.read",
    "api.project.users.read",
    "api.files.read",
    "api.vector_stores.read",
}

# The model-use permissions of the predefined project role `member`, in catalogue order (the
# order a refusal names them in).
MODEL_USE = (
    "api.model.request",
    "api.responses.write",
    "api.files.read",
    "api.files.write",
    "api.vector_stores.read",
    "api.vector_stores.write",
    "api.fine_tuning.jobs.read",
    "api.fine_tuning.jobs.write",
    "api.batches.read",
    "api.batches.write",
)

# A missing permission is a 401 as well, as the real API answers it (`expect_insufficient`).
# The audit log lists newest first; these tests read a story of changes in the order it happened,
# with orgadmin's `order=asc` (an extension the SDK sends as an extra query parameter).
OLDEST_FIRST = {"order": "asc"}

ERROR_CLASSES: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
}

# The real API's refusal of a key that lacks permissions: this, the missing scopes, ". ", then
# INSUFFICIENT_CHECK (and, from this server, a sentence of detail).
INSUFFICIENT = "You have insufficient permissions for this operation. Missing scopes: "
INSUFFICIENT_CHECK = (
    "Check that you have the correct role in your organization (Reader, Writer, Owner) and project "
    "(Member, Owner), and if you're using a restricted API key, that it has the necessary scopes."
)


def scoped_role_id(predefined: str, project_id: str) -> str:
    """The project-scoped form of a predefined project role ID, as the official API returns it."""
    return f"{predefined}__api-project__{project_id}"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def unique_name(prefix: str = "name") -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------------
# OpenAPI response validation
# --------------------------------------------------------------------------------------------


def _openapi_path() -> Path:
    env = os.environ.get("ORGADMIN_OPENAPI")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "openapi" / "openai-admin-identity.yaml"


class OpenApiValidator:
    """A small validator for the OpenAPI 3.1 subset the admin spec uses.

    It checks types, `required`, `enum`, `anyOf`/`oneOf`/`allOf`, `$ref`, `nullable`, `items` and
    `properties`; unknown properties are allowed (the spec never forbids them).
    """

    def __init__(self, document: dict[str, Any]):
        self.doc = document
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        # Literal path segments beat parameters, so `/organization/projects/{project_id}/archive`
        # and friends are matched before anything more generic.
        for template, item in document.get("paths", {}).items():
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self.routes.append((re.compile(regex), template, item))
        self.routes.sort(key=lambda r: r[1].count("{"))

    @classmethod
    def load(cls) -> "OpenApiValidator | None":
        path = _openapi_path()
        if not path.exists():
            warnings.warn(
                f"OpenAPI document not found at {path}; responses are only checked by the SDK's "
                "own models. Set ORGADMIN_OPENAPI to the openai-admin-identity.yaml path.",
                stacklevel=1,
            )
            return None
        import yaml  # PyYAML, see requirements.txt

        with path.open() as f:
            return cls(yaml.safe_load(f))

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/"), ref
            node: Any = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
            schema = node
        return schema

    def schema_named(self, name: str) -> dict[str, Any]:
        return self.doc["components"]["schemas"][name]

    def response_schema(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        """The documented schema for a response, `ErrorResponse` for any error, None if unknown."""
        if status >= 400:
            return self.schema_named("ErrorResponse")
        if re.fullmatch(r"/organization/invites/[^/]+/accept", path) and method == "post":
            return self.schema_named("User")  # extension route, returns an `organization.user`
        for regex, _template, item in self.routes:
            if regex.match(path):
                op = item.get(method)
                if op is None:
                    return None
                responses = op.get("responses", {})
                resp = responses.get(str(status)) or responses.get("200")
                if resp is None:
                    return None
                resp = self.resolve(resp)
                content = resp.get("content", {}).get("application/json")
                if content is None:
                    return None
                return content.get("schema")
        return None

    def errors(self, schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
        schema = self.resolve(schema)
        out: list[str] = []
        if value is None and (schema.get("nullable") or schema.get("type") == "null"):
            return out
        if "allOf" in schema:
            for sub in schema["allOf"]:
                out += self.errors(sub, value, where)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [self.errors(sub, value, where) for sub in schema[key]]
                if all(branches):
                    best = min(branches, key=len)
                    out.append(f"{where}: matches no {key} branch ({'; '.join(best[:3])})")
        typ = schema.get("type")
        if typ is not None:
            types = typ if isinstance(typ, list) else [typ]
            if schema.get("nullable"):
                types = [*types, "null"]
            if not any(_is_type(value, t) for t in types):
                out.append(f"{where}: expected {'/'.join(types)}, got {json.dumps(value)[:80]}")
                return out
        if "enum" in schema and value not in schema["enum"]:
            if not (value is None and schema.get("nullable")):
                out.append(f"{where}: {value!r} not one of {schema['enum']}")
        if isinstance(value, dict):
            for req in schema.get("required", []):
                if req not in value:
                    out.append(f"{where}: missing required property {req!r}")
            for name, sub in schema.get("properties", {}).items():
                if name in value:
                    out += self.errors(sub, value[name], f"{where}.{name}")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                out += self.errors(schema["items"], item, f"{where}[{i}]")
        return out


def _is_type(value: Any, typ: str) -> bool:
    return {
        "null": value is None,
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(typ, True)


VALIDATOR = OpenApiValidator.load()


@dataclass
class Violations:
    """Schema violations seen since the current test started (checked by an autouse fixture)."""

    items: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, msg: str) -> None:
        with self.lock:
            self.items.append(msg)

    def take(self) -> list[str]:
        with self.lock:
            out, self.items = self.items, []
            return out


VIOLATIONS = Violations()


def check_response(method: str, url: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Record every way a response breaks SPEC §4 / the OpenAPI document."""
    path = urlsplit(url).path
    label = f"{method.upper()} {url} -> {status}"
    if not path.startswith("/v1/") and path != "/v1":
        if not _header(headers, "x-request-id"):
            VIOLATIONS.add(f"{label}: no x-request-id header")
        return
    if not _header(headers, "x-request-id"):
        VIOLATIONS.add(f"{label}: no x-request-id header")
    if status >= 500:
        VIOLATIONS.add(f"{label}: 5xx (SPEC §4: no input ever produces a 5xx): {body[:300]!r}")
    if VALIDATOR is None or path == "/v1/openapi.json":
        return
    schema = VALIDATOR.response_schema(method.lower(), path[len("/v1") :], status)
    if schema is None:
        return
    try:
        value = json.loads(body)
    except ValueError:
        VIOLATIONS.add(f"{label}: body is not JSON: {body[:200]!r}")
        return
    errs = VALIDATOR.errors(schema, value)
    if errs:
        VIOLATIONS.add(f"{label}: does not validate against the OpenAPI document: " + "; ".join(errs[:8]))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def _on_response(response: Any) -> None:
    response.read()
    check_response(
        response.request.method, str(response.request.url), response.status_code, response.headers, response.content
    )


# --------------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def __repr__(self) -> str:
        return f"<{self.status} {self.body[:500]!r}>"


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


def _binary() -> Path:
    return Path(os.environ.get("ORGADMIN_BIN", REPO / "target" / "debug" / "orgadmin"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    """The backend `ORGADMIN_TEST_BACKEND` selects: `sqlite` (default) or `postgres`."""
    value = os.environ.get("ORGADMIN_TEST_BACKEND", "").strip().lower() or "sqlite"
    if value == "postgresql":
        value = "postgres"
    if value not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"ORGADMIN_TEST_BACKEND must be 'sqlite' or 'postgres', not {value!r}")
    return value


def postgres_admin_url() -> str:
    return os.environ.get("ORGADMIN_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _with_database(url: str, database: str) -> str:
    """`url` (`postgres://user@host:port/db?params`) naming `database` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _psql(admin_url: str, sql: str) -> None:
    """Run one statement on the admin connection with `psql`; raise with its output on failure."""
    try:
        done = subprocess.run(
            ["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "--dbname", admin_url, "-c", sql],
            env={**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except FileNotFoundError:
        raise RuntimeError("ORGADMIN_TEST_BACKEND=postgres needs the `psql` client on the PATH") from None
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} on {admin_url} failed ({done.returncode}): {done.stderr.strip()}")


class Database:
    """The database of one server: `sqlite::memory:`, or a PostgreSQL database of its own that
    `drop()` (idempotent; also run at interpreter exit as a safety net) removes `WITH (FORCE)`."""

    def __init__(self) -> None:
        self._admin_url: str | None = None
        self.name: str | None = None
        if backend() == "sqlite":
            self.url = "sqlite::memory:"
            return
        admin_url = postgres_admin_url()
        run = os.environ.get("ORGADMIN_TEST_RUN_ID", "")
        if run and not (len(run) <= 24 and run.isascii() and run.isalnum()):
            raise pytest.UsageError(f"ORGADMIN_TEST_RUN_ID must be at most 24 letters and digits, not {run!r}")
        suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(16))
        name = f"orgadmin_test_{run.lower()}_{suffix}" if run else f"orgadmin_test_{suffix}"
        try:
            _psql(admin_url, f'CREATE DATABASE "{name}"')
        except RuntimeError as e:
            pytest.fail(
                f"ORGADMIN_TEST_BACKEND=postgres, but no database could be created on "
                f"ORGADMIN_TEST_POSTGRES_URL={admin_url}: {e}",
                pytrace=False,
            )
        self._admin_url, self.name = admin_url, name
        self.url = _with_database(admin_url, name)
        atexit.register(self.drop)

    def drop(self) -> None:
        if self._admin_url is None or self.name is None:
            return
        admin_url, name = self._admin_url, self.name
        self._admin_url = None
        atexit.unregister(self.drop)
        _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """One `orgadmin serve` process with a fresh database of its own (see `Database`)."""

    def __init__(self) -> None:
        binary = _binary()
        if not binary.exists():
            pytest.fail(f"server binary {binary} not found: run `cargo build` or set ORGADMIN_BIN", pytrace=False)
        self.admin_key = "sk-admin-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log = tempfile.TemporaryFile()
        self.database = Database()
        env = {
            **os.environ,
            "ORGADMIN_ADMIN_KEY": self.admin_key,
            "ORGADMIN_OWNER_EMAIL": OWNER_EMAIL,
            "RUST_LOG": "warn",
        }
        try:
            self.proc = subprocess.Popen(
                [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--database", self.database.url],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            self.database.drop()
            raise
        self._wait_healthy(20.0)
        self.client = self.make_client(self.admin_key)

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.output()
                self.stop()
                pytest.fail(
                    f"orgadmin exited with status {self.proc.returncode} before becoming healthy:\n{output}",
                    pytrace=False,
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
                last = f"status {status}"
            except OSError as e:
                last = e
            time.sleep(0.05)
        output = self.output()
        self.stop()
        pytest.fail(f"orgadmin not healthy after {timeout}s (last: {last}):\n{output}", pytrace=False)

    def stop(self) -> None:
        """Stop the process, then drop its database. Idempotent."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self._log.close()
        finally:
            self.database.drop()

    def make_client(self, admin_key: str | None) -> openai.OpenAI:
        return openai.OpenAI(
            admin_api_key=admin_key,
            api_key="unused",
            base_url=self.base_url,
            _strict_response_validation=True,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(event_hooks={"response": [_on_response]}),
        )

    def raw(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        key: str | None | bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Send one request exactly as given. `path` is relative to `/v1` unless it starts with `//`.

        `key=True` uses the server's admin key, a string uses that key, None/False sends no
        Authorization header.
        """
        full = path[1:] if path.startswith("//") else "/v1" + path
        hdrs = {"Accept": "application/json"}
        if key is True:
            hdrs["Authorization"] = f"Bearer {self.admin_key}"
        elif isinstance(key, str):
            hdrs["Authorization"] = f"Bearer {key}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, full, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            if body is not None:
                try:
                    conn.send(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may answer (413) before reading the whole body
            resp = conn.getresponse()
            data = resp.read()
            out = RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()
        check_response(method, f"http://127.0.0.1:{self.port}{full}", out.status, out.headers, out.body)
        return out


# --------------------------------------------------------------------------------------------
# Domain helpers
# --------------------------------------------------------------------------------------------


def accept_invite(client: openai.OpenAI, invite_id: str, name: str | None = "Display Name") -> OrganizationUser:
    """The `POST /v1/organization/invites/{invite_id}/accept` extension, through the SDK client."""
    body = {} if name is None else {"name": name}
    return client.post(
        f"/organization/invites/{invite_id}/accept",
        body=body,
        cast_to=OrganizationUser,
        options={"security": {"admin_api_key_auth": True}},
    )


def add_member(
    client: openai.OpenAI,
    email: str | None = None,
    *,
    name: str | None = None,
    role: str = "reader",
    projects: list[dict[str, str]] | None = None,
) -> OrganizationUser:
    """Invite `email` and accept the invite: the only way to make an organization member."""
    email = email or unique_email()
    invite = client.admin.organization.invites.create(email=email, role=role, projects=projects or [])
    return accept_invite(client, invite.id, name or f"User {email.split('@')[0]}")


def default_project_id(client: openai.OpenAI) -> str:
    for p in client.admin.organization.projects.list(limit=100, include_archived=True):
        if p.name == DEFAULT_PROJECT_NAME:
            return p.id
    raise AssertionError("no project named 'Default Project'")


def owner_user(client: openai.OpenAI) -> OrganizationUser:
    users = client.admin.organization.users.list(emails=[OWNER_EMAIL]).data
    assert len(users) == 1, users
    return users[0]


_ANY = object()


def expect_error(
    call: Callable[[], Any],
    *,
    status: int,
    code: str,
    param: Any = _ANY,
    type_: str = "invalid_request_error",
    message_contains: str | None = None,
) -> dict[str, Any]:
    """Run an SDK call that must fail; check the SDK exception class and the SPEC §4 envelope.

    `param` may be a value, or a tuple/set of acceptable values where the contract leaves the
    choice open. Returns the `error` object.
    """
    with pytest.raises(openai.APIStatusError) as info:
        call()
    err = info.value
    response = err.response
    ctx = f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:600]}"
    assert err.status_code == status, ctx
    expected_cls = ERROR_CLASSES.get(status)
    if expected_cls is not None:
        assert isinstance(err, expected_cls), ctx
    return check_envelope(response.json(), response.headers, status=status, code=code, param=param, type_=type_,
                          message_contains=message_contains, ctx=ctx)


def expect_insufficient(
    call: Callable[[], Any],
    *,
    missing: str | Sequence[str],
    detail: str | None = None,
    detail_contains: str | None = None,
) -> dict[str, Any]:
    """Run an SDK call refused because the key lacks permissions, answered as the real API answers
    it: 401 (the SDK raises `AuthenticationError`), `invalid_request_error`, `code` and `param`
    null, and the real API's message naming exactly `missing` (in catalogue order). `detail` is
    the sentence this server adds after it (exactly; "" for none), or `detail_contains` a part of
    it. Returns the `error` object."""
    names = missing if isinstance(missing, str) else ", ".join(missing)
    with pytest.raises(openai.AuthenticationError) as info:
        call()
    err = info.value
    response = err.response
    ctx = f"{response.request.method} {response.request.url} -> {response.status_code} {response.text[:800]}"
    assert err.status_code == 401, ctx
    assert err.code is None and err.param is None and err.type == "invalid_request_error", ctx
    assert isinstance(err.body, dict) and "code" in err.body and err.body["code"] is None, ctx
    e = check_envelope(response.json(), response.headers, status=401, code=None, param=None,
                       type_="invalid_request_error", message_contains=None, ctx=ctx)
    real = f"{INSUFFICIENT}{names}. {INSUFFICIENT_CHECK}"
    assert e["message"].startswith(real), ctx
    ours = e["message"][len(real):]
    assert ours == "" or (ours.startswith(" ") and ours.strip()), ctx
    if detail is not None:
        assert ours == (f" {detail}" if detail else ""), ctx
    if detail_contains is not None:
        assert detail_contains in ours, ctx
    return e


def expect_raw_error(
    resp: RawResponse,
    *,
    status: int,
    code: str,
    param: Any = _ANY,
    type_: str = "invalid_request_error",
    message_contains: str | None = None,
) -> dict[str, Any]:
    ctx = repr(resp)
    assert resp.status == status, ctx
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {ctx}") from None
    return check_envelope(body, resp.headers, status=status, code=code, param=param, type_=type_,
                          message_contains=message_contains, ctx=ctx)


def check_envelope(
    body: Any,
    headers: Mapping[str, str],
    *,
    status: int,
    code: str | None,
    param: Any,
    type_: str,
    message_contains: str | None,
    ctx: str,
) -> dict[str, Any]:
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), ctx
    e = body["error"]
    assert set(e) >= {"message", "type", "param", "code"}, ctx
    assert e["type"] == type_, ctx
    assert e["code"] == code, ctx
    if param is not _ANY:
        if isinstance(param, (tuple, set, frozenset)):
            assert e["param"] in param, ctx
        else:
            assert e["param"] == param, ctx
    assert isinstance(e["message"], str) and e["message"].strip(), ctx
    if message_contains is not None:
        assert message_contains in e["message"], ctx
    assert _header(headers, "x-request-id"), f"no x-request-id header: {ctx}"
    return e
