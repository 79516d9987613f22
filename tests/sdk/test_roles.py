"""Roles: `GET/POST /organization/roles`, `GET/POST/DELETE /organization/roles/{role_id}`,
`GET/POST /projects/{project_id}/roles`, `GET/POST/DELETE /projects/{project_id}/roles/{role_id}`."""

from __future__ import annotations

import openai
import pytest

from _support import (
    ORG_OWNER,
    ORG_PERMISSIONS,
    ORG_READER,
    ORG_READER_PERMISSIONS,
    PROJ_MEMBER,
    PROJ_OWNER,
    PROJ_VIEWER,
    PROJECT_PERMISSIONS,
    PROJECT_VIEWER_PERMISSIONS,
    Server,
    add_member,
    expect_error,
    expect_raw_error,
    scoped_role_id,
    unique_name,
)

# ---------------------------------------------------------------------------- organization roles


def test_predefined_organization_roles(client: openai.OpenAI) -> None:
    owner = client.admin.organization.roles.retrieve(ORG_OWNER)
    assert owner.object == "role" and owner.name == "owner"
    assert owner.predefined_role is True and owner.resource_type == "api.organization"
    assert set(owner.permissions) == ORG_PERMISSIONS
    reader = client.admin.organization.roles.retrieve(ORG_READER)
    assert reader.name == "reader" and reader.predefined_role is True
    assert set(reader.permissions) == ORG_READER_PERMISSIONS


def test_list_starts_with_the_predefined_roles(client: openai.OpenAI) -> None:
    raw = client.admin.organization.roles.with_raw_response.list()
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list" and "next" in body and isinstance(body["has_more"], bool)
    roles = raw.parse().data
    assert {r.id for r in roles[:2]} == {ORG_OWNER, ORG_READER}  # predefined first
    assert all(r.resource_type == "api.organization" for r in roles)
    assert all(not r.predefined_role for r in roles[2:])


def test_create_retrieve_update_delete(client: openai.OpenAI) -> None:
    name = unique_name("Group Manager")
    raw = client.admin.organization.roles.with_raw_response.create(
        role_name=name, permissions=["api.groups.read", "api.groups.write"], description="manages groups"
    )
    assert raw.headers.get("x-request-id")
    role = raw.parse()
    assert role.object == "role" and role.id.startswith("role_")
    assert role.name == name and role.description == "manages groups"
    assert set(role.permissions) == {"api.groups.read", "api.groups.write"}
    assert role.resource_type == "api.organization" and role.predefined_role is False

    got = client.admin.organization.roles.retrieve(role.id)
    assert (got.id, got.name, got.description, set(got.permissions)) == (
        role.id,
        name,
        "manages groups",
        {"api.groups.read", "api.groups.write"},
    )
    assert role.id in [r.id for r in client.admin.organization.roles.list()]

    new_name = unique_name("Renamed")
    up = client.admin.organization.roles.update(role.id, role_name=new_name)
    assert up.name == new_name and up.description == "manages groups"
    assert set(up.permissions) == {"api.groups.read", "api.groups.write"}
    up = client.admin.organization.roles.update(role.id, permissions=["api.organization.audit_logs.read"])
    assert set(up.permissions) == {"api.organization.audit_logs.read"} and up.name == new_name
    up = client.admin.organization.roles.update(role.id, description="new words")
    assert up.description == "new words" and up.name == new_name
    got = client.admin.organization.roles.retrieve(role.id)
    assert (got.name, got.description, set(got.permissions)) == (
        new_name,
        "new words",
        {"api.organization.audit_logs.read"},
    )

    raw = client.admin.organization.roles.with_raw_response.delete(role.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "role.deleted" and deleted.id == role.id and deleted.deleted is True
    expect_error(
        lambda: client.admin.organization.roles.retrieve(role.id), status=404, code="not_found", param="role_id"
    )
    assert role.id not in [r.id for r in client.admin.organization.roles.list()]
    expect_error(
        lambda: client.admin.organization.roles.delete(role.id), status=404, code="not_found", param="role_id"
    )


def test_create_without_description(client: openai.OpenAI) -> None:
    role = client.admin.organization.roles.create(role_name=unique_name("nodesc"), permissions=[])
    assert role.permissions == [] and role.description in (None, "")


def test_role_names_are_unique_ignoring_case(client: openai.OpenAI) -> None:
    name = unique_name("Unique")
    client.admin.organization.roles.create(role_name=name, permissions=["api.organization.read"])
    for clash in (name, name.upper(), name.lower()):
        expect_error(
            lambda: client.admin.organization.roles.create(role_name=clash, permissions=["api.organization.read"]),
            status=409,
            code="already_exists",
            param="role_name",
        )
    other = client.admin.organization.roles.create(role_name=unique_name("Other"), permissions=[])
    expect_error(
        lambda: client.admin.organization.roles.update(other.id, role_name=name.swapcase()),
        status=409,
        code="already_exists",
        param="role_name",
    )
    # the predefined names are taken too
    expect_error(
        lambda: client.admin.organization.roles.create(role_name="Owner", permissions=[]),
        status=409,
        code="already_exists",
        param="role_name",
    )


def test_permissions_must_come_from_the_catalogue_and_scope(client: openai.OpenAI) -> None:
    for perms in (["api.organization.nonsense"], ["api.project.read"], ["api.model.request"], [""]):
        expect_error(
            lambda: client.admin.organization.roles.create(role_name=unique_name("bad"), permissions=perms),
            status=400,
            code="invalid_value",
            param="permissions",
        )
    role = client.admin.organization.roles.create(role_name=unique_name("fine"), permissions=["api.groups.read"])
    expect_error(
        lambda: client.admin.organization.roles.update(role.id, permissions=["api.files.read"]),
        status=400,
        code="invalid_value",
        param="permissions",
    )
    assert set(client.admin.organization.roles.retrieve(role.id).permissions) == {"api.groups.read"}
    every = client.admin.organization.roles.create(role_name=unique_name("every"), permissions=sorted(ORG_PERMISSIONS))
    assert set(every.permissions) == ORG_PERMISSIONS


def test_create_validates_required_fields(server: Server) -> None:
    resp = server.raw("POST", "/organization/roles", json_body={"permissions": []})
    expect_raw_error(resp, status=400, code="missing_required_parameter", param="role_name")
    resp = server.raw("POST", "/organization/roles", json_body={"role_name": unique_name("x")})
    expect_raw_error(resp, status=400, code="missing_required_parameter", param="permissions")
    resp = server.raw("POST", "/organization/roles", json_body={"role_name": unique_name("x"), "permissions": "a"})
    expect_raw_error(resp, status=400, code="invalid_value", param="permissions")


@pytest.mark.parametrize("role_id", [ORG_OWNER, ORG_READER])
def test_predefined_organization_roles_are_immutable(client: openai.OpenAI, role_id: str) -> None:
    expect_error(
        lambda: client.admin.organization.roles.update(role_id, description="mine now"),
        status=409,
        code="immutable_role",
        param=(None, "role_id"),
    )
    expect_error(
        lambda: client.admin.organization.roles.delete(role_id),
        status=409,
        code="immutable_role",
        param=(None, "role_id"),
    )
    assert client.admin.organization.roles.retrieve(role_id).predefined_role is True


def test_deleting_a_role_removes_its_assignments(client: openai.OpenAI) -> None:
    user = add_member(client)
    role = client.admin.organization.roles.create(role_name=unique_name("doomed"), permissions=["api.groups.read"])
    client.admin.organization.users.roles.create(user.id, role_id=role.id)
    client.admin.organization.roles.delete(role.id)
    assert [r.id for r in client.admin.organization.users.roles.list(user.id)] == [ORG_READER]


def test_list_paginates_with_next_and_order(client: openai.OpenAI) -> None:
    for _ in range(3):
        client.admin.organization.roles.create(role_name=unique_name("pager"), permissions=[])
    everything = [r.id for r in client.admin.organization.roles.list(limit=1000).data]
    assert len(set(everything)) == len(everything) >= 5
    assert [r.id for r in client.admin.organization.roles.list(limit=2)] == everything  # auto-paging on `next`
    first = client.admin.organization.roles.list(limit=2)
    assert first.has_more is True and first.next
    second = client.admin.organization.roles.list(limit=2, after=first.next)
    assert [r.id for r in second.data] == everything[2:4]
    desc = [r.id for r in client.admin.organization.roles.list(order="desc", limit=1000).data]
    assert desc == list(reversed(everything))
    assert [r.id for r in client.admin.organization.roles.list(order="desc", limit=2)] == desc
    full = client.admin.organization.roles.list(limit=len(everything))
    assert full.has_more is False and full.next is None


def test_cursor_survives_deleting_the_role_it_names(client: openai.OpenAI) -> None:
    made = [client.admin.organization.roles.create(role_name=unique_name("cursor"), permissions=[]).id for _ in range(4)]
    everything = [r.id for r in client.admin.organization.roles.list(limit=1000).data]
    pos = everything.index(made[1])
    page = client.admin.organization.roles.list(limit=pos + 1)
    assert page.data[-1].id == made[1] and page.next
    client.admin.organization.roles.delete(made[1])
    rest = client.admin.organization.roles.list(limit=1000, after=page.next)
    assert [r.id for r in rest.data][:2] == made[2:]


def test_list_limit_and_order_are_validated(server: Server) -> None:
    client = server.client
    assert client.admin.organization.roles.list(limit=0).data == []
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.roles.list(limit=bad), status=400, code="invalid_value", param="limit"
        )
    expect_raw_error(server.raw("GET", "/organization/roles?order=up"), status=400, code="invalid_value", param="order")


def test_unknown_role_is_404(client: openai.OpenAI) -> None:
    rid = "role_doesnotexist0000"
    for call in (
        lambda: client.admin.organization.roles.retrieve(rid),
        lambda: client.admin.organization.roles.update(rid, description="x"),
        lambda: client.admin.organization.roles.delete(rid),
    ):
        expect_error(call, status=404, code="not_found", param="role_id")


# ---------------------------------------------------------------------------- project roles


def _project(client: openai.OpenAI) -> str:
    return client.admin.organization.projects.create(name=unique_name("roles")).id


def test_project_roles_list_the_predefined_roles_in_project_scoped_form(client: openai.OpenAI) -> None:
    pid = _project(client)
    raw = client.admin.organization.projects.roles.with_raw_response.list(pid)
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list" and "next" in body
    roles = {r.id: r for r in raw.parse().data}
    assert set(roles) == {scoped_role_id(x, pid) for x in (PROJ_OWNER, PROJ_MEMBER, PROJ_VIEWER)}
    assert all(r.predefined_role and r.resource_type == "api.project" for r in roles.values())
    owner = roles[scoped_role_id(PROJ_OWNER, pid)]
    assert owner.name == "owner" and set(owner.permissions) == PROJECT_PERMISSIONS
    member = roles[scoped_role_id(PROJ_MEMBER, pid)]
    assert member.name == "member"
    mp = set(member.permissions)
    assert "api.project.read" in mp and "api.model.request" in mp and mp <= PROJECT_PERMISSIONS
    assert not mp & {"api.project.users.write", "api.project.roles.write"}
    viewer = roles[scoped_role_id(PROJ_VIEWER, pid)]
    assert viewer.name == "viewer" and set(viewer.permissions) == PROJECT_VIEWER_PERMISSIONS


def test_project_predefined_roles_are_retrievable_in_both_forms(client: openai.OpenAI) -> None:
    pid = _project(client)
    for rid in (PROJ_VIEWER, scoped_role_id(PROJ_VIEWER, pid)):
        got = client.admin.organization.projects.roles.retrieve(rid, project_id=pid)
        assert got.id == scoped_role_id(PROJ_VIEWER, pid)
        assert got.name == "viewer" and got.predefined_role is True and got.resource_type == "api.project"


def test_project_role_crud(client: openai.OpenAI) -> None:
    pid = _project(client)
    name = unique_name("Uploader")
    raw = client.admin.organization.projects.roles.with_raw_response.create(
        pid, role_name=name, permissions=["api.files.read", "api.files.write"], description="uploads"
    )
    assert raw.headers.get("x-request-id")
    role = raw.parse()
    assert role.object == "role" and role.id.startswith("role_")
    assert role.name == name and role.description == "uploads"
    assert role.resource_type == "api.project" and role.predefined_role is False
    assert set(role.permissions) == {"api.files.read", "api.files.write"}

    got = client.admin.organization.projects.roles.retrieve(role.id, project_id=pid)
    assert (got.id, got.name) == (role.id, name)
    assert [r.id for r in client.admin.organization.projects.roles.list(pid)][3:] == [role.id]

    up = client.admin.organization.projects.roles.update(
        role.id, project_id=pid, role_name=name + " v2", permissions=["api.batches.read"], description="batches"
    )
    assert (up.name, up.description, set(up.permissions)) == (name + " v2", "batches", {"api.batches.read"})
    up = client.admin.organization.projects.roles.update(role.id, project_id=pid, description="only this")
    assert (up.name, up.description, set(up.permissions)) == (name + " v2", "only this", {"api.batches.read"})

    deleted = client.admin.organization.projects.roles.delete(role.id, project_id=pid)
    assert deleted.object == "role.deleted" and deleted.id == role.id and deleted.deleted is True
    expect_error(
        lambda: client.admin.organization.projects.roles.retrieve(role.id, project_id=pid),
        status=404,
        code="not_found",
        param="role_id",
    )


def test_project_roles_belong_to_one_project(client: openai.OpenAI) -> None:
    a, b = _project(client), _project(client)
    role = client.admin.organization.projects.roles.create(a, role_name=unique_name("mine"), permissions=[])
    assert role.id not in [r.id for r in client.admin.organization.projects.roles.list(b)]
    assert role.id not in [r.id for r in client.admin.organization.roles.list()]
    for call in (
        lambda: client.admin.organization.projects.roles.retrieve(role.id, project_id=b),
        lambda: client.admin.organization.projects.roles.update(role.id, project_id=b, description="x"),
        lambda: client.admin.organization.projects.roles.delete(role.id, project_id=b),
    ):
        expect_error(call, status=404, code="not_found", param="role_id")
    # a custom project role is not an organization role either
    expect_error(
        lambda: client.admin.organization.roles.retrieve(role.id), status=404, code="not_found", param="role_id"
    )


def test_project_role_names_are_unique_per_project(client: openai.OpenAI) -> None:
    a, b = _project(client), _project(client)
    name = unique_name("Shared")
    client.admin.organization.projects.roles.create(a, role_name=name, permissions=[])
    expect_error(
        lambda: client.admin.organization.projects.roles.create(a, role_name=name.upper(), permissions=[]),
        status=409,
        code="already_exists",
        param="role_name",
    )
    # another project, or the organization scope, may reuse it
    client.admin.organization.projects.roles.create(b, role_name=name, permissions=[])
    client.admin.organization.roles.create(role_name=name, permissions=[])


def test_project_role_permissions_must_be_project_permissions(client: openai.OpenAI) -> None:
    pid = _project(client)
    for perms in (["api.organization.read"], ["api.groups.write"], ["api.project.nonsense"]):
        expect_error(
            lambda: client.admin.organization.projects.roles.create(pid, role_name=unique_name("b"), permissions=perms),
            status=400,
            code="invalid_value",
            param="permissions",
        )
    every = client.admin.organization.projects.roles.create(
        pid, role_name=unique_name("all"), permissions=sorted(PROJECT_PERMISSIONS)
    )
    assert set(every.permissions) == PROJECT_PERMISSIONS


@pytest.mark.parametrize("base", [PROJ_OWNER, PROJ_MEMBER, PROJ_VIEWER])
def test_predefined_project_roles_are_immutable(client: openai.OpenAI, base: str) -> None:
    pid = _project(client)
    for rid in (base, scoped_role_id(base, pid)):
        expect_error(
            lambda: client.admin.organization.projects.roles.update(rid, project_id=pid, description="x"),
            status=409,
            code="immutable_role",
            param=(None, "role_id"),
        )
        expect_error(
            lambda: client.admin.organization.projects.roles.delete(rid, project_id=pid),
            status=409,
            code="immutable_role",
            param=(None, "role_id"),
        )


def test_deleting_a_project_role_removes_its_assignments(client: openai.OpenAI) -> None:
    pid = _project(client)
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, role="viewer", user_id=user.id)
    role = client.admin.organization.projects.roles.create(pid, role_name=unique_name("gone"), permissions=[])
    client.admin.organization.projects.users.roles.create(user.id, project_id=pid, role_id=role.id)
    client.admin.organization.projects.roles.delete(role.id, project_id=pid)
    ids = [r.id for r in client.admin.organization.projects.users.roles.list(user.id, project_id=pid)]
    assert ids == [scoped_role_id(PROJ_VIEWER, pid)]


def test_project_roles_paginate(client: openai.OpenAI) -> None:
    pid = _project(client)
    made = [
        client.admin.organization.projects.roles.create(pid, role_name=unique_name("p"), permissions=[]).id
        for _ in range(3)
    ]
    expected = [r.id for r in client.admin.organization.projects.roles.list(pid, limit=1000).data]
    assert set(expected[:3]) == {scoped_role_id(x, pid) for x in (PROJ_OWNER, PROJ_MEMBER, PROJ_VIEWER)}
    assert expected[3:] == made
    assert [r.id for r in client.admin.organization.projects.roles.list(pid, limit=2)] == expected
    page = client.admin.organization.projects.roles.list(pid, limit=4)
    assert page.has_more is True and page.next
    rest = client.admin.organization.projects.roles.list(pid, limit=4, after=page.next)
    assert [r.id for r in rest.data] == expected[4:] and rest.has_more is False and rest.next is None
    desc = client.admin.organization.projects.roles.list(pid, order="desc")
    assert [r.id for r in desc.data] == list(reversed(expected))
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.projects.roles.list(pid, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )


def test_project_roles_of_an_unknown_project_are_404(client: openai.OpenAI) -> None:
    pid = "proj_doesnotexist000000"
    for call in (
        lambda: client.admin.organization.projects.roles.list(pid),
        lambda: client.admin.organization.projects.roles.create(pid, role_name="x", permissions=[]),
        lambda: client.admin.organization.projects.roles.retrieve(PROJ_OWNER, project_id=pid),
        lambda: client.admin.organization.projects.roles.update(PROJ_OWNER, project_id=pid, description="x"),
        lambda: client.admin.organization.projects.roles.delete(PROJ_OWNER, project_id=pid),
    ):
        expect_error(call, status=404, code="not_found", param="project_id")
