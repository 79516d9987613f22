"""How the package reaches the operator API: one kept-alive connection for every call, opened
again once when the server has closed it meanwhile, and safe to share between threads."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Iterator

import pytest

import orgadmin


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with `{"ok": true}`, counting connections and requests; with
    `close_after_answer`, closes the connection after each answer without saying so (as a
    server does with a connection that stayed idle too long)."""

    protocol_version = "HTTP/1.1"
    connections = 0
    requests: list[str] = []
    close_after_answer = False

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if type(self).close_after_answer:
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[type[_Recorder], orgadmin.Server]]:
    handler = type("Recorder", (_Recorder,), {"connections": 0, "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    # A Server object pointed at the recorder instead of a process of its own.
    server = orgadmin.Server()
    host, port = httpd.server_address[:2]
    server._address = (str(host), int(port))
    server.base_url = f"http://{host}:{port}"
    try:
        yield handler, server
    finally:
        server.stop()
        httpd.shutdown()
        httpd.server_close()


def test_calls_share_one_kept_alive_connection(recorder: tuple[type[_Recorder], orgadmin.Server]) -> None:
    handler, server = recorder
    for n in range(3):
        assert server.request("POST", "/_orgadmin/organizations", {"n": n}) == {"ok": True}
    assert server.request("GET", "/_orgadmin/organizations", query={"limit": 1}) == {"ok": True}
    assert handler.connections == 1
    assert handler.requests[-1] == "GET /_orgadmin/organizations?limit=1"


def test_a_connection_the_server_closed_is_opened_again(
    recorder: tuple[type[_Recorder], orgadmin.Server],
) -> None:
    handler, server = recorder
    handler.close_after_answer = True
    for n in range(3):
        assert server.request("POST", "/_orgadmin/organizations", {"n": n}) == {"ok": True}
    # Each call found the previous connection closed and sent its request once, on a new one.
    assert handler.connections == 3
    assert handler.requests == ["POST /_orgadmin/organizations"] * 3


def test_threads_share_the_connection_safely(orgadmin_server: orgadmin.Server) -> None:
    org = orgadmin_server.create_organization()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert org.retrieve()["id"] == org.id
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            failures.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    org.delete()
    assert failures == []


def test_a_refusal_keeps_the_connection_usable(orgadmin_org: orgadmin.Organization) -> None:
    with pytest.raises(orgadmin.OrgadminError) as refused:
        orgadmin_org.advance_clock(-5)
    assert refused.value.status == 400
    assert orgadmin_org.retrieve()["id"] == orgadmin_org.id
