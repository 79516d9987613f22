"""Invites: `GET/POST /organization/invites`, `GET/DELETE /organization/invites/{invite_id}`, and the
`POST /organization/invites/{invite_id}/accept` extension."""

from __future__ import annotations

import time

import openai

from _support import (
    OWNER_EMAIL,
    Server,
    accept_invite,
    add_member,
    default_project_id,
    expect_error,
    expect_raw_error,
    unique_email,
    unique_name,
)

SEVEN_DAYS = 7 * 24 * 3600


def test_create_and_retrieve_a_pending_invite(client: openai.OpenAI) -> None:
    email = unique_email("invitee")
    pid = client.admin.organization.projects.create(name=unique_name("inv")).id
    before = int(time.time())
    raw = client.admin.organization.invites.with_raw_response.create(
        email=email, role="reader", projects=[{"id": pid, "role": "owner"}]
    )
    assert raw.headers.get("x-request-id")
    invite = raw.parse()
    assert invite.object == "organization.invite"
    assert invite.id.startswith("invite-")
    assert invite.email == email and invite.role == "reader" and invite.status == "pending"
    assert before - 5 <= invite.created_at <= int(time.time()) + 5
    assert invite.expires_at is not None and abs(invite.expires_at - invite.created_at - SEVEN_DAYS) <= 1
    assert invite.accepted_at is None
    assert [(p.id, p.role) for p in invite.projects] == [(pid, "owner")]

    got = client.admin.organization.invites.retrieve(invite.id)
    assert (got.id, got.email, got.role, got.status, got.created_at) == (
        invite.id,
        email,
        "reader",
        "pending",
        invite.created_at,
    )
    assert [(p.id, p.role) for p in got.projects] == [(pid, "owner")]


def test_accepting_makes_a_member_with_the_invited_roles(client: openai.OpenAI) -> None:
    email = unique_email("accept")
    p1 = client.admin.organization.projects.create(name=unique_name("p1")).id
    p2 = client.admin.organization.projects.create(name=unique_name("p2")).id
    invite = client.admin.organization.invites.create(
        email=email, role="owner", projects=[{"id": p1, "role": "owner"}, {"id": p2, "role": "member"}]
    )
    user = accept_invite(client, invite.id, "Barbara Liskov")
    assert user.object == "organization.user" and user.id.startswith("user-")
    assert user.email == email and user.name == "Barbara Liskov" and user.role == "owner"
    assert client.admin.organization.users.retrieve(user.id).role == "owner"
    assert client.admin.organization.projects.users.retrieve(user.id, project_id=p1).role == "owner"
    assert client.admin.organization.projects.users.retrieve(user.id, project_id=p2).role == "member"

    accepted = client.admin.organization.invites.retrieve(invite.id)
    assert accepted.status == "accepted"
    assert accepted.accepted_at is not None and accepted.accepted_at >= accepted.created_at


def test_accept_without_a_name(server: Server) -> None:
    invite = server.client.admin.organization.invites.create(email=unique_email("noname"), role="reader", projects=[])
    resp = server.raw("POST", f"/organization/invites/{invite.id}/accept", json_body={})
    assert resp.status == 200, resp
    assert resp.json()["object"] == "organization.user"
    assert resp.header("x-request-id")


def test_omitted_projects_mean_the_default_project_as_member(client: openai.OpenAI) -> None:
    default = default_project_id(client)
    invite = client.admin.organization.invites.create(email=unique_email("legacy"), role="reader")
    assert [(p.id, p.role) for p in invite.projects] == [(default, "member")]
    user = accept_invite(client, invite.id)
    assert client.admin.organization.projects.users.retrieve(user.id, project_id=default).role == "member"


def test_empty_projects_mean_no_project(client: openai.OpenAI) -> None:
    default = default_project_id(client)
    invite = client.admin.organization.invites.create(email=unique_email("noproj"), role="reader", projects=[])
    assert invite.projects == []
    user = accept_invite(client, invite.id)
    expect_error(
        lambda: client.admin.organization.projects.users.retrieve(user.id, project_id=default),
        status=404,
        code="not_found",
        param="user_id",
    )


def test_a_second_pending_invite_for_the_same_email_is_a_conflict(client: openai.OpenAI) -> None:
    email = unique_email("Twice")
    client.admin.organization.invites.create(email=email, role="reader", projects=[])
    for again in (email, email.upper(), email.lower()):
        expect_error(
            lambda: client.admin.organization.invites.create(email=again, role="owner", projects=[]),
            status=409,
            code="already_exists",
            param="email",
        )


def test_inviting_an_existing_member_is_a_conflict(client: openai.OpenAI) -> None:
    member = add_member(client, unique_email("Member"))
    for email in (member.email, member.email.upper(), OWNER_EMAIL, OWNER_EMAIL.upper()):
        expect_error(
            lambda: client.admin.organization.invites.create(email=email, role="reader", projects=[]),
            status=409,
            code="already_exists",
            param="email",
        )


def test_delete_a_pending_invite(client: openai.OpenAI) -> None:
    email = unique_email("revoked")
    invite = client.admin.organization.invites.create(email=email, role="reader", projects=[])
    raw = client.admin.organization.invites.with_raw_response.delete(invite.id)
    assert raw.headers.get("x-request-id")
    deleted = raw.parse()
    assert deleted.object == "organization.invite.deleted" and deleted.id == invite.id and deleted.deleted is True
    expect_error(
        lambda: client.admin.organization.invites.retrieve(invite.id),
        status=404,
        code="not_found",
        param="invite_id",
    )
    expect_error(lambda: accept_invite(client, invite.id), status=404, code="not_found", param="invite_id")
    # the address may be invited again
    again = client.admin.organization.invites.create(email=email, role="reader", projects=[])
    assert again.status == "pending" and again.id != invite.id


def test_accepted_invites_cannot_be_accepted_again_or_deleted(client: openai.OpenAI) -> None:
    invite = client.admin.organization.invites.create(email=unique_email("done"), role="reader", projects=[])
    accept_invite(client, invite.id)
    expect_error(
        lambda: accept_invite(client, invite.id),
        status=409,
        code="invite_not_pending",
        param=(None, "invite_id"),
    )
    expect_error(
        lambda: client.admin.organization.invites.delete(invite.id),
        status=409,
        code="invite_not_pending",
        param=(None, "invite_id"),
    )
    assert client.admin.organization.invites.retrieve(invite.id).status == "accepted"


def test_create_validates_the_body(server: Server) -> None:
    client = server.client
    expect_raw_error(
        server.raw("POST", "/organization/invites", json_body={"role": "reader"}),
        status=400,
        code="missing_required_parameter",
        param="email",
    )
    expect_raw_error(
        server.raw("POST", "/organization/invites", json_body={"email": unique_email("x")}),
        status=400,
        code="missing_required_parameter",
        param="role",
    )
    expect_error(
        lambda: client.admin.organization.invites.create(email=unique_email("x"), role="admin", projects=[]),  # type: ignore[arg-type]
        status=400,
        code="invalid_value",
        param="role",
    )
    expect_raw_error(
        server.raw("POST", "/organization/invites", json_body={"email": unique_email("x"), "role": "reader", "projects": "all"}),
        status=400,
        code="invalid_value",
        param="projects",
    )


def test_list_and_paginate(client: openai.OpenAI) -> None:
    made = [client.admin.organization.invites.create(email=unique_email("list"), role="reader", projects=[]).id for _ in range(5)]
    raw = client.admin.organization.invites.with_raw_response.list(limit=100)
    assert raw.headers.get("x-request-id")
    body = raw.http_response.json()
    assert body["object"] == "list"
    all_ids = [i["id"] for i in body["data"]]
    if not body["has_more"]:
        assert all_ids[-5:] == made  # oldest first
    walked = [i.id for i in client.admin.organization.invites.list(limit=3)]
    assert len(walked) == len(set(walked))
    assert walked[-5:] == made
    page = client.admin.organization.invites.list(limit=2, after=made[0])
    assert [i.id for i in page.data] == made[1:3] and page.has_more is True
    assert page.first_id == made[1] and page.last_id == made[2]
    end = client.admin.organization.invites.list(limit=2, after=made[2])
    assert [i.id for i in end.data] == made[3:] and end.has_more is False
    for bad in (0, 101):
        expect_error(
            lambda: client.admin.organization.invites.list(limit=bad), status=400, code="invalid_value", param="limit"
        )


def test_unknown_invite_is_404(client: openai.OpenAI) -> None:
    iid = "invite-doesnotexist0000"
    for call in (
        lambda: client.admin.organization.invites.retrieve(iid),
        lambda: client.admin.organization.invites.delete(iid),
        lambda: accept_invite(client, iid),
    ):
        expect_error(call, status=404, code="not_found", param="invite_id")
