"""Fixtures for the official-SDK acceptance suite: real `orgadmin` processes, official clients.

Each server has a fresh database of its own on the backend `ORGADMIN_TEST_BACKEND` selects
(`sqlite`, the default, in memory; or `postgres`, see `_support.Database`), gone when it stops.

- `server` / `client`: one server for the whole session. Tests that use it create their own
  users, projects and roles with unique names, so they do not depend on each other.
- `module_server` / `module_client`: one server per test module, for modules that need exact
  counts (pagination, audit logs).
- `fresh_server` / `fresh_client`: a server of its own for a test that changes organization-wide
  state (the owner's role, the bootstrap key). Use sparingly.

Binary: `ORGADMIN_BIN`, default `<repo>/target/debug/orgadmin`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import openai
import pytest

from _sdk_surface import WHOLE_SUITE, record_successful_calls
from _support import VIOLATIONS, Server

# Before any client exists: every SDK method that returns is remembered (test_sdk_surface.py).
record_successful_calls()


def _start() -> Server:
    return Server()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    s = _start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def client(server: Server) -> openai.OpenAI:
    return server.client


@pytest.fixture(scope="module")
def module_server() -> Iterator[Server]:
    s = _start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def module_client(module_server: Server) -> openai.OpenAI:
    return module_server.client


@pytest.fixture
def fresh_server() -> Iterator[Server]:
    s = _start()
    yield s
    s.stop()


@pytest.fixture
def fresh_client(fresh_server: Server) -> openai.OpenAI:
    return fresh_server.client


@pytest.fixture(autouse=True)
def _responses_conform_to_the_contract() -> Iterator[None]:
    """Fail a test if any response it received broke the OpenAPI document or SPEC §4."""
    VIOLATIONS.take()
    yield
    problems = VIOLATIONS.take()
    if problems:
        pytest.fail("responses broke the contract:\n  " + "\n  ".join(problems), pytrace=False)


def pytest_report_header() -> str:
    from _support import backend, postgres_admin_url

    chosen = backend()
    where = f" (databases on {postgres_admin_url()})" if chosen == "postgres" else ""
    return f"orgadmin test backend: {chosen}{where}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "surface_coverage: runs after every other test and checks what they called"
    )


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_DESELECTED] = True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the surface check to the end, and note whether the whole suite was selected."""
    last = [item for item in items if item.get_closest_marker("surface_coverage")]
    items[:] = [item for item in items if item not in last] + last


def pytest_collection_finish(session: pytest.Session) -> None:
    every_file = {path.name for path in Path(__file__).parent.glob("test_*.py")}
    selected_files = {item.path.name for item in session.items}
    session.config.stash[WHOLE_SUITE] = (
        selected_files == every_file and not session.config.stash.get(_DESELECTED, False)
    )


_DESELECTED = pytest.StashKey[bool]()
