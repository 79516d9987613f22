"""Admin API keys: `GET/POST /organization/admin_api_keys`, `GET/DELETE /organization/admin_api_keys/{key_id}`,
and the `scopes` extension."""

from __future__ import annotations

import time

import openai

from _support import (
    Server,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    owner_user,
    unique_name,
)


def test_first_start_creates_one_key_owned_by_the_owner(fresh_server: Server) -> None:
    client = fresh_server.client
    owner = owner_user(client)
    raw = client.admin.organization.admin_api_keys.with_raw_response.list()
    assert fresh_server.admin_key not in raw.http_response.text
    keys = raw.parse().data
    assert len(keys) == 1
    assert keys[0].owner.id == owner.id and keys[0].owner.type == "user"
    assert keys[0].id.startswith("key_") and keys[0].redacted_value
    assert fresh_server.admin_key not in fresh_server.output()  # SPEC §5: the key never appears in logs


def test_create_shows_the_secret_once(server: Server) -> None:
    client = server.client
    owner = owner_user(client)
    name = unique_name("ci key")
    before = int(time.time())
    raw = client.admin.organization.admin_api_keys.with_raw_response.create(name=name)
    assert raw.headers.get("x-request-id")
    key = raw.parse()
    assert key.object == "organization.admin_api_key"
    assert key.id.startswith("key_")
    assert key.name == name
    assert key.value.startswith("sk-admin-") and len(key.value) > len("sk-admin-") + 16
    assert key.redacted_value and key.value not in key.redacted_value
    assert key.redacted_value.startswith("sk-admin")
    assert before - 5 <= key.created_at <= int(time.time()) + 5
    assert key.expires_at is None
    assert key.owner.id == owner.id
    assert key.owner.type == "user" and key.owner.object == "organization.user" and key.owner.role == "owner"

    got = client.admin.organization.admin_api_keys.with_raw_response.retrieve(key.id)
    body = got.http_response.json()
    assert "value" not in body
    assert body["redacted_value"] == key.redacted_value
    assert body["id"] == key.id and body["name"] == name and body["owner"]["id"] == owner.id
    assert key.value not in got.http_response.text

    listed = client.admin.organization.admin_api_keys.with_raw_response.list(limit=100)
    assert key.value not in listed.http_response.text
    assert all("value" not in k for k in listed.http_response.json()["data"])
    assert key.id in [k.id for k in listed.parse().data]


def test_a_new_key_works(server: Server) -> None:
    key = server.client.admin.organization.admin_api_keys.create(name=unique_name("works"))
    other = server.make_client(key.value)
    assert owner_user(other).email == owner_user(server.client).email


def test_expires_in_seconds_sets_expires_at(client: openai.OpenAI) -> None:
    key = client.admin.organization.admin_api_keys.create(name=unique_name("expiring"), expires_in_seconds=3600)
    assert key.expires_at is not None and abs(key.expires_at - key.created_at - 3600) <= 1
    assert client.admin.organization.admin_api_keys.retrieve(key.id).expires_at == key.expires_at


def test_an_expired_key_is_refused(server: Server) -> None:
    key = server.client.admin.organization.admin_api_keys.create(name=unique_name("short"), expires_in_seconds=1)
    time.sleep(2.1)
    c = server.make_client(key.value)
    expect_error(lambda: c.admin.organization.users.list(), status=401, code="invalid_api_key", param=None)


def test_expires_in_seconds_is_validated(server: Server) -> None:
    client = server.client
    for bad in (0, -5, 31536001):
        expect_error(
            lambda: client.admin.organization.admin_api_keys.create(name="bad", expires_in_seconds=bad),
            status=400,
            code="invalid_value",
            param="expires_in_seconds",
        )
    expect_raw_error(
        server.raw("POST", "/organization/admin_api_keys", json_body={}),
        status=400,
        code="missing_required_parameter",
        param="name",
    )
    expect_raw_error(
        server.raw("POST", "/organization/admin_api_keys", json_body={"name": "x", "expires_in_seconds": "soon"}),
        status=400,
        code="invalid_value",
        param="expires_in_seconds",
    )


def test_delete_revokes_the_key(server: Server) -> None:
    client = server.client
    key = client.admin.organization.admin_api_keys.create(name=unique_name("revoke"))
    c = server.make_client(key.value)
    c.admin.organization.users.list()
    raw = client.admin.organization.admin_api_keys.with_raw_response.delete(key.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "organization.admin_api_key.deleted" and deleted.id == key.id and deleted.deleted is True
    expect_error(lambda: c.admin.organization.users.list(), status=401, code="invalid_api_key", param=None)
    expect_error(
        lambda: client.admin.organization.admin_api_keys.retrieve(key.id), status=404, code="not_found", param="key_id"
    )
    expect_error(
        lambda: client.admin.organization.admin_api_keys.delete(key.id), status=404, code="not_found", param="key_id"
    )
    assert key.id not in [k.id for k in client.admin.organization.admin_api_keys.list(limit=100)]


def test_unknown_key_is_404(client: openai.OpenAI) -> None:
    for call in (
        lambda: client.admin.organization.admin_api_keys.retrieve("key_doesnotexist0000"),
        lambda: client.admin.organization.admin_api_keys.delete("key_doesnotexist0000"),
    ):
        expect_error(call, status=404, code="not_found", param="key_id")


def test_list_paginates_and_orders(client: openai.OpenAI) -> None:
    made = [client.admin.organization.admin_api_keys.create(name=unique_name("page")).id for _ in range(4)]
    asc = [k.id for k in client.admin.organization.admin_api_keys.list(limit=100).data]
    assert asc[-4:] == made  # ascending creation order by default
    assert [k.id for k in client.admin.organization.admin_api_keys.list(order="asc", limit=100).data] == asc
    assert [k.id for k in client.admin.organization.admin_api_keys.list(limit=3)] == asc  # SDK pages on the last id
    desc = [k.id for k in client.admin.organization.admin_api_keys.list(order="desc", limit=100).data]
    assert desc == list(reversed(asc))
    assert [k.id for k in client.admin.organization.admin_api_keys.list(order="desc", limit=3)] == desc
    page = client.admin.organization.admin_api_keys.list(limit=2, after=made[0])
    assert [k.id for k in page.data] == made[1:3] and page.has_more is True
    raw = client.admin.organization.admin_api_keys.with_raw_response.list(limit=2, after=made[0]).http_response.json()
    assert raw["object"] == "list" and raw["first_id"] == made[1] and raw["last_id"] == made[2]
    end = client.admin.organization.admin_api_keys.list(limit=2, after=made[2])
    assert [k.id for k in end.data] == made[3:] and end.has_more is False


def test_list_limit_bounds(server: Server) -> None:
    # SPEC §4 puts admin keys among the `next` lists: limit 0-1000 (see the report).
    client = server.client
    assert client.admin.organization.admin_api_keys.list(limit=0).data == []
    client.admin.organization.admin_api_keys.list(limit=1000)
    for bad in (-1, 1001):
        expect_error(
            lambda: client.admin.organization.admin_api_keys.list(limit=bad),
            status=400,
            code="invalid_value",
            param="limit",
        )
    expect_raw_error(
        server.raw("GET", "/organization/admin_api_keys?order=newest"), status=400, code="invalid_value", param="order"
    )


# ---------------------------------------------------------------------------- scopes extension


def test_a_scoped_key_may_only_do_what_its_scopes_allow(server: Server) -> None:
    client = server.client
    key = client.admin.organization.admin_api_keys.create(
        name=unique_name("scoped"), extra_body={"scopes": ["api.organization.users.read"]}
    )
    scoped = server.make_client(key.value)
    owner = owner_user(scoped)
    scoped.admin.organization.users.retrieve(owner.id)
    expect_insufficient(
        lambda: scoped.admin.organization.projects.list(),
        missing="api.organization.projects.read",
    )
    expect_insufficient(
        lambda: scoped.admin.organization.users.update(owner.id, technical_level="x"),
        missing="api.organization.users.write",
    )
    expect_insufficient(
        lambda: scoped.admin.organization.admin_api_keys.create(name="escalate"),
        missing="api.organization.admin_api_keys.write",
    )
    expect_insufficient(
        lambda: scoped.admin.organization.invites.create(email="x@example.com", role="owner", projects=[]),
        missing="api.organization.invites.write",
    )


def test_a_write_scope_allows_writes(server: Server) -> None:
    key = server.client.admin.organization.admin_api_keys.create(
        name=unique_name("writer"),
        extra_body={"scopes": ["api.organization.projects.read", "api.organization.projects.write"]},
    )
    c = server.make_client(key.value)
    p = c.admin.organization.projects.create(name=unique_name("by scoped key"))
    assert c.admin.organization.projects.retrieve(p.id).id == p.id
    expect_insufficient(
        lambda: c.admin.organization.users.list(),
        missing="api.organization.users.read",
    )


def test_unknown_scopes_are_refused(client: openai.OpenAI) -> None:
    for scopes in (["api.nonsense"], "api.organization.read"):
        expect_error(
            lambda: client.admin.organization.admin_api_keys.create(name="bad scopes", extra_body={"scopes": scopes}),
            status=400,
            code="invalid_value",
            param="scopes",
        )
