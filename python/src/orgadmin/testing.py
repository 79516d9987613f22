"""The pytest plugin of orgadmin, registered through the ``pytest11`` entry point.

Fixtures:

- ``orgadmin_server`` (session scope): the bundled binary on a free port of 127.0.0.1, on an
  in-memory database, with an operator key of its own. ``create_organization()`` makes an
  organization that lives until the session ends.
- ``orgadmin_org`` (function scope): a fresh organization per test, deleted afterwards; with
  ``@pytest.mark.orgadmin_fixture("path.yaml")`` (on the test, its class or module) made from
  that fixture file, the path relative to the test's file.

Options: ``--orgadmin-bin PATH`` (or ``ORGADMIN_BIN``) runs another binary than the bundled one;
``--orgadmin-database URL`` another database than an in-memory one; ``--orgadmin-arg ARG``
(repeatable) passes arguments to ``orgadmin serve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from ._server import Organization, OrgadminError, Server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orgadmin")
    group.addoption("--orgadmin-bin", default=None, help="the orgadmin binary to run (default: the bundled one, or $ORGADMIN_BIN)")
    group.addoption(
        "--orgadmin-database",
        default="sqlite::memory:",
        help="the database URL of the session's server (default: sqlite::memory:; a postgres:// URL works too)",
    )
    group.addoption(
        "--orgadmin-arg",
        action="append",
        default=[],
        help="an argument for `orgadmin serve` (repeatable), e.g. --orgadmin-arg=--rate-limit=600",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "orgadmin_fixture(path): make the test's orgadmin_org from this fixture file "
        "(YAML or JSON, relative to the test's file)",
    )


@pytest.fixture(scope="session")
def orgadmin_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """One orgadmin server for the whole session."""
    server = Server(
        binary=request.config.getoption("--orgadmin-bin"),
        database=request.config.getoption("--orgadmin-database"),
        args=request.config.getoption("--orgadmin-arg"),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def orgadmin_org(orgadmin_server: Server, request: pytest.FixtureRequest) -> Iterator[Organization]:
    """A fresh organization for this test, deleted after it; made from the fixture file of the
    closest ``orgadmin_fixture`` marker, if there is one."""
    marker = request.node.get_closest_marker("orgadmin_fixture")
    fixture = None
    if marker is not None:
        if len(marker.args) != 1 or marker.kwargs:
            raise pytest.UsageError('orgadmin_fixture takes one argument: the fixture file, e.g. @pytest.mark.orgadmin_fixture("org.yaml")')
        fixture = Path(request.node.path).parent / marker.args[0]
    org = orgadmin_server.create_organization(fixture=fixture)
    try:
        yield org
    finally:
        try:
            org.delete()
        except OrgadminError as e:
            # Deleted by the test itself is fine; anything else is worth a warning, not an error
            # that would hide the test's own outcome.
            if e.status != 404:
                import warnings

                warnings.warn(f"orgadmin: could not delete organization {org.id}: {e}", stacklevel=1)
