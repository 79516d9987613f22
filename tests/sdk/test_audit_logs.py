"""Audit logs: `GET /organization/audit_logs`, its filters and its pagination.

One server for the module: a fixture performs one of every change through a dedicated admin key,
then the tests read the log back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterator

import openai
import pytest

from _support import (
    OWNER_EMAIL,
    Server,
    accept_invite,
    expect_error,
    expect_raw_error,
    owner_user,
    unique_email,
    unique_name,
)


@dataclass
class History:
    server: Server
    client: openai.OpenAI  # acts with `key_id`
    key_id: str
    owner_id: str
    invite_id: str
    user_id: str
    deleted_invite_id: str
    project_id: str
    other_project_id: str
    role_id: str
    doomed_key_id: str


@pytest.fixture(scope="module")
def history(module_server: Server) -> Iterator[History]:
    boot = module_server.client
    owner = owner_user(boot)
    key = boot.admin.organization.admin_api_keys.create(name="auditor")
    c = module_server.make_client(key.value)

    invite = c.admin.organization.invites.create(email=unique_email("audited"), role="reader", projects=[])
    user = accept_invite(c, invite.id, "Audited Person")
    c.admin.organization.users.update(user.id, role="owner")
    dropped = c.admin.organization.invites.create(email=unique_email("dropped"), role="reader", projects=[])
    c.admin.organization.invites.delete(dropped.id)

    project = c.admin.organization.projects.create(name=unique_name("audited project"))
    other = c.admin.organization.projects.create(name=unique_name("other project"))
    c.admin.organization.projects.update(project.id, name=unique_name("renamed project"))
    c.admin.organization.projects.archive(project.id)

    role = c.admin.organization.roles.create(role_name=unique_name("audited role"), permissions=["api.groups.read"])
    c.admin.organization.roles.update(role.id, permissions=["api.groups.read", "api.groups.write"])
    c.admin.organization.users.roles.create(user.id, role_id=role.id)
    c.admin.organization.users.roles.delete(role.id, user_id=user.id)
    c.admin.organization.roles.delete(role.id)

    doomed = c.admin.organization.admin_api_keys.create(name="doomed")
    c.admin.organization.admin_api_keys.delete(doomed.id)
    c.admin.organization.users.delete(user.id)

    yield History(
        server=module_server,
        client=boot,
        key_id=key.id,
        owner_id=owner.id,
        invite_id=invite.id,
        user_id=user.id,
        deleted_invite_id=dropped.id,
        project_id=project.id,
        other_project_id=other.id,
        role_id=role.id,
        doomed_key_id=doomed.id,
    )


def _events(client: openai.OpenAI, **params: Any) -> list[dict[str, Any]]:
    return [e.to_dict() for e in client.admin.organization.audit_logs.list(limit=100, **params)]


def _mine(h: History, **params: Any) -> list[dict[str, Any]]:
    return _events(h.client, actor_ids=[h.key_id], **params)


EXPECTED = [
    ("invite.sent", "invite_id"),
    ("invite.accepted", "invite_id"),
    ("user.added", "user_id"),
    ("user.updated", "user_id"),
    ("invite.deleted", "deleted_invite_id"),
    ("project.created", "project_id"),
    ("project.updated", "project_id"),
    ("project.archived", "project_id"),
    ("role.created", "role_id"),
    ("role.updated", "role_id"),
    ("role.deleted", "role_id"),
    ("api_key.created", "doomed_key_id"),
    ("api_key.deleted", "doomed_key_id"),
    ("user.deleted", "user_id"),
]


@pytest.mark.parametrize(("event_type", "attr"), EXPECTED, ids=[e for e, _ in EXPECTED])
def test_every_change_writes_an_event(history: History, event_type: str, attr: str) -> None:
    target = getattr(history, attr)
    events = _mine(history, event_types=[event_type])
    assert events, f"no {event_type} event"
    assert all(e["type"] == event_type for e in events), events
    matching = [e for e in events if (e.get(event_type) or {}).get("id") == target]
    assert len(matching) == 1, events
    ev = matching[0]
    assert ev["id"].startswith("audit_log-")
    assert isinstance(ev["effective_at"], int)
    # and the event is found by its resource
    assert ev["id"] in [e["id"] for e in _events(history.client, resource_ids=[target])]


def test_invite_sent_carries_the_payload(history: History) -> None:
    ev = [e for e in _mine(history, event_types=["invite.sent"]) if e["invite.sent"]["id"] == history.invite_id][0]
    data = ev["invite.sent"].get("data") or {}
    assert data.get("email", "").startswith("audited-") and data.get("role") == "reader"


@pytest.mark.parametrize("event_type", ["role.assignment.created", "role.assignment.deleted"])
def test_role_assignments_write_events(history: History, event_type: str) -> None:
    events = [e for e in _mine(history, event_types=[event_type]) if e[event_type].get("principal_id") == history.user_id]
    assert len(events) == 1, events
    assert events[0][event_type].get("principal_type") == "user"


def test_the_actor_is_the_admin_key_and_its_owner(history: History) -> None:
    events = _mine(history)
    assert len(events) >= len(EXPECTED) + 2
    for ev in events:
        actor = ev["actor"]
        assert actor["type"] == "api_key", ev
        assert actor["api_key"]["id"] == history.key_id, ev
        assert actor["api_key"]["type"] == "user", ev
        assert actor["api_key"]["user"]["id"] == history.owner_id, ev
        assert actor["api_key"]["user"]["email"] == OWNER_EMAIL, ev


def test_actor_filters(history: History) -> None:
    mine = {e["id"] for e in _mine(history)}
    by_user = {e["id"] for e in _events(history.client, actor_ids=[history.owner_id])}
    assert mine <= by_user
    by_email = {e["id"] for e in _events(history.client, actor_emails=[OWNER_EMAIL])}
    assert mine <= by_email
    by_email_upper = {e["id"] for e in _events(history.client, actor_emails=[OWNER_EMAIL.upper()])}
    assert by_email_upper == by_email
    assert _events(history.client, actor_emails=[unique_email("nobody")]) == []
    assert _events(history.client, actor_ids=["key_doesnotexist0000"]) == []


def test_event_types_filter_accepts_several_types(history: History) -> None:
    events = _mine(history, event_types=["project.created", "project.archived"])
    assert sorted(e["type"] for e in events) == ["project.archived", "project.created", "project.created"]


def test_event_types_in_the_plain_query_forms(history: History) -> None:
    s = history.server
    one = s.raw("GET", f"/organization/audit_logs?limit=100&actor_ids={history.key_id}&event_types=project.created")
    assert one.status == 200, one
    assert sorted(e["type"] for e in one.json()["data"]) == ["project.created", "project.created"]
    two = s.raw(
        "GET",
        f"/organization/audit_logs?limit=100&actor_ids={history.key_id}"
        "&event_types=project.created&event_types=role.created",
    )
    assert two.status == 200, two
    assert sorted(e["type"] for e in two.json()["data"]) == ["project.created", "project.created", "role.created"]
    brackets = s.raw(
        "GET",
        f"/organization/audit_logs?limit=100&actor_ids%5B%5D={history.key_id}"
        "&event_types%5B%5D=project.created&event_types%5B%5D=role.created",
    )
    assert [e["id"] for e in brackets.json()["data"]] == [e["id"] for e in two.json()["data"]], brackets


def test_unknown_event_type_is_refused(history: History) -> None:
    resp = history.server.raw("GET", "/organization/audit_logs?event_types[]=user.teleported")
    expect_raw_error(resp, status=400, code="invalid_value", param="event_types")


def _about(events: list[dict[str, Any]], project_id: str) -> list[str]:
    """Types of the `project.*` events about `project_id`."""
    return sorted(
        e["type"] for e in events if e["type"].startswith("project.") and (e.get(e["type"]) or {}).get("id") == project_id
    )


def test_resource_and_project_filters(history: History) -> None:
    events = _events(history.client, resource_ids=[history.project_id])
    assert _about(events, history.project_id) == ["project.archived", "project.created", "project.updated"], events
    assert _about(events, history.other_project_id) == [], events
    both = _events(history.client, resource_ids=[history.project_id, history.other_project_id])
    assert _about(both, history.project_id) == ["project.archived", "project.created", "project.updated"], both
    assert _about(both, history.other_project_id) == ["project.created"], both
    by_project = _events(history.client, project_ids=[history.project_id])
    assert _about(by_project, history.project_id) == ["project.archived", "project.created", "project.updated"]
    assert _about(by_project, history.other_project_id) == [], by_project
    assert _events(history.client, resource_ids=["proj_doesnotexist000000"]) == []


def test_effective_at_filters(history: History) -> None:
    ev = [e for e in _mine(history, event_types=["project.archived"])][0]
    t = ev["effective_at"]
    ids = lambda **kw: {e["id"] for e in _mine(history, effective_at=kw)}  # noqa: E731
    assert ev["id"] in ids(gte=t)
    assert ev["id"] in ids(lte=t)
    assert ev["id"] in ids(gte=t, lte=t)
    assert ev["id"] not in ids(gt=t)
    assert ev["id"] not in ids(lt=t)
    assert all(e["effective_at"] > t for e in _mine(history, effective_at={"gt": t}))
    assert all(e["effective_at"] < t for e in _mine(history, effective_at={"lt": t}))
    assert _mine(history, effective_at={"gt": t + 10_000_000}) == []
    raw = history.server.raw("GET", f"/organization/audit_logs?effective_at[gte]={t}&effective_at[lte]={t}&limit=100")
    assert raw.status == 200 and ev["id"] in [e["id"] for e in raw.json()["data"]], raw
    bad = history.server.raw("GET", "/organization/audit_logs?effective_at[gt]=yesterday")
    assert bad.status == 400 and bad.json()["error"]["code"] == "invalid_value", bad
    assert bad.json()["error"]["param"] in ("effective_at", "effective_at[gt]", "effective_at.gt"), bad


def test_newest_first_and_pagination(history: History) -> None:
    c = history.client
    everything = [e.id for e in c.admin.organization.audit_logs.list(limit=3)]  # auto-paging
    assert len(everything) == len(set(everything)) >= len(EXPECTED)
    assert everything == sorted(everything, reverse=True), "newest first"
    full = c.admin.organization.audit_logs.list(limit=100)
    assert not full.has_more
    assert [e.id for e in full.data] == everything
    times = [e.effective_at for e in full.data]
    assert times == sorted(times, reverse=True)
    # The newest event is the fixture's last change.
    assert full.data[0].type == "user.deleted"
    mine = [e["id"] for e in _mine(history)]
    assert [i for i in everything if i in set(mine)] == mine

    # `after` continues to older events.
    k = len(everything) // 2
    after = c.admin.organization.audit_logs.list(limit=3, after=everything[k])
    assert [e.id for e in after.data] == everything[k + 1 : k + 4]
    assert after.first_id == everything[k + 1] and after.last_id == everything[k + 3]
    assert after.has_more is (k + 4 < len(everything))
    tail = c.admin.organization.audit_logs.list(limit=2, after=everything[-3])
    assert [e.id for e in tail.data] == everything[-2:] and tail.has_more is False
    exact = c.admin.organization.audit_logs.list(limit=len(everything))
    assert exact.has_more is False
    short = c.admin.organization.audit_logs.list(limit=len(everything) - 1)
    assert short.has_more is True


def test_before_returns_the_newer_events_just_before_the_cursor(history: History) -> None:
    c = history.client
    everything = [e.id for e in c.admin.organization.audit_logs.list(limit=100).data]
    k = len(everything) // 2
    before = c.admin.organization.audit_logs.list(limit=2, before=everything[k])
    assert [e.id for e in before.data] == everything[k - 2 : k], "the two events newer than it, newest first"
    assert before.first_id == everything[k - 2] and before.last_id == everything[k - 1]
    assert before.has_more is True
    at_start = c.admin.organization.audit_logs.list(limit=2, before=everything[2])
    assert [e.id for e in at_start.data] == everything[:2] and at_start.has_more is False
    newest = c.admin.organization.audit_logs.list(limit=2, before=everything[0])
    assert newest.data == [] and newest.has_more is False


def test_order_asc_lists_oldest_first_with_both_cursors(history: History) -> None:
    s = history.server
    everything = [e.id for e in history.client.admin.organization.audit_logs.list(limit=100).data]
    oldest_first = list(reversed(everything))

    def asc(query: str) -> dict[str, Any]:
        resp = s.raw("GET", f"/organization/audit_logs?order=asc&{query}")
        assert resp.status == 200, resp
        body: dict[str, Any] = resp.json()
        return body

    assert [e["id"] for e in asc("limit=100")["data"]] == oldest_first
    via_sdk = history.client.admin.organization.audit_logs.list(limit=100, extra_query={"order": "asc"})
    assert [e.id for e in via_sdk.data] == oldest_first
    k = len(oldest_first) // 2
    after = asc(f"limit=3&after={oldest_first[k]}")
    assert [e["id"] for e in after["data"]] == oldest_first[k + 1 : k + 4]
    before = asc(f"limit=3&before={oldest_first[k]}")
    assert [e["id"] for e in before["data"]] == oldest_first[k - 3 : k] and before["has_more"] is True
    last = asc(f"limit=3&after={oldest_first[-4]}")
    assert [e["id"] for e in last["data"]] == oldest_first[-3:] and last["has_more"] is False
    desc = s.raw("GET", "/organization/audit_logs?order=desc&limit=100")
    assert [e["id"] for e in desc.json()["data"]] == everything
    bad = s.raw("GET", "/organization/audit_logs?order=sideways")
    expect_raw_error(bad, status=400, code="invalid_value", param="order")


def test_a_walk_while_events_are_written_sees_every_older_event_once(fresh_server: Server) -> None:
    c = fresh_server.client
    for n in range(10):
        c.admin.organization.projects.create(name=unique_name(f"before walk {n}"))
    before_walk = {e.id for e in c.admin.organization.audit_logs.list(limit=100).data}
    stop = threading.Event()
    errors: list[BaseException] = []

    w = fresh_server.make_client(fresh_server.admin_key)

    def write() -> None:
        try:
            n = 0
            while not stop.is_set() and n < 200:
                w.admin.organization.projects.create(name=unique_name(f"during walk {n}"))
                n += 1
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        walks = []
        for _ in range(3):
            # Auto-paging from the newest event towards the oldest, 2 at a time, while the writer writes.
            walks.append([e.id for e in c.admin.organization.audit_logs.list(limit=2)])
    finally:
        stop.set()
        writer.join()
    assert errors == []
    log = [e.id for e in c.admin.organization.audit_logs.list(limit=100)]
    assert log == sorted(log, reverse=True)
    for walk in walks:
        assert len(walk) == len(set(walk)), "no event twice"
        assert before_walk <= set(walk), "every event older than the walk's start is seen"
        start = log.index(walk[0])
        assert walk == log[start:], "nothing skipped, nothing behind the cursor"


def test_tenant_only_false_is_accepted(history: History) -> None:
    a = [e.id for e in history.client.admin.organization.audit_logs.list(limit=100, tenant_only=False).data]
    b = [e.id for e in history.client.admin.organization.audit_logs.list(limit=100).data]
    assert a == b


def test_limit_bounds(history: History) -> None:
    for bad in (0, 101):
        expect_error(
            lambda: history.client.admin.organization.audit_logs.list(limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    assert len(history.client.admin.organization.audit_logs.list(limit=1).data) == 1
