"""Projects: `GET/POST /organization/projects`, `GET/POST /organization/projects/{project_id}`,
`POST /organization/projects/{project_id}/archive`."""

from __future__ import annotations

import time

import openai

from _support import (
    DEFAULT_PROJECT_NAME,
    OWNER_EMAIL,
    Server,
    default_project_id,
    expect_error,
    expect_raw_error,
    owner_user,
    unique_name,
)


def test_the_default_project_exists_with_the_owner_as_owner(client: openai.OpenAI) -> None:
    pid = default_project_id(client)
    project = client.admin.organization.projects.retrieve(pid)
    assert project.id.startswith("proj_")
    assert project.object == "organization.project"
    assert project.name == DEFAULT_PROJECT_NAME
    assert project.status == "active" and project.archived_at is None
    owner = owner_user(client)
    member = client.admin.organization.projects.users.retrieve(owner.id, project_id=pid)
    assert member.role == "owner" and member.email == OWNER_EMAIL


def test_create_and_retrieve(client: openai.OpenAI) -> None:
    name = unique_name("Project")
    before = int(time.time())
    raw = client.admin.organization.projects.with_raw_response.create(name=name)
    assert raw.headers.get("x-request-id")
    created = raw.parse()
    assert created.id.startswith("proj_")
    assert created.object == "organization.project"
    assert created.name == name
    assert created.status == "active" and created.archived_at is None
    assert before - 5 <= created.created_at <= int(time.time()) + 5
    got = client.admin.organization.projects.retrieve(created.id)
    assert (got.id, got.name, got.created_at, got.status) == (created.id, name, created.created_at, "active")


def test_create_accepts_every_sdk_parameter(client: openai.OpenAI) -> None:
    # `residency` is in the spec; `geography` is an SDK-only parameter the server must tolerate.
    p = client.admin.organization.projects.create(name=unique_name("resident"), residency="GLOBAL", geography="US")
    assert p.name.startswith("resident")
    assert p.residency in (None, "GLOBAL")


def test_every_sdk_parameter_of_create_and_update_is_accepted(client: openai.OpenAI) -> None:
    # `external_key_id` is in the spec's request bodies; the server may store it or ignore it,
    # but an SDK request carrying it must not be refused.
    p = client.admin.organization.projects.create(name=unique_name("ek"), external_key_id="ek_test_123")
    assert p.external_key_id in (None, "ek_test_123")
    u = client.admin.organization.projects.update(p.id, external_key_id="ek_test_456", geography="EU")
    assert u.id == p.id and u.external_key_id in (None, "ek_test_456")
    assert u.name == p.name


def test_create_requires_a_name(server: Server) -> None:
    resp = server.raw("POST", "/organization/projects", json_body={})
    expect_raw_error(resp, status=400, code="missing_required_parameter", param="name")
    resp = server.raw("POST", "/organization/projects", json_body={"name": 5})
    expect_raw_error(resp, status=400, code="invalid_value", param="name")


def test_update_renames(client: openai.OpenAI) -> None:
    p = client.admin.organization.projects.create(name=unique_name("before"))
    new = unique_name("after")
    raw = client.admin.organization.projects.with_raw_response.update(p.id, name=new)
    assert raw.headers.get("x-request-id")
    updated = raw.parse()
    assert updated.id == p.id and updated.name == new and updated.status == "active"
    assert client.admin.organization.projects.retrieve(p.id).name == new
    # absent fields leave the project unchanged
    same = client.admin.organization.projects.update(p.id)
    assert same.name == new


def test_archive(client: openai.OpenAI) -> None:
    p = client.admin.organization.projects.create(name=unique_name("archive me"))
    raw = client.admin.organization.projects.with_raw_response.archive(p.id)
    assert raw.headers.get("x-request-id")
    archived = raw.parse()
    assert archived.id == p.id
    assert archived.status == "archived"
    assert isinstance(archived.archived_at, int) and archived.archived_at >= p.created_at
    got = client.admin.organization.projects.retrieve(p.id)
    assert got.status == "archived" and got.archived_at == archived.archived_at


def test_list_hides_archived_projects_unless_asked(client: openai.OpenAI) -> None:
    keep = client.admin.organization.projects.create(name=unique_name("keep"))
    gone = client.admin.organization.projects.create(name=unique_name("gone"))
    client.admin.organization.projects.archive(gone.id)
    default_ids = [p.id for p in client.admin.organization.projects.list(limit=100)]
    assert keep.id in default_ids and gone.id not in default_ids
    explicit_false = [p.id for p in client.admin.organization.projects.list(limit=100, include_archived=False)]
    assert explicit_false == default_ids
    all_ids = [p.id for p in client.admin.organization.projects.list(limit=100, include_archived=True)]
    assert keep.id in all_ids and gone.id in all_ids
    assert all_ids.index(keep.id) < all_ids.index(gone.id)  # oldest first


def test_list_envelope_and_pagination(client: openai.OpenAI) -> None:
    created = [client.admin.organization.projects.create(name=unique_name("page")).id for _ in range(5)]
    all_ids = [p.id for p in client.admin.organization.projects.list(limit=100, include_archived=True)]
    assert all_ids[-5:] == created  # oldest first, newest last
    assert len(set(all_ids)) == len(all_ids)
    walked = [p.id for p in client.admin.organization.projects.list(limit=2, include_archived=True)]
    assert walked == all_ids
    raw = client.admin.organization.projects.with_raw_response.list(limit=2, after=created[1], include_archived=True)
    body = raw.http_response.json()
    assert body["object"] == "list"
    assert [p["id"] for p in body["data"]] == created[2:4]
    assert body["first_id"] == created[2] and body["last_id"] == created[3]
    assert body["has_more"] is True
    last = client.admin.organization.projects.list(limit=2, after=created[3], include_archived=True)
    assert [p.id for p in last.data] == created[4:] and last.has_more is False


def test_list_limit_bounds(server: Server) -> None:
    client = server.client
    assert len(client.admin.organization.projects.list(limit=1).data) == 1
    client.admin.organization.projects.list(limit=100)
    for bad in (0, 101, -1):
        expect_error(
            lambda: client.admin.organization.projects.list(limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    expect_raw_error(
        server.raw("GET", "/organization/projects?limit=many"), status=400, code="invalid_value", param="limit"
    )
    expect_raw_error(
        server.raw("GET", "/organization/projects?include_archived=perhaps"),
        status=400,
        code="invalid_value",
        param="include_archived",
    )


def test_unknown_project_is_404(client: openai.OpenAI) -> None:
    pid = "proj_doesnotexist000000"
    for call in (
        lambda: client.admin.organization.projects.retrieve(pid),
        lambda: client.admin.organization.projects.update(pid, name="x"),
        lambda: client.admin.organization.projects.archive(pid),
    ):
        expect_error(call, status=404, code="not_found", param="project_id")
