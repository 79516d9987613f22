"""Every audit event type the server writes is one of the official `AuditLogEventType` values,
with the official detail shape where the spec has one.

The event types the server can write are read from its source (`mod kind` in
`crates/core/src/audit.rs`), so a new kind without a scenario here fails this test rather than
going unchecked. One change of every kind is made through the SDK, and the whole log is read back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openai
import yaml

from _support import REPO, Server, _openapi_path, accept_invite, unique_email, unique_name


def _written_kinds() -> set[str]:
    source = (REPO / "crates" / "core" / "src" / "audit.rs").read_text()
    module = source[source.index("pub mod kind {") :]
    module = module[: module.index("\n}\n")]
    kinds = set(re.findall(r'pub const \w+: &str = "([a-z_.]+)";', module))
    assert kinds, "no event kinds found in crates/core/src/audit.rs"
    return kinds


def _spec() -> dict[str, Any]:
    return yaml.safe_load(Path(_openapi_path()).read_text())


def _one_of_every_change(c: openai.OpenAI) -> None:
    invite = c.admin.organization.invites.create(email=unique_email("typed"), role="reader", projects=[])
    user = accept_invite(c, invite.id, "Typed Person")
    c.admin.organization.users.update(user.id, role="owner")
    dropped = c.admin.organization.invites.create(email=unique_email("dropped"), role="reader", projects=[])
    c.admin.organization.invites.delete(dropped.id)

    project = c.admin.organization.projects.create(name=unique_name("typed project"))
    c.admin.organization.projects.update(project.id, name=unique_name("renamed"))
    c.admin.organization.projects.users.create(project.id, user_id=user.id, role="member")
    c.admin.organization.projects.users.update(user.id, project_id=project.id, role="owner")
    c.admin.organization.projects.users.delete(user.id, project_id=project.id)
    account = c.admin.organization.projects.service_accounts.create(project.id, name="typed account")
    c.admin.organization.projects.service_accounts.update(account.id, project_id=project.id, name="renamed account")
    c.admin.organization.projects.service_accounts.delete(account.id, project_id=project.id)

    role = c.admin.organization.roles.create(role_name=unique_name("typed role"), permissions=["api.groups.read"])
    c.admin.organization.roles.update(role.id, permissions=["api.groups.read", "api.groups.write"])
    c.admin.organization.users.roles.create(user.id, role_id=role.id)
    c.admin.organization.users.roles.delete(role.id, user_id=user.id)

    group = c.admin.organization.groups.create(name=unique_name("typed group"))
    c.admin.organization.groups.update(group.id, name=unique_name("renamed group"))
    c.admin.organization.groups.users.create(group.id, user_id=user.id)
    c.admin.organization.groups.users.delete(user.id, group_id=group.id)
    c.admin.organization.groups.roles.create(group.id, role_id=role.id)
    c.admin.organization.groups.roles.delete(role.id, group_id=group.id)
    c.admin.organization.projects.groups.create(project.id, group_id=group.id, role="member")
    c.admin.organization.projects.groups.delete(group.id, project_id=project.id)
    c.admin.organization.groups.delete(group.id)
    c.admin.organization.roles.delete(role.id)

    c.admin.organization.projects.users.create(project.id, user_id=user.id, role="member")
    member_key = c.post(
        f"/organization/projects/{project.id}/api_keys",
        body={"name": "typed member key", "user_id": user.id, "scopes": ["api.model.request"]},
        cast_to=dict,
        options={"security": {"admin_api_key_auth": True}},
    )
    c.admin.organization.projects.api_keys.update(
        member_key["id"], project_id=project.id, scopes=["api.model.request", "api.files.read"], expires_in_seconds=3600
    )
    c.admin.organization.projects.api_keys.delete(member_key["id"], project_id=project.id)
    c.admin.organization.projects.model_permissions.update(project.id, mode="allow_list", model_ids=["o3"])
    c.admin.organization.projects.model_permissions.delete(project.id)
    c.admin.organization.projects.hosted_tool_permissions.update(project.id, mcp={"enabled": False})
    c.admin.organization.projects.rate_limits.update_rate_limit(
        "rl-o3", project_id=project.id, max_requests_per_1_minute=100, max_tokens_per_1_minute=1000
    )
    c.admin.organization.projects.archive(project.id)
    key = c.admin.organization.admin_api_keys.create(name="typed key")
    c.admin.organization.admin_api_keys.delete(key.id)
    c.admin.organization.users.delete(user.id)


# Changes the official detail has no field for, recorded as orgadmin's own fields inside
# `changes_requested` (README, "The audit log"); nothing else may be added.
EXTENSIONS = {
    "group.updated.changes_requested.users_added",
    "group.updated.changes_requested.users_removed",
    "group.updated.changes_requested.projects_added",
    "group.updated.changes_requested.projects_removed",
    "service_account.updated.changes_requested.name",
    "api_key.updated.changes_requested.expires_at",
    # What a project may use, changed on its own routes.
    "project.updated.changes_requested.model_permissions",
    "project.updated.changes_requested.hosted_tool_permissions",
}


def _unknown_fields(detail: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Fields of `detail` that the spec's detail schema does not name (one level of nesting)."""
    if not isinstance(detail, dict) or "properties" not in schema:
        return []
    out = []
    for name, value in detail.items():
        sub = schema["properties"].get(name)
        if sub is None:
            out.append(f"{where}.{name}")
        elif isinstance(value, dict) and sub.get("type") == "object" and "properties" in sub:
            out.extend(_unknown_fields(value, sub, f"{where}.{name}"))
    return out


def test_every_event_type_written_is_official_with_the_official_detail_shape(server: Server) -> None:
    spec = _spec()
    official = set(spec["components"]["schemas"]["AuditLogEventType"]["enum"])
    details = spec["components"]["schemas"]["AuditLog"]["properties"]
    kinds = _written_kinds()
    assert kinds <= official, f"kinds outside the official enum: {sorted(kinds - official)}"

    _one_of_every_change(server.client)
    events = [e.to_dict() for e in server.client.admin.organization.audit_logs.list(limit=100)]
    seen = {e["type"] for e in events}
    assert seen <= official, f"written types outside the official enum: {sorted(seen - official)}"
    assert kinds <= seen, f"kinds no change here wrote (add one to the scenario): {sorted(kinds - seen)}"

    problems = []
    for event in events:
        kind = event["type"]
        detail = event.get(kind)
        assert isinstance(detail, dict), f"{kind} has no detail object: {event}"
        others = [k for k in event if k in details and k not in ("id", "type", "effective_at", "project", "actor") and k != kind]
        assert not others, f"{kind} carries the details of {others}: {event}"
        if kind in details:
            problems += _unknown_fields(detail, details[kind], kind)
    unknown = set(problems) - EXTENSIONS
    assert not unknown, f"detail fields the spec does not name: {sorted(unknown)}"
