"""Project service accounts: `GET/POST /organization/projects/{project_id}/service_accounts`,
`GET/POST/DELETE /organization/projects/{project_id}/service_accounts/{service_account_id}`."""

from __future__ import annotations

import time

import openai

from _support import (
    OLDEST_FIRST,
    MODEL_USE,
    Server,
    default_project_id,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    unique_name,
)


def _project(client: openai.OpenAI) -> str:
    return client.admin.organization.projects.create(name=unique_name("bots")).id


def test_create_returns_the_account_and_its_key_once(server: Server) -> None:
    client = server.client
    pid = _project(client)
    before = int(time.time())
    raw = client.admin.organization.projects.service_accounts.with_raw_response.create(pid, name="Production App")
    assert raw.headers.get("x-request-id")
    sa = raw.parse()
    assert sa.object == "organization.project.service_account"
    assert sa.id.startswith("svc_acct_")
    assert sa.name == "Production App"
    assert sa.role == "member"
    assert before - 5 <= sa.created_at <= int(time.time()) + 5
    key = sa.api_key
    assert key is not None
    assert key.object == "organization.project.service_account.api_key"
    assert key.id.startswith("key_") and key.name and key.created_at == sa.created_at
    assert key.value.startswith("sk-svcacct-") and len(key.value) > 40
    assert key.expires_at is None

    got = client.admin.organization.projects.service_accounts.with_raw_response.retrieve(sa.id, project_id=pid)
    assert key.value not in got.http_response.text
    assert "api_key" not in got.http_response.json()
    listed = client.admin.organization.projects.service_accounts.with_raw_response.list(pid)
    assert key.value not in listed.http_response.text

    # A service account's key is a project key, not an admin key.
    as_bot = server.make_client(key.value)
    expect_error(
        lambda: as_bot.admin.organization.projects.service_accounts.list(pid),
        status=401,
        code="invalid_api_key",
        param=None,
    )


def test_create_service_account_only_gives_role_none_and_no_key(client: openai.OpenAI) -> None:
    pid = _project(client)
    raw = client.admin.organization.projects.service_accounts.with_raw_response.create(
        pid, name="Keyless", create_service_account_only=True
    )
    assert raw.http_response.json()["api_key"] is None
    sa = raw.parse()
    assert sa.role == "none" and sa.api_key is None
    assert client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=pid).role == "none"
    keyed = client.admin.organization.projects.service_accounts.create(
        pid, name="Keyed", create_service_account_only=False
    )
    assert keyed.role == "member" and keyed.api_key is not None


def test_expires_in_seconds_sets_when_the_key_expires(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Short-lived", expires_in_seconds=3600)
    assert sa.api_key is not None and sa.api_key.expires_at == sa.api_key.created_at + 3600
    for bad in (0, 31_536_001):
        expect_error(
            lambda: client.admin.organization.projects.service_accounts.create(
                pid, name="bad", expires_in_seconds=bad
            ),
            status=400,
            code="invalid_value",
            param="expires_in_seconds",
        )
    expect_error(
        lambda: client.admin.organization.projects.service_accounts.create(
            pid, name="bad", create_service_account_only=True, expires_in_seconds=60
        ),
        status=400,
        code="invalid_value",
        param="expires_in_seconds",
    )
    assert [s.id for s in client.admin.organization.projects.service_accounts.list(pid)] == [sa.id]


def test_a_name_is_required_and_must_be_sensible(server: Server) -> None:
    client = server.client
    pid = _project(client)
    expect_raw_error(
        server.raw("POST", f"/organization/projects/{pid}/service_accounts", json_body={}),
        status=400,
        code="missing_required_parameter",
        param="name",
    )
    for bad in ("", "   ", "x" * 256, "new\nline"):
        expect_error(
            lambda: client.admin.organization.projects.service_accounts.create(pid, name=bad),
            status=400,
            code="invalid_value",
            param="name",
        )
    assert list(client.admin.organization.projects.service_accounts.list(pid)) == []


def test_retrieve(client: openai.OpenAI) -> None:
    pid = _project(client)
    created = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    raw = client.admin.organization.projects.service_accounts.with_raw_response.retrieve(created.id, project_id=pid)
    assert raw.headers.get("x-request-id")
    got = raw.parse()
    assert got.object == "organization.project.service_account"
    assert (got.id, got.name, got.role, got.created_at) == (created.id, "Bot", "member", created.created_at)


def test_update_changes_what_is_given(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    raw = client.admin.organization.projects.service_accounts.with_raw_response.update(
        sa.id, project_id=pid, role="owner"
    )
    assert raw.headers.get("x-request-id")
    owner = raw.parse()
    assert (owner.name, owner.role) == ("Bot", "owner")
    renamed = client.admin.organization.projects.service_accounts.update(sa.id, project_id=pid, name="Renamed")
    assert (renamed.name, renamed.role) == ("Renamed", "owner")
    both = client.admin.organization.projects.service_accounts.update(
        sa.id, project_id=pid, name="Both", role="member"
    )
    assert (both.name, both.role, both.created_at) == ("Both", "member", sa.created_at)
    unchanged = client.admin.organization.projects.service_accounts.update(sa.id, project_id=pid)
    assert (unchanged.name, unchanged.role) == ("Both", "member")
    got = client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=pid)
    assert (got.name, got.role) == ("Both", "member")


def test_update_refuses_unknown_roles_and_bad_names(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    for bad in ("none", "viewer", "admin", ""):
        expect_error(
            lambda: client.admin.organization.projects.service_accounts.update(
                sa.id, project_id=pid, role=bad  # type: ignore[arg-type]
            ),
            status=400,
            code="invalid_value",
            param="role",
        )
    for bad in ("", "x" * 256):
        expect_error(
            lambda: client.admin.organization.projects.service_accounts.update(sa.id, project_id=pid, name=bad),
            status=400,
            code="invalid_value",
            param="name",
        )
    got = client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=pid)
    assert (got.name, got.role) == ("Bot", "member")


def test_delete(client: openai.OpenAI) -> None:
    pid = _project(client)
    keep = client.admin.organization.projects.service_accounts.create(pid, name="Keep")
    gone = client.admin.organization.projects.service_accounts.create(pid, name="Gone")
    raw = client.admin.organization.projects.service_accounts.with_raw_response.delete(gone.id, project_id=pid)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "organization.project.service_account.deleted"
    assert deleted.id == gone.id and deleted.deleted is True
    assert [s.id for s in client.admin.organization.projects.service_accounts.list(pid)] == [keep.id]
    for call in (
        lambda: client.admin.organization.projects.service_accounts.retrieve(gone.id, project_id=pid),
        lambda: client.admin.organization.projects.service_accounts.update(gone.id, project_id=pid, name="x"),
        lambda: client.admin.organization.projects.service_accounts.delete(gone.id, project_id=pid),
    ):
        expect_error(call, status=404, code="not_found", param="service_account_id")


def test_list_and_paginate(client: openai.OpenAI) -> None:
    pid = _project(client)
    other = _project(client)
    made = []
    for n in range(7):
        made.append(client.admin.organization.projects.service_accounts.create(pid, name=f"bot {n}").id)
        client.admin.organization.projects.service_accounts.create(other, name=f"other bot {n}")
    assert [s.id for s in client.admin.organization.projects.service_accounts.list(pid, limit=100)] == made
    # The SDK follows `last_id` across pages.
    assert [s.id for s in client.admin.organization.projects.service_accounts.list(pid, limit=3)] == made

    raw = client.admin.organization.projects.service_accounts.with_raw_response.list(pid, limit=3)
    assert raw.headers.get("x-request-id")
    page = raw.parse()
    assert [s.id for s in page.data] == made[:3]
    assert page.has_more is True
    body = raw.http_response.json()
    assert body["object"] == "list" and body["first_id"] == made[0] and body["last_id"] == made[2]
    rest = client.admin.organization.projects.service_accounts.list(pid, limit=100, after=made[2])
    assert [s.id for s in rest.data] == made[3:] and rest.has_more is False

    empty = client.admin.organization.projects.service_accounts.with_raw_response.list(default_project_id(client))
    assert empty.http_response.json() == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
    for bad in (0, 101):
        expect_error(
            lambda: client.admin.organization.projects.service_accounts.list(pid, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )


def test_unknown_projects_and_accounts_are_not_found(client: openai.OpenAI) -> None:
    pid = _project(client)
    other = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    missing = "proj_doesnotexist"
    for call in (
        lambda: client.admin.organization.projects.service_accounts.list(missing),
        lambda: client.admin.organization.projects.service_accounts.create(missing, name="x"),
        lambda: client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=missing),
        lambda: client.admin.organization.projects.service_accounts.update(sa.id, project_id=missing, name="x"),
        lambda: client.admin.organization.projects.service_accounts.delete(sa.id, project_id=missing),
    ):
        expect_error(call, status=404, code="not_found", param="project_id")
    for call in (
        lambda: client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=other),
        lambda: client.admin.organization.projects.service_accounts.delete(sa.id, project_id=other),
        lambda: client.admin.organization.projects.service_accounts.retrieve("svc_acct_nope", project_id=pid),
    ):
        expect_error(call, status=404, code="not_found", param="service_account_id")


def test_an_archived_project_keeps_its_accounts_but_refuses_changes(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    client.admin.organization.projects.archive(pid)
    for call in (
        lambda: client.admin.organization.projects.service_accounts.create(pid, name="Late"),
        lambda: client.admin.organization.projects.service_accounts.update(sa.id, project_id=pid, role="owner"),
        lambda: client.admin.organization.projects.service_accounts.delete(sa.id, project_id=pid),
    ):
        expect_error(call, status=409, code="project_archived", param="project_id")
    assert [s.id for s in client.admin.organization.projects.service_accounts.list(pid)] == [sa.id]
    assert client.admin.organization.projects.service_accounts.retrieve(sa.id, project_id=pid).role == "member"


def test_project_users_permissions_manage_service_accounts(server: Server) -> None:
    client = server.client
    pid = _project(client)
    other = _project(client)
    in_other = client.admin.organization.projects.service_accounts.create(other, name="Other bot")
    reader_key = client.admin.organization.admin_api_keys.create(
        name=unique_name("sa reader"), extra_body={"scopes": ["api.organization.projects.users.read"]}
    )
    # A service account's role is a grant: the writer's key holds what `member` and `owner` give
    # in a project (nobody may grant more than they hold), a key with the route permission alone
    # does not.
    project_permissions = [
        "api.project.read", "api.project.users.read", "api.project.users.write",
        "api.project.roles.read", "api.project.roles.write", "api.model.request",
        "api.responses.write", "api.files.read", "api.files.write", "api.vector_stores.read",
        "api.vector_stores.write", "api.fine_tuning.jobs.read", "api.fine_tuning.jobs.write",
        "api.batches.read", "api.batches.write",
        # Project owners hold the project API key permissions too (role `owner` below).
        "api.organization.projects.api_keys.read", "api.organization.projects.api_keys.write",
    ]
    writer_key = client.admin.organization.admin_api_keys.create(
        name=unique_name("sa writer"),
        extra_body={
            "scopes": ["api.organization.projects.users.read", "api.organization.projects.users.write"]
            + project_permissions
        },
    )
    route_only_key = client.admin.organization.admin_api_keys.create(
        name=unique_name("sa route only"),
        extra_body={"scopes": ["api.organization.projects.users.read", "api.organization.projects.users.write"]},
    )
    reader = server.make_client(reader_key.value)
    writer = server.make_client(writer_key.value)
    route_only = server.make_client(route_only_key.value)
    expect_insufficient(
        lambda: route_only.admin.organization.projects.service_accounts.create(pid, name="Too much"),
        missing=["api.project.read", *MODEL_USE],
        detail_contains="A service account with role 'member' would grant them",
    )

    assert [s.id for s in reader.admin.organization.projects.service_accounts.list(other)] == [in_other.id]
    assert reader.admin.organization.projects.service_accounts.retrieve(in_other.id, project_id=other).name == "Other bot"
    expect_insufficient(
        lambda: reader.admin.organization.projects.service_accounts.create(pid, name="x"),
        missing="api.organization.projects.users.write",
        detail=f"'api.project.users.write' held in project {pid} would allow this request too.",
    )
    expect_insufficient(
        lambda: reader.admin.organization.projects.service_accounts.delete(in_other.id, project_id=other),
        missing="api.organization.projects.users.write",
        detail=f"'api.project.users.write' held in project {other} would allow this request too.",
    )
    made = writer.admin.organization.projects.service_accounts.create(pid, name="By writer")
    assert writer.admin.organization.projects.service_accounts.update(made.id, project_id=pid, role="owner").role == "owner"
    assert writer.admin.organization.projects.service_accounts.delete(made.id, project_id=pid).deleted is True
    projects_only = server.make_client(
        client.admin.organization.admin_api_keys.create(
            name=unique_name("projects only"), extra_body={"scopes": ["api.organization.projects.read"]}
        ).value
    )
    expect_insufficient(
        lambda: projects_only.admin.organization.projects.service_accounts.list(pid),
        missing="api.organization.projects.users.read",
    )


def test_every_change_is_audited(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Bot")
    bare = client.admin.organization.projects.service_accounts.create(
        pid, name="Bare", create_service_account_only=True
    )
    client.admin.organization.projects.service_accounts.update(sa.id, project_id=pid, role="owner")
    client.admin.organization.projects.service_accounts.delete(sa.id, project_id=pid)

    events = [
        e.to_dict()
        for e in client.admin.organization.audit_logs.list(limit=100, resource_ids=[sa.id, bare.id], extra_query=OLDEST_FIRST)
    ]
    assert [e["type"] for e in events] == [
        "service_account.created",
        "service_account.created",
        "service_account.updated",
        "service_account.deleted",
    ]
    assert events[0]["service_account.created"] == {"id": sa.id, "data": {"role": "member"}}
    assert events[1]["service_account.created"] == {"id": bare.id, "data": {"role": "none"}}
    assert events[2]["service_account.updated"] == {"id": sa.id, "changes_requested": {"role": "owner"}}
    assert events[3]["service_account.deleted"] == {"id": sa.id}
    assert all(e["project"]["id"] == pid for e in events)
    assert all(e["actor"]["type"] == "api_key" for e in events)
    deleted = client.admin.organization.audit_logs.list(
        limit=100, event_types=["service_account.deleted"], project_ids=[pid]
    )
    assert [e.service_account_deleted.id for e in deleted.data] == [sa.id]  # type: ignore[union-attr]


def test_service_accounts_are_listed_among_users(client: openai.OpenAI) -> None:
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name=unique_name("listed bot"))
    listed = {u.id: u for u in client.admin.organization.users.list(limit=100)}  # every page
    assert sa.id in listed
    as_user = listed[sa.id]
    assert as_user.object == "organization.user"
    assert as_user.is_service_account is True
    assert (as_user.name, as_user.email, as_user.role, as_user.added_at) == (sa.name, None, None, sa.created_at)
    assert all(u.is_service_account is False for u in listed.values() if u.id.startswith("user-"))
    got = client.admin.organization.users.retrieve(sa.id)
    assert got.is_service_account is True and got.name == sa.name and got.email is None
    # Managed through its project, not through the user routes.
    for call in (
        lambda: client.admin.organization.users.update(sa.id, role="owner"),
        lambda: client.admin.organization.users.delete(sa.id),
        lambda: client.admin.organization.users.roles.list(sa.id),
    ):
        expect_error(
            call,
            status=400,
            code="invalid_value",
            param="user_id",
            message_contains=f"/v1/organization/projects/{pid}/service_accounts/{sa.id}",
        )
    client.admin.organization.projects.service_accounts.delete(sa.id, project_id=pid)
    expect_error(lambda: client.admin.organization.users.retrieve(sa.id), status=404, code="not_found", param="user_id")
    assert sa.id not in [u.id for u in client.admin.organization.users.list(limit=100)]
