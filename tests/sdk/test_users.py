"""Organization users: `GET /organization/users`, `GET/POST/DELETE /organization/users/{user_id}`."""

from __future__ import annotations

import threading
import time

import openai
from openai.types.admin.organization import OrganizationUser

from _support import (
    ORG_OWNER,
    ORG_READER,
    OWNER_EMAIL,
    PROJ_MEMBER,
    Server,
    add_member,
    expect_error,
    expect_insufficient,
    expect_raw_error,
    owner_user,
    unique_email,
    unique_name,
)


# ---------------------------------------------------------------------------- bootstrap


def test_first_start_creates_the_owner(client: openai.OpenAI) -> None:
    owner = owner_user(client)
    assert owner.object == "organization.user"
    assert owner.id.startswith("user-")
    assert owner.email == OWNER_EMAIL
    assert owner.role == "owner"
    again = client.admin.organization.users.retrieve(owner.id)
    assert again.id == owner.id and again.email == OWNER_EMAIL and again.role == "owner"


def test_list_has_the_documented_envelope(client: openai.OpenAI) -> None:
    raw = client.admin.organization.users.with_raw_response.list()
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list"
    assert isinstance(body["data"], list) and body["data"]
    assert body["first_id"] == body["data"][0]["id"]
    assert body["last_id"] == body["data"][-1]["id"]
    assert isinstance(body["has_more"], bool)


# ---------------------------------------------------------------------------- retrieve


def test_retrieve_returns_the_member(client: openai.OpenAI) -> None:
    email = unique_email("retrieve")
    before = int(time.time())
    user = add_member(client, email, name="Ada Lovelace")
    got = client.admin.organization.users.retrieve(user.id)
    assert got.id == user.id
    assert got.id.startswith("user-")
    assert got.email == email
    assert got.name == "Ada Lovelace"
    assert got.role == "reader"
    assert before - 5 <= got.added_at <= int(time.time()) + 5


def test_retrieve_has_a_request_id(client: openai.OpenAI) -> None:
    user = add_member(client)
    raw = client.admin.organization.users.with_raw_response.retrieve(user.id)
    assert raw.headers.get("x-request-id")
    assert raw.parse().id == user.id


def test_retrieve_unknown_user_is_404(client: openai.OpenAI) -> None:
    expect_error(
        lambda: client.admin.organization.users.retrieve("user-doesnotexist000000"),
        status=404,
        code="not_found",
        param="user_id",
    )


# ---------------------------------------------------------------------------- update


def test_update_role_promotes_and_demotes(client: openai.OpenAI) -> None:
    user = add_member(client)
    up = client.admin.organization.users.update(user.id, role="owner")
    assert up.id == user.id and up.role == "owner"
    assert client.admin.organization.users.retrieve(user.id).role == "owner"
    down = client.admin.organization.users.update(user.id, role="reader")
    assert down.role == "reader"
    assert client.admin.organization.users.retrieve(user.id).role == "reader"


def test_update_role_id_naming_a_predefined_role_changes_the_base_role(client: openai.OpenAI) -> None:
    user = add_member(client)
    assert client.admin.organization.users.update(user.id, role_id=ORG_OWNER).role == "owner"
    assert client.admin.organization.users.retrieve(user.id).role == "owner"
    assert client.admin.organization.users.update(user.id, role_id=ORG_READER).role == "reader"
    assert client.admin.organization.users.retrieve(user.id).role == "reader"


def test_update_role_id_naming_a_custom_role_assigns_it(client: openai.OpenAI) -> None:
    user = add_member(client)
    role = client.admin.organization.roles.create(
        role_name=unique_name("custom"), permissions=["api.organization.users.read"]
    )
    updated = client.admin.organization.users.update(user.id, role_id=role.id)
    assert updated.role == "reader"  # base role unchanged
    ids = [r.id for r in client.admin.organization.users.roles.list(user.id)]
    assert role.id in ids and ORG_READER in ids


def test_update_with_agreeing_role_and_role_id_is_accepted(client: openai.OpenAI) -> None:
    user = add_member(client)
    assert client.admin.organization.users.update(user.id, role="owner", role_id=ORG_OWNER).role == "owner"


def test_update_with_disagreeing_role_and_role_id_is_refused(client: openai.OpenAI) -> None:
    user = add_member(client)
    expect_error(
        lambda: client.admin.organization.users.update(user.id, role="owner", role_id=ORG_READER),
        status=400,
        code="invalid_value",
        param=("role", "role_id"),
    )
    assert client.admin.organization.users.retrieve(user.id).role == "reader"


def test_update_with_unknown_role_is_refused(client: openai.OpenAI) -> None:
    user = add_member(client)
    expect_error(
        lambda: client.admin.organization.users.update(user.id, role="admin"),
        status=400,
        code="invalid_value",
        param="role",
    )


def test_update_with_a_project_role_id_is_refused(client: openai.OpenAI) -> None:
    user = add_member(client)
    expect_error(
        lambda: client.admin.organization.users.update(user.id, role_id=PROJ_MEMBER),
        status=400,
        code="invalid_value",
        param="role_id",
    )


def test_update_with_wrong_type_is_refused(server: Server) -> None:
    user = add_member(server.client)
    resp = server.raw("POST", f"/organization/users/{user.id}", json_body={"role": 42})
    expect_raw_error(resp, status=400, code="invalid_value", param="role")


def test_update_metadata_and_absent_fields_are_unchanged(client: openai.OpenAI) -> None:
    user = add_member(client)
    a = client.admin.organization.users.update(user.id, developer_persona="backend", technical_level="expert")
    assert a.developer_persona == "backend" and a.technical_level == "expert" and a.role == "reader"
    b = client.admin.organization.users.update(user.id, technical_level="beginner")
    assert b.technical_level == "beginner"
    assert b.developer_persona == "backend"
    assert b.role == "reader"
    got = client.admin.organization.users.retrieve(user.id)
    assert (got.developer_persona, got.technical_level, got.role) == ("backend", "beginner", "reader")


def test_update_unknown_user_is_404(client: openai.OpenAI) -> None:
    expect_error(
        lambda: client.admin.organization.users.update("user-doesnotexist000000", role="reader"),
        status=404,
        code="not_found",
        param="user_id",
    )


# ---------------------------------------------------------------------------- delete


def test_delete_removes_the_member(client: openai.OpenAI) -> None:
    email = unique_email("delete")
    user = add_member(client, email)
    raw = client.admin.organization.users.with_raw_response.delete(user.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "organization.user.deleted"
    assert deleted.id == user.id
    assert deleted.deleted is True
    expect_error(
        lambda: client.admin.organization.users.retrieve(user.id), status=404, code="not_found", param="user_id"
    )
    assert client.admin.organization.users.list(emails=[email]).data == []
    expect_error(
        lambda: client.admin.organization.users.delete(user.id), status=404, code="not_found", param="user_id"
    )


def test_delete_removes_the_user_from_every_project_and_role(client: openai.OpenAI) -> None:
    project = client.admin.organization.projects.create(name=unique_name("proj"))
    user = add_member(client, projects=[{"id": project.id, "role": "member"}])
    assert client.admin.organization.projects.users.retrieve(user.id, project_id=project.id).role == "member"
    role = client.admin.organization.roles.create(
        role_name=unique_name("delrole"), permissions=["api.organization.read"]
    )
    client.admin.organization.users.roles.create(user.id, role_id=role.id)

    client.admin.organization.users.delete(user.id)

    assert user.id not in [u.id for u in client.admin.organization.projects.users.list(project.id, limit=100)]
    expect_error(
        lambda: client.admin.organization.projects.users.retrieve(user.id, project_id=project.id),
        status=404,
        code="not_found",
        param="user_id",
    )
    expect_error(
        lambda: client.admin.organization.users.roles.list(user.id), status=404, code="not_found", param="user_id"
    )


def test_a_deleted_member_can_be_invited_again(client: openai.OpenAI) -> None:
    email = unique_email("again")
    user = add_member(client, email)
    client.admin.organization.users.delete(user.id)
    again = add_member(client, email)
    assert again.email == email
    assert [u.email for u in client.admin.organization.users.list(emails=[email])] == [email]


# ---------------------------------------------------------------------------- emails filter


def test_emails_filter_as_the_sdk_sends_it(client: openai.OpenAI) -> None:
    a, b, c = (add_member(client, unique_email(p)) for p in ("fa", "fb", "fc"))
    got = client.admin.organization.users.list(emails=[a.email, c.email])
    assert [u.id for u in got.data] == [a.id, c.id]
    assert got.has_more is False
    single = client.admin.organization.users.list(emails=[b.email])
    assert [u.id for u in single.data] == [b.id]


def test_emails_filter_in_the_plain_repeated_form(server: Server) -> None:
    a, b, c = (add_member(server.client, unique_email(p)) for p in ("pa", "pb", "pc"))
    resp = server.raw("GET", f"/organization/users?emails={a.email}&emails={c.email}")
    assert resp.status == 200, resp
    assert [u["id"] for u in resp.json()["data"]] == [a.id, c.id]
    assert resp.json()["has_more"] is False


def test_emails_filter_in_the_single_plain_form(server: Server) -> None:
    a = add_member(server.client, unique_email("single"))
    add_member(server.client, unique_email("other"))
    resp = server.raw("GET", f"/organization/users?emails={a.email}")
    assert resp.status == 200, resp
    body = resp.json()
    assert [u["id"] for u in body["data"]] == [a.id]
    assert body["first_id"] == a.id and body["last_id"] == a.id and body["has_more"] is False


def test_emails_filter_with_percent_encoded_brackets(server: Server) -> None:
    a = add_member(server.client, unique_email("enc"))
    b = add_member(server.client, unique_email("enc"))
    resp = server.raw("GET", f"/organization/users?emails%5B%5D={a.email}&emails%5B%5D={b.email}")
    assert resp.status == 200, resp
    assert [u["id"] for u in resp.json()["data"]] == [a.id, b.id]
    resp = server.raw("GET", f"/organization/users?emails[]={a.email}")
    assert resp.status == 200, resp
    assert [u["id"] for u in resp.json()["data"]] == [a.id]


def test_emails_filter_ignores_case(server: Server) -> None:
    client = server.client
    email = unique_email("MixedCase")  # stored with capitals
    user = add_member(client, email)
    assert [u.id for u in client.admin.organization.users.list(emails=[email.lower()])] == [user.id]
    assert [u.id for u in client.admin.organization.users.list(emails=[email.upper()])] == [user.id]
    resp = server.raw("GET", f"/organization/users?emails={email.upper()}")
    assert [u["id"] for u in resp.json()["data"]] == [user.id], resp
    owner = client.admin.organization.users.list(emails=["OWNER@EXAMPLE.COM"]).data
    assert [u.email for u in owner] == [OWNER_EMAIL]


def test_emails_filter_without_matches_is_an_empty_page(server: Server) -> None:
    page = server.client.admin.organization.users.list(emails=[unique_email("nobody")])
    assert page.data == [] and page.has_more is False
    body = server.raw("GET", f"/organization/users?emails={unique_email('nobody')}").json()
    assert body["data"] == [] and body["has_more"] is False
    assert body.get("first_id") is None and body.get("last_id") is None


def test_emails_filter_paginates(client: openai.OpenAI) -> None:
    users = [add_member(client, unique_email("fpage")) for _ in range(3)]
    emails = [u.email for u in users]
    first = client.admin.organization.users.list(emails=emails, limit=2)
    assert [u.id for u in first.data] == [users[0].id, users[1].id]
    assert first.has_more is True
    second = client.admin.organization.users.list(emails=emails, limit=2, after=first.last_id)
    assert [u.id for u in second.data] == [users[2].id]
    assert second.has_more is False
    assert [u.id for u in client.admin.organization.users.list(emails=emails, limit=1)] == [u.id for u in users]


# ---------------------------------------------------------------------------- last owner & keys (isolated)


def test_demoting_or_deleting_the_last_owner_is_refused(fresh_client: openai.OpenAI) -> None:
    client = fresh_client
    owner = owner_user(client)
    for call in (
        lambda: client.admin.organization.users.update(owner.id, role="reader"),
        lambda: client.admin.organization.users.update(owner.id, role_id=ORG_READER),
        lambda: client.admin.organization.users.roles.create(owner.id, role_id=ORG_READER),
    ):
        expect_error(call, status=409, code="last_owner", param=(None, "role", "role_id", "user_id"))
    expect_error(
        lambda: client.admin.organization.users.delete(owner.id),
        status=409,
        code="last_owner",
        param=(None, "user_id"),
    )
    assert client.admin.organization.users.retrieve(owner.id).role == "owner"


def test_an_owner_can_be_demoted_while_another_owner_remains(fresh_client: openai.OpenAI) -> None:
    client = fresh_client
    second = add_member(client, role="owner")
    assert second.role == "owner"
    assert client.admin.organization.users.update(second.id, role="reader").role == "reader"
    expect_error(
        lambda: client.admin.organization.users.delete(owner_user(client).id),
        status=409,
        code="last_owner",
        param=(None, "user_id"),
    )


def test_demoting_a_key_owner_narrows_their_keys_at_once(fresh_server: Server) -> None:
    client = fresh_server.client
    extra = client.admin.organization.admin_api_keys.create(name="second key of the owner")
    add_member(client, role="owner")  # so the bootstrap owner is not the last one
    owner = owner_user(client)
    assert client.admin.organization.users.update(owner.id, role="reader").role == "reader"

    for key in (fresh_server.admin_key, extra.value):
        c = fresh_server.make_client(key)
        assert any(u.id == owner.id for u in c.admin.organization.users.list(limit=100))  # reader may read
        expect_insufficient(
            lambda: c.admin.organization.projects.create(name="not allowed"),
            missing="api.organization.projects.write",
        )
        expect_insufficient(
            lambda: c.admin.organization.users.update(owner.id, role="owner"),
            missing="api.organization.users.write",
        )
        expect_insufficient(
            lambda: c.admin.organization.admin_api_keys.list(),
            missing="api.organization.admin_api_keys.read",
        )
        expect_insufficient(
            lambda: c.admin.organization.audit_logs.list(),
            missing="api.organization.audit_logs.read",
        )


def test_deleting_a_user_revokes_their_admin_keys(fresh_server: Server) -> None:
    client = fresh_server.client
    extra = client.admin.organization.admin_api_keys.create(name="doomed")
    add_member(client, role="owner")
    owner = owner_user(client)
    client.admin.organization.users.delete(owner.id)
    for key in (fresh_server.admin_key, extra.value):
        c = fresh_server.make_client(key)
        expect_error(lambda: c.admin.organization.users.list(), status=401, code="invalid_api_key", param=None)


def test_racing_demotions_never_remove_the_last_owner(fresh_server: Server) -> None:
    client = fresh_server.client
    owners = [owner_user(client).id] + [add_member(client, role="owner").id for _ in range(4)]
    barrier = threading.Barrier(len(owners))
    results: dict[str, int] = {}

    def demote(uid: str) -> None:
        c = fresh_server.make_client(fresh_server.admin_key)
        barrier.wait()
        try:
            c.admin.organization.users.update(uid, role="reader")
            results[uid] = 200
        except openai.APIStatusError as e:
            results[uid] = e.status_code
            if e.status_code == 409:
                assert e.response.json()["error"]["code"] == "last_owner", e.response.text
            if e.status_code == 401:
                # The bootstrap owner's own demotion, committed first, took the key's users.write.
                assert e.code is None and "api.organization.users.write" in e.message, e.response.text

    threads = [threading.Thread(target=demote, args=(uid,)) for uid in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert set(results.values()) <= {200, 401, 409}, results
    remaining = [u for u in client.admin.organization.users.list(limit=100) if u.role == "owner"]
    assert len(remaining) >= 1, results
    assert len(owners) - len(remaining) == list(results.values()).count(200), results


# ---------------------------------------------------------------------------- the whole organization.user


def _listed(client: openai.OpenAI, user_id: str) -> OrganizationUser:
    for u in client.admin.organization.users.list(limit=100):
        if u.id == user_id:
            return u
    raise AssertionError(f"{user_id} is not listed")


def test_every_field_of_the_bootstrap_owner(fresh_client: openai.OpenAI) -> None:
    owner = owner_user(fresh_client)
    for got in (owner, fresh_client.admin.organization.users.retrieve(owner.id), _listed(fresh_client, owner.id)):
        assert got.is_default is True
        assert got.is_service_account is False
        assert got.is_scim_managed is False
        assert got.is_scale_tier_authorized_purchaser is False
        assert got.created == got.added_at
        # The owner key made these requests: its use is the owner's latest.
        assert got.api_key_last_used_at is not None
        assert int(time.time()) - 60 <= got.api_key_last_used_at <= int(time.time()) + 5
        assert got.user is not None
        assert got.user.object == "user"
        assert got.user.id == owner.id
        assert got.user.email == OWNER_EMAIL
        assert got.user.name == owner.name
        assert got.user.enabled is True
        assert got.user.banned is False
        assert got.user.banned_at is None
        assert got.user.picture is None
        assert got.projects is not None and got.projects.object == "list"
        assert [(p.name, p.role) for p in got.projects.data] == [("Default Project", "owner")]


def test_every_field_of_a_new_member(client: openai.OpenAI) -> None:
    project = client.admin.organization.projects.create(name=unique_name("member-projects"))
    email = unique_email("whole")
    user = add_member(client, email, name="Grace Hopper", projects=[{"id": project.id, "role": "member"}])
    for got in (
        user,
        client.admin.organization.users.retrieve(user.id),
        _listed(client, user.id),
        client.admin.organization.users.list(emails=[email]).data[0],
    ):
        assert got.is_default is False
        assert got.api_key_last_used_at is None  # owns no key
        assert got.created == got.added_at
        assert got.is_scim_managed is False and got.is_scale_tier_authorized_purchaser is False
        assert got.user is not None and got.user.id == user.id and got.user.email == email
        assert got.user.name == "Grace Hopper"
        assert got.projects is not None
        assert [(p.id, p.name, p.role) for p in got.projects.data] == [(project.id, project.name, "member")]

    modified = client.admin.organization.users.update(user.id, role="owner")
    assert modified.role == "owner"
    assert modified.is_default is False, "an owner, but not the first one"
    assert modified.created == user.created
    assert modified.projects is not None
    assert [p.id for p in modified.projects.data] == [project.id]


def test_projects_follow_project_membership(client: openai.OpenAI) -> None:
    user = add_member(client)
    assert client.admin.organization.users.retrieve(user.id).projects.data == []  # type: ignore[union-attr]
    project = client.admin.organization.projects.create(name=unique_name("joined"))
    client.admin.organization.projects.users.create(project.id, user_id=user.id, role="owner")
    got = client.admin.organization.users.retrieve(user.id)
    assert got.projects is not None
    assert [(p.id, p.role) for p in got.projects.data] == [(project.id, "owner")]
    assert [(p.id, p.role) for p in _listed(client, user.id).projects.data] == [(project.id, "owner")]  # type: ignore[union-attr]
    client.admin.organization.projects.users.delete(user.id, project_id=project.id)
    assert client.admin.organization.users.retrieve(user.id).projects.data == []  # type: ignore[union-attr]
