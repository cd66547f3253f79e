"""Access checks of geography: district layers and districts (the rule: fieldops/access.py).

Layers and districts are the organization's map, read by every member (a
phone shows its districts) and written by its managers; another
organization's answer 404 like missing ones. Doors and people depend on who
is assigned where, so their checks are in canvass/access.py.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fieldops.access import User, one_or_404, scope_to_organization
from turf.models import District, DistrictLayer


def layers_for_user(user: User, layers: QuerySet[DistrictLayer] | None = None) -> QuerySet[DistrictLayer]:
    """The district layers the user may see (of `layers`, default all): their organization's."""
    return scope_to_organization(DistrictLayer.objects.all() if layers is None else layers, user)


def layer_for_user(user: User, layer_id: Any) -> DistrictLayer:
    """The access chokepoint for district layers: 404 alike for missing, foreign and malformed."""
    return one_or_404(layers_for_user(user), layer_id)


def districts_for_user(user: User, districts: QuerySet[District] | None = None) -> QuerySet[District]:
    """The districts the user may see (of `districts`, default all): their organization's."""
    return scope_to_organization(District.objects.all() if districts is None else districts, user)


def district_for_user(user: User, district_id: Any) -> District:
    """The access chokepoint for districts: 404 alike for missing, foreign and malformed."""
    return one_or_404(districts_for_user(user).select_related("layer"), district_id)
