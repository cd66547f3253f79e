"""Campaign API: the organization's campaigns, for organizers and team leads."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from canvass.access import campaigns_for_user
from canvass.campaigns.serializers import CampaignRefSerializer
from fieldops.api.pagination import paginated_response
from fieldops.api.permissions import IsStaffMember
from fieldops.api.schema import PAGE_PARAMETERS, paginated
from fieldops.api.views import OrganizationTimeView
from fieldops.request_types import AuthenticatedRequest


class CampaignListApi(OrganizationTimeView):
    """The organization's campaigns (for organizers and team leads)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        parameters=PAGE_PARAMETERS, operation_id="campaigns_list", responses=paginated(CampaignRefSerializer)
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            self, request, campaigns_for_user(request.user).order_by("name", "id"), CampaignRefSerializer
        )
