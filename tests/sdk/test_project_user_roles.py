"""Project user role assignments: `GET/POST /projects/{project_id}/users/{user_id}/roles`,
`GET/DELETE /projects/{project_id}/users/{user_id}/roles/{role_id}`."""

from __future__ import annotations

import openai

from _support import (
    ORG_OWNER,
    ORG_READER,
    PROJ_MEMBER,
    PROJ_OWNER,
    PROJ_VIEWER,
    PROJECT_PERMISSIONS,
    Server,
    add_member,
    expect_error,
    expect_raw_error,
    scoped_role_id,
    unique_name,
)


def _setup(client: openai.OpenAI, role: str = "member") -> tuple[str, str]:
    pid = client.admin.organization.projects.create(name=unique_name("proles")).id
    user = add_member(client)
    client.admin.organization.projects.users.create(pid, role=role, user_id=user.id)
    return pid, user.id


def _custom(client: openai.OpenAI, pid: str, *perms: str) -> openai.types.admin.organization.Role:
    return client.admin.organization.projects.roles.create(
        pid,
        role_name=unique_name("project role"),
        permissions=list(perms or ["api.project.read", "api.files.read"]),
        description="project role in tests",
    )


def test_a_project_member_holds_their_base_project_role(client: openai.OpenAI) -> None:
    pid, uid = _setup(client, "member")
    raw = client.admin.organization.projects.users.roles.with_raw_response.list(uid, project_id=pid)
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list" and body["has_more"] is False and body["next"] is None
    roles = raw.parse().data
    assert [r.id for r in roles] == [scoped_role_id(PROJ_MEMBER, pid)]
    member = roles[0]
    assert member.name == "member" and member.predefined_role is True
    assert member.resource_type == "api.project"
    assert "api.project.read" in member.permissions and "api.model.request" in member.permissions
    assert set(member.permissions) <= PROJECT_PERMISSIONS
    assert [(s.principal_id, s.principal_type) for s in member.assignment_sources or []] == [(uid, "user")]


def test_owner_and_viewer_base_roles(client: openai.OpenAI) -> None:
    for base, rid in (("owner", PROJ_OWNER), ("viewer", PROJ_VIEWER)):
        pid, uid = _setup(client, base)
        roles = list(client.admin.organization.projects.users.roles.list(uid, project_id=pid))
        assert [r.id for r in roles] == [scoped_role_id(rid, pid)]
        assert roles[0].name == base


def test_assign_a_custom_project_role(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid, "api.project.read", "api.batches.read")
    raw = client.admin.organization.projects.users.roles.with_raw_response.create(uid, project_id=pid, role_id=role.id)
    assert raw.headers.get("x-request-id")
    assigned = raw.parse()
    assert assigned.object == "user.role"
    assert assigned.user.id == uid
    assert assigned.role.id == role.id and assigned.role.resource_type == "api.project"
    assert set(assigned.role.permissions) == {"api.project.read", "api.batches.read"}
    assert assigned.role.predefined_role is False

    listed = list(client.admin.organization.projects.users.roles.list(uid, project_id=pid))
    assert [r.id for r in listed] == [scoped_role_id(PROJ_MEMBER, pid), role.id]
    assert listed[1].description == "project role in tests"
    assert [(s.principal_id, s.principal_type) for s in listed[1].assignment_sources or []] == [(uid, "user")]


def test_retrieve_an_assigned_role_in_either_id_form(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid)
    client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=role.id)
    got = client.admin.organization.projects.users.roles.retrieve(role.id, project_id=pid, user_id=uid)
    assert got.id == role.id and got.name == role.name and got.predefined_role is False
    for rid in (PROJ_MEMBER, scoped_role_id(PROJ_MEMBER, pid)):
        base = client.admin.organization.projects.users.roles.retrieve(rid, project_id=pid, user_id=uid)
        assert base.id == scoped_role_id(PROJ_MEMBER, pid)
        assert base.name == "member" and base.predefined_role is True


def test_retrieve_a_role_not_held_is_404(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid)
    for rid in (role.id, PROJ_OWNER, scoped_role_id(PROJ_VIEWER, pid)):
        expect_error(
            lambda: client.admin.organization.projects.users.roles.retrieve(rid, project_id=pid, user_id=uid),
            status=404,
            code="not_found",
            param="role_id",
        )


def test_assigning_twice_is_idempotent(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid)
    a = client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=role.id)
    b = client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=role.id)
    assert a.role.id == b.role.id == role.id
    ids = [r.id for r in client.admin.organization.projects.users.roles.list(uid, project_id=pid)]
    assert ids.count(role.id) == 1


def test_assigning_a_predefined_project_role_changes_the_base_role(client: openai.OpenAI) -> None:
    pid, uid = _setup(client, "member")
    assigned = client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=PROJ_OWNER)
    assert assigned.role.id in (PROJ_OWNER, scoped_role_id(PROJ_OWNER, pid))
    assert client.admin.organization.projects.users.retrieve(uid, project_id=pid).role == "owner"
    ids = [r.id for r in client.admin.organization.projects.users.roles.list(uid, project_id=pid)]
    assert ids == [scoped_role_id(PROJ_OWNER, pid)]
    client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=scoped_role_id(PROJ_VIEWER, pid))
    assert client.admin.organization.projects.users.retrieve(uid, project_id=pid).role == "viewer"


def test_unassign_a_custom_role(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid)
    client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=role.id)
    raw = client.admin.organization.projects.users.roles.with_raw_response.delete(role.id, project_id=pid, user_id=uid)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "user.role.deleted" and deleted.deleted is True
    ids = [r.id for r in client.admin.organization.projects.users.roles.list(uid, project_id=pid)]
    assert ids == [scoped_role_id(PROJ_MEMBER, pid)]
    expect_error(
        lambda: client.admin.organization.projects.users.roles.delete(role.id, project_id=pid, user_id=uid),
        status=404,
        code="not_found",
        param="role_id",
    )


def test_unassigning_the_base_role_is_refused(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    for rid in (PROJ_MEMBER, scoped_role_id(PROJ_MEMBER, pid)):
        expect_error(
            lambda: client.admin.organization.projects.users.roles.delete(rid, project_id=pid, user_id=uid),
            status=400,
            code="invalid_value",
            param="role_id",
        )
    assert client.admin.organization.projects.users.retrieve(uid, project_id=pid).role == "member"


def test_roles_of_the_wrong_scope_are_refused(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    other = client.admin.organization.projects.create(name=unique_name("other")).id
    other_role = _custom(client, other)
    org_role = client.admin.organization.roles.create(
        role_name=unique_name("orgscope"), permissions=["api.organization.read"]
    )
    for rid in (ORG_OWNER, ORG_READER, org_role.id, other_role.id, scoped_role_id(PROJ_OWNER, other)):
        expect_error(
            lambda: client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=rid),
            status=400,
            code="invalid_value",
            param="role_id",
        )
    ids = [r.id for r in client.admin.organization.projects.users.roles.list(uid, project_id=pid)]
    assert ids == [scoped_role_id(PROJ_MEMBER, pid)]


def test_archived_projects_refuse_role_changes(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    role = _custom(client, pid)
    client.admin.organization.projects.archive(pid)
    expect_error(
        lambda: client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=role.id),
        status=409,
        code="project_archived",
        param=(None, "project_id"),
    )
    expect_error(
        lambda: client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=PROJ_OWNER),
        status=409,
        code="project_archived",
        param=(None, "project_id"),
    )
    assert client.admin.organization.projects.users.retrieve(uid, project_id=pid).role == "member"


def test_a_user_outside_the_project_is_404(client: openai.OpenAI) -> None:
    pid = client.admin.organization.projects.create(name=unique_name("empty")).id
    outsider = add_member(client)
    for call in (
        lambda: client.admin.organization.projects.users.roles.list(outsider.id, project_id=pid),
        lambda: client.admin.organization.projects.users.roles.create(outsider.id, project_id=pid, role_id=PROJ_MEMBER),
        lambda: client.admin.organization.projects.users.roles.retrieve(PROJ_MEMBER, project_id=pid, user_id=outsider.id),
        lambda: client.admin.organization.projects.users.roles.delete(PROJ_MEMBER, project_id=pid, user_id=outsider.id),
    ):
        expect_error(call, status=404, code="not_found", param="user_id")


def test_an_unknown_project_is_404(client: openai.OpenAI) -> None:
    user = add_member(client)
    pid = "proj_doesnotexist000000"
    for call in (
        lambda: client.admin.organization.projects.users.roles.list(user.id, project_id=pid),
        lambda: client.admin.organization.projects.users.roles.create(user.id, project_id=pid, role_id=PROJ_MEMBER),
        lambda: client.admin.organization.projects.users.roles.retrieve(PROJ_MEMBER, project_id=pid, user_id=user.id),
        lambda: client.admin.organization.projects.users.roles.delete(PROJ_MEMBER, project_id=pid, user_id=user.id),
    ):
        expect_error(call, status=404, code="not_found", param="project_id")


def test_list_paginates_with_next_and_order(client: openai.OpenAI) -> None:
    pid, uid = _setup(client)
    roles = [_custom(client, pid) for _ in range(3)]
    for r in roles:
        client.admin.organization.projects.users.roles.create(uid, project_id=pid, role_id=r.id)
    expected = [scoped_role_id(PROJ_MEMBER, pid)] + [r.id for r in roles]
    assert [r.id for r in client.admin.organization.projects.users.roles.list(uid, project_id=pid, limit=1)] == expected
    first = client.admin.organization.projects.users.roles.list(uid, project_id=pid, limit=2)
    assert [r.id for r in first.data] == expected[:2] and first.has_more is True and first.next
    second = client.admin.organization.projects.users.roles.list(uid, project_id=pid, limit=2, after=first.next)
    assert [r.id for r in second.data] == expected[2:] and second.has_more is False and second.next is None
    desc = client.admin.organization.projects.users.roles.list(uid, project_id=pid, order="desc")
    assert [r.id for r in desc.data] == list(reversed(expected))


def test_list_and_assign_validate_input(server: Server) -> None:
    client = server.client
    pid, uid = _setup(client)
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.projects.users.roles.list(uid, project_id=pid, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    assert client.admin.organization.projects.users.roles.list(uid, project_id=pid, limit=0).data == []
    resp = server.raw("POST", f"/projects/{pid}/users/{uid}/roles", json_body={})
    expect_raw_error(resp, status=400, code="missing_required_parameter", param="role_id")
