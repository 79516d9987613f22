"""Groups: `GET/POST /organization/groups`, `GET/POST/DELETE /organization/groups/{group_id}`,
group users (`GET/POST /organization/groups/{group_id}/users`,
`GET/DELETE /organization/groups/{group_id}/users/{user_id}`), group organization roles
(`GET/POST /organization/groups/{group_id}/roles`, `GET/DELETE .../roles/{role_id}`), what a group
grants its members in their organization role lists, the audit events, and the
`GET /organization/users/{user_id}/permissions` extension.

Project access of groups and their project roles are in `test_project_groups.py`.
"""

from __future__ import annotations

from typing import Any, Iterator

import openai
import pytest

from _support import (
    OLDEST_FIRST,
    ORG_OWNER,
    ORG_PERMISSIONS,
    ORG_READER,
    ORG_READER_PERMISSIONS,
    PROJ_MEMBER,
    PROJ_OWNER,
    Server,
    add_member,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    scoped_role_id,
    unique_name,
)

MISSING_GROUP = "group_doesnotexist0000000"
MISSING_USER = "user-doesnotexist000000"


def _group(client: openai.OpenAI, prefix: str = "group") -> Any:
    return client.admin.organization.groups.create(name=unique_name(prefix))


def _org_role(client: openai.OpenAI, *perms: str) -> Any:
    return client.admin.organization.roles.create(
        role_name=unique_name("group role"),
        permissions=list(perms or ["api.groups.read"]),
        description="held by a group in tests",
    )


def _sources(role: Any) -> list[tuple[str, str]]:
    return [(s.principal_id, s.principal_type) for s in role.assignment_sources or []]


def _user_roles(client: openai.OpenAI, user_id: str) -> dict[str, Any]:
    return {r.id: r for r in client.admin.organization.users.roles.list(user_id)}


# ---------------------------------------------------------------------------- groups


def test_create_retrieve_update_delete(client: openai.OpenAI) -> None:
    name = unique_name("Support Team")
    raw = client.admin.organization.groups.with_raw_response.create(name=name)
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "group"
    group = raw.parse()
    assert group.id.startswith("group_")
    assert group.name == name
    assert group.is_scim_managed is False and group.group_type == "group"
    assert isinstance(group.created_at, int) and group.created_at > 1_600_000_000

    got = client.admin.organization.groups.retrieve(group.id)
    assert (got.id, got.name, got.created_at, got.group_type) == (group.id, name, group.created_at, "group")

    new_name = unique_name("Escalations")
    raw = client.admin.organization.groups.with_raw_response.update(group.id, name=new_name)
    assert raw.headers.get("x-request-id")
    updated = raw.parse()
    assert (updated.id, updated.name, updated.created_at) == (group.id, new_name, group.created_at)
    assert updated.is_scim_managed is False
    assert client.admin.organization.groups.retrieve(group.id).name == new_name
    assert new_name in [g.name for g in client.admin.organization.groups.list(limit=1000)]

    raw = client.admin.organization.groups.with_raw_response.delete(group.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert (deleted.object, deleted.id, deleted.deleted) == ("group.deleted", group.id, True)
    expect_error(
        lambda: client.admin.organization.groups.retrieve(group.id), status=404, code="not_found", param="group_id"
    )
    assert group.id not in [g.id for g in client.admin.organization.groups.list(limit=1000)]


def test_names_are_unique_ignoring_case(client: openai.OpenAI) -> None:
    name = unique_name("Unique Group")
    first = client.admin.organization.groups.create(name=name)
    for clash in (name, name.upper(), name.lower()):
        expect_error(
            lambda: client.admin.organization.groups.create(name=clash),
            status=409,
            code="already_exists",
            param="name",
        )
    other = _group(client)
    expect_error(
        lambda: client.admin.organization.groups.update(other.id, name=name.swapcase()),
        status=409,
        code="already_exists",
        param="name",
    )
    assert client.admin.organization.groups.retrieve(other.id).name == other.name
    # renaming a group to its own name in another case is no clash
    assert client.admin.organization.groups.update(first.id, name=name.upper()).name == name.upper()
    # and a deleted group's name is free again
    client.admin.organization.groups.delete(first.id)
    assert client.admin.organization.groups.create(name=name).name == name


def test_names_are_validated(server: Server) -> None:
    client = server.client
    group = _group(client)
    longest = unique_name("longest").ljust(255, "n")
    assert client.admin.organization.groups.create(name=longest).name == longest
    for bad in ("", "   ", "n" * 256):
        expect_error(
            lambda: client.admin.organization.groups.create(name=bad), status=400, code="invalid_value", param="name"
        )
        expect_error(
            lambda: client.admin.organization.groups.update(group.id, name=bad),
            status=400,
            code="invalid_value",
            param="name",
        )
    for path in ("/organization/groups", f"/organization/groups/{group.id}"):
        expect_raw_error(
            server.raw("POST", path, json_body={}), status=400, code="missing_required_parameter", param="name"
        )
        expect_raw_error(server.raw("POST", path, json_body={"name": 7}), status=400, code="invalid_value", param="name")
        expect_raw_error(
            server.raw("POST", path, body=b'{"name": '), status=400, code="invalid_value", param=(None, "name")
        )
    assert client.admin.organization.groups.retrieve(group.id).name == group.name


def test_an_unknown_group_is_404_on_every_route(client: openai.OpenAI) -> None:
    user = add_member(client)
    g = MISSING_GROUP
    for call in (
        lambda: client.admin.organization.groups.retrieve(g),
        lambda: client.admin.organization.groups.update(g, name=unique_name("x")),
        lambda: client.admin.organization.groups.delete(g),
        lambda: client.admin.organization.groups.users.list(g),
        lambda: client.admin.organization.groups.users.create(g, user_id=user.id),
        lambda: client.admin.organization.groups.users.retrieve(user.id, group_id=g),
        lambda: client.admin.organization.groups.users.delete(user.id, group_id=g),
        lambda: client.admin.organization.groups.roles.list(g),
        lambda: client.admin.organization.groups.roles.create(g, role_id=ORG_READER),
        lambda: client.admin.organization.groups.roles.retrieve(ORG_READER, group_id=g),
        lambda: client.admin.organization.groups.roles.delete(ORG_READER, group_id=g),
    ):
        expect_error(call, status=404, code="not_found", param="group_id")


def test_deleting_twice_is_404(client: openai.OpenAI) -> None:
    group = _group(client)
    client.admin.organization.groups.delete(group.id)
    expect_error(
        lambda: client.admin.organization.groups.delete(group.id), status=404, code="not_found", param="group_id"
    )


# ---------------------------------------------------------------------------- the groups list


GROUPS = 103


@pytest.fixture(scope="module")
def listed_groups(module_server: Server) -> Iterator[list[str]]:
    """103 groups on a server of their own (so the counts are exact), in list order."""
    client = module_server.client
    ids = [client.admin.organization.groups.create(name=f"Listed {i:03d}").id for i in range(GROUPS)]
    yield sorted(ids)


def test_list_defaults_to_100_oldest_first(module_client: openai.OpenAI, listed_groups: list[str]) -> None:
    raw = module_client.admin.organization.groups.with_raw_response.list()
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list"
    assert [g["id"] for g in body["data"]] == listed_groups[:100]
    assert all(g["object"] == "group" for g in body["data"])
    assert body["has_more"] is True and body["next"] == listed_groups[99]
    rest = module_client.admin.organization.groups.list(after=body["next"])
    assert [g.id for g in rest.data] == listed_groups[100:]
    assert rest.has_more is False and rest.next is None


def test_list_walks_with_next_in_either_order(module_client: openai.OpenAI, listed_groups: list[str]) -> None:
    for order, expected in (("asc", listed_groups), ("desc", listed_groups[::-1])):
        seen: list[str] = []
        page = module_client.admin.organization.groups.list(limit=25, order=order)
        pages = 1
        while True:
            seen += [g.id for g in page.data]
            if not page.has_more:
                assert page.next is None
                break
            assert page.next == page.data[-1].id
            page = module_client.admin.organization.groups.list(limit=25, order=order, after=page.next)
            pages += 1
        assert seen == expected and pages == 5, order
        # the SDK's auto-paging follows `next` too
        assert [g.id for g in module_client.admin.organization.groups.list(limit=10, order=order)] == expected


def test_has_more_is_exact(module_client: openai.OpenAI, listed_groups: list[str]) -> None:
    everything = module_client.admin.organization.groups.list(limit=GROUPS)
    assert [g.id for g in everything.data] == listed_groups
    assert everything.has_more is False and everything.next is None
    all_but_one = module_client.admin.organization.groups.list(limit=GROUPS - 1)
    assert all_but_one.has_more is True and all_but_one.next == listed_groups[-2]
    big = module_client.admin.organization.groups.list(limit=1000)
    assert [g.id for g in big.data] == listed_groups and big.has_more is False


def test_a_deleted_cursor_still_has_its_place(module_client: openai.OpenAI, listed_groups: list[str]) -> None:
    doomed = module_client.admin.organization.groups.create(name=unique_name("doomed"))
    first = module_client.admin.organization.groups.list(limit=GROUPS + 1)
    assert first.data[-1].id == doomed.id
    module_client.admin.organization.groups.delete(doomed.id)
    after_doomed = module_client.admin.organization.groups.list(after=doomed.id, order="desc", limit=3)
    assert [g.id for g in after_doomed.data] == listed_groups[::-1][:3]


def test_list_limits(server: Server) -> None:
    client = server.client
    _group(client)
    assert client.admin.organization.groups.list(limit=0).data == []
    assert len(client.admin.organization.groups.list(limit=1).data) == 1
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.groups.list(limit=bad), status=400, code="invalid_value", param="limit"
        )
    expect_raw_error(
        server.raw("GET", "/organization/groups?limit=ten"), status=400, code="invalid_value", param="limit"
    )
    expect_raw_error(
        server.raw("GET", "/organization/groups?order=sideways"), status=400, code="invalid_value", param="order"
    )


# ---------------------------------------------------------------------------- group users


def test_add_list_retrieve_and_remove_a_member(client: openai.OpenAI) -> None:
    group = _group(client)
    user = add_member(client, name="Ada Lovelace")

    raw = client.admin.organization.groups.users.with_raw_response.create(group.id, user_id=user.id)
    assert raw.headers.get("x-request-id")
    added = raw.parse()
    assert (added.object, added.user_id, added.group_id) == ("group.user", user.id, group.id)

    listed = client.admin.organization.groups.users.list(group.id)
    assert [(u.id, u.name, u.email) for u in listed.data] == [(user.id, "Ada Lovelace", user.email)]
    assert listed.has_more is False and listed.next is None

    got = client.admin.organization.groups.users.retrieve(user.id, group_id=group.id)
    assert (got.id, got.name, got.email) == (user.id, "Ada Lovelace", user.email)
    assert got.user_type == "user" and got.is_service_account is False and got.picture is None

    raw = client.admin.organization.groups.users.with_raw_response.delete(user.id, group_id=group.id)
    assert raw.headers.get("x-request-id")
    removed = raw.parse()
    assert (removed.object, removed.deleted) == ("group.user.deleted", True)
    assert client.admin.organization.groups.users.list(group.id).data == []
    expect_error(
        lambda: client.admin.organization.groups.users.retrieve(user.id, group_id=group.id),
        status=404,
        code="not_found",
        param="user_id",
    )
    # the user is still a member of the organization
    assert client.admin.organization.users.retrieve(user.id).id == user.id


def test_adding_a_member_twice_is_idempotent(client: openai.OpenAI) -> None:
    group = _group(client)
    user = add_member(client)
    first = client.admin.organization.groups.users.create(group.id, user_id=user.id)
    second = client.admin.organization.groups.users.create(group.id, user_id=user.id)
    assert (first.user_id, first.group_id) == (second.user_id, second.group_id) == (user.id, group.id)
    assert [u.id for u in client.admin.organization.groups.users.list(group.id)] == [user.id]


def test_only_organization_members_can_join(server: Server) -> None:
    client = server.client
    group = _group(client)
    expect_error(
        lambda: client.admin.organization.groups.users.create(group.id, user_id=MISSING_USER),
        status=400,
        code="invalid_value",
        param="user_id",
    )
    expect_raw_error(
        server.raw("POST", f"/organization/groups/{group.id}/users", json_body={}),
        status=400,
        code="missing_required_parameter",
        param="user_id",
    )
    expect_raw_error(
        server.raw("POST", f"/organization/groups/{group.id}/users", json_body={"user_id": 7}),
        status=400,
        code="invalid_value",
        param="user_id",
    )
    assert client.admin.organization.groups.users.list(group.id).data == []


def test_retrieving_or_removing_a_non_member_is_404(client: openai.OpenAI) -> None:
    group = _group(client)
    outsider = add_member(client)  # in the organization, not in the group
    for user_id in (outsider.id, MISSING_USER):
        expect_error(
            lambda: client.admin.organization.groups.users.retrieve(user_id, group_id=group.id),
            status=404,
            code="not_found",
            param="user_id",
        )
        expect_error(
            lambda: client.admin.organization.groups.users.delete(user_id, group_id=group.id),
            status=404,
            code="not_found",
            param="user_id",
        )


def test_users_list_newest_first_by_default_and_walks_with_next(server: Server) -> None:
    client = server.client
    group = _group(client)
    members = sorted(add_member(client).id for _ in range(7))
    for uid in members:
        client.admin.organization.groups.users.create(group.id, user_id=uid)

    default = client.admin.organization.groups.users.list(group.id)
    assert [u.id for u in default.data] == members[::-1]  # the official default order is desc
    assert [u.id for u in client.admin.organization.groups.users.list(group.id, order="asc").data] == members
    assert [u.id for u in client.admin.organization.groups.users.list(group.id, order="desc").data] == members[::-1]

    for order, expected in ((None, members[::-1]), ("asc", members), ("desc", members[::-1])):
        kwargs: dict[str, Any] = {} if order is None else {"order": order}
        seen: list[str] = []
        page = client.admin.organization.groups.users.list(group.id, limit=3, **kwargs)
        while True:
            seen += [u.id for u in page.data]
            if not page.has_more:
                assert page.next is None
                break
            assert page.next == page.data[-1].id
            page = client.admin.organization.groups.users.list(group.id, limit=3, after=page.next, **kwargs)
        assert seen == expected, order
        assert [u.id for u in client.admin.organization.groups.users.list(group.id, limit=2, **kwargs)] == expected

    exact = client.admin.organization.groups.users.list(group.id, limit=7)
    assert exact.has_more is False and exact.next is None
    assert client.admin.organization.groups.users.list(group.id, limit=0).data == []
    assert len(client.admin.organization.groups.users.list(group.id, limit=1000).data) == 7
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.groups.users.list(group.id, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    expect_raw_error(
        server.raw("GET", f"/organization/groups/{group.id}/users?order=up"),
        status=400,
        code="invalid_value",
        param="order",
    )


def test_removing_a_user_from_the_organization_removes_them_from_their_groups(client: openai.OpenAI) -> None:
    group = _group(client)
    stays, leaves = add_member(client), add_member(client)
    for uid in (stays.id, leaves.id):
        client.admin.organization.groups.users.create(group.id, user_id=uid)
    client.admin.organization.users.delete(leaves.id)
    assert [u.id for u in client.admin.organization.groups.users.list(group.id)] == [stays.id]
    expect_error(
        lambda: client.admin.organization.groups.users.retrieve(leaves.id, group_id=group.id),
        status=404,
        code="not_found",
        param="user_id",
    )


# ---------------------------------------------------------------------------- group organization roles


def test_assign_list_retrieve_and_unassign_a_custom_role(client: openai.OpenAI) -> None:
    group = _group(client)
    role = _org_role(client, "api.groups.read", "api.groups.write")

    raw = client.admin.organization.groups.roles.with_raw_response.create(group.id, role_id=role.id)
    assert raw.headers.get("x-request-id")
    assigned = raw.parse()
    assert assigned.object == "group.role"
    assert assigned.group.object == "group" and assigned.group.id == group.id
    assert assigned.group.name == group.name and assigned.group.scim_managed is False
    assert assigned.group.created_at == group.created_at
    assert assigned.role.object == "role" and assigned.role.id == role.id and assigned.role.name == role.name
    assert set(assigned.role.permissions) == {"api.groups.read", "api.groups.write"}
    assert assigned.role.predefined_role is False and assigned.role.resource_type == "api.organization"

    listed = client.admin.organization.groups.roles.list(group.id)
    assert [r.id for r in listed.data] == [role.id]
    assert listed.has_more is False and listed.next is None
    held = listed.data[0]
    assert held.name == role.name and held.description == "held by a group in tests"
    assert _sources(held) == [(group.id, "group")]

    got = client.admin.organization.groups.roles.retrieve(role.id, group_id=group.id)
    assert got.id == role.id and set(got.permissions) == {"api.groups.read", "api.groups.write"}
    assert got.resource_type == "api.organization" and got.predefined_role is False
    assert _sources(got) == [(group.id, "group")]

    raw = client.admin.organization.groups.roles.with_raw_response.delete(role.id, group_id=group.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert (deleted.object, deleted.deleted) == ("group.role.deleted", True)
    assert client.admin.organization.groups.roles.list(group.id).data == []
    for call in (
        lambda: client.admin.organization.groups.roles.retrieve(role.id, group_id=group.id),
        lambda: client.admin.organization.groups.roles.delete(role.id, group_id=group.id),
    ):
        expect_error(call, status=404, code="not_found", param="role_id")
    assert client.admin.organization.roles.retrieve(role.id).id == role.id  # the role itself stays


def test_predefined_organization_roles_can_be_assigned(client: openai.OpenAI) -> None:
    group = _group(client)
    for rid, perms in ((ORG_READER, ORG_READER_PERMISSIONS), (ORG_OWNER, ORG_PERMISSIONS)):
        assigned = client.admin.organization.groups.roles.create(group.id, role_id=rid)
        assert assigned.role.id == rid and assigned.role.predefined_role is True
        assert set(assigned.role.permissions) == perms
    assert [r.id for r in client.admin.organization.groups.roles.list(group.id)] == [ORG_OWNER, ORG_READER]
    assert client.admin.organization.groups.roles.retrieve(ORG_OWNER, group_id=group.id).name == "owner"
    client.admin.organization.groups.roles.delete(ORG_OWNER, group_id=group.id)
    assert [r.id for r in client.admin.organization.groups.roles.list(group.id)] == [ORG_READER]


def test_assigning_a_role_twice_is_idempotent(client: openai.OpenAI) -> None:
    group = _group(client)
    role = _org_role(client)
    first = client.admin.organization.groups.roles.create(group.id, role_id=role.id)
    second = client.admin.organization.groups.roles.create(group.id, role_id=role.id)
    assert first.role.id == second.role.id == role.id
    assert [r.id for r in client.admin.organization.groups.roles.list(group.id)] == [role.id]


def test_roles_of_the_wrong_scope_are_refused(client: openai.OpenAI) -> None:
    group = _group(client)
    project = client.admin.organization.projects.create(name=unique_name("p"))
    project_role = client.admin.organization.projects.roles.create(
        project.id, role_name=unique_name("prole"), permissions=["api.project.read"]
    )
    for rid in (PROJ_MEMBER, PROJ_OWNER, scoped_role_id(PROJ_MEMBER, project.id), project_role.id):
        expect_error(
            lambda: client.admin.organization.groups.roles.create(group.id, role_id=rid),
            status=400,
            code="invalid_value",
            param="role_id",
        )
    assert client.admin.organization.groups.roles.list(group.id).data == []


def test_an_unknown_role_is_refused(server: Server) -> None:
    client = server.client
    group = _group(client)
    for rid in ("role_doesnotexist0000", "nonsense"):
        expect_error(
            lambda: client.admin.organization.groups.roles.create(group.id, role_id=rid),
            status=404,
            code="not_found",
            param="role_id",
        )
        expect_error(
            lambda: client.admin.organization.groups.roles.retrieve(rid, group_id=group.id),
            status=404,
            code="not_found",
            param="role_id",
        )
    expect_raw_error(
        server.raw("POST", f"/organization/groups/{group.id}/roles", json_body={}),
        status=400,
        code="missing_required_parameter",
        param="role_id",
    )
    expect_raw_error(
        server.raw("POST", f"/organization/groups/{group.id}/roles", json_body={"role_id": ["x"]}),
        status=400,
        code="invalid_value",
        param="role_id",
    )


def test_group_roles_list_paginates_with_next_and_order(server: Server) -> None:
    client = server.client
    group = _group(client)
    customs = sorted(_org_role(client).id for _ in range(3))
    for rid in [ORG_READER, *customs]:
        client.admin.organization.groups.roles.create(group.id, role_id=rid)
    expected = [ORG_READER, *customs]  # predefined first

    seen: list[str] = []
    page = client.admin.organization.groups.roles.list(group.id, limit=1)
    while True:
        seen += [r.id for r in page.data]
        if not page.has_more:
            assert page.next is None
            break
        assert page.next
        page = client.admin.organization.groups.roles.list(group.id, limit=1, after=page.next)
    assert seen == expected
    assert [r.id for r in client.admin.organization.groups.roles.list(group.id, limit=2)] == expected
    asc = client.admin.organization.groups.roles.list(group.id, order="asc")
    assert [r.id for r in asc.data] == expected and asc.has_more is False and asc.next is None
    assert client.admin.organization.groups.roles.list(group.id, limit=0).data == []
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.groups.roles.list(group.id, limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    expect_raw_error(
        server.raw("GET", f"/organization/groups/{group.id}/roles?order=nope"),
        status=400,
        code="invalid_value",
        param="order",
    )




def test_group_roles_list_in_descending_order(client: openai.OpenAI) -> None:
    group = _group(client)
    customs = sorted(_org_role(client).id for _ in range(2))
    for rid in [ORG_READER, *customs]:
        client.admin.organization.groups.roles.create(group.id, role_id=rid)
    expected = [ORG_READER, *customs][::-1]

    seen: list[str] = []
    page = client.admin.organization.groups.roles.list(group.id, order="desc", limit=1)
    while True:
        seen += [r.id for r in page.data]
        if not page.has_more:
            break
        page = client.admin.organization.groups.roles.list(group.id, order="desc", limit=1, after=page.next)
    assert seen == expected
    assert [r.id for r in client.admin.organization.groups.roles.list(group.id, order="desc").data] == expected


def test_deleting_a_custom_role_removes_it_from_groups(client: openai.OpenAI) -> None:
    group = _group(client)
    role = _org_role(client)
    client.admin.organization.groups.roles.create(group.id, role_id=role.id)
    client.admin.organization.roles.delete(role.id)
    assert client.admin.organization.groups.roles.list(group.id).data == []


# ---------------------------------------------------------------------------- inheritance


def test_members_hold_what_the_group_holds_with_its_source(client: openai.OpenAI) -> None:
    group = _group(client)
    direct_only, group_only, both = (_org_role(client) for _ in range(3))
    user = add_member(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    client.admin.organization.users.roles.create(user.id, role_id=direct_only.id)
    client.admin.organization.users.roles.create(user.id, role_id=both.id)
    client.admin.organization.groups.roles.create(group.id, role_id=group_only.id)
    client.admin.organization.groups.roles.create(group.id, role_id=both.id)
    client.admin.organization.groups.roles.create(group.id, role_id=ORG_READER)  # the user's base role too

    held = _user_roles(client, user.id)
    assert set(held) == {ORG_READER, direct_only.id, group_only.id, both.id}
    assert _sources(held[ORG_READER]) == [(user.id, "user"), (group.id, "group")]
    assert _sources(held[direct_only.id]) == [(user.id, "user")]
    assert _sources(held[group_only.id]) == [(group.id, "group")]
    assert _sources(held[both.id]) == [(user.id, "user"), (group.id, "group")]
    got = client.admin.organization.users.roles.retrieve(group_only.id, user_id=user.id)
    assert _sources(got) == [(group.id, "group")]

    # a role held only through the group is removed from the group, not the user
    expect_error(
        lambda: client.admin.organization.users.roles.delete(group_only.id, user_id=user.id),
        status=409,
        code="inherited_role",
        param="role_id",
        message_contains=group.id,
    )
    # held both ways: unassigning from the user leaves the group's
    client.admin.organization.users.roles.delete(both.id, user_id=user.id)
    assert _sources(client.admin.organization.users.roles.retrieve(both.id, user_id=user.id)) == [(group.id, "group")]
    # the base role stays the base role, also when a group holds it too
    expect_error(
        lambda: client.admin.organization.users.roles.delete(ORG_READER, user_id=user.id),
        status=400,
        code="invalid_value",
        param="role_id",
    )


def test_a_predefined_role_held_only_through_a_group(client: openai.OpenAI) -> None:
    group = _group(client)
    user = add_member(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    client.admin.organization.groups.roles.create(group.id, role_id=ORG_OWNER)
    held = _user_roles(client, user.id)
    assert set(held) == {ORG_OWNER, ORG_READER}
    assert _sources(held[ORG_OWNER]) == [(group.id, "group")]
    assert _sources(held[ORG_READER]) == [(user.id, "user")]
    assert client.admin.organization.users.retrieve(user.id).role == "reader"  # not the base role
    expect_error(
        lambda: client.admin.organization.users.roles.delete(ORG_OWNER, user_id=user.id),
        status=409,
        code="inherited_role",
        param="role_id",
    )


def test_leaving_or_deleting_the_group_withdraws_its_roles(client: openai.OpenAI) -> None:
    role = _org_role(client)
    leaving, staying = add_member(client), add_member(client)
    group = _group(client)
    client.admin.organization.groups.roles.create(group.id, role_id=role.id)
    for uid in (leaving.id, staying.id):
        client.admin.organization.groups.users.create(group.id, user_id=uid)
        assert role.id in _user_roles(client, uid)

    client.admin.organization.groups.users.delete(leaving.id, group_id=group.id)
    assert list(_user_roles(client, leaving.id)) == [ORG_READER]
    expect_error(
        lambda: client.admin.organization.users.roles.retrieve(role.id, user_id=leaving.id),
        status=404,
        code="not_found",
        param="role_id",
    )
    assert role.id in _user_roles(client, staying.id)

    client.admin.organization.groups.delete(group.id)
    assert list(_user_roles(client, staying.id)) == [ORG_READER]


def test_unassigning_from_the_group_withdraws_the_role(client: openai.OpenAI) -> None:
    role = _org_role(client)
    user = add_member(client)
    group = _group(client)
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    client.admin.organization.groups.roles.create(group.id, role_id=role.id)
    client.admin.organization.groups.roles.delete(role.id, group_id=group.id)
    assert list(_user_roles(client, user.id)) == [ORG_READER]


def test_two_groups_are_two_sources(client: openai.OpenAI) -> None:
    role = _org_role(client)
    user = add_member(client)
    groups = sorted((_group(client) for _ in range(2)), key=lambda g: g.id)
    for g in groups:
        client.admin.organization.groups.users.create(g.id, user_id=user.id)
        client.admin.organization.groups.roles.create(g.id, role_id=role.id)
    assert _sources(_user_roles(client, user.id)[role.id]) == [(g.id, "group") for g in groups]
    client.admin.organization.groups.users.delete(user.id, group_id=groups[0].id)
    assert _sources(_user_roles(client, user.id)[role.id]) == [(groups[1].id, "group")]


# ---------------------------------------------------------------------------- authorization


def test_group_routes_need_the_groups_permissions(server: Server) -> None:
    client = server.client
    group = _group(client)
    user = add_member(client)
    reader_key = client.admin.organization.admin_api_keys.create(
        name=unique_name("groups reader"), extra_body={"scopes": ["api.groups.read"]}
    )
    reader = server.make_client(reader_key.value)
    assert group.id in [g.id for g in reader.admin.organization.groups.list(limit=1000)]
    assert reader.admin.organization.groups.retrieve(group.id).id == group.id
    assert reader.admin.organization.groups.users.list(group.id).data == []
    assert reader.admin.organization.groups.roles.list(group.id).data == []
    for call in (
        lambda: reader.admin.organization.groups.create(name=unique_name("no")),
        lambda: reader.admin.organization.groups.update(group.id, name=unique_name("no")),
        lambda: reader.admin.organization.groups.delete(group.id),
        lambda: reader.admin.organization.groups.users.create(group.id, user_id=user.id),
        lambda: reader.admin.organization.groups.roles.create(group.id, role_id=ORG_READER),
    ):
        expect_insufficient(call, missing="api.groups.write")

    other_key = client.admin.organization.admin_api_keys.create(
        name=unique_name("users reader"), extra_body={"scopes": ["api.organization.users.read"]}
    )
    other = server.make_client(other_key.value)
    expect_insufficient(
        lambda: other.admin.organization.groups.list(),
        missing="api.groups.read",
    )
    assert client.admin.organization.groups.retrieve(group.id).name == group.name


# ---------------------------------------------------------------------------- audit events


def test_changes_write_audit_events(server: Server) -> None:
    boot = server.client
    key = boot.admin.organization.admin_api_keys.create(name=unique_name("group auditor"))
    c = server.make_client(key.value)
    user = add_member(boot)
    role = _org_role(boot)

    name = unique_name("audited group")
    group = c.admin.organization.groups.create(name=name)
    renamed = unique_name("renamed group")
    c.admin.organization.groups.update(group.id, name=renamed)
    c.admin.organization.groups.users.create(group.id, user_id=user.id)
    c.admin.organization.groups.users.create(group.id, user_id=user.id)  # no change, no event
    c.admin.organization.groups.roles.create(group.id, role_id=role.id)
    c.admin.organization.groups.roles.create(group.id, role_id=role.id)  # no change, no event
    c.admin.organization.groups.roles.delete(role.id, group_id=group.id)
    c.admin.organization.groups.users.delete(user.id, group_id=group.id)
    c.admin.organization.groups.roles.create(group.id, role_id=ORG_READER)
    c.admin.organization.groups.delete(group.id)

    events = [e.to_dict() for e in boot.admin.organization.audit_logs.list(actor_ids=[key.id], limit=100, extra_query=OLDEST_FIRST)]
    assert [e["type"] for e in events] == [
        "group.created",
        "group.updated",
        "group.updated",
        "role.assignment.created",
        "role.assignment.deleted",
        "group.updated",
        "role.assignment.created",
        "role.assignment.deleted",  # the group's roles go with it
        "group.deleted",
    ]
    assert all(e["actor"]["api_key"]["id"] == key.id for e in events)
    created, rename, added, assigned, unassigned, removed, assigned2, cascaded, deleted = events
    assert created["group.created"] == {"id": group.id, "data": {"group_name": name}}
    assert rename["group.updated"]["id"] == group.id
    assert rename["group.updated"]["changes_requested"]["group_name"] == renamed
    assert added["group.updated"]["changes_requested"]["users_added"] == [user.id]
    assert removed["group.updated"]["changes_requested"]["users_removed"] == [user.id]
    for ev, kind, rid in (
        (assigned, "role.assignment.created", role.id),
        (unassigned, "role.assignment.deleted", role.id),
        (assigned2, "role.assignment.created", ORG_READER),
        (cascaded, "role.assignment.deleted", ORG_READER),
    ):
        details = ev[kind]
        assert details["id"] == rid
        assert (details["principal_id"], details["principal_type"]) == (group.id, "group")
        assert details["resource_type"] == "api.organization"
    assert deleted["group.deleted"] == {"id": group.id}

    by_type = boot.admin.organization.audit_logs.list(actor_ids=[key.id], event_types=["group.updated"])
    assert [e.type for e in by_type.data] == ["group.updated"] * 3
    by_resource = boot.admin.organization.audit_logs.list(resource_ids=[group.id], limit=100, extra_query=OLDEST_FIRST)
    assert [e.type for e in by_resource.data] == [
        "group.created",
        "group.updated",
        "group.updated",
        "group.updated",
        "group.deleted",
    ]


# ---------------------------------------------------------------------------- the permissions extension


def _permissions(client: openai.OpenAI, user_id: str, project_id: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"security": {"admin_api_key_auth": True}}
    if project_id is not None:
        options["params"] = {"project_id": project_id}
    return client.get(f"/organization/users/{user_id}/permissions", cast_to=object, options=options)


def test_the_permissions_extension_names_roles_and_sources(client: openai.OpenAI) -> None:
    group = _group(client)
    user = add_member(client)
    via_group = _org_role(client, "api.organization.projects.write", "api.groups.read")
    direct = _org_role(client, "api.groups.write")
    client.admin.organization.groups.users.create(group.id, user_id=user.id)
    client.admin.organization.groups.roles.create(group.id, role_id=via_group.id)
    client.admin.organization.users.roles.create(user.id, role_id=direct.id)

    body = _permissions(client, user.id)
    assert body["object"] == "organization.user.permissions"
    assert body["user_id"] == user.id and body["project_id"] is None
    grants = {p["permission"]: p["granted_by"] for p in body["permissions"]}
    assert set(grants) == ORG_READER_PERMISSIONS | {"api.organization.projects.write", "api.groups.write"}

    def by_role(permission: str) -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
        return {
            g["role_id"]: (
                g["role_name"],
                g["resource_type"],
                [(s["principal_id"], s["principal_type"]) for s in g["assignment_sources"]],
            )
            for g in grants[permission]
        }

    assert by_role("api.organization.projects.write") == {
        via_group.id: (via_group.name, "api.organization", [(group.id, "group")])
    }
    assert by_role("api.groups.write") == {direct.id: (direct.name, "api.organization", [(user.id, "user")])}
    assert by_role("api.groups.read") == {
        ORG_READER: ("reader", "api.organization", [(user.id, "user")]),
        via_group.id: (via_group.name, "api.organization", [(group.id, "group")]),
    }

    client.admin.organization.groups.users.delete(user.id, group_id=group.id)
    after = _permissions(client, user.id)
    granted = {p["permission"] for p in after["permissions"]}
    assert "api.organization.projects.write" not in granted and "api.groups.write" in granted

    with pytest.raises(openai.NotFoundError) as info:
        _permissions(client, MISSING_USER)
    assert info.value.response.json()["error"]["param"] == "user_id"
    with pytest.raises(openai.NotFoundError) as info:
        _permissions(client, user.id, "proj_doesnotexist0000")
    assert info.value.response.json()["error"]["param"] == "project_id"
