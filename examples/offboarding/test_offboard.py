"""The offboarding script against orgadmin, one organization per test (the orgadmin pytest
plugin), with the organization's clock and an injected rate limit."""

from __future__ import annotations

import openai
import pytest

import orgadmin
from offboard import OffboardingError, offboard


# Every test starts from the team of team.yaml, whose IDs are these.
pytestmark = pytest.mark.orgadmin_fixture("team.yaml")
LEAVER, LEAD, BYSTANDER = "user-leaver", "user-lead", "user-bystander"
PLATFORM, ONCALL = "group_platform", "group_oncall"
PROJECT, LEAVER_KEY, BYSTANDER_KEY = "proj_gateway", "key_leaver_laptop", "key_bystander_laptop"


def test_offboarding_removes_the_person_their_keys_and_hands_over_their_groups(
    orgadmin_org: orgadmin.Organization,
) -> None:
    client = orgadmin_org.client()
    report = offboard(client, "leaver@example.com", "lead@example.com")
    assert report.removed and report.deleted_keys == [LEAVER_KEY]
    assert sorted(report.handed_over_groups) == sorted([PLATFORM, ONCALL])

    org = client.admin.organization
    emails = {u.email for u in org.users.list()}
    assert "leaver@example.com" not in emails and "bystander@example.com" in emails
    keys = [k.id for k in org.projects.api_keys.list(PROJECT, owner_project_access="any")]
    assert keys == [BYSTANDER_KEY]
    for group in (PLATFORM, ONCALL):
        assert [u.id for u in org.groups.users.list(group)] == [LEAD]

    # What the script sent, in order: the journal of this organization alone.
    deletes = [r["route"] for r in reversed(orgadmin_org.requests(method="DELETE"))]
    assert deletes == [
        "/v1/organization/projects/{project_id}/api_keys/{api_key_id}",
        "/v1/organization/groups/{group_id}/users/{user_id}",
        "/v1/organization/groups/{group_id}/users/{user_id}",
        "/v1/organization/users/{user_id}",
    ]


def test_offboarding_rides_out_a_rate_limit(orgadmin_org: orgadmin.Organization) -> None:
    orgadmin_org.inject_fault("/v1/organization/groups/{group_id}/users", 429, method="POST", retry_after=0, times=1)
    report = offboard(orgadmin_org.client(max_retries=2), "leaver@example.com", "lead@example.com")
    assert report.removed
    assert orgadmin_org.faults()[0]["fired"] == 1
    posts = orgadmin_org.requests(method="POST", route="/v1/organization/groups/{group_id}/users")
    assert [p["status"] for p in reversed(posts)][-2:] == [429, 200]


def test_a_rate_limit_that_does_not_end_stops_the_script_before_anyone_is_removed(
    orgadmin_org: orgadmin.Organization,
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
    # The fixture's invite expires after seven days of the organization's clock.
    orgadmin_org.advance_clock(8 * 24 * 3600)
    [invite] = [i for i in client.admin.organization.invites.list() if i.email == "never@example.com"]
    assert invite.status == "expired"
    with pytest.raises(OffboardingError, match="not a member"):
        offboard(client, "never@example.com", "lead@example.com")
