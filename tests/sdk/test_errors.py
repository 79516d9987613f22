"""The error envelope of SPEC §4 across the seed routes: authentication, unknown routes and methods,
malformed and oversized bodies, and the promise that no input produces a 5xx."""

from __future__ import annotations

import json

import openai
import pytest

from _support import (
    Server,
    add_member,
    default_project_id,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    owner_user,
    unique_email,
    unique_name,
)

SEED_READS = [
    "/organization/users",
    "/organization/users/{user}",
    "/organization/users/{user}/roles",
    "/organization/users/{user}/roles/role-api-organization-owner",
    "/organization/projects/{project}/users",
    "/organization/projects/{project}/users/{user}",
    "/projects/{project}/users/{user}/roles",
    "/projects/{project}/users/{user}/roles/role-api-project-owner",
    "/organization/roles",
    "/projects/{project}/roles",
    "/organization/projects",
    "/organization/projects/{project}",
    "/organization/invites",
    "/organization/admin_api_keys",
    "/organization/audit_logs",
]


@pytest.fixture(scope="module")
def ids(server: Server) -> dict[str, str]:
    return {"user": owner_user(server.client).id, "project": default_project_id(server.client)}


# ---------------------------------------------------------------------------- authentication


@pytest.mark.parametrize("path", SEED_READS)
def test_no_authorization_header_is_401_missing_api_key(server: Server, ids: dict[str, str], path: str) -> None:
    resp = server.raw("GET", path.format(**ids), key=None)
    expect_raw_error(resp, status=401, code="missing_api_key", param=None)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer sk-admin-" + "x" * 40,  # unknown
        "Bearer sk-admin-short",  # malformed
        "Bearer sk-proj-" + "a" * 40,  # not an admin key
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "sk-admin-no-scheme",
    ],
)
def test_unknown_or_malformed_keys_are_401_invalid_api_key(server: Server, authorization: str) -> None:
    resp = server.raw("GET", "/organization/users", key=None, headers={"Authorization": authorization})
    if authorization == "Bearer ":
        # an empty bearer token may count as no key at all
        assert resp.status == 401, resp
        assert resp.json()["error"]["code"] in ("invalid_api_key", "missing_api_key"), resp
        return
    expect_raw_error(resp, status=401, code="invalid_api_key", param=None)


def test_sdk_raises_authentication_error_for_a_bad_key(server: Server) -> None:
    bad = server.make_client("sk-admin-" + "Z" * 40)
    err = expect_error(lambda: bad.admin.organization.users.list(), status=401, code="invalid_api_key", param=None)
    assert "sk-admin-" + "Z" * 40 not in err["message"]  # the key is never echoed


def test_auth_is_checked_on_writes_too(server: Server, ids: dict[str, str]) -> None:
    resp = server.raw("POST", "/organization/projects", json_body={"name": "nope"}, key=None)
    expect_raw_error(resp, status=401, code="missing_api_key", param=None)
    resp = server.raw("DELETE", f"/organization/users/{ids['user']}", key="sk-admin-" + "q" * 40)
    expect_raw_error(resp, status=401, code="invalid_api_key", param=None)
    assert server.client.admin.organization.users.retrieve(ids["user"]).role == "owner"


def test_a_key_whose_owner_lacks_a_permission_is_refused_as_the_real_api_refuses_it(fresh_server: Server) -> None:
    """The real API answers a missing permission with 401, type `invalid_request_error` and a null
    `code` (the SDK raises `AuthenticationError`), its message naming the missing scope. The
    bootstrap key's owner becomes a reader holding one custom role: what the role allows works,
    a write beyond it is refused, and the strictly validating client accepts the envelope."""
    client = fresh_server.client
    successor = add_member(client, role="owner")
    owner = owner_user(client)
    inviter = client.admin.organization.roles.create(
        role_name=unique_name("inviter"), permissions=["api.organization.invites.write"]
    )
    client.admin.organization.users.roles.create(owner.id, role_id=inviter.id)
    assert client.admin.organization.users.update(owner.id, role="reader").role == "reader"

    with pytest.raises(openai.AuthenticationError) as info:
        client.admin.organization.users.update(successor.id, role="reader")
    err = info.value
    assert err.status_code == 401, err.response.text
    assert "Missing scopes: api.organization.users.write." in err.message, err.message
    assert isinstance(err.body, dict) and err.body["code"] is None, err.body
    assert err.code is None and err.param is None and err.type == "invalid_request_error"
    assert client.admin.organization.users.retrieve(successor.id).role == "owner"

    # The same refusal through the shared check, for a project write and an admin-key read.
    expect_insufficient(
        lambda: client.admin.organization.projects.create(name=unique_name("refused")),
        missing="api.organization.projects.write",
        detail="",
    )
    expect_insufficient(
        lambda: client.admin.organization.admin_api_keys.list(),
        missing="api.organization.admin_api_keys.read",
        detail="",
    )
    # What the custom role allows, the key still does.
    assert client.admin.organization.invites.create(email=unique_email(), role="reader", projects=[]).role == "reader"
    # A key that is not accepted keeps its own code.
    expect_error(
        lambda: fresh_server.make_client("sk-admin-" + "Y" * 40).admin.organization.users.list(),
        status=401,
        code="invalid_api_key",
        param=None,
    )


# ---------------------------------------------------------------------------- 404 / 405


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/organization/users/user-nope000000000000", "user_id"),
        ("/organization/users/user-nope000000000000/roles", "user_id"),
        ("/organization/projects/proj_nope000000000000", "project_id"),
        ("/organization/projects/proj_nope000000000000/users", "project_id"),
        ("/projects/proj_nope000000000000/roles", "project_id"),
        ("/organization/roles/role_nope000000000000", "role_id"),
        ("/organization/invites/invite-nope000000000000", "invite_id"),
        ("/organization/admin_api_keys/key_nope000000000000", "key_id"),
    ],
)
def test_unknown_objects_are_404_naming_the_path_parameter(server: Server, path: str, param: str) -> None:
    expect_raw_error(server.raw("GET", path), status=404, code="not_found", param=param)


@pytest.mark.parametrize("path", ["/nope", "/organization/nope", "/organization/users/x/y/z/w", "//v2/organization/users"])
def test_unknown_routes_are_404(server: Server, path: str) -> None:
    expect_raw_error(server.raw("GET", path), status=404, code="not_found", param=None)


def test_sdk_raises_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.admin.organization.users.retrieve("user-nope000000000000")
    assert info.value.code == "not_found" and info.value.param == "user_id"
    assert info.value.request_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/organization/users"),
        ("PUT", "/organization/users/{user}"),
        ("PATCH", "/organization/users/{user}"),
        ("PUT", "/organization/users/{user}/roles"),
        ("POST", "/organization/users/{user}/roles/role-api-organization-owner"),
        ("DELETE", "/organization/projects"),
        ("DELETE", "/organization/projects/{project}"),
        ("GET", "/organization/projects/{project}/archive"),
        ("PUT", "/organization/projects/{project}/users"),
        ("PATCH", "/organization/projects/{project}/users/{user}"),
        ("DELETE", "/projects/{project}/users/{user}/roles"),
        ("POST", "/projects/{project}/users/{user}/roles/role-api-project-owner"),
        ("DELETE", "/organization/roles"),
        ("PUT", "/projects/{project}/roles"),
        ("DELETE", "/organization/invites"),
        ("POST", "/organization/invites/invite-x"),
        ("GET", "/organization/invites/invite-x/accept"),
        ("POST", "/organization/admin_api_keys/key_x"),
        ("POST", "/organization/audit_logs"),
    ],
)
def test_wrong_method_on_a_known_route_is_405(server: Server, ids: dict[str, str], method: str, path: str) -> None:
    resp = server.raw(method, path.format(**ids))
    expect_raw_error(resp, status=405, code="method_not_allowed", param=None)


def test_sdk_raises_api_status_error_for_405(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.put("/organization/users", cast_to=object, options={"security": {"admin_api_key_auth": True}})
    assert info.value.status_code == 405
    assert info.value.response.json()["error"]["code"] == "method_not_allowed"


# ---------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/organization/projects", b'{"name": "unterminated'),
        ("/organization/projects", b"not json at all"),
        ("/organization/roles", b'{"role_name": "x", "permissions": [}'),
        ("/organization/invites", b"{'email': 'single@quotes'}"),
        ("/organization/users/{user}", b'{"role": "owner",}'),
        ("/organization/projects/{project}/users", b"\xff\xfe"),
    ],
)
def test_malformed_json_is_400_invalid_value(server: Server, ids: dict[str, str], path: str, body: bytes) -> None:
    resp = server.raw("POST", path.format(**ids), body=body)
    expect_raw_error(resp, status=400, code="invalid_value")


@pytest.mark.parametrize("body", [b"[]", b'"a string"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_400(server: Server, body: bytes) -> None:
    resp = server.raw("POST", "/organization/projects", body=body)
    assert resp.status == 400, resp
    assert resp.json()["error"]["code"] in ("invalid_value", "missing_required_parameter"), resp


def test_a_body_over_one_mebibyte_is_413(server: Server) -> None:
    padding = "x" * (1024 * 1024)
    body = json.dumps({"name": "too big", "padding": padding}).encode()
    assert len(body) > 1024 * 1024
    resp = server.raw("POST", "/organization/projects", body=body)
    expect_raw_error(resp, status=413, code="request_too_large", param=None)
    names = [p.name for p in server.client.admin.organization.projects.list(limit=100, include_archived=True)]
    assert "too big" not in names


def test_sdk_raises_api_status_error_for_413(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.admin.organization.projects.create(name="too big via sdk", extra_body={"padding": "y" * (1 << 20)})
    assert info.value.status_code == 413
    assert info.value.response.json()["error"]["code"] == "request_too_large"
    assert info.value.response.headers.get("x-request-id")


def test_a_large_body_under_the_limit_is_accepted(server: Server) -> None:
    name = unique_name("big but fine")
    body = json.dumps({"name": name, "padding": "z" * 1_000_000}).encode()
    assert len(body) < 1024 * 1024
    resp = server.raw("POST", "/organization/projects", body=body)
    assert resp.status == 200, resp
    assert resp.json()["name"] == name


def test_unknown_body_fields_and_query_parameters_are_ignored(server: Server) -> None:
    client = server.client
    p = client.admin.organization.projects.create(name=unique_name("extra"), extra_body={"colour": "blue", "n": [1]})
    assert p.name.startswith("extra")
    page = client.admin.organization.users.list(extra_query={"flavour": "vanilla", "limit": 2})
    assert len(page.data) <= 2
    resp = server.raw("GET", "/organization/projects?unknown=1&also[]=2&limit=1")
    assert resp.status == 200 and len(resp.json()["data"]) == 1, resp


def test_wrong_types_name_the_field(server: Server, ids: dict[str, str]) -> None:
    cases = [
        ("POST", "/organization/projects", {"name": ["a"]}, "name"),
        ("POST", "/organization/roles", {"role_name": 3, "permissions": []}, "role_name"),
        ("POST", "/organization/invites", {"email": None, "role": "reader"}, "email"),
        ("POST", f"/organization/projects/{ids['project']}/users", {"user_id": ids["user"], "role": 1}, "role"),
        ("POST", "/organization/admin_api_keys", {"name": {"a": 1}}, "name"),
    ]
    for method, path, body, param in cases:
        resp = server.raw(method, path, json_body=body)
        assert resp.status == 400, (path, resp)
        err = resp.json()["error"]
        assert err["param"] == param, (path, resp)
        assert err["code"] in ("invalid_value", "missing_required_parameter"), (path, resp)
        assert err["type"] == "invalid_request_error", (path, resp)


@pytest.mark.parametrize(
    "query",
    ["limit=abc", "limit=1.5", "limit=99999999999999999999999", "limit=-0x10"],
)
def test_bad_limit_values_are_400(server: Server, query: str) -> None:
    expect_raw_error(server.raw("GET", f"/organization/users?{query}"), status=400, code="invalid_value", param="limit")


# ---------------------------------------------------------------------------- request ids & no 5xx


def test_every_response_has_a_request_id(server: Server) -> None:
    for resp in (
        server.raw("GET", "/organization/users"),
        server.raw("GET", "/organization/users", key=None),
        server.raw("GET", "/nope"),
        server.raw("DELETE", "/organization/users"),
        server.raw("POST", "/organization/projects", body=b"{"),
        server.raw("GET", "//healthz"),
    ):
        assert resp.header("x-request-id"), resp
    a = server.raw("GET", "/organization/users").header("x-request-id")
    b = server.raw("GET", "/organization/users").header("x-request-id")
    assert a != b


def test_sdk_exposes_the_request_id(client: openai.OpenAI) -> None:
    raw = client.admin.organization.projects.with_raw_response.list()
    assert raw.headers.get("x-request-id")
    assert raw.request_id == raw.headers.get("x-request-id")


WEIRD_IDS = [
    "x" * 5000,
    "%00",
    "%2F",
    "..%2F..%2Fetc%2Fpasswd",
    "user-%F0%9F%92%A5",
    "'; DROP TABLE users; --",
    "%FF%FE",
    "role-api-project-owner__api-project__",
    "role-api-project-owner__api-project__proj_nope",
]


@pytest.mark.parametrize("weird", WEIRD_IDS)
def test_odd_path_parameters_never_cause_a_5xx(server: Server, ids: dict[str, str], weird: str) -> None:
    from urllib.parse import quote

    w = quote(weird, safe="%") if "%" not in weird else weird
    paths = [
        ("GET", f"/organization/users/{w}"),
        ("POST", f"/organization/users/{w}"),
        ("DELETE", f"/organization/users/{w}/roles/{w}"),
        ("GET", f"/organization/projects/{w}/users/{w}"),
        ("POST", f"/projects/{ids['project']}/users/{ids['user']}/roles"),
        ("GET", f"/projects/{ids['project']}/users/{ids['user']}/roles/{w}"),
        ("GET", f"/projects/{ids['project']}/roles/{w}"),
        ("GET", f"/organization/users?after={w}&emails={w}"),
        ("GET", f"/organization/audit_logs?after={w}&before={w}&resource_ids[]={w}"),
        ("GET", f"/organization/roles?after={w}"),
    ]
    for method, path in paths:
        body = {"role_id": weird} if method == "POST" else None
        resp = server.raw(method, path, json_body=body)
        assert resp.status < 500, (method, path, resp)
        if resp.status >= 400:
            assert isinstance(resp.json().get("error"), dict), (method, path, resp)
