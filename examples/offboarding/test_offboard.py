"""The offboarding script against orgadmin, one organization per test (the orgadmin pytest
plugin), with the organization's clock and an injected rate limit."""

from __future__ import annotations

import openai
import pytest

import orgadmin
from offboard import OffboardingError, offboard


def extension(org: orgadmin.Organization, path: str, body: dict) -> dict:
    """POST to one of orgadmin's extensions, which the SDK has no method for: its generic
    ``post`` sends the project API key unless told to send the admin key."""
    headers = {"Authorization": f"Bearer {org.admin_key}"}
    return org.client().post(path, body=body, cast_to=object, options={"headers": headers})


def member(org: orgadmin.Organization, email: str) -> str:
    """Invite ``email`` and accept, as the person would; their user ID."""
    invite = org.client().admin.organization.invites.create(email=email, role="reader")
    accepted = extension(org, f"/organization/invites/{invite.id}/accept", {"name": email.split("@")[0]})
    return accepted["id"]


def project_key(org: orgadmin.Organization, project_id: str, user_id: str) -> str:
    client = org.client()
    client.admin.organization.projects.users.create(project_id, user_id=user_id, role="member")
    created = extension(org, f"/organization/projects/{project_id}/api_keys", {"name": "laptop", "user_id": user_id})
    return created["id"]


@pytest.fixture
def team(orgadmin_org: orgadmin.Organization) -> dict[str, str]:
    client = orgadmin_org.client()
    ids = {
        "leaver": member(orgadmin_org, "leaver@example.com"),
        "lead": member(orgadmin_org, "lead@example.com"),
        "bystander": member(orgadmin_org, "bystander@example.com"),
    }
    ids["platform"] = client.admin.organization.groups.create(name="Platform").id
    ids["oncall"] = client.admin.organization.groups.create(name="On-call").id
    for group, people in [("platform", ["leaver"]), ("oncall", ["leaver", "lead"])]:
        for person in people:
            client.admin.organization.groups.users.create(ids[group], user_id=ids[person])
    ids["project"] = client.admin.organization.projects.create(name="Gateway").id
    ids["leaver_key"] = project_key(orgadmin_org, ids["project"], ids["leaver"])
    ids["bystander_key"] = project_key(orgadmin_org, ids["project"], ids["bystander"])
    return ids


def test_offboarding_removes_the_person_their_keys_and_hands_over_their_groups(
    orgadmin_org: orgadmin.Organization, team: dict[str, str]
) -> None:
    client = orgadmin_org.client()
    report = offboard(client, "leaver@example.com", "lead@example.com")
    assert report.removed and report.deleted_keys == [team["leaver_key"]]
    assert sorted(report.handed_over_groups) == sorted([team["platform"], team["oncall"]])

    org = client.admin.organization
    emails = {u.email for u in org.users.list()}
    assert "leaver@example.com" not in emails and "bystander@example.com" in emails
    keys = [k.id for k in org.projects.api_keys.list(team["project"], owner_project_access="any")]
    assert keys == [team["bystander_key"]]
    for group in ("platform", "oncall"):
        assert [u.id for u in org.groups.users.list(team[group])] == [team["lead"]]

    # What the script sent, in order: the journal of this organization alone.
    deletes = [r["route"] for r in reversed(orgadmin_org.requests(method="DELETE"))]
    assert deletes == [
        "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
        "/v1/organization/groups/{group_id}/users/{user_id}",
        "/v1/organization/groups/{group_id}/users/{user_id}",
        "/v1/organization/users/{user_id}",
    ]


def test_offboarding_rides_out_a_rate_limit(orgadmin_org: orgadmin.Organization, team: dict[str, str]) -> None:
    orgadmin_org.inject_fault("/v1/organization/groups/{group_id}/users", 429, method="POST", retry_after=0, times=1)
    report = offboard(orgadmin_org.client(max_retries=2), "leaver@example.com", "lead@example.com")
    assert report.removed
    assert orgadmin_org.faults()[0]["fired"] == 1
    posts = orgadmin_org.requests(method="POST", route="/v1/organization/groups/{group_id}/users")
    assert [p["status"] for p in reversed(posts)][-2:] == [429, 200]


def test_a_rate_limit_that_does_not_end_stops_the_script_before_anyone_is_removed(
    orgadmin_org: orgadmin.Organization, team: dict[str, str]
) -> None:
    orgadmin_org.inject_fault("/v1/organization/groups", 429, method="GET", retry_after=0)
    with pytest.raises(openai.RateLimitError):
        offboard(orgadmin_org.client(max_retries=1), "leaver@example.com", "lead@example.com")
    orgadmin_org.clear_faults()
    emails = {u.email for u in orgadmin_org.client().admin.organization.users.list()}
    assert "leaver@example.com" in emails
    # Run again: it finishes the job.
    assert offboard(orgadmin_org.client(), "leaver@example.com", "lead@example.com").removed


def test_a_person_whose_invite_expired_is_no_member_to_offboard(orgadmin_org: orgadmin.Organization) -> None:
    client = orgadmin_org.client()
    member(orgadmin_org, "lead@example.com")
    client.admin.organization.invites.create(email="never@example.com", role="reader")
    orgadmin_org.advance_clock(8 * 24 * 3600)
    [invite] = [i for i in client.admin.organization.invites.list() if i.email == "never@example.com"]
    assert invite.status == "expired"
    with pytest.raises(OffboardingError, match="not a member"):
        offboard(client, "never@example.com", "lead@example.com")
