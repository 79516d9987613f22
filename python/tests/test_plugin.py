"""The pytest plugin's own tests, run against the installed wheel: each test gets an
organization of its own, deleted after it, and the organization's helpers drive the operator
API."""

from __future__ import annotations

import asyncio

import openai
import pytest

import orgadmin

_previous: dict[str, str] = {}


def test_each_test_gets_a_fresh_organization(orgadmin_org: orgadmin.Organization) -> None:
    client = orgadmin_org.client(max_retries=0)
    users = client.admin.organization.users.list()
    assert [u.id for u in users.data] == [orgadmin_org.owner_id]
    projects = client.admin.organization.projects.list()
    assert [p.id for p in projects.data] == [orgadmin_org.default_project_id]
    client.admin.organization.projects.create(name="Made by the first test")
    _previous["org"] = orgadmin_org.id


def test_the_previous_tests_organization_is_gone(
    orgadmin_server: orgadmin.Server, orgadmin_org: orgadmin.Organization
) -> None:
    assert _previous["org"] != orgadmin_org.id
    with pytest.raises(orgadmin.OrgadminError) as refused:
        orgadmin_server.request("GET", f"/_orgadmin/organizations/{_previous['org']}")
    assert refused.value.status == 404
    assert refused.value.param == "org_id"
    projects = orgadmin_org.client().admin.organization.projects.list()
    assert len(projects.data) == 1


def test_organizations_made_on_the_server_are_isolated(orgadmin_server: orgadmin.Server) -> None:
    a = orgadmin_server.create_organization(owner_email="a@example.com")
    b = orgadmin_server.create_organization(owner_email="b@example.com", name="B")
    assert a.id != b.id
    assert b.retrieve()["name"] == "B"
    emails = [u.email for u in a.client().admin.organization.users.list().data]
    assert emails == ["a@example.com"]
    # One organization's key opens nothing in the other.
    with pytest.raises(openai.NotFoundError):
        a.client(max_retries=0).admin.organization.users.retrieve(b.owner_id)


def test_the_async_client_works_too(orgadmin_org: orgadmin.Organization) -> None:
    async def owner_email() -> str:
        async with orgadmin_org.async_client() as client:
            user = await client.admin.organization.users.retrieve(orgadmin_org.owner_id)
            return user.email

    assert asyncio.run(owner_email()) == orgadmin_org.owner_email


def test_an_injected_fault_answers_and_is_counted(orgadmin_org: orgadmin.Organization) -> None:
    orgadmin_org.inject_fault("/v1/organization/invites", 429, method="POST", retry_after=0, times=1)
    client = orgadmin_org.client(max_retries=0)
    with pytest.raises(openai.RateLimitError):
        client.admin.organization.invites.create(email="ada@example.com", role="reader")
    # Nothing was written; the SDK's own retry gets through once the fault is spent.
    assert client.admin.organization.invites.list().data == []
    invite = orgadmin_org.client(max_retries=1).admin.organization.invites.create(email="ada@example.com", role="reader")
    assert invite.email == "ada@example.com"
    [fault] = orgadmin_org.faults()
    assert fault["fired"] == 1
    with pytest.raises(orgadmin.OrgadminError) as refused:
        orgadmin_org.inject_fault("/v1/organization/nowhere/{id}", 503)
    assert refused.value.status == 400 and refused.value.param == "path"


def test_the_journal_shows_what_the_code_sent(orgadmin_org: orgadmin.Organization) -> None:
    client = orgadmin_org.client()
    client.admin.organization.projects.create(name="Journaled")
    client.admin.organization.users.list(limit=5)
    [listed, created] = orgadmin_org.requests()
    assert (listed["method"], listed["route"], listed["query"]) == ("GET", "/v1/organization/users", "limit=5")
    assert created["body"] == {"name": "Journaled"}
    assert orgadmin_org.requests(method="POST") == [created]
    orgadmin_org.clear_requests()
    assert orgadmin_org.requests() == []


def test_the_clock_moves_for_this_organization_alone(
    orgadmin_server: orgadmin.Server, orgadmin_org: orgadmin.Organization
) -> None:
    client = orgadmin_org.client()
    invite = client.admin.organization.invites.create(email="late@example.com", role="reader")
    other = orgadmin_server.create_organization()
    other_invite = other.client().admin.organization.invites.create(email="late@example.com", role="reader")
    orgadmin_org.advance_clock(8 * 24 * 3600)
    assert client.admin.organization.invites.retrieve(invite.id).status == "expired"
    assert other.client().admin.organization.invites.retrieve(other_invite.id).status == "pending"


def test_a_server_runs_without_pytest_too() -> None:
    with orgadmin.Server() as server:
        org = server.create_organization(name="Standalone")
        assert org.retrieve()["name"] == "Standalone"
        assert server.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(orgadmin.OrgadminError):
        server.create_organization()


def test_a_snapshot_puts_the_organization_back(orgadmin_org: orgadmin.Organization) -> None:
    client = orgadmin_org.client(max_retries=0)
    taken = orgadmin_org.snapshot()
    assert taken["object"] == "organization.snapshot"
    client.admin.organization.projects.create(name="Made after the snapshot")
    assert len(client.admin.organization.projects.list().data) == 2
    orgadmin_org.restore(taken)
    # Taken right after the restore (before a use of the key refreshes its last use), it is the
    # document restored.
    assert orgadmin_org.snapshot() == taken
    assert [p.id for p in client.admin.organization.projects.list().data] == [
        orgadmin_org.default_project_id
    ]


@pytest.mark.orgadmin_fixture("fixtures/team.yaml")
def test_the_marker_makes_the_organization_from_a_fixture(orgadmin_org: orgadmin.Organization) -> None:
    assert orgadmin_org.owner_id == "user-tess"
    client = orgadmin_org.client(max_retries=0)
    assert sorted(u.id for u in client.admin.organization.users.list().data if u.id.startswith("user-")) == [
        "user-tess",
        "user-uma",
    ]
    members = client.admin.organization.projects.users.list("proj_app")
    assert [u.id for u in members.data] == ["user-uma"]
    # The service account's key had no chosen secret: its value is shown once, at creation.
    assert list(orgadmin_org.api_keys) != []
    assert all(v.startswith("sk-svcacct-") for v in orgadmin_org.api_keys.values())
    # Reset brings the fixture back.
    client.admin.organization.users.delete("user-uma")
    orgadmin_org.reset()
    assert "user-uma" in [u.id for u in client.admin.organization.users.list().data]


def test_a_fixture_that_breaks_a_rule_names_every_problem(orgadmin_server: orgadmin.Server) -> None:
    before = len(orgadmin_server.organizations())
    with pytest.raises(orgadmin.OrgadminError) as refused:
        orgadmin_server.create_organization(
            fixture={"users": [{"email": "x"}], "projects": [{"name": "P", "members": [{"user": "nobody@x.test"}]}]}
        )
    assert refused.value.status == 400
    assert refused.value.param == "fixture.users[0].email"
    assert "projects[0].members[0].user" in str(refused.value)
    assert len(orgadmin_server.organizations()) == before
