"""Project API keys through the official SDK: `client.admin.organization.projects.api_keys`
(list with `owner_project_access`, retrieve, update, delete) and
`client.admin.organization.projects.service_accounts.api_keys.create`. A member's key is made
with the orgadmin extension `POST /organization/projects/{project_id}/api_keys` (the SDK has no
method for it: the real API makes such keys only in its dashboard)."""

from __future__ import annotations

import openai

from _support import Server, add_member, expect_error, unique_name


def _project(client: openai.OpenAI) -> str:
    return client.admin.organization.projects.create(name=unique_name("keys")).id


def _member_key(server: Server, project: str, user: str, name: str = "Laptop") -> dict:
    answer = server.raw(
        "POST", f"/organization/projects/{project}/api_keys", json_body={"name": name, "user_id": user}
    )
    assert answer.status == 200, answer
    return answer.json()


def test_a_members_key_through_removal_from_the_project_and_back(server: Server) -> None:
    client = server.client
    keys = client.admin.organization.projects.api_keys
    pid = _project(client)
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, user_id=user.id, role="member")
    made = _member_key(server, pid, user.id)
    assert made["value"].startswith("sk-proj-")
    assert made["redacted_value"] == "sk-proj..." + made["value"][-4:]

    raw = keys.with_raw_response.retrieve(made["id"], project_id=pid)
    assert raw.headers.get("x-request-id")
    key = raw.parse()
    assert made["value"] not in raw.http_response.text
    assert key.object == "organization.project.api_key"
    assert (key.id, key.name, key.last_used_at, key.owner_project_access) == (made["id"], "Laptop", None, "active")
    assert key.owner.type == "user" and key.owner.service_account is None
    assert key.owner.user is not None
    assert (key.owner.user.id, key.owner.user.email, key.owner.user.role) == (user.id, user.email, "member")
    assert [k.id for k in keys.list(pid)] == [key.id]

    client.admin.organization.projects.users.delete(user.id, project_id=pid)
    assert [k.id for k in keys.list(pid)] == []
    assert [k.id for k in keys.list(pid, owner_project_access="active")] == []
    inactive = list(keys.list(pid, owner_project_access="inactive"))
    assert [(k.id, k.owner_project_access) for k in inactive] == [(key.id, "inactive")]
    assert [k.id for k in keys.list(pid, owner_project_access="any")] == [key.id]
    assert keys.retrieve(key.id, project_id=pid).owner_project_access == "inactive"

    client.admin.organization.projects.users.create(pid, user_id=user.id, role="owner")
    back = keys.retrieve(key.id, project_id=pid)
    assert (back.owner_project_access, back.owner.user.role) == ("active", "owner")

    expect_error(
        lambda: keys.list(pid, owner_project_access="all"),  # type: ignore[arg-type]
        status=400,
        code="invalid_value",
        param="owner_project_access",
    )


def test_removal_from_the_organization_leaves_the_key_inactive(server: Server) -> None:
    client = server.client
    keys = client.admin.organization.projects.api_keys
    pid = _project(client)
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, user_id=user.id, role="member")
    made = _member_key(server, pid, user.id)
    client.admin.organization.users.delete(user.id)
    key = keys.retrieve(made["id"], project_id=pid)
    assert key.owner_project_access == "inactive"
    assert key.owner.user is not None and key.owner.user.email == user.email
    assert [k.id for k in keys.list(pid, owner_project_access="inactive")] == [made["id"]]


def test_update_changes_scopes_and_expiry(server: Server) -> None:
    client = server.client
    keys = client.admin.organization.projects.api_keys
    pid = _project(client)
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, user_id=user.id, role="owner")
    made = _member_key(server, pid, user.id)
    scoped = keys.update(made["id"], project_id=pid, scopes=["api.model.request"])
    assert scoped.id == made["id"] and scoped.expires_at is None
    both = keys.update(made["id"], project_id=pid, scopes=[], expires_in_seconds=3600)
    assert both.expires_at is not None and both.expires_at >= both.created_at + 3600
    expect_error(
        lambda: keys.update(made["id"], project_id=pid),
        status=400,
        code="missing_required_parameter",
        param="scopes",
    )
    expect_error(
        lambda: keys.update(made["id"], project_id=pid, expires_in_seconds=0),
        status=400,
        code="invalid_value",
        param="expires_in_seconds",
    )
    expect_error(
        lambda: keys.update(made["id"], project_id=pid, scopes=["api.organization.users.write"]),
        status=400,
        code="invalid_value",
        param="scopes",
    )


def test_a_service_accounts_keys_are_listed_and_deleted(server: Server) -> None:
    client = server.client
    keys = client.admin.organization.projects.api_keys
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Deployer")
    assert sa.api_key is not None
    raw = client.admin.organization.projects.service_accounts.api_keys.with_raw_response.create(
        sa.id, project_id=pid, name="Production App", scopes=["api.model.request"], expires_in_seconds=600
    )
    assert raw.headers.get("x-request-id")
    second = raw.parse()
    assert second.object == "organization.project.service_account.api_key"
    assert second.value.startswith("sk-svcacct-") and second.name == "Production App"

    listed = list(keys.list(pid))
    assert [k.id for k in listed] == [sa.api_key.id, second.id]
    for k in listed:
        assert k.owner.type == "service_account" and k.owner.user is None
        assert k.owner.service_account is not None
        assert (k.owner.service_account.id, k.owner.service_account.name) == (sa.id, "Deployer")
        assert k.owner.service_account.role == "member"
    assert keys.retrieve(second.id, project_id=pid).expires_at == second.created_at + 600

    raw_deleted = keys.with_raw_response.delete(sa.api_key.id, project_id=pid)
    assert raw_deleted.headers.get("x-request-id")
    deleted = raw_deleted.parse()
    assert (deleted.object, deleted.id, deleted.deleted) == ("organization.project.api_key.deleted", sa.api_key.id, True)
    assert [k.id for k in keys.list(pid)] == [second.id]
    expect_error(
        lambda: keys.retrieve(sa.api_key.id, project_id=pid),
        status=404,
        code="not_found",
        param="api_key_id",
    )
    client.admin.organization.projects.service_accounts.delete(sa.id, project_id=pid)
    assert list(keys.list(pid, owner_project_access="any")) == []


def test_pages_walk_every_key_once(server: Server) -> None:
    client = server.client
    keys = client.admin.organization.projects.api_keys
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Many")
    assert sa.api_key is not None
    made = [sa.api_key.id] + [
        client.admin.organization.projects.service_accounts.api_keys.create(sa.id, project_id=pid, name=f"k{n}").id
        for n in range(4)
    ]
    page = keys.list(pid, limit=2)
    assert page.has_more and [k.id for k in page.data] == made[:2]
    assert [k.id for k in keys.list(pid, limit=2)] == made  # the SDK follows last_id
    last = keys.list(pid, limit=2, after=made[3])
    assert not last.has_more and [k.id for k in last.data] == made[4:]


def test_archived_projects_refuse_new_keys(server: Server) -> None:
    client = server.client
    pid = _project(client)
    sa = client.admin.organization.projects.service_accounts.create(pid, name="Old")
    client.admin.organization.projects.archive(pid)
    expect_error(
        lambda: client.admin.organization.projects.service_accounts.api_keys.create(sa.id, project_id=pid, name="x"),
        status=409,
        code="project_archived",
        param="project_id",
    )
