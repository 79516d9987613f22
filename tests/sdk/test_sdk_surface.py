"""The official SDK's identity-and-access surface is the document's, and this suite calls all of it.

The first test needs no server: every operation of the official document is reached by exactly
one method under `client.admin.organization`, and no two methods share one. The second runs last
(conftest.py orders it so) and asserts that every one of those methods returned, under strict
response validation, at least once in this run: a method the suite never calls successfully
fails it by name. It is skipped when only part of the suite was selected.
"""

from __future__ import annotations

from collections import Counter

import pytest

from _sdk_surface import SUCCEEDED, WHOLE_SUITE, document_operations, identity_surface, missing_methods


def test_every_operation_of_the_document_has_exactly_one_sdk_method() -> None:
    surface = identity_surface()
    reached = Counter(surface.values())
    unreached = sorted(document_operations() - set(reached))
    shared = sorted(op for op, n in reached.items() if n > 1)
    assert not unreached, f"operations of the document no SDK method calls: {unreached}"
    assert not shared, f"operations more than one SDK method calls: {shared}"
    assert len(surface) == len(document_operations())


@pytest.mark.surface_coverage
def test_every_identity_method_of_the_sdk_returned_in_this_run(request: pytest.FixtureRequest) -> None:
    if not request.config.stash.get(WHOLE_SUITE, False):
        pytest.skip("only part of the suite was selected; the SDK's surface is checked on a whole run")
    assert SUCCEEDED, "no SDK method was recorded: is record_successful_calls() installed (conftest.py)?"
    missing = missing_methods()
    assert not missing, (
        f"{len(missing)} identity-and-access methods of the SDK never returned in this run "
        "(add a test that calls each one successfully):\n  " + "\n  ".join(missing)
    )

