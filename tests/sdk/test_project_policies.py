"""What a project may use, through the official SDK's own methods:
`client.admin.organization.projects.model_permissions` (retrieve, update, delete),
`…projects.hosted_tool_permissions` (retrieve, update) and `…projects.rate_limits`
(list_rate_limits, update_rate_limit). Model permissions and rate limits are round-tripped, the
audit events read back in their official shapes, and bad input refused in the envelope.

The SDK's `ProjectModelPermissions` reads the wire field `model_ids` as `api_model_ids` (pydantic
reserves names starting with `model_`); the request keeps `model_ids`."""

from __future__ import annotations

import openai

from _support import Server, default_project_id, expect_error, expect_insufficient, unique_name

TOOLS = ("file_search", "web_search", "image_generation", "mcp", "code_interpreter")


def _project(client: openai.OpenAI) -> str:
    return client.admin.organization.projects.create(name=unique_name("policies")).id


def _tools(client: openai.OpenAI, project: str) -> dict[str, bool]:
    got = client.admin.organization.projects.hosted_tool_permissions.retrieve(project)
    return {tool: getattr(got, tool).enabled for tool in TOOLS}


def _rate_limits(client: openai.OpenAI, project: str, **params: object) -> list:
    return list(client.admin.organization.projects.rate_limits.list_rate_limits(project, **params))


def _details(client: openai.OpenAI, kind: str, resource: str) -> list[dict]:
    events = client.admin.organization.audit_logs.list(event_types=[kind], resource_ids=[resource])
    out = []
    for event in events:
        assert event.type == kind
        data = event.to_dict()
        out.append(data[kind])
    return out


def test_model_permissions_round_trip_and_delete_back_to_nothing_denied(server: Server) -> None:
    client = server.client
    perms = client.admin.organization.projects.model_permissions
    pid = _project(client)
    fresh = perms.retrieve(pid)
    assert (fresh.object, fresh.mode, fresh.api_model_ids) == ("project.model_permissions", "deny_list", [])

    raw = perms.with_raw_response.update(pid, mode="allow_list", model_ids=["gpt-4.1", "o3", "gpt-4.1"])
    assert raw.headers.get("x-request-id")
    set_ = raw.parse()
    assert (set_.mode, set_.api_model_ids) == ("allow_list", ["gpt-4.1", "o3"])
    got = perms.retrieve(pid)
    assert (got.object, got.mode, got.api_model_ids) == ("project.model_permissions", "allow_list", ["gpt-4.1", "o3"])

    denied = perms.update(pid, mode="deny_list", model_ids=["o3"])
    assert (denied.mode, denied.api_model_ids) == ("deny_list", ["o3"])

    deleted = perms.delete(pid)
    assert (deleted.object, deleted.deleted) == ("project.model_permissions.deleted", True)
    assert perms.retrieve(pid).api_model_ids == []
    assert perms.delete(pid).deleted is True

    assert _details(client, "project.updated", pid) == [
        {"id": pid, "changes_requested": {"model_permissions": None}},
        {"id": pid, "changes_requested": {"model_permissions": {"mode": "deny_list", "model_ids": ["o3"]}}},
        {"id": pid, "changes_requested": {"model_permissions": {"mode": "allow_list", "model_ids": ["gpt-4.1", "o3"]}}},
    ]

    expect_error(lambda: perms.update(pid, mode="allow_list", model_ids=["gpt-9", "o3"]),
                 status=400, code="invalid_value", param="model_ids", message_contains="'gpt-9'")
    expect_error(lambda: perms.update(pid, mode="block_list", model_ids=[]),  # type: ignore[arg-type]
                 status=400, code="invalid_value", param="mode")
    expect_error(lambda: perms.retrieve("proj_doesnotexist"), status=404, code="not_found", param="project_id")


def test_hosted_tools_change_only_what_is_named(server: Server) -> None:
    client = server.client
    tools = client.admin.organization.projects.hosted_tool_permissions
    pid = _project(client)
    assert _tools(client, pid) == {tool: True for tool in TOOLS}

    changed = tools.update(pid, image_generation={"enabled": False}, web_search={"enabled": False}, mcp=None)
    expected = {tool: tool not in ("image_generation", "web_search") for tool in TOOLS}
    assert {tool: getattr(changed, tool).enabled for tool in TOOLS} == expected
    assert _tools(client, pid) == expected
    tools.update(pid, web_search={"enabled": True})
    expected["web_search"] = True
    assert _tools(client, pid) == expected

    assert _details(client, "project.updated", pid) == [
        {"id": pid, "changes_requested": {"hosted_tool_permissions": {"web_search": {"enabled": True}}}},
        {"id": pid, "changes_requested": {"hosted_tool_permissions": {
            "web_search": {"enabled": False}, "image_generation": {"enabled": False}}}},
    ]
    expect_error(lambda: tools.update(pid, extra_body={"browser": {"enabled": True}}),
                 status=400, code="invalid_value", param="browser")
    expect_error(lambda: tools.update(pid, mcp={}),  # type: ignore[typeddict-item]
                 status=400, code="missing_required_parameter", param="mcp.enabled")


def test_rate_limits_round_trip_within_the_organizations_limits(server: Server) -> None:
    client = server.client
    limits = client.admin.organization.projects.rate_limits
    pid = _project(client)
    listed = _rate_limits(client, pid)
    assert listed, "the catalogue has models"
    ids = [r.id for r in listed]
    assert all(i == f"rl-{r.model}" for i, r in zip(ids, listed))
    assert all(r.object == "project.rate_limit" for r in listed)
    # The SDK's auto-pagination walks small pages to the same list.
    assert [r.id for r in _rate_limits(client, pid, limit=4)] == ids
    page = limits.list_rate_limits(pid, limit=3, after=ids[2])
    assert [r.id for r in page.data] == ids[3:6] and page.has_more is True
    back = limits.list_rate_limits(pid, limit=3, before=ids[3])
    assert [r.id for r in back.data] == ids[:3] and back.has_more is False

    gpt4o = next(r for r in listed if r.model == "gpt-4o")
    assert gpt4o.max_images_per_1_minute is None
    image = next(r for r in listed if r.model == "gpt-image-1")
    assert image.max_images_per_1_minute and image.max_images_per_1_minute > 0

    updated = limits.update_rate_limit("rl-gpt-4o", project_id=pid, max_requests_per_1_minute=500)
    assert (updated.id, updated.model, updated.max_requests_per_1_minute) == ("rl-gpt-4o", "gpt-4o", 500)
    assert updated.max_tokens_per_1_minute == gpt4o.max_tokens_per_1_minute
    again = limits.update_rate_limit("rl-gpt-4o", project_id=pid, max_tokens_per_1_minute=1000)
    assert (again.max_requests_per_1_minute, again.max_tokens_per_1_minute) == (500, 1000)
    assert next(r for r in _rate_limits(client, pid) if r.id == "rl-gpt-4o").to_dict() == again.to_dict()

    assert _details(client, "rate_limit.updated", "rl-gpt-4o")[:2] == [
        {"id": "rl-gpt-4o", "changes_requested": {"max_tokens_per_1_minute": 1000}},
        {"id": "rl-gpt-4o", "changes_requested": {"max_requests_per_1_minute": 500}},
    ]
    event = next(iter(client.admin.organization.audit_logs.list(event_types=["rate_limit.updated"], limit=1)))
    assert event.project is not None and event.project.id == pid

    expect_error(lambda: limits.update_rate_limit("rl-gpt-4o", project_id=pid,
                                                   max_requests_per_1_minute=gpt4o.max_requests_per_1_minute + 1),
                 status=400, code="invalid_value", param="max_requests_per_1_minute")
    expect_error(lambda: limits.update_rate_limit("rl-gpt-4o", project_id=pid, max_images_per_1_minute=1),
                 status=400, code="invalid_value", param="max_images_per_1_minute")
    expect_error(lambda: limits.update_rate_limit("rl-gpt-4o", project_id=pid),
                 status=400, code="missing_required_parameter", param="max_requests_per_1_minute")
    expect_error(lambda: limits.update_rate_limit("rl-nothing", project_id=pid, max_requests_per_1_minute=1),
                 status=404, code="not_found", param="rate_limit_id")
    expect_error(lambda: limits.list_rate_limits(pid, after="rl-nothing"),
                 status=400, code="invalid_value", param="after")


def test_archived_projects_keep_policies_readable_and_refuse_changes(server: Server) -> None:
    client = server.client
    projects = client.admin.organization.projects
    pid = _project(client)
    projects.model_permissions.update(pid, mode="allow_list", model_ids=["o3"])
    projects.archive(pid)
    assert projects.model_permissions.retrieve(pid).api_model_ids == ["o3"]
    assert _rate_limits(client, pid)
    for change in (
        lambda: projects.model_permissions.update(pid, mode="deny_list", model_ids=[]),
        lambda: projects.model_permissions.delete(pid),
        lambda: projects.hosted_tool_permissions.update(pid, mcp={"enabled": False}),
        lambda: projects.rate_limits.update_rate_limit("rl-o3", project_id=pid, max_requests_per_1_minute=1),
    ):
        expect_error(change, status=409, code="project_archived", param="project_id")


def test_a_project_reader_key_reads_and_is_refused_changes_naming_the_missing_scope(server: Server) -> None:
    client = server.client
    pid = default_project_id(client)
    key = client.admin.organization.admin_api_keys.create(
        name=unique_name("project reader"), extra_body={"scopes": ["api.project.read"]}
    )
    reader = server.make_client(key.value)
    projects = reader.admin.organization.projects
    assert projects.model_permissions.retrieve(pid).object == "project.model_permissions"
    assert _tools(reader, pid)
    assert _rate_limits(reader, pid)
    expect_insufficient(lambda: projects.model_permissions.update(pid, mode="deny_list", model_ids=["o3"]),
                        missing="api.organization.projects.write", detail="")
    expect_insufficient(lambda: projects.rate_limits.update_rate_limit(
        "rl-o3", project_id=pid, max_requests_per_1_minute=1), missing="api.organization.projects.write", detail="")
    client.admin.organization.admin_api_keys.delete(key.id)
