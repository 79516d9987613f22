"""Offboard a person from an OpenAI organization.

    python offboard.py leaver@example.com --successor lead@example.com

In order, so that a run stopped midway can simply be run again:

1. every project API key the person owns is deleted (removing a member leaves their keys behind,
   inactive, until they come back: delete them so they never do);
2. each group the person is in gets the successor as a member (if they are not one already), and
   the person leaves it;
3. the person is removed from the organization (their admin keys go with them).

Uses the official SDK (``openai``) with an admin key from ``OPENAI_ADMIN_KEY`` and
``OPENAI_BASE_URL``; the SDK retries rate-limited requests (429) after ``Retry-After``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import openai


class OffboardingError(Exception):
    pass


@dataclasses.dataclass
class Report:
    user_id: str
    deleted_keys: list[str] = dataclasses.field(default_factory=list)
    handed_over_groups: list[str] = dataclasses.field(default_factory=list)
    removed: bool = False


def find_member(client: openai.OpenAI, email: str) -> str:
    found = client.admin.organization.users.list(emails=[email], limit=1).data
    if not found:
        raise OffboardingError(f"{email} is not a member of the organization")
    return found[0].id


def offboard(client: openai.OpenAI, email: str, successor_email: str) -> Report:
    """Offboard ``email``, handing their groups to ``successor_email``."""
    org = client.admin.organization
    user_id = find_member(client, email)
    successor_id = find_member(client, successor_email)
    if user_id == successor_id:
        raise OffboardingError("the successor is the person being offboarded")
    report = Report(user_id=user_id)

    for project in org.projects.list(include_archived=True):
        for key in org.projects.api_keys.list(project.id, owner_project_access="any"):
            owner = key.owner.user
            if owner is not None and owner.id == user_id:
                org.projects.api_keys.delete(key.id, project_id=project.id)
                report.deleted_keys.append(key.id)

    for group in org.groups.list():
        members = {member.id for member in org.groups.users.list(group.id)}
        if user_id not in members:
            continue
        if successor_id not in members:
            org.groups.users.create(group.id, user_id=successor_id)
        org.groups.users.delete(user_id, group_id=group.id)
        report.handed_over_groups.append(group.id)

    org.users.delete(user_id)
    report.removed = True
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("email", help="the person to offboard")
    parser.add_argument("--successor", required=True, help="who takes over their groups")
    args = parser.parse_args(argv)
    try:
        report = offboard(openai.OpenAI(), args.email, args.successor)
    except (OffboardingError, openai.APIError) as e:
        print(f"offboard: {e}", file=sys.stderr)
        return 1
    print(
        f"offboarded {args.email} ({report.user_id}): {len(report.deleted_keys)} project keys deleted, "
        f"{len(report.handed_over_groups)} groups handed to {args.successor}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
