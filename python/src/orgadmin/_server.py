"""Run the bundled orgadmin binary and drive its operator API (``/_orgadmin/…``)."""

from __future__ import annotations

import collections
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = ["Server", "Organization", "OrgadminError", "binary_path"]

_BINARY = "orgadmin.exe" if sys.platform == "win32" else "orgadmin"


class OrgadminError(Exception):
    """The server refused an operator request, or could not be started.

    ``status`` is the HTTP status (``None`` when no answer came), ``code`` and ``param`` are the
    error envelope's, and the message is the server's own.
    """

    def __init__(self, message: str, status: int | None = None, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param


def binary_path() -> str:
    """The orgadmin binary: ``$ORGADMIN_BIN``, else the one this package installed beside
    Python's scripts, else one on ``PATH``."""
    explicit = os.environ.get("ORGADMIN_BIN")
    if explicit:
        return explicit
    for scheme_dir in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scheme_dir) / _BINARY
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(_BINARY)
    if found:
        return found
    raise OrgadminError(
        "the orgadmin binary was not found: install this package from its wheel "
        "(pip install ./python), or set ORGADMIN_BIN to the binary"
    )


class Server:
    """An orgadmin server on a free port of 127.0.0.1, on an in-memory database unless
    ``database`` names another, with an operator key of its own.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with orgadmin.Server() as server:
            org = server.create_organization()
    """

    def __init__(
        self,
        *,
        database: str = "sqlite::memory:",
        operator_key: str | None = None,
        binary: str | None = None,
        args: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 20.0,
    ):
        self.database = database
        self.operator_key = operator_key or "sk-operator-" + secrets.token_urlsafe(36).replace("-", "_")
        self.binary = binary
        self.args = list(args)
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.base_url: str = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=200)
        # One keep-alive connection to the operator API, for every call (a new connection per
        # call costs more than the call itself); the lock keeps threads from interleaving on it.
        self._address: tuple[str, int] | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Server":
        if self._process is not None:
            return self
        env = {**os.environ, **self.env}
        env["ORGADMIN_OPERATOR_KEY"] = self.operator_key
        # The first start's organization gets a key nobody prints; tests make their own.
        env.setdefault("ORGADMIN_ADMIN_KEY", "sk-admin-" + secrets.token_urlsafe(36).replace("-", "_"))
        command = [
            self.binary or binary_path(),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            self.database,
            "--log-format",
            "json",
            *self.args,
        ]
        self._process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        address = self._wait_for_address()
        host, port = address.rsplit(":", 1)
        self._address = (host, int(port))
        self.base_url = f"http://{address}"
        threading.Thread(target=self._drain, name="orgadmin-log", daemon=True).start()
        return self

    def _wait_for_address(self) -> str:
        assert self._process is not None and self._process.stderr is not None
        deadline = time.monotonic() + self.startup_timeout
        found: list[str] = []

        def read() -> None:
            assert self._process is not None and self._process.stderr is not None
            for line in self._process.stderr:
                self._log.append(line.rstrip("\n"))
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("message") == "orgadmin listening":
                    found.append(record["listen.addr"])
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        if found:
            return found[0]
        self.stop()
        log = "\n".join(self._log)
        raise OrgadminError(f"orgadmin serve did not start within {self.startup_timeout} s:\n{log}")

    def _drain(self) -> None:
        process = self._process
        if process is None or process.stderr is None:
            return
        for line in process.stderr:
            self._log.append(line.rstrip("\n"))

    def stop(self) -> None:
        with self._lock:
            self._disconnect()
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def log(self) -> list[str]:
        """The server's latest log lines (JSON), for a failing test's report."""
        return list(self._log)

    # -- the operator API --------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> Any:
        """One operator API call; its JSON answer, or :class:`OrgadminError`."""
        if not self.base_url:
            raise OrgadminError("the server is not running: call start() or use it in a with block")
        target = path
        if query:
            target += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        with self._lock:
            status, raw = self._exchange(method, target, data, headers)
        if 200 <= status < 300:
            return json.loads(raw or b"null")
        try:
            error = json.loads(raw)["error"]
        except (ValueError, KeyError, TypeError):
            raise OrgadminError(f"{method} {path}: {status} {raw[:500]!r}", status=status) from None
        raise OrgadminError(
            f"{method} {path}: {error.get('message')}",
            status=status,
            code=error.get("code"),
            param=error.get("param"),
        )

    def _exchange(self, method: str, target: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status and body of one request on the kept connection (the lock held). A kept
        connection the server closed meanwhile (idle too long, or restarted) fails with a
        connection error before any answer: the request is sent once more, on a new connection.
        Any other failure, or one on a new connection, is the caller's error."""
        assert self._address is not None
        while True:
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(*self._address, timeout=30)
            connection = self._connection
            try:
                # A bytes body goes out in the same write as the headers (no Nagle delay).
                connection.request(method, target, body=data, headers=headers)
                response = connection.getresponse()
                raw = response.read()
            except ConnectionError as e:
                self._disconnect()
                if reused:
                    continue
                raise OrgadminError(f"{method} {target}: no answer from {self.base_url}: {e}") from None
            except (http.client.HTTPException, OSError) as e:
                self._disconnect()
                raise OrgadminError(f"{method} {target}: no answer from {self.base_url}: {e}") from None
            except BaseException:
                # Interrupted mid-exchange (KeyboardInterrupt): the connection is in no state to
                # carry the next request.
                self._disconnect()
                raise
            if response.will_close:
                self._disconnect()
            return response.status, raw

    def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def create_organization(
        self,
        *,
        name: str | None = None,
        owner_email: str | None = None,
        owner_name: str | None = None,
        admin_key: str | None = None,
        fixture: "str | os.PathLike[str] | Mapping[str, Any] | None" = None,
    ) -> "Organization":
        """A new organization with its owner, default project and admin key.

        ``fixture`` is a fixture file (YAML or JSON; a path) or the document itself (a mapping):
        the organization starts as it says, and a reset brings it back there. A fixture that
        breaks a rule raises :class:`OrgadminError` naming every problem, and creates nothing.
        """
        body: dict[str, Any] = {
            k: v
            for k, v in {
                "name": name,
                "owner_email": owner_email,
                "owner_name": owner_name,
                "admin_key": admin_key,
            }.items()
            if v is not None
        }
        if isinstance(fixture, Mapping):
            body["fixture"] = dict(fixture)
        elif fixture is not None:
            body["fixture"] = Path(fixture).read_text(encoding="utf-8")
        created = self.request("POST", "/_orgadmin/organizations", body)
        return Organization(self, created)

    def organizations(self) -> list[dict[str, Any]]:
        """Every organization on the server."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.request("GET", "/_orgadmin/organizations", query={"limit": 100, "after": after})
            found.extend(page["data"])
            if not page["has_more"]:
                return found
            after = page["last_id"]


class Organization:
    """One organization on a :class:`Server`: its IDs, its admin key, the official SDK's clients
    for it, and its clock, faults, request journal and snapshot."""

    def __init__(self, server: Server, created: Mapping[str, Any]):
        self.server = server
        self.id: str = created["organization"]["id"]
        self.name: str = created["organization"]["name"]
        self.admin_key: str = created["admin_key"]["value"]
        self.admin_key_id: str = created["admin_key"]["id"]
        self.owner_id: str = created["owner"]["id"]
        self.owner_email: str = created["owner"]["email"]
        self.default_project_id: str = created["default_project"]["id"]
        #: The secrets the server chose for a fixture's keys that gave none, by key ID (shown
        #: only at creation).
        self.api_keys: dict[str, str] = {k["id"]: k["value"] for k in created.get("api_keys") or []}

    def __repr__(self) -> str:
        return f"<orgadmin.Organization {self.id} on {self.server.base_url}>"

    @property
    def base_url(self) -> str:
        """The Admin API's base URL, as the SDKs take it."""
        return self.server.base_url + "/v1"

    def _path(self, tail: str = "") -> str:
        return f"/_orgadmin/organizations/{self.id}{tail}"

    def client(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` with this organization's admin key and the server's base URL.
        ``options`` go to its constructor (``max_retries``, ``timeout``, …)."""
        import openai

        options.setdefault("api_key", "unused")
        return openai.OpenAI(admin_api_key=self.admin_key, base_url=self.base_url, **options)

    def async_client(self, **options: Any) -> Any:
        """An ``openai.AsyncOpenAI`` like :meth:`client`."""
        import openai

        options.setdefault("api_key", "unused")
        return openai.AsyncOpenAI(admin_api_key=self.admin_key, base_url=self.base_url, **options)

    # -- the operator API, for this organization ---------------------------------------------

    def retrieve(self) -> dict[str, Any]:
        return self.server.request("GET", self._path())

    def delete(self) -> None:
        """Remove the organization and everything in it; its keys stop working at once."""
        self.server.request("DELETE", self._path())

    def reset(self) -> None:
        """Back to the state right after creation: same IDs, the same admin key."""
        self.server.request("POST", self._path("/reset"))

    def snapshot(self) -> dict[str, Any]:
        """The whole organization as one JSON document."""
        return self.server.request("GET", self._path("/snapshot"))

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Put a snapshot back in place."""
        self.server.request("PUT", self._path("/snapshot"), dict(snapshot))

    def clock(self) -> dict[str, Any]:
        return self.server.request("GET", self._path("/clock"))

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        """Move this organization's clock forward: invites and keys expire as if time passed."""
        return self.server.request("POST", self._path("/clock"), {"advance_seconds": int(seconds)})

    def set_clock(self, *, now: int | None = None, frozen: bool | None = None) -> dict[str, Any]:
        """Set the clock to ``now`` (Unix seconds), or freeze or unfreeze it."""
        if (now is None) == (frozen is None):
            raise ValueError("give exactly one of now and frozen")
        body = {"now": now} if now is not None else {"frozen": frozen}
        return self.server.request("POST", self._path("/clock"), body)

    def inject_fault(
        self,
        path: str,
        status: int | None = None,
        *,
        method: str | None = None,
        body: Any = None,
        retry_after: int | None = None,
        latency_ms: int | None = None,
        times: int | None = None,
        probability: float | None = None,
    ) -> dict[str, Any]:
        """Answer this organization's matching requests with ``status`` (429, 500, 502, 503 or
        504) before they do anything. ``path`` is a route template
        (``/v1/organization/users/{user_id}``) or a path prefix."""
        fault = {
            "path": path,
            "status": status,
            "method": method,
            "body": body,
            "retry_after": retry_after,
            "latency_ms": latency_ms,
            "times": times,
            "probability": probability,
        }
        return self.server.request("POST", self._path("/faults"), {k: v for k, v in fault.items() if v is not None})

    def faults(self) -> list[dict[str, Any]]:
        """The injected faults, with how often each fired."""
        return self.server.request("GET", self._path("/faults"))["data"]

    def clear_faults(self) -> None:
        self.server.request("DELETE", self._path("/faults"))

    def requests(self, *, method: str | None = None, route: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """The latest requests made with this organization's keys, newest first."""
        query = {"method": method, "route": route, "limit": limit}
        return self.server.request("GET", self._path("/requests"), query=query)["data"]

    def clear_requests(self) -> None:
        self.server.request("DELETE", self._path("/requests"))
