"""Fixtures of the sync tests (tests/conftest.py's world, tests/canvass/conftest.py's script)."""

from __future__ import annotations

import pytest

from tests import factories as f


@pytest.fixture
def partner(world):
    """Another canvasser of the same chapter, paired with carlos on Turf A."""
    user = f.UserFactory(username="paula")
    f.MembershipFactory(user=user, organization=world.org)
    f.AssignmentCanvasserFactory(assignment=world.assignment, user=user)
    return user
