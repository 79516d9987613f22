"""A full pagination walk over organization users on a server of its own: order, no repeats, exact
`has_more`, `first_id`/`last_id`, limits, and a cursor whose object was deleted."""

from __future__ import annotations

from typing import Iterator

import openai
import pytest

from _support import OWNER_EMAIL, Server, add_member, expect_error, owner_user

MEMBERS = 45


@pytest.fixture(scope="module")
def ordered_ids(module_server: Server) -> Iterator[list[str]]:
    """The owner, then 45 members in the order they joined."""
    client = module_server.client
    owner = owner_user(client)
    ids = [owner.id]
    for i in range(MEMBERS):
        ids.append(add_member(client, f"page-{i:02d}@example.com", name=f"Page {i:02d}").id)
    yield ids


def test_auto_paging_walks_every_user_once_in_order(module_client: openai.OpenAI, ordered_ids: list[str]) -> None:
    seen = [u.id for u in module_client.admin.organization.users.list(limit=7)]
    assert len(seen) == len(set(seen)) == MEMBERS + 1
    assert seen == ordered_ids  # oldest first


def test_manual_walk_with_after(module_client: openai.OpenAI, ordered_ids: list[str]) -> None:
    pages: list[list[str]] = []
    after = None
    while True:
        kwargs = {"after": after} if after else {}
        raw = module_client.admin.organization.users.with_raw_response.list(limit=7, **kwargs)
        assert raw.headers.get("x-request-id")
        body = raw.http_response.json()
        page = raw.parse()
        ids = [u.id for u in page.data]
        pages.append(ids)
        assert body["object"] == "list"
        assert body["first_id"] == ids[0] and body["last_id"] == ids[-1]
        expect_more = sum(map(len, pages)) < len(ordered_ids)
        assert body["has_more"] is expect_more, (len(pages), body["has_more"])
        if not body["has_more"]:
            break
        after = body["last_id"]
    assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 7, 4]
    assert sum(pages, []) == ordered_ids


def test_has_more_is_exact_when_the_last_page_is_full(module_client: openai.OpenAI, ordered_ids: list[str]) -> None:
    half = len(ordered_ids) // 2  # 46 users: two pages of 23
    first = module_client.admin.organization.users.list(limit=half)
    assert [u.id for u in first.data] == ordered_ids[:half] and first.has_more is True
    second = module_client.admin.organization.users.list(limit=half, after=first.last_id)
    assert [u.id for u in second.data] == ordered_ids[half:]
    assert second.has_more is False
    empty = module_client.admin.organization.users.list(limit=half, after=ordered_ids[-1])
    assert empty.data == [] and empty.has_more is False


def test_default_and_maximum_limits(module_client: openai.OpenAI, ordered_ids: list[str]) -> None:
    default = module_client.admin.organization.users.list()
    assert [u.id for u in default.data] == ordered_ids[:20] and default.has_more is True
    everything = module_client.admin.organization.users.list(limit=100)
    assert [u.id for u in everything.data] == ordered_ids and everything.has_more is False
    one = module_client.admin.organization.users.list(limit=1, after=ordered_ids[10])
    assert [u.id for u in one.data] == [ordered_ids[11]] and one.has_more is True
    assert one.first_id == one.last_id == ordered_ids[11]


@pytest.mark.parametrize("bad", [0, 101, -1, 1000])
def test_limits_out_of_range_are_refused(module_client: openai.OpenAI, ordered_ids: list[str], bad: int) -> None:
    expect_error(
        lambda: module_client.admin.organization.users.list(limit=bad), status=400, code="invalid_value", param="limit"
    )


def test_emails_filter_with_pagination(module_server: Server, ordered_ids: list[str]) -> None:
    client = module_server.client
    emails = [f"page-{i:02d}@example.com" for i in (3, 4, 5, 40)]
    got = [u.id for u in client.admin.organization.users.list(emails=emails, limit=3)]
    assert got == [ordered_ids[i + 1] for i in (3, 4, 5, 40)]
    plain = "&".join(f"emails={e.upper()}" for e in emails)
    resp = module_server.raw("GET", f"/organization/users?{plain}&limit=3")
    body = resp.json()
    assert [u["id"] for u in body["data"]] == [ordered_ids[i + 1] for i in (3, 4, 5)] and body["has_more"] is True, resp
    resp = module_server.raw("GET", f"/organization/users?{plain}&limit=3&after={body['last_id']}")
    assert [u["id"] for u in resp.json()["data"]] == [ordered_ids[41]] and resp.json()["has_more"] is False, resp
    owner = client.admin.organization.users.list(emails=[OWNER_EMAIL]).data
    assert [u.id for u in owner] == [ordered_ids[0]]


def test_iteration_survives_changes_including_the_cursor_object(
    module_client: openai.OpenAI, ordered_ids: list[str]
) -> None:
    # runs last in this module: it deletes users
    first = module_client.admin.organization.users.list(limit=5)
    assert [u.id for u in first.data] == ordered_ids[:5]
    cursor = first.last_id
    assert cursor == ordered_ids[4]
    module_client.admin.organization.users.delete(cursor)  # the object the cursor names
    module_client.admin.organization.users.delete(ordered_ids[2])  # one already seen
    newcomer = add_member(module_client, "page-late@example.com")  # one added meanwhile
    rest = [u.id for u in module_client.admin.organization.users.list(limit=5, after=cursor)]
    assert rest[: len(ordered_ids) - 5] == ordered_ids[5:]  # nothing that existed throughout is skipped
    assert rest[len(ordered_ids) - 5 :] == [newcomer.id]
    assert len(rest) == len(set(rest))
