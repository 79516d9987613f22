"""Project groups: `GET/POST /organization/projects/{project_id}/groups`,
`GET/DELETE /organization/projects/{project_id}/groups/{group_id}`; project group roles:
`GET/POST /projects/{project_id}/groups/{group_id}/roles`, `GET/DELETE .../roles/{role_id}`; and
what a group's project roles give its members (project role lists, the permissions extension,
authorization on project routes).
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from _support import (
    OLDEST_FIRST,
    ORG_OWNER,
    ORG_READER,
    PROJECT_VIEWER_PERMISSIONS,
    PROJ_MEMBER,
    PROJ_OWNER,
    PROJ_VIEWER,
    Server,
    add_member,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    owner_user,
    scoped_role_id,
    unique_name,
)

MISSING_GROUP = "group_doesnotexist0000000"
MISSING_PROJECT = "proj_doesnotexist0000"


def _project(client: openai.OpenAI) -> str:
    return client.admin.organization.projects.create(name=unique_name("pgroups")).id


def _group(client: openai.OpenAI) -> Any:
    return client.admin.organization.groups.create(name=unique_name("project group"))


def _custom(client: openai.OpenAI, pid: str, *perms: str) -> Any:
    return client.admin.organization.projects.roles.create(
        pid,
        role_name=unique_name("project group role"),
        permissions=list(perms or ["api.project.read", "api.files.read"]),
        description="held by a group in tests",
    )


def _sources(role: Any) -> list[tuple[str, str]]:
    return [(s.principal_id, s.principal_type) for s in role.assignment_sources or []]


def _group_roles(client: openai.OpenAI, pid: str, gid: str) -> list[str]:
    return [r.id for r in client.admin.organization.projects.groups.roles.list(gid, project_id=pid)]


def _with_access(client: openai.OpenAI, role: str = "member") -> tuple[str, Any]:
    pid = _project(client)
    group = _group(client)
    client.admin.organization.projects.groups.create(pid, group_id=group.id, role=role)
    return pid, group


# ---------------------------------------------------------------------------- project groups


def test_add_retrieve_list_and_remove(client: openai.OpenAI) -> None:
    pid = _project(client)
    group = _group(client)

    raw = client.admin.organization.projects.groups.with_raw_response.create(pid, group_id=group.id, role="member")
    assert raw.headers.get("x-request-id")
    added = raw.parse()
    assert added.object == "project.group"
    assert (added.project_id, added.group_id, added.group_name) == (pid, group.id, group.name)
    assert added.group_type == "group"
    assert isinstance(added.created_at, int) and added.created_at >= group.created_at

    got = client.admin.organization.projects.groups.retrieve(group.id, project_id=pid)
    assert (got.project_id, got.group_id, got.group_name, got.created_at) == (pid, group.id, group.name, added.created_at)
    typed = client.admin.organization.projects.groups.retrieve(group.id, project_id=pid, group_type="group")
    assert typed.group_id == group.id

    listed = client.admin.organization.projects.groups.list(pid)
    assert [(g.group_id, g.group_name, g.project_id) for g in listed.data] == [(group.id, group.name, pid)]
    assert listed.has_more is False and listed.next is None

    # a renamed group shows its new name
    renamed = unique_name("renamed")
    client.admin.organization.groups.update(group.id, name=renamed)
    assert client.admin.organization.projects.groups.retrieve(group.id, project_id=pid).group_name == renamed

    raw = client.admin.organization.projects.groups.with_raw_response.delete(group.id, project_id=pid)
    assert raw.headers.get("x-request-id")
    removed = raw.parse()
    assert (removed.object, removed.deleted) == ("project.group.deleted", True)
    assert client.admin.organization.projects.groups.list(pid).data == []
    for call in (
        lambda: client.admin.organization.projects.groups.retrieve(group.id, project_id=pid),
        lambda: client.admin.organization.projects.groups.delete(group.id, project_id=pid),
    ):
        expect_error(call, status=404, code="not_found", param="group_id")
    assert client.admin.organization.groups.retrieve(group.id).id == group.id  # the group stays


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("owner", PROJ_OWNER),
        ("member", PROJ_MEMBER),
        ("viewer", PROJ_VIEWER),
        (PROJ_VIEWER, PROJ_VIEWER),
        ("alias", PROJ_OWNER),
        ("custom", None),
    ],
)
def test_the_role_may_be_a_name_a_predefined_id_in_either_form_or_a_custom_role(
    client: openai.OpenAI, role: str, expected: str | None
) -> None:
    pid = _project(client)
    group = _group(client)
    if role == "alias":
        role = scoped_role_id(PROJ_OWNER, pid)
    if role == "custom":
        role = expected = _custom(client, pid).id
    client.admin.organization.projects.groups.create(pid, group_id=group.id, role=role)
    held = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid).data
    shown = expected if expected.startswith("role_") else scoped_role_id(expected, pid)
    assert [r.id for r in held] == [shown]
    assert held[0].resource_type == "api.project"
    assert _sources(held[0]) == [(group.id, "group")]


def test_adding_a_group_twice_is_refused(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "viewer")
    for role in ("viewer", "owner"):
        expect_error(
            lambda: client.admin.organization.projects.groups.create(pid, group_id=group.id, role=role),
            status=409,
            code="already_exists",
            param="group_id",
        )
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_VIEWER, pid)]
    assert [g.group_id for g in client.admin.organization.projects.groups.list(pid)] == [group.id]


def test_roles_of_the_wrong_scope_are_refused(client: openai.OpenAI) -> None:
    pid, other = _project(client), _project(client)
    group = _group(client)
    org_custom = client.admin.organization.roles.create(role_name=unique_name("org"), permissions=["api.groups.read"])
    for role in (
        ORG_OWNER,
        ORG_READER,
        org_custom.id,
        _custom(client, other).id,
        scoped_role_id(PROJ_MEMBER, other),
    ):
        expect_error(
            lambda: client.admin.organization.projects.groups.create(pid, group_id=group.id, role=role),
            status=400,
            code="invalid_value",
            param="role",
        )
    for role in ("role_doesnotexist0000", "admin"):
        expect_error(
            lambda: client.admin.organization.projects.groups.create(pid, group_id=group.id, role=role),
            status=404,
            code="not_found",
            param="role",
        )
    assert client.admin.organization.projects.groups.list(pid).data == []


def test_add_validates_its_body(server: Server) -> None:
    client = server.client
    pid = _project(client)
    group = _group(client)
    path = f"/organization/projects/{pid}/groups"
    for body, param in (({"role": "member"}, "group_id"), ({"group_id": group.id}, "role")):
        expect_raw_error(
            server.raw("POST", path, json_body=body), status=400, code="missing_required_parameter", param=param
        )
    for body, param in (({"group_id": 7, "role": "member"}, "group_id"), ({"group_id": group.id, "role": 1}, "role")):
        expect_raw_error(server.raw("POST", path, json_body=body), status=400, code="invalid_value", param=param)
    expect_error(
        lambda: client.admin.organization.projects.groups.create(pid, group_id=MISSING_GROUP, role="member"),
        status=404,
        code="not_found",
        param="group_id",
    )
    assert client.admin.organization.projects.groups.list(pid).data == []


def test_an_unknown_project_is_404_on_every_route(client: openai.OpenAI) -> None:
    group = _group(client)
    p = MISSING_PROJECT
    for call in (
        lambda: client.admin.organization.projects.groups.list(p),
        lambda: client.admin.organization.projects.groups.create(p, group_id=group.id, role="member"),
        lambda: client.admin.organization.projects.groups.retrieve(group.id, project_id=p),
        lambda: client.admin.organization.projects.groups.delete(group.id, project_id=p),
        lambda: client.admin.organization.projects.groups.roles.list(group.id, project_id=p),
        lambda: client.admin.organization.projects.groups.roles.create(group.id, project_id=p, role_id=PROJ_MEMBER),
        lambda: client.admin.organization.projects.groups.roles.retrieve(PROJ_MEMBER, project_id=p, group_id=group.id),
        lambda: client.admin.organization.projects.groups.roles.delete(PROJ_MEMBER, project_id=p, group_id=group.id),
    ):
        expect_error(call, status=404, code="not_found", param="project_id")


def test_a_group_without_access_is_404_on_every_route(client: openai.OpenAI) -> None:
    pid = _project(client)
    outside = _group(client)
    for gid in (outside.id, MISSING_GROUP):
        for call in (
            lambda: client.admin.organization.projects.groups.retrieve(gid, project_id=pid),
            lambda: client.admin.organization.projects.groups.delete(gid, project_id=pid),
            lambda: client.admin.organization.projects.groups.roles.list(gid, project_id=pid),
            lambda: client.admin.organization.projects.groups.roles.create(gid, project_id=pid, role_id=PROJ_MEMBER),
            lambda: client.admin.organization.projects.groups.roles.retrieve(PROJ_MEMBER, project_id=pid, group_id=gid),
            lambda: client.admin.organization.projects.groups.roles.delete(PROJ_MEMBER, project_id=pid, group_id=gid),
        ):
            expect_error(call, status=404, code="not_found", param="group_id")


def test_an_archived_project_refuses_group_changes(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "member")
    late = _group(client)
    custom = _custom(client, pid)
    client.admin.organization.projects.archive(pid)
    for call in (
        lambda: client.admin.organization.projects.groups.create(pid, group_id=late.id, role="member"),
        lambda: client.admin.organization.projects.groups.delete(group.id, project_id=pid),
        lambda: client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom.id),
        lambda: client.admin.organization.projects.groups.roles.delete(PROJ_MEMBER, project_id=pid, group_id=group.id),
    ):
        expect_error(call, status=409, code="project_archived", param=(None, "project_id"))
    # what is there can still be read
    assert [g.group_id for g in client.admin.organization.projects.groups.list(pid)] == [group.id]
    assert client.admin.organization.projects.groups.retrieve(group.id, project_id=pid).group_id == group.id
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_MEMBER, pid)]


def test_list_defaults_to_20_and_walks_with_next(server: Server) -> None:
    client = server.client
    pid = _project(client)
    gids = []
    for _ in range(21):
        g = _group(client)
        client.admin.organization.projects.groups.create(pid, group_id=g.id, role="viewer")
        gids.append(g.id)
    gids.sort()

    default = client.admin.organization.projects.groups.list(pid)
    assert [g.group_id for g in default.data] == gids[:20]
    assert default.has_more is True and default.next == gids[19]
    rest = client.admin.organization.projects.groups.list(pid, after=default.next)
    assert [g.group_id for g in rest.data] == gids[20:] and rest.has_more is False and rest.next is None

    for order, expected in (("asc", gids), ("desc", gids[::-1])):
        seen: list[str] = []
        page = client.admin.organization.projects.groups.list(pid, limit=6, order=order)
        while True:
            seen += [g.group_id for g in page.data]
            if not page.has_more:
                assert page.next is None
                break
            assert page.next == page.data[-1].group_id
            page = client.admin.organization.projects.groups.list(pid, limit=6, order=order, after=page.next)
        assert seen == expected, order
        assert [g.group_id for g in client.admin.organization.projects.groups.list(pid, limit=4, order=order)] == expected

    assert [g.group_id for g in client.admin.organization.projects.groups.list(pid, limit=100).data] == gids
    assert client.admin.organization.projects.groups.list(pid, limit=0).data == []
    for bad in (-1, 101):
        expect_error(
            lambda: client.admin.organization.projects.groups.list(pid, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    expect_raw_error(
        server.raw("GET", f"/organization/projects/{pid}/groups?order=random"),
        status=400,
        code="invalid_value",
        param="order",
    )

    # a deleted group leaves the project's list; its cursor still has its place
    client.admin.organization.groups.delete(gids[5])
    page = client.admin.organization.projects.groups.list(pid, after=gids[5], limit=2)
    assert [g.group_id for g in page.data] == gids[6:8]
    assert len(client.admin.organization.projects.groups.list(pid, limit=100).data) == 20


# ---------------------------------------------------------------------------- project group roles


def test_assign_list_retrieve_and_unassign(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "viewer")
    custom = _custom(client, pid, "api.project.read", "api.project.users.write")

    raw = client.admin.organization.projects.groups.roles.with_raw_response.create(
        group.id, project_id=pid, role_id=custom.id
    )
    assert raw.headers.get("x-request-id")
    assigned = raw.parse()
    assert assigned.object == "group.role"
    assert (assigned.group.object, assigned.group.id, assigned.group.name) == ("group", group.id, group.name)
    assert assigned.group.scim_managed is False
    assert (assigned.role.object, assigned.role.id, assigned.role.name) == ("role", custom.id, custom.name)
    assert assigned.role.resource_type == "api.project" and assigned.role.predefined_role is False
    assert set(assigned.role.permissions) == {"api.project.read", "api.project.users.write"}

    listed = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid)
    assert [r.id for r in listed.data] == [scoped_role_id(PROJ_VIEWER, pid), custom.id]
    assert listed.has_more is False and listed.next is None
    viewer, held = listed.data
    assert viewer.name == "viewer" and viewer.predefined_role is True
    assert set(viewer.permissions) == PROJECT_VIEWER_PERMISSIONS
    assert held.description == "held by a group in tests" and _sources(held) == [(group.id, "group")]

    got = client.admin.organization.projects.groups.roles.retrieve(custom.id, project_id=pid, group_id=group.id)
    assert got.id == custom.id and _sources(got) == [(group.id, "group")]
    for rid in (PROJ_VIEWER, scoped_role_id(PROJ_VIEWER, pid)):
        got = client.admin.organization.projects.groups.roles.retrieve(rid, project_id=pid, group_id=group.id)
        assert got.id == scoped_role_id(PROJ_VIEWER, pid)

    raw = client.admin.organization.projects.groups.roles.with_raw_response.delete(
        custom.id, project_id=pid, group_id=group.id
    )
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert (deleted.object, deleted.deleted) == ("group.role.deleted", True)
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_VIEWER, pid)]
    for call in (
        lambda: client.admin.organization.projects.groups.roles.retrieve(custom.id, project_id=pid, group_id=group.id),
        lambda: client.admin.organization.projects.groups.roles.delete(custom.id, project_id=pid, group_id=group.id),
    ):
        expect_error(call, status=404, code="not_found", param="role_id")

    # the predefined role goes in either form too; the group keeps its access without roles
    client.admin.organization.projects.groups.roles.delete(
        scoped_role_id(PROJ_VIEWER, pid), project_id=pid, group_id=group.id
    )
    assert _group_roles(client, pid, group.id) == []
    assert client.admin.organization.projects.groups.retrieve(group.id, project_id=pid).group_id == group.id


def test_predefined_project_roles_in_either_form_and_idempotence(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "viewer")
    a = client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=PROJ_OWNER)
    b = client.admin.organization.projects.groups.roles.create(
        group.id, project_id=pid, role_id=scoped_role_id(PROJ_OWNER, pid)
    )
    c = client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=PROJ_VIEWER)
    assert a.role.predefined_role is True and a.role.name == "owner"
    assert {a.role.id, b.role.id} <= {PROJ_OWNER, scoped_role_id(PROJ_OWNER, pid)}
    assert c.role.name == "viewer"
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_OWNER, pid), scoped_role_id(PROJ_VIEWER, pid)]


def test_project_group_roles_of_the_wrong_scope_are_refused(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "viewer")
    other = _project(client)
    org_custom = client.admin.organization.roles.create(role_name=unique_name("org"), permissions=["api.groups.read"])
    for rid in (ORG_OWNER, ORG_READER, org_custom.id, _custom(client, other).id, scoped_role_id(PROJ_OWNER, other)):
        expect_error(
            lambda: client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=rid),
            status=400,
            code="invalid_value",
            param="role_id",
        )
    expect_error(
        lambda: client.admin.organization.projects.groups.roles.create(
            group.id, project_id=pid, role_id="role_doesnotexist0000"
        ),
        status=404,
        code="not_found",
        param="role_id",
    )
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_VIEWER, pid)]


def test_project_group_roles_validate_input(server: Server) -> None:
    pid, group = _with_access(server.client, "viewer")
    path = f"/projects/{pid}/groups/{group.id}/roles"
    expect_raw_error(
        server.raw("POST", path, json_body={}), status=400, code="missing_required_parameter", param="role_id"
    )
    expect_raw_error(server.raw("POST", path, json_body={"role_id": 3}), status=400, code="invalid_value", param="role_id")
    for query, param in (("limit=-1", "limit"), ("limit=1001", "limit"), ("order=down", "order")):
        expect_raw_error(server.raw("GET", f"{path}?{query}"), status=400, code="invalid_value", param=param)


def test_project_group_roles_list_paginates_with_next(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "member")
    customs = sorted(_custom(client, pid).id for _ in range(3))
    for rid in customs:
        client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=rid)
    expected = [scoped_role_id(PROJ_MEMBER, pid), *customs]

    seen: list[str] = []
    page = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, limit=1)
    while True:
        seen += [r.id for r in page.data]
        if not page.has_more:
            assert page.next is None
            break
        assert page.next
        page = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, limit=1, after=page.next)
    assert seen == expected
    assert [r.id for r in client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, limit=2)] == expected
    asc = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, order="asc")
    assert [r.id for r in asc.data] == expected and asc.has_more is False and asc.next is None
    # the project-scoped form of a predefined role is a cursor too
    after_alias = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, after=expected[0])
    assert [r.id for r in after_alias.data] == customs
    assert client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, limit=0).data == []




def test_project_group_roles_list_in_descending_order(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "member")
    custom = _custom(client, pid).id
    client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom)
    expected = [custom, scoped_role_id(PROJ_MEMBER, pid)]
    desc = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, order="desc")
    assert [r.id for r in desc.data] == expected
    first = client.admin.organization.projects.groups.roles.list(group.id, project_id=pid, order="desc", limit=1)
    second = client.admin.organization.projects.groups.roles.list(
        group.id, project_id=pid, order="desc", limit=1, after=first.next
    )
    assert [r.id for r in first.data + second.data] == expected


# ---------------------------------------------------------------------------- what members get


def test_a_member_reached_only_through_a_group_holds_its_project_roles(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "member")
    user = add_member(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)

    # not a project user …
    assert user.id not in [u.id for u in client.admin.organization.projects.users.list(pid)]
    expect_error(
        lambda: client.admin.organization.projects.users.retrieve(user.id, project_id=pid),
        status=404,
        code="not_found",
        param="user_id",
    )
    # … but holds the group's roles there
    roles = client.admin.organization.projects.users.roles.list(user.id, project_id=pid).data
    assert [r.id for r in roles] == [scoped_role_id(PROJ_MEMBER, pid)]
    assert _sources(roles[0]) == [(group.id, "group")]
    for rid in (PROJ_MEMBER, scoped_role_id(PROJ_MEMBER, pid)):
        got = client.admin.organization.projects.users.roles.retrieve(rid, project_id=pid, user_id=user.id)
        assert _sources(got) == [(group.id, "group")]
    # held only through the group: removed from the group, not the user
    expect_error(
        lambda: client.admin.organization.projects.users.roles.delete(PROJ_MEMBER, project_id=pid, user_id=user.id),
        status=409,
        code="inherited_role",
        param="role_id",
        message_contains=group.id,
    )
    # roles are assigned to project users; this user is none
    custom = _custom(client, pid)
    expect_error(
        lambda: client.admin.organization.projects.users.roles.create(user.id, project_id=pid, role_id=custom.id),
        status=404,
        code="not_found",
        param="user_id",
    )


def test_direct_and_group_project_roles_merge_with_their_sources(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "member")
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, user_id=user.id, role="member")
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    custom = _custom(client, pid)
    client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=PROJ_OWNER)
    client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom.id)

    held = {r.id: r for r in client.admin.organization.projects.users.roles.list(user.id, project_id=pid)}
    member, owner = scoped_role_id(PROJ_MEMBER, pid), scoped_role_id(PROJ_OWNER, pid)
    assert set(held) == {member, owner, custom.id}
    assert _sources(held[member]) == [(user.id, "user"), (group.id, "group")]
    assert _sources(held[owner]) == [(group.id, "group")]
    assert _sources(held[custom.id]) == [(group.id, "group")]
    assert client.admin.organization.projects.users.retrieve(user.id, project_id=pid).role == "member"

    # the base role stays the base role; the user's own assignment comes on top of the group's
    expect_error(
        lambda: client.admin.organization.projects.users.roles.delete(member, project_id=pid, user_id=user.id),
        status=400,
        code="invalid_value",
        param="role_id",
    )
    client.admin.organization.projects.users.roles.create(user.id, project_id=pid, role_id=custom.id)
    got = client.admin.organization.projects.users.roles.retrieve(custom.id, project_id=pid, user_id=user.id)
    assert _sources(got) == [(user.id, "user"), (group.id, "group")]

    # removing the group from the project withdraws exactly what it granted
    client.admin.organization.projects.groups.delete(group.id, project_id=pid)
    held = {r.id: r for r in client.admin.organization.projects.users.roles.list(user.id, project_id=pid)}
    assert set(held) == {member, custom.id}
    assert _sources(held[member]) == [(user.id, "user")] and _sources(held[custom.id]) == [(user.id, "user")]


@pytest.mark.parametrize("withdrawal", ["remove from project", "delete group", "leave group", "unassign role"])
def test_what_a_group_granted_in_a_project_is_withdrawn_at_once(client: openai.OpenAI, withdrawal: str) -> None:
    pid, group = _with_access(client, "owner")
    user = add_member(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    assert [r.id for r in client.admin.organization.projects.users.roles.list(user.id, project_id=pid)] == [
        scoped_role_id(PROJ_OWNER, pid)
    ]

    if withdrawal == "remove from project":
        client.admin.organization.projects.groups.delete(group.id, project_id=pid)
    elif withdrawal == "delete group":
        client.admin.organization.groups.delete(group.id)
    elif withdrawal == "leave group":
        client.admin.organization.groups.users.delete(user.id, group_id=group.id)
    else:
        client.admin.organization.projects.groups.roles.delete(PROJ_OWNER, project_id=pid, group_id=group.id)

    expect_error(
        lambda: client.admin.organization.projects.users.roles.list(user.id, project_id=pid),
        status=404,
        code="not_found",
        param="user_id",
    )
    still_listed = group.id in [g.group_id for g in client.admin.organization.projects.groups.list(pid)]
    assert still_listed is (withdrawal in ("leave group", "unassign role"))


def test_a_removed_project_access_does_not_come_back_with_the_group(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "owner")
    client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=_custom(client, pid).id)
    client.admin.organization.projects.groups.delete(group.id, project_id=pid)
    client.admin.organization.projects.groups.create(pid, group_id=group.id, role="viewer")
    assert _group_roles(client, pid, group.id) == [scoped_role_id(PROJ_VIEWER, pid)]


def test_group_project_roles_authorize_project_routes(server: Server) -> None:
    """A key limited (by the `scopes` extension) to project permissions may act on a project only
    through what its owner holds there; here that comes only from a group, and goes with it."""
    client = server.client
    owner = owner_user(client)
    pid = _project(client)
    group = _group(client)
    key = client.admin.organization.admin_api_keys.create(
        name=unique_name("project scoped"), extra_body={"scopes": ["api.project.users.read"]}
    )
    scoped = server.make_client(key.value)

    def listing() -> Any:
        return scoped.admin.organization.projects.groups.list(pid)

    in_project = f"'api.project.users.read' held in project {pid} would allow this request too."
    missing = "api.organization.projects.users.read"
    expect_insufficient(listing, missing=missing, detail=in_project)
    client.admin.organization.projects.groups.create(pid, group_id=group.id, role="viewer")
    expect_insufficient(listing, missing=missing, detail=in_project)  # the owner is not in the group yet
    client.admin.organization.groups.users.create(group.id, user_id=owner.id)
    assert [g.group_id for g in listing().data] == [group.id]
    assert _group_roles(scoped, pid, group.id) == [scoped_role_id(PROJ_VIEWER, pid)]
    client.admin.organization.groups.users.delete(owner.id, group_id=group.id)
    expect_insufficient(listing, missing=missing, detail=in_project)


def test_the_permissions_extension_counts_project_roles_from_groups(client: openai.OpenAI) -> None:
    pid, group = _with_access(client, "viewer")
    user = add_member(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    custom = _custom(client, pid, "api.files.write")
    client.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom.id)

    body = client.get(
        f"/organization/users/{user.id}/permissions",
        cast_to=object,
        options={"params": {"project_id": pid}, "security": {"admin_api_key_auth": True}},
    )
    assert body["user_id"] == user.id and body["project_id"] == pid
    grants = {p["permission"]: p["granted_by"] for p in body["permissions"]}
    assert PROJECT_VIEWER_PERMISSIONS | {"api.files.write"} <= set(grants)
    assert [(g["role_id"], g["resource_type"]) for g in grants["api.files.write"]] == [(custom.id, "api.project")]
    assert [
        [(s["principal_id"], s["principal_type"]) for s in g["assignment_sources"]] for g in grants["api.files.write"]
    ] == [[(group.id, "group")]]
    viewer = [g for g in grants["api.project.read"] if g["role_id"] == scoped_role_id(PROJ_VIEWER, pid)]
    assert len(viewer) == 1 and viewer[0]["assignment_sources"] == [{"principal_id": group.id, "principal_type": "group"}]

    # without the project, only organization permissions
    plain = client.get(
        f"/organization/users/{user.id}/permissions", cast_to=object, options={"security": {"admin_api_key_auth": True}}
    )
    assert all(p["permission"].startswith(("api.organization", "api.groups")) for p in plain["permissions"])


# ---------------------------------------------------------------------------- audit events


def test_project_group_changes_write_audit_events(server: Server) -> None:
    boot = server.client
    key = boot.admin.organization.admin_api_keys.create(name=unique_name("project group auditor"))
    c = server.make_client(key.value)
    pid = _project(boot)
    group = _group(boot)
    custom = _custom(boot, pid)

    c.admin.organization.projects.groups.create(pid, group_id=group.id, role="member")
    c.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom.id)
    c.admin.organization.projects.groups.roles.create(group.id, project_id=pid, role_id=custom.id)  # no change
    c.admin.organization.projects.groups.roles.delete(custom.id, project_id=pid, group_id=group.id)
    c.admin.organization.projects.groups.delete(group.id, project_id=pid)

    events = [e.to_dict() for e in boot.admin.organization.audit_logs.list(actor_ids=[key.id], limit=100, extra_query=OLDEST_FIRST)]
    assert [e["type"] for e in events] == [
        "group.updated",
        "role.assignment.created",
        "role.assignment.created",
        "role.assignment.deleted",
        "role.assignment.deleted",
        "group.updated",
    ]
    access = [events[0], events[-1]]
    assert access[0]["group.updated"] == {"id": group.id, "changes_requested": {"projects_added": [pid]}}
    assert access[1]["group.updated"] == {"id": group.id, "changes_requested": {"projects_removed": [pid]}}
    events = events[1:-1]
    for ev, rid in zip(events, [PROJ_MEMBER, custom.id, custom.id, PROJ_MEMBER]):
        details = ev[ev["type"]]
        assert details["id"] in {rid, scoped_role_id(rid, pid)}
        assert (details["principal_id"], details["principal_type"]) == (group.id, "group")
        assert (details["resource_id"], details["resource_type"]) == (pid, "api.project")
        assert ev["project"]["id"] == pid
    assert [e.type for e in boot.admin.organization.audit_logs.list(project_ids=[pid], actor_ids=[key.id], extra_query=OLDEST_FIRST)] == [
        e["type"] for e in [access[0], *events, access[1]]
    ]


def test_removing_a_roleless_group_from_a_project_writes_an_event(server: Server) -> None:
    boot = server.client
    key = boot.admin.organization.admin_api_keys.create(name=unique_name("roleless auditor"))
    c = server.make_client(key.value)
    pid, group = _with_access(boot, "member")
    boot.admin.organization.projects.groups.roles.delete(PROJ_MEMBER, project_id=pid, group_id=group.id)
    c.admin.organization.projects.groups.delete(group.id, project_id=pid)
    assert list(boot.admin.organization.audit_logs.list(actor_ids=[key.id])), "no event for the removal"
